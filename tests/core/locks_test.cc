#include "core/locks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/core/engine_test_util.h"

namespace casfs {
namespace {

using namespace std::chrono_literals;
using casfs::testing::TempDir;

TEST(RefLockTest, SecondLockerIsUnavailableNamingTheRef) {
  TempDir dir;
  auto first = RefLock::Acquire(dir.path(), "my/ref", 0ms);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->held());
  auto second = RefLock::Acquire(dir.path(), "my/ref", 20ms);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().Is(ErrorKind::kUnavailable));
  EXPECT_NE(second.status().ToString().find("ref my/ref locked"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().ToString().find(": unavailable"), std::string::npos);
}

TEST(RefLockTest, ReleaseAndDestructionFreeTheLock) {
  TempDir dir;
  {
    auto lock = RefLock::Acquire(dir.path(), "r", 0ms);
    ASSERT_TRUE(lock.ok());
    lock->Release();
    EXPECT_FALSE(lock->held());
    auto again = RefLock::Acquire(dir.path(), "r", 0ms);
    ASSERT_TRUE(again.ok());
  }
  auto after = RefLock::Acquire(dir.path(), "r", 0ms);
  EXPECT_TRUE(after.ok());
}

TEST(RefLockTest, MovedLockStaysHeld) {
  TempDir dir;
  auto lock = RefLock::Acquire(dir.path(), "r", 0ms);
  ASSERT_TRUE(lock.ok());
  RefLock moved = std::move(*lock);
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(RefLock::Acquire(dir.path(), "r", 0ms).ok());
}

TEST(RefLockTest, WaitsForARelease) {
  TempDir dir;
  auto lock = RefLock::Acquire(dir.path(), "r", 0ms);
  ASSERT_TRUE(lock.ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(30ms);
    lock->Release();
  });
  auto waited = RefLock::Acquire(dir.path(), "r", 5000ms);
  releaser.join();
  EXPECT_TRUE(waited.ok()) << waited.status().ToString();
}

TEST(RefLockTest, MissingFolderIsNotFound) {
  TempDir dir;
  auto lock = RefLock::Acquire(dir.path() / "none", "r", 0ms);
  ASSERT_FALSE(lock.ok());
  EXPECT_TRUE(lock.status().IsNotFound());
}

TEST(RefLockTest, FolderRemovedWhileWaitingIsNotFound) {
  TempDir dir;
  const auto ingest = dir.path() / "ingest";
  CASFS_ASSERT_OK(posix::MakeDir(ingest));
  auto lock = RefLock::Acquire(ingest, "r", 0ms);
  ASSERT_TRUE(lock.ok());
  std::thread remover([&] {
    std::this_thread::sleep_for(30ms);
    CASFS_EXPECT_OK(posix::RemoveAll(ingest));
    lock->Release();
  });
  auto waited = RefLock::Acquire(ingest, "r", 5000ms);
  remover.join();
  ASSERT_FALSE(waited.ok());
  EXPECT_TRUE(waited.status().IsNotFound()) << waited.status().ToString();
}

TEST(RefLockTest, ReplacedFolderIsLockedAfresh) {
  TempDir dir;
  const auto ingest = dir.path() / "ingest";
  CASFS_ASSERT_OK(posix::MakeDir(ingest));
  auto lock = RefLock::Acquire(ingest, "r", 0ms);
  ASSERT_TRUE(lock.ok());
  std::thread replacer([&] {
    std::this_thread::sleep_for(30ms);
    CASFS_EXPECT_OK(posix::RemoveAll(ingest));
    CASFS_EXPECT_OK(posix::MakeDir(ingest));
    lock->Release();
  });
  auto waited = RefLock::Acquire(ingest, "r", 5000ms);
  replacer.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  // The new lock is on the folder now at the path.
  EXPECT_FALSE(RefLock::Acquire(ingest, "r", 0ms).ok());
}

}  // namespace
}  // namespace casfs
