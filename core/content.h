// The value types of the content store: what a blob is (BlobInfo), what an
// ingest in progress is (IngestStatus), and how a blob is read (BlobReader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/digest.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/timestamp.h"

namespace casfs {

struct BlobInfo {
  Digest digest = EmptySha256();
  int64_t size = 0;
  Timestamp created_at;  // the blob file's mtime (containerd's rule)
  Timestamp updated_at;  // the blob file's atime (containerd's rule)
  Labels labels;
};

struct IngestStatus {
  std::string ref;
  int64_t offset = 0;  // bytes in the ingest: the size of its data file
  int64_t total = 0;   // expected size; 0 when unknown
  Timestamp started_at;
  Timestamp updated_at;  // the later of `updatedat` and the data file's mtime
  // casfs extra (containerd never stores it): the expected digest, if set.
  std::optional<Digest> expected;
};

// A positional reader over one blob (or one ingest's data). Thread-safe:
// many ReadAt calls may run at once. Keeps working after the blob is
// deleted, until destroyed.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // The size when the reader was opened.
  virtual int64_t Size() const = 0;
  // Reads up to `size` bytes at `offset`, filling the buffer unless the end
  // of the content comes first; returns the count (0 at or past the end).
  virtual Result<size_t> ReadAt(void* buf, size_t size, int64_t offset) const = 0;
  // The open descriptor of the backing file, for zero-copy (splice) reads;
  // -1 if there is none. Owned by the reader.
  virtual int fd() const = 0;
};

}  // namespace casfs
