// One test per containerd 1.6 content-store bug that casfs fixes, named
// after the bug (docs/content-store-semantics.md, sections 3, 5, 6 and 9).
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>

#include "core/local_store.h"
#include "core/posix.h"
#include "tests/core/engine_test_util.h"

namespace casfs {
namespace {

using namespace std::chrono_literals;
using casfs::testing::Exists;
using casfs::testing::ReadAll;
using casfs::testing::ReadBlob;
using casfs::testing::Sha256;
using casfs::testing::TempDir;
using casfs::testing::WriteAll;

class RegressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = LocalStore::Open(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  Result<std::unique_ptr<Writer>> Open(const std::string& ref, int64_t total = 0) {
    WriterOptions options;
    options.ref = ref;
    options.total = total;
    options.lock_wait = 0ms;
    return store_->OpenWriter(options);
  }
  TempDir dir_;
  std::unique_ptr<LocalStore> store_;
};

// containerd: a resume that fails (here: another total) "recreates" the
// ingest without truncating `data`, so new writes overwrite a prefix and
// the old tail stays; a size-0 commit then stores "abllo" under
// sha256("ab").
TEST_F(RegressionTest, StaleBytesReusedAfterAFailedResume) {
  {
    auto writer = Open("r", 5);
    ASSERT_TRUE(writer.ok());
    CASFS_ASSERT_OK((*writer)->Write("hello", 5));
    CASFS_ASSERT_OK((*writer)->Close());
  }
  auto writer = Open("r", 2);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->GetStatus().offset, 0);
  CASFS_ASSERT_OK((*writer)->Write("ab", 2));
  CASFS_ASSERT_OK((*writer)->Commit(0, std::nullopt));
  EXPECT_EQ(ReadBlob(*store_, Sha256("ab")), "ab");
  EXPECT_TRUE(store_->Info(Sha256("abllo")).status().IsNotFound());
}

// containerd's other failed-resume path: an empty `ref` (written without
// fsync, lost in a crash) makes it start over at offset 0 over old bytes.
// casfs keeps the data: the folder name proves whose it is.
TEST_F(RegressionTest, StaleBytesReusedAfterACorruptRefFile) {
  {
    auto writer = Open("r");
    ASSERT_TRUE(writer.ok());
    CASFS_ASSERT_OK((*writer)->Write("hello", 5));
  }
  WriteAll(store_->layout().IngestDir("r") / "ref", "");
  auto writer = Open("r");
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->GetStatus().offset, 5);
  CASFS_ASSERT_OK((*writer)->Write(" world", 6));
  CASFS_ASSERT_OK((*writer)->Commit(0, std::nullopt));
  EXPECT_EQ(ReadBlob(*store_, Sha256("hello world")), "hello world");
}

// containerd: one folder without `data` or `ref` (an ingest being created,
// committed or aborted, or debris from a crash) makes every ListStatuses
// fail with NotFound.
TEST_F(RegressionTest, OneDebrisFolderMakesEveryListStatusesFail) {
  auto writer = Open("live");
  ASSERT_TRUE(writer.ok());
  CASFS_ASSERT_OK(posix::MakeDir(store_->layout().IngestDir("debris")));
  WriteAll(store_->layout().IngestRoot() / "stray", "not a folder");
  auto statuses = store_->ListStatuses();
  ASSERT_TRUE(statuses.ok()) << statuses.status().ToString();
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_EQ((*statuses)[0].ref, "live");
}

// containerd: Commit releases the ref's lock even when this Writer was
// already closed, freeing the lock of a newer Writer on the same ref.
TEST_F(RegressionTest, AClosedWritersCommitReleasesANewerWritersLock) {
  auto old_writer = Open("r");
  ASSERT_TRUE(old_writer.ok());
  CASFS_ASSERT_OK((*old_writer)->Write("x", 1));
  CASFS_ASSERT_OK((*old_writer)->Close());
  auto newer = Open("r");
  ASSERT_TRUE(newer.ok());
  EXPECT_TRUE((*old_writer)->Commit(1, Sha256("x")).Is(ErrorKind::kFailedPrecondition));
  auto third = Open("r");
  ASSERT_FALSE(third.ok());
  EXPECT_TRUE(third.status().Is(ErrorKind::kUnavailable)) << third.status().ToString();
  CASFS_ASSERT_OK((*newer)->Commit(1, Sha256("x")));
}

