// casfs active [FILTER...]: ingests in progress, like `ctr content active`.
#include "CLI/CLI.hpp"
#include "tools/cli.h"
#include "tools/exit_codes.h"
#include "tools/format.h"

namespace casfs::tools {
namespace {

constexpr const char* kActiveCommand = "active";

struct ActiveArgs {
  std::vector<std::string> filters;
  bool quiet = false;
};

int Run(const GlobalOptions& globals, const ActiveArgs& args) {
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kActiveCommand, store.status());
  auto statuses = (*store)->ListStatuses(args.filters);
  if (!statuses.ok()) return Fail(kActiveCommand, statuses.status());

  if (globals.json) {
    auto json = nlohmann::json::array();
    for (const auto& status : *statuses) json.push_back(ToJson(status));
    PrintJson(json);
  } else if (args.quiet) {
    std::string out;
    for (const auto& status : *statuses) out += status.ref + "\n";
    PrintText(out);
  } else {
    Timestamp now = Timestamp::Now();
    Table table({"REF", "OFFSET", "TOTAL", "STARTED", "UPDATED"});
    for (const auto& status : *statuses) {
      table.AddRow({status.ref, HumanSize(status.offset), status.total > 0 ? HumanSize(status.total) : "-",
                    Age(status.started_at, now), Age(status.updated_at, now)});
    }
    PrintText(table.Render());
  }
  return kExitOk;
}

}  // namespace

void AddActiveCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<ActiveArgs>();
  CLI::App* app = casfs.add_subcommand(kActiveCommand, "List ingests in progress: REF, OFFSET, TOTAL, STARTED, UPDATED");
  app->add_option("FILTER", args->filters, "containerd filters on the field ref");
  app->add_flag("-q,--quiet", args->quiet, "Print refs only");
  app->footer(R"(OFFSET is what the ingest holds, TOTAL the size it expects ("-": unknown),
both 1024-based. --json prints exact numbers, RFC 3339 times and the
expected digest.

Examples:
  casfs active
  casfs active 'ref~=^dl-'
  casfs active -q | xargs -r casfs abort)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
