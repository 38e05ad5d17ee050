// The local Writer: ingest files, positional writes and hashing, truncate,
// close, resume (with and without the hash checkpoint) and commit.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "core/ingest_folder.h"
#include "core/local_store.h"
#include "core/posix.h"
#include "core/timestamp.h"
#include "tests/core/engine_test_util.h"

namespace casfs {
namespace {

using namespace std::chrono_literals;
using casfs::testing::Exists;
using casfs::testing::Pattern;
using casfs::testing::ReadAll;
using casfs::testing::ReadBlob;
using casfs::testing::Sha256;
using casfs::testing::TempDir;
using casfs::testing::WriteAll;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = ::umask(022);
    auto store = LocalStore::Open(dir_.path() / "root");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { ::umask(old_umask_); }

  std::unique_ptr<Writer> Open(const std::string& ref, int64_t total = 0,
                               std::optional<Digest> expected = std::nullopt) {
    LocalWriterOptions options;
    options.ref = ref;
    options.total = total;
    options.expected = expected;
    options.lock_wait = 0ms;
    auto writer = store_->OpenWriter(options);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(*writer) : nullptr;
  }

  std::filesystem::path IngestDir(const std::string& ref) { return store_->layout().IngestDir(ref); }
  std::filesystem::path File(const std::string& ref, std::string_view name) {
    return IngestDir(ref) / name;
  }
  std::string DigestText(Writer& writer) {
    auto digest = writer.CurrentDigest();
    return digest.ok() ? digest->ToString() : digest.status().ToString();
  }

  TempDir dir_;
  std::unique_ptr<LocalStore> store_;
  mode_t old_umask_ = 0;
};

// ---------------------------------------------------------------------------
// Ingest files, byte for byte as containerd writes them.

TEST_F(WriterTest, NewIngestHasContainerdsFilesExactly) {
  auto writer = Open("default/1/layer-sha256:ab", 11);
  ASSERT_TRUE(writer);
  const auto dir = IngestDir("default/1/layer-sha256:ab");
  auto names = posix::ListDir(dir);
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"data", "ref", "startedat", "total", "updatedat"}));
  EXPECT_EQ(ReadAll(dir / "ref"), "default/1/layer-sha256:ab");
  EXPECT_EQ(ReadAll(dir / "total"), "11");
  const std::string started = ReadAll(dir / "startedat");
  EXPECT_EQ(started, ReadAll(dir / "updatedat"));
  EXPECT_TRUE(ParseRfc3339(started).ok()) << started;
  EXPECT_EQ(started.back(), 'Z');
  EXPECT_EQ(ReadAll(dir / "data"), "");
  for (const auto& name : *names) {
    EXPECT_EQ(posix::Stat(dir / name)->st_mode & 07777, 0644u) << name;
  }
  EXPECT_EQ(posix::Stat(dir)->st_mode & 07777, 0755u);
  IngestStatus status = writer->GetStatus();
  EXPECT_EQ(status.ref, "default/1/layer-sha256:ab");
  EXPECT_EQ(status.total, 11);
  EXPECT_EQ(status.offset, 0);
  EXPECT_EQ(FormatRfc3339Nano(status.started_at), started);
}

TEST_F(WriterTest, NoTotalFileWhenTotalIsUnknown) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_FALSE(Exists(File("r", "total")));
  EXPECT_EQ(writer->GetStatus().total, 0);
}

TEST_F(WriterTest, ExpectedDigestIsStoredInCasfsFile) {
  const auto expected = Sha256("abc");
  auto writer = Open("r", 0, expected);
  ASSERT_TRUE(writer);
  EXPECT_EQ(ReadAll(File("r", "casfs.expected")), expected.ToString());
  EXPECT_EQ(writer->GetStatus().expected, expected);
}

TEST_F(WriterTest, EmptyRefIsInvalid) {
  LocalWriterOptions options;
  auto writer = store_->OpenWriter(options);
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(writer.status().Is(ErrorKind::kInvalidArgument));
}

// ---------------------------------------------------------------------------
// Writing and hashing.

TEST_F(WriterTest, SequentialWritesHashAndCount) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(DigestText(*writer), EmptySha256().ToString());
  CASFS_ASSERT_OK(writer->Write("hello ", 6));
  CASFS_ASSERT_OK(writer->Write("world", 5));
  CASFS_ASSERT_OK(writer->Write("", 0));
  EXPECT_EQ(writer->Size(), 11);
  EXPECT_EQ(writer->GetStatus().offset, 11);
  EXPECT_EQ(DigestText(*writer), Sha256("hello world").ToString());
  EXPECT_EQ(ReadAll(File("r", "data")), "hello world");
  // The digest is as of now; more writes move it.
  CASFS_ASSERT_OK(writer->Write("!", 1));
  EXPECT_EQ(DigestText(*writer), Sha256("hello world!").ToString());
}

