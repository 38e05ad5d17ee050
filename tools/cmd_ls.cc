// casfs ls [FILTER...]: the committed blobs, like `ctr content ls`.
#include "CLI/CLI.hpp"
#include "tools/cli.h"
#include "tools/exit_codes.h"
#include "tools/format.h"

namespace casfs::tools {
namespace {

constexpr const char* kLsCommand = "ls";

struct LsArgs {
  std::vector<std::string> filters;
  bool quiet = false;
};

int Run(const GlobalOptions& globals, const LsArgs& args) {
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kLsCommand, store.status());
  std::vector<BlobInfo> blobs;
  Status walked = (*store)->Walk(
      [&](const BlobInfo& info) {
        blobs.push_back(info);
        return Status::Ok();
      },
      args.filters);
  if (!walked.ok()) return Fail(kLsCommand, walked);

  if (globals.json) {
    auto json = nlohmann::json::array();
    for (const auto& blob : blobs) json.push_back(ToJson(blob));
    PrintJson(json);
  } else if (args.quiet) {
    std::string out;
    for (const auto& blob : blobs) out += blob.digest.ToString() + "\n";
    PrintText(out);
  } else {
    Timestamp now = Timestamp::Now();
    Table table({"DIGEST", "SIZE", "AGE", "LABELS"});
    for (const auto& blob : blobs) {
      table.AddRow({blob.digest.ToString(), HumanSize(blob.size), Age(blob.created_at, now), JoinLabels(blob.labels)});
    }
    PrintText(table.Render());
  }
  return kExitOk;
}

}  // namespace

void AddLsCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<LsArgs>();
  CLI::App* app = casfs.add_subcommand(kLsCommand, "List committed blobs: DIGEST, SIZE, AGE, LABELS");
  app->add_option("FILTER", args->filters,
                  "containerd filters on digest and labels.KEY; separate filters are OR, commas AND");
  app->add_flag("-q,--quiet", args->quiet, "Print digests only");
  app->footer(R"(SIZE is 1024-based (KiB, MiB, GiB); AGE counts from the commit. --json prints
every field, times in RFC 3339 with nanoseconds.

Filter syntax (containerd's): FIELD, FIELD==VALUE, FIELD!=VALUE, FIELD~=REGEX;
label keys with characters other than letters, digits, _ and . are quoted.

Examples:
  casfs ls
  casfs ls -q 'digest~=^sha256:3a'
  casfs ls 'labels."containerd.io/gc.root"'
  casfs ls 'labels."org.opencontainers.image.ref.name"==v1.2'
  casfs ls labels.owner==me labels.owner==you   # either)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
