#include "tests/reliability/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace casfs::reltest {

namespace {

std::string ReadMemfd(int fd) {
  if (fd < 0) return {};
  struct stat st {};
  if (fstat(fd, &st) != 0) return {};
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = pread(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = name_of(entry);
    bool drop = false;
    for (const auto& u : options.unset_env) drop = drop || u == name;
    for (const auto& o : options.env) drop = drop || name_of(o) == name;
    if (!drop) env.push_back(std::move(entry));
  }
  for (const auto& o : options.env) env.push_back(o);
  return env;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

Process Process::Spawn(const std::vector<std::string>& argv, const ProcessOptions& options) {
  Process p;
  for (const auto& a : argv) {
    if (!p.command_.empty()) p.command_ += ' ';
    p.command_ += a;
  }
  if (argv.empty()) {
    p.reaped_ = true;
    p.exit_code_ = 127;
    return p;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  // The test runner may ignore SIGPIPE; the child must not inherit that.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  int pipe_fds[2] = {-1, -1};
  if (options.stdin_pipe) {
    if (pipe2(pipe_fds, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 0);
    }
  } else if (!options.stdin_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 0, options.stdin_path.c_str(), O_RDONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (options.capture) {
    p.stdout_fd_ = memfd_create("stdout", MFD_CLOEXEC);
    p.stderr_fd_ = memfd_create("stderr", MFD_CLOEXEC);
    posix_spawn_file_actions_adddup2(&actions, p.stdout_fd_, 1);
    posix_spawn_file_actions_adddup2(&actions, p.stderr_fd_, 2);
  }

  std::vector<std::string> env = BuildEnvironment(options);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argp[0], &actions, &attr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (pipe_fds[0] >= 0) close(pipe_fds[0]);
  if (rc != 0) {
    if (pipe_fds[1] >= 0) close(pipe_fds[1]);
    p.reaped_ = true;
    p.exit_code_ = 127;
    std::string why = std::string("spawn failed: ") + std::strerror(rc) + "\n";
    if (p.stderr_fd_ >= 0) (void)!write(p.stderr_fd_, why.data(), why.size());
    return p;
  }
  p.pid_ = pid;
  p.stdin_fd_ = pipe_fds[1];
  return p;
}

Process::Process(Process&& other) noexcept { *this = std::move(other); }

Process& Process::operator=(Process&& other) noexcept {
  if (this == &other) return *this;
  Reset();
  pid_ = other.pid_;
  reaped_ = other.reaped_;
  exit_code_ = other.exit_code_;
  term_signal_ = other.term_signal_;
  stdout_fd_ = other.stdout_fd_;
  stderr_fd_ = other.stderr_fd_;
  stdin_fd_ = other.stdin_fd_;
  command_ = std::move(other.command_);
  other.pid_ = -1;
  other.reaped_ = true;
  other.stdout_fd_ = other.stderr_fd_ = other.stdin_fd_ = -1;
  return *this;
}

Process::~Process() { Reset(); }

void Process::Reset() {
  if (pid_ > 0 && !reaped_) KillAndReap();
  CloseFd(&stdin_fd_);
  CloseFd(&stdout_fd_);
  CloseFd(&stderr_fd_);
  pid_ = -1;
}

void Process::Reaped(int wait_status) {
  reaped_ = true;
  if (WIFEXITED(wait_status)) {
    exit_code_ = WEXITSTATUS(wait_status);
    term_signal_ = 0;
  } else if (WIFSIGNALED(wait_status)) {
    exit_code_ = -1;
    term_signal_ = WTERMSIG(wait_status);
  }
}

bool Process::Running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    Reaped(status);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    reaped_ = true;
    return false;
  }
  return true;
}

bool Process::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::milliseconds(10)) pause *= 2;
  }
  return true;
}

void Process::Signal(int sig) {
  if (pid_ <= 0 || reaped_) return;
  // The whole group (the child and what it started); the child alone if
  // the group is gone (it moved to a session of its own). Never both: a
  // second SIGTERM that lands after a daemon's clean shutdown restored the
  // default handlers would kill it.
  if (kill(-pid_, sig) != 0) kill(pid_, sig);
}

void Process::KillAndReap() {
  if (pid_ <= 0 || reaped_) return;
  Signal(SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  Reaped(status);
}

std::string Process::Stdout() const { return ReadMemfd(stdout_fd_); }
std::string Process::Stderr() const { return ReadMemfd(stderr_fd_); }

bool Process::WriteStdin(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    if (stdin_fd_ < 0) return false;
    ssize_t n = write(stdin_fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void Process::CloseStdin() { CloseFd(&stdin_fd_); }

std::string Process::Describe() const {
  std::string d = "`" + command_ + "`";
  if (!reaped_) {
    d += ": still running";
  } else if (term_signal_ != 0) {
    d += ": killed by signal " + std::to_string(term_signal_);
  } else {
    d += ": exit " + std::to_string(exit_code_);
  }
  std::string err = Stderr();
  if (err.size() > 2000) err = "..." + err.substr(err.size() - 2000);
  if (!err.empty()) d += ", stderr: " + err;
  return d;
}

RunResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const ProcessOptions& options) {
  Process p = Process::Spawn(argv, options);
  RunResult r;
  if (!p.Wait(timeout)) {
    r.timed_out = true;
    p.KillAndReap();
  }
  r.exit_code = p.exit_code();
  r.term_signal = p.term_signal();
  r.out = p.Stdout();
  r.err = p.Stderr();
  r.description = p.Describe();
  if (r.timed_out) r.description += " (timed out)";
  return r;
}

}  // namespace casfs::reltest
