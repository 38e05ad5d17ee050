// The mount's request handlers over one LocalStore: each decodes a FUSE
// request, calls the engine, and replies with data or ToErrno(status). The
// rules of the store (what a valid commit, label or ingest is) live in
// core/; what is here is the mount contract's translation
// (docs/mount-interface.md): the tree, the errno of each refusal, and the
// kernel's caching.
//
// Handlers are grouped one file per kind of operation: ops_node.cc
// (lookup, forget, getattr, setattr, statfs), ops_dir.cc (readdir),
// ops_file.cc (open, create, read, write, flush, release, fsync),
// ops_xattr.cc (labels and user.casfs.*), ops_namespace.cc (rename =
// commit, unlink, and the refusals: mkdir, rmdir, link, symlink, mknod).
// lowlevel_ops.cc wires them into libfuse's table; connection.cc
// negotiates the kernel's capabilities.
//
// Concurrency: libfuse's multi-threaded loop calls handlers on many
// threads at once. The engine is thread-safe; the state here is the inode
// table, the write slots and the open-blob sizes, and per-handle state,
// which the kernel serialises where it matters (writes to one inode) and
// which is otherwise atomic or immutable after open. Handlers may block a
// worker thread on the engine's I/O and on the bounded waits for a ref
// (write slots, the engine's ref lock); nothing waits without a bound.
//
// Lock order, outer to inner: a folder handle's mutex (held while its
// listing is taken and copied out) or a file handle's reader_mu (held
// while a reader is opened for fsync); then the engine's own locks; then
// the leaves: InodeTable's, WriteSlots' and open_blobs_mu_. A leaf is held
// only inside its own short methods, never while calling the engine or
// closing a writer.
//
// A handler touches its open handle (fuse_file_info::fh) only before it
// replies, locks included: the reply lets the kernel finish the call, and
// the release that frees the handle may then run at once on another thread.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "core/local_store.h"
#include "fuse/inode_table.h"
#include "fuse/write_slots.h"

namespace casfs::fuse {

struct FilesystemOptions {
  bool read_only = false;
  // How long the kernel may cache names (positive and negative) and
  // attributes of blobs, ingests and the store's folders without asking:
  // the contract's freshness bound for changes made by others (the CLI,
  // another mount). Changes made through this mount are seen at once.
  double cache_timeout_seconds = 1.0;
  // A new writer waits this long for the RELEASE of a handle already
  // closed by its process, and this long for a release under way to finish.
  std::chrono::milliseconds release_wait{1000};
  std::chrono::milliseconds closing_wait{30000};
  // A released handle's writer stays open this long for the rename or the
  // reopen that usually follows (WriteSlots); 0 closes it at once.
  std::chrono::milliseconds park_time{100};
  // The engine's wait for a ref locked by another process or mount.
  std::chrono::milliseconds lock_wait{1000};
};

class Filesystem {
 public:
  Filesystem(std::unique_ptr<LocalStore> store, const FilesystemOptions& options);
  ~Filesystem();
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // libfuse's operation table; the session's userdata must be this
  // Filesystem.
  static const fuse_lowlevel_ops& Operations();

  LocalStore& store() { return *store_; }
  const FilesystemOptions& options() const { return options_; }
  const InodeTable& inodes() const { return inodes_; }

  // The state behind an open file or folder (fuse/handles.h; internal).
  struct FileHandle;
  struct DirHandle;
  struct DirEntry;

  // Handlers (called through Operations()).
  void Init(fuse_conn_info* conn);
  void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Forget(fuse_ino_t ino, uint64_t nlookup);
  void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
  void StatFs(fuse_req_t req, fuse_ino_t ino);

