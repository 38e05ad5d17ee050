#include "tests/reliability/support/casfs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "tests/reliability/support/files.h"

#ifndef CASFS_BIN_PATH
#define CASFS_BIN_PATH ""
#endif

namespace casfs::reltest {

std::string CasfsBinary() {
  const char* env = std::getenv("CASFS_BIN");
  std::string path = env != nullptr && *env != '\0' ? env : CASFS_BIN_PATH;
  if (path.empty() || access(path.c_str(), X_OK) != 0) return {};
  return path;
}

bool FuseUsable() {
  if (access("/dev/fuse", R_OK | W_OK) != 0) return false;
  return RunCommand({"sh", "-c", "command -v fusermount3"}, std::chrono::seconds(10)).ok();
}

RunResult RunCli(const fs::path& root, std::vector<std::string> args,
                 std::chrono::milliseconds timeout, const ProcessOptions& options) {
  std::vector<std::string> argv = {CasfsBinary(), "--root", root.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout, options);
}

Process SpawnCli(const fs::path& root, std::vector<std::string> args,
                 const ProcessOptions& options) {
  std::vector<std::string> argv = {CasfsBinary(), "--root", root.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Process::Spawn(argv, options);
}

struct Mount::WatchdogState {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
};

std::unique_ptr<Mount> Mount::Start(const fs::path& root, const fs::path& mountpoint,
                                    const Options& options, std::string* error) {
  std::unique_ptr<Mount> m(new Mount());
  m->root_ = root;
  m->mountpoint_ = mountpoint;
  std::error_code ec;
  fs::create_directories(mountpoint, ec);

  std::vector<std::string> argv = {CasfsBinary(), "--root", root.string(), "mount", "-f"};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  argv.push_back(mountpoint.string());
  ProcessOptions popts;
  popts.env = options.env;
  m->daemon_ = Process::Spawn(argv, popts);

  bool ready = WaitUntil(
      [&] {
        std::string type;
        return !m->daemon_.Running() ||
               (IsMountPoint(mountpoint, &type) && type.rfind("fuse", 0) == 0);
      },
      options.ready_timeout);
  if (!ready || !m->daemon_.Running()) {
    m->daemon_.KillAndReap();
    if (error) *error = "mount did not become ready: " + m->daemon_.Describe();
    return nullptr;  // the destructor clears whatever was made
  }

  m->watch_ = std::make_shared<WatchdogState>();
  auto state = m->watch_;
  pid_t pid = m->daemon_.pid();
  auto limit = options.hang_timeout;
  std::string where = mountpoint.string();
  m->watchdog_ = std::thread([state, pid, limit, where] {
    std::unique_lock<std::mutex> lock(state->mu);
    if (state->cv.wait_for(lock, limit, [&] { return state->stop; })) return;
    std::cerr << "[reliability] mount at " << where << " outlived its hang timeout; "
              << "killing daemon " << pid << " so that blocked callers fail" << std::endl;
    kill(pid, SIGKILL);
  });
  return m;
}

void Mount::StopWatchdog() {
  if (watch_) {
    {
      std::lock_guard<std::mutex> lock(watch_->mu);
      watch_->stop = true;
    }
    watch_->cv.notify_all();
  }
  if (watchdog_.joinable()) watchdog_.join();
}

bool Mount::mounted() const { return IsMountPoint(mountpoint_); }

bool Mount::TryUnmount(std::string* out) {
  RunResult r = RunCommand({"fusermount3", "-u", mountpoint_.string()}, std::chrono::seconds(20));
  if (out) *out = r.out + r.err;
  return r.ok() && !mounted();
}

void Mount::KillDaemon(int sig) {
  daemon_.Signal(sig);
  if (sig != SIGKILL) return;
  daemon_.Wait(std::chrono::seconds(20));
  if (daemon_.Running()) daemon_.KillAndReap();
  if (mounted() && !TryUnmount()) {
    RunCommand({"fusermount3", "-uz", mountpoint_.string()}, std::chrono::seconds(20));
  }
}

int Mount::Unmount(std::chrono::milliseconds timeout) {
  StopWatchdog();
  if (mounted() && !TryUnmount()) {
    RunCommand({"fusermount3", "-uz", mountpoint_.string()}, std::chrono::seconds(20));
  }
  if (!daemon_.Wait(timeout)) daemon_.KillAndReap();
  if (mounted()) RunCommand({"fusermount3", "-uz", mountpoint_.string()}, std::chrono::seconds(20));
  return daemon_.exit_code();
}

Mount::~Mount() {
  StopWatchdog();
  if (daemon_.pid() > 0 && !daemon_.exited()) {
    Unmount(std::chrono::seconds(10));
  } else if (mounted()) {
    RunCommand({"fusermount3", "-uz", mountpoint_.string()}, std::chrono::seconds(20));
  }
}

std::unique_ptr<LoopFs> LoopFs::Create(const fs::path& image, const fs::path& mountpoint,
                                       int size_mib, std::string* error) {
  std::unique_ptr<LoopFs> l(new LoopFs());
  l->image_ = image;
  std::error_code ec;
  fs::create_directories(mountpoint, ec);
  {
    int fd = open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(size_mib) << 20) != 0) {
      if (fd >= 0) close(fd);
      if (error) *error = "cannot create image " + image.string();
      return nullptr;
    }
    close(fd);
  }
  // No reserved blocks (-m 0): the daemon runs as root and would otherwise
  // write into the root reserve after an unprivileged filler stopped.
  RunResult mk = RunCommand({"mkfs.ext4", "-q", "-F", "-m", "0", "-b", "4096", "-I", "256", image.string()},
                     std::chrono::seconds(60));
  if (!mk.ok()) {
    if (error) *error = "mkfs.ext4 failed: " + mk.description;
    return nullptr;
  }
  RunResult mnt = RunCommand({"mount", "-o", "loop", image.string(), mountpoint.string()},
                      std::chrono::seconds(60));
  if (!mnt.ok()) {
    if (error) *error = "loop mount failed: " + mnt.description;
    return nullptr;
  }
  l->mountpoint_ = mountpoint;
  return l;
}

