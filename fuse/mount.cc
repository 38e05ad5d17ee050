#include "fuse/mount.h"

#include <charconv>

#include <spdlog/spdlog.h>

namespace casfs::fuse {

Status ApplyMountOptionString(std::string_view text, MountOptions* options) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    if (item.empty()) {
      return Status::InvalidArgument("empty item in mount options \"" + std::string(text) + "\"");
    }
    if (item == "ro") {
      options->read_only = true;
    } else if (item == "rw") {
      options->read_only = false;
    } else if (item == "allow_other") {
      options->allow_other = true;
    } else if (item == "debug") {
      options->debug = true;
    } else if (item.starts_with("max_threads=")) {
      std::string_view number = item.substr(std::string_view("max_threads=").size());
      unsigned value = 0;
      auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
      if (ec != std::errc() || ptr != number.data() + number.size() || value == 0) {
        return Status::InvalidArgument("bad mount option \"" + std::string(item) +
                                       "\": expected a positive number of threads");
      }
      options->max_threads = value;
    } else if (item.starts_with("log_level=")) {
      options->log_level = std::string(item.substr(std::string_view("log_level=").size()));
    } else {
      options->fuse_options.emplace_back(item);
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::string MountOptionsHelp() {
  return "  -o ro                  read-only: every change is EROFS\n"
         "  -o rw                  read-write (the default)\n"
         "  -o allow_other         let other users reach the mount\n"
         "  -o debug               trace every FUSE request (implies -f)\n"
         "  -o max_threads=N       worker threads (default 10)\n"
         "  -o log_level=LEVEL     trace, debug, info, warn, error, critical, off\n"
         "  -o fsname=NAME, -o default_permissions, ...: passed to libfuse\n";
}

}  // namespace casfs::fuse

namespace casfs::fuse {

// Placeholder until the session code lands, so that callers link.
int RunMount(const MountOptions& options) {
  spdlog::error("casfs mount {}: the FUSE layer is not built yet", options.mountpoint.string());
  return 1;
}

}  // namespace casfs::fuse