  void OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus);
  void ReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);

  void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
  void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi);
  void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);

  void GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  void ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  void SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags);
  void RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name);

  void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
              unsigned int flags);
  void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
  void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
  void Symlink(fuse_req_t req, fuse_ino_t parent, const char* name);

 private:
  // What a number names, or nullopt (the kernel asked about a forgotten
  // node: ESTALE).
  std::optional<NodeKey> Resolve(fuse_ino_t ino) const { return inodes_.Resolve(ino); }

  // Attributes (st_ino filled in) of the node `key`, answering from an
  // open writer of this mount when there is one.
  Result<struct stat> AttrOf(Ino ino, const NodeKey& key);
  struct stat FolderAttr(Ino ino, const NodeKey& key) const;
  struct stat BlobAttr(Ino ino, int64_t size, Timestamp created, Timestamp updated) const;
  struct stat IngestAttr(Ino ino, const IngestStatus& status) const;
  double TimeoutFor(const NodeKey& key) const;
  // An entry reply for a blob or ingest: takes a lookup reference.
  fuse_entry_param EntryFor(const NodeKey& key, const struct stat& attr);
  void ReplyEntry(fuse_req_t req, const NodeKey& key, const struct stat& attr);
  void ReplyNegative(fuse_req_t req);

  // The ingest's status now, from its files (and this mount's writer, if
  // one is open, for the latest size and time).
  Result<IngestStatus> IngestStatusOf(const std::string& ref);

  // Opens a write handle for `ref`: claims its slot (waiting for a release
  // in flight) and opens the engine's writer in `mode`.
  Result<std::unique_ptr<FileHandle>> OpenWriteHandle(const std::string& ref, IngestOpenMode mode,
                                                       int flags);
  // Ends a handle's write: parks its writer for the next claim of the ref
  // (WriteSlots), which closes it later.
  void EndWrite(FileHandle* handle);
  // Replies to open/create with `handle`, or cleans it up when the
  // request was interrupted.
  void ReplyOpen(fuse_req_t req, std::unique_ptr<FileHandle> handle, fuse_file_info* fi,
                 const fuse_entry_param* entry);
  static FileHandle* HandleOf(const fuse_file_info* fi) {
    return reinterpret_cast<FileHandle*>(static_cast<uintptr_t>(fi->fh));
  }

  Status TruncateIngest(const std::string& ref, int64_t size, fuse_file_info* fi);
  void Commit(fuse_req_t req, const std::string& ingest_name, Algorithm algorithm, const std::string& hex,
              unsigned int flags);
  // The commit and the abort of one ingest, holding its write slot for
  // their time only (the callers reply after it is given back).
  Status CommitIngest(const std::string& ref, const Digest& digest, unsigned int flags);
  Status AbortIngest(const std::string& ref);

  // Fills `buf` with the entries of an open folder from `off` on, under
  // the handle's lock.
  Status FillDirBuffer(fuse_req_t req, Ino ino, const NodeKey& key, DirHandle* handle, size_t size, off_t off,
                       bool plus, char* buf, size_t* used, std::vector<Ino>* referenced);
  // Builds the entries of a folder.
  Result<std::vector<DirEntry>> ListFolder(Ino ino, const NodeKey& key);

  std::unique_ptr<LocalStore> store_;
  const FilesystemOptions options_;
  const uid_t uid_;
  const gid_t gid_;
  const Timestamp started_;
  InodeTable inodes_;
  WriteSlots slots_;

  // Blobs open for reading, by number: how many handles and the size, so
  // that fstat of a blob deleted while open still answers (the kernel
  // sends such a getattr without the handle).
  void NoteBlobOpened(Ino ino, int64_t size);
  void NoteBlobClosed(Ino ino);
  std::optional<int64_t> OpenBlobSize(Ino ino) const;
  mutable std::mutex open_blobs_mu_;  // leaf
  std::unordered_map<Ino, std::pair<int, int64_t>> open_blobs_;

  // Every handle the kernel holds (between a successful open/create reply
  // and its release). An unmount with files still open (lazy, or a signal)
  // ends the session without their releases: the destructor ends them,
  // which closes their writers (sync, checkpoint, lock released).
  void NoteHandleOpened(FileHandle* handle);
  void NoteHandleReleased(FileHandle* handle);
  std::mutex handles_mu_;  // leaf
  std::unordered_set<FileHandle*> handles_;
};

}  // namespace casfs::fuse
