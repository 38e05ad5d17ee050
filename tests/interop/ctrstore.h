// Drives tests/interop/ctrstore (a Go command over containerd's own local
// store) from C++: builds it once per test process, runs its subcommands and
// parses their JSON output.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace casfs::interop {

struct RunResult {
  int exit_code = -1;  // the child's exit status; -1 if it did not exit normally
  std::string out;     // its stdout
  std::string err;     // its stderr
  bool ok() const { return exit_code == 0; }
};

// Runs `argv` (argv[0] searched in PATH when it has no '/') with the current
// environment plus `env` (which wins), and waits. stdout and stderr go to
// files in `scratch`, which must exist.
RunResult Run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
              const std::map<std::string, std::string>& env = {});

// The Go toolchain and containerd's sources, as the build needs them.
struct GoToolchain {
  std::filesystem::path go;      // the `go` binary
  std::filesystem::path gopath;  // /usr/share/gocode (Debian's GOPATH)
};

// Finds `go` in PATH and containerd's local store in Debian's GOPATH; nullopt
// (with the reason in `why`) when either is missing.
std::optional<GoToolchain> FindGoToolchain(std::string* why);

// Builds the Go program `source` (one file outside GOPATH) into `output` in
// GOPATH mode with no network. `gocache` is Go's build cache (shared across
// runs makes a rebuild a link). Returns the build's output on failure.
RunResult BuildGoProgram(const GoToolchain& go, const std::filesystem::path& source,
                         const std::filesystem::path& output, const std::filesystem::path& gocache,
                         const std::filesystem::path& scratch);

// Each line of `text` as one JSON value (blank lines skipped). A line that is
// not JSON fails the current test and is skipped.
std::vector<nlohmann::json> ParseJsonLines(const std::string& text);

}  // namespace casfs::interop
