#include "core/fault_injection.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace casfs {

namespace {

// The points named by CASFS_FAULT, as one string with a comma before and
// after each name, so that a lookup is one substring search.
const std::string& ArmedPoints() {
  static const std::string armed = [] {
    const char* value = std::getenv("CASFS_FAULT");
    if (value == nullptr || *value == '\0') return std::string();
    return "," + std::string(value) + ",";
  }();
  return armed;
}

}  // namespace

void MaybeInjectFault(std::string_view point) {
  const std::string& armed = ArmedPoints();
  if (armed.empty() || point.empty()) return;
  std::string needle = ",";
  needle += point;
  needle += ",";
  if (armed.find(needle) == std::string::npos) return;
  // SIGKILL rather than abort() or _exit(): no handler, no atexit, no
  // flushing of stdio, no sanitizer report; the same death as `kill -9`.
  std::raise(SIGKILL);
}

}  // namespace casfs
