// Turning command-line words into engine values. The rules themselves
// (what a digest or a label may be) are the engine's.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/labels.h"
#include "core/status.h"

namespace casfs::tools {

// "KEY=VALUE" split at the first '='; kInvalidArgument without one. The
// pair is then checked by the engine's ValidateLabel.
Result<std::pair<std::string, std::string>> ParseLabelArg(std::string_view text);
// Every "KEY=VALUE" into one set; a later KEY wins.
Result<Labels> ParseLabelArgs(const std::vector<std::string>& texts);

// Digest::Parse of each word, all before any is used.
Result<std::vector<Digest>> ParseDigests(const std::vector<std::string>& texts);

}  // namespace casfs::tools
