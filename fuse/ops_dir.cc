// Folder listings: opendir, readdir, readdirplus, releasedir.
#include <memory>

#include "core/store_view.h"
#include "fuse/filesystem.h"
#include "fuse/handles.h"
#include "fuse/op_support.h"
#include "fuse/ref_name.h"

namespace casfs::fuse {
namespace {

Filesystem::DirHandle* DirHandleOf(const fuse_file_info* fi) {
  return reinterpret_cast<Filesystem::DirHandle*>(static_cast<uintptr_t>(fi->fh));
}

}  // namespace

void Filesystem::OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  if (IsFileKind(key->kind)) return ReplyErrno(req, ENOTDIR);
  auto handle = std::make_unique<DirHandle>();
  // The kernel may cache what one opendir lists and serve the rest of that
  // opendir (seekdir, rewinddir) from it; a new opendir asks again, so a
  // listing is never older than the opendir that shows it.
  fi->cache_readdir = 1;
  fi->fh = reinterpret_cast<uintptr_t>(handle.get());
  if (fuse_reply_open(req, fi) == 0) handle.release();
}

void Filesystem::ReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  delete DirHandleOf(fi);
  fuse_reply_err(req, 0);
}

Result<std::vector<Filesystem::DirEntry>> Filesystem::ListFolder(Ino ino, const NodeKey& key) {
  std::vector<DirEntry> entries;
  auto add_folder = [&entries](std::string name, Ino folder) {
    DirEntry entry;
    entry.name = std::move(name);
    entry.ino = folder;
    entry.key = *FixedNode(folder);
    entry.type = S_IFDIR;
    entries.push_back(std::move(entry));
  };
  Ino parent = kRootIno;
  if (key.kind == NodeKind::kAlgorithmDir) parent = kBlobsIno;
  add_folder(".", ino);
  add_folder("..", parent);
  switch (key.kind) {
    case NodeKind::kRoot:
      add_folder("blobs", kBlobsIno);
      add_folder("ingest", kIngestIno);
      break;
    case NodeKind::kBlobsDir:
      for (Algorithm algorithm : kAllAlgorithms) {
        add_folder(std::string(AlgorithmName(algorithm)), AlgorithmDirIno(algorithm));
      }
      break;
    case NodeKind::kAlgorithmDir: {
      auto hexes = ListBlobHexes(store_->layout(), key.algorithm);
      if (!hexes.ok()) return hexes.status();
      entries.reserve(entries.size() + hexes->size());
      for (std::string& hex : *hexes) {
        DirEntry entry;
        entry.name = hex;
        entry.key = NodeKey::Blob(key.algorithm, std::move(hex));
        entries.push_back(std::move(entry));
      }
      break;
    }
    case NodeKind::kIngestDir: {
      auto statuses = store_->ListStatuses();
      if (!statuses.ok()) return statuses.status();
      for (IngestStatus& status : *statuses) {
        // A ref that has no file name (NUL, too long) is reachable only
        // through the CLI.
        auto name = EncodeRefName(status.ref);
        if (!name.ok()) continue;
        DirEntry entry;
        entry.name = std::move(name.value());
        entry.key = NodeKey::Ingest(status.ref);
        entry.status = std::move(status);
        entries.push_back(std::move(entry));
      }
      break;
    }
    default:
      break;
  }
  return entries;
}

void Filesystem::ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
                         bool plus) {
  auto key = Resolve(ino);
  if (!key) return ReplyErrno(req, ESTALE);
  DirHandle* handle = DirHandleOf(fi);
  std::unique_ptr<char[]> buf(new char[size]);
  size_t used = 0;
  std::vector<Ino> referenced;  // readdirplus: numbers whose count this reply raises
  // The handle is left before replying: once the reply is out, the
  // kernel may end the opendir and the handle go (releasedir) at once.
  Status listed = FillDirBuffer(req, ino, *key, handle, size, off, plus, buf.get(), &used, &referenced);
  if (!listed.ok()) return ReplyStatus(req, listed);
  if (fuse_reply_buf(req, buf.get(), used) != 0) {
    for (Ino referenced_ino : referenced) inodes_.Forget(referenced_ino, 1);
  }
}

Status Filesystem::FillDirBuffer(fuse_req_t req, Ino ino, const NodeKey& key, DirHandle* handle, size_t size,
                                 off_t off, bool plus, char* buf, size_t* used_out,
                                 std::vector<Ino>* referenced) {
  std::lock_guard lock(handle->mu);
  if (off == 0 || !handle->loaded) {
    auto entries = ListFolder(ino, key);
    if (!entries.ok()) return entries.status();
    handle->entries = std::move(entries.value());
    handle->loaded = true;
  }
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < handle->entries.size(); ++i) {
    const DirEntry& entry = handle->entries[i];
    off_t next = static_cast<off_t>(i + 1);
    size_t added = 0;
    if (!plus) {
      struct stat st {};
      st.st_ino = entry.ino != 0 ? entry.ino : inodes_.Peek(entry.key);
      st.st_mode = entry.type;
      added = fuse_add_direntry(req, buf + used, size - used, entry.name.c_str(), &st, next);
    } else if (entry.ino != 0) {
      // Folders: numbers and attributes, no reference ("." and ".." take
      // none; the fixed folders are never forgotten anyway).
      fuse_entry_param e{};
      e.attr = FolderAttr(entry.ino, entry.key);
      bool dots = entry.name == "." || entry.name == "..";
      if (!dots) {
        e.ino = entry.ino;
        e.attr_timeout = TimeoutFor(entry.key);
        e.entry_timeout = 24 * 3600.0;
      }
      added = fuse_add_direntry_plus(req, buf + used, size - used, entry.name.c_str(), &e, next);
    } else {
      struct stat attr {};
      if (entry.status) {
        attr = IngestAttr(0, *entry.status);
      } else {
        auto now = AttrOf(0, entry.key);
        // Gone since the listing: skip it, as a changing folder may.
        if (!now.ok()) continue;
        attr = *now;
      }
      fuse_entry_param e = EntryFor(entry.key, attr);
      added = fuse_add_direntry_plus(req, buf + used, size - used, entry.name.c_str(), &e, next);
      if (added > size - used) {
        inodes_.Forget(e.ino, 1);  // not sent: no reference
      } else {
        referenced->push_back(e.ino);
      }
    }
    if (added > size - used) break;
    used += added;
  }
  *used_out = used;
  return Status::Ok();
}

}  // namespace casfs::fuse
