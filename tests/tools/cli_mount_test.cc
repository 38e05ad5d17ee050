// casfs mount, and the CLI and a mount of the same root at the same time:
// what one commits the other sees.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

namespace fs = std::filesystem;

// Unmounts on every way out of a test, so a failing test leaves no mount.
class MountGuard {
 public:
  explicit MountGuard(fs::path mountpoint) : mountpoint_(std::move(mountpoint)) {}
  ~MountGuard() {
    RunOptions options;
    options.timeout = std::chrono::seconds(20);
    if (RunProgram("fusermount3", {"-u", mountpoint_.string()}, options).exit_code != 0) {
      RunProgram("umount", {"-l", mountpoint_.string()}, options);
    }
  }
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;

 private:
  fs::path mountpoint_;
};

bool IsMounted(const fs::path& mountpoint) {
  std::string mounts = ReadFile("/proc/self/mounts");
  return mounts.find(" " + mountpoint.string() + " fuse") != std::string::npos;
}

// Polls for `condition`; the mount contract allows a second of caching,
// the deadline is generous so a loaded CI machine does not fail.
template <typename F>
bool Eventually(F condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

class CliMount : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
#if !CASFS_HAVE_MOUNT
    GTEST_SKIP() << "casfs was built without the FUSE mount (fuse/ has no sources yet)";
#endif
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse is not usable here";
    if (!HaveProgram("fusermount3")) GTEST_SKIP() << "fusermount3 is missing";
    mountpoint_ = dir() / "mnt";
    fs::create_directories(mountpoint_);
  }

  // `casfs mount` returns once the mount answers, leaving a daemon.
  void Mount(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mount"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(mountpoint_.string());
    RunOptions options;
    options.timeout = std::chrono::seconds(30);
    RunResult mounted = Casfs(args, options);
    guard_ = std::make_unique<MountGuard>(mountpoint_);
    ASSERT_EQ(mounted.exit_code, 0) << mounted;
    ASSERT_TRUE(IsMounted(mountpoint_));
  }

  fs::path mnt() const { return mountpoint_; }

 private:
  fs::path mountpoint_;
  std::unique_ptr<MountGuard> guard_;
};

TEST_F(CliMount, MissingMountpointIsNotFound) {
  fs::path missing = dir() / "no-such-folder";
  RunResult result = Casfs({"mount", missing.string()});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err,
            "casfs: mount: mountpoint: stat " + missing.string() + ": No such file or directory: not found\n");
}

TEST_F(CliMount, MalformedOptionIsAUsageError) {
  RunResult result = Casfs({"mount", "-o", "max_threads=many", mnt().string()});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err.rfind("casfs: mount: ", 0), 0u) << result;
  EXPECT_NE(result.err.find("max_threads=many"), std::string::npos) << result;
  EXPECT_FALSE(IsMounted(mnt()));
}

TEST_F(CliMount, UnknownOptionFailsWithoutMounting) {
  RunResult result = Casfs({"mount", "-f", "-o", "no_such_fuse_option", mnt().string()});
  EXPECT_EQ(result.exit_code, 8) << result;
  EXPECT_NE(result.err.find("no_such_fuse_option"), std::string::npos) << result;
  EXPECT_FALSE(IsMounted(mnt()));
}

// In the background (the default) the daemon logs to syslog; a mount that
// fails before it detaches must still say why on the terminal.
TEST_F(CliMount, BackgroundMountFailureIsReportedOnStderr) {
  RunResult result = Casfs({"mount", "-o", "no_such_fuse_option", mnt().string()});
  EXPECT_EQ(result.exit_code, 8) << result;
  EXPECT_NE(result.err.find("casfs mount: bad mount options"), std::string::npos) << result;
  EXPECT_NE(result.err.find("no_such_fuse_option"), std::string::npos) << result;
  EXPECT_FALSE(IsMounted(mnt()));
}

TEST_F(CliMount, WhatTheCliCommitsTheMountShows) {
  ASSERT_NO_FATAL_FAILURE(Mount());
  std::string data = RandomBytes(300000, 7);
  std::string digest = Add(data);
  fs::path blob = mnt() / "blobs/sha256" / digest.substr(7);
  ASSERT_TRUE(Eventually([&] { return fs::exists(blob); })) << blob;
  EXPECT_TRUE(ReadFile(blob) == data);

  ASSERT_EQ(Casfs({"label", digest, "team=storage"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] {
    char value[64] = {};
    ssize_t n = getxattr(blob.c_str(), "user.team", value, sizeof value);
    return n == 7 && std::string(value, 7) == "storage";
  }));

  ASSERT_EQ(Casfs({"rm", digest}).exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return !fs::exists(blob); }));
}

TEST_F(CliMount, WhatTheMountCommitsTheCliShows) {
  ASSERT_NO_FATAL_FAILURE(Mount());
  std::string data = "written through the mount\n";
  std::string digest = Sha256Of(data);
  fs::path ingest = mnt() / "ingest/from-mount";
  WriteFile(ingest, data);
  ASSERT_EQ(::setxattr(ingest.c_str(), "user.origin", "fuse", 4, 0), 0) << std::strerror(errno);
  RunResult active = Casfs({"active", "-q"});
  EXPECT_EQ(active.out, "from-mount\n") << active;

  fs::path blob = mnt() / "blobs/sha256" / digest.substr(7);
  ASSERT_EQ(std::rename(ingest.c_str(), blob.c_str()), 0) << std::strerror(errno);
  RunResult cat = Casfs({"cat", digest});
  ASSERT_EQ(cat.exit_code, 0) << cat;
  EXPECT_EQ(cat.out, data);
  EXPECT_EQ(Casfs({"ls", "-q", "labels.origin==fuse"}).out, digest + "\n");
  EXPECT_EQ(Casfs({"verify"}).exit_code, 0);
}

TEST_F(CliMount, AnIngestOpenInTheMountIsBusyForTheCli) {
  ASSERT_NO_FATAL_FAILURE(Mount());
  fs::path ingest = mnt() / "ingest/held";
  int fd = ::open(ingest.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  RunResult second = Casfs({"ingest", "held", File("f", "other")});
  EXPECT_EQ(second.exit_code, 5) << second;
  EXPECT_EQ(second.err.rfind("casfs: ingest: ref held ", 0), 0u) << second;
  ::close(fd);

  // Closed: the CLI resumes what the mount wrote.
  RunResult resumed = Casfs({"ingest", "held", File("g", "abcdef")});
  ASSERT_EQ(resumed.exit_code, 0) << resumed;
  EXPECT_EQ(resumed.out, Sha256Of("abcdef") + "\n");
  EXPECT_TRUE(Eventually([&] { return fs::exists(mnt() / "blobs/sha256" / Sha256Of("abcdef").substr(7)); }));
}

TEST_F(CliMount, ReadOnlyMountStillShowsCliWrites) {
  Add("a read-only store must exist before it is mounted");
  ASSERT_NO_FATAL_FAILURE(Mount({"-o", "ro"}));
  std::string digest = Add("while read-only");
  fs::path blob = mnt() / "blobs/sha256" / digest.substr(7);
  ASSERT_TRUE(Eventually([&] { return fs::exists(blob); }));
  int fd = ::open((mnt() / "ingest/x").c_str(), O_WRONLY | O_CREAT, 0644);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
}

}  // namespace
}  // namespace casfs::cli_test
