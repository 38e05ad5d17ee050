#include "core/labels.h"

namespace casfs {
namespace {

constexpr std::string_view kHeader = "casfs-labels 1\n";
constexpr std::string_view kReservedPrefix = "casfs.";

void AppendEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '%': *out += "%25"; break;
      case '=': *out += "%3D"; break;
      case '\n': *out += "%0A"; break;
      case '\0': *out += "%00"; break;
      default: *out += c; break;
    }
  }
}

// Undoes AppendEscaped. Strict: only the four escapes Encode writes, in its
// spelling, and none of the escaped bytes raw.
bool Unescape(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=' || c == '\n' || c == '\0') return false;
    if (c != '%') {
      *out += c;
      continue;
    }
    std::string_view code = text.substr(i + 1, 2);
    if (code == "25") {
      *out += '%';
    } else if (code == "3D") {
      *out += '=';
    } else if (code == "0A") {
      *out += '\n';
    } else if (code == "00") {
      *out += '\0';
    } else {
      return false;
    }
    i += 2;
  }
  return true;
}

}  // namespace

Status ValidateLabel(std::string_view key, std::string_view value) {
  if (key.empty()) return Status::InvalidArgument("label key must not be empty");
  if (key.size() + value.size() > kMaxLabelSize) {
    std::string message = "label key and value greater than maximum size (4096 bytes), key: ";
    message += key.substr(0, 10);
    return Status::InvalidArgument(std::move(message));
  }
  if (key.starts_with(kReservedPrefix)) {
    std::string message = "label key ";
    message += key;
    message += " is reserved: keys starting with \"casfs.\" belong to the mount";
    return Status::PermissionDenied(std::move(message));
  }
  return Status::Ok();
}

Status ValidateLabels(const Labels& labels) {
  for (const auto& [key, value] : labels) CASFS_RETURN_IF_ERROR(ValidateLabel(key, value));
  return Status::Ok();
}

std::string EncodeLabels(const Labels& labels) {
  std::string out(kHeader);
  for (const auto& [key, value] : labels) {
    AppendEscaped(&out, key);
    out += '=';
    AppendEscaped(&out, value);
    out += '\n';
  }
  return out;
}

Result<Labels> DecodeLabels(std::string_view text, std::string_view origin) {
  auto fail = [&](size_t line, const char* why) {
    std::string message = "malformed labels in ";
    message += origin;
    message += ", line ";
    message += std::to_string(line);
    message += ": ";
    message += why;
    return Status::InvalidArgument(std::move(message));
  };
  if (!text.starts_with(kHeader)) return fail(1, "expected \"casfs-labels 1\"");
  text.remove_prefix(kHeader.size());

  Labels labels;
  std::string key, value;
  for (size_t line = 2; !text.empty(); ++line) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos) return fail(line, "no final newline");
    std::string_view entry = text.substr(0, end);
    text.remove_prefix(end + 1);

    size_t equals = entry.find('=');
    if (equals == std::string_view::npos) return fail(line, "no '='");
    if (!Unescape(entry.substr(0, equals), &key)) return fail(line, "bad key");
    if (!Unescape(entry.substr(equals + 1), &value)) return fail(line, "bad value");
    // Encode writes keys in order, once each; anything else was not written
    // by it and may hide a second, conflicting value.
    if (!labels.empty() && !(labels.rbegin()->first < key)) {
      return fail(line, "keys not strictly sorted");
    }
    labels.emplace_hint(labels.end(), key, value);
  }
  return labels;
}

}  // namespace casfs
