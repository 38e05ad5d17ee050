// Extended attributes: a blob's labels are its user.KEY attributes, an
// ingest's staged labels its own; user.casfs.* are virtual attributes
// computed from the store (the table in docs/mount-interface.md), never
// listed and never stored as labels.
#include <sys/xattr.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "fuse/filesystem.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"

namespace casfs::fuse {
namespace {

constexpr std::string_view kUserPrefix = "user.";
constexpr std::string_view kVirtualPrefix = "user.casfs.";
// The most one listxattr(2) can return (XATTR_LIST_MAX).
constexpr size_t kMaxListSize = 65536;

enum class Virtual { kDigest, kRef, kOffset, kTotal, kExpected, kStartedAt, kUpdatedAt, kUnknown };

Virtual VirtualNamed(std::string_view name) {
  if (name == "digest") return Virtual::kDigest;
  if (name == "ref") return Virtual::kRef;
  if (name == "offset") return Virtual::kOffset;
  if (name == "total") return Virtual::kTotal;
  if (name == "expected") return Virtual::kExpected;
  if (name == "startedat") return Virtual::kStartedAt;
  if (name == "updatedat") return Virtual::kUpdatedAt;
  return Virtual::kUnknown;
}

void ReplyValue(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) return static_cast<void>(fuse_reply_xattr(req, value.size()));
  if (value.size() > size) return ReplyErrno(req, ERANGE);
  fuse_reply_buf(req, value.data(), value.size());
}

// A size in plain decimal: digits only, as `total` is written.
std::optional<int64_t> ParseSize(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

void Filesystem::GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  std::string_view n(name);
  // Folders have no attributes; other namespaces than user.* hold nothing.
  if (!IsFileKind(key->kind) || !n.starts_with(kUserPrefix)) return ReplyErrno(req, ENODATA);

  if (n.starts_with(kVirtualPrefix)) {
    Virtual which = VirtualNamed(n.substr(kVirtualPrefix.size()));
    if (key->kind == NodeKind::kBlob) {
      if (which != Virtual::kDigest) return ReplyErrno(req, ENODATA);
      auto digest = BlobDigest(key->algorithm, key->name);
      if (!digest.ok()) return ReplyStatus(req, digest.status());
      return ReplyValue(req, digest->ToString(), size);
    }
    const std::string& ref = key->name;
    if (which == Virtual::kDigest) {
      auto writer = slots_.ActiveWriter(ref);
      auto digest = writer ? writer->CurrentDigest() : store_->IngestDigest(ref);
      if (!digest.ok()) return ReplyStatus(req, digest.status());
      return ReplyValue(req, digest->ToString(), size);
    }
    if (which == Virtual::kRef) return ReplyValue(req, ref, size);
    if (which == Virtual::kUnknown) return ReplyErrno(req, ENODATA);
    auto status = IngestStatusOf(ref);
    if (!status.ok()) return ReplyStatus(req, status.status());
    switch (which) {
      case Virtual::kOffset: return ReplyValue(req, std::to_string(status->offset), size);
      case Virtual::kTotal:
        if (status->total <= 0) return ReplyErrno(req, ENODATA);
        return ReplyValue(req, std::to_string(status->total), size);
      case Virtual::kExpected:
        if (!status->expected) return ReplyErrno(req, ENODATA);
        return ReplyValue(req, status->expected->ToString(), size);
      case Virtual::kStartedAt: return ReplyValue(req, FormatRfc3339Nano(status->started_at), size);
      case Virtual::kUpdatedAt: return ReplyValue(req, FormatRfc3339Nano(status->updated_at), size);
      default: return ReplyErrno(req, ENODATA);
    }
  }

  std::string label(n.substr(kUserPrefix.size()));
  Result<Labels> labels = Labels{};
  if (key->kind == NodeKind::kBlob) {
    auto digest = BlobDigest(key->algorithm, key->name);
    if (!digest.ok()) return ReplyStatus(req, digest.status());
    auto info = store_->Info(*digest);
    if (!info.ok()) return ReplyStatus(req, info.status());
    labels = std::move(info->labels);
  } else {
    labels = store_->StagedLabels(key->name);
  }
  if (!labels.ok()) return ReplyStatus(req, labels.status());
  auto it = labels->find(label);
  if (it == labels->end()) return ReplyErrno(req, ENODATA);
  ReplyValue(req, it->second, size);
}

void Filesystem::ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  Result<Labels> labels = Labels{};
  if (key->kind == NodeKind::kBlob) {
    auto digest = BlobDigest(key->algorithm, key->name);
    if (!digest.ok()) return ReplyStatus(req, digest.status());
    auto info = store_->Info(*digest);
    if (!info.ok()) return ReplyStatus(req, info.status());
    labels = std::move(info->labels);
  } else if (key->kind == NodeKind::kIngest) {
    labels = store_->StagedLabels(key->name);
  }
  if (!labels.ok()) return ReplyStatus(req, labels.status());
  std::string list;
  for (const auto& [label, value] : *labels) {
    list.append(kUserPrefix);
    list += label;
    list += '\0';
  }
  // More names than one listxattr(2) can carry: each stays readable by name.
  if (list.size() > kMaxListSize) return ReplyErrno(req, E2BIG);
  ReplyValue(req, list, size);
}

