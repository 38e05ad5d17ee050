// Blobs: read-only files whose attributes are the store's.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <thread>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

Timestamp MtimeOf(const struct stat& st) { return Timestamp::FromTimespec(st.st_mtim); }
Timestamp AtimeOf(const struct stat& st) { return Timestamp::FromTimespec(st.st_atim); }

TEST(MountBlobTest, AttributesAreTheBlobsInfo) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string content(100000, 'z');
  std::string hex = AddBlob(*store, content);
  auto info = store->Info(Sha256Of(hex));
  ASSERT_TRUE(info.ok());
  struct stat st {};
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 100000);
  EXPECT_EQ(MtimeOf(st), info->created_at);
  EXPECT_EQ(AtimeOf(st), info->updated_at);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST(MountBlobTest, ReadsTheContentAndNeverTouchesUpdatedAt) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 26);
  std::string hex = AddBlob(*store, content);
  auto before = store->Info(Sha256Of(hex));
  ASSERT_TRUE(before.ok());
  std::string out;
  ASSERT_EQ(Sh("cat " + Q(mount.Blob(hex)), &out), 0);
  EXPECT_EQ(out, content);
  EXPECT_EQ(Sh("sha256sum " + Q(mount.Blob(hex)), &out), 0);
  EXPECT_EQ(out.substr(0, 64), hex);
  // Partial reads at offsets.
  ASSERT_EQ(Sh("dd if=" + Q(mount.Blob(hex)) + " bs=1000 skip=7 count=3 status=none", &out), 0);
  EXPECT_EQ(out, content.substr(7000, 3000));
  auto after = store->Info(Sha256Of(hex));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->updated_at, before->updated_at);
}

TEST(MountBlobTest, EveryChangeOfABlobIsEperm) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "immutable");
  std::string p = mount.Blob(hex).string();
  const char* path = p.c_str();
  EXPECT_ERRNO(::open(path, O_WRONLY), EPERM);
  EXPECT_ERRNO(::open(path, O_RDWR), EPERM);
  EXPECT_ERRNO(::open(path, O_RDONLY | O_TRUNC), EPERM);
  EXPECT_ERRNO(::open(path, O_WRONLY | O_APPEND), EPERM);
  EXPECT_ERRNO(::truncate(path, 0), EPERM);
  EXPECT_ERRNO(::chmod(path, 0644), EPERM);
  EXPECT_ERRNO(::chmod(path, 0444), EPERM);
  EXPECT_ERRNO(::chown(path, 1, 1), EPERM);
  EXPECT_ERRNO(::utimes(path, nullptr), EPERM);
  EXPECT_ERRNO(::link(path, mount.Ingest("l").c_str()), EPERM);
  EXPECT_ERRNO(::link(path, mount.Blob(Sha256Hex("other")).c_str()), EPERM);
  EXPECT_ERRNO(::rename(path, mount.Ingest("back").c_str()), EPERM);
  EXPECT_ERRNO(::rename(path, mount.Blob(Sha256Hex("other")).c_str()), EPERM);
  EXPECT_ERRNO(::rename(path, (mount.mnt() / "x").c_str()), EPERM);
  EXPECT_NE(Sh("echo x >> " + Q(p) + " 2>/dev/null"), 0);
  EXPECT_NE(Sh("touch " + Q(p) + " 2>/dev/null"), 0);
  EXPECT_EQ(ReadAll(p), "immutable");
}

TEST(MountBlobTest, RmDeletesTheBlobAndItsLabels) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "to delete", {{"a", "1"}});
  ASSERT_EQ(Sh("rm " + Q(mount.Blob(hex))), 0);
  EXPECT_TRUE(store->Info(Sha256Of(hex)).status().IsNotFound());
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);
  EXPECT_ERRNO(::unlink(mount.Blob(hex).c_str()), ENOENT);
  // Committed again without labels: the old ones are gone.
  AddBlob(*store, "to delete");
  auto info = store->Info(Sha256Of(hex));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->labels.empty());
}

TEST(MountBlobTest, AnOpenReadHandleOutlivesRm) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string content(200000, 'q');
  std::string hex = AddBlob(*store, content);
  int fd = ::open(mount.Blob(hex).c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(mount.Blob(hex).c_str()), 0);
  std::string got(content.size(), '\0');
  EXPECT_EQ(::pread(fd, got.data(), got.size(), 0), static_cast<ssize_t>(got.size()));
  EXPECT_EQ(got, content);
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 200000);
  ::close(fd);
}

TEST(MountBlobTest, UnknownBlobIsEnoent) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  std::string hex = Sha256Hex("never");
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);
  EXPECT_ERRNO(::open(mount.Blob(hex).c_str(), O_RDONLY), ENOENT);
  EXPECT_ERRNO(::unlink(mount.Blob(hex).c_str()), ENOENT);
}

TEST(MountBlobTest, ChangesByAnotherProcessAreSeenWithinASecond) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = Sha256Hex("later");
  struct stat st {};
  // The absence is looked up (and may be cached) first.
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);
  std::string out;
  ASSERT_EQ(Sh("ls " + Q(mount.mnt() / "blobs/sha256"), &out), 0);
  EXPECT_EQ(out, "");
  AddBlob(*store, "later");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  ASSERT_EQ(Sh("ls " + Q(mount.mnt() / "blobs/sha256"), &out), 0);
  EXPECT_EQ(out, hex + "\n");
  // A label change moves UpdatedAt, seen in st_atime.
  ASSERT_TRUE(store->SetLabel(Sha256Of(hex), "k", "v").ok());
  auto info = store->Info(Sha256Of(hex));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  EXPECT_EQ(AtimeOf(st), info->updated_at);
  // And a delete.
  ASSERT_TRUE(store->Delete(Sha256Of(hex)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);
  ASSERT_EQ(Sh("ls " + Q(mount.mnt() / "blobs/sha256"), &out), 0);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace casfs::fuse::testing
