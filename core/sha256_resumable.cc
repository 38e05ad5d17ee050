// OpenSSL 3 deprecates the SHA256_* block interface in favour of EVP, but
// EVP cannot export a running state (see the header), and the writer's
// resume needs exactly that. The functions are still built into libcrypto 3;
// silence the deprecation here, and only here.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "core/sha256_resumable.h"

#include <openssl/sha.h>

#include <cstring>

namespace casfs {

struct ResumableSha256::State {
  SHA256_CTX ctx;
};

namespace {

// Snapshot layout (all integers little-endian):
//   magic "casfsS2R" | u32 version | u64 length |
//   u32 h[8] | u32 Nl | u32 Nh | 64 bytes of the partial block | u32 num | u32 md_len |
//   sha256 of everything before it (32 bytes)
// The fields are written one by one rather than as the struct's memory image
// so padding or a reordered struct in another build cannot be misread.
constexpr char kMagic[8] = {'c', 'a', 's', 'f', 's', 'S', '2', 'R'};
constexpr uint32_t kVersion = 1;
constexpr size_t kBodySize = 8 + 4 + 8 + 8 * 4 + 4 + 4 + SHA256_CBLOCK + 4 + 4;
constexpr size_t kSnapshotSize = kBodySize + SHA256_DIGEST_LENGTH;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : p_(reinterpret_cast<const unsigned char*>(bytes.data())) {}
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(*p_++) << (8 * i);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(*p_++) << (8 * i);
    return v;
  }
  void Bytes(void* out, size_t n) {
    std::memcpy(out, p_, n);
    p_ += n;
  }

 private:
  const unsigned char* p_;
};

}  // namespace

ResumableSha256::ResumableSha256() : state_(new State) { Reset(); }

ResumableSha256::~ResumableSha256() { delete state_; }

ResumableSha256::ResumableSha256(const ResumableSha256& other)
    : state_(new State(*other.state_)), length_(other.length_) {}

ResumableSha256& ResumableSha256::operator=(const ResumableSha256& other) {
  *state_ = *other.state_;
  length_ = other.length_;
  return *this;
}

void ResumableSha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  SHA256_Update(&state_->ctx, data, size);
  length_ += size;
}

Digest ResumableSha256::Current() const {
  SHA256_CTX copy = state_->ctx;
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &copy);
  return Digest::FromBytes(Algorithm::kSha256, out);
}

void ResumableSha256::Reset() {
  SHA256_Init(&state_->ctx);
  length_ = 0;
}

std::string ResumableSha256::Save() const {
  const SHA256_CTX& ctx = state_->ctx;
  std::string out;
  out.reserve(kSnapshotSize);
  out.append(kMagic, sizeof kMagic);
  PutU32(&out, kVersion);
  PutU64(&out, length_);
  for (SHA_LONG h : ctx.h) PutU32(&out, h);
  PutU32(&out, ctx.Nl);
  PutU32(&out, ctx.Nh);
  // OpenSSL treats the partial block as bytes (it memcpy's input into it),
  // so its memory image is the byte sequence.
  out.append(reinterpret_cast<const char*>(ctx.data), SHA256_CBLOCK);
  PutU32(&out, ctx.num);
  PutU32(&out, ctx.md_len);
  unsigned char checksum[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(out.data()), out.size(), checksum);
  out.append(reinterpret_cast<const char*>(checksum), sizeof checksum);
  return out;
}

std::optional<ResumableSha256> ResumableSha256::Load(const std::string& snapshot) {
  if (snapshot.size() != kSnapshotSize) return std::nullopt;
  unsigned char checksum[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(snapshot.data()), kBodySize, checksum);
  if (std::memcmp(checksum, snapshot.data() + kBodySize, sizeof checksum) != 0) return std::nullopt;
  if (std::memcmp(snapshot.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;

  Reader in(snapshot);
  char magic[sizeof kMagic];
  in.Bytes(magic, sizeof magic);
  if (in.U32() != kVersion) return std::nullopt;
  uint64_t length = in.U64();
  SHA256_CTX ctx;
  std::memset(&ctx, 0, sizeof ctx);
  for (SHA_LONG& h : ctx.h) h = in.U32();
  ctx.Nl = in.U32();
  ctx.Nh = in.U32();
  in.Bytes(ctx.data, SHA256_CBLOCK);
  ctx.num = in.U32();
  ctx.md_len = in.U32();

  // A checksum proves the bytes are as written, not that they were written
  // by this code: also check the context agrees with itself and the length.
  uint64_t bits = (static_cast<uint64_t>(ctx.Nh) << 32) | ctx.Nl;
  if (length > (UINT64_MAX >> 3) || bits != length * 8) return std::nullopt;
  if (ctx.num != length % SHA256_CBLOCK) return std::nullopt;
  if (ctx.md_len != SHA256_DIGEST_LENGTH) return std::nullopt;

  ResumableSha256 restored;
  restored.state_->ctx = ctx;
  restored.length_ = length;
  return restored;
}

}  // namespace casfs
