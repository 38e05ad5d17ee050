#include "bench/core/native.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace casfs::bench {
namespace {

class EvpSha256 {
 public:
  EvpSha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) Die("EVP init");
  }
  ~EvpSha256() { EVP_MD_CTX_free(ctx_); }
  EvpSha256(const EvpSha256&) = delete;
  EvpSha256& operator=(const EvpSha256&) = delete;

  void Update(const void* data, size_t size) {
    if (EVP_DigestUpdate(ctx_, data, size) != 1) Die("EVP_DigestUpdate");
  }
  std::string FinalHex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) Die("EVP_DigestFinal_ex");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
      hex.push_back(kHex[md[i] >> 4]);
      hex.push_back(kHex[md[i] & 15]);
    }
    return hex;
  }

 private:
  EVP_MD_CTX* ctx_;
};

void WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      DieErrno("write");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void DieErrno(const std::string& what) {
  std::fprintf(stderr, "core_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void Die(const std::string& what) {
  std::fprintf(stderr, "core_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string EvpSha256Hex(const void* data, size_t size, size_t chunk) {
  EvpSha256 hash;
  const char* p = static_cast<const char*>(data);
  for (size_t off = 0; off < size; off += chunk) hash.Update(p + off, std::min(chunk, size - off));
  return hash.FinalHex();
}

std::filesystem::path PlainIngest(const std::filesystem::path& dir, const std::string& tmp_name,
                                  const void* data, size_t size,
                                  const PlainIngestOptions& options) {
  std::filesystem::path tmp = dir / tmp_name;
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) DieErrno("open " + tmp.string());
  EvpSha256 hash;
  const char* p = static_cast<const char*>(data);
  for (size_t off = 0; off < size; off += options.chunk) {
    size_t n = std::min(options.chunk, size - off);
    WriteAll(fd, p + off, n);
    hash.Update(p + off, n);
  }
  if (options.fsync_file && fsync(fd) != 0) DieErrno("fsync " + tmp.string());
  if (close(fd) != 0) DieErrno("close " + tmp.string());
  std::filesystem::path final_path = dir / hash.FinalHex();
  if (rename(tmp.c_str(), final_path.c_str()) != 0) DieErrno("rename " + tmp.string());
  if (options.fsync_folder) {
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) DieErrno("fsync " + dir.string());
    close(dfd);
  }
  return final_path;
}

std::string PlainRehash(const std::filesystem::path& path, char* buffer) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) DieErrno("open " + path.string());
  EvpSha256 hash;
  constexpr size_t kChunk = 1 << 20;
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buffer, kChunk, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      DieErrno("pread " + path.string());
    }
    if (n == 0) break;
    hash.Update(buffer, static_cast<size_t>(n));
    off += n;
  }
  close(fd);
  return hash.FinalHex();
}

}  // namespace casfs::bench