// containerd: a Commit option error returns with the lock released but
// the data file open, so the old Writer keeps writing while a new one
// opens the same ingest.
TEST_F(RegressionTest, ACommitOptionErrorLeavesTheWriterWritableWithoutItsLock) {
  auto writer = Open("r");
  ASSERT_TRUE(writer.ok());
  CASFS_ASSERT_OK((*writer)->Write("x", 1));
  Status bad = (*writer)->Commit(1, Sha256("x"), CommitOptions{Labels{{"", "empty key"}}});
  EXPECT_TRUE(bad.Is(ErrorKind::kInvalidArgument));
  EXPECT_TRUE((*writer)->Write("y", 1).Is(ErrorKind::kFailedPrecondition));
  auto next = Open("r");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)->Size(), 1);
}

// containerd: Walk on a store that never committed fails with a raw
// not-exist error (blobs/ is created by the first Commit).
TEST_F(RegressionTest, WalkFailsOnAStoreWithNoBlobsFolder) {
  ASSERT_FALSE(Exists(store_->layout().BlobsDir()));
  int calls = 0;
  CASFS_EXPECT_OK(store_->Walk([&](const BlobInfo&) {
    ++calls;
    return Status::Ok();
  }));
  EXPECT_EQ(calls, 0);
}

// containerd: Abort ignores locks, so an active Writer carries on with an
// unlinked data file and its Commit fails with a raw not-exist error.
TEST_F(RegressionTest, AbortRemovesTheIngestOfAnActiveWriter) {
  auto writer = Open("r");
  ASSERT_TRUE(writer.ok());
  CASFS_ASSERT_OK((*writer)->Write("x", 1));
  EXPECT_TRUE(store_->Abort("r").Is(ErrorKind::kUnavailable));
  CASFS_ASSERT_OK((*writer)->Commit(1, Sha256("x")));
}

// containerd: two Writers with different refs committing the same content
// can both pass the existence check and both "create" the blob (the second
// rename replaces the first; label and time updates race). casfs: exactly
// one creates, the other gets AlreadyExists and merges its labels.
TEST_F(RegressionTest, CheckThenRenameRaceBetweenTwoRefsCommittingTheSameContent) {
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    const std::string content = "same content, round " + std::to_string(round);
    std::barrier sync(2);
    Status results[2];
    auto commit = [&](int i) {
      auto writer = Open("ref-" + std::to_string(i) + "-" + std::to_string(round));
      if (!writer.ok()) {
        results[i] = writer.status();
        sync.arrive_and_wait();
        return;
      }
      Status written = (*writer)->Write(content.data(), content.size());
      (void)(*writer)->CurrentDigest();  // hash before the race, not in it
      sync.arrive_and_wait();
      results[i] = written.ok()
                       ? (*writer)->Commit(static_cast<int64_t>(content.size()), Sha256(content),
                                           CommitOptions{Labels{{"from." + std::to_string(i), "yes"}}})
                       : written;
    };
    std::thread a(commit, 0);
    std::thread b(commit, 1);
    a.join();
    b.join();
    const int ok = results[0].ok() + results[1].ok();
    const int exists = results[0].IsAlreadyExists() + results[1].IsAlreadyExists();
    ASSERT_EQ(ok, 1) << "round " << round << ": " << results[0].ToString() << " / " << results[1].ToString();
    ASSERT_EQ(exists, 1) << "round " << round;
    EXPECT_EQ(ReadBlob(*store_, Sha256(content)), content);
    auto info = store_->Info(Sha256(content));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->labels, (Labels{{"from.0", "yes"}, {"from.1", "yes"}})) << "round " << round;
  }
  EXPECT_TRUE(store_->ListStatuses()->empty());
  // No temp or stray files next to the blobs.
  auto names = posix::ListDir(store_->layout().AlgorithmDir(Algorithm::kSha256));
  EXPECT_EQ(names->size(), static_cast<size_t>(kRounds));
}

// The same race without labels: nothing to merge, still one winner.
TEST_F(RegressionTest, CheckThenRenameRaceWithoutLabels) {
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    const std::string content = "unlabelled, round " + std::to_string(round);
    std::barrier sync(2);
    Status results[2];
    auto commit = [&](int i) {
      auto writer = Open("u-" + std::to_string(i) + "-" + std::to_string(round));
      Status written = writer.ok() ? (*writer)->Write(content.data(), content.size()) : writer.status();
      if (writer.ok()) (void)(*writer)->CurrentDigest();
      sync.arrive_and_wait();
      results[i] = written.ok() ? (*writer)->Commit(0, Sha256(content)) : written;
    };
    std::thread a(commit, 0);
    std::thread b(commit, 1);
    a.join();
    b.join();
    ASSERT_EQ(results[0].ok() + results[1].ok(), 1) << results[0].ToString() << " / " << results[1].ToString();
    ASSERT_EQ(results[0].IsAlreadyExists() + results[1].IsAlreadyExists(), 1);
  }
}

}  // namespace
}  // namespace casfs
