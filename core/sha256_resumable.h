// A SHA-256 whose running state can be saved to bytes and restored later.
//
// Why not EVP: OpenSSL 3's EVP_MD_CTX keeps its state inside the provider
// and offers no way to export it. Resuming a large ingest without re-reading
// everything already hashed needs exactly that, so the writer's running hash
// uses OpenSSL's SHA-256 block functions directly (the same assembly, SHA-NI
// included, that EVP dispatches to). Everything else hashes through EVP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/digest.h"

namespace casfs {

class ResumableSha256 {
 public:
  ResumableSha256();
  ~ResumableSha256();
  ResumableSha256(const ResumableSha256&);
  ResumableSha256& operator=(const ResumableSha256&);

  void Update(const void* data, size_t size);
  // sha256 of all bytes so far; the stream may go on.
  Digest Current() const;
  void Reset();
  // Bytes fed so far.
  uint64_t length() const { return length_; }

  // An opaque snapshot of the state (a few hundred bytes, with a checksum).
  std::string Save() const;
  // Restores a snapshot made by Save; nullopt if it is malformed or its
  // checksum does not match.
  static std::optional<ResumableSha256> Load(const std::string& snapshot);

 private:
  struct State;
  State* state_;  // owned; a raw pointer keeps OpenSSL's deprecated type out of this header
  uint64_t length_ = 0;
};

}  // namespace casfs
