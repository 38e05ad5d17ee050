#include "core/store_view.h"

#include <cerrno>

#include "core/posix.h"

namespace casfs {

Result<std::vector<std::string>> ListBlobHexes(const Layout& layout, Algorithm algorithm) {
  auto names = posix::ListDir(layout.AlgorithmDir(algorithm));
  if (!names.ok()) {
    if (names.status().IsNotFound()) return std::vector<std::string>{};
    return names.status();
  }
  std::vector<std::string> hexes = std::move(names.value());
  std::erase_if(hexes, [algorithm](const std::string& name) { return !Digest::IsValidHex(algorithm, name); });
  return hexes;
}

Result<BlobStat> StatBlob(const Layout& layout, const Digest& digest) {
  auto st = posix::Lstat(layout.BlobPath(digest));
  if (!st.ok()) {
    if (st.status().IsNotFound()) return Status::NotFound("blob " + digest.ToString() + " not found");
    return st.status();
  }
  if (!S_ISREG(st->st_mode)) return Status::NotFound("blob " + digest.ToString() + " not found (not a file)");
  BlobStat out;
  out.size = st->st_size;
  out.created_at = Timestamp::FromTimespec(st->st_mtim);
  out.updated_at = Timestamp::FromTimespec(st->st_atim);
  return out;
}

Result<struct statvfs> StatStoreFilesystem(const Layout& layout) {
  struct statvfs out {};
  if (::statvfs(layout.root().c_str(), &out) != 0) {
    return Status::FromErrno("statvfs " + layout.root().string(), errno);
  }
  return out;
}

}  // namespace casfs
