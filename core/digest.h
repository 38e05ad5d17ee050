// Content digests: "<algorithm>:<lowercase hex>", validated by go-digest's
// rules so that casfs accepts and rejects exactly what containerd does.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace casfs {

enum class Algorithm : uint8_t { kSha256, kSha384, kSha512 };

inline constexpr std::array<Algorithm, 3> kAllAlgorithms = {Algorithm::kSha256, Algorithm::kSha384,
                                                            Algorithm::kSha512};

// "sha256", "sha384", "sha512".
std::string_view AlgorithmName(Algorithm algorithm);
// The inverse of AlgorithmName; nullopt for anything else (case-sensitive).
std::optional<Algorithm> AlgorithmFromName(std::string_view name);
// Digest size in bytes (32, 48, 64); the hex form is twice as long.
size_t AlgorithmSize(Algorithm algorithm);

// A validated digest. Construct with Digest::Parse or Digest::FromBytes; a
// Digest value is always valid.
class Digest {
 public:
  // Validates as go-digest does, in its order: a ':' neither first nor last
  // ("invalid checksum digest format"), a known algorithm ("unsupported
  // digest algorithm"), the right encoded length ("invalid checksum digest
  // length"), then lowercase hex only ("invalid checksum digest format").
  // Every failure is kInvalidArgument with a message that quotes the input.
  static Result<Digest> Parse(std::string_view text);

  // From a raw hash value of AlgorithmSize(algorithm) bytes.
  static Digest FromBytes(Algorithm algorithm, const unsigned char* bytes);

  // True when `hex` is exactly the lowercase hex form an algorithm's digest
  // has (used to validate file names under blobs/<alg>/).
  static bool IsValidHex(Algorithm algorithm, std::string_view hex);

  Algorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const { return AlgorithmName(algorithm_); }
  const std::string& hex() const { return hex_; }
  // "<alg>:<hex>".
  std::string ToString() const;

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) {
    return a.ToString() <=> b.ToString();
  }

 private:
  Digest(Algorithm algorithm, std::string hex) : algorithm_(algorithm), hex_(std::move(hex)) {}
  Algorithm algorithm_ = Algorithm::kSha256;
  std::string hex_;
};

// sha256 of no bytes.
const Digest& EmptySha256();

}  // namespace casfs
