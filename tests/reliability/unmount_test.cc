// Unmount with open handles, fusermount3 -u (and -uz) during writes,
// SIGTERM/SIGINT during writes: nothing hangs (every step is bounded), the
// daemon exits 0, committed blobs are intact, and an ingest being written
// keeps exactly what was acknowledged and resumes after a remount.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/reliability/support/casfs.h"
#include "tests/reliability/support/files.h"
#include "tests/reliability/support/process.h"

namespace casfs::reltest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class Unmount : public ::testing::Test {
 protected:
  void SetUp() override {
    CASFS_REQUIRE_FUSE();
    committed_ = RandomBytes(2u << 20, 21);
    committed_hex_ = Sha256Hex(committed_);
    source_ = RandomBytes(6u << 20, 22);
    hex_ = Sha256Hex(source_);
    StartMount();
    // A committed blob that every scenario must keep.
    ASSERT_TRUE(WriteFile(*mount_ / "ingest/committed", committed_));
    ASSERT_EQ(rename((*mount_ / "ingest/committed").c_str(), (*mount_ / "blobs/sha256" / committed_hex_).c_str()),
              0)
        << ErrnoName(errno);
  }

  void StartMount() {
    std::string error;
    mount_ = Mount::Start(root_, dir_ / ("mnt" + std::to_string(mounts_++)), &error);
    ASSERT_TRUE(mount_) << error;
  }

