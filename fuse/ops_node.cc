// Names and attributes: lookup, forget, getattr, setattr, statfs.
#include <cstring>

#include "core/store_view.h"
#include "fuse/filesystem.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"
#include "fuse/ref_name.h"

namespace casfs::fuse {

void Filesystem::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto dir = Resolve(parent);
  if (!dir) return ReplyErrno(req, ESTALE);
  std::string_view n(name);
  if (n.size() > kMaxNameLength) return ReplyErrno(req, ENAMETOOLONG);
  switch (dir->kind) {
    case NodeKind::kRoot: {
      if (n == "blobs") return ReplyEntry(req, *FixedNode(kBlobsIno), FolderAttr(kBlobsIno, *FixedNode(kBlobsIno)));
      if (n == "ingest") {
        return ReplyEntry(req, *FixedNode(kIngestIno), FolderAttr(kIngestIno, *FixedNode(kIngestIno)));
      }
      return ReplyNegative(req);
    }
    case NodeKind::kBlobsDir: {
      auto algorithm = AlgorithmFromName(n);
      if (!algorithm) return ReplyNegative(req);
      Ino ino = AlgorithmDirIno(*algorithm);
      return ReplyEntry(req, *FixedNode(ino), FolderAttr(ino, *FixedNode(ino)));
    }
    case NodeKind::kAlgorithmDir: {
      // Any other name in blobs/<alg>/ does not exist.
      if (!Digest::IsValidHex(dir->algorithm, n)) return ReplyNegative(req);
      NodeKey key = NodeKey::Blob(dir->algorithm, std::string(n));
      auto attr = AttrOf(0, key);
      if (!attr.ok()) {
        if (attr.status().IsNotFound()) return ReplyNegative(req);
        return ReplyStatus(req, attr.status());
      }
      return ReplyEntry(req, key, *attr);
    }
    case NodeKind::kIngestDir: {
      auto ref = DecodeRefName(n);
      if (!ref.ok()) return ReplyStatus(req, ref.status());
      NodeKey key = NodeKey::Ingest(std::move(ref.value()));
      auto attr = AttrOf(0, key);
      if (!attr.ok()) {
        if (attr.status().IsNotFound()) return ReplyNegative(req);
        return ReplyStatus(req, attr.status());
      }
      return ReplyEntry(req, key, *attr);
    }
    case NodeKind::kBlob:
    case NodeKind::kIngest:
      return ReplyErrno(req, ENOTDIR);
  }
}

void Filesystem::Forget(fuse_ino_t ino, uint64_t nlookup) { inodes_.Forget(ino, nlookup); }

void Filesystem::GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  auto attr = AttrOf(ino, *key);
  if (!attr.ok()) {
    // fstat of a blob deleted while open: its handles still read it.
    (void)fi;
    std::optional<int64_t> open_size;
    if (attr.status().IsNotFound() && key->kind == NodeKind::kBlob) open_size = OpenBlobSize(ino);
    if (open_size) {
      struct stat st = BlobAttr(ino, *open_size, started_, started_);
      st.st_nlink = 0;
      fuse_reply_attr(req, &st, 0);
      return;
    }
    return ReplyStatus(req, attr.status());
  }
  fuse_reply_attr(req, &*attr, TimeoutFor(*key));
}

void Filesystem::SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  // Blobs are immutable and the folders fixed: no size, mode, owner or
  // times of theirs can be set.
  if (key->kind != NodeKind::kIngest) return ReplyErrno(req, EPERM);

  // An ingest's mode and owner are fixed too; setting them to what they
  // are changes nothing and succeeds (as cp -p expects). Its times are the
  // store's (startedat, updatedat): setting them is accepted and has no
  // effect, so `touch ingest/x` creates an ingest.
  if ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 07777) != 0644) return ReplyErrno(req, EPERM);
  if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != uid_) return ReplyErrno(req, EPERM);
  if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != gid_) return ReplyErrno(req, EPERM);

  if (to_set & FUSE_SET_ATTR_SIZE) {
    Status status = TruncateIngest(key->name, attr->st_size, fi);
    if (!status.ok()) return ReplyStatus(req, status);
  }
  auto now = AttrOf(ino, *key);
  if (!now.ok()) return ReplyStatus(req, now.status());
  fuse_reply_attr(req, &*now, TimeoutFor(*key));
}

Status Filesystem::TruncateIngest(const std::string& ref, int64_t size, fuse_file_info* fi) {
  if (size < 0) return Status::InvalidArgument("negative size");
  FileHandle* handle = fi != nullptr ? HandleOf(fi) : nullptr;
  if (handle != nullptr && handle->writer) {
    Status status = handle->writer->Truncate(size);
    if (status.ok()) handle->claim.MarkWritten();
    return status;
  }
  // truncate(2) by name: a writer for the time of the call, under the same
  // rule as any other writer (EBUSY while another one counts).
  auto opened = OpenWriteHandle(ref, IngestOpenMode::kResumeOnly, O_WRONLY);
  if (!opened.ok()) return opened.status();
  FileHandle& temporary = **opened;
  Status status = temporary.writer->Truncate(size);
  EndWrite(&temporary);
  return status;
}

void Filesystem::StatFs(fuse_req_t req, fuse_ino_t ino) {
  (void)ino;
  auto st = StatStoreFilesystem(store_->layout());
  if (!st.ok()) return ReplyStatus(req, st.status());
  struct statvfs out = *st;
  out.f_namemax = kMaxNameLength;
  fuse_reply_statfs(req, &out);
}

}  // namespace casfs::fuse
