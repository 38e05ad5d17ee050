#include "core/digester.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "spdlog/spdlog.h"

namespace casfs {
namespace {

const EVP_MD* EvpOf(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kSha256: return EVP_sha256();
    case Algorithm::kSha384: return EVP_sha384();
    case Algorithm::kSha512: return EVP_sha512();
  }
  return EVP_sha256();
}

// OpenSSL only fails here on allocation failure or a broken provider; there
// is no sensible way to go on hashing, and a wrong digest would be worse
// than a crash.
void Check(int ok, const char* what) {
  if (ok != 1) {
    spdlog::critical("OpenSSL {} failed", what);
    std::abort();
  }
}

}  // namespace

struct Digester::Impl {
  EVP_MD_CTX* ctx = nullptr;
  // Current() finalizes a copy so the stream can go on; keeping the copy's
  // context around avoids an allocation per call.
  EVP_MD_CTX* scratch = nullptr;

  Impl() : ctx(EVP_MD_CTX_new()), scratch(EVP_MD_CTX_new()) {
    if (ctx == nullptr || scratch == nullptr) Check(0, "EVP_MD_CTX_new");
  }
  ~Impl() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(scratch);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

Digester::Digester(Algorithm algorithm) : algorithm_(algorithm), impl_(std::make_unique<Impl>()) {
  Reset();
}

Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::Update(const void* data, size_t size) {
  if (size == 0) return;
  Check(EVP_DigestUpdate(impl_->ctx, data, size), "EVP_DigestUpdate");
}

Digest Digester::Current() const {
  Check(EVP_MD_CTX_copy_ex(impl_->scratch, impl_->ctx), "EVP_MD_CTX_copy_ex");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  Check(EVP_DigestFinal_ex(impl_->scratch, out, &length), "EVP_DigestFinal_ex");
  return Digest::FromBytes(algorithm_, out);
}

void Digester::Reset() {
  Check(EVP_DigestInit_ex(impl_->ctx, EvpOf(algorithm_), nullptr), "EVP_DigestInit_ex");
}

Digest DigestOf(Algorithm algorithm, const void* data, size_t size) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  Check(EVP_Digest(data, size, out, &length, EvpOf(algorithm), nullptr), "EVP_Digest");
  return Digest::FromBytes(algorithm, out);
}

}  // namespace casfs