LoopFs::~LoopFs() {
  if (mountpoint_.empty()) return;
  for (int attempt = 0; attempt < 5 && IsMountPoint(mountpoint_); ++attempt) {
    if (RunCommand({"umount", mountpoint_.string()}, std::chrono::seconds(30)).ok()) break;
    usleep(200 * 1000);
  }
  if (IsMountPoint(mountpoint_)) RunCommand({"umount", "-l", mountpoint_.string()}, std::chrono::seconds(30));
}

int64_t LoopFs::Fill(const fs::path& file) {
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  int64_t total = 0;
  std::string chunk(1 << 20, 'F');
  // ext4's delayed allocation reserves more than it finally uses: ENOSPC
  // comes early, and the fsync that allocates hands blocks back. Fill again
  // after each fsync until a pass finds no room at all.
  for (int64_t pass = 1; pass > 0;) {
    pass = 0;
    for (size_t size : {size_t(1) << 20, size_t(65536), size_t(4096), size_t(512), size_t(1)}) {
      for (;;) {
        ssize_t n = write(fd, chunk.data(), size);
        if (n <= 0) break;
        pass += n;
      }
    }
    fsync(fd);
    total += pass;
  }
  close(fd);
  TakeLastBlocks(file);
  return total;
}

void LoopFs::TakeLastBlocks(const fs::path& file) {
  // A new file's first block, and failing that an xattr block (the very
  // allocation a large label needs), each value unique so that ext4 cannot
  // share one block between two files.
  std::string block(4096, 'T');
  for (int attempt = 0; attempt < 256 && FreeBytes() > 0; ++attempt) {
    fs::path extra = file.string() + ".last" + std::to_string(last_block_files_++);
    int fd = open(extra.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) break;
    bool took = write(fd, block.data(), block.size()) > 0 && fsync(fd) == 0;
    if (!took) {
      std::string value = std::to_string(last_block_files_) + std::string(3000, 'X');
      took = fsetxattr(fd, "user.fill", value.data(), value.size(), 0) == 0 && fsync(fd) == 0;
    }
    close(fd);
    if (!took) break;
  }
}

int64_t LoopFs::FreeBytes() const {
  struct statvfs st {};
  if (statvfs(mountpoint_.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

}  // namespace casfs::reltest