  // After the daemon is gone: the committed blob is intact, the ingest
  // `ref` holds exactly `expect` bytes of the source, and a remount
  // resumes and commits it.
  void CheckAndFinish(const std::string& ref, int64_t expect) {
    BlobAudit audit = AuditBlobs(root_);
    EXPECT_TRUE(audit.bad.empty()) << (audit.bad.empty() ? "" : audit.bad[0]);
    EXPECT_EQ(audit.names, std::vector<std::string>{"sha256:" + committed_hex_}) << "a committed blob was lost";
    auto data = ReadFile(IngestData(root_, ref));
    ASSERT_TRUE(data) << "the ingest was lost";
    EXPECT_EQ(static_cast<int64_t>(data->size()), expect) << "acknowledged bytes were lost";
    EXPECT_TRUE(*data == source_.substr(0, data->size())) << "the ingest is not a prefix of the source";
    StartMount();
    std::string rest = source_.substr(data->size());
    int fd = open((*mount_ / "ingest" / ref).c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0) << ErrnoName(errno);
    ASSERT_EQ(write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
    ASSERT_EQ(close(fd), 0);
    ASSERT_EQ(rename((*mount_ / "ingest" / ref).c_str(), (*mount_ / "blobs/sha256" / hex_).c_str()), 0)
        << ErrnoName(errno);
    EXPECT_EQ(mount_->Unmount(), 0) << mount_->Log();
    EXPECT_EQ(AuditBlobs(root_).names.size(), 2u);
  }

  // A cp that copies from a pipe the test feeds, into ingest/<ref>.
  Process StartFedCp(const std::string& ref) {
    ProcessOptions o;
    o.stdin_pipe = true;
    return Process::Spawn({"cp", "/dev/stdin", (*mount_ / "ingest" / ref).string()}, o);
  }
  void Feed(Process& cp, const std::string& ref, int64_t from, int64_t to) {
    ASSERT_TRUE(cp.WriteStdin(source_.data() + from, static_cast<size_t>(to - from))) << cp.Describe();
    ASSERT_TRUE(WaitUntil([&] { return FileSize(IngestData(root_, ref)) == to; }, seconds(60)))
        << "the ingest did not reach " << to << " bytes";
  }

  static void Figure(const std::string& what) {
    ReportVerdict("unmount (" + what + ")", "no hang, daemon exit 0, nothing lost");
  }

  TempDir dir_{"casfs-unmount"};
  fs::path root_ = dir_ / "root";
  std::unique_ptr<Mount> mount_;
  int mounts_ = 0;
  std::string committed_, committed_hex_, source_, hex_;
};

// fusermount3 -u while a blob is open for reading and an ingest for
// writing: refused (busy) or done, but answered at once; the handles keep
// working; after they close the unmount succeeds and the daemon exits 0.
TEST_F(Unmount, WithOpenHandles) {
  int rfd = open((*mount_ / "blobs/sha256" / committed_hex_).c_str(), O_RDONLY);
  ASSERT_GE(rfd, 0) << ErrnoName(errno);
  int wfd = open((*mount_ / "ingest/open").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(wfd, 0) << ErrnoName(errno);
  ASSERT_EQ(write(wfd, source_.data(), 1 << 20), 1 << 20);

  std::string out;
  bool unmounted = mount_->TryUnmount(&out);
  std::printf("  fusermount3 -u with 2 open handles: %s\n", unmounted ? "unmounted" : out.c_str());
  if (!unmounted) {
    // Still mounted and serving: the open handles work.
    std::string buf(4096, '\0');
    EXPECT_EQ(pread(rfd, buf.data(), buf.size(), 0), 4096);
    EXPECT_EQ(buf, committed_.substr(0, 4096));
    EXPECT_EQ(write(wfd, source_.data() + (1 << 20), 1 << 20), 1 << 20);
  }
  close(rfd);
  EXPECT_EQ(close(wfd), 0);
  int64_t expect = unmounted ? (1 << 20) : (2 << 20);
  EXPECT_EQ(mount_->Unmount(), 0) << mount_->Log();
  CheckAndFinish("open", expect);
  Figure("fusermount3 -u with open read and write handles");
}

// fusermount3 -uz (lazy) while handles are open: the mount leaves the
// namespace at once, the handles keep working, and the daemon exits 0
// when the last one closes.
TEST_F(Unmount, LazyWithOpenHandles) {
  int rfd = open((*mount_ / "blobs/sha256" / committed_hex_).c_str(), O_RDONLY);
  ASSERT_GE(rfd, 0);
  int wfd = open((*mount_ / "ingest/lazy").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(wfd, 0);
  ASSERT_EQ(write(wfd, source_.data(), 1 << 20), 1 << 20);
  RunResult lazy = RunCommand({"fusermount3", "-uz", mount_->mountpoint().string()}, seconds(20));
  ASSERT_TRUE(lazy.ok()) << lazy.description;
  EXPECT_FALSE(mount_->mounted());
  std::string buf(committed_.size(), '\0');
  EXPECT_EQ(pread(rfd, buf.data(), buf.size(), 0), static_cast<ssize_t>(buf.size()));
  EXPECT_EQ(buf, committed_) << "a read handle stopped working after the lazy unmount";
  EXPECT_EQ(write(wfd, source_.data() + (1 << 20), 1 << 20), 1 << 20) << ErrnoName(errno);
  EXPECT_TRUE(mount_->DaemonRunning()) << "the daemon left while handles were open";
  close(rfd);
  EXPECT_EQ(close(wfd), 0);
  EXPECT_TRUE(mount_->WaitDaemon(seconds(30))) << "the daemon did not exit after the last handle closed";
  EXPECT_EQ(mount_->daemon().exit_code(), 0) << mount_->daemon().Describe();
  CheckAndFinish("lazy", 2 << 20);
  Figure("fusermount3 -uz with open handles");
}

// fusermount3 -u while cp is writing: answered at once (busy); then a lazy
// unmount; cp finishes its file through its open descriptor.
TEST_F(Unmount, DuringWrites) {
  Process cp = StartFedCp("during");
  Feed(cp, "during", 0, 2 << 20);
  std::string out;
  bool unmounted = mount_->TryUnmount(&out);
  EXPECT_FALSE(unmounted) << "fusermount3 -u succeeded while cp had the file open";
  ASSERT_TRUE(RunCommand({"fusermount3", "-uz", mount_->mountpoint().string()}, seconds(20)).ok());
  Feed(cp, "during", 2 << 20, 4 << 20);
  cp.CloseStdin();
  ASSERT_TRUE(cp.Wait(seconds(30))) << "cp hung after the lazy unmount";
  EXPECT_EQ(cp.exit_code(), 0) << cp.Describe();
  EXPECT_TRUE(mount_->WaitDaemon(seconds(30))) << "the daemon did not exit after cp closed";
  EXPECT_EQ(mount_->daemon().exit_code(), 0) << mount_->daemon().Describe();
  CheckAndFinish("during", 4 << 20);
  Figure("fusermount3 -u, then -uz, during cp");
}

// SIGTERM, SIGINT and SIGHUP to the daemon while cp writes: it unmounts
// and exits 0; cp fails; nothing acknowledged is lost.
TEST_F(Unmount, SigtermDuringWrites) {
  Process cp = StartFedCp("sigterm");
  Feed(cp, "sigterm", 0, 3 << 20);
  mount_->KillDaemon(SIGTERM);
  ASSERT_TRUE(mount_->WaitDaemon(seconds(30))) << "the daemon hung on SIGTERM with a write handle open";
  EXPECT_EQ(mount_->daemon().exit_code(), 0) << mount_->daemon().Describe();
  cp.CloseStdin();
  ASSERT_TRUE(cp.Wait(seconds(30))) << "cp hung after the daemon left";
  EXPECT_FALSE(mount_->mounted());
  CheckAndFinish("sigterm", 3 << 20);
  Figure("SIGTERM during cp");
}

TEST_F(Unmount, SigintAndSighupWhileIdle) {
  for (int sig : {SIGINT, SIGHUP}) {
    mount_->KillDaemon(sig);
    ASSERT_TRUE(mount_->WaitDaemon(seconds(30))) << "the daemon hung on signal " << sig;
    EXPECT_EQ(mount_->daemon().exit_code(), 0) << mount_->daemon().Describe();
    EXPECT_FALSE(mount_->mounted());
    StartMount();
    EXPECT_TRUE(fs::exists(*mount_ / "blobs/sha256" / committed_hex_));
  }
  EXPECT_EQ(mount_->Unmount(), 0);
  EXPECT_EQ(AuditBlobs(root_).names, std::vector<std::string>{"sha256:" + committed_hex_});
  Figure("SIGINT and SIGHUP");
}

// Found while writing the stale-state tests: a daemon that served a few
// readdirs sometimes dies at unmount ("tcache_thread_shutdown(): unaligned
// tcache chunk detected", SIGABRT, or SIGSEGV) instead of exiting 0: heap
// corruption as the session's worker threads end. 20 quick
// mount/list/unmount cycles; every daemon must exit 0.
TEST_F(Unmount, DaemonExitsZeroAfterListingAndUnmount) {
  EXPECT_EQ(mount_->Unmount(), 0) << mount_->daemon().Describe();
  int bad = 0;
  const int kCycles = LongMode() ? 200 : 20;
  for (int i = 0; i < kCycles; ++i) {
    StartMount();
    std::error_code ec;
    for (const char* sub : {"ingest", "blobs/sha256"}) {
      for (const auto& e : fs::directory_iterator(*mount_ / sub, ec)) (void)e;
    }
    int code = mount_->Unmount();
    if (code != 0) {
      ++bad;
      ADD_FAILURE() << "cycle " << i << ": " << mount_->daemon().Describe();
    }
  }
  ReportFigure("unmount (mount, list, unmount cycles)",
               std::to_string(kCycles) + " cycles, " + std::to_string(bad) + " daemons did not exit 0");
}

}  // namespace
}  // namespace casfs::reltest
