// File names of ingests: how a ref (any non-empty byte string) is written as
// one entry of the mount's ingest/ folder, and read back.
//
// '%' is written "%25" and '/' "%2F"; the refs "." and ".." (and only they)
// are written "%2E" and "%2E%2E". Nothing else is escaped, and any other '%'
// sequence is refused, so every ref has exactly one name and every name at
// most one ref: Decode(Encode(r)) == r, and Encode(Decode(n)) == n whenever
// Decode(n) succeeds.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace casfs::fuse {

// The longest file name the kernel passes (NAME_MAX).
inline constexpr size_t kMaxNameLength = 255;

// The file name of `ref`. kInvalidArgument when the ref is empty, contains
// NUL, or its name would exceed kMaxNameLength bytes (such refs are
// reachable only through the CLI).
Result<std::string> EncodeRefName(std::string_view ref);

// The ref a file name stands for. kInvalidArgument for an empty name, ".",
// "..", a name with '/' or NUL or longer than kMaxNameLength, and any '%'
// not starting one of the escapes above ("%2f", "%41", "%2E" inside a
// longer name, a trailing '%').
Result<std::string> DecodeRefName(std::string_view name);

}  // namespace casfs::fuse
