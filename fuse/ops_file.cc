// Open files: open, create, read, write, flush, release, fsync.
//
// Blobs are opened with keep_cache: their content never changes, so the
// kernel's page cache of a blob stays valid across opens, and re-reads
// never reach the daemon. Reads that do are answered with the backing
// file's descriptor (FUSE_BUF_IS_FD), which libfuse splices to the kernel
// without copying through user space.
//
// Ingests are opened with direct_io, for reads and writes: nothing of an
// ingest is held in the kernel's page cache or write-back cache, so every
// write(2) that has returned is in the engine (st_size, user.casfs.digest
// and a read-back all see it), and a read returns what the ingest holds
// now, whoever wrote it.
#include <memory>

#include "core/posix.h"
#include "fuse/filesystem.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"
#include "fuse/ref_name.h"
#include "fuse/sanitizer_sync.h"

namespace casfs::fuse {
Result<std::unique_ptr<Filesystem::FileHandle>> Filesystem::OpenWriteHandle(const std::string& ref,
                                                                           IngestOpenMode mode, int flags) {
  if (options_.read_only) return Status::ReadOnly("the mount is read-only");
  auto claim = slots_.Acquire(ref);
  if (!claim.ok()) return claim.status();

  std::shared_ptr<Writer> writer = claim->writer();
  if (writer) {
    // A parked writer of this ref (the ingest exists and is ours).
    if (mode == IngestOpenMode::kCreateOnly) {
      claim->Park();
      return Status::AlreadyExists("ingest " + ref + " exists");
    }
  } else {
    LocalWriterOptions writer_options;
    writer_options.ref = ref;
    writer_options.mode = mode;
    writer_options.lock_wait = options_.lock_wait;
    auto opened = store_->OpenWriter(writer_options);
    if (!opened.ok()) return opened.status();
    writer = std::shared_ptr<Writer>(std::move(opened.value()));
  }

  auto handle = std::make_unique<FileHandle>();
  handle->kind = NodeKind::kIngest;
  handle->ref = ref;
  handle->writer = std::move(writer);
  handle->claim = std::move(claim.value());
  handle->claim.SetWriter(handle->writer);
  handle->append = (flags & O_APPEND) != 0;
  if ((flags & O_TRUNC) != 0 && handle->writer->Size() != 0) {
    Status truncated = handle->writer->Truncate(0);
    if (!truncated.ok()) {
      EndWrite(handle.get());
      return truncated;
    }
  }
  if ((flags & O_ACCMODE) == O_RDWR) {
    auto reader = store_->OpenIngestReader(ref);
    if (!reader.ok()) {
      EndWrite(handle.get());
      return reader.status();
    }
    handle->reader = std::move(reader.value());
  }
  return handle;
}

void Filesystem::ReplyOpen(fuse_req_t req, std::unique_ptr<FileHandle> handle, fuse_file_info* fi,
                           const fuse_entry_param* entry) {
  fi->fh = reinterpret_cast<uintptr_t>(handle.get());
  // Noted before the reply: the release may come the moment it is sent.
  NoteHandleOpened(handle.get());
  int sent = entry != nullptr ? fuse_reply_create(req, entry, fi) : fuse_reply_open(req, fi);
  if (sent == 0) {
    handle.release();  // owned by the kernel's file until release
    return;
  }
  NoteHandleReleased(handle.get());
  // Interrupted: the kernel will not send a release for this handle.
  if (entry != nullptr) inodes_.Forget(entry->ino, 1);
  if (handle->kind == NodeKind::kBlob) NoteBlobClosed(handle->ino);
  EndWrite(handle.get());
}

void Filesystem::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  switch (key->kind) {
    case NodeKind::kBlob: {
      if (OpensForWriting(fi->flags)) return ReplyErrno(req, options_.read_only ? EROFS : EPERM);
      auto digest = BlobDigest(key->algorithm, key->name);
      if (!digest.ok()) return ReplyStatus(req, digest.status());
      auto reader = store_->ReaderAt(*digest);
      if (!reader.ok()) return ReplyStatus(req, reader.status());
      auto handle = std::make_unique<FileHandle>();
      handle->kind = NodeKind::kBlob;
      handle->ino = ino;
      handle->reader = std::move(reader.value());
      NoteBlobOpened(ino, handle->reader->Size());
      fi->keep_cache = 1;
      fi->noflush = 1;
      return ReplyOpen(req, std::move(handle), fi, nullptr);
    }
    case NodeKind::kIngest: {
      fi->direct_io = 1;
      if (!OpensForWriting(fi->flags)) {
        auto reader = store_->OpenIngestReader(key->name);
        if (!reader.ok()) return ReplyStatus(req, reader.status());
        auto handle = std::make_unique<FileHandle>();
        handle->kind = NodeKind::kIngest;
        handle->ref = key->name;
        handle->reader = std::move(reader.value());
        fi->noflush = 1;
        return ReplyOpen(req, std::move(handle), fi, nullptr);
      }
      auto handle = OpenWriteHandle(key->name, IngestOpenMode::kResumeOnly, fi->flags);
      if (!handle.ok()) return ReplyStatus(req, handle.status());
      return ReplyOpen(req, std::move(handle.value()), fi, nullptr);
    }
    default:
      return ReplyErrno(req, EISDIR);
  }
}

