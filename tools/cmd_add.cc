// casfs add FILE...: the everyday command, sha256sum's shape.
#include <unistd.h>

#include <optional>

#include "CLI/CLI.hpp"
#include "fmt/format.h"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/copy.h"
#include "tools/exit_codes.h"
#include "tools/format.h"
#include "tools/interrupt.h"

namespace casfs::tools {
namespace {

constexpr const char* kAddCommand = "add";

struct AddArgs {
  std::vector<std::string> files;
  std::string algorithm = "sha256";
  std::vector<std::string> labels;
};

// Ingests one file under a fresh ref and commits it. Every failure aborts
// the ingest: `add` never resumes (the file may have changed since), so a
// leftover ingest would only be debris.
Result<Digest> AddOne(LocalStore& store, const std::string& file, int index, const Labels& labels,
                      Algorithm algorithm) {
  auto input = Input::Open(file);
  if (!input.ok()) return input.status();
  LocalWriterOptions options;
  options.ref = fmt::format("casfs-add-{}-{} {}", ::getpid(), index, file);
  options.total = input->size().value_or(0);
  options.mode = IngestOpenMode::kCreateOnly;
  auto writer = store.OpenWriter(options);
  if (!writer.ok()) return writer.status();

  auto fail = [&](const Status& status) -> Status {
    (void)(*writer)->Close();
    (void)store.Abort(options.ref);
    return status;
  };
  Progress progress(file, options.total);
  Status copied = CopyTail(*input, **writer, options.ref, progress);
  if (!copied.ok()) return fail(copied);
  CommitOptions commit;
  if (!labels.empty()) commit.labels = labels;
  commit.algorithm = algorithm;
  Status committed = (*writer)->Commit(input->size().value_or(0), std::nullopt, commit);
  if (!committed.ok() && !committed.IsAlreadyExists()) return fail(committed);
  auto digest = (*writer)->CommittedDigest();
  if (!digest.has_value()) return Status::Internal("commit of " + file + " named no digest");
  return *digest;
}

int Run(const GlobalOptions& globals, const AddArgs& args) {
  auto algorithm = AlgorithmFromName(args.algorithm);
  if (!algorithm) return Fail(kAddCommand, Status::InvalidArgument("unknown algorithm " + args.algorithm));
  auto labels = ParseLabelArgs(args.labels);
  if (!labels.ok()) return Fail(kAddCommand, labels.status());
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kAddCommand, store.status());
  CatchInterrupts();
  int exit_code = kExitOk;
  for (size_t i = 0; i < args.files.size(); ++i) {
    const std::string& file = args.files[i];
    auto digest = AddOne(**store, file, static_cast<int>(i), *labels, *algorithm);
    if (Interrupted()) {
      ReportText(kAddCommand, "interrupted; " + file + " was not added");
      return kExitInterrupted;
    }
    if (!digest.ok()) {
      Report(kAddCommand, digest.status());
      if (exit_code == kExitOk) exit_code = ExitCodeFor(digest.status());
      continue;
    }
    PrintText(digest->ToString() + "  " + file + "\n");
  }
  return exit_code;
}

}  // namespace

void AddAddCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<AddArgs>();
  CLI::App* app = casfs.add_subcommand(kAddCommand, "Store files, each under its own digest; print DIGEST  FILE");
  app->add_option("FILE", args->files, "Files to store; - is standard input")->required();
  app->add_option("-a,--algorithm", args->algorithm, "Digest algorithm of the names: sha256 (default), sha384, sha512")
      ->check(CLI::IsMember({"sha256", "sha384", "sha512"}))
      ->type_name("ALG");
  app->add_option("--label", args->labels, "Give every blob the label KEY=VALUE (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  app->footer(R"(Each file is ingested, verified and committed durably; content already in
the store is not stored twice. Output is one "DIGEST  FILE" line per file, as
sha256sum prints. A file that cannot be added is reported on stderr and the
others still are; the exit status is then that of the first failure.
--algorithm sha384|sha512 names the blobs by that digest instead
(blobs/sha512/<hex>); the store hashes sha256 as it writes, so these cost
one more read of each file's bytes at commit. containerd reads such blobs
but names what it writes by sha256.

Examples:
  casfs add photo.jpg notes.txt
  tar c dir | casfs add -
  casfs add --label owner=me report.pdf)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
