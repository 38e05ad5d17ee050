// Mounting a store: the one entry point of the FUSE layer. The CLI's
// `casfs mount` fills MountOptions from its command line and calls
// RunMount; tests do the same from a child process.
//
// What the mount shows and how it answers is the mount contract,
// docs/mount-interface.md.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace casfs::fuse {

struct MountOptions {
  // The store root (created when missing, unless read_only) and an existing
  // folder to mount it on. Relative paths are taken from the current folder
  // at the call (the background daemon changes to "/").
  std::filesystem::path root;
  std::filesystem::path mountpoint;

  // Serve in the calling process and log to stderr (`-f`). Otherwise the
  // process forks once the mount is ready: the caller's process exits 0 and
  // a daemon serves, logging to syslog or to log_file.
  bool foreground = false;
  // `-o ro`: every change is EROFS; the store is opened read-only.
  bool read_only = false;
  // `-o allow_other`: other users may reach the mount (for users other
  // than root this needs user_allow_other in /etc/fuse.conf).
  bool allow_other = false;
  // `-o debug` / `-d`: libfuse's request trace on stderr and log level
  // "debug"; implies foreground, as in other FUSE filesystems.
  bool debug = false;
  // spdlog level name: trace, debug, info, warn (or warning), error,
  // critical, off.
  std::string log_level = "info";
  // Log to this file instead of stderr/syslog (appended to).
  std::filesystem::path log_file;
  // Worker threads of the session's loop (0: libfuse's default, 10).
  unsigned max_threads = 0;
  // Other `-o` options, one per entry, handed to libfuse's mount unchanged
  // (e.g. "fsname=mystore", "default_permissions"). Unknown ones make
  // RunMount fail before mounting.
  std::vector<std::string> fuse_options;
};

// Applies one comma-separated `-o` string (as `mount -o` takes it) to
// `options`: ro, rw, allow_other, debug, max_threads=N, log_level=NAME
// set the fields above; anything else is appended to fuse_options.
// kInvalidArgument for an empty item or a malformed max_threads.
Status ApplyMountOptionString(std::string_view text, MountOptions* options);

// Lines describing the accepted `-o` options, for `casfs mount --help`.
std::string MountOptionsHelp();

// Mounts `options.root` on `options.mountpoint` and serves until the mount
// goes away: `fusermount3 -u`, SIGINT, SIGTERM or SIGHUP unmount cleanly.
//
// Returns the process exit status: 0 after a clean unmount; 1 when the
// store cannot be opened or the mount cannot be made (the reason is
// logged; nothing is left mounted). In background mode the calling process
// exits with status 0 from inside this call once the mount answers; only
// the daemon ever returns from it.
//
// Call it from a process with no other threads when in background mode
// (it forks).
int RunMount(const MountOptions& options);

}  // namespace casfs::fuse
