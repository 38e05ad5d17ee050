// casfs mount MOUNTPOINT: the store as files (docs/mount-interface.md). The
// FUSE layer does all of it; this only fills its options.
#include "CLI/CLI.hpp"
#include "core/posix.h"
#include "tools/cli.h"
#include "tools/exit_codes.h"

#if CASFS_HAVE_MOUNT
#include "fuse/mount.h"
#endif

namespace casfs::tools {
namespace {

constexpr const char* kMountCommand = "mount";

struct MountArgs {
  std::string mountpoint;
  std::vector<std::string> options;  // each a comma-separated -o string
  bool foreground = false;
  bool debug = false;
  std::string log_file;
};

int Run(const GlobalOptions& globals, const MountArgs& args) {
#if CASFS_HAVE_MOUNT
  fuse::MountOptions options;
  auto root = ResolveRoot(globals);
  if (!root.ok()) return Fail(kMountCommand, root.status());
  options.root = *root;
  options.mountpoint = args.mountpoint;
  options.foreground = args.foreground;
  options.debug = args.debug;
  options.log_file = args.log_file;
  if (!globals.log_level.empty()) options.log_level = globals.log_level;
  for (const auto& text : args.options) {
    Status applied = fuse::ApplyMountOptionString(text, &options);
    if (!applied.ok()) return Fail(kMountCommand, applied);
  }
  auto st = posix::Stat(options.mountpoint);
  if (!st.ok()) return Fail(kMountCommand, st.status().WithContext("mountpoint"));
  if (!S_ISDIR(st->st_mode)) {
    return Fail(kMountCommand, Status::InvalidArgument("mountpoint " + args.mountpoint + " is not a folder"));
  }
  // RunMount logs its own reason for a failure; its 1 is not a failed check.
  return fuse::RunMount(options) == 0 ? kExitOk : kExitIOError;
#else
  (void)globals;
  (void)args;
  return Fail(kMountCommand, Status::NotImplemented("this casfs was built without the FUSE mount"));
#endif
}

std::string MountHelp() {
#if CASFS_HAVE_MOUNT
  return fuse::MountOptionsHelp();
#else
  return "  (this build has no FUSE mount)\n";
#endif
}

}  // namespace

void AddMountCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<MountArgs>();
  CLI::App* app = casfs.add_subcommand(kMountCommand, "Mount the store as a file tree (FUSE)");
  app->add_option("MOUNTPOINT", args->mountpoint, "An existing folder to mount on")->required();
  app->add_option("-o", args->options, "Mount options, comma-separated (see below); repeatable")
      ->allow_extra_args(false)
      ->type_name("OPTS");
  app->add_flag("-f,--foreground", args->foreground, "Serve in this process and log to stderr");
  app->add_flag("-d,--debug", args->debug, "libfuse's request trace on stderr (implies -f)");
  app->add_option("--log-file", args->log_file, "Log here instead of syslog (background) or stderr")
      ->type_name("FILE");
  app->footer(R"(Returns once the mount is ready and serves in the background (unless -f).
fusermount3 -u MOUNTPOINT, SIGINT or SIGTERM unmount. The tree:
  blobs/<alg>/<hex>   committed content, read-only; labels are user.* xattrs
  ingest/<ref>        write here, then mv to blobs/sha256/<hex> to commit
The CLI and the mount may use the same root at once. Exit 8 when the mount
cannot be made (the reason is logged).

Options (-o):
)" + MountHelp() + R"(
Examples:
  casfs mount /tmp/casfs
  casfs mount -o ro,allow_other /srv/blobs
  casfs --root /data/store mount -f /mnt/store)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }, /*owns_logging=*/true});
}

}  // namespace casfs::tools
