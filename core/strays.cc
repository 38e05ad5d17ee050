#include "core/strays.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "core/digest.h"
#include "core/posix.h"

namespace casfs {

Result<std::vector<StrayEntry>> FindStrays(const Layout& layout) {
  std::vector<StrayEntry> strays;
  for (Algorithm algorithm : kAllAlgorithms) {
    const std::filesystem::path dir = layout.AlgorithmDir(algorithm);
    auto names = posix::ListDir(dir);
    if (!names.ok()) {
      if (names.status().IsNotFound() || names.status().sys_errno() == ENOTDIR) continue;
      return names.status();
    }
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
      const std::filesystem::path path = dir / name;
      if (!Digest::IsValidHex(algorithm, name)) {
        strays.push_back({path, StrayEntry::Kind::kMisnamed});
        continue;
      }
      auto st = posix::Lstat(path);
      if (!st.ok()) {
        if (st.status().IsNotFound()) continue;  // deleted while we look
        return st.status();
      }
      if (!S_ISREG(st->st_mode)) strays.push_back({path, StrayEntry::Kind::kNotAFile});
    }
  }
  return strays;
}

}  // namespace casfs
