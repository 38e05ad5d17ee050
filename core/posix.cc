#include "core/posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace casfs::posix {
namespace {

// "<op> <path>", the context every path-taking call puts on its error.
std::string Ctx(std::string_view op, const std::filesystem::path& path) {
  std::string out(op);
  out += ' ';
  out += path.native();
  return out;
}

Status Errno(std::string_view op, const std::filesystem::path& path) {
  return Status::FromErrno(Ctx(op, path), errno);
}

Status FdErrno(std::string_view op, int fd) {
  int err = errno;
  std::string ctx(op);
  ctx += " fd ";
  ctx += std::to_string(fd);
  return Status::FromErrno(ctx, err);
}

// Keeps trying a call that failed with EINTR.
template <typename F>
auto RetryEintr(F&& f) {
  for (;;) {
    auto r = f();
    if (r == -1 && errno == EINTR) continue;
    return r;
  }
}

Status WriteAll(int fd, std::string_view content, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = RetryEintr([&] { return ::write(fd, content.data() + done, content.size() - done); });
    if (n < 0) return Errno("write", path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

void UniqueFd::Reset() {
  if (fd_ >= 0) {
    // close(2) must not be retried on EINTR on Linux: the descriptor is gone.
    ::close(fd_);
    fd_ = -1;
  }
}

Status UniqueFd::Close() {
  if (fd_ < 0) return Status::Ok();
  int fd = Release();
  if (::close(fd) != 0 && errno != EINTR) return FdErrno("close", fd);
  return Status::Ok();
}

Result<UniqueFd> Open(const std::filesystem::path& path, int flags, mode_t mode) {
  int fd = RetryEintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return Errno("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> OpenForReadNoAtime(const std::filesystem::path& path) {
  int fd = RetryEintr([&] { return ::open(path.c_str(), O_RDONLY | O_NOATIME | O_NOFOLLOW | O_CLOEXEC); });
  if (fd < 0 && errno == EPERM) {
    // O_NOATIME is allowed only to the file's owner (or CAP_FOWNER).
    fd = RetryEintr([&] { return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC); });
  }
  if (fd < 0) return Errno("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> OpenDirectory(const std::filesystem::path& path) {
  return Open(path, O_RDONLY | O_DIRECTORY);
}

Result<struct stat> Stat(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Errno("stat", path);
  return st;
}

Result<struct stat> Lstat(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Errno("lstat", path);
  return st;
}

Result<struct stat> Fstat(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return FdErrno("fstat", fd);
  return st;
}

Result<size_t> PreadFull(int fd, void* buf, size_t size, int64_t offset) {
  size_t done = 0;
  auto* p = static_cast<char*>(buf);
  while (done < size) {
    ssize_t n = RetryEintr(
        [&] { return ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done)); });
    if (n < 0) return FdErrno("pread", fd);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status PwriteFull(int fd, const void* buf, size_t size, int64_t offset) {
  size_t done = 0;
  const auto* p = static_cast<const char*>(buf);
  while (done < size) {
    ssize_t n = RetryEintr(
        [&] { return ::pwrite(fd, p + done, size - done, static_cast<off_t>(offset + done)); });
    if (n < 0) return FdErrno("pwrite", fd);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Fsync(int fd) {
  if (RetryEintr([&] { return ::fsync(fd); }) != 0) return FdErrno("fsync", fd);
  return Status::Ok();
}

Status FsyncPath(const std::filesystem::path& path) {
  auto fd = Open(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  if (RetryEintr([&] { return ::fsync(fd->get()); }) != 0) return Errno("fsync", path);
  return Status::Ok();
}

Status Ftruncate(int fd, int64_t size) {
  if (RetryEintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
    return FdErrno("ftruncate", fd);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  auto fd = Open(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = RetryEintr([&] { return ::read(fd->get(), buf, sizeof buf); });
    if (n < 0) return Errno("read", path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteFileInPlace(const std::filesystem::path& path, std::string_view content) {
  auto fd = Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (!fd.ok()) return fd.status();
  CASFS_RETURN_IF_ERROR(WriteAll(fd->get(), content, path));
  return fd->Close();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content, bool durable) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  // A write that fails (ENOSPC on a full disk) must not leave the temp
  // file behind as debris in the folder it was meant to keep tidy.
  auto discard = [&tmp](const Status& failed) {
    (void)Unlink(tmp, /*missing_ok=*/true);
    return failed;
  };
  {
    // containerd's technique: "<file>.tmp", truncated, renamed over the file.
    auto fd = Open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0666);
    if (!fd.ok()) return fd.status();
    if (Status s = WriteAll(fd->get(), content, tmp); !s.ok()) return discard(s);
    if (durable) {
      if (Status s = Fsync(fd->get()); !s.ok()) return discard(s);
    }
    if (Status s = fd->Close(); !s.ok()) return discard(s);
  }
  if (Status s = Rename(tmp, path); !s.ok()) return discard(s);
  if (durable) return FsyncPath(path.parent_path());
  return Status::Ok();
}

Status MakeDirs(const std::filesystem::path& path) {
  if (path.empty()) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::FromErrno(Ctx("mkdir", path), ENOTDIR);
  }
  if (errno != ENOENT) return Errno("stat", path);
  if (path.has_parent_path() && path.parent_path() != path) {
    CASFS_RETURN_IF_ERROR(MakeDirs(path.parent_path()));
  }
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", path);
  return Status::Ok();
}

Status MakeDir(const std::filesystem::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) return Errno("mkdir", path);
  return Status::Ok();
}

Status RemoveAll(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::FromErrno(Ctx("remove", path), ec.value());
  }
  return Status::Ok();
}

Status Unlink(const std::filesystem::path& path, bool missing_ok) {
  if (::unlink(path.c_str()) != 0) {
    if (missing_ok && errno == ENOENT) return Status::Ok();
    return Errno("unlink", path);
  }
  return Status::Ok();
}

Status RenameNoReplace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    return Status::FromErrno(Ctx("rename", from) + " -> " + to.native(), errno);
  }
  // No RENAME_NOREPLACE on this filesystem: link(2) refuses an existing
  // target just as atomically; the old name is dropped afterwards.
  if (::link(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno(Ctx("link", from) + " -> " + to.native(), errno);
  }
  return Unlink(from, /*missing_ok=*/true);
}

Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno(Ctx("rename", from) + " -> " + to.native(), errno);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListDir(const std::filesystem::path& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Errno("opendir", path);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) {
        Status status = Errno("readdir", path);
        ::closedir(dir);
        return status;
      }
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

Result<std::optional<std::string>> GetXattr(int fd, const char* name) {
  std::string value;
  for (;;) {
    ssize_t size = ::fgetxattr(fd, name, nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) return std::optional<std::string>();
      return FdErrno(std::string("getxattr ") + name, fd);
    }
    value.resize(static_cast<size_t>(size));
    ssize_t got = ::fgetxattr(fd, name, value.data(), value.size());
    if (got < 0) {
      if (errno == ERANGE) continue;  // grew between the two calls
      if (errno == ENODATA) return std::optional<std::string>();
      return FdErrno(std::string("getxattr ") + name, fd);
    }
    value.resize(static_cast<size_t>(got));
    return std::optional<std::string>(std::move(value));
  }
}

Result<std::optional<std::string>> GetXattrAt(const std::filesystem::path& path, const char* name) {
  std::string value;
  for (;;) {
    ssize_t size = ::lgetxattr(path.c_str(), name, nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA || errno == ENOTSUP) return std::optional<std::string>();
      return Errno(std::string("getxattr ") + name, path);
    }
    value.resize(static_cast<size_t>(size));
    ssize_t got = ::lgetxattr(path.c_str(), name, value.data(), value.size());
    if (got < 0) {
      if (errno == ERANGE) continue;
      if (errno == ENODATA || errno == ENOTSUP) return std::optional<std::string>();
      return Errno(std::string("getxattr ") + name, path);
    }
    value.resize(static_cast<size_t>(got));
    return std::optional<std::string>(std::move(value));
  }
}

Status SetXattr(int fd, const char* name, std::string_view value) {
  if (::fsetxattr(fd, name, value.data(), value.size(), 0) != 0) {
    return FdErrno(std::string("setxattr ") + name, fd);
  }
  return Status::Ok();
}

Status RemoveXattr(int fd, const char* name) {
  if (::fremovexattr(fd, name) != 0) {
    if (errno == ENODATA || errno == ENOTSUP) return Status::Ok();
    return FdErrno(std::string("removexattr ") + name, fd);
  }
  return Status::Ok();
}

Status SetTimes(int fd, const struct timespec& atime, const struct timespec& mtime) {
  const struct timespec times[2] = {atime, mtime};
  if (::futimens(fd, times) != 0) return FdErrno("futimens", fd);
  return Status::Ok();
}

Status Fchmod(int fd, mode_t mode) {
  if (::fchmod(fd, mode) != 0) return FdErrno("fchmod", fd);
  return Status::Ok();
}

Status Chmod(const std::filesystem::path& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) return Errno("chmod", path);
  return Status::Ok();
}

Status Flock(int fd, int operation) {
  if (RetryEintr([&] { return ::flock(fd, operation); }) != 0) return FdErrno("flock", fd);
  return Status::Ok();
}

Result<std::optional<struct timespec>> BirthTime(int fd) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) != 0) {
    if (errno == ENOSYS || errno == EINVAL) return std::optional<struct timespec>();
    return FdErrno("statx", fd);
  }
  if ((stx.stx_mask & STATX_BTIME) == 0) return std::optional<struct timespec>();
  struct timespec ts {};
  ts.tv_sec = stx.stx_btime.tv_sec;
  ts.tv_nsec = stx.stx_btime.tv_nsec;
  return std::optional<struct timespec>(ts);
}

}  // namespace casfs::posix