TEST_F(WriterTest, OutOfOrderWritesGiveTheDigestOfTheWhole) {
  const std::string content = Pattern(1 << 20, 7);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  // Four pieces, in the order 3, 1, 0, 2.
  const size_t q = content.size() / 4;
  for (size_t piece : {3u, 1u, 0u, 2u}) {
    CASFS_ASSERT_OK(writer->WriteAt(static_cast<int64_t>(piece * q), content.data() + piece * q, q));
  }
  EXPECT_EQ(writer->Size(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(DigestText(*writer), Sha256(content).ToString());
}

TEST_F(WriterTest, HolesHashAsZeros) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->WriteAt(10, "tail", 4));
  EXPECT_EQ(writer->Size(), 14);
  EXPECT_EQ(DigestText(*writer), Sha256(std::string(10, '\0') + "tail").ToString());
  CASFS_ASSERT_OK(writer->WriteAt(0, "head", 4));
  EXPECT_EQ(DigestText(*writer), Sha256("head" + std::string(6, '\0') + "tail").ToString());
}

TEST_F(WriterTest, OverwritingHashedBytesRehashes) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("aaaaaaaaaa", 10));
  EXPECT_EQ(DigestText(*writer), Sha256("aaaaaaaaaa").ToString());
  CASFS_ASSERT_OK(writer->WriteAt(3, "BB", 2));
  EXPECT_EQ(DigestText(*writer), Sha256("aaaBBaaaaa").ToString());
  CASFS_ASSERT_OK(writer->WriteAt(8, "CCCC", 4));  // overlaps the end and extends
  EXPECT_EQ(DigestText(*writer), Sha256("aaaBBaaaCCCC").ToString());
  // Write continues after the last write of this writer.
  CASFS_ASSERT_OK(writer->Write("d", 1));
  EXPECT_EQ(DigestText(*writer), Sha256("aaaBBaaaCCCCd").ToString());
}

TEST_F(WriterTest, RandomOrderSmallWritesMatch) {
  const std::string content = Pattern(200000, 3);
  std::vector<std::pair<size_t, size_t>> pieces;
  std::mt19937 rng(42);
  for (size_t at = 0; at < content.size();) {
    size_t n = std::min<size_t>(content.size() - at, 1 + rng() % 9000);
    pieces.emplace_back(at, n);
    at += n;
  }
  std::shuffle(pieces.begin(), pieces.end(), rng);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  for (size_t i = 0; i < pieces.size(); ++i) {
    auto [at, n] = pieces[i];
    CASFS_ASSERT_OK(writer->WriteAt(static_cast<int64_t>(at), content.data() + at, n));
    if (i % 17 == 0) (void)writer->CurrentDigest();  // interleave catch-ups
  }
  EXPECT_EQ(DigestText(*writer), Sha256(content).ToString());
  CASFS_ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_EQ(ReadBlob(*store_, Sha256(content)), content);
}

TEST_F(WriterTest, ConcurrentWritersThreadsNonOverlapping) {
  const std::string content = Pattern(8 << 20, 9);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  constexpr size_t kChunk = 128 << 10;
  const size_t chunks = content.size() / kChunk;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < chunks;) {
        EXPECT_TRUE(writer->WriteAt(static_cast<int64_t>(i * kChunk), content.data() + i * kChunk, kChunk).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(DigestText(*writer), Sha256(content).ToString());
}

TEST_F(WriterTest, NegativeOffsetIsInvalid) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_TRUE(writer->WriteAt(-1, "x", 1).Is(ErrorKind::kInvalidArgument));
  EXPECT_TRUE(writer->Truncate(-1).Is(ErrorKind::kInvalidArgument));
}

// ---------------------------------------------------------------------------
// Truncate.

TEST_F(WriterTest, TruncateToZeroRestartsKeepingTheIngestsMetadata) {
  auto writer = Open("r", 3, Sha256("new"));
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(store_->StageLabel("r", "k", "v"));
  const std::string started = ReadAll(File("r", "startedat"));
  CASFS_ASSERT_OK(writer->Write("old content", 11));
  CASFS_ASSERT_OK(writer->Truncate(0));
  EXPECT_EQ(writer->Size(), 0);
  EXPECT_EQ(DigestText(*writer), EmptySha256().ToString());
  CASFS_ASSERT_OK(writer->Write("new", 3));  // Write restarts at 0
  EXPECT_EQ(ReadAll(File("r", "data")), "new");
  EXPECT_EQ(ReadAll(File("r", "ref")), "r");
  EXPECT_EQ(ReadAll(File("r", "startedat")), started);
  EXPECT_EQ(ReadAll(File("r", "total")), "3");
  EXPECT_EQ(ReadAll(File("r", "casfs.expected")), Sha256("new").ToString());
  EXPECT_EQ(*store_->StagedLabels("r"), (Labels{{"k", "v"}}));
  CASFS_ASSERT_OK(writer->Commit(3, Sha256("new")));
  EXPECT_EQ(store_->Info(Sha256("new"))->labels, (Labels{{"k", "v"}}));
}

