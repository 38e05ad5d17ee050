#include "fuse/mount_logging.h"

#define FUSE_USE_VERSION 314
#include <fuse_log.h>
#include <syslog.h>

#include <cstdarg>
#include <cstdio>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

namespace casfs::fuse {
namespace {

void LibfuseLog(enum fuse_log_level level, const char* fmt, va_list ap) {
  char line[1024];
  int n = std::vsnprintf(line, sizeof line, fmt, ap);
  if (n <= 0) return;
  size_t len = std::min<size_t>(static_cast<size_t>(n), sizeof line - 1);
  while (len > 0 && line[len - 1] == '\n') --len;
  std::string_view text(line, len);
  switch (level) {
    case FUSE_LOG_EMERG:
    case FUSE_LOG_ALERT:
    case FUSE_LOG_CRIT: spdlog::critical("libfuse: {}", text); break;
    case FUSE_LOG_ERR: spdlog::error("libfuse: {}", text); break;
    case FUSE_LOG_WARNING: spdlog::warn("libfuse: {}", text); break;
    case FUSE_LOG_NOTICE:
    case FUSE_LOG_INFO: spdlog::info("libfuse: {}", text); break;
    case FUSE_LOG_DEBUG: spdlog::debug("libfuse: {}", text); break;
  }
}

}  // namespace

Status SetUpMountLogging(const LogTarget& target) {
  std::string level_name = target.level == "warning" ? "warn" : target.level;
  spdlog::level::level_enum level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") {
    return Status::InvalidArgument("unknown log level \"" + target.level + "\"");
  }
  std::shared_ptr<spdlog::logger> logger;
  for (const char* name : {"casfs-mount-file", "casfs-mount", "casfs-mount-syslog"}) spdlog::drop(name);
  try {
    if (!target.file.empty()) {
      logger = spdlog::basic_logger_mt("casfs-mount-file", target.file.string());
    } else if (target.foreground) {
      logger = spdlog::stderr_color_mt("casfs-mount");
    } else {
      logger = spdlog::syslog_logger_mt("casfs-mount-syslog", "casfs", LOG_PID, LOG_DAEMON);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status::FromErrno("log file " + target.file.string() + ": " + e.what(), EIO);
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  fuse_set_log_func(LibfuseLog);
  return Status::Ok();
}

}  // namespace casfs::fuse