void Filesystem::Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  auto dir = Resolve(parent);
  if (!dir) return ReplyErrno(req, ESTALE);
  if (options_.read_only) return ReplyErrno(req, EROFS);
  if (dir->kind != NodeKind::kIngestDir) return ReplyErrno(req, IsFileKind(dir->kind) ? ENOTDIR : EPERM);
  if (std::string_view(name).size() > kMaxNameLength) return ReplyErrno(req, ENAMETOOLONG);
  if (!S_ISREG(mode)) return ReplyErrno(req, EPERM);
  auto ref = DecodeRefName(name);
  if (!ref.ok()) return ReplyStatus(req, ref.status());

  IngestOpenMode open_mode =
      (fi->flags & O_EXCL) != 0 ? IngestOpenMode::kCreateOnly : IngestOpenMode::kCreateOrResume;
  auto opened = OpenWriteHandle(*ref, open_mode, fi->flags);
  if (!opened.ok()) return ReplyStatus(req, opened.status());
  std::unique_ptr<FileHandle> handle = std::move(opened.value());
  IngestStatus status = handle->writer->GetStatus();

  if ((fi->flags & O_ACCMODE) == O_RDONLY) {
    // open(O_CREAT|O_RDONLY): the ingest now exists; the handle only reads.
    EndWrite(handle.get());
    auto reader = store_->OpenIngestReader(*ref);
    if (!reader.ok()) return ReplyStatus(req, reader.status());
    handle = std::make_unique<FileHandle>();
    handle->kind = NodeKind::kIngest;
    handle->ref = *ref;
    handle->reader = std::move(reader.value());
    fi->noflush = 1;
  }
  NodeKey key = NodeKey::Ingest(*ref);
  fuse_entry_param entry = EntryFor(key, IngestAttr(0, status));
  fi->direct_io = 1;
  ReplyOpen(req, std::move(handle), fi, &entry);
}

void Filesystem::Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  (void)ino;
  FileHandle* handle = HandleOf(fi);
  if (!handle->reader) return ReplyErrno(req, EBADF);
  const BlobReader& reader = *handle->reader;
  if (handle->kind == NodeKind::kBlob) {
    // A blob's size is fixed: no request past its end reaches the file.
    if (off >= reader.Size()) {
      HandOverToKernel(handle);
      return static_cast<void>(fuse_reply_buf(req, nullptr, 0));
    }
    size = std::min<size_t>(size, static_cast<size_t>(reader.Size() - off));
  }
  if (reader.fd() >= 0) {
    fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = reader.fd();
    buf.buf[0].pos = off;
    HandOverToKernel(handle);
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  std::unique_ptr<char[]> data(new char[size]);
  auto got = reader.ReadAt(data.get(), size, off);
  HandOverToKernel(handle);
  if (!got.ok()) return ReplyStatus(req, got.status());
  fuse_reply_buf(req, data.get(), *got);
}

void Filesystem::Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
                       fuse_file_info* fi) {
  (void)ino;
  FileHandle* handle = HandleOf(fi);
  if (!handle->writer) return ReplyErrno(req, EBADF);
  handle->claim.MarkWritten();
  // O_APPEND is decided here, at the ingest's real end: the kernel's idea
  // of the size may be older than a write made by another process.
  int64_t at = handle->append ? handle->writer->Size() : off;
  Status status = handle->writer->WriteAt(at, buf, size);
  if (!status.ok()) return ReplyStatus(req, status);
  fuse_reply_write(req, size);
}

void Filesystem::Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  FileHandle* handle = HandleOf(fi);
  // A close(2) of one of the handle's descriptors. If it was the last, the
  // RELEASE follows after close(2) has returned; a new writer of the ref
  // waits for it (WriteSlots).
  if (handle->writer) handle->claim.MarkFlushed();
  fuse_reply_err(req, 0);
}

void Filesystem::Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  TakeBackFromKernel(HandleOf(fi));
  std::unique_ptr<FileHandle> handle(HandleOf(fi));
  NoteHandleReleased(handle.get());
  if (handle->kind == NodeKind::kBlob) NoteBlobClosed(handle->ino);
  EndWrite(handle.get());
  fuse_reply_err(req, 0);
}

void Filesystem::Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  (void)ino;
  (void)datasync;
  FileHandle* handle = HandleOf(fi);
  // Blobs are durable once committed.
  if (!handle->writer) return ReplyErrno(req, 0);
  // Any descriptor of the data file syncs it; a write-only handle opens a
  // reader for that the first time. The lock is left before the reply:
  // after it, the handle may be released at once.
  Status synced;
  {
    std::lock_guard lock(handle->reader_mu);
    if (!handle->reader) {
      auto reader = store_->OpenIngestReader(handle->ref);
      if (reader.ok()) {
        handle->reader = std::move(reader.value());
      } else {
        synced = reader.status();
      }
    }
    if (synced.ok() && handle->reader->fd() >= 0) synced = posix::Fsync(handle->reader->fd());
  }
  ReplyStatus(req, synced);
}

void Filesystem::EndWrite(FileHandle* handle) {
  // The writer is parked (or closed, which syncs the data and releases the
  // ref's lock) before the slot is given back, so that a writer waiting
  // for the slot finds the lock free or the writer open for it.
  if (handle->writer) handle->claim.Park();
  handle->writer.reset();
}

}  // namespace casfs::fuse
