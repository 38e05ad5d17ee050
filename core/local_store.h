// The local content store: containerd's on-disk layout (see layout.h), with
// casfs' fixes for containerd's weak spots. Thread-safe: one LocalStore may
// be used from many threads, and many processes may use one root at once.
//
// Commit recipe (the only way content enters blobs/):
//   1. check size, total, expected digest (the ingest is untouched by any
//      failure up to step 5: what step 3 did is undone);
//   2. if the blob exists: merge labels into it, remove the ingest,
//      kAlreadyExists;
//   3. on the data file: labels, mode 0444, atime = mtime = now; then one
//      fsync makes the content and the inode's metadata durable together;
//   4. renameat2(data, blobs/sha256/<hex>, RENAME_NOREPLACE): a blob name
//      only ever points at complete, verified, read-only content, and two
//      refs committing the same content cannot both "create" it (the loser
//      gets kAlreadyExists as in step 2);
//   5. fsync blobs/sha256/, then remove the ingest folder.
// containerd does the rename first and the chmod, times and labels after,
// and never syncs a folder: a crash can lose a committed blob or show a
// writable one.
//
// Label changes of blobs (Update, SetLabel, RemoveLabel, Delete, and a
// commit that carries labels, from its existence check to its rename) are
// serialised across processes by a flock on blobs/<alg>/ (label_store.h).
//
// A new ingest's folder is fsynced (and its parent) once its files exist,
// so an ingest that a writer reported open survives a crash.
//
// Resume (OpenWriter on a ref whose folder exists): the folder's name is
// sha256(ref), so the data belongs to the ref even when `ref`, `startedat`
// or `updatedat` are missing or corrupt: those are rewritten and the data
// kept. Only a total that differs from the stored one starts the ingest over
// (as containerd does), and then the data is truncated (containerd keeps
// stale bytes past the new writes, and can commit content that was never
// written in that order). The hashed prefix is restored from the
// casfs.hashstate checkpoint when it matches the data file exactly (size,
// mtime, inode), else the data is re-read.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/layout.h"
#include "core/store.h"

namespace casfs {

struct StoreOptions {
  // Every mutation fails with kReadOnly; nothing is created on open.
  bool read_only = false;
};

// How OpenWriter treats an existing or missing ingest.
enum class IngestOpenMode {
  kCreateOrResume,  // containerd's behaviour
  kCreateOnly,      // kAlreadyExists if the ref has an ingest (O_EXCL)
  kResumeOnly,      // kNotFound if the ref has no ingest
};

struct LocalWriterOptions : WriterOptions {
  IngestOpenMode mode = IngestOpenMode::kCreateOrResume;
};

class LocalStore final : public Store {
 public:
  // Opens (and unless read-only, creates: `<root>/ingest` and parents) the
  // store at `root`.
  static Result<std::unique_ptr<LocalStore>> Open(const std::filesystem::path& root,
                                                  const StoreOptions& options = {});
  ~LocalStore() override;

  const Layout& layout() const;
  bool read_only() const;

  // Store.
  Result<std::unique_ptr<BlobReader>> ReaderAt(const Digest& digest) override;
  Result<BlobInfo> Info(const Digest& digest) override;
  Result<BlobInfo> Update(const BlobInfo& info, const std::vector<std::string>& fieldpaths) override;
  Status Walk(const std::function<Status(const BlobInfo&)>& fn,
              const std::vector<std::string>& filters = {}) override;
  Status Delete(const Digest& digest) override;
  Result<IngestStatus> GetStatus(const std::string& ref) override;
  Result<std::vector<IngestStatus>> ListStatuses(const std::vector<std::string>& filters = {}) override;
  Status Abort(const std::string& ref) override;
  Result<std::unique_ptr<Writer>> OpenWriter(const WriterOptions& options) override;
  Result<std::unique_ptr<Writer>> OpenWriter(const LocalWriterOptions& options);

  // Label conveniences over Update.
  // Sets one label (validated); an empty value removes it (ok if absent).
  Status SetLabel(const Digest& digest, const std::string& key, const std::string& value);
  // Removes one label; returns whether it was there.
  Result<bool> RemoveLabel(const Digest& digest, const std::string& key);

  // Ingest extras for the mount and the CLI. None of them takes the ref's
  // lock: each changes one small file atomically (and durably), and an open
  // Writer re-reads them when it commits; a flock on the data file keeps
  // two of them from interleaving. kNotFound if the ref has no ingest.
  //
  // sha256 of the ingest's bytes now, without a writer (reads the data,
  // resuming from the hash checkpoint when it is valid).
  Result<Digest> IngestDigest(const std::string& ref);
  // A reader over the ingest's data as it is now (it may still grow).
  Result<std::unique_ptr<BlobReader>> OpenIngestReader(const std::string& ref);
  // Expected total size; nullopt (or 0) makes it unknown. Negative:
  // kInvalidArgument. Refreshes updatedat.
  Status SetIngestTotal(const std::string& ref, std::optional<int64_t> total);
  // Expected digest; nullopt makes it unknown. Refreshes updatedat.
  Status SetIngestExpected(const std::string& ref, const std::optional<Digest>& expected);
  // Staged labels: applied to the blob at commit. Setting validates like a
  // blob label; an empty value removes. Never touches updatedat.
  Result<Labels> StagedLabels(const std::string& ref);
  Status StageLabel(const std::string& ref, const std::string& key, const std::string& value);
  // Returns whether the label was staged.
  Result<bool> UnstageLabel(const std::string& ref, const std::string& key);

  struct Impl;

 private:
  explicit LocalStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace casfs
