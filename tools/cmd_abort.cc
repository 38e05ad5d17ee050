// casfs abort REF...: drop ingests in progress.
#include "CLI/CLI.hpp"
#include "tools/cli.h"
#include "tools/exit_codes.h"

namespace casfs::tools {
namespace {

constexpr const char* kAbortCommand = "abort";

struct AbortArgs {
  std::vector<std::string> refs;
  bool force = false;
};

int Run(const GlobalOptions& globals, const AbortArgs& args) {
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kAbortCommand, store.status());
  int exit_code = kExitOk;
  for (const auto& ref : args.refs) {
    // As with rm: the engine's Abort of a missing ref succeeds (containerd).
    Status status = Status::Ok();
    if (!args.force) {
      auto current = (*store)->GetStatus(ref);
      if (!current.ok()) status = current.status();
    }
    if (status.ok()) status = (*store)->Abort(ref);
    if (status.ok()) continue;
    Report(kAbortCommand, status);
    if (exit_code == kExitOk) exit_code = ExitCodeFor(status);
  }
  return exit_code;
}

}  // namespace

void AddAbortCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<AbortArgs>();
  CLI::App* app = casfs.add_subcommand(kAbortCommand, "Abort ingests: their data is deleted");
  app->add_option("REF", args->refs, "Ingests to abort")->required();
  app->add_flag("-f,--force", args->force, "A ref that is not active is not an error");
  app->footer(R"(An ingest whose writer is still open (a running casfs ingest, a file open
for writing in a mount) is busy: exit 5.

Examples:
  casfs abort dl-1
  casfs active -q 'ref~=^casfs-add-' | xargs -r casfs abort)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
