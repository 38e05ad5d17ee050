#include "fuse/ref_name.h"

namespace casfs::fuse {
namespace {

constexpr std::string_view kDotName = "%2E";
constexpr std::string_view kDotDotName = "%2E%2E";

Status BadName(std::string_view name, std::string_view why) {
  std::string message = "bad ingest file name \"";
  message.append(name);
  message += "\": ";
  message.append(why);
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<std::string> EncodeRefName(std::string_view ref) {
  if (ref.empty()) return Status::InvalidArgument("an empty ref has no file name");
  if (ref == ".") return std::string(kDotName);
  if (ref == "..") return std::string(kDotDotName);
  std::string name;
  name.reserve(ref.size());
  for (char c : ref) {
    if (c == '\0') {
      return Status::InvalidArgument("ref contains NUL: it has no file name (use the CLI)");
    }
    if (c == '%') {
      name += "%25";
    } else if (c == '/') {
      name += "%2F";
    } else {
      name += c;
    }
  }
  if (name.size() > kMaxNameLength) {
    return Status::InvalidArgument("ref \"" + std::string(ref.substr(0, 32)) + "...\" needs a file name of " +
                                   std::to_string(name.size()) + " bytes, over " +
                                   std::to_string(kMaxNameLength) + " (use the CLI)");
  }
  return name;
}

Result<std::string> DecodeRefName(std::string_view name) {
  if (name.empty()) return BadName(name, "empty");
  if (name.size() > kMaxNameLength) return BadName(name.substr(0, 32), "longer than 255 bytes");
  if (name == "." || name == "..") return BadName(name, "not a file");
  if (name == kDotName) return std::string(".");
  if (name == kDotDotName) return std::string("..");
  std::string ref;
  ref.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '/' || c == '\0') return BadName(name, "'/' or NUL in a name");
    if (c != '%') {
      ref += c;
      continue;
    }
    std::string_view escape = name.substr(i, 3);
    if (escape == "%25") {
      ref += '%';
    } else if (escape == "%2F") {
      ref += '/';
    } else {
      return BadName(name, "'%' must start %25 or %2F (or the whole name be %2E or %2E%2E)");
    }
    i += 2;
  }
  return ref;
}

}  // namespace casfs::fuse
