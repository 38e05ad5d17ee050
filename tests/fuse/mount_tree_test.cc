// The tree: fixed folders, names, modes, owners, and what cannot be made.
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <set>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

TEST(MountTreeTest, FixedFoldersExistEvenWhenEmpty) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  EXPECT_EQ(Names(mount.mnt()), (std::set<std::string>{"blobs", "ingest"}));
  EXPECT_EQ(Names(mount.mnt() / "blobs"), (std::set<std::string>{"sha256", "sha384", "sha512"}));
  EXPECT_TRUE(Names(mount.mnt() / "blobs" / "sha256").empty());
  EXPECT_TRUE(Names(mount.mnt() / "ingest").empty());
  std::string out;
  EXPECT_EQ(Sh("ls " + Q(mount.mnt()), &out), 0);
  EXPECT_EQ(out, "blobs\ningest\n");
}

TEST(MountTreeTest, ModesAndOwners) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "blob");
  WriteAll(mount.Ingest("r"), "ingest");
  struct stat st {};
  for (const fs::path& dir : {mount.mnt(), mount.mnt() / "blobs", mount.mnt() / "blobs/sha256",
                              mount.mnt() / "blobs/sha512", mount.mnt() / "ingest"}) {
    ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
    EXPECT_EQ(st.st_mode, S_IFDIR | 0755) << dir;
    EXPECT_EQ(st.st_uid, ::getuid());
    EXPECT_EQ(st.st_gid, ::getgid());
  }
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0444);
  EXPECT_EQ(st.st_uid, ::getuid());
  ASSERT_EQ(::stat(mount.Ingest("r").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0644);
  EXPECT_EQ(st.st_gid, ::getgid());
}

TEST(MountTreeTest, NothingIsCreatedOutsideIngest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  for (const fs::path& path : {mount.mnt() / "x", mount.mnt() / "blobs" / "x", mount.Blob(Sha256Hex("x"))}) {
    EXPECT_ERRNO(::open(path.c_str(), O_CREAT | O_WRONLY, 0644), EPERM);
    EXPECT_ERRNO(::mkdir(path.c_str(), 0755), EPERM);
    EXPECT_ERRNO(::mknod(path.c_str(), S_IFREG | 0644, 0), EPERM);
    EXPECT_ERRNO(::symlink("target", path.c_str()), EPERM);
  }
  EXPECT_ERRNO(::mkdir(mount.Ingest("d").c_str(), 0755), EPERM);
  EXPECT_ERRNO(::symlink("target", mount.Ingest("s").c_str()), EPERM);
  EXPECT_ERRNO(::mkfifo(mount.Ingest("f").c_str(), 0644), EPERM);
  EXPECT_NE(Sh("touch " + Q(mount.mnt() / "x") + " 2>/dev/null"), 0);
}

TEST(MountTreeTest, FixedFoldersCannotBeRemovedOrRenamed) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  for (const char* dir : {"blobs", "ingest", "blobs/sha256", "blobs/sha384", "blobs/sha512"}) {
    fs::path path = mount.mnt() / dir;
    EXPECT_ERRNO(::rmdir(path.c_str()), EPERM);
    EXPECT_ERRNO(::rename(path.c_str(), (mount.mnt() / "other").c_str()), EPERM);
    EXPECT_ERRNO(::chmod(path.c_str(), 0700), EPERM);
    EXPECT_ERRNO(SetXattr(path, "user.x", "y"), EPERM);
  }
  EXPECT_ERRNO(::chmod(mount.mnt().c_str(), 0700), EPERM);
  EXPECT_NE(Sh("rm -rf " + Q(mount.mnt() / "blobs") + " 2>/dev/null"), 0);
  EXPECT_TRUE(fs::is_directory(mount.mnt() / "blobs" / "sha256"));
}

