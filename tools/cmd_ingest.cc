// casfs ingest REF [FILE|-]: containerd's Writer from the command line,
// with resume.
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

constexpr const char* kIngestCommand = "ingest";

struct IngestArgs {
  std::string ref;
  std::string file = "-";
  std::string expected;
  int64_t total = 0;
  std::vector<std::string> labels;
  bool no_commit = false;
};

int Run(const GlobalOptions& globals, const IngestArgs& args) {
  std::optional<Digest> expected;
  if (!args.expected.empty()) {
    auto parsed = Digest::Parse(args.expected);
    if (!parsed.ok()) return Fail(kIngestCommand, parsed.status());
    expected = *parsed;
  }
  auto labels = ParseLabelArgs(args.labels);
  if (!labels.ok()) return Fail(kIngestCommand, labels.status());
  if (args.total < 0) return Fail(kIngestCommand, Status::InvalidArgument("--total must not be negative"));
  auto input = Input::Open(args.file);
  if (!input.ok()) return Fail(kIngestCommand, input.status());
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kIngestCommand, store.status());

  CatchInterrupts();
  LocalWriterOptions options;
  options.ref = args.ref;
  options.total = args.total;
  options.expected = expected;
  auto writer = (*store)->OpenWriter(options);
  if (!writer.ok()) {
    if (writer.status().IsAlreadyExists() && expected) {
      // The content is already there (containerd's WriteBlob: success,
      // nothing read). Labels asked for still apply.
      for (const auto& [key, value] : *labels) {
        Status set = (*store)->SetLabel(*expected, key, value);
        if (!set.ok()) return Fail(kIngestCommand, set);
      }
      PrintText(expected->ToString() + "\n");
      return kExitOk;
    }
    return Fail(kIngestCommand, writer.status());
  }

  int64_t total = args.total > 0 ? args.total : (*writer)->GetStatus().total;
  if (total <= 0 && input->size()) total = *input->size();
  Progress progress(args.ref, total);
  Status copied = CopyTail(*input, **writer, args.ref, progress);
  if (!copied.ok()) {
    progress.Finish();
    (void)(*writer)->Close();  // keep what arrived: the same command resumes it
    if (Interrupted()) {
      ReportText(kIngestCommand, fmt::format("interrupted; \"{}\" keeps {} bytes, the same command resumes it", args.ref,
                                    (*writer)->Size()));
      return kExitInterrupted;
    }
    return Fail(kIngestCommand, copied);
  }
  if (args.no_commit) {
    Status closed = (*writer)->Close();
    if (!closed.ok()) return Fail(kIngestCommand, closed);
    return kExitOk;
  }

  int64_t size = args.total > 0 ? args.total : input->size().value_or(0);
  CommitOptions commit;
  if (!labels->empty()) commit.labels = *labels;
  Status committed = (*writer)->Commit(size, expected, commit);
  if (!committed.ok() && !committed.IsAlreadyExists()) return Fail(kIngestCommand, committed);
  // The name the blob got: a resumed ingest's stored expected digest may
  // name it under another algorithm than the running sha256.
  auto digest = (*writer)->CommittedDigest();
  if (!digest.has_value()) return Fail(kIngestCommand, Status::Internal("commit of " + args.ref + " named no digest"));
  PrintText(digest->ToString() + "\n");
  return kExitOk;
}

}  // namespace

void AddIngestCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* app = casfs.add_subcommand(kIngestCommand, "Write content under a ref (resumable), commit it, print its digest");
  app->add_option("REF", args->ref, "The ingest's name; the same REF resumes an unfinished ingest")->required();
  app->add_option("FILE", args->file, "Where the content comes from; - (the default) is standard input");
  app->add_option("--expected", args->expected, "Commit only if the content has this digest (ALG:HEX)")
      ->type_name("DIGEST");
  app->add_option("--total", args->total, "Commit only if the content has exactly N bytes")->type_name("N");
  app->add_option("--label", args->labels, "Give the blob the label KEY=VALUE (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  app->add_flag("--no-commit", args->no_commit, "Write and stop: the ingest stays active for a later resume");
  app->footer(R"(Resume: when REF is already active (casfs active), only the bytes it lacks
are written: FILE is read from that offset, standard input has that many
bytes skipped. A progress bar with rate and ETA is drawn on stderr when it is
a terminal and the size is known. SIGINT keeps what was written, so the same
command resumes. Prints the digest on success.

Examples:
  casfs ingest my-layer layer.tar
  curl -s URL | casfs ingest --expected sha256:3a6e... --total 1048576 dl-1 -
  casfs ingest --no-commit big-1 part1      # ... later:
  cat part1 part2 | casfs ingest big-1 -    # skips part1's bytes, commits)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
