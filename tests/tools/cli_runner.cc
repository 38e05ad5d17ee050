#include "tests/tools/cli_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/digest.h"
#include "core/digester.h"

extern char** environ;

namespace casfs::cli_test {
namespace {

std::vector<std::string> MergedEnv(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : overrides) {
    if (value.empty()) {
      env.erase(key);
    } else {
      env[key] = value;
    }
  }
  std::vector<std::string> out;
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

// Forks and execs; the child's stdin/stdout/stderr are the given fds.
pid_t Spawn(const std::string& program, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env, const std::vector<std::string>& prefix, int in, int out,
            int err) {
  std::vector<std::string> argv_strings = prefix;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = MergedEnv(env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    // A test runner may ignore SIGINT/SIGPIPE; casfs must see the defaults.
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Pumps `input` into in_fd and drains out/err until both close or the
// deadline passes (then the child is killed).
void Pump(pid_t pid, int in_fd, const std::string& input, int out_fd, int err_fd, RunResult& result,
          std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t written = 0;
  if (in_fd >= 0 && input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  char buffer[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    std::vector<pollfd> fds;
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      result.err += "\n[cli_runner: killed after timeout]";
      break;
    }
    int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
      } else {
        ssize_t r = read(p.fd, buffer, sizeof buffer);
        if (r > 0) {
          (p.fd == out_fd ? result.out : result.err).append(buffer, static_cast<size_t>(r));
        } else {
          close(p.fd);
          (p.fd == out_fd ? out_fd : err_fd) = -1;
        }
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
}

int WaitWithDeadline(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCodeOf(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return ExitCodeOf(status);
    }
    usleep(10000);
  }
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const RunResult& result) {
  return os << "exit " << result.exit_code << "\n--- stdout:\n" << result.out << "\n--- stderr:\n" << result.err;
}

RunResult RunProgram(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
  int in[2], out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return {};
  int child_in = -1;
  int parent_in = -1;
  if (options.stdin_file) {
    child_in = open(options.stdin_file->c_str(), O_RDONLY | O_CLOEXEC);
  } else {
    if (pipe2(in, O_CLOEXEC) != 0) return {};
    child_in = in[0];
    parent_in = in[1];
  }
  pid_t pid = Spawn(program, args, options.env, options.prefix, child_in, out[1], err[1]);
  close(child_in);
  close(out[1]);
  close(err[1]);
  RunResult result;
  // A child that exits without reading its input must not kill us.
  signal(SIGPIPE, SIG_IGN);
  Pump(pid, parent_in, options.input, out[0], err[0], result, options.timeout);
  result.exit_code = WaitWithDeadline(pid, std::chrono::seconds(5));
  return result;
}

Background::Background(const std::string& program, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  pid_ = Spawn(program, args, env, {}, in[0], out[1], err[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  signal(SIGPIPE, SIG_IGN);
}

Background::~Background() {
  if (!waited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
}

void Background::Write(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = write(stdin_fd_, data.data() + done, data.size() - done);
    if (w <= 0) return;
    done += static_cast<size_t>(w);
  }
}

void Background::CloseInput() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

void Background::Signal(int signal) { kill(pid_, signal); }

RunResult Background::Wait(std::chrono::seconds timeout) {
  RunResult result;
  if (waited_) return result;
  CloseInput();
  Pump(pid_, -1, "", stdout_fd_, stderr_fd_, result, timeout);
  result.exit_code = WaitWithDeadline(pid_, std::chrono::seconds(5));
  waited_ = true;
  return result;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string DigestOf(const std::string& algorithm, const std::string& data) {
  auto parsed = AlgorithmFromName(algorithm);
  return casfs::DigestOf(*parsed, data.data(), data.size()).ToString();
}

std::string Sha256Of(const std::string& data) { return DigestOf("sha256", data); }

std::string RandomBytes(size_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

bool HaveProgram(const std::string& name) {
  return RunProgram("sh", {"-c", "command -v " + name}).exit_code == 0;
}

void CliTest::SetUp() {
  std::string templ = (std::filesystem::temp_directory_path() / "casfs-cli-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
}

void CliTest::TearDown() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::map<std::string, std::string> CliTest::Env() const {
  return {{"CASFS_ROOT", root().string()}};
}

RunResult CliTest::Casfs(const std::vector<std::string>& args, RunOptions options) {
  auto env = Env();
  for (const auto& [key, value] : options.env) env[key] = value;
  options.env = env;
  return RunProgram(CASFS_BINARY, args, options);
}

std::string CliTest::File(const std::string& name, const std::string& content) {
  auto path = dir_ / name;
  std::filesystem::create_directories(path.parent_path());
  WriteFile(path, content);
  return path.string();
}

std::string CliTest::Add(const std::string& content) {
  std::string path = File("added-" + std::to_string(files_++), content);
  RunResult result = Casfs({"add", path});
  EXPECT_EQ(result.exit_code, 0) << result;
  return result.out.substr(0, result.out.find(' '));
}

}  // namespace casfs::cli_test
