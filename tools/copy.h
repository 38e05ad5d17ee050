// Feeding a Writer from an Input, resuming where the ingest stands.
#pragma once

#include "core/writer.h"
#include "tools/input.h"
#include "tools/progress.h"

#include <cstddef>

namespace casfs::tools {

// The buffer size for every stream the CLI copies (ingest, cat, export,
// verify): large enough that syscalls and hashing, not the loop, set the
// pace.
inline constexpr size_t kCopyChunk = 1 << 20;

// Copies the input's bytes from writer.Size() on (what the ingest already
// holds is skipped: sought past when the input is seekable, read and
// dropped otherwise), until the input ends. kFailedPrecondition when the
// input is shorter than what the ingest holds (naming `ref` and the sizes).
// An interrupt (interrupt.h) stops the copy with a non-ok status once what
// was read is written; nothing is committed.
Status CopyTail(Input& input, Writer& writer, const std::string& ref, Progress& progress);

}  // namespace casfs::tools