void Filesystem::SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                          int flags) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  if (!IsFileKind(key->kind)) return ReplyErrno(req, EPERM);
  std::string_view n(name);
  if (!n.starts_with(kUserPrefix)) return ReplyErrno(req, ENOTSUP);
  std::string text(value, size);

  // A change right after close(2) must not race with the closing writer's
  // own update of the ingest's files.
  if (key->kind == NodeKind::kIngest) slots_.AwaitReleaseInFlight(key->name);

  if (n.starts_with(kVirtualPrefix)) {
    // On blobs every user.casfs.* name is read-only or reserved.
    if (key->kind == NodeKind::kBlob) return ReplyErrno(req, EPERM);
    Virtual which = VirtualNamed(n.substr(kVirtualPrefix.size()));
    if (which != Virtual::kTotal && which != Virtual::kExpected) return ReplyErrno(req, EPERM);
    const std::string& ref = key->name;
    if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
      auto status = IngestStatusOf(ref);
      if (!status.ok()) return ReplyStatus(req, status.status());
      bool present = which == Virtual::kTotal ? status->total > 0 : status->expected.has_value();
      if ((flags & XATTR_CREATE) && present) return ReplyErrno(req, EEXIST);
      if ((flags & XATTR_REPLACE) && !present) return ReplyErrno(req, ENODATA);
    }
    if (which == Virtual::kTotal) {
      auto total = ParseSize(text);
      if (!total) return ReplyErrno(req, EINVAL);
      // A total of 0 is "unknown", as containerd stores it.
      return ReplyStatus(req, store_->SetIngestTotal(ref, *total == 0 ? std::nullopt : std::optional(*total)));
    }
    auto digest = Digest::Parse(text);
    if (!digest.ok()) return ReplyStatus(req, digest.status());
    return ReplyStatus(req, store_->SetIngestExpected(ref, *digest));
  }

  std::string label(n.substr(kUserPrefix.size()));
  std::optional<Digest> digest;
  if (key->kind == NodeKind::kBlob) {
    auto parsed = BlobDigest(key->algorithm, key->name);
    if (!parsed.ok()) return ReplyStatus(req, parsed.status());
    digest = *parsed;
  }
  if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
    Result<Labels> labels = Labels{};
    if (digest) {
      auto info = store_->Info(*digest);
      if (!info.ok()) return ReplyStatus(req, info.status());
      labels = std::move(info->labels);
    } else {
      labels = store_->StagedLabels(key->name);
    }
    if (!labels.ok()) return ReplyStatus(req, labels.status());
    bool present = labels->count(label) != 0;
    if ((flags & XATTR_CREATE) && present) return ReplyErrno(req, EEXIST);
    if ((flags & XATTR_REPLACE) && !present) return ReplyErrno(req, ENODATA);
  }
  // An empty value removes the label, and succeeds when it was absent.
  if (digest) return ReplyStatus(req, store_->SetLabel(*digest, label, text));
  ReplyStatus(req, store_->StageLabel(key->name, label, text));
}

void Filesystem::RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  if (!IsFileKind(key->kind)) return ReplyErrno(req, EPERM);
  std::string_view n(name);
  // Nothing is ever stored outside user.*.
  if (!n.starts_with(kUserPrefix)) return ReplyErrno(req, ENODATA);
  if (key->kind == NodeKind::kIngest) slots_.AwaitReleaseInFlight(key->name);

  if (n.starts_with(kVirtualPrefix)) {
    if (key->kind == NodeKind::kBlob) return ReplyErrno(req, EPERM);
    Virtual which = VirtualNamed(n.substr(kVirtualPrefix.size()));
    if (which != Virtual::kTotal && which != Virtual::kExpected) return ReplyErrno(req, EPERM);
    const std::string& ref = key->name;
    auto status = IngestStatusOf(ref);
    if (!status.ok()) return ReplyStatus(req, status.status());
    if (which == Virtual::kTotal) {
      if (status->total <= 0) return ReplyErrno(req, ENODATA);
      return ReplyStatus(req, store_->SetIngestTotal(ref, std::nullopt));
    }
    if (!status->expected) return ReplyErrno(req, ENODATA);
    return ReplyStatus(req, store_->SetIngestExpected(ref, std::nullopt));
  }

  std::string label(n.substr(kUserPrefix.size()));
  Result<bool> removed = false;
  if (key->kind == NodeKind::kBlob) {
    auto digest = BlobDigest(key->algorithm, key->name);
    if (!digest.ok()) return ReplyStatus(req, digest.status());
    removed = store_->RemoveLabel(*digest, label);
  } else {
    removed = store_->UnstageLabel(key->name, label);
  }
  if (!removed.ok()) return ReplyStatus(req, removed.status());
  if (!*removed) return ReplyErrno(req, ENODATA);
  fuse_reply_err(req, 0);
}

}  // namespace casfs::fuse
