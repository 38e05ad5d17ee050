#include "tools/copy.h"

#include <vector>

#include "fmt/format.h"
#include "tools/interrupt.h"

namespace casfs::tools {
namespace {

Status InterruptedStatus() { return Status::FromErrno("interrupted", EINTR); }

}  // namespace

Status CopyTail(Input& input, Writer& writer, const std::string& ref, Progress& progress) {
  int64_t held = writer.Size();
  if (held > 0) {
    auto skipped = input.Skip(held);
    if (!skipped.ok()) return Interrupted() ? InterruptedStatus() : skipped.status();
    if (*skipped < held) {
      return Status::FailedPrecondition(
          fmt::format("ingest \"{}\" already holds {} bytes but {} has only {}; start over with: casfs abort {}", ref,
                      held, input.name() == "-" ? "standard input" : input.name(), *skipped, ref));
    }
  }
  std::vector<char> buffer(kCopyChunk);
  int64_t done = held;
  progress.Set(done);
  while (true) {
    auto n = input.Read(buffer.data(), buffer.size());
    if (n.ok() && *n > 0) {
      // Even when interrupted: what was read is kept for the resume.
      CASFS_RETURN_IF_ERROR(writer.Write(buffer.data(), *n));
      done += static_cast<int64_t>(*n);
      progress.Set(done);
    }
    if (Interrupted()) return InterruptedStatus();
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (*n < buffer.size() && input.seekable()) break;  // a short positional read is the end
  }
  progress.Finish();
  return Status::Ok();
}

}  // namespace casfs::tools