TEST_F(WriterTest, TruncateSmallerKeepsThePrefix) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("hello world", 11));
  CASFS_ASSERT_OK(writer->Truncate(5));
  EXPECT_EQ(writer->Size(), 5);
  EXPECT_EQ(DigestText(*writer), Sha256("hello").ToString());
  CASFS_ASSERT_OK(writer->Write("!", 1));
  EXPECT_EQ(DigestText(*writer), Sha256("hello!").ToString());
}

TEST_F(WriterTest, TruncateLargerExtendsWithZeros) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  EXPECT_EQ(DigestText(*writer), Sha256("abc").ToString());
  CASFS_ASSERT_OK(writer->Truncate(8));
  EXPECT_EQ(writer->Size(), 8);
  EXPECT_EQ(DigestText(*writer), Sha256(std::string("abc") + std::string(5, '\0')).ToString());
  EXPECT_EQ(ReadAll(File("r", "data")), std::string("abc") + std::string(5, '\0'));
}

TEST_F(WriterTest, TruncateInsideUnhashedExtents) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->WriteAt(4, "efghij", 6));  // beyond the hashed prefix
  CASFS_ASSERT_OK(writer->Truncate(7));
  CASFS_ASSERT_OK(writer->WriteAt(0, "abcd", 4));
  EXPECT_EQ(DigestText(*writer), Sha256("abcdefg").ToString());
}

// ---------------------------------------------------------------------------
// Close.

TEST_F(WriterTest, CloseKeepsTheIngestAndWritesUpdatedat) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  const std::string created = ReadAll(File("r", "updatedat"));
  std::this_thread::sleep_for(5ms);
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  CASFS_ASSERT_OK(writer->Close());
  const std::string updated = ReadAll(File("r", "updatedat"));
  EXPECT_GT(*ParseRfc3339(updated), *ParseRfc3339(created));
  EXPECT_TRUE(Exists(File("r", "casfs.hashstate")));
  EXPECT_FALSE(Exists(File("r", "updatedat.tmp")));
  EXPECT_EQ(ReadAll(File("r", "data")), "abc");
  // The digest stays valid; writing does not.
  EXPECT_EQ(DigestText(*writer), Sha256("abc").ToString());
  EXPECT_TRUE(writer->Write("x", 1).Is(ErrorKind::kFailedPrecondition));
  EXPECT_TRUE(writer->Truncate(0).Is(ErrorKind::kFailedPrecondition));
  CASFS_EXPECT_OK(writer->Close());  // twice is fine
  // The lock is free again.
  EXPECT_TRUE(Open("r"));
}

TEST_F(WriterTest, DestructorCloses) {
  {
    auto writer = Open("r");
    ASSERT_TRUE(writer);
    CASFS_ASSERT_OK(writer->Write("abc", 3));
  }
  auto again = Open("r");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Size(), 3);
}

TEST_F(WriterTest, SecondWriterOnARefIsUnavailable) {
  auto first = Open("r");
  ASSERT_TRUE(first);
  LocalWriterOptions options;
  options.ref = "r";
  options.lock_wait = 10ms;
  auto second = store_->OpenWriter(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().Is(ErrorKind::kUnavailable)) << second.status().ToString();
  EXPECT_NE(second.status().ToString().find("ref r locked"), std::string::npos);
  // Other refs are independent.
  EXPECT_TRUE(Open("other"));
}

// ---------------------------------------------------------------------------
// Resume.

TEST_F(WriterTest, ResumeContinuesFromTheDataSize) {
  {
    auto writer = Open("r", 0);
    ASSERT_TRUE(writer);
    CASFS_ASSERT_OK(writer->Write("hello ", 6));
    CASFS_ASSERT_OK(writer->Close());
  }
  const std::string started = ReadAll(File("r", "startedat"));
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->GetStatus().offset, 6);
  EXPECT_EQ(FormatRfc3339Nano(writer->GetStatus().started_at), started);
  EXPECT_EQ(DigestText(*writer), Sha256("hello ").ToString());
  CASFS_ASSERT_OK(writer->Write("world", 5));
  CASFS_ASSERT_OK(writer->Commit(11, Sha256("hello world")));
  EXPECT_EQ(ReadBlob(*store_, Sha256("hello world")), "hello world");
}

TEST_F(WriterTest, ResumeUsesAValidCheckpointAndRemovesIt) {
  {
    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("abc", 3));
    CASFS_ASSERT_OK(writer->Close());
  }
  ASSERT_TRUE(Exists(File("r", "casfs.hashstate")));
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_FALSE(Exists(File("r", "casfs.hashstate")));
  EXPECT_EQ(DigestText(*writer), Sha256("abc").ToString());
}

