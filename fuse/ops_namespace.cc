// Changes of names: rename (the commit), unlink (delete a blob, abort an
// ingest), and the refusals of everything else the tree does not allow.
#include <linux/fs.h>

#include "core/store_view.h"
#include "fuse/filesystem.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"
#include "fuse/ref_name.h"

namespace casfs::fuse {

void Filesystem::Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                        const char* newname, unsigned int flags) {
  // Two names cannot be swapped in a store, whatever they are.
  if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) return ReplyErrno(req, EINVAL);
  auto from = Resolve(parent);
  auto to = Resolve(newparent);
  if (!from || !to) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  // Only an ingest moving into blobs/<alg>/ is a commit; every other
  // rename (a blob, a fixed folder, ingest to ingest, anything elsewhere)
  // is refused.
  if (from->kind != NodeKind::kIngestDir || to->kind != NodeKind::kAlgorithmDir) {
    return ReplyErrno(req, EPERM);
  }
  Commit(req, name, to->algorithm, newname, flags);
}

void Filesystem::Commit(fuse_req_t req, const std::string& ingest_name, Algorithm algorithm,
                        const std::string& hex, unsigned int flags) {
  if (!Digest::IsValidHex(algorithm, hex)) return ReplyErrno(req, EINVAL);
  auto ref = DecodeRefName(ingest_name);
  if (!ref.ok()) return ReplyStatus(req, ref.status());
  auto digest = BlobDigest(algorithm, hex);
  if (!digest.ok()) return ReplyStatus(req, digest.status());

  // Replied only after the claim and the writer are given back: a writer
  // opened right after rename(2) returns must find the ref free.
  ReplyStatus(req, CommitIngest(*ref, *digest, flags));
}

Status Filesystem::CommitIngest(const std::string& ref, const Digest& digest, unsigned int flags) {
  auto claim = slots_.Acquire(ref);
  if (!claim.ok()) return claim.status();
  if (flags & RENAME_NOREPLACE) {
    // mv tries this first: an existing blob answers before any byte is read.
    auto existing = StatBlob(store_->layout(), digest);
    if (existing.ok()) return Status::AlreadyExists("blob " + digest.ToString() + " exists");
    if (!existing.status().IsNotFound()) return existing.status();
  }

  // The writer parked by the last handle's release, or the ingest resumed.
  std::shared_ptr<Writer> writer = claim->writer();
  if (!writer) {
    LocalWriterOptions writer_options;
    writer_options.ref = ref;
    writer_options.mode = IngestOpenMode::kResumeOnly;
    writer_options.lock_wait = options_.lock_wait;
    auto opened = store_->OpenWriter(writer_options);
    if (!opened.ok()) return opened.status();
    writer = std::move(opened.value());
  }

  // Size against total, digest against expected and against the name, the
  // durable recipe, staged labels: all the engine's (LocalStore). Whatever
  // the outcome, the writer ends here (Commit releases the ref's lock).
  Status committed = writer->Commit(0, digest);
  if (committed.ok() || committed.IsAlreadyExists()) {
    // The kernel moves its inode of the ingest to the blob's name: from now
    // on that number is the blob.
    Ino ino = inodes_.Find(NodeKey::Ingest(ref));
    if (ino != 0) inodes_.Rebind(ino, NodeKey::Blob(digest.algorithm(), digest.hex()));
    return Status::Ok();
  }
  auto actual = writer->CurrentDigest();
  spdlog::warn("commit refused: ref \"{}\" expected {} actual {}: {}", ref, digest.ToString(),
               actual.ok() ? actual->ToString() : "(" + actual.status().ToString() + ")", committed.ToString());
  return committed;
}

void Filesystem::Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto dir = Resolve(parent);
  if (!dir) return ReplyErrno(req, ESTALE);
  std::string_view n(name);
  switch (dir->kind) {
    case NodeKind::kAlgorithmDir: {
      if (!Digest::IsValidHex(dir->algorithm, n)) return ReplyErrno(req, ENOENT);
      if (options_.read_only) return ReplyErrno(req, EROFS);
      auto digest = BlobDigest(dir->algorithm, n);
      if (!digest.ok()) return ReplyStatus(req, digest.status());
      // The engine's Delete of a missing blob succeeds (containerd); rm of
      // one is ENOENT.
      auto existing = StatBlob(store_->layout(), *digest);
      if (!existing.ok()) return ReplyStatus(req, existing.status());
      return ReplyStatus(req, store_->Delete(*digest));
    }
    case NodeKind::kIngestDir: {
      auto ref = DecodeRefName(n);
      if (!ref.ok()) return ReplyStatus(req, ref.status());
      if (options_.read_only) return ReplyErrno(req, EROFS);
      return ReplyStatus(req, AbortIngest(*ref));
    }
    case NodeKind::kRoot:
    case NodeKind::kBlobsDir:
      if (n == "blobs" || n == "ingest" || (dir->kind == NodeKind::kBlobsDir && AlgorithmFromName(n))) {
        return ReplyErrno(req, EPERM);
      }
      return ReplyErrno(req, ENOENT);
    default:
      return ReplyErrno(req, ENOTDIR);
  }
}

Status Filesystem::AbortIngest(const std::string& ref) {
  // The claim is given back before the caller replies.
  auto claim = slots_.Acquire(ref);
  if (!claim.ok()) return claim.status();
  if (auto parked = claim->writer()) {
    Status closed = parked->Close();
    if (!closed.ok()) return closed;
  }
  auto status = store_->GetStatus(ref);
  if (!status.ok()) return status.status();
  return store_->Abort(ref);
}

void Filesystem::Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  (void)parent;
  (void)name;
  // The only folders are the fixed ones.
  ReplyErrno(req, options_.read_only ? EROFS : EPERM);
}

void Filesystem::Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  (void)parent;
  (void)name;
  ReplyErrno(req, options_.read_only ? EROFS : EPERM);
}

void Filesystem::Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  auto dir = Resolve(parent);
  if (!dir) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  // Only regular files, and only in ingest/: a new, empty ingest.
  if (dir->kind != NodeKind::kIngestDir || !S_ISREG(mode)) return ReplyErrno(req, EPERM);
  if (std::string_view(name).size() > kMaxNameLength) return ReplyErrno(req, ENAMETOOLONG);
  auto ref = DecodeRefName(name);
  if (!ref.ok()) return ReplyStatus(req, ref.status());
  auto handle = OpenWriteHandle(*ref, IngestOpenMode::kCreateOnly, O_WRONLY);
  if (!handle.ok()) return ReplyStatus(req, handle.status());
  IngestStatus status = (*handle)->writer->GetStatus();
  EndWrite(handle->get());
  handle->reset();  // the slot is free before the reply
  ReplyEntry(req, NodeKey::Ingest(*ref), IngestAttr(0, status));
}

void Filesystem::Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  (void)ino;
  (void)newparent;
  (void)newname;
  ReplyErrno(req, options_.read_only ? EROFS : EPERM);
}

void Filesystem::Symlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  (void)parent;
  (void)name;
  ReplyErrno(req, options_.read_only ? EROFS : EPERM);
}

}  // namespace casfs::fuse
