// Where the mount's log goes: stderr in the foreground, syslog in the
// background, or a file; libfuse's own messages (and its -o debug request
// trace) are routed into the same logger.
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace casfs::fuse {

struct LogTarget {
  bool foreground = true;
  std::string level = "info";
  std::filesystem::path file;  // empty: stderr (foreground) or syslog
};

// Replaces spdlog's default logger. kInvalidArgument for an unknown level,
// kIOError when the file cannot be opened.
Status SetUpMountLogging(const LogTarget& target);

}  // namespace casfs::fuse
