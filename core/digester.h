// Streaming digest computation over OpenSSL's EVP interface.
#pragma once

#include <cstddef>
#include <memory>

#include "core/digest.h"

namespace casfs {

// Hashes a stream of bytes. Not thread-safe: one Digester per stream.
class Digester {
 public:
  explicit Digester(Algorithm algorithm);
  ~Digester();
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;

  Algorithm algorithm() const { return algorithm_; }
  void Update(const void* data, size_t size);
  // The digest of everything passed to Update so far; the stream may go on.
  Digest Current() const;
  // Starts over as if new.
  void Reset();

 private:
  struct Impl;
  Algorithm algorithm_;
  std::unique_ptr<Impl> impl_;
};

// One-shot helper.
Digest DigestOf(Algorithm algorithm, const void* data, size_t size);

}  // namespace casfs
