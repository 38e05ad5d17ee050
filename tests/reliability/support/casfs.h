// The casfs binary as the reliability tests drive it: the CLI on a root,
// and a mount daemon that a test can start, kill -9, SIGTERM and unmount.
#pragma once

#include <csignal>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/reliability/support/process.h"

namespace casfs::reltest {

namespace fs = std::filesystem;

// The binary under test: $CASFS_BIN if set, else the one this build made
// (build-*/tools/casfs). Empty when there is none yet.
std::string CasfsBinary();

// Skips the current test when the binary is missing (during bring-up) and
// when FUSE is not usable here.
#define CASFS_REQUIRE_BINARY()                                                  \
  do {                                                                          \
    if (::casfs::reltest::CasfsBinary().empty())                                \
      GTEST_SKIP() << "no casfs binary in this build (tools/ not built yet)";   \
  } while (0)
#define CASFS_REQUIRE_FUSE()                                                    \
  do {                                                                          \
    CASFS_REQUIRE_BINARY();                                                     \
    if (!::casfs::reltest::FuseUsable())                                        \
      GTEST_SKIP() << "FUSE is not usable here (/dev/fuse or fusermount3 missing)"; \
  } while (0)
#define CASFS_REQUIRE_ROOT()                                                    \
  do {                                                                          \
    if (!::casfs::reltest::IsRoot()) GTEST_SKIP() << "needs root (mounts a filesystem)"; \
  } while (0)

bool FuseUsable();

// `casfs --root <root> <args...>` to completion.
RunResult RunCli(const fs::path& root, std::vector<std::string> args,
                 std::chrono::milliseconds timeout = std::chrono::seconds(60),
                 const ProcessOptions& options = {});
// Starts the CLI without waiting (for kill -9 mid-ingest).
Process SpawnCli(const fs::path& root, std::vector<std::string> args,
                 const ProcessOptions& options = {});

// A foreground mount daemon (`casfs mount -f --root R M`) owned by the
// test. The destructor always leaves nothing mounted and no daemon running:
// fusermount3 -u, then -uz, then SIGKILL. A watchdog kills the daemon when
// the mount lives longer than `hang_timeout`, so a deadlocked daemon makes
// the test fail with ENOTCONN instead of hanging CI.
class Mount {
 public:
  struct Options {
    std::vector<std::string> args;  // extra mount arguments, e.g. {"-o", "allow_other"}
    std::vector<std::string> env;   // e.g. {"CASFS_FAULT=commit:after-sync"}
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds hang_timeout = std::chrono::seconds(240);
  };

  // Starts the daemon and waits until the mount answers. On failure returns
  // nullptr and sets `error`.
  static std::unique_ptr<Mount> Start(const fs::path& root, const fs::path& mountpoint,
                                      const Options& options, std::string* error);
  static std::unique_ptr<Mount> Start(const fs::path& root, const fs::path& mountpoint,
                                      std::string* error) {
    return Start(root, mountpoint, Options{}, error);
  }
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  const fs::path& mountpoint() const { return mountpoint_; }
  fs::path operator/(const std::string& rel) const { return mountpoint_ / rel; }
  Process& daemon() { return daemon_; }
  bool DaemonRunning() { return daemon_.Running(); }

  // kill -9 (or another signal) to the daemon and reap it. After SIGKILL
  // the dead mount is cleared (fusermount3 -u, else -uz), as an
  // administrator would do before remounting.
  void KillDaemon(int sig = SIGKILL);
  // `fusermount3 -u` once; true if it unmounted. `out` gets its output.
  bool TryUnmount(std::string* out = nullptr);
  // Unmounts (fusermount3 -u, then -uz) and waits for the daemon to exit,
  // killing it after `timeout`. Returns the daemon's exit code (-1 killed).
  int Unmount(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the daemon to exit by itself (after SIGTERM or an unmount).
  bool WaitDaemon(std::chrono::milliseconds timeout) { return daemon_.Wait(timeout); }
  // Daemon's stderr so far (its log in -f mode).
  std::string Log() const { return daemon_.Stderr(); }
  bool mounted() const;

 private:
  Mount() = default;
  void StopWatchdog();

  fs::path root_;
  fs::path mountpoint_;
  Process daemon_;
  std::thread watchdog_;
  struct WatchdogState;
  std::shared_ptr<WatchdogState> watch_;
};

// A small ext4 filesystem in a loop-mounted image, for the disk-full tests
// (root only). Made with no reserved blocks, so root fills it like anyone.
class LoopFs {
 public:
  static std::unique_ptr<LoopFs> Create(const fs::path& image, const fs::path& mountpoint,
                                        int size_mib, std::string* error);
  ~LoopFs();
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;
  const fs::path& mountpoint() const { return mountpoint_; }

  // Writes `file` until the filesystem refuses (ENOSPC); returns the bytes
  // written to it. Blocks ext4 still has free after that (its delayed
  // allocation refuses a data write while a block or two remain) are taken
  // by small files beside `file`, so afterwards no block is free.
  int64_t Fill(const fs::path& file);
  // Bytes free to an unprivileged writer now.
  int64_t FreeBytes() const;

 private:
  LoopFs() = default;
  // Takes the blocks left after Fill's data passes (the disk-full tests
  // check FreeBytes() themselves).
  void TakeLastBlocks(const fs::path& file);

  fs::path image_;
  fs::path mountpoint_;
  int last_block_files_ = 0;
};

}  // namespace casfs::reltest
