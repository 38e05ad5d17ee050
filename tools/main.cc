// casfs: one binary, one subcommand per job (tools/cmd_*.cc). This file
// only wires them: global options, parsing, usage errors, dispatch.
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tools/cli.h"
#include "tools/exit_codes.h"

namespace casfs::tools {
namespace {

constexpr const char* kFooter = R"(The store lives in --root DIR, else $CASFS_ROOT, else $XDG_DATA_HOME/casfs,
else ~/.local/share/casfs (created on first use). Its layout is containerd's
content store (blobs/sha256/<hex>, ingest/<sha256(ref)>/).

Examples:
  casfs add photo.jpg notes.txt          # like sha256sum: DIGEST  FILE
  casfs cat sha256:3a6e... > copy.jpg    # verified while it streams
  casfs ls 'labels."containerd.io/gc.root"'
  casfs label sha256:3a6e... owner=me
  casfs mount /tmp/casfs                 # the same store as files

Exit status: 0 ok, 1 a check failed (verify, cat), 2 usage or invalid
argument, 3 not found, 4 already exists, 5 busy, 6 size/digest mismatch,
7 permission denied or read-only, 8 I/O error, 9 not implemented,
10 internal error, 130 interrupted.
Run 'casfs COMMAND --help' for a command's options; the manual is docs/cli.md.)";

// The subcommand a usage error belongs to, for the message prefix.
std::string CommandPath(const CLI::App& app) {
  std::string path;
  const CLI::App* current = &app;
  while (true) {
    auto selected = current->get_subcommands();
    if (selected.empty()) break;
    current = selected.front();
    if (!path.empty()) path += ' ';
    path += current->get_name();
  }
  return path;
}

int Main(int argc, char** argv) {
  GlobalOptions globals;
  CLI::App app("casfs: a content-addressed store with a FUSE face, on disk compatible with containerd's",
               "casfs");
  app.footer(kFooter);
  app.require_subcommand(0, 1);
  // Global options may follow the subcommand (casfs ls --json); whatever
  // nobody takes is left for the check below, which can name it.
  app.fallthrough();
  app.allow_extras();
  app.set_version_flag("--version", "casfs 0.1.0");
  app.add_option("--root", globals.root, "The store's folder (default: $CASFS_ROOT, else ~/.local/share/casfs)")
      ->type_name("DIR");
  app.add_option("--log-level", globals.log_level, "Engine log level on stderr (default: warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}))
      ->type_name("LEVEL");
  app.add_flag("--json", globals.json, "Print JSON instead of text (ls, info, active, verify, import, export)");

  CommandList commands;
  AddMountCommand(app, globals, commands);
  AddIngestCommand(app, globals, commands);
  AddAddCommand(app, globals, commands);
  AddCatCommand(app, globals, commands);
  AddLsCommand(app, globals, commands);
  AddInfoCommand(app, globals, commands);
  AddLabelCommand(app, globals, commands);
  AddRmCommand(app, globals, commands);
  AddActiveCommand(app, globals, commands);
  AddAbortCommand(app, globals, commands);
  AddVerifyCommand(app, globals, commands);
  AddImportCommand(app, globals, commands);
  AddExportCommand(app, globals, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string where = CommandPath(app);
    std::string help = where.empty() ? "casfs --help" : "casfs " + where + " --help";
    std::fprintf(stderr, "casfs: %s%s%s (see '%s')\n", where.c_str(), where.empty() ? "" : ": ", e.what(),
                 help.c_str());
    return kExitUsage;
  }

  std::string where = CommandPath(app);
  std::vector<std::string> extras = app.remaining();
  if (where.empty()) {
    if (extras.empty()) {
      std::fputs(app.help().c_str(), stderr);
      return kExitUsage;
    }
    std::fprintf(stderr, "casfs: '%s' is not a casfs command (see 'casfs --help')\n", extras.front().c_str());
    return kExitUsage;
  }
  if (!extras.empty()) {
    std::fprintf(stderr, "casfs: %s: unexpected argument '%s' (see 'casfs %s --help')\n", where.c_str(),
                 extras.front().c_str(), where.c_str());
    return kExitUsage;
  }

  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    if (!command.owns_logging) SetUpLogging(globals.log_level.empty() ? "warn" : globals.log_level);
    return command.run();
  }
  return kExitUsage;
}

}  // namespace
}  // namespace casfs::tools

int main(int argc, char** argv) { return casfs::tools::Main(argc, argv); }
