#include "core/posix.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/core/engine_test_util.h"

namespace casfs::posix {
namespace {

using casfs::testing::Exists;
using casfs::testing::ReadAll;
using casfs::testing::TempDir;
using casfs::testing::WriteAll;

TEST(PosixTest, OpenMissingIsNotFoundNamingThePath) {
  TempDir dir;
  auto fd = Open(dir.path() / "nope", O_RDONLY);
  ASSERT_FALSE(fd.ok());
  EXPECT_TRUE(fd.status().IsNotFound());
  EXPECT_NE(fd.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(fd.status().sys_errno(), ENOENT);
}

TEST(PosixTest, OpenSetsCloexec) {
  TempDir dir;
  WriteAll(dir.path() / "f", "x");
  auto fd = Open(dir.path() / "f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
}

TEST(PosixTest, UniqueFdClosesAndMoves) {
  TempDir dir;
  WriteAll(dir.path() / "f", "x");
  int raw = -1;
  {
    auto fd = Open(dir.path() / "f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    UniqueFd moved = std::move(*fd);
    EXPECT_FALSE(fd->valid());
    raw = moved.get();
    EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

TEST(PosixTest, PreadFullStopsAtEndAndPwriteFullWritesAll) {
  TempDir dir;
  auto fd = Open(dir.path() / "f", O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(fd.ok());
  const std::string data = casfs::testing::Pattern(300000);
  CASFS_ASSERT_OK(PwriteFull(fd->get(), data.data(), data.size(), 10));
  std::string back(400000, 'x');
  auto n = PreadFull(fd->get(), back.data(), back.size(), 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, data.size() + 10);
  EXPECT_EQ(back.substr(0, 10), std::string(10, '\0'));  // a hole reads as zeros
  EXPECT_EQ(back.substr(10, data.size()), data);
  auto past = PreadFull(fd->get(), back.data(), 10, 1 << 30);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, 0u);
}

TEST(PosixTest, ReadFileAndWriteFileInPlace) {
  TempDir dir;
  CASFS_ASSERT_OK(WriteFileInPlace(dir.path() / "ref", "some/ref"));
  auto text = ReadFile(dir.path() / "ref");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "some/ref");
  CASFS_ASSERT_OK(WriteFileInPlace(dir.path() / "ref", "x"));
  EXPECT_EQ(ReadAll(dir.path() / "ref"), "x");  // truncated, no newline
  EXPECT_TRUE(ReadFile(dir.path() / "missing").status().IsNotFound());
}

TEST(PosixTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  TempDir dir;
  for (bool durable : {false, true}) {
    CASFS_ASSERT_OK(WriteFileAtomic(dir.path() / "updatedat", "one", durable));
    CASFS_ASSERT_OK(WriteFileAtomic(dir.path() / "updatedat", "two", durable));
    EXPECT_EQ(ReadAll(dir.path() / "updatedat"), "two");
    EXPECT_FALSE(Exists(dir.path() / "updatedat.tmp"));
  }
}

TEST(PosixTest, FileModesFollowTheUmask) {
  TempDir dir;
  mode_t old = ::umask(022);
  CASFS_EXPECT_OK(WriteFileInPlace(dir.path() / "a", "x"));
  CASFS_EXPECT_OK(WriteFileAtomic(dir.path() / "b", "x", false));
  CASFS_EXPECT_OK(MakeDirs(dir.path() / "c" / "d"));
  ::umask(old);
  EXPECT_EQ(Stat(dir.path() / "a")->st_mode & 07777, 0644u);
  EXPECT_EQ(Stat(dir.path() / "b")->st_mode & 07777, 0644u);
  EXPECT_EQ(Stat(dir.path() / "c" / "d")->st_mode & 07777, 0755u);
}

TEST(PosixTest, MakeDirsMakeDirRemoveAll) {
  TempDir dir;
  CASFS_ASSERT_OK(MakeDirs(dir.path() / "a" / "b" / "c"));
  CASFS_ASSERT_OK(MakeDirs(dir.path() / "a" / "b" / "c"));  // existing is fine
  EXPECT_TRUE(MakeDir(dir.path() / "a").IsAlreadyExists());
  CASFS_ASSERT_OK(MakeDir(dir.path() / "e"));
  WriteAll(dir.path() / "a" / "b" / "c" / "f", "x");
  WriteAll(dir.path() / "file", "x");
  EXPECT_FALSE(MakeDirs(dir.path() / "file" / "sub").ok());
  CASFS_ASSERT_OK(RemoveAll(dir.path() / "a"));
  EXPECT_FALSE(Exists(dir.path() / "a"));
  CASFS_ASSERT_OK(RemoveAll(dir.path() / "a"));  // missing is success
}

TEST(PosixTest, UnlinkMissingOk) {
  TempDir dir;
  EXPECT_TRUE(Unlink(dir.path() / "x", false).IsNotFound());
  CASFS_EXPECT_OK(Unlink(dir.path() / "x", true));
}

TEST(PosixTest, RenameNoReplaceRefusesAnExistingTarget) {
  TempDir dir;
  WriteAll(dir.path() / "a", "a");
  WriteAll(dir.path() / "b", "b");
  Status status = RenameNoReplace(dir.path() / "a", dir.path() / "b");
  EXPECT_TRUE(status.IsAlreadyExists()) << status.ToString();
  EXPECT_EQ(ReadAll(dir.path() / "b"), "b");
  EXPECT_TRUE(Exists(dir.path() / "a"));
  CASFS_ASSERT_OK(RenameNoReplace(dir.path() / "a", dir.path() / "c"));
  EXPECT_FALSE(Exists(dir.path() / "a"));
  EXPECT_EQ(ReadAll(dir.path() / "c"), "a");
  CASFS_ASSERT_OK(Rename(dir.path() / "c", dir.path() / "b"));  // plain rename replaces
  EXPECT_EQ(ReadAll(dir.path() / "b"), "a");
}

TEST(PosixTest, ListDir) {
  TempDir dir;
  WriteAll(dir.path() / "x", "");
  CASFS_ASSERT_OK(MakeDir(dir.path() / "y"));
  auto names = ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(ListDir(dir.path() / "none").status().IsNotFound());
}

TEST(PosixTest, XattrsRoundTripAndAbsence) {
  TempDir dir;
  WriteAll(dir.path() / "f", "x");
  auto fd = Open(dir.path() / "f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  auto absent = GetXattr(fd->get(), "user.test");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->has_value());
  CASFS_ASSERT_OK(SetXattr(fd->get(), "user.test", std::string("a\0b", 3)));
  auto value = GetXattr(fd->get(), "user.test");
  ASSERT_TRUE(value.ok() && value->has_value());
  EXPECT_EQ(**value, std::string("a\0b", 3));
  auto by_path = GetXattrAt(dir.path() / "f", "user.test");
  ASSERT_TRUE(by_path.ok() && by_path->has_value());
  EXPECT_EQ(**by_path, std::string("a\0b", 3));
  CASFS_ASSERT_OK(RemoveXattr(fd->get(), "user.test"));
  CASFS_ASSERT_OK(RemoveXattr(fd->get(), "user.test"));  // absent is success
  EXPECT_FALSE(GetXattr(fd->get(), "user.test")->has_value());
}

TEST(PosixTest, OversizedXattrKeepsItsErrno) {
  TempDir dir;
  WriteAll(dir.path() / "f", "x");
  auto fd = Open(dir.path() / "f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  Status status = SetXattr(fd->get(), "user.big", std::string(100000, 'v'));
  ASSERT_FALSE(status.ok());
  ASSERT_TRUE(status.sys_errno().has_value());
  EXPECT_TRUE(*status.sys_errno() == E2BIG || *status.sys_errno() == ENOSPC ||
              *status.sys_errno() == ERANGE)
      << status.ToString();
}

TEST(PosixTest, SetTimesAndFchmod) {
  TempDir dir;
  WriteAll(dir.path() / "f", "x");
  auto fd = Open(dir.path() / "f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  struct timespec a {1000, 5};
  struct timespec m {2000, 7};
  CASFS_ASSERT_OK(SetTimes(fd->get(), a, m));
  CASFS_ASSERT_OK(Fchmod(fd->get(), 0444));
  auto st = Fstat(fd->get());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_atim.tv_sec, 1000);
  EXPECT_EQ(st->st_atim.tv_nsec, 5);
  EXPECT_EQ(st->st_mtim.tv_sec, 2000);
  EXPECT_EQ(st->st_mtim.tv_nsec, 7);
  EXPECT_EQ(st->st_mode & 07777, 0444u);
}

TEST(PosixTest, ReadNoAtimeDoesNotMoveAtime) {
  TempDir dir;
  WriteAll(dir.path() / "f", "hello");
  {
    auto fd = Open(dir.path() / "f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    CASFS_ASSERT_OK(SetTimes(fd->get(), {1000, 0}, {1000, 0}));  // atime <= mtime: relatime would update
  }
  auto fd = OpenForReadNoAtime(dir.path() / "f");
  ASSERT_TRUE(fd.ok());
  char buf[5];
  ASSERT_EQ(*PreadFull(fd->get(), buf, 5, 0), 5u);
  EXPECT_EQ(Stat(dir.path() / "f")->st_atim.tv_sec, 1000);
}

TEST(PosixTest, FlockNonBlockingIsUnavailable) {
  TempDir dir;
  auto a = OpenDirectory(dir.path());
  auto b = OpenDirectory(dir.path());
  ASSERT_TRUE(a.ok() && b.ok());
  CASFS_ASSERT_OK(Flock(a->get(), LOCK_EX | LOCK_NB));
  Status busy = Flock(b->get(), LOCK_EX | LOCK_NB);
  EXPECT_TRUE(busy.Is(ErrorKind::kUnavailable)) << busy.ToString();
  a->Reset();
  CASFS_EXPECT_OK(Flock(b->get(), LOCK_EX | LOCK_NB));
}

TEST(PosixTest, FsyncAndTruncate) {
  TempDir dir;
  auto fd = Open(dir.path() / "f", O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(fd.ok());
  CASFS_ASSERT_OK(PwriteFull(fd->get(), "hello", 5, 0));
  CASFS_ASSERT_OK(Fsync(fd->get()));
  CASFS_ASSERT_OK(FsyncPath(dir.path()));
  CASFS_ASSERT_OK(FsyncPath(dir.path() / "f"));
  CASFS_ASSERT_OK(Ftruncate(fd->get(), 2));
  EXPECT_EQ(ReadAll(dir.path() / "f"), "he");
  EXPECT_TRUE(FsyncPath(dir.path() / "none").IsNotFound());
}

TEST(PosixTest, BirthTimeIsNotInTheFuture) {
  TempDir dir;
  auto fd = Open(dir.path() / "f", O_RDWR | O_CREAT, 0644);
  ASSERT_TRUE(fd.ok());
  auto born = BirthTime(fd->get());
  ASSERT_TRUE(born.ok());
  if (!born->has_value()) GTEST_SKIP() << "no birth time on this filesystem";
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  EXPECT_LE((*born)->tv_sec, now.tv_sec);
  EXPECT_GT((*born)->tv_sec, now.tv_sec - 60);
}

}  // namespace
}  // namespace casfs::posix
