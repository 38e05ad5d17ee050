// casfs rm DIGEST...: delete blobs and their labels.
#include "CLI/CLI.hpp"
#include "fmt/format.h"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/exit_codes.h"

namespace casfs::tools {
namespace {

constexpr const char* kRmCommand = "rm";

struct RmArgs {
  std::vector<std::string> digests;
  bool force = false;
};

int Run(const GlobalOptions& globals, const RmArgs& args) {
  auto digests = ParseDigests(args.digests);
  if (!digests.ok()) return Fail(kRmCommand, digests.status());
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kRmCommand, store.status());
  int exit_code = kExitOk;
  for (const auto& digest : *digests) {
    // The engine deletes a missing blob "successfully" (containerd); a user
    // who names one wants to hear about it, as from rm(1).
    Status status = Status::Ok();
    if (!args.force) {
      auto info = (*store)->Info(digest);
      if (!info.ok()) status = info.status();
    }
    if (status.ok()) status = (*store)->Delete(digest);
    if (status.ok()) continue;
    Report(kRmCommand, status);
    if (exit_code == kExitOk) exit_code = ExitCodeFor(status);
  }
  return exit_code;
}

}  // namespace

void AddRmCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<RmArgs>();
  CLI::App* app = casfs.add_subcommand(kRmCommand, "Delete blobs and their labels");
  app->add_option("DIGEST", args->digests, "Blobs to delete (ALG:HEX)")->required();
  app->add_flag("-f,--force", args->force, "A blob that is not there is not an error");
  app->footer(R"(Readers that already opened a blob (a running cat, a file open in a mount)
keep reading it until they close it.

Examples:
  casfs rm sha256:3a6e...
  casfs ls -q labels.tmp==1 | xargs -r casfs rm)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
