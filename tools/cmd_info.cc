// casfs info DIGEST: every field of one blob.
#include "CLI/CLI.hpp"
#include "fmt/format.h"
#include "tools/cli.h"
#include "tools/exit_codes.h"
#include "tools/format.h"

namespace casfs::tools {
namespace {

constexpr const char* kInfoCommand = "info";

struct InfoArgs {
  std::string digest;
};

int Run(const GlobalOptions& globals, const InfoArgs& args) {
  auto digest = Digest::Parse(args.digest);
  if (!digest.ok()) return Fail(kInfoCommand, digest.status());
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kInfoCommand, store.status());
  auto info = (*store)->Info(*digest);
  if (!info.ok()) return Fail(kInfoCommand, info.status());
  std::string path = (*store)->layout().BlobPath(*digest).string();

  if (globals.json) {
    auto json = ToJson(*info);
    json["path"] = path;
    PrintJson(json);
    return kExitOk;
  }
  Timestamp now = Timestamp::Now();
  std::string out;
  out += fmt::format("Digest:     {}\n", info->digest.ToString());
  out += fmt::format("Size:       {} ({} bytes)\n", HumanSize(info->size), info->size);
  out += fmt::format("CreatedAt:  {} ({})\n", FormatRfc3339Nano(info->created_at), Age(info->created_at, now));
  out += fmt::format("UpdatedAt:  {} ({})\n", FormatRfc3339Nano(info->updated_at), Age(info->updated_at, now));
  out += fmt::format("Path:       {}\n", path);
  out += fmt::format("Labels:     {}\n", info->labels.empty() ? "(none)" : "");
  for (const auto& [key, value] : info->labels) out += fmt::format("  {}={}\n", key, value);
  PrintText(out);
  return kExitOk;
}

}  // namespace

void AddInfoCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* app = casfs.add_subcommand(kInfoCommand, "Show every field of one blob");
  app->add_option("DIGEST", args->digest, "The blob (ALG:HEX)")->required();
  app->footer(R"(Fields: digest, size, created_at (the commit), updated_at (the last label
change), the backing file's path, labels.

Examples:
  casfs info sha256:3a6e...
  casfs info --json sha256:3a6e... | jq .labels)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
