// Mounting: -o ro, unmount by fusermount3 -u and by signals, background
// mode, allow_other, bad options.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

TEST(MountOptionsTest, ReadOnlyMountRefusesEveryChangeWithErofs) {
  fs::path root;
  std::string hex;
  {
    MountFixture rw;
    ASSERT_MOUNTED(rw);
    auto store = OpenStore(rw);
    hex = AddBlob(*store, "ro blob", {{"k", "v"}});
    WriteAll(rw.Ingest("ing"), "ingest");
    root = rw.root();
    EXPECT_EQ(rw.Unmount(), 0);
    MountConfig config;
    config.shared_root = root;
    config.read_only = true;
    MountFixture mount(config);
    ASSERT_MOUNTED(mount);
    // Reading works.
    EXPECT_EQ(ReadAll(mount.Blob(hex)), "ro blob");
    EXPECT_EQ(ReadAll(mount.Ingest("ing")), "ingest");
    EXPECT_EQ(GetXattr(mount.Blob(hex), "user.k"), "v");
    EXPECT_EQ(GetXattr(mount.Ingest("ing"), "user.casfs.digest"), "sha256:" + Sha256Hex("ingest"));
    // Nothing can be written, committed, deleted or labelled.
    EXPECT_ERRNO(::open(mount.Ingest("new").c_str(), O_CREAT | O_WRONLY, 0644), EROFS);
    EXPECT_ERRNO(::open(mount.Ingest("ing").c_str(), O_WRONLY), EROFS);
    EXPECT_ERRNO(::open(mount.Blob(hex).c_str(), O_WRONLY), EROFS);
    EXPECT_ERRNO(::truncate(mount.Ingest("ing").c_str(), 0), EROFS);
    EXPECT_ERRNO(::rename(mount.Ingest("ing").c_str(), mount.Blob(Sha256Hex("ingest")).c_str()), EROFS);
    EXPECT_ERRNO(::unlink(mount.Blob(hex).c_str()), EROFS);
    EXPECT_ERRNO(::unlink(mount.Ingest("ing").c_str()), EROFS);
    EXPECT_ERRNO(SetXattr(mount.Blob(hex), "user.k", "w"), EROFS);
    EXPECT_ERRNO(::removexattr(mount.Blob(hex).c_str(), "user.k"), EROFS);
    EXPECT_ERRNO(SetXattr(mount.Ingest("ing"), "user.casfs.total", "6"), EROFS);
    EXPECT_ERRNO(::mkdir((mount.mnt() / "d").c_str(), 0755), EROFS);
    EXPECT_NE(Sh("cp /etc/hostname " + Q(mount.Ingest("cp")) + " 2>/dev/null"), 0);
    EXPECT_EQ(mount.Unmount(), 0);
  }
}

TEST(MountOptionsTest, FusermountUnmountsAndTheDaemonExitsZero) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("x"), "x");
  EXPECT_EQ(mount.Unmount(), 0);
  EXPECT_TRUE(WaitMounted(mount.mnt(), false, 1000));
}

TEST(MountOptionsTest, SigintAndSigtermUnmountCleanly) {
  for (int signal : {SIGINT, SIGTERM}) {
    MountFixture mount;
    ASSERT_MOUNTED(mount);
    WriteAll(mount.Ingest("x"), "x");
    EXPECT_EQ(mount.SignalDaemon(signal), 0) << strsignal(signal);
    EXPECT_TRUE(WaitMounted(mount.mnt(), false, 1000)) << strsignal(signal);
    // The ingest is intact in the store.
    auto store = LocalStore::Open(mount.root());
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->GetStatus("x")->offset, 1);
  }
}

