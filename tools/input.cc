#include "tools/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "tools/interrupt.h"

namespace casfs::tools {

Result<Input> Input::Open(const std::string& path) {
  Input input;
  if (path.empty() || path == "-") {
    input.name_ = "-";
    input.fd_ = STDIN_FILENO;
  } else {
    input.name_ = path;
    auto fd = posix::Open(path, O_RDONLY);
    if (!fd.ok()) return fd.status();
    input.owned_ = std::move(*fd);
    input.fd_ = input.owned_.get();
  }
  auto st = posix::Fstat(input.fd_);
  if (!st.ok()) return st.status().WithContext(input.name_);
  if (S_ISDIR(st->st_mode)) return Status::InvalidArgument(input.name_ + ": is a folder, not a file");
  if (S_ISREG(st->st_mode)) {
    // Standard input redirected from a file may start past byte 0.
    off_t base = ::lseek(input.fd_, 0, SEEK_CUR);
    if (base < 0) return Status::FromErrno("lseek " + input.name_, errno);
    input.seekable_ = true;
    input.base_ = base;
    input.file_size_ = st->st_size;
  }
  return input;
}

std::optional<int64_t> Input::size() const {
  if (!seekable_) return std::nullopt;
  return std::max<int64_t>(file_size_ - base_, 0);
}

Result<int64_t> Input::Skip(int64_t count) {
  if (seekable_) {
    int64_t skipped = std::min(count, std::max<int64_t>(*size() - position_, 0));
    position_ += skipped;
    return skipped;
  }
  std::vector<char> sink(std::min<int64_t>(count, 1 << 20));
  int64_t skipped = 0;
  while (skipped < count) {
    auto n = Read(sink.data(), static_cast<size_t>(std::min<int64_t>(count - skipped, sink.size())));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    skipped += static_cast<int64_t>(*n);
  }
  return skipped;
}

Result<size_t> Input::Read(void* buf, size_t size) {
  if (seekable_) {
    auto n = posix::PreadFull(fd_, buf, size, base_ + position_);
    if (!n.ok()) return n.status().WithContext(name_);
    position_ += static_cast<int64_t>(*n);
    return *n;
  }
  size_t done = 0;
  auto* out = static_cast<char*>(buf);
  while (done < size) {
    if (done > 0 && Interrupted()) break;
    ssize_t n = ::read(fd_, out + done, size - done);
    if (n < 0) {
      if (done > 0 && errno == EINTR) break;  // hand over what arrived; the next call reports it
      return Status::FromErrno("read " + name_, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  position_ += static_cast<int64_t>(done);
  return done;
}

Status WriteAll(int fd, const void* data, size_t size) {
  const auto* in = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, in, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write to standard output", errno);
    }
    in += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace casfs::tools
