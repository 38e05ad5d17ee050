#include "core/label_store.h"

#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

namespace casfs {
namespace {

const char* XattrName() { return Layout::kLabelsXattr.data(); }

std::string AttributeOrigin(const Digest& digest) {
  return std::string(Layout::kLabelsXattr) + " of " + digest.ToString();
}

bool HasErrno(const Status& status, int err) {
  return status.sys_errno().has_value() && *status.sys_errno() == err;
}

}  // namespace

bool LabelStore::IsOverflowErrno(const Status& status) {
  if (!status.sys_errno().has_value()) return false;
  switch (*status.sys_errno()) {
    case ENOSPC:
    case E2BIG:
    case ERANGE:
    case ENOTSUP:
      return true;
    default:
      return false;
  }
}

template <typename F>
Status LabelStore::WithOwnerWrite(int fd, F&& change) const {
  Status status = change();
  if (status.ok() || !HasErrno(status, EACCES)) return status;
  // Without CAP_DAC_OVERRIDE a user.* attribute needs write permission,
  // which a committed (0444) blob does not give even to its owner; the
  // owner may lend it the write bit for the change.
  auto st = posix::Fstat(fd);
  if (!st.ok()) return status;
  if (st->st_uid != ::geteuid() || (st->st_mode & S_IWUSR) != 0) return status;
  const mode_t mode = st->st_mode & 07777;
  CASFS_RETURN_IF_ERROR(posix::Fchmod(fd, mode | S_IWUSR));
  Status retried = change();
  Status restored = posix::Fchmod(fd, mode);
  if (!retried.ok()) return retried;
  return restored;
}

Result<posix::UniqueFd> LabelStore::Lock(Algorithm algorithm) const {
  auto fd = posix::OpenDirectory(layout_->AlgorithmDir(algorithm));
  if (!fd.ok()) return fd.status();
  CASFS_RETURN_IF_ERROR(posix::Flock(fd->get(), LOCK_EX));
  return std::move(*fd);
}

Result<std::optional<std::string>> LabelStore::ReadOverflowRaw(const Digest& digest) const {
  auto text = posix::ReadFile(layout_->LabelOverflowPath(digest));
  if (!text.ok()) {
    if (text.status().IsNotFound()) return std::optional<std::string>();
    return text.status();
  }
  return std::optional<std::string>(std::move(*text));
}

Result<Labels> LabelStore::Read(int fd, const Digest& digest) const {
  auto attribute = posix::GetXattr(fd, XattrName());
  if (!attribute.ok() && !HasErrno(attribute.status(), ENOTSUP)) return attribute.status();
  if (attribute.ok() && attribute->has_value()) {
    return DecodeLabels(**attribute, AttributeOrigin(digest));
  }
  auto raw = ReadOverflowRaw(digest);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Labels{};
  return DecodeLabels(**raw, layout_->LabelOverflowPath(digest).native());
}

Result<Labels> LabelStore::ReadAt(const std::filesystem::path& blob, const Digest& digest) const {
  auto attribute = posix::GetXattrAt(blob, XattrName());
  if (!attribute.ok()) return attribute.status();
  if (attribute->has_value()) return DecodeLabels(**attribute, AttributeOrigin(digest));
  auto raw = ReadOverflowRaw(digest);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return Labels{};
  return DecodeLabels(**raw, layout_->LabelOverflowPath(digest).native());
}

Status LabelStore::SetAttribute(int fd, const Labels& labels) const {
  const std::string encoded = EncodeLabels(labels);
  return WithOwnerWrite(fd, [&] { return posix::SetXattr(fd, XattrName(), encoded); });
}

Status LabelStore::RemoveAttribute(int fd) const {
  return WithOwnerWrite(fd, [&] { return posix::RemoveXattr(fd, XattrName()); });
}

Status LabelStore::WriteOverflow(const Digest& digest, const Labels& labels) const {
  CASFS_RETURN_IF_ERROR(posix::MakeDirs(layout_->LabelsAlgorithmDir(digest.algorithm())));
  return posix::WriteFileAtomic(layout_->LabelOverflowPath(digest), EncodeLabels(labels),
                                /*durable=*/true);
}

Status LabelStore::RemoveOverflow(const Digest& digest) const {
  Status status = posix::Unlink(layout_->LabelOverflowPath(digest), /*missing_ok=*/true);
  // No labels/ folder at all means no overflow file either.
  if (status.IsNotFound()) return Status::Ok();
  return status;
}

Status LabelStore::RestoreOverflow(const Digest& digest,
                                   const std::optional<std::string>& raw) const {
  if (!raw.has_value()) return RemoveOverflow(digest);
  return posix::WriteFileAtomic(layout_->LabelOverflowPath(digest), *raw, /*durable=*/true);
}

Status LabelStore::Write(int fd, const Digest& digest, const Labels& labels) const {
  if (labels.empty()) {
    // Old set until the last step: the overflow file (if any) goes first,
    // the attribute (which readers prefer) last.
    CASFS_RETURN_IF_ERROR(RemoveOverflow(digest));
    return RemoveAttribute(fd);
  }
  Status set = SetAttribute(fd, labels);
  if (set.ok()) {
    Status removed = RemoveOverflow(digest);
    if (!removed.ok()) {
      // Harmless: the attribute hides the stale file from every reader.
      spdlog::warn("labels of {}: stale overflow file kept: {}", digest.ToString(),
                   removed.ToString());
    }
    return Status::Ok();
  }
  if (!IsOverflowErrno(set)) return set;
  CASFS_RETURN_IF_ERROR(WriteOverflow(digest, labels));
  // The refused setxattr left the old attribute in place, and readers
  // prefer it: it must go for the new set to show.
  return RemoveAttribute(fd);
}

}  // namespace casfs
