// Child processes for the reliability tests: the casfs CLI, the mount
// daemon, and the ordinary tools a user would run against a mount (cp, dd,
// cat, mv, setfattr, fusermount3).
//
// Every child runs in its own process group, so that killing it also kills
// what it started (`sh -c 'tail ... >> f'`), and has its stdout and stderr
// captured in memory files, so a long output can never block it. A
// Process that is destroyed while its child still runs kills the group
// with SIGKILL and reaps it: a failing test leaves no process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace casfs::reltest {

struct ProcessOptions {
  // "NAME=VALUE" entries added to (or replacing in) the test's environment.
  std::vector<std::string> env;
  // Names removed from the environment.
  std::vector<std::string> unset_env;
  // The child's stdin: a file to read, else /dev/null unless stdin_pipe.
  std::string stdin_path;
  // Give the parent the write end of a pipe on the child's stdin.
  bool stdin_pipe = false;
  // Capture stdout and stderr (else they go to the test's own).
  bool capture = true;
};

class Process {
 public:
  // Starts argv[0] (searched in PATH when it has no '/'). A child that
  // cannot be started is reported as having exited with status 127.
  static Process Spawn(const std::vector<std::string>& argv, const ProcessOptions& options = {});

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  // Reaps the child if it has exited; true while it has not.
  bool Running();
  // Waits until the child exits or `timeout` passes; true if it exited.
  bool Wait(std::chrono::milliseconds timeout);
  // Sends `sig` to the child's whole process group.
  void Signal(int sig);
  // SIGKILL to the group, then reaps the child.
  void KillAndReap();

  bool exited() const { return reaped_; }
  // The exit status, or -1 when the child died of a signal.
  int exit_code() const { return exit_code_; }
  // The signal that ended the child, or 0.
  int term_signal() const { return term_signal_; }

  std::string Stdout() const;
  std::string Stderr() const;
  // The parent's end of the stdin pipe (-1 without stdin_pipe).
  int stdin_fd() const { return stdin_fd_; }
  // Writes all of `data` to the stdin pipe; false on EPIPE or error.
  bool WriteStdin(const void* data, size_t size);
  void CloseStdin();

  // "<argv>: exit 1, stderr: ..." for assertion messages.
  std::string Describe() const;

 private:
  void Reset();
  void Reaped(int wait_status);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int stdin_fd_ = -1;
  std::string command_;
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal (or the timeout)
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string description;  // Process::Describe of the run
  bool ok() const { return exit_code == 0; }
};

// Runs a command to completion; kills it (and reports timed_out) after
// `timeout`.
RunResult RunCommand(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const ProcessOptions& options = {});

}  // namespace casfs::reltest
