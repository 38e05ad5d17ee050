// The files of one ingest folder, read and written (internal to the engine).
//
// containerd's files keep containerd's exact bytes (docs/content-store-
// semantics.md 1.4): `ref` raw without a newline; `startedat`/`updatedat`
// RFC 3339 nano in UTC, replaced by tmp + rename; `total` plain decimal,
// present only when > 0. casfs' own files (casfs.expected, casfs.labels,
// casfs.hashstate) are replaced by tmp + rename too; containerd never reads
// them and removes them with the folder.
//
// Reading is lenient where the folder's name proves the owner: the name is
// sha256(ref), so a caller who knows the ref does not need the `ref` file,
// and missing or corrupt times fall back to the data file's mtime.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/content.h"
#include "core/digest.h"
#include "core/digester.h"
#include "core/labels.h"
#include "core/sha256_resumable.h"
#include "core/status.h"
#include "core/timestamp.h"

namespace casfs::ingest {

std::filesystem::path FilePath(const std::filesystem::path& dir, std::string_view name);

// Status of the ingest in `dir`. kNotFound when there is no `data` (a
// folder being created or removed, or debris). With `known_ref`, that is
// the ref (the caller looked the folder up by it); without, the `ref` file
// must exist and hash to the folder's name, else kNotFound.
Result<IngestStatus> ReadStatus(const std::filesystem::path& dir,
                                std::optional<std::string_view> known_ref);

// containerd: a missing or unparsable `total` is 0, silently.
int64_t ReadTotal(const std::filesystem::path& dir);
// `total` in containerd's form; <= 0 removes the file. Without `durable`,
// written in place as containerd does (a new ingest, under its lock); with
// it, replaced by tmp + rename and synced, file and folder (a change made
// while a writer may hold the ingest, which must survive a crash).
Status WriteTotal(const std::filesystem::path& dir, int64_t total, bool durable);

// casfs.expected; nullopt when absent or unparsable (logged).
std::optional<Digest> ReadExpected(const std::filesystem::path& dir);
// nullopt removes the file; `durable` as for WriteTotal.
Status WriteExpected(const std::filesystem::path& dir, const std::optional<Digest>& expected,
                     bool durable);

// casfs.labels; empty when absent.
Result<Labels> ReadStagedLabels(const std::filesystem::path& dir);
// An empty set removes the file. Always durable: staged labels are
// promised to survive a crash.
Status WriteStagedLabels(const std::filesystem::path& dir, const Labels& labels);

// A timestamp file (`startedat`, `updatedat`): parsed, or nullopt when it
// is missing or malformed.
std::optional<Timestamp> ReadTimestamp(const std::filesystem::path& file);
Status WriteTimestamp(const std::filesystem::path& file, Timestamp t);

// The hash checkpoint, casfs.hashstate: the running hash of the whole data
// file, plus the identity of the data it describes (size, mtime, ctime,
// inode). Load returns the hash only when it describes `data` exactly: the
// hashed length equals the size and every recorded field matches.
std::optional<ResumableSha256> LoadCheckpoint(const std::filesystem::path& dir,
                                              const struct stat& data);
Status SaveCheckpoint(const std::filesystem::path& dir, const ResumableSha256& hash,
                      const struct stat& data);
// Removes the checkpoint; returns whether there was one.
Result<bool> RemoveCheckpoint(const std::filesystem::path& dir);

// Feeds bytes [from, to) of the file `fd` into `hash`, in 1 MiB reads
// (holes read as zeros). kIOError if the file ends before `to`. The
// running sha256 of an ingest, or a Digester of any algorithm (a commit
// named under another one).
Status HashRange(int fd, ResumableSha256* hash, int64_t from, int64_t to,
                 std::vector<char>* scratch);
Status HashRange(int fd, Digester* hash, int64_t from, int64_t to, std::vector<char>* scratch);

}  // namespace casfs::ingest