TEST(MountTreeTest, OnlyValidDigestsExistUnderBlobs) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "content");
  struct stat st {};
  EXPECT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& name : {upper, hex.substr(1), hex + "0", std::string("notahash"), std::string(96, 'a')}) {
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(::stat(mount.Blob(name).c_str(), &st), ENOENT);
    }
  }
  // The same hex under another algorithm is another (absent) blob.
  EXPECT_ERRNO(::stat(mount.Blob(hex, "sha512").c_str(), &st), ENOENT);
  EXPECT_ERRNO(::stat((mount.mnt() / "blobs" / "md5").c_str(), &st), ENOENT);
  EXPECT_ERRNO(::stat((mount.mnt() / "nothing").c_str(), &st), ENOENT);
}

TEST(MountTreeTest, IngestNamesAreEncodedRefs) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("default%2F17%2Flayer"), "a");
  WriteAll(mount.Ingest("%2E"), "b");
  WriteAll(mount.Ingest("%2E%2E"), "c");
  WriteAll(mount.Ingest("100%25"), "d");
  EXPECT_EQ(GetXattr(mount.Ingest("default%2F17%2Flayer"), "user.casfs.ref"), "default/17/layer");
  EXPECT_EQ(GetXattr(mount.Ingest("%2E"), "user.casfs.ref"), ".");
  EXPECT_EQ(GetXattr(mount.Ingest("%2E%2E"), "user.casfs.ref"), "..");
  EXPECT_EQ(GetXattr(mount.Ingest("100%25"), "user.casfs.ref"), "100%");
  EXPECT_EQ(Names(mount.mnt() / "ingest"),
            (std::set<std::string>{"default%2F17%2Flayer", "%2E", "%2E%2E", "100%25"}));
  // The engine sees the decoded refs.
  auto store = OpenStore(mount);
  EXPECT_TRUE(store->GetStatus("default/17/layer").ok());
  EXPECT_TRUE(store->GetStatus("..").ok());
}

TEST(MountTreeTest, BadRefEncodingIsEinval) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  struct stat st {};
  for (const char* name : {"%2f", "%41", "x%2E", "%2Ex", "a%", "%%"}) {
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(::stat(mount.Ingest(name).c_str(), &st), EINVAL);
    }
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(::open(mount.Ingest(name).c_str(), O_CREAT | O_WRONLY, 0644), EINVAL);
    }
  }
  EXPECT_ERRNO(::open(mount.Ingest(std::string(256, 'x')).c_str(), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
  EXPECT_TRUE(Names(mount.mnt() / "ingest").empty());
}

TEST(MountTreeTest, InodeNumbersAreStable) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "stable");
  WriteAll(mount.Ingest("r"), "x");
  struct stat blob {}, ingest {}, again {};
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &blob), 0);
  ASSERT_EQ(::stat(mount.Ingest("r").c_str(), &ingest), 0);
  EXPECT_NE(blob.st_ino, ingest.st_ino);
  // Make the kernel forget its inodes, then look them up again.
  Sh("sync; echo 2 > /proc/sys/vm/drop_caches");
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, blob.st_ino);
  ASSERT_EQ(::stat(mount.Ingest("r").c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, ingest.st_ino);
  // readdir reports the same numbers.
  std::string out;
  ASSERT_EQ(Sh("ls -i " + Q(mount.mnt() / "blobs/sha256"), &out), 0);
  EXPECT_EQ(out, std::to_string(blob.st_ino) + " " + hex + "\n");
}

TEST(MountTreeTest, StatfsReportsTheBackingFilesystem) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  struct statvfs mounted {}, backing {};
  ASSERT_EQ(::statvfs(mount.mnt().c_str(), &mounted), 0);
  ASSERT_EQ(::statvfs(mount.root().c_str(), &backing), 0);
  EXPECT_EQ(mounted.f_blocks, backing.f_blocks);
  EXPECT_EQ(mounted.f_bsize, backing.f_bsize);
  EXPECT_EQ(mounted.f_namemax, 255u);
}

}  // namespace
}  // namespace casfs::fuse::testing
