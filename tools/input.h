// The bytes a command reads from the user: a file, or standard input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/posix.h"
#include "core/status.h"

namespace casfs::tools {

class Input {
 public:
  // "-" (or empty) is standard input. A missing file is kNotFound, an
  // unreadable one kPermissionDenied, a folder kInvalidArgument; each
  // message names the path.
  static Result<Input> Open(const std::string& path);

  Input(Input&&) noexcept = default;
  Input& operator=(Input&&) noexcept = default;
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  // The path as given, or "-".
  const std::string& name() const { return name_; }
  // A regular file (also as redirected standard input): reads are
  // positional, so skipping costs nothing and the size is known.
  bool seekable() const { return seekable_; }
  // Bytes from the start position to the end, when seekable.
  std::optional<int64_t> size() const;

  // Moves past the next `count` bytes: a seek when seekable, else reading
  // and discarding. Returns the bytes skipped (fewer only at the end).
  Result<int64_t> Skip(int64_t count);
  // Reads up to `size` bytes, filling the buffer unless the end comes
  // first; 0 at the end. An interrupted read (EINTR) returns what arrived
  // before it, or is an error when nothing did, so a signal can stop a
  // command blocked on a pipe.
  Result<size_t> Read(void* buf, size_t size);

 private:
  Input() = default;

  std::string name_;
  posix::UniqueFd owned_;  // invalid for standard input
  int fd_ = -1;
  bool seekable_ = false;
  int64_t base_ = 0;      // file offset where the input starts (seekable only)
  int64_t position_ = 0;  // bytes consumed so far, relative to base_
  int64_t file_size_ = 0;
};

// write(2) until everything is written; EPIPE and the like are kIOError.
Status WriteAll(int fd, const void* data, size_t size);

}  // namespace casfs::tools
