#include "fuse/filesystem.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/posix.h"
#include "core/store_view.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"

namespace casfs::fuse {
namespace {

// The names of the fixed folders never change: the kernel may keep them.
constexpr double kFixedEntryTimeout = 24 * 3600.0;

// ext4 and tmpfs stamp folder times from a coarse clock (a tick of a few
// milliseconds), so two changes within one tick can leave a folder's mtime
// unchanged. The kernel's readdir cache is revalidated by comparing
// mtimes; a folder changed within this margin is reported with the
// current time instead, so a listing taken in the same tick as a change
// is never trusted past the next attribute refresh.
constexpr int64_t kRecentChangeNanos = 50'000'000;

int64_t Nanos(Timestamp t) { return t.seconds * 1'000'000'000 + t.nanoseconds; }

void SetTimes(struct stat* st, Timestamp atime, Timestamp mtime, Timestamp ctime) {
  st->st_atim = atime.ToTimespec();
  st->st_mtim = mtime.ToTimespec();
  st->st_ctim = ctime.ToTimespec();
}

}  // namespace

Filesystem::Filesystem(std::unique_ptr<LocalStore> store, const FilesystemOptions& options)
    : store_(std::move(store)),
      options_(options),
      uid_(::getuid()),
      gid_(::getgid()),
      started_(Timestamp::Now()),
      slots_(WriteSlots::Timing{options.release_wait, options.closing_wait, options.park_time}) {}

Filesystem::~Filesystem() {
  std::unordered_set<FileHandle*> left;
  {
    std::lock_guard lock(handles_mu_);
    left.swap(handles_);
  }
  if (!left.empty()) spdlog::info("casfs mount: closing {} handles the kernel did not release", left.size());
  for (FileHandle* handle : left) {
    std::unique_ptr<FileHandle> owned(handle);
    EndWrite(owned.get());
  }
}

void Filesystem::NoteHandleOpened(FileHandle* handle) {
  std::lock_guard lock(handles_mu_);
  handles_.insert(handle);
}

void Filesystem::NoteHandleReleased(FileHandle* handle) {
  std::lock_guard lock(handles_mu_);
  handles_.erase(handle);
}

struct stat Filesystem::FolderAttr(Ino ino, const NodeKey& key) const {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = S_IFDIR | 0755;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = 4096;
  switch (key.kind) {
    case NodeKind::kRoot: st.st_nlink = 4; break;
    case NodeKind::kBlobsDir: st.st_nlink = 2 + kAllAlgorithms.size(); break;
    default: st.st_nlink = 2; break;
  }
  Timestamp mtime = started_;
  if (key.kind == NodeKind::kAlgorithmDir || key.kind == NodeKind::kIngestDir) {
    const Layout& layout = store_->layout();
    auto backing = posix::Stat(key.kind == NodeKind::kIngestDir ? layout.IngestRoot()
                                                                 : layout.AlgorithmDir(key.algorithm));
    if (backing.ok()) {
      mtime = Timestamp::FromTimespec(backing->st_mtim);
      Timestamp now = Timestamp::Now();
      if (Nanos(now) - Nanos(mtime) < kRecentChangeNanos) mtime = now;
    }
  }
  SetTimes(&st, mtime, mtime, mtime);
  return st;
}

struct stat Filesystem::BlobAttr(Ino ino, int64_t size, Timestamp created, Timestamp updated) const {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = S_IFREG | 0444;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_size = size;
  st.st_blocks = (size + 511) / 512;
  // Large enough that cp and cat move 1 MiB per call.
  st.st_blksize = 1 << 20;
  // containerd: CreatedAt is the mtime, UpdatedAt the atime; a label
  // change is a change of status, hence ctime.
  SetTimes(&st, updated, created, std::max(created, updated));
  return st;
}

struct stat Filesystem::IngestAttr(Ino ino, const IngestStatus& status) const {
  struct stat st {};
  st.st_ino = ino;
  st.st_mode = S_IFREG | 0644;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_size = status.offset;
  st.st_blocks = (status.offset + 511) / 512;
  st.st_blksize = 1 << 20;
  SetTimes(&st, status.updated_at, status.updated_at, status.updated_at);
  return st;
}

Result<IngestStatus> Filesystem::IngestStatusOf(const std::string& ref) {
  // While this mount's writer is open it knows the data (size, times) best;
  // total and expected may have been set since it opened (by this mount or
  // the CLI), so those come from the files.
  auto writer = slots_.ActiveWriter(ref);
  auto status = store_->GetStatus(ref);
  if (!status.ok() || !writer) return status;
  IngestStatus open = writer->GetStatus();
  if (open.total != status->total || open.expected != status->expected) {
    // Changed behind the writer: that change's time is in the files.
    open.updated_at = std::max(open.updated_at, status->updated_at);
  }
  open.total = status->total;
  open.expected = status->expected;
  return open;
}

Result<struct stat> Filesystem::AttrOf(Ino ino, const NodeKey& key) {
  switch (key.kind) {
    case NodeKind::kBlob: {
      auto digest = BlobDigest(key.algorithm, key.name);
      if (!digest.ok()) return digest.status();
      auto blob = StatBlob(store_->layout(), *digest);
      if (!blob.ok()) return blob.status();
      return BlobAttr(ino, blob->size, blob->created_at, blob->updated_at);
    }
    case NodeKind::kIngest: {
      auto status = IngestStatusOf(key.name);
      if (!status.ok()) return status.status();
      return IngestAttr(ino, *status);
    }
    default:
      return FolderAttr(ino, key);
  }
}

void Filesystem::NoteBlobOpened(Ino ino, int64_t size) {
  std::lock_guard lock(open_blobs_mu_);
  auto& [count, known] = open_blobs_[ino];
  ++count;
  known = size;
}

void Filesystem::NoteBlobClosed(Ino ino) {
  std::lock_guard lock(open_blobs_mu_);
  auto it = open_blobs_.find(ino);
  if (it != open_blobs_.end() && --it->second.first == 0) open_blobs_.erase(it);
}

std::optional<int64_t> Filesystem::OpenBlobSize(Ino ino) const {
  std::lock_guard lock(open_blobs_mu_);
  auto it = open_blobs_.find(ino);
  if (it == open_blobs_.end()) return std::nullopt;
  return it->second.second;
}

double Filesystem::TimeoutFor(const NodeKey& key) const {
  (void)key;
  return options_.cache_timeout_seconds;
}

fuse_entry_param Filesystem::EntryFor(const NodeKey& key, const struct stat& attr) {
  fuse_entry_param e{};
  bool fixed = key.kind != NodeKind::kBlob && key.kind != NodeKind::kIngest;
  e.ino = fixed ? attr.st_ino : inodes_.Acquire(key);
  e.attr = attr;
  e.attr.st_ino = e.ino;
  e.attr_timeout = TimeoutFor(key);
  e.entry_timeout = fixed ? kFixedEntryTimeout : TimeoutFor(key);
  return e;
}

void Filesystem::ReplyEntry(fuse_req_t req, const NodeKey& key, const struct stat& attr) {
  fuse_entry_param e = EntryFor(key, attr);
  bool fixed = key.kind != NodeKind::kBlob && key.kind != NodeKind::kIngest;
  // An interrupted request's reply is dropped: the kernel took no reference.
  if (fuse_reply_entry(req, &e) != 0 && !fixed) inodes_.Forget(e.ino, 1);
}

void Filesystem::ReplyNegative(fuse_req_t req) {
  // A zero inode with a timeout lets the kernel cache the absence.
  fuse_entry_param e{};
  e.entry_timeout = options_.cache_timeout_seconds;
  fuse_reply_entry(req, &e);
}

}  // namespace casfs::fuse
