// Helpers for bench/fuse/run: test data, and the native baselines the
// mount is measured against, as plain programs (POSIX calls and OpenSSL's
// EVP SHA-256, nothing of casfs).
//
//   fuse_bench_tool gen FILE BYTES SEED        pseudo-random content
//   fuse_bench_tool sha256 FILE                its hex digest
//   fuse_bench_tool ingest-native SRC DIR      verified ingest: read SRC,
//       write DIR/.tmp, hash, fsync, rename to DIR/<hex>; prints seconds
//   fuse_bench_tool small-native DIR N SEED    the same for N 4 KiB files
//   fuse_bench_tool small-mount MNT N SEED     N 4 KiB files through a
//       mount: create ingest/<name>, write, close, hash, rename into
//       blobs/sha256/<hex>; prints seconds
//   fuse_bench_tool populate DIR N             N small files named as
//       sha256 blobs, for listings
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuse_bench_tool: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void Fill(char* buf, size_t size, uint64_t* state) {
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    uint64_t v = x * 0x2545F4914F6CDD1Dull;
    std::memcpy(buf + i, &v, 8);
  }
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  std::string Hex() {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

void WriteAll(int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      Die(what);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Gen(const char* path, uint64_t bytes, uint64_t seed) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die(path);
  std::vector<char> buf(1 << 20);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  while (bytes > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(bytes, buf.size()));
    Fill(buf.data(), buf.size(), &state);
    WriteAll(fd, buf.data(), n, path);
    bytes -= n;
  }
  if (::close(fd) != 0) Die(path);
  return 0;
}

int HashFile(const char* path) {
  int fd = ::open(path, O_RDONLY);
  if (fd < 0) Die(path);
  std::vector<char> buf(1 << 20);
  Sha256 hash;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) Die(path);
    if (n == 0) break;
    hash.Update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  std::printf("%s\n", hash.Hex().c_str());
  return 0;
}

int IngestNative(const char* src, const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  int in = ::open(src, O_RDONLY);
  if (in < 0) Die(src);
  std::string tmp = dir + "/.tmp-ingest";
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) Die(tmp);
  std::vector<char> buf(1 << 20);
  Sha256 hash;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) Die(src);
    if (n == 0) break;
    WriteAll(out, buf.data(), static_cast<size_t>(n), tmp);
    hash.Update(buf.data(), static_cast<size_t>(n));
  }
  if (::fsync(out) != 0) Die("fsync " + tmp);
  ::close(out);
  ::close(in);
  std::string target = dir + "/" + hash.Hex();
  if (::rename(tmp.c_str(), target.c_str()) != 0) Die("rename " + target);
  std::printf("%.6f\n", Seconds(start));
  return 0;
}

int SmallNative(const std::string& dir, int count, uint64_t seed) {
  char data[4096];
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    Fill(data, sizeof data, &state);
    std::string tmp = dir + "/.tmp-" + std::to_string(i);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) Die(tmp);
    WriteAll(fd, data, sizeof data, tmp);
    Sha256 hash;
    hash.Update(data, sizeof data);
    if (::fsync(fd) != 0) Die("fsync " + tmp);
    ::close(fd);
    std::string target = dir + "/" + hash.Hex();
    if (::rename(tmp.c_str(), target.c_str()) != 0) Die("rename " + target);
  }
  std::printf("%.6f\n", Seconds(start));
  return 0;
}

int SmallMount(const std::string& mnt, int count, uint64_t seed) {
  char data[4096];
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    Fill(data, sizeof data, &state);
    std::string ingest = mnt + "/ingest/small-" + std::to_string(i);
    int fd = ::open(ingest.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) Die(ingest);
    WriteAll(fd, data, sizeof data, ingest);
    if (::close(fd) != 0) Die("close " + ingest);
    Sha256 hash;
    hash.Update(data, sizeof data);
    std::string target = mnt + "/blobs/sha256/" + hash.Hex();
    if (::rename(ingest.c_str(), target.c_str()) != 0) Die("rename " + target);
  }
  std::printf("%.6f\n", Seconds(start));
  return 0;
}

int Populate(const std::string& dir, int count) {
  for (int i = 0; i < count; ++i) {
    std::string name = std::to_string(i);
    Sha256 hash;
    hash.Update(name.data(), name.size());
    std::string path = dir + "/" + hash.Hex();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0444);
    if (fd < 0) Die(path);
    WriteAll(fd, name.data(), name.size(), path);
    ::close(fd);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "gen" && argc == 5) return Gen(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10));
  if (cmd == "sha256" && argc == 3) return HashFile(argv[2]);
  if (cmd == "ingest-native" && argc == 4) return IngestNative(argv[2], argv[3]);
  if (cmd == "small-native" && argc == 5) return SmallNative(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
  if (cmd == "small-mount" && argc == 5) return SmallMount(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
  if (cmd == "populate" && argc == 4) return Populate(argv[2], std::atoi(argv[3]));
  std::fprintf(stderr, "usage: see the comment at the top of bench/fuse/fuse_bench_tool.cc\n");
  return 2;
}
