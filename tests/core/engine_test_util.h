// Helpers for the storage engine's unit tests: a temp folder that removes
// itself, small file helpers, and writing/committing in one call.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/digester.h"
#include "core/local_store.h"

namespace casfs::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "casfs-engine") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + tag + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    // Make read-only leftovers removable for a non-root run.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      ::chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);
    }
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline bool Exists(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

inline Digest Sha256(const std::string& content) {
  return DigestOf(Algorithm::kSha256, content.data(), content.size());
}

// Deterministic pseudo-random bytes.
inline std::string Pattern(size_t size, uint32_t seed = 1) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

// Writes `content` under `ref` and commits it; returns the commit status.
inline Status WriteBlob(Store& store, const std::string& ref, const std::string& content,
                        const CommitOptions& options = {}) {
  WriterOptions wo;
  wo.ref = ref;
  auto writer = store.OpenWriter(wo);
  if (!writer.ok()) return writer.status();
  CASFS_RETURN_IF_ERROR((*writer)->Write(content.data(), content.size()));
  return (*writer)->Commit(static_cast<int64_t>(content.size()), Sha256(content), options);
}

inline std::string ReadBlob(Store& store, const Digest& digest) {
  auto reader = store.ReaderAt(digest);
  if (!reader.ok()) return "<" + reader.status().ToString() + ">";
  std::string out(static_cast<size_t>((*reader)->Size()), '\0');
  auto n = (*reader)->ReadAt(out.data(), out.size(), 0);
  if (!n.ok()) return "<" + n.status().ToString() + ">";
  out.resize(*n);
  return out;
}

#define CASFS_ASSERT_OK(expr)                                 \
  do {                                                        \
    ::casfs::Status casfs_s_ = (expr);                        \
    ASSERT_TRUE(casfs_s_.ok()) << #expr << ": " << casfs_s_.ToString(); \
  } while (0)

#define CASFS_EXPECT_OK(expr)                                 \
  do {                                                        \
    ::casfs::Status casfs_s_ = (expr);                        \
    EXPECT_TRUE(casfs_s_.ok()) << #expr << ": " << casfs_s_.ToString(); \
  } while (0)

}  // namespace casfs::testing