// A checkpoint that no longer describes the data (changed behind the
// writer's back, same size) is ignored: the data is rehashed.
TEST_F(WriterTest, ResumeIgnoresAStaleCheckpoint) {
  {
    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("abc", 3));
    CASFS_ASSERT_OK(writer->Close());
  }
  std::this_thread::sleep_for(10ms);
  WriteAll(File("r", "data"), "xyz");
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(DigestText(*writer), Sha256("xyz").ToString());
}

TEST_F(WriterTest, ResumeIgnoresACorruptCheckpoint) {
  {
    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("abc", 3));
    CASFS_ASSERT_OK(writer->Close());
  }
  std::string text = ReadAll(File("r", "casfs.hashstate"));
  ASSERT_GT(text.size(), 20u);
  text[text.size() - 10] = text[text.size() - 10] == '0' ? '1' : '0';  // inside the state
  WriteAll(File("r", "casfs.hashstate"), text);
  // Keep the data's identity as recorded: only the state is wrong.
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(DigestText(*writer), Sha256("abc").ToString());
}

TEST_F(WriterTest, ResumeWithTheSameOrNoTotalKeepsTheStoredTotal) {
  {
    auto writer = Open("r", 5);
    CASFS_ASSERT_OK(writer->Write("ab", 2));
  }
  auto same = Open("r", 5);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->GetStatus().total, 5);
  EXPECT_EQ(same->Size(), 2);
  same.reset();
  auto unknown = Open("r", 0);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->GetStatus().total, 5);
  EXPECT_EQ(unknown->Size(), 2);
}

TEST_F(WriterTest, ResumeWithADifferentTotalStartsOverAndTruncates) {
  {
    auto writer = Open("r", 5);
    CASFS_ASSERT_OK(writer->Write("hello", 5));
  }
  auto writer = Open("r", 2);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->Size(), 0);
  EXPECT_EQ(writer->GetStatus().total, 2);
  EXPECT_EQ(ReadAll(File("r", "total")), "2");
  EXPECT_EQ(ReadAll(File("r", "data")), "");
  CASFS_ASSERT_OK(writer->Write("ab", 2));
  CASFS_ASSERT_OK(writer->Commit(0, std::nullopt));
  EXPECT_EQ(ReadBlob(*store_, Sha256("ab")), "ab");
}

TEST_F(WriterTest, ResumeRepairsMissingOrCorruptSmallFiles) {
  {
    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("kept", 4));
  }
  WriteAll(File("r", "ref"), "");  // a crash left it empty
  WriteAll(File("r", "startedat"), "garbage\n");
  ASSERT_EQ(::unlink(File("r", "updatedat").c_str()), 0);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->Size(), 4);
  EXPECT_EQ(DigestText(*writer), Sha256("kept").ToString());
  EXPECT_EQ(ReadAll(File("r", "ref")), "r");
  EXPECT_TRUE(ParseRfc3339(ReadAll(File("r", "startedat"))).ok());
  EXPECT_TRUE(ParseRfc3339(ReadAll(File("r", "updatedat"))).ok());
  EXPECT_LE(writer->GetStatus().started_at, writer->GetStatus().updated_at);
}

TEST_F(WriterTest, ResumeRepairsAReadOnlyDataFileLeftByACrashedCommit) {
  {
    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("kept", 4));
  }
  // What a crash between a commit's sync and its rename leaves: the data
  // read-only, with the labels that commit meant to give the blob.
  const std::string stray = EncodeLabels({{"from", "the crashed commit"}});
  ASSERT_EQ(::setxattr(File("r", "data").c_str(), "user.casfs.labels", stray.data(), stray.size(), 0), 0);
  ASSERT_EQ(::chmod(File("r", "data").c_str(), 0444), 0);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("!", 1));
  CASFS_ASSERT_OK(writer->Commit(5, Sha256("kept!")));
  // This commit set no labels: the blob does not inherit the stray ones.
  EXPECT_TRUE(store_->Info(Sha256("kept!"))->labels.empty());
}

// What a crash between a commit's rename and the removal of its folder
// leaves: a folder without data. It is no ingest, and the ref starts fresh.
TEST_F(WriterTest, AFolderLeftByACrashedCommitIsDebris) {
  {
    auto writer = Open("r", 0, Sha256("old"));
    CASFS_ASSERT_OK(store_->StageLabel("r", "k", "v"));
  }
  ASSERT_EQ(::unlink(File("r", "data").c_str()), 0);
  EXPECT_TRUE(store_->GetStatus("r").status().IsNotFound());
  EXPECT_TRUE(store_->ListStatuses()->empty());
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->Size(), 0);
  EXPECT_FALSE(writer->GetStatus().expected.has_value());
  EXPECT_TRUE(store_->StagedLabels("r")->empty());
}

