#include "tests/interop/ctrstore.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

extern char** environ;

namespace casfs::interop {
namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
              const std::map<std::string, std::string>& env) {
  // Unique names, so runs from several threads or in a row never mix output.
  static std::atomic<int> counter{0};
  int n = counter++;
  std::filesystem::path out_path = scratch / ("run" + std::to_string(n) + ".out");
  std::filesystem::path err_path = scratch / ("run" + std::to_string(n) + ".err");

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : env) merged[key] = value;
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : merged) env_strings.push_back(key + "=" + value);

  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (std::string& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);

  RunResult result;
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.err = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) result.exit_code = WEXITSTATUS(wstatus);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

std::optional<GoToolchain> FindGoToolchain(std::string* why) {
  GoToolchain tc;
  const char* path_env = std::getenv("PATH");
  std::stringstream dirs(path_env != nullptr ? path_env : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / "go";
    if (access(candidate.c_str(), X_OK) == 0) {
      tc.go = candidate;
      break;
    }
  }
  if (tc.go.empty()) {
    *why = "no `go` in PATH (Debian: apt-get install golang-go)";
    return std::nullopt;
  }
  tc.gopath = "/usr/share/gocode";
  if (!std::filesystem::exists(tc.gopath / "src/github.com/containerd/containerd/content/local/store.go")) {
    *why = "containerd's sources are not in " + tc.gopath.string() +
           " (Debian: apt-get install golang-github-containerd-containerd-dev)";
    return std::nullopt;
  }
  return tc;
}

RunResult BuildGoProgram(const GoToolchain& go, const std::filesystem::path& source,
                         const std::filesystem::path& output, const std::filesystem::path& gocache,
                         const std::filesystem::path& scratch) {
  std::filesystem::create_directories(gocache);
  // GOPATH mode over Debian's packaged sources; nothing may be fetched.
  std::map<std::string, std::string> env = {
      {"GOPATH", go.gopath.string()}, {"GO111MODULE", "off"}, {"GOFLAGS", ""},
      {"GOPROXY", "off"},             {"GOCACHE", gocache.string()},
  };
  return Run({go.go.string(), "build", "-o", output.string(), source.string()}, scratch, env);
}

std::vector<nlohmann::json> ParseJsonLines(const std::string& text) {
  std::vector<nlohmann::json> values;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    values.push_back(std::move(value));
  }
  return values;
}

}  // namespace casfs::interop
