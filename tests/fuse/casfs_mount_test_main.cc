// A test-only launcher: `casfs_mount_test ROOT MOUNTPOINT [-f] [-o OPTS]...`
// calls RunMount as `casfs mount` does, for the mount tests and the
// benchmark to start a daemon without the CLI.
#include <cstdio>
#include <cstring>
#include <string>

#include "fuse/mount.h"

int main(int argc, char** argv) {
  casfs::fuse::MountOptions options;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-f") {
      options.foreground = true;
    } else if (arg == "-d") {
      options.debug = true;
    } else if (arg == "-o" && i + 1 < argc) {
      casfs::Status status = casfs::fuse::ApplyMountOptionString(argv[++i], &options);
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 2;
      }
    } else if (arg == "--log-level" && i + 1 < argc) {
      options.log_level = argv[++i];
    } else if (arg == "--log-file" && i + 1 < argc) {
      options.log_file = argv[++i];
    } else if (positional == 0) {
      options.root = arg;
      ++positional;
    } else if (positional == 1) {
      options.mountpoint = arg;
      ++positional;
    } else {
      std::fprintf(stderr, "usage: %s ROOT MOUNTPOINT [-f] [-d] [-o OPTS] [--log-level L] [--log-file F]\n",
                   argv[0]);
      return 2;
    }
  }
  if (positional != 2) {
    std::fprintf(stderr, "usage: %s ROOT MOUNTPOINT [-f] [-d] [-o OPTS]\n", argv[0]);
    return 2;
  }
  return casfs::fuse::RunMount(options);
}
