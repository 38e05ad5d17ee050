// casfs verify [DIGEST...]: re-hash blobs on two threads, report the bad ones.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "core/digester.h"
#include "core/strays.h"
#include "fmt/format.h"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/copy.h"
#include "tools/exit_codes.h"
#include "tools/format.h"
#include "tools/progress.h"

namespace casfs::tools {
namespace {

constexpr const char* kVerifyCommand = "verify";
// The machines casfs targets have two cores; SHA-256 is the bottleneck.
constexpr int kWorkers = 2;

struct VerifyArgs {
  std::vector<std::string> digests;
};

struct Outcome {
  std::optional<Digest> actual;  // set when the blob was read to the end
  Status error;                  // set when it could not be
};

Outcome Rehash(LocalStore& store, const Digest& digest, std::atomic<int64_t>& bytes) {
  auto reader = store.ReaderAt(digest);
  if (!reader.ok()) return {std::nullopt, reader.status()};
  std::vector<char> buffer(kCopyChunk);
  Digester digester(digest.algorithm());
  int64_t offset = 0;
  while (true) {
    auto n = (*reader)->ReadAt(buffer.data(), buffer.size(), offset);
    if (!n.ok()) return {std::nullopt, n.status()};
    if (*n == 0) break;
    digester.Update(buffer.data(), *n);
    offset += static_cast<int64_t>(*n);
    bytes += static_cast<int64_t>(*n);
  }
  return {digester.Current(), Status::Ok()};
}

int Run(const GlobalOptions& globals, const VerifyArgs& args) {
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kVerifyCommand, store.status());
  int exit_code = kExitOk;
  auto note_error = [&](const Status& status) {
    Report(kVerifyCommand, status);
    if (exit_code == kExitOk) exit_code = ExitCodeFor(status);
  };

  std::vector<BlobInfo> blobs;
  std::vector<StrayEntry> strays;
  if (args.digests.empty()) {
    Status walked = (*store)->Walk([&](const BlobInfo& info) {
      blobs.push_back(info);
      return Status::Ok();
    });
    if (!walked.ok()) return Fail(kVerifyCommand, walked);
    auto found = FindStrays((*store)->layout());
    if (!found.ok()) return Fail(kVerifyCommand, found.status());
    strays = std::move(*found);
  } else {
    auto digests = ParseDigests(args.digests);
    if (!digests.ok()) return Fail(kVerifyCommand, digests.status());
    for (const auto& digest : *digests) {
      auto info = (*store)->Info(digest);
      if (info.ok()) {
        blobs.push_back(*info);
      } else {
        note_error(info.status());
      }
    }
  }

  int64_t total = 0;
  for (const auto& blob : blobs) total += blob.size;
  std::vector<Outcome> outcomes(blobs.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int> running{kWorkers};
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&] {
      for (size_t index = next++; index < blobs.size(); index = next++) {
        outcomes[index] = Rehash(**store, blobs[index].digest, bytes);
      }
      --running;
    });
  }
  {
    Progress progress("verify", total);
    if (progress.enabled()) {
      while (running > 0) {
        progress.Set(bytes);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  for (auto& worker : workers) worker.join();

  int corrupt = 0;
  auto problems = nlohmann::json::array();
  std::string out;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const Digest& digest = blobs[i].digest;
    const Outcome& outcome = outcomes[i];
    if (!outcome.actual) {
      // Deleted since the walk: nothing left to verify.
      if (outcome.error.IsNotFound() && args.digests.empty()) continue;
      note_error(outcome.error);
      continue;
    }
    if (*outcome.actual == digest) continue;
    ++corrupt;
    out += fmt::format("{}: corrupt (its content hashes to {})\n", digest.ToString(), outcome.actual->ToString());
    problems.push_back({{"digest", digest.ToString()}, {"problem", "corrupt"}, {"actual", outcome.actual->ToString()}});
  }
  for (const auto& stray : strays) {
    const bool misnamed = stray.kind == StrayEntry::Kind::kMisnamed;
    out += fmt::format("{}: {}\n", stray.path.string(),
                       misnamed ? "misnamed (not a digest of its folder's algorithm)"
                                : "not a blob (not a regular file; never read)");
    problems.push_back({{"path", stray.path.string()}, {"problem", misnamed ? "misnamed" : "not-a-file"}});
  }
  if (globals.json) {
    PrintJson({{"blobs", blobs.size()}, {"bytes", total}, {"problems", problems}});
  } else {
    PrintText(out);
  }
  if (StderrIsTerminal()) {
    ReportText(kVerifyCommand, fmt::format("{} blobs, {}: {} corrupt, {} stray entries", blobs.size(), HumanSize(total),
                                  corrupt, strays.size()));
  }
  if (corrupt > 0 || !strays.empty()) return kExitCheckFailed;
  return exit_code;
}

}  // namespace

void AddVerifyCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* app = casfs.add_subcommand(kVerifyCommand, "Re-hash blobs and report every corrupt or stray one");
  app->add_option("DIGEST", args->digests, "Blobs to check (default: all)");
  app->footer(R"(Reads every blob (two threads) and compares its content with its name. Each
problem is one line on stdout:
  DIGEST: corrupt (its content hashes to ACTUAL)
  PATH: misnamed (not a digest of its folder's algorithm)
  PATH: not a blob (not a regular file; never read)
Exit 1 if there is any; a blob that cannot be read is reported on stderr with
its own exit code. A progress bar and a summary go to stderr on a terminal.

Examples:
  casfs verify
  casfs verify sha256:3a6e... sha256:9f86...
  casfs verify --json | jq '.problems[].digest')");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
