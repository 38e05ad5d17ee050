#include "tests/fuse/mount_test_util.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace casfs::fuse::testing {

std::optional<std::string> GetXattr(const fs::path& path, const std::string& name) {
  std::string value(70000, '\0');
  ssize_t n = ::getxattr(path.c_str(), name.c_str(), value.data(), value.size());
  if (n < 0) return std::nullopt;
  value.resize(static_cast<size_t>(n));
  return value;
}

std::optional<std::vector<std::string>> ListXattr(const fs::path& path) {
  std::string list(70000, '\0');
  ssize_t n = ::listxattr(path.c_str(), list.data(), list.size());
  if (n < 0) return std::nullopt;
  std::vector<std::string> names;
  size_t start = 0;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (list[i] == '\0') {
      names.push_back(list.substr(start, i - start));
      start = i + 1;
    }
  }
  return names;
}

int SetXattr(const fs::path& path, const std::string& name, const std::string& value, int flags) {
  return ::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), flags);
}

bool PwriteFile(const fs::path& path, const std::string& data, off_t offset, int flags) {
  int fd = ::open(path.c_str(), O_WRONLY | flags, 0644);
  if (fd < 0) return false;
  bool ok = ::pwrite(fd, data.data(), data.size(), offset) == static_cast<ssize_t>(data.size());
  return ::close(fd) == 0 && ok;
}

}  // namespace casfs::fuse::testing
