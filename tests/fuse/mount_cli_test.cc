// The CLI and the mount on one root at once: what one does, the other sees
// (within the contract's 1 s for the mount's caches), and one writer per
// ref holds across both.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "tests/fuse/mount_test_util.h"

#ifndef CASFS_CLI_BINARY
#error "CASFS_CLI_BINARY must name the casfs binary"
#endif

namespace casfs::fuse::testing {
namespace {

// `casfs --root ROOT ARGS...` through the shell; its exit status.
int Cli(const MountFixture& mount, const std::string& args, std::string* out = nullptr) {
  std::string command = CASFS_CLI_BINARY;
  command += " --root ";
  command += Q(mount.root());
  command += " ";
  command += args;
  return Sh(command, out, 60);
}

// The contract's bound, with room for a loaded machine.
void PastTheCacheBound() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

TEST(MountCliTest, WhatTheCliCommitsTheMountShows) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  std::string hex = Sha256Hex("from the cli\n");
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);  // cached absent
  fs::path file = mount.root().parent_path() / "file";
  WriteAll(file, "from the cli\n");
  std::string out;
  ASSERT_EQ(Cli(mount, "add " + Q(file), &out), 0) << out;
  EXPECT_NE(out.find("sha256:" + hex), std::string::npos) << out;
  ASSERT_EQ(Cli(mount, "label sha256:" + hex + " containerd.io/gc.root=now"), 0);
  PastTheCacheBound();
  EXPECT_EQ(ReadAll(mount.Blob(hex)), "from the cli\n");
  EXPECT_EQ(GetXattr(mount.Blob(hex), "user.containerd.io/gc.root"), "now");
  ASSERT_EQ(Sh("ls " + Q(mount.mnt() / "blobs/sha256"), &out), 0);
  EXPECT_EQ(out, hex + "\n");
  ASSERT_EQ(Cli(mount, "rm sha256:" + hex), 0);
  PastTheCacheBound();
  EXPECT_ERRNO(::stat(mount.Blob(hex).c_str(), &st), ENOENT);
}

TEST(MountCliTest, WhatTheMountCommitsTheCliShows) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("via%2Fmount"), "from the mount");
  std::string out;
  ASSERT_EQ(Cli(mount, "active", &out), 0);
  EXPECT_NE(out.find("via/mount"), std::string::npos) << out;
  ASSERT_EQ(SetXattr(mount.Ingest("via%2Fmount"), "user.k", "v"), 0);
  std::string hex = Sha256Hex("from the mount");
  ASSERT_EQ(Sh("mv " + Q(mount.Ingest("via%2Fmount")) + " " + Q(mount.Blob(hex))), 0);
  ASSERT_EQ(Cli(mount, "cat sha256:" + hex, &out), 0);
  EXPECT_EQ(out, "from the mount");
  ASSERT_EQ(Cli(mount, "info sha256:" + hex, &out), 0);
  EXPECT_NE(out.find("k"), std::string::npos) << out;
  ASSERT_EQ(Cli(mount, "ls", &out), 0);
  EXPECT_NE(out.find(hex), std::string::npos) << out;
}

TEST(MountCliTest, OneWriterPerRefAcrossTheCliAndTheMount) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  int fd = ::open(mount.Ingest("shared").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "mount part;", 11), 11);
  // The CLI can neither write nor abort it while the mount's handle counts.
  fs::path more = mount.root().parent_path() / "more";
  WriteAll(more, "mount part;cli part");
  EXPECT_EQ(Cli(mount, "abort shared 2>/dev/null"), 5);
  EXPECT_EQ(Cli(mount, "ingest --no-commit shared " + Q(more) + " 2>/dev/null"), 5);
  ::close(fd);
  // Closed: the CLI resumes from the offset the mount left and commits.
  std::string out;
  ASSERT_EQ(Cli(mount, "ingest shared " + Q(more), &out), 0) << out;
  std::string hex = Sha256Hex("mount part;cli part");
  EXPECT_NE(out.find(hex), std::string::npos) << out;
  PastTheCacheBound();
  EXPECT_EQ(ReadAll(mount.Blob(hex)), "mount part;cli part");
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Ingest("shared").c_str(), &st), ENOENT);
}

TEST(MountCliTest, AnIngestTheCliLeftIsResumedThroughTheMount) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path part = mount.root().parent_path() / "part";
  WriteAll(part, "first half ");
  ASSERT_EQ(Cli(mount, "ingest --no-commit --total 22 left " + Q(part)), 0);
  PastTheCacheBound();
  EXPECT_EQ(GetXattr(mount.Ingest("left"), "user.casfs.offset"), "11");
  EXPECT_EQ(GetXattr(mount.Ingest("left"), "user.casfs.total"), "22");
  ASSERT_EQ(Sh("printf 'second half' >> " + Q(mount.Ingest("left"))), 0);
  std::string hex = Sha256Hex("first half second half");
  ASSERT_EQ(::rename(mount.Ingest("left").c_str(), mount.Blob(hex).c_str()), 0);
  std::string out;
  ASSERT_EQ(Cli(mount, "cat sha256:" + hex, &out), 0);
  EXPECT_EQ(out, "first half second half");
}

}  // namespace
}  // namespace casfs::fuse::testing