TEST(MountOptionsTest, BackgroundModeReturnsOnceTheMountWorks) {
  char tmpl[] = "/tmp/casfs-bg-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path dir = tmpl;
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "mnt");
  std::string cmd = std::string(CASFS_MOUNT_BINARY) + " " + Q(dir / "root") + " " + Q(dir / "mnt") +
                    " --log-file " + Q(dir / "log");
  int status = Sh(cmd, nullptr, 20);
  EXPECT_EQ(status, 0);
  // No waiting: the mount answers as soon as the command has returned.
  struct stat mnt {}, parent {};
  ASSERT_EQ(::stat((dir / "mnt").c_str(), &mnt), 0);
  ASSERT_EQ(::stat(dir.c_str(), &parent), 0);
  EXPECT_NE(mnt.st_dev, parent.st_dev);
  WriteAll(dir / "mnt/ingest/bg", "background");
  EXPECT_EQ(ReadAll(dir / "mnt/ingest/bg"), "background");
  // The daemon's writer of a closed handle is let go (within the engine's
  // wait) also after the fork into the background.
  {
    auto store = LocalStore::Open(dir / "root");
    ASSERT_TRUE(store.ok());
    LocalWriterOptions options;
    options.ref = "bg";
    options.lock_wait = std::chrono::milliseconds(3000);
    auto writer = (*store)->OpenWriter(options);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (writer.ok()) {
      EXPECT_TRUE((*writer)->Close().ok());
    }
  }
  EXPECT_EQ(Sh("fusermount3 -u " + Q(dir / "mnt")), 0);
  EXPECT_TRUE(WaitMounted(dir / "mnt", false, 5000));
  if (!WaitMounted(dir / "mnt", false, 0)) Sh("fusermount3 -uz " + Q(dir / "mnt"));
  // The daemon has gone: nothing holds the log file open any more.
  std::string out;
  for (int i = 0; i < 100 && Sh("fuser " + Q(dir / "log") + " 2>/dev/null", &out) == 0; ++i) {
    ::usleep(50000);
  }
  EXPECT_EQ(out, "");
  EXPECT_NE(ReadAll(dir / "log").find("unmounted"), std::string::npos);
  fs::remove_all(dir);
}

TEST(MountOptionsTest, AllowOtherIsPassedToTheKernel) {
  MountConfig config;
  config.extra_args = {"-o", "allow_other"};
  MountFixture mount(config);
  ASSERT_MOUNTED(mount);
  std::string mounts = ReadAll("/proc/self/mounts");
  size_t at = mounts.find(mount.mnt().string() + " fuse.casfs");
  ASSERT_NE(at, std::string::npos) << mounts;
  std::string line = mounts.substr(at, mounts.find('\n', at) - at);
  EXPECT_NE(line.find("allow_other"), std::string::npos) << line;
  EXPECT_NE(line.find("default_permissions"), std::string::npos) << line;
}

TEST(MountOptionsTest, UnknownOptionFailsWithoutMounting) {
  char tmpl[] = "/tmp/casfs-badopt-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path dir = tmpl;
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "mnt");
  std::string cmd = std::string(CASFS_MOUNT_BINARY) + " " + Q(dir / "root") + " " + Q(dir / "mnt") +
                    " -f -o no_such_option 2>/dev/null";
  EXPECT_EQ(Sh(cmd, nullptr, 20), 1);
  EXPECT_TRUE(WaitMounted(dir / "mnt", false, 0));
  fs::remove_all(dir);
}

TEST(MountOptionsTest, MultiThreadedReadsAndWritesAtOnce) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  // Eight ingests written and committed in parallel shells.
  std::string script;
  for (int i = 0; i < 8; ++i) {
    std::string f = Q(mount.Ingest("p" + std::to_string(i)));
    script += "( head -c 3000000 /dev/urandom > " + f + " && h=$(sha256sum < " + f +
              " | cut -c1-64) && mv " + f + " " + Q(mount.mnt() / "blobs/sha256") + "/$h ) & ";
  }
  script += "wait";
  ASSERT_EQ(Sh(script, nullptr, 120), 0);
  std::string out;
  ASSERT_EQ(Sh("ls " + Q(mount.mnt() / "blobs/sha256") + " | wc -l", &out), 0);
  EXPECT_EQ(out, "8\n");
  ASSERT_EQ(Sh("cd " + Q(mount.mnt() / "blobs/sha256") + " && for f in *; do echo \"$f  $f\"; done | "
               "sed 's/  / /' > /dev/null && for f in *; do [ $(sha256sum < $f | cut -c1-64) = $f ] || exit 1; done"),
            0);
  EXPECT_EQ(Sh("ls " + Q(mount.mnt() / "ingest") + " | wc -l", &out), 0);
  EXPECT_EQ(out, "0\n");
}

}  // namespace
}  // namespace casfs::fuse::testing
