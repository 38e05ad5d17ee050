// casfs cat DIGEST... (alias get): content to stdout, verified as it streams.
#include <unistd.h>

#include <vector>

#include "CLI/CLI.hpp"
#include "core/digester.h"
#include "fmt/format.h"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/copy.h"
#include "tools/exit_codes.h"
#include "tools/input.h"

namespace casfs::tools {
namespace {

constexpr const char* kCatCommand = "cat";

struct CatArgs {
  std::vector<std::string> digests;
};

// kFailedPrecondition names a mismatch; the caller turns it into exit 1.
Status CatOne(LocalStore& store, const Digest& digest, std::vector<char>& buffer) {
  auto reader = store.ReaderAt(digest);
  if (!reader.ok()) return reader.status();
  Digester digester(digest.algorithm());
  int64_t offset = 0;
  while (true) {
    auto n = (*reader)->ReadAt(buffer.data(), buffer.size(), offset);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    digester.Update(buffer.data(), *n);
    CASFS_RETURN_IF_ERROR(WriteAll(STDOUT_FILENO, buffer.data(), *n));
    offset += static_cast<int64_t>(*n);
  }
  Digest actual = digester.Current();
  if (actual != digest) {
    return Status::FailedPrecondition(fmt::format(
        "{}: content does not match its digest: it hashes to {} ({} bytes, already written to stdout)",
        digest.ToString(), actual.ToString(), offset));
  }
  return Status::Ok();
}

int Run(const GlobalOptions& globals, const CatArgs& args) {
  auto digests = ParseDigests(args.digests);
  if (!digests.ok()) return Fail(kCatCommand, digests.status());
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kCatCommand, store.status());
  std::vector<char> buffer(kCopyChunk);
  int exit_code = kExitOk;
  for (const auto& digest : *digests) {
    Status status = CatOne(**store, digest, buffer);
    if (status.ok()) continue;
    Report(kCatCommand, status);
    int code = status.Is(ErrorKind::kFailedPrecondition) ? kExitCheckFailed : ExitCodeFor(status);
    if (exit_code == kExitOk) exit_code = code;
  }
  return exit_code;
}

}  // namespace

void AddCatCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<CatArgs>();
  CLI::App* app = casfs.add_subcommand(kCatCommand, "Write blobs' content to standard output, verifying it");
  app->alias("get");
  app->add_option("DIGEST", args->digests, "Blobs to write, in order (ALG:HEX)")->required();
  app->footer(R"(The content is hashed as it streams. If a blob does not match its digest
(the store is corrupt), casfs says so on stderr and exits 1 -- but the bytes
have already gone to standard output: write to a temporary file and keep it
only on success when that matters. An unknown digest exits 3; the other
blobs are still written.

Examples:
  casfs cat sha256:3a6e... > photo.jpg
  casfs get sha256:3a6e... | tar x)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
