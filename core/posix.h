// The few POSIX calls the engine needs, as Status-returning functions over
// an owning file descriptor. This is where errno becomes a Status (through
// Status::FromErrno); nothing above this layer reads errno.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace casfs::posix {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();
  // close(2) with its result (the destructor ignores it).
  Status Close();

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added. ENOENT is kNotFound naming the path.
Result<UniqueFd> Open(const std::filesystem::path& path, int flags, mode_t mode = 0666);
// open(2) O_RDONLY with O_NOATIME where the kernel allows it (it refuses
// O_NOATIME with EPERM on files the caller does not own), else without.
// Never follows a symlink in the last component (ELOOP): the store's files
// are never links, and one planted there must not lead out of the root.
Result<UniqueFd> OpenForReadNoAtime(const std::filesystem::path& path);
Result<UniqueFd> OpenDirectory(const std::filesystem::path& path);

Result<struct stat> Stat(const std::filesystem::path& path);
Result<struct stat> Lstat(const std::filesystem::path& path);
Result<struct stat> Fstat(int fd);

// Full-length positional I/O: loops over short transfers and EINTR.
// PreadFull stops early only at end of file and returns the bytes read.
Result<size_t> PreadFull(int fd, void* buf, size_t size, int64_t offset);
Status PwriteFull(int fd, const void* buf, size_t size, int64_t offset);

Status Fsync(int fd);
Status FsyncPath(const std::filesystem::path& path);  // open O_RDONLY, fsync (files or folders)
Status Ftruncate(int fd, int64_t size);

// The whole content of a (small) file. kNotFound if missing.
Result<std::string> ReadFile(const std::filesystem::path& path);
// Creates or truncates `path` and writes `content` in place (containerd's
// way for `ref` and `total`), mode 0666 & ~umask. No sync.
Status WriteFileInPlace(const std::filesystem::path& path, std::string_view content);
// Writes `content` to "<path>.tmp" and renames it over `path`, so readers
// see the old or the new content, never a part. With `durable`, the temp
// file is fsynced before the rename and the folder after it.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content, bool durable);

// mkdir -p with mode 0755 (& ~umask). Existing folders are fine.
Status MakeDirs(const std::filesystem::path& path);
// mkdir(2) of one folder; kAlreadyExists if it exists.
Status MakeDir(const std::filesystem::path& path, mode_t mode = 0755);
// rm -rf; a missing path is success.
Status RemoveAll(const std::filesystem::path& path);
// unlink(2); with `missing_ok`, ENOENT is success.
Status Unlink(const std::filesystem::path& path, bool missing_ok);
// renameat2(from, to, RENAME_NOREPLACE): kAlreadyExists if `to` exists.
// Falls back to link(2)+unlink(2) where the filesystem lacks the flag.
Status RenameNoReplace(const std::filesystem::path& from, const std::filesystem::path& to);
Status Rename(const std::filesystem::path& from, const std::filesystem::path& to);

// Names in a folder (no "." and ".."), unsorted. kNotFound if missing.
Result<std::vector<std::string>> ListDir(const std::filesystem::path& path);

// Extended attributes on an open file. GetXattr: nullopt if the attribute
// is absent (ENODATA). The errno of a refusal (ENOSPC, E2BIG, ERANGE,
// ENOTSUP, EACCES) is kept in the Status for the caller to branch on.
Result<std::optional<std::string>> GetXattr(int fd, const char* name);
Status SetXattr(int fd, const char* name, std::string_view value);
// Absent is success.
Status RemoveXattr(int fd, const char* name);

// futimens(2): both times.
Status SetTimes(int fd, const struct timespec& atime, const struct timespec& mtime);

// Additions for the engine (additive; the calls above are the original set).
//
// lgetxattr(2) by path, without opening the file (Walk reads labels of many
// blobs). Like GetXattr: nullopt if absent, and also when the filesystem
// has no extended attributes at all (ENOTSUP).
Result<std::optional<std::string>> GetXattrAt(const std::filesystem::path& path, const char* name);
// fchmod(2).
Status Fchmod(int fd, mode_t mode);
// chmod(2) by path (repairing a data file left read-only by a crash).
Status Chmod(const std::filesystem::path& path, mode_t mode);
// flock(2), retried on EINTR. With LOCK_NB, a held lock is kUnavailable.
Status Flock(int fd, int operation);
// The file's creation time (statx STATX_BTIME), nullopt where the
// filesystem does not record one.
Result<std::optional<struct timespec>> BirthTime(int fd);

}  // namespace casfs::posix
