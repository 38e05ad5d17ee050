#include "tests/fuse/mount_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/digester.h"
#include "core/layout.h"

#ifndef CASFS_MOUNT_BINARY
#error "CASFS_MOUNT_BINARY must name the launcher"
#endif

namespace casfs::fuse::testing {
namespace {

bool IsMountPoint(const fs::path& path) {
  struct stat self {}, parent {};
  if (::stat(path.c_str(), &self) != 0) return false;
  if (::stat(path.parent_path().c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

}  // namespace

bool WaitMounted(const fs::path& path, bool mounted, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (IsMountPoint(path) == mounted) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return IsMountPoint(path) == mounted;
}

MountFixture::MountFixture(MountConfig config) : config_(std::move(config)) {
  char tmpl[] = "/tmp/casfs-fuse-test-XXXXXX";
  char* made = ::mkdtemp(tmpl);
  if (made == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = made;
  root_ = config_.shared_root.empty() ? dir_ / "root" : config_.shared_root;
  mnt_ = dir_ / "mnt";
  fs::create_directories(mnt_);
  if (config_.shared_root.empty()) fs::create_directories(root_);
  Start();
}

bool MountFixture::Start() {
  mounted_ = false;
  std::vector<std::string> args = {CASFS_MOUNT_BINARY, root_.string(), mnt_.string(), "-f",
                                   "--log-file", (dir_ / "daemon.log").string()};
  if (config_.read_only) {
    args.push_back("-o");
    args.push_back("ro");
  }
  for (const std::string& extra : config_.extra_args) args.push_back(extra);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The daemon must not outlive a test killed by its timeout.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid_ < 0) {
    error_ = "fork failed";
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (IsMountPoint(mnt_)) {
      mounted_ = true;
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "daemon exited with status " + std::to_string(WEXITSTATUS(status)) + ": " +
               ReadAll(dir_ / "daemon.log");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error_ = "mount did not appear within 10 s";
  return false;
}

bool MountFixture::Mount() { return Start(); }

int MountFixture::WaitDaemon(int seconds) {
  if (pid_ < 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -2;
}

int MountFixture::Unmount() {
  if (pid_ < 0 && !IsMountPoint(mnt_)) return -1;
  Sh("fusermount3 -u " + Q(mnt_) + " 2>/dev/null", nullptr, 10);
  int status = WaitDaemon(5);
  if (status == -2 || IsMountPoint(mnt_)) {
    // Busy or hung: detach the mount and end the daemon.
    Sh("fusermount3 -uz " + Q(mnt_) + " 2>/dev/null || umount -l " + Q(mnt_) + " 2>/dev/null", nullptr, 10);
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    WaitDaemon(5);
    status = -1;
  }
  mounted_ = false;
  return status;
}

int MountFixture::SignalDaemon(int signal) {
  if (pid_ < 0) return -1;
  ::kill(pid_, signal);
  int status = WaitDaemon(10);
  mounted_ = IsMountPoint(mnt_);
  return status;
}

MountFixture::~MountFixture() {
  Unmount();
  if (!dir_.empty() && !IsMountPoint(mnt_)) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string Q(const fs::path& path) {
  std::string out = "'";
  for (char c : path.string()) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

int Sh(const std::string& command, std::string* out, int timeout_seconds) {
  std::string wrapped = "timeout -k 2 " + std::to_string(timeout_seconds) + " sh -c " + Q(command);
  FILE* pipe = ::popen(wrapped.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  int status = ::pclose(pipe);
  if (out != nullptr) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Sha256Hex(std::string_view data) {
  return DigestOf(Algorithm::kSha256, data.data(), data.size()).hex();
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

fs::path IngestDirOf(const fs::path& root, std::string_view ref) { return Layout(root).IngestDir(ref); }

std::string SnapshotDir(const fs::path& dir, const std::vector<std::string>& skip) {
  std::string out;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    if (std::find(skip.begin(), skip.end(), file.filename().string()) != skip.end()) continue;
    out += file.filename().string() + "=" + ReadAll(file) + "\n";
  }
  return out;
}

}  // namespace casfs::fuse::testing
