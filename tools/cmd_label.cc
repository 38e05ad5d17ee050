// casfs label DIGEST KEY=VALUE...: set or remove labels, all at once.
#include "CLI/CLI.hpp"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/exit_codes.h"

namespace casfs::tools {
namespace {

constexpr const char* kLabelCommand = "label";

struct LabelArgs {
  std::string digest;
  std::vector<std::string> labels;
};

int Run(const GlobalOptions& globals, const LabelArgs& args) {
  auto digest = Digest::Parse(args.digest);
  if (!digest.ok()) return Fail(kLabelCommand, digest.status());
  BlobInfo change;
  change.digest = *digest;
  std::vector<std::string> fieldpaths;
  for (const auto& text : args.labels) {
    auto label = ParseLabelArg(text);
    if (!label.ok()) return Fail(kLabelCommand, label.status());
    // Update's "labels.KEY" with an empty value deletes KEY.
    change.labels[label->first] = label->second;
    fieldpaths.push_back("labels." + label->first);
  }
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kLabelCommand, store.status());
  auto updated = (*store)->Update(change, fieldpaths);
  if (!updated.ok()) return Fail(kLabelCommand, updated.status());
  return kExitOk;
}

}  // namespace

void AddLabelCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<LabelArgs>();
  CLI::App* app = casfs.add_subcommand(kLabelCommand, "Set labels on a blob (KEY= removes KEY)");
  app->add_option("DIGEST", args->digest, "The blob (ALG:HEX)")->required();
  app->add_option("LABEL", args->labels, "KEY=VALUE sets, KEY= removes")->required();
  app->footer(R"(All changes are applied together, or none is (an invalid label changes
nothing). A label is valid when KEY is not empty, does not start with
"casfs." (reserved) and KEY and VALUE together are at most 4096 bytes.

Examples:
  casfs label sha256:3a6e... containerd.io/gc.root=2026-12-03T10:07:05Z
  casfs label sha256:3a6e... owner=me old=)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