TEST_F(WriterTest, ExpectedAlreadyCommittedIsAlreadyExistsAndChangesNothing) {
  CASFS_ASSERT_OK(casfs::testing::WriteBlob(*store_, "first", "content"));
  LocalWriterOptions options;
  options.ref = "second";
  options.expected = Sha256("content");
  auto writer = store_->OpenWriter(options);
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(writer.status().IsAlreadyExists()) << writer.status().ToString();
  EXPECT_FALSE(Exists(IngestDir("second")));
}

TEST_F(WriterTest, OpenModes) {
  LocalWriterOptions options;
  options.ref = "r";
  options.mode = IngestOpenMode::kResumeOnly;
  auto missing = store_->OpenWriter(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_FALSE(Exists(IngestDir("r")));

  options.mode = IngestOpenMode::kCreateOnly;
  auto created = store_->OpenWriter(options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  CASFS_ASSERT_OK((*created)->Write("x", 1));
  CASFS_ASSERT_OK((*created)->Close());

  auto again = store_->OpenWriter(options);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsAlreadyExists());

  options.mode = IngestOpenMode::kResumeOnly;
  auto resumed = store_->OpenWriter(options);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ((*resumed)->Size(), 1);
}

TEST_F(WriterTest, CreateOnlyReusesADebrisFolder) {
  CASFS_ASSERT_OK(posix::MakeDir(IngestDir("r")));
  WriteAll(File("r", "total"), "99");
  WriteAll(File("r", "casfs.labels"), "junk");
  LocalWriterOptions options;
  options.ref = "r";
  options.mode = IngestOpenMode::kCreateOnly;
  auto writer = store_->OpenWriter(options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ((*writer)->GetStatus().total, 0);
  EXPECT_FALSE(Exists(File("r", "total")));
  EXPECT_FALSE(Exists(File("r", "casfs.labels")));
}

// ---------------------------------------------------------------------------
// Commit.

TEST_F(WriterTest, CommitLeavesAReadOnlyBlobWithEqualTimesAndNoDebris) {
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("content", 7));
  CASFS_ASSERT_OK(writer->Commit(7, Sha256("content")));
  const auto blob = store_->layout().BlobPath(Sha256("content"));
  auto st = posix::Stat(blob);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 07777, 0444u);
  EXPECT_EQ(st->st_atim.tv_sec, st->st_mtim.tv_sec);
  EXPECT_EQ(st->st_atim.tv_nsec, st->st_mtim.tv_nsec);
  auto info = store_->Info(Sha256("content"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->created_at, info->updated_at);
  EXPECT_EQ(info->size, 7);
  auto names = posix::ListDir(store_->layout().AlgorithmDir(Algorithm::kSha256));
  EXPECT_EQ(*names, std::vector<std::string>{Sha256("content").hex()});
  EXPECT_FALSE(Exists(IngestDir("r")));
  EXPECT_TRUE(posix::ListDir(store_->layout().IngestRoot())->empty());
  // The digest stays valid after Commit, and Close is harmless.
  EXPECT_EQ(DigestText(*writer), Sha256("content").ToString());
  CASFS_EXPECT_OK(writer->Close());
  EXPECT_TRUE(writer->Write("x", 1).Is(ErrorKind::kFailedPrecondition));
  // The ref is free again.
  EXPECT_TRUE(Open("r"));
}

TEST_F(WriterTest, BlobModeClearsWriteAndExecuteFromTheDataMode) {
  ::umask(077);
  auto writer = Open("r");
  ASSERT_TRUE(writer);
  CASFS_ASSERT_OK(writer->Write("x", 1));
  CASFS_ASSERT_OK(writer->Commit(1, std::nullopt));
  EXPECT_EQ(posix::Stat(store_->layout().BlobPath(Sha256("x")))->st_mode & 07777, 0400u);
}

TEST_F(WriterTest, CommitWithoutExpectationsCommitsWhatIsThere) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  CASFS_ASSERT_OK(writer->Commit(0, std::nullopt));
  EXPECT_EQ(ReadBlob(*store_, Sha256("abc")), "abc");
}

TEST_F(WriterTest, EmptyContentCommits) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Commit(0, EmptySha256()));
  EXPECT_EQ(store_->Info(EmptySha256())->size, 0);
}

struct IngestSnapshot {
  std::string data, ref, startedat, updatedat;
  mode_t mode = 0;
  struct timespec mtime {};
  bool has_label_attribute = false;
  bool operator==(const IngestSnapshot& o) const {
    return data == o.data && ref == o.ref && startedat == o.startedat && updatedat == o.updatedat &&
           mode == o.mode && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
           has_label_attribute == o.has_label_attribute;
  }
};

