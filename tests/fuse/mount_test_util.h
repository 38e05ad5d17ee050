// Shorthands for the mount tests: errno checks on plain syscalls, and the
// engine opened on the same root for setting up and inspecting a store
// (the engine and the mount may use one root at once).
#pragma once

#include <errno.h>
#include <sys/xattr.h>
#include <cstring>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "core/local_store.h"
#include "tests/fuse/mount_fixture.h"

// Expects `expr` (a syscall) to fail with `err`.
#define EXPECT_ERRNO(expr, err)                                                 \
  do {                                                                          \
    errno = 0;                                                                  \
    long casfs_ret_ = static_cast<long>(expr);                                  \
    int casfs_errno_ = errno;                                                   \
    EXPECT_EQ(casfs_ret_, -1) << #expr;                                         \
    EXPECT_EQ(casfs_errno_, (err)) << #expr << ": " << std::strerror(casfs_errno_); \
  } while (0)

#define ASSERT_MOUNTED(fixture) ASSERT_TRUE((fixture).mounted()) << (fixture).error()

namespace casfs::fuse::testing {

// The engine on the fixture's root (a second process's view, as the CLI).
inline std::unique_ptr<LocalStore> OpenStore(const MountFixture& mount) {
  auto store = LocalStore::Open(mount.root());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store.value()) : nullptr;
}

// "sha256:<hex>" of `data`.
inline std::string Sha(const std::string& data) { return "sha256:" + Sha256Hex(data); }

// Commits `content` through the engine; returns its hex.
inline std::string AddBlob(LocalStore& store, const std::string& content, const Labels& labels = {}) {
  LocalWriterOptions options;
  options.ref = "test-add-" + Sha256Hex(content);
  auto writer = store.OpenWriter(options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return "";
  EXPECT_TRUE((*writer)->Write(content.data(), content.size()).ok());
  CommitOptions commit;
  if (!labels.empty()) commit.labels = labels;
  Status status = (*writer)->Commit(0, std::nullopt, commit);
  EXPECT_TRUE(status.ok() || status.IsAlreadyExists()) << status.ToString();
  return Sha256Hex(content);
}

// Waits until no writer holds `ref` (a release in flight from the mount
// finishes first), by taking and closing the engine's writer.
inline void SettleIngest(const MountFixture& mount, const std::string& ref) {
  auto store = LocalStore::Open(mount.root());
  if (!store.ok()) return;
  LocalWriterOptions options;
  options.ref = ref;
  options.mode = IngestOpenMode::kResumeOnly;
  options.lock_wait = std::chrono::milliseconds(5000);
  auto writer = (*store)->OpenWriter(options);
  if (writer.ok()) (void)(*writer)->Close();
}

inline Digest Sha256Of(const std::string& hex) { return *Digest::Parse("sha256:" + hex); }

// A value of an extended attribute, or nullopt with errno set.
std::optional<std::string> GetXattr(const fs::path& path, const std::string& name);
// The names listed by listxattr(2), in order; nullopt with errno set.
std::optional<std::vector<std::string>> ListXattr(const fs::path& path);
int SetXattr(const fs::path& path, const std::string& name, const std::string& value, int flags = 0);

// Writes `data` at `offset` through a fresh descriptor opened with `flags`.
bool PwriteFile(const fs::path& path, const std::string& data, off_t offset, int flags = 0);

}  // namespace casfs::fuse::testing
