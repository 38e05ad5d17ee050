#include "core/digest.h"

#include <cstdio>

#include "core/digester.h"

namespace casfs {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsLowerHex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

// go-digest's DigestRegexpAnchored, ^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$,
// decides between "unsupported" and "invalid format" for unknown algorithms.
bool LooksLikeDigest(std::string_view algorithm, std::string_view encoded) {
  if (algorithm.empty() || encoded.empty()) return false;
  bool after_separator = true;  // a group must start with an alnum
  for (char c : algorithm) {
    if (IsLowerAlnum(c)) {
      after_separator = false;
    } else if (c == '.' || c == '+' || c == '_' || c == '-') {
      if (after_separator) return false;
      after_separator = true;
    } else {
      return false;
    }
  }
  if (after_separator) return false;
  for (char c : encoded) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The input in double quotes with non-printable bytes escaped, so that a
// hostile name cannot forge log lines or terminal output.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

Status Invalid(std::string_view reason, std::string_view text) {
  std::string message(reason);
  message += ": ";
  message += Quote(text);
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kSha256: return "sha256";
    case Algorithm::kSha384: return "sha384";
    case Algorithm::kSha512: return "sha512";
  }
  return "sha256";
}

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  for (Algorithm algorithm : kAllAlgorithms) {
    if (AlgorithmName(algorithm) == name) return algorithm;
  }
  return std::nullopt;
}

size_t AlgorithmSize(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kSha256: return 32;
    case Algorithm::kSha384: return 48;
    case Algorithm::kSha512: return 64;
  }
  return 32;
}

Result<Digest> Digest::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Invalid("invalid checksum digest format", text);
  }
  std::string_view name = text.substr(0, colon);
  std::string_view encoded = text.substr(colon + 1);
  std::optional<Algorithm> algorithm = AlgorithmFromName(name);
  if (!algorithm) {
    if (!LooksLikeDigest(name, encoded)) return Invalid("invalid checksum digest format", text);
    return Invalid("unsupported digest algorithm", text);
  }
  if (encoded.size() != 2 * AlgorithmSize(*algorithm)) {
    return Invalid("invalid checksum digest length", text);
  }
  for (char c : encoded) {
    if (!IsLowerHex(c)) return Invalid("invalid checksum digest format", text);
  }
  return Digest(*algorithm, std::string(encoded));
}

Digest Digest::FromBytes(Algorithm algorithm, const unsigned char* bytes) {
  size_t size = AlgorithmSize(algorithm);
  std::string hex(2 * size, '\0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kHexDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return Digest(algorithm, std::move(hex));
}

bool Digest::IsValidHex(Algorithm algorithm, std::string_view hex) {
  if (hex.size() != 2 * AlgorithmSize(algorithm)) return false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

std::string Digest::ToString() const {
  std::string out(AlgorithmName(algorithm_));
  out += ':';
  out += hex_;
  return out;
}

const Digest& EmptySha256() {
  static const Digest empty = DigestOf(Algorithm::kSha256, nullptr, 0);
  return empty;
}

}  // namespace casfs