IngestSnapshot Snapshot(const std::filesystem::path& dir) {
  IngestSnapshot s;
  s.data = ReadAll(dir / "data");
  s.ref = ReadAll(dir / "ref");
  s.startedat = ReadAll(dir / "startedat");
  s.updatedat = ReadAll(dir / "updatedat");
  auto st = posix::Stat(dir / "data");
  s.mode = st->st_mode & 07777;
  s.mtime = st->st_mtim;
  s.has_label_attribute = ::getxattr((dir / "data").c_str(), "user.casfs.labels", nullptr, 0) >= 0;
  return s;
}

TEST_F(WriterTest, CommitSizeMismatchIsFailedPreconditionAndKeepsTheIngest) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  CASFS_ASSERT_OK(writer->Close());
  auto resumed = Open("r");
  const IngestSnapshot before = Snapshot(IngestDir("r"));
  Status status = resumed->Commit(4, Sha256("abc"), CommitOptions{Labels{{"k", "v"}}});
  EXPECT_TRUE(status.Is(ErrorKind::kFailedPrecondition)) << status.ToString();
  EXPECT_NE(status.message().find("size"), std::string::npos);
  EXPECT_NE(status.message().find("\"r\""), std::string::npos);
  EXPECT_NE(status.message().find("expected 4, actual 3"), std::string::npos) << status.message();
  EXPECT_EQ(Snapshot(IngestDir("r")), before);
  EXPECT_FALSE(Exists(store_->layout().BlobPath(Sha256("abc"))));
  // The writer is done, the lock is free, and a corrected commit works.
  EXPECT_TRUE(resumed->Write("x", 1).Is(ErrorKind::kFailedPrecondition));
  auto retry = Open("r");
  ASSERT_TRUE(retry);
  CASFS_ASSERT_OK(retry->Commit(3, Sha256("abc")));
}

TEST_F(WriterTest, CommitDigestMismatchNamesExpectedAndActual) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  Status status = writer->Commit(3, Sha256("abd"));
  EXPECT_TRUE(status.Is(ErrorKind::kFailedPrecondition));
  EXPECT_NE(status.message().find(Sha256("abd").ToString()), std::string::npos);
  EXPECT_NE(status.message().find(Sha256("abc").ToString()), std::string::npos);
  EXPECT_EQ(ReadAll(File("r", "data")), "abc");
}

TEST_F(WriterTest, CommitChecksSizeBeforeDigest) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  Status status = writer->Commit(9, Sha256("zzz"));
  EXPECT_TRUE(status.Is(ErrorKind::kFailedPrecondition));
  EXPECT_NE(status.message().find("size"), std::string::npos) << status.message();
}

// An expected digest of another algorithm names the blob by it (checked by
// a second read of the data); a wrong one is a mismatch like any other.
TEST_F(WriterTest, CommitUnderAnotherAlgorithm) {
  for (Algorithm algorithm : {Algorithm::kSha384, Algorithm::kSha512}) {
    auto wrong = Open("wrong");
    CASFS_ASSERT_OK(wrong->Write("abd", 3));
    Status mismatch = wrong->Commit(3, DigestOf(algorithm, "abc", 3));
    EXPECT_TRUE(mismatch.Is(ErrorKind::kFailedPrecondition)) << mismatch.ToString();
    EXPECT_NE(mismatch.message().find(DigestOf(algorithm, "abd", 3).ToString()), std::string::npos)
        << "the actual digest is named in the algorithm asked for: " << mismatch.message();
    EXPECT_EQ(store_->GetStatus("wrong")->offset, 3) << "a failed commit keeps the ingest";
    CASFS_ASSERT_OK(store_->Abort("wrong"));

    auto writer = Open("r");
    CASFS_ASSERT_OK(writer->Write("abc", 3));
    const Digest digest = DigestOf(algorithm, "abc", 3);
    CASFS_ASSERT_OK(writer->Commit(3, digest));
    EXPECT_TRUE(Exists(store_->layout().BlobPath(digest)));
    EXPECT_EQ(ReadBlob(*store_, digest), "abc");
    EXPECT_FALSE(Exists(store_->layout().BlobPath(Sha256("abc"))));
  }
  // Or by option, with no expected digest at all.
  auto writer = Open("opt");
  CASFS_ASSERT_OK(writer->Write("xyz", 3));
  CommitOptions options;
  options.algorithm = Algorithm::kSha512;
  CASFS_ASSERT_OK(writer->Commit(0, std::nullopt, options));
  EXPECT_EQ(ReadBlob(*store_, DigestOf(Algorithm::kSha512, "xyz", 3)), "xyz");
}

