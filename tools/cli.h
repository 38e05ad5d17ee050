// What every subcommand shares: the global options, how a subcommand is
// registered and run, how the store is opened, and how an error is told to
// the user (one line on stderr, an exit code from exit_codes.h).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/local_store.h"
#include "core/status.h"

namespace CLI {
class App;
}

namespace casfs::tools {

struct GlobalOptions {
  std::string root;       // --root; empty: $CASFS_ROOT, else the user's data folder
  std::string log_level;  // --log-level; empty: the command's default
  bool json = false;      // --json: tables become JSON
};

// A subcommand: its CLI11 node and what runs once its arguments parsed.
// `run` returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
  // The command sets up spdlog itself (the mount: syslog, log file).
  bool owns_logging = false;
};
using CommandList = std::vector<Command>;

// Each adds one subcommand (tools/cmd_<name>.cc) to `casfs`. Option values
// live in storage owned by the `run` closure; `globals` outlives them all.
void AddMountCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddIngestCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddAddCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddCatCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddLsCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddInfoCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddLabelCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddRmCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddActiveCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddAbortCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddVerifyCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddImportCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);
void AddExportCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands);

// The root a command works on: --root, else $CASFS_ROOT, else
// $XDG_DATA_HOME/casfs, else $HOME/.local/share/casfs. kInvalidArgument
// when none of them is set.
Result<std::filesystem::path> ResolveRoot(const GlobalOptions& globals);

enum class StoreAccess {
  // Commands that only look: the store is opened read-only when the root
  // exists, so a root the user may read but not write still works.
  kRead,
  // Commands that change something; the root is created when missing.
  kWrite,
};
Result<std::unique_ptr<LocalStore>> OpenStore(const GlobalOptions& globals, StoreAccess access);

// Prints "casfs: <command>: <status.ToString()>" on stderr; returns the
// exit code for the status' kind.
int Fail(std::string_view command, const Status& status);
// The same line, for a failure the command goes on after (one of many files).
void Report(std::string_view command, const Status& status);
// "casfs: <command>: <text>" on stderr, for what is not an engine status.
void ReportText(std::string_view command, std::string_view text);

// Sends the engine's log (spdlog) to stderr at `level` (a spdlog level name).
void SetUpLogging(const std::string& level);

}  // namespace casfs::tools
