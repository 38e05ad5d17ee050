// libfuse's operation table: one trampoline per operation into the
// Filesystem that is the session's userdata. Operations left out answer
// ENOSYS from libfuse, and the kernel then does without them (locks are
// kept locally, copy_file_range falls back to reads and writes).
#include "fuse/filesystem.h"

namespace casfs::fuse {
namespace {

Filesystem* Fs(fuse_req_t req) { return static_cast<Filesystem*>(fuse_req_userdata(req)); }

void OpInit(void* userdata, fuse_conn_info* conn) { static_cast<Filesystem*>(userdata)->Init(conn); }

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) { Fs(req)->Lookup(req, parent, name); }

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req)->Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Filesystem* fs = Fs(req);
  for (size_t i = 0; i < count; ++i) fs->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->GetAttr(req, ino, fi); }

void OpSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  Fs(req)->SetAttr(req, ino, attr, to_set, fi);
}

void OpStatFs(fuse_req_t req, fuse_ino_t ino) { Fs(req)->StatFs(req, ino); }

void OpOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->OpenDir(req, ino, fi); }

void OpReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->ReadDir(req, ino, size, off, fi, false);
}

void OpReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->ReadDir(req, ino, size, off, fi, true);
}

void OpReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->ReleaseDir(req, ino, fi); }

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->Open(req, ino, fi); }

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Fs(req)->Create(req, parent, name, mode, fi);
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->Read(req, ino, size, off, fi);
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->Write(req, ino, buf, size, off, fi);
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->Flush(req, ino, fi); }

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->Release(req, ino, fi); }

void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Fs(req)->Fsync(req, ino, datasync, fi);
}

void OpGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Fs(req)->GetXattr(req, ino, name, size);
}

void OpListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) { Fs(req)->ListXattr(req, ino, size); }

void OpSetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  Fs(req)->SetXattr(req, ino, name, value, size, flags);
}

void OpRemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) { Fs(req)->RemoveXattr(req, ino, name); }

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
              unsigned int flags) {
  Fs(req)->Rename(req, parent, name, newparent, newname, flags);
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) { Fs(req)->Unlink(req, parent, name); }

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) { Fs(req)->Rmdir(req, parent, name); }

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  (void)mode;
  Fs(req)->Mkdir(req, parent, name);
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  (void)rdev;
  Fs(req)->Mknod(req, parent, name, mode);
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Fs(req)->Link(req, ino, newparent, newname);
}

void OpSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  (void)link;
  Fs(req)->Symlink(req, parent, name);
}

fuse_lowlevel_ops MakeOperations() {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetAttr;
  ops.setattr = OpSetAttr;
  ops.statfs = OpStatFs;
  ops.opendir = OpOpenDir;
  ops.readdir = OpReadDir;
  ops.readdirplus = OpReadDirPlus;
  ops.releasedir = OpReleaseDir;
  ops.open = OpOpen;
  ops.create = OpCreate;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.getxattr = OpGetXattr;
  ops.listxattr = OpListXattr;
  ops.setxattr = OpSetXattr;
  ops.removexattr = OpRemoveXattr;
  ops.rename = OpRename;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.mkdir = OpMkdir;
  ops.mknod = OpMknod;
  ops.link = OpLink;
  ops.symlink = OpSymlink;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& Filesystem::Operations() {
  static const fuse_lowlevel_ops ops = MakeOperations();
  return ops;
}

}  // namespace casfs::fuse