TEST_F(WriterTest, CommitChecksTheStoredTotalAndExpected) {
  auto writer = Open("r", 4);
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  Status short_of_total = writer->Commit(0, std::nullopt);
  EXPECT_TRUE(short_of_total.Is(ErrorKind::kFailedPrecondition)) << short_of_total.ToString();
  EXPECT_NE(short_of_total.message().find("total"), std::string::npos);

  // The extras change the stored values under an open writer; its commit
  // re-reads them.
  auto again = Open("r");
  ASSERT_TRUE(again);
  CASFS_ASSERT_OK(store_->SetIngestTotal("r", std::nullopt));
  CASFS_ASSERT_OK(store_->SetIngestExpected("r", Sha256("other")));
  Status wrong_digest = again->Commit(0, std::nullopt);
  EXPECT_TRUE(wrong_digest.Is(ErrorKind::kFailedPrecondition)) << wrong_digest.ToString();
  EXPECT_NE(wrong_digest.message().find("expected digest"), std::string::npos);

  auto third = Open("r");
  CASFS_ASSERT_OK(store_->SetIngestExpected("r", Sha256("abc")));
  CASFS_ASSERT_OK(third->Commit(0, std::nullopt));
}

TEST_F(WriterTest, CommitOnAClosedWriterIsFailedPrecondition) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  CASFS_ASSERT_OK(writer->Close());
  Status status = writer->Commit(3, Sha256("abc"));
  EXPECT_TRUE(status.Is(ErrorKind::kFailedPrecondition));
  EXPECT_NE(status.message().find("closed writer"), std::string::npos);
  EXPECT_TRUE(Exists(File("r", "data")));
}

TEST_F(WriterTest, CommitTwiceIsFailedPrecondition) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  CASFS_ASSERT_OK(writer->Commit(3, Sha256("abc")));
  EXPECT_TRUE(writer->Commit(3, Sha256("abc")).Is(ErrorKind::kFailedPrecondition));
}

TEST_F(WriterTest, CommitOfExistingContentRemovesTheIngestAndMergesLabels) {
  CASFS_ASSERT_OK(casfs::testing::WriteBlob(*store_, "first", "same",
                                            CommitOptions{Labels{{"a", "1"}, {"b", "1"}}}));
  const auto first_info = *store_->Info(Sha256("same"));
  std::this_thread::sleep_for(5ms);
  auto writer = Open("second");
  CASFS_ASSERT_OK(writer->Write("same", 4));
  CASFS_ASSERT_OK(store_->StageLabel("second", "b", "staged"));
  CASFS_ASSERT_OK(store_->StageLabel("second", "c", "staged"));
  Status status = writer->Commit(4, Sha256("same"), CommitOptions{Labels{{"c", "option"}}});
  EXPECT_TRUE(status.IsAlreadyExists()) << status.ToString();
  EXPECT_FALSE(Exists(IngestDir("second")));
  auto info = store_->Info(Sha256("same"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (Labels{{"a", "1"}, {"b", "staged"}, {"c", "option"}}));
  EXPECT_EQ(info->created_at, first_info.created_at);  // the existing blob stays
  EXPECT_GT(info->updated_at, first_info.updated_at);
  EXPECT_EQ(DigestText(*writer), Sha256("same").ToString());
}

TEST_F(WriterTest, CommitLabelsOptionsWinOverStagedAndEmptyRemoves) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("x", 1));
  CASFS_ASSERT_OK(store_->StageLabel("r", "a", "staged"));
  CASFS_ASSERT_OK(store_->StageLabel("r", "b", "staged"));
  CASFS_ASSERT_OK(writer->Commit(1, Sha256("x"), CommitOptions{Labels{{"a", "option"}, {"b", ""}}}));
  EXPECT_EQ(store_->Info(Sha256("x"))->labels, (Labels{{"a", "option"}}));
}

TEST_F(WriterTest, CommitWithInvalidLabelsKeepsTheIngest) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("x", 1));
  Status reserved = writer->Commit(1, Sha256("x"), CommitOptions{Labels{{"casfs.digest", "v"}}});
  EXPECT_TRUE(reserved.Is(ErrorKind::kPermissionDenied)) << reserved.ToString();
  auto again = Open("r");
  Status too_long =
      again->Commit(1, Sha256("x"), CommitOptions{Labels{{"k", std::string(kMaxLabelSize, 'v')}}});
  EXPECT_TRUE(too_long.Is(ErrorKind::kInvalidArgument)) << too_long.ToString();
  EXPECT_EQ(ReadAll(File("r", "data")), "x");
  EXPECT_FALSE(Exists(store_->layout().BlobPath(Sha256("x"))));
}

TEST_F(WriterTest, CommitWithManyLabelsUsesTheOverflowFile) {
  Labels labels;
  for (int i = 0; i < 500; ++i) {
    labels["containerd.io/gc.ref.content.l." + std::to_string(i)] = Sha256(std::to_string(i)).ToString();
  }
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("index", 5));
  CASFS_ASSERT_OK(writer->Commit(5, Sha256("index"), CommitOptions{labels}));
  EXPECT_TRUE(Exists(store_->layout().LabelOverflowPath(Sha256("index"))));
  EXPECT_EQ(store_->Info(Sha256("index"))->labels, labels);
}

