// A private casfs mount for one test: a fresh store root and mountpoint in
// a temp folder, the daemon started in the foreground as a child process,
// and an unmount that always happens (fusermount3 -u, then a lazy -uz, then
// SIGKILL), with timeouts everywhere so a hung mount cannot hang the run.
// The daemon dies with the test process (PR_SET_PDEATHSIG) and unmounts
// itself on that SIGTERM.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace casfs::fuse::testing {

namespace fs = std::filesystem;

struct MountConfig {
  bool read_only = false;
  std::vector<std::string> extra_args;  // more launcher arguments ("-o", "debug")
  // Mount this existing root instead of a fresh one (a second mount of it).
  fs::path shared_root;
};

class MountFixture {
 public:
  explicit MountFixture(MountConfig config = {});
  ~MountFixture();
  MountFixture(const MountFixture&) = delete;
  MountFixture& operator=(const MountFixture&) = delete;

  // Whether the constructor's (or the last Mount's) mount came up; why not.
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  const fs::path& root() const { return root_; }
  const fs::path& mnt() const { return mnt_; }
  fs::path Blob(std::string_view hex, std::string_view algorithm = "sha256") const {
    return mnt_ / "blobs" / std::string(algorithm) / std::string(hex);
  }
  fs::path Ingest(std::string_view name) const { return mnt_ / "ingest" / std::string(name); }

  // fusermount3 -u and wait for the daemon; returns its exit status (or -1
  // when it had to be killed).
  int Unmount();
  // Mounts the same root again.
  bool Mount();
  // Sends `signal` to the daemon and waits for it; returns its exit status.
  int SignalDaemon(int signal);
  pid_t daemon_pid() const { return pid_; }

 private:
  bool Start();
  int WaitDaemon(int seconds);

  MountConfig config_;
  fs::path dir_;
  fs::path root_;
  fs::path mnt_;
  pid_t pid_ = -1;
  bool mounted_ = false;
  std::string error_;
};

// Runs `command` with /bin/sh under `timeout` (seconds); returns its exit
// status (124 on timeout), and its stdout in `out` if given.
int Sh(const std::string& command, std::string* out = nullptr, int timeout_seconds = 60);
// Quotes one word for the shell.
std::string Q(const fs::path& path);

// Waits until `path` is a mount of its own (its st_dev differs from its
// parent's), or is not one any more.
bool WaitMounted(const fs::path& path, bool mounted, int timeout_ms);

std::string Sha256Hex(std::string_view data);
std::string ReadAll(const fs::path& path);
void WriteAll(const fs::path& path, std::string_view data);
// The ingest folder of `ref` under a store root (as core/layout.h names it).
fs::path IngestDirOf(const fs::path& root, std::string_view ref);
// Every file of a folder with its bytes, for "left exactly as it was",
// leaving out the files named in `skip`.
std::string SnapshotDir(const fs::path& dir, const std::vector<std::string>& skip = {});

}  // namespace casfs::fuse::testing
