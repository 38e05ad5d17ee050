// Runs the real casfs binary as a user would: arguments, standard input,
// environment in; stdout, stderr and the exit code out. Every test gets its
// own temporary store root.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace casfs::cli_test {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const RunResult& result);

struct RunOptions {
  std::string input;                          // written to standard input, then closed
  std::optional<std::string> stdin_file;      // or: standard input redirected from this file
  std::map<std::string, std::string> env;     // set (an empty value unsets)
  std::vector<std::string> prefix;            // run through this command (e.g. setpriv ...)
  std::chrono::seconds timeout{60};           // then SIGKILL: a hang fails, never blocks CI
};

// Runs `program` with `args` and waits for it.
RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const RunOptions& options = {});

// A process left running, with a pipe on its standard input.
class Background {
 public:
  Background(const std::string& program, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env);
  ~Background();  // kills it if still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  void Write(const std::string& data);
  void CloseInput();
  void Signal(int signal);
  // Waits (up to `timeout`, then kills) and returns what it did.
  RunResult Wait(std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  bool waited_ = false;
};

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& content);
// "sha256:<hex>" of the bytes, through the engine's digester.
std::string Sha256Of(const std::string& data);
std::string DigestOf(const std::string& algorithm, const std::string& data);
// `bytes` pseudo-random bytes from `seed`.
std::string RandomBytes(size_t bytes, unsigned seed);
bool HaveProgram(const std::string& name);

// A fixture with a fresh folder (removed after) and `casfs` bound to it.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // casfs with CASFS_ROOT = root() (unless options.env says otherwise).
  RunResult Casfs(const std::vector<std::string>& args, RunOptions options = {});
  std::map<std::string, std::string> Env() const;
  // A file in the temp folder with this content; returns its path.
  std::string File(const std::string& name, const std::string& content);
  // Adds content and returns its digest (fails the test on error).
  std::string Add(const std::string& content);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path root() const { return dir_ / "root"; }

 private:
  std::filesystem::path dir_;
  int files_ = 0;
};

}  // namespace casfs::cli_test
