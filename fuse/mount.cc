// Mounting: options, the libfuse session (multi-threaded loop), the
// background daemon, signals and the clean unmount.
#include "fuse/mount.h"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/local_store.h"
#include "fuse/filesystem.h"
#include "fuse/mount_logging.h"

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
namespace {

// fuse_opt splits -o values at commas; a literal comma is "\\,".
std::string EscapeOptionValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Whether a casfs mount is on `mountpoint` now (/proc/self/mounts writes
// space, tab, newline and backslash in paths as octal escapes).
bool IsMountedHere(const std::filesystem::path& mountpoint) {
  std::string escaped;
  for (char c : mountpoint.string()) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      escaped += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    } else {
      escaped += c;
    }
  }
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string source, target, type;
    fields >> source >> target >> type;
    if (target == escaped && type.starts_with("fuse.casfs")) return true;
  }
  return false;
}

// Owns the session: unmounts and destroys it, and restores the signal
// handlers, on every path out of RunMount.
class Session {
 public:
  explicit Session(fuse_session* se) : se_(se) {}
  ~Session() {
    if (se_ == nullptr) return;
    if (handlers_) fuse_remove_signal_handlers(se_);
    if (mounted_) fuse_session_unmount(se_);
    fuse_session_destroy(se_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  fuse_session* get() const { return se_; }
  void set_handlers() { handlers_ = true; }
  void set_mounted() { mounted_ = true; }

 private:
  fuse_session* se_;
  bool handlers_ = false;
  bool mounted_ = false;
};

}  // namespace

int RunMount(const MountOptions& options) {
  bool foreground = options.foreground || options.debug;
  LogTarget log;
  log.foreground = foreground;
  log.level = options.debug ? "debug" : options.log_level;
  log.file = options.log_file.empty() ? std::filesystem::path() : std::filesystem::absolute(options.log_file);
  if (Status status = SetUpMountLogging(log); !status.ok()) {
    std::fprintf(stderr, "casfs mount: %s\n", status.ToString().c_str());
    return 1;
  }
  // Until the daemon detaches, a failure must reach the terminal that
  // started it: in the background the log is syslog (or a file), which the
  // user at that terminal would not see.
  auto refuse = [foreground](const std::string& message) {
    spdlog::error("casfs mount: {}", message);
    if (!foreground) std::fprintf(stderr, "casfs mount: %s\n", message.c_str());
    return 1;
  };
  if (options.root.empty() || options.mountpoint.empty()) {
    return refuse("a store root and a mountpoint are needed");
  }
  // The daemon works from "/", so every path is made absolute first.
  std::error_code ec;
  std::filesystem::path mountpoint = std::filesystem::canonical(options.mountpoint, ec);
  if (ec || !std::filesystem::is_directory(mountpoint)) {
    return refuse(fmt::format("mountpoint {}: {}", options.mountpoint.string(),
                  ec ? ec.message() : "not a folder"));
  }
  std::filesystem::path root = std::filesystem::absolute(options.root).lexically_normal();

  StoreOptions store_options;
  store_options.read_only = options.read_only;
  auto store = LocalStore::Open(root, store_options);
  if (!store.ok()) {
    return refuse(fmt::format("store {}: {}", root.string(), store.status().ToString()));
  }
  FilesystemOptions fs_options;
  fs_options.read_only = options.read_only;
  auto fs = std::make_unique<Filesystem>(std::move(store.value()), fs_options);

  // Owner and mode checks by the kernel (blobs are 0444, folders 0755), so
  // that users other than the owner get EACCES where the contract says.
  std::string mount_options = "fsname=casfs:" + EscapeOptionValue(root.string()) +
                              ",subtype=casfs,default_permissions";
  if (options.allow_other) mount_options += ",allow_other";
  if (options.read_only) mount_options += ",ro";
  for (const std::string& extra : options.fuse_options) mount_options += "," + extra;
  std::vector<std::string> argv_text = {"casfs", "-o", mount_options};
  if (options.debug) argv_text.push_back("-d");
  std::vector<char*> argv;
  for (std::string& arg : argv_text) argv.push_back(arg.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  Session session(fuse_session_new(&args, &Filesystem::Operations(), sizeof(fuse_lowlevel_ops), fs.get()));
  fuse_opt_free_args(&args);
  if (session.get() == nullptr) {
    return refuse(fmt::format("bad mount options \"{}\"", mount_options));
  }
  if (fuse_set_signal_handlers(session.get()) != 0) {
    return refuse("cannot install signal handlers");
  }
  session.set_handlers();
  if (fuse_session_mount(session.get(), mountpoint.c_str()) != 0) {
    return refuse(fmt::format("cannot mount on {}", mountpoint.string()));
  }
  session.set_mounted();
  spdlog::info("casfs mount: {} on {}{}", root.string(), mountpoint.string(), options.read_only ? " (ro)" : "");

  // The mount is made: requests queue until the loop serves them, so the
  // caller may return now and find the mount working.
  if (!foreground) fuse_daemonize(0);

  fuse_loop_config* config = fuse_loop_cfg_create();
  unsigned threads = options.max_threads != 0 ? options.max_threads : 10;
  // Only the maximum: libfuse 3.14 then keeps every thread it started
  // (starting and ending threads per request costs more than idling).
  fuse_loop_cfg_set_max_threads(config, threads);
  int loop = fuse_session_loop_mt(session.get(), config);
  fuse_loop_cfg_destroy(config);
  // A positive result is the signal that ended the loop (SIGINT, SIGTERM,
  // SIGHUP): a requested, clean unmount. fusermount3 -u ends it with 0.
  // A lazy unmount (fusermount3 -uz) with files still open ends the
  // connection when the last of them closes: the kernel aborts it rather
  // than sending DESTROY, and the loop reports ECONNABORTED. That is the
  // unmount the user asked for, unless the mount is still there (an abort
  // through /sys/fs/fuse/connections).
  if (loop == -ECONNABORTED && !IsMountedHere(mountpoint)) {
    spdlog::info("casfs mount: {} unmounted (lazily; the connection ended with its last open file)",
                 mountpoint.string());
    return 0;
  }
  if (loop < 0) {
    spdlog::error("casfs mount: session on {} failed: {}", mountpoint.string(), std::strerror(-loop));
    return 1;
  }
  spdlog::info("casfs mount: {} unmounted", mountpoint.string());
  return 0;
}

}  // namespace casfs::fuse
