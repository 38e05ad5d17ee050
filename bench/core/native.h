// The native baselines core_bench measures casfs against: OpenSSL EVP
// directly, and the plain POSIX loop that any verified ingest has to do
// (write, hash, fsync, rename). Kept minimal on purpose: a baseline with
// less work than the real job would flatter nobody, one with more would
// flatter casfs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace casfs::bench {

// Prints "core_bench: <what>: <strerror(errno)>" and exits 1. Benchmarks
// do not limp on after a failed syscall.
[[noreturn]] void DieErrno(const std::string& what);
[[noreturn]] void Die(const std::string& what);

// sha256 with EVP_sha256(), EVP_DigestUpdate in `chunk`-byte steps; returns
// the hex digest.
std::string EvpSha256Hex(const void* data, size_t size, size_t chunk);

struct PlainIngestOptions {
  size_t chunk = 1 << 20;      // bytes per write(2) and per hash update
  bool fsync_file = true;      // fsync the file before the rename
  bool fsync_folder = false;   // fsync the folder after the rename
};

// Writes `data` to `dir`/<tmp_name>, hashing as it goes, then renames it to
// `dir`/<sha256 hex>. Returns the final path.
std::filesystem::path PlainIngest(const std::filesystem::path& dir, const std::string& tmp_name,
                                  const void* data, size_t size,
                                  const PlainIngestOptions& options);

// Reads `path` with pread in 1 MiB steps into `buffer` (>= 1 MiB) and hashes
// it: what re-reading an ingest costs natively. Returns the hex digest.
std::string PlainRehash(const std::filesystem::path& path, char* buffer);

}  // namespace casfs::bench
