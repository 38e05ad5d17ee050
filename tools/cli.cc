#include "tools/cli.h"

#include <cstdio>
#include <cstdlib>

#include "core/posix.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "tools/exit_codes.h"

namespace casfs::tools {
namespace {

std::filesystem::path FromEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return {};
  return value;
}

}  // namespace

Result<std::filesystem::path> ResolveRoot(const GlobalOptions& globals) {
  if (!globals.root.empty()) return std::filesystem::path(globals.root);
  if (auto root = FromEnv("CASFS_ROOT"); !root.empty()) return root;
  if (auto data = FromEnv("XDG_DATA_HOME"); !data.empty()) return data / "casfs";
  if (auto home = FromEnv("HOME"); !home.empty()) return home / ".local" / "share" / "casfs";
  return Status::InvalidArgument("no store root: pass --root DIR or set CASFS_ROOT (HOME is not set either)");
}

Result<std::unique_ptr<LocalStore>> OpenStore(const GlobalOptions& globals, StoreAccess access) {
  auto root = ResolveRoot(globals);
  if (!root.ok()) return root.status();
  StoreOptions options;
  if (access == StoreAccess::kRead) {
    // A missing root is created even for a read ("created on first use"),
    // so a fresh user's `casfs ls` shows an empty store, not an error.
    options.read_only = posix::Stat(*root).ok();
  }
  return LocalStore::Open(*root, options);
}

void ReportText(std::string_view command, std::string_view text) {
  std::string line = "casfs: ";
  line += command;
  line += ": ";
  line += text;
  line += '\n';
  std::fflush(stdout);  // keep stdout and stderr in order on a terminal
  std::fputs(line.c_str(), stderr);
}

void Report(std::string_view command, const Status& status) { ReportText(command, status.ToString()); }

int Fail(std::string_view command, const Status& status) {
  Report(command, status);
  return ExitCodeFor(status);
}

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("casfs");
  logger->set_pattern("casfs: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace casfs::tools
