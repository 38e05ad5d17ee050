// An ingest in progress: containerd's content.Writer, plus positional writes
// and truncation for the mount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/content.h"

namespace casfs {

struct CommitOptions {
  // Labels to give the blob. They are merged over the ingest's staged
  // labels (an option value wins). nullopt and no staged labels: the blob's
  // labels are left as they are (containerd: "labels untouched").
  std::optional<Labels> labels;
  // The algorithm that names the blob (blobs/<alg>/<hex>). Default: that
  // of `expected`, else of the ingest's stored expected digest, else
  // sha256. The running hash is sha256; any other name costs one more
  // read of the data at commit.
  std::optional<Algorithm> algorithm = std::nullopt;
};

// Holds the ref's lock from creation until Close or Commit (whatever
// Commit's outcome). All methods are thread-safe; writes may run
// concurrently from several threads (the mount's workers) as long as they
// do not overlap.
class Writer {
 public:
  virtual ~Writer() = default;  // closes if still open

  // containerd's Write: writes at the current offset (the end of what this
  // writer wrote last, initially the ingest's size) and advances it.
  virtual Status Write(const void* data, size_t size) = 0;
  // Writes at any offset, in any order. A gap reads and hashes as zeros.
  // Bytes written in order are hashed once, as they arrive; out-of-order
  // bytes are hashed as soon as the prefix before them is complete.
  virtual Status WriteAt(int64_t offset, const void* data, size_t size) = 0;

  // Size of the data now.
  virtual int64_t Size() const = 0;
  // sha256 of bytes 0..Size() now. Valid after Commit and Close too (the
  // digest as of then). Can read back un-hashed bytes from the data file.
  virtual Result<Digest> CurrentDigest() = 0;
  // containerd's Status(): never fails.
  virtual IngestStatus GetStatus() const = 0;

  // Sets the data's size: 0 restarts the ingest (keeping ref, startedat,
  // total, expected and staged labels); smaller keeps bytes 0..size;
  // larger extends with zeros.
  virtual Status Truncate(int64_t size) = 0;

  // Verifies and commits, durably (see LocalStore's header for the recipe).
  // `size` > 0 must equal the data size and `expected`, when set, the
  // digest of the data (in its own algorithm); likewise any stored total
  // and expected digest.
  //   ok                    committed under <alg>:<hex> (options.algorithm)
  //   kFailedPrecondition   size or digest mismatch, or the writer is closed;
  //                         the ingest is kept as it was
  //   kAlreadyExists        that blob already exists: the ingest is removed
  //                         and its labels merged into the existing blob's
  //   kIOError              e.g. ENOSPC; the ingest is kept
  // Always releases the lock, and only this writer's.
  virtual Status Commit(int64_t size, const std::optional<Digest>& expected,
                        const CommitOptions& options = {}) = 0;

  // The digest the blob was committed under, after a Commit that returned
  // ok or kAlreadyExists (in options.algorithm's terms); nullopt before.
  virtual std::optional<Digest> CommittedDigest() const = 0;

  // Syncs the data, records updatedat and a hash checkpoint, releases the
  // lock. The ingest stays and can be resumed. Closing twice, or after
  // Commit, is ok.
  virtual Status Close() = 0;
};

}  // namespace casfs