// A process that ignores casfs' lock (containerd) appends under an open
// writer: the commit verifies and names exactly the bytes it renames.
TEST_F(WriterTest, CommitVerifiesWhatIsInTheFileNotWhatTheWriterThinks) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("mine", 4));
  EXPECT_EQ(DigestText(*writer), Sha256("mine").ToString());
  {
    std::ofstream other(File("r", "data"), std::ios::binary | std::ios::app);
    other << "+theirs";
  }
  Status wrong = writer->Commit(0, Sha256("mine"));
  EXPECT_TRUE(wrong.Is(ErrorKind::kFailedPrecondition)) << wrong.ToString();
  auto again = Open("r");
  ASSERT_TRUE(again);
  CASFS_ASSERT_OK(again->Write("x", 1));
  {
    std::ofstream other(File("r", "data"), std::ios::binary | std::ios::app);
    other << "y";
  }
  CASFS_ASSERT_OK(again->Commit(0, std::nullopt));
  EXPECT_EQ(ReadBlob(*store_, Sha256("mine+theirsxy")), "mine+theirsxy");
  EXPECT_EQ(DigestText(*again), Sha256("mine+theirsxy").ToString());
}

TEST_F(WriterTest, FailedCommitLeavesACheckpointForTheRetry) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("abc", 3));
  EXPECT_FALSE(writer->Commit(1, std::nullopt).ok());
  EXPECT_TRUE(Exists(File("r", "casfs.hashstate")));
  auto retry = Open("r");
  EXPECT_FALSE(Exists(File("r", "casfs.hashstate")));
  CASFS_ASSERT_OK(retry->Commit(3, Sha256("abc")));
}

// ---------------------------------------------------------------------------
// Disk full: a write that does not fit fails with the errno kept, and what
// the writer reports is exactly what is in the file.

TEST_F(WriterTest, DiskFullKeepsSizeAndDigestTruthful) {
  TempDir small;
  if (::mount("none", small.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    const char* path;
    ~Unmount() { ::umount2(path, MNT_DETACH); }
  } unmount{small.path().c_str()};
  auto store = LocalStore::Open(small.path() / "root");
  ASSERT_TRUE(store.ok());
  WriterOptions options;
  options.ref = "big";
  auto writer = (*store)->OpenWriter(options);
  ASSERT_TRUE(writer.ok());
  const std::string content = Pattern(3 << 20);
  Status status = (*writer)->Write(content.data(), content.size());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.sys_errno(), ENOSPC) << status.ToString();
  EXPECT_EQ(ToErrno(status), ENOSPC);
  const auto data = (*store)->layout().IngestDir("big") / "data";
  const std::string on_disk = ReadAll(data);
  EXPECT_EQ((*writer)->Size(), static_cast<int64_t>(on_disk.size()));
  EXPECT_EQ(on_disk, content.substr(0, on_disk.size()));
  EXPECT_EQ(DigestText(**writer), Sha256(on_disk).ToString());
}

// ---------------------------------------------------------------------------
// Measurement: resuming a 256 MiB ingest with and without a valid hash
// checkpoint. Prints the times; asserts only the digests.

TEST_F(WriterTest, MeasureResumeWithAndWithoutCheckpoint) {
  constexpr size_t kSize = 256u << 20;
  const std::string chunk = Pattern(1 << 20, 5);
  {
    auto writer = Open("big");
    ASSERT_TRUE(writer);
    for (size_t at = 0; at < kSize; at += chunk.size()) CASFS_ASSERT_OK(writer->Write(chunk.data(), chunk.size()));
    CASFS_ASSERT_OK(writer->Close());
  }
  auto expected = [&] {
    Digester digester(Algorithm::kSha256);
    for (size_t at = 0; at < kSize; at += chunk.size()) digester.Update(chunk.data(), chunk.size());
    return digester.Current();
  }();
  auto time_resume = [&]() -> double {
    auto start = std::chrono::steady_clock::now();
    auto writer = Open("big");
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(writer);
    if (writer) {
      EXPECT_EQ(DigestText(*writer), expected.ToString());
      CASFS_EXPECT_OK(writer->Close());  // writes a fresh checkpoint
    }
    return std::chrono::duration<double, std::milli>(elapsed).count();
  };
  const double with_checkpoint = time_resume();
  ASSERT_EQ(::unlink(File("big", "casfs.hashstate").c_str()), 0);
  const double without_checkpoint = time_resume();
  std::printf("[ MEASURE  ] resume of a 256 MiB ingest: %.2f ms with checkpoint, %.1f ms without (rehash)\n",
              with_checkpoint, without_checkpoint);
}

}  // namespace
}  // namespace casfs
