// LocalStore: every operation, its error kinds, and the casfs extras.
#include "core/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

#include "core/posix.h"
#include "core/strays.h"
#include "core/timestamp.h"
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
using casfs::testing::WriteBlob;

BlobInfo InfoOf(const Digest& digest, Labels labels = {}) {
  BlobInfo info;
  info.digest = digest;
  info.labels = std::move(labels);
  return info;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    auto store = LocalStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  std::vector<std::string> WalkDigests(const std::vector<std::string>& filters = {}) {
    std::vector<std::string> out;
    Status status = store_->Walk(
        [&](const BlobInfo& info) {
          out.push_back(info.digest.ToString());
          return Status::Ok();
        },
        filters);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return out;
  }

  std::vector<std::string> ListRefs(const std::vector<std::string>& filters = {}) {
    auto statuses = store_->ListStatuses(filters);
    EXPECT_TRUE(statuses.ok()) << statuses.status().ToString();
    std::vector<std::string> refs;
    if (statuses.ok()) {
      for (const auto& s : *statuses) refs.push_back(s.ref);
    }
    return refs;
  }

  std::unique_ptr<Writer> Open(const std::string& ref) {
    WriterOptions options;
    options.ref = ref;
    options.lock_wait = 0ms;
    auto writer = store_->OpenWriter(options);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(*writer) : nullptr;
  }

  TempDir dir_;
  std::filesystem::path root_;
  std::unique_ptr<LocalStore> store_;
};

// ---------------------------------------------------------------------------
// Opening.

TEST_F(LocalStoreTest, OpenCreatesOnlyIngest) {
  EXPECT_TRUE(Exists(root_ / "ingest"));
  EXPECT_FALSE(Exists(root_ / "blobs"));
  EXPECT_FALSE(Exists(root_ / "labels"));
  EXPECT_EQ(store_->layout().root(), root_);
  EXPECT_FALSE(store_->read_only());
}

TEST(LocalStoreOpenTest, ReadOnlyCreatesNothingAndRefusesEveryMutation) {
  TempDir dir;
  auto missing = LocalStore::Open(dir.path() / "none", StoreOptions{.read_only = true});
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_FALSE(Exists(dir.path() / "none"));

  {
    auto rw = LocalStore::Open(dir.path());
    ASSERT_TRUE(rw.ok());
    CASFS_ASSERT_OK(WriteBlob(**rw, "r", "blob"));
    WriterOptions wo;
    wo.ref = "pending";
    auto writer = (*rw)->OpenWriter(wo);
    ASSERT_TRUE(writer.ok());
    CASFS_ASSERT_OK((*writer)->Write("x", 1));
    CASFS_ASSERT_OK((*writer)->Close());
  }
  auto store = LocalStore::Open(dir.path(), StoreOptions{.read_only = true});
  ASSERT_TRUE(store.ok());
  LocalStore& ro = **store;
  EXPECT_TRUE(ro.read_only());
  const Digest blob = Sha256("blob");
  auto is_ro = [](const Status& s) { return s.Is(ErrorKind::kReadOnly); };
  WriterOptions wo;
  wo.ref = "new";
  EXPECT_TRUE(is_ro(ro.OpenWriter(wo).status()));
  wo.ref = "pending";
  EXPECT_TRUE(is_ro(ro.OpenWriter(wo).status()));
  EXPECT_TRUE(is_ro(ro.Delete(blob)));
  EXPECT_TRUE(is_ro(ro.Update(InfoOf(blob), {}).status()));
  EXPECT_TRUE(is_ro(ro.SetLabel(blob, "k", "v")));
  EXPECT_TRUE(is_ro(ro.RemoveLabel(blob, "k").status()));
  EXPECT_TRUE(is_ro(ro.Abort("pending")));
  EXPECT_TRUE(is_ro(ro.SetIngestTotal("pending", 3)));
  EXPECT_TRUE(is_ro(ro.SetIngestExpected("pending", blob)));
  EXPECT_TRUE(is_ro(ro.StageLabel("pending", "k", "v")));
  EXPECT_TRUE(is_ro(ro.UnstageLabel("pending", "k").status()));
  EXPECT_EQ(ToErrno(ro.Delete(blob)), EROFS);
  // Reads work.
  EXPECT_EQ(ReadBlob(ro, blob), "blob");
  EXPECT_TRUE(ro.Info(blob).ok());
  EXPECT_TRUE(ro.GetStatus("pending").ok());
  EXPECT_EQ(ro.ListStatuses()->size(), 1u);
  EXPECT_EQ(*ro.IngestDigest("pending"), Sha256("x"));
  EXPECT_TRUE(Exists(dir.path() / "ingest" / Layout::IngestFolderName("pending")));
}

// ---------------------------------------------------------------------------
// Info, ReaderAt.

TEST_F(LocalStoreTest, InfoOfAMissingBlobIsNotFound) {
  auto info = store_->Info(Sha256("nothing"));
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(info.status().IsNotFound());
  EXPECT_EQ(info.status().ToString(), "content " + Sha256("nothing").ToString() + ": not found");
}

TEST_F(LocalStoreTest, InfoReportsSizeTimesAndLabels) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "twelve bytes", CommitOptions{Labels{{"k", "v"}}}));
  auto info = store_->Info(Sha256("twelve bytes"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->digest, Sha256("twelve bytes"));
  EXPECT_EQ(info->size, 12);
  auto st = posix::Stat(store_->layout().BlobPath(Sha256("twelve bytes")));
  EXPECT_EQ(info->created_at, Timestamp::FromTimespec(st->st_mtim));
  EXPECT_EQ(info->updated_at, Timestamp::FromTimespec(st->st_atim));
  EXPECT_EQ(info->labels, (Labels{{"k", "v"}}));
}

TEST_F(LocalStoreTest, ReaderReadsPositionallyAndSurvivesDelete) {
  const std::string content = casfs::testing::Pattern(100000);
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", content));
  auto reader = store_->ReaderAt(Sha256(content));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Size(), 100000);
  EXPECT_GE((*reader)->fd(), 0);
  std::string buf(1000, '\0');
  ASSERT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 500), 1000u);
  EXPECT_EQ(buf, content.substr(500, 1000));
  ASSERT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 99500), 500u);  // short at the end
  EXPECT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 100000), 0u);
  EXPECT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 1 << 30), 0u);
  EXPECT_TRUE((*reader)->ReadAt(buf.data(), 1, -1).status().Is(ErrorKind::kInvalidArgument));
  CASFS_ASSERT_OK(store_->Delete(Sha256(content)));
  ASSERT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 0), 1000u);
  EXPECT_EQ(buf, content.substr(0, 1000));
  EXPECT_TRUE(store_->ReaderAt(Sha256(content)).status().IsNotFound());
}

TEST_F(LocalStoreTest, ConcurrentReadsAreSafe) {
  const std::string content = casfs::testing::Pattern(1 << 20);
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", content));
  auto reader = store_->ReaderAt(Sha256(content));
  ASSERT_TRUE(reader.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string buf(4096, '\0');
      for (int i = 0; i < 200; ++i) {
        int64_t at = ((t * 200 + i) * 4099) % (content.size() - 4096);
        auto n = (*reader)->ReadAt(buf.data(), buf.size(), at);
        EXPECT_TRUE(n.ok() && *n == 4096 && buf == content.substr(at, 4096));
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

TEST_F(LocalStoreTest, ReadingNeverChangesUpdatedAt) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "content"));
  const auto before = store_->Info(Sha256("content"))->updated_at;
  EXPECT_EQ(ReadBlob(*store_, Sha256("content")), "content");
  EXPECT_EQ(ReadBlob(*store_, Sha256("content")), "content");
  EXPECT_EQ(store_->Info(Sha256("content"))->updated_at, before);
}

TEST_F(LocalStoreTest, ADirectoryUnderABlobNameIsNoBlob) {
  CASFS_ASSERT_OK(posix::MakeDirs(store_->layout().BlobPath(Sha256("dir"))));
  EXPECT_TRUE(store_->Info(Sha256("dir")).status().IsNotFound());
  EXPECT_TRUE(store_->ReaderAt(Sha256("dir")).status().IsNotFound());
  EXPECT_TRUE(WalkDigests().empty());
  // A commit of that content fails (it is not "already there") and keeps the ingest.
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("dir", 3));
  Status blocked = writer->Commit(3, Sha256("dir"));
  EXPECT_FALSE(blocked.ok());
  EXPECT_FALSE(blocked.IsAlreadyExists()) << blocked.ToString();
  EXPECT_EQ(store_->GetStatus("r")->offset, 3);
  CASFS_EXPECT_OK(store_->Delete(Sha256("dir")));
  EXPECT_FALSE(Exists(store_->layout().BlobPath(Sha256("dir"))));
}

// A symlink planted under a blob's name (to a file outside the root whose
// bytes even match the digest) is no blob: never followed, never served,
// and listed by FindStrays.
TEST_F(LocalStoreTest, ASymlinkUnderABlobNameIsNeverFollowed) {
  const std::filesystem::path outside = dir_.path() / "outside";
  WriteAll(outside, "linked");
  const Digest digest = Sha256("linked");
  CASFS_ASSERT_OK(posix::MakeDirs(store_->layout().AlgorithmDir(Algorithm::kSha256)));
  ASSERT_EQ(symlink(outside.c_str(), store_->layout().BlobPath(digest).c_str()), 0);
  EXPECT_TRUE(store_->Info(digest).status().IsNotFound());
  EXPECT_TRUE(store_->ReaderAt(digest).status().IsNotFound());
  EXPECT_TRUE(store_->SetLabel(digest, "k", "v").IsNotFound());
  EXPECT_TRUE(WalkDigests().empty());
  auto strays = FindStrays(store_->layout());
  ASSERT_TRUE(strays.ok()) << strays.status().ToString();
  ASSERT_EQ(strays->size(), 1u);
  EXPECT_EQ((*strays)[0].path, store_->layout().BlobPath(digest));
  EXPECT_EQ((*strays)[0].kind, StrayEntry::Kind::kNotAFile);
  EXPECT_EQ(ReadAll(outside), "linked");
}

TEST_F(LocalStoreTest, FindStraysListsMisnamedEntriesAndNothingElse) {
  auto none = FindStrays(store_->layout());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "a store that never committed has no blobs/ and no strays";
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "good"));
  const auto sha256 = store_->layout().AlgorithmDir(Algorithm::kSha256);
  WriteAll(sha256 / "NOT-A-DIGEST", "x");
  WriteAll(sha256 / std::string(64, 'A'), "uppercase hex is no digest");
  auto strays = FindStrays(store_->layout());
  ASSERT_TRUE(strays.ok());
  ASSERT_EQ(strays->size(), 2u);
  EXPECT_EQ((*strays)[0].path, sha256 / std::string(64, 'A'));
  EXPECT_EQ((*strays)[1].path, sha256 / "NOT-A-DIGEST");
  for (const auto& stray : *strays) EXPECT_EQ(stray.kind, StrayEntry::Kind::kMisnamed);
}

// ---------------------------------------------------------------------------
// Delete.

TEST_F(LocalStoreTest, DeleteOfAMissingBlobIsSuccess) {
  CASFS_EXPECT_OK(store_->Delete(Sha256("nothing")));
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  CASFS_EXPECT_OK(store_->Delete(Sha256("nothing")));
}

TEST_F(LocalStoreTest, DeleteRemovesTheBlobAndItsLabelsForGood) {
  Labels many;
  for (int i = 0; i < 300; ++i) many["containerd.io/gc.ref.content.l." + std::to_string(i)] = Sha256(std::to_string(i)).ToString();
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x", CommitOptions{many}));
  ASSERT_TRUE(Exists(store_->layout().LabelOverflowPath(Sha256("x"))));
  CASFS_ASSERT_OK(store_->Delete(Sha256("x")));
  EXPECT_FALSE(Exists(store_->layout().BlobPath(Sha256("x"))));
  EXPECT_FALSE(Exists(store_->layout().LabelOverflowPath(Sha256("x"))));
  EXPECT_TRUE(store_->Info(Sha256("x")).status().IsNotFound());
  // containerd's label store would bring them back; casfs does not.
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  EXPECT_TRUE(store_->Info(Sha256("x"))->labels.empty());
}

// ---------------------------------------------------------------------------
// Update and the label conveniences.

TEST_F(LocalStoreTest, UpdateReplacesOrEditsByFieldpath) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x", CommitOptions{Labels{{"a", "1"}, {"b", "2"}}}));
  const Digest d = Sha256("x");
  // "labels.KEY": set from info.labels, delete when absent or empty there.
  auto edited = store_->Update(InfoOf(d, {{"a", "10"}, {"c", "3"}, {"b", ""}}),
                               {"labels.a", "labels.b", "labels.c", "labels.zzz"});
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_EQ(edited->labels, (Labels{{"a", "10"}, {"c", "3"}}));
  EXPECT_EQ(store_->Info(d)->labels, edited->labels);
  // A dotted key is literal after "labels.".
  auto dotted = store_->Update(InfoOf(d, {{"containerd.io/distribution.source.docker.io", "x/y"}}),
                               {"labels.containerd.io/distribution.source.docker.io"});
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted->labels.at("containerd.io/distribution.source.docker.io"), "x/y");
  // No paths, or "labels": replace everything.
  auto replaced = store_->Update(InfoOf(d, {{"only", "1"}}), {});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->labels, (Labels{{"only", "1"}}));
  auto cleared = store_->Update(InfoOf(d), {"labels"});
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(store_->Info(d)->labels.empty());
  EXPECT_EQ(cleared->size, 1);
}

TEST_F(LocalStoreTest, UpdateRefusesOtherFieldsBeforeChangingAnything) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x", CommitOptions{Labels{{"a", "1"}}}));
  const Digest d = Sha256("x");
  for (const char* path : {"size", "digest", "label", "labelsx"}) {
    auto result = store_->Update(InfoOf(d, {{"a", "2"}}), {"labels.a", path});
    ASSERT_FALSE(result.ok()) << path;
    EXPECT_TRUE(result.status().Is(ErrorKind::kInvalidArgument));
  }
  EXPECT_EQ(store_->Info(d)->labels, (Labels{{"a", "1"}}));
}

TEST_F(LocalStoreTest, UpdateOfAMissingBlobIsNotFound) {
  EXPECT_TRUE(store_->Update(InfoOf(Sha256("none")), {}).status().IsNotFound());
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  // NotFound comes before the fieldpath check (containerd's order).
  EXPECT_TRUE(store_->Update(InfoOf(Sha256("none")), {"size"}).status().IsNotFound());
}

TEST_F(LocalStoreTest, UpdateValidatesLabels) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  const Digest d = Sha256("x");
  auto too_big = store_->Update(InfoOf(d, {{"k", std::string(4096, 'v')}}), {});
  EXPECT_TRUE(too_big.status().Is(ErrorKind::kInvalidArgument));
  auto fits = store_->Update(InfoOf(d, {{"k", std::string(4095, 'v')}}), {});
  EXPECT_TRUE(fits.ok()) << fits.status().ToString();
  auto reserved = store_->Update(InfoOf(d, {{"casfs.x", "v"}}), {});
  EXPECT_TRUE(reserved.status().Is(ErrorKind::kPermissionDenied));
  EXPECT_EQ(store_->Info(d)->labels.at("k").size(), 4095u);
}

TEST_F(LocalStoreTest, UpdateMovesUpdatedAtAndKeepsCreatedAt) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  const Digest d = Sha256("x");
  const auto before = *store_->Info(d);
  std::this_thread::sleep_for(5ms);
  auto updated = store_->Update(InfoOf(d, {{"k", "v"}}), {});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->created_at, before.created_at);
  EXPECT_GT(updated->updated_at, before.updated_at);
  const auto after = *store_->Info(d);
  EXPECT_EQ(after.created_at, before.created_at);
  EXPECT_EQ(after.updated_at, updated->updated_at);
  EXPECT_EQ(posix::Stat(store_->layout().BlobPath(d))->st_mode & 07777, 0444u);
}

TEST_F(LocalStoreTest, SetAndRemoveLabel) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  const Digest d = Sha256("x");
  CASFS_ASSERT_OK(store_->SetLabel(d, "a", "1"));
  CASFS_ASSERT_OK(store_->SetLabel(d, "b", "2"));
  CASFS_ASSERT_OK(store_->SetLabel(d, "b", ""));  // empty removes
  CASFS_ASSERT_OK(store_->SetLabel(d, "never", ""));  // removing an absent one is fine
  EXPECT_EQ(store_->Info(d)->labels, (Labels{{"a", "1"}}));
  EXPECT_TRUE(*store_->RemoveLabel(d, "a"));
  EXPECT_FALSE(*store_->RemoveLabel(d, "a"));
  EXPECT_TRUE(store_->Info(d)->labels.empty());
  EXPECT_TRUE(store_->SetLabel(d, "", "v").Is(ErrorKind::kInvalidArgument));
  EXPECT_TRUE(store_->SetLabel(d, "casfs.digest", "v").Is(ErrorKind::kPermissionDenied));
  EXPECT_TRUE(store_->SetLabel(Sha256("none"), "k", "v").IsNotFound());
  EXPECT_TRUE(store_->RemoveLabel(Sha256("none"), "k").status().IsNotFound());
}

TEST_F(LocalStoreTest, FiveHundredLabelsThroughUpdateAndBack) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "index"));
  const Digest d = Sha256("index");
  Labels labels;
  for (int i = 0; i < 500; ++i) {
    labels["containerd.io/gc.ref.content.l." + std::to_string(i)] = Sha256("l" + std::to_string(i)).ToString();
  }
  auto updated = store_->Update(InfoOf(d, labels), {});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(store_->Info(d)->labels, labels);
  std::vector<BlobInfo> walked;
  CASFS_ASSERT_OK(store_->Walk([&](const BlobInfo& info) {
    walked.push_back(info);
    return Status::Ok();
  }));
  ASSERT_EQ(walked.size(), 1u);
  EXPECT_EQ(walked[0].labels, labels);
  // And one more by name, then shrink back below the attribute limit.
  CASFS_ASSERT_OK(store_->SetLabel(d, "containerd.io/gc.root", "1"));
  EXPECT_EQ(store_->Info(d)->labels.size(), 501u);
  CASFS_ASSERT_OK(store_->Update(InfoOf(d, {{"k", "v"}}), {}).status());
  EXPECT_FALSE(Exists(store_->layout().LabelOverflowPath(d)));
  EXPECT_EQ(store_->Info(d)->labels, (Labels{{"k", "v"}}));
}

TEST_F(LocalStoreTest, ConcurrentLabelEditsAreNotLost) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  const Digest d = Sha256("x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(store_->SetLabel(d, "t" + std::to_string(t) + "." + std::to_string(i), "v").ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store_->Info(d)->labels.size(), 80u);
}

// ---------------------------------------------------------------------------
// Walk.

TEST_F(LocalStoreTest, WalkOfAStoreThatNeverCommittedIsEmpty) {
  int calls = 0;
  CASFS_EXPECT_OK(store_->Walk([&](const BlobInfo&) {
    ++calls;
    return Status::Ok();
  }));
  EXPECT_EQ(calls, 0);
}

TEST_F(LocalStoreTest, WalkIsLexicalAndSkipsWhatIsNotABlob) {
  std::vector<std::string> digests;
  for (const char* content : {"one", "two", "three", "four"}) {
    CASFS_ASSERT_OK(WriteBlob(*store_, content, content));
    digests.push_back(Sha256(content).ToString());
  }
  std::sort(digests.begin(), digests.end());
  const auto sha256 = store_->layout().AlgorithmDir(Algorithm::kSha256);
  WriteAll(sha256 / "notahash", "x");
  WriteAll(sha256 / std::string(64, 'A'), "x");  // uppercase: invalid
  WriteAll(sha256 / (Sha256("five").hex() + ".tmp"), "x");
  CASFS_ASSERT_OK(posix::MakeDir(sha256 / Sha256("subdir").hex()));
  ASSERT_EQ(::symlink("/etc/passwd", (sha256 / Sha256("link").hex()).c_str()), 0);
  CASFS_ASSERT_OK(posix::MakeDirs(store_->layout().BlobsDir() / "md5"));
  WriteAll(store_->layout().BlobsDir() / "md5" / "abc", "x");
  WriteAll(store_->layout().BlobsDir() / "zzz-file", "x");  // containerd stops here; casfs ignores it
  // A sha512 blob put there by another tool is walked too, after sha256.
  CASFS_ASSERT_OK(posix::MakeDirs(store_->layout().AlgorithmDir(Algorithm::kSha512)));
  const Digest d512 = DigestOf(Algorithm::kSha512, "x", 1);
  WriteAll(store_->layout().BlobPath(d512), "x");
  digests.push_back(d512.ToString());
  EXPECT_EQ(WalkDigests(), digests);
}

TEST_F(LocalStoreTest, WalkFiltersByDigestAndLabels) {
  CASFS_ASSERT_OK(WriteBlob(*store_, "a", "a", CommitOptions{Labels{{"containerd.io/gc.root", "1"}, {"foo", "bar"}}}));
  CASFS_ASSERT_OK(WriteBlob(*store_, "b", "b", CommitOptions{Labels{{"foo", "baz"}, {"a.b", "c"}}}));
  CASFS_ASSERT_OK(WriteBlob(*store_, "c", "c"));
  const std::string a = Sha256("a").ToString(), b = Sha256("b").ToString(), c = Sha256("c").ToString();
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(WalkDigests({"digest==" + a}), std::vector<std::string>{a});
  EXPECT_EQ(WalkDigests({"digest~=^sha256:"}), sorted({a, b, c}));
  EXPECT_EQ(WalkDigests({"labels.\"containerd.io/gc.root\""}), std::vector<std::string>{a});
  EXPECT_EQ(WalkDigests({"labels.a.b==c"}), std::vector<std::string>{b});
  EXPECT_EQ(WalkDigests({"labels.foo!=bar"}), sorted({b, c}));  // absent counts as ""
  EXPECT_EQ(WalkDigests({"labels.foo==bar", "labels.foo==baz"}), sorted({a, b}));  // OR
  EXPECT_EQ(WalkDigests({"labels.foo~=^ba, digest==" + b}), std::vector<std::string>{b});  // AND
  EXPECT_EQ(WalkDigests({"labels.missing~=^$"}), sorted({a, b, c}));
  EXPECT_TRUE(WalkDigests({"size==1"}).empty());  // never present
  EXPECT_EQ(WalkDigests({""}), sorted({a, b, c}));
}

TEST_F(LocalStoreTest, WalkFilterSyntaxErrorIsInvalidArgumentBeforeTouchingDisk) {
  int calls = 0;
  Status status = store_->Walk([&](const BlobInfo&) { ++calls; return Status::Ok(); }, {"labels.k-1==v"});
  EXPECT_TRUE(status.Is(ErrorKind::kInvalidArgument)) << status.ToString();
  CASFS_ASSERT_OK(WriteBlob(*store_, "r", "x"));
  status = store_->Walk([&](const BlobInfo&) { ++calls; return Status::Ok(); }, {"digest=="});
  EXPECT_TRUE(status.Is(ErrorKind::kInvalidArgument));
  EXPECT_EQ(calls, 0);
}

TEST_F(LocalStoreTest, WalkStopsAtTheFirstErrorOfFn) {
  for (const char* content : {"1", "2", "3"}) CASFS_ASSERT_OK(WriteBlob(*store_, content, content));
  int calls = 0;
  Status status = store_->Walk([&](const BlobInfo&) {
    ++calls;
    return Status::Unavailable("stop here");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(status.Is(ErrorKind::kUnavailable));
  EXPECT_EQ(status.message(), "stop here");
}

// ---------------------------------------------------------------------------
// Status, ListStatuses, Abort.

TEST_F(LocalStoreTest, StatusOfAnIngest) {
  EXPECT_TRUE(store_->GetStatus("none").status().IsNotFound());
  EXPECT_TRUE(store_->GetStatus("").status().Is(ErrorKind::kInvalidArgument));
  WriterOptions wo;
  wo.ref = "r";
  wo.total = 10;
  wo.expected = Sha256("0123456789");
  auto writer = store_->OpenWriter(wo);
  ASSERT_TRUE(writer.ok());
  CASFS_ASSERT_OK((*writer)->Write("0123", 4));
  auto status = store_->GetStatus("r");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->ref, "r");
  EXPECT_EQ(status->offset, 4);
  EXPECT_EQ(status->total, 10);
  EXPECT_EQ(status->expected, Sha256("0123456789"));
  // updatedat on disk is the creation time until Close, but the data's
  // mtime moved with the write.
  auto data_mtime = Timestamp::FromTimespec(posix::Stat(store_->layout().IngestDir("r") / "data")->st_mtim);
  EXPECT_EQ(status->updated_at, std::max(status->started_at, data_mtime));
  EXPECT_GE(status->updated_at, status->started_at);
}

TEST_F(LocalStoreTest, ANewIngestWasUpdatedWhenItStarted) {
  auto writer = Open("fresh");
  ASSERT_TRUE(writer);
  auto status = store_->GetStatus("fresh");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->started_at, status->updated_at);
  EXPECT_EQ(status->started_at, writer->GetStatus().started_at);
  EXPECT_EQ(store_->ListStatuses()->at(0).updated_at, status->started_at);
}

TEST_F(LocalStoreTest, StatusReadsContainerdsFilesLeniently) {
  const auto dir = store_->layout().IngestDir("r");
  CASFS_ASSERT_OK(posix::MakeDir(dir));
  WriteAll(dir / "ref", "r");
  WriteAll(dir / "startedat", "2023-04-05T10:11:12.12+02:00");
  WriteAll(dir / "updatedat", "2023-04-05T10:11:13Z");
  WriteAll(dir / "total", "11\n");  // containerd reads that as 0
  WriteAll(dir / "data", "abc");
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "data").c_str(), std::array<timespec, 2>{{{1, 0}, {1, 0}}}.data(), 0), 0);
  auto status = store_->GetStatus("r");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->total, 0);
  EXPECT_EQ(FormatRfc3339Nano(status->started_at), "2023-04-05T08:11:12.12Z");
  EXPECT_EQ(FormatRfc3339Nano(status->updated_at), "2023-04-05T10:11:13Z");
  EXPECT_FALSE(status->expected.has_value());
  WriteAll(dir / "total", "11");
  EXPECT_EQ(store_->GetStatus("r")->total, 11);
}

TEST_F(LocalStoreTest, ListStatusesFiltersByRefAndSorts) {
  std::vector<std::unique_ptr<Writer>> writers;
  for (const char* ref : {"default/2/b", "default/1/a", "other/1/c"}) writers.push_back(Open(ref));
  EXPECT_EQ(ListRefs(), (std::vector<std::string>{"default/1/a", "default/2/b", "other/1/c"}));
  EXPECT_EQ(ListRefs({"ref~=^default/"}), (std::vector<std::string>{"default/1/a", "default/2/b"}));
  EXPECT_EQ(ListRefs({"ref==other/1/c"}), (std::vector<std::string>{"other/1/c"}));
  EXPECT_EQ(ListRefs({"ref==other/1/c", "ref==default/1/a"}), (std::vector<std::string>{"default/1/a", "other/1/c"}));
  EXPECT_TRUE(ListRefs({"labels.x==y"}).empty());
  auto bad = store_->ListStatuses({"ref=="});
  EXPECT_TRUE(bad.status().Is(ErrorKind::kInvalidArgument));
}

TEST_F(LocalStoreTest, ListStatusesSkipsEveryKindOfDebris) {
  auto writer = Open("real");
  const auto ingest = store_->layout().IngestRoot();
  CASFS_ASSERT_OK(posix::MakeDir(ingest / Layout::IngestFolderName("no-data")));
  WriteAll(ingest / Layout::IngestFolderName("no-data") / "ref", "no-data");
  CASFS_ASSERT_OK(posix::MakeDir(ingest / Layout::IngestFolderName("no-ref")));
  WriteAll(ingest / Layout::IngestFolderName("no-ref") / "data", "x");
  CASFS_ASSERT_OK(posix::MakeDir(ingest / Layout::IngestFolderName("wrong-ref")));
  WriteAll(ingest / Layout::IngestFolderName("wrong-ref") / "data", "x");
  WriteAll(ingest / Layout::IngestFolderName("wrong-ref") / "ref", "something else");
  WriteAll(ingest / "stray-file", "x");
  CASFS_ASSERT_OK(posix::MakeDir(ingest / "empty"));
  EXPECT_EQ(ListRefs(), std::vector<std::string>{"real"});
}

TEST_F(LocalStoreTest, ListStatusesWithNoIngestsIsEmpty) {
  EXPECT_TRUE(ListRefs().empty());
  EXPECT_TRUE(ListRefs({""}).empty());
}

TEST_F(LocalStoreTest, AbortRemovesTheIngestAndMissingIsSuccess) {
  CASFS_EXPECT_OK(store_->Abort("none"));
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("x", 1));
  CASFS_ASSERT_OK(writer->Close());
  CASFS_ASSERT_OK(store_->Abort("r"));
  EXPECT_FALSE(Exists(store_->layout().IngestDir("r")));
  EXPECT_TRUE(store_->GetStatus("r").status().IsNotFound());
  EXPECT_TRUE(ListRefs().empty());
  EXPECT_TRUE(store_->Abort("").Is(ErrorKind::kInvalidArgument));
}

TEST_F(LocalStoreTest, AbortOfAnIngestWithAnOpenWriterIsUnavailable) {
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("x", 1));
  Status status = store_->Abort("r");
  EXPECT_TRUE(status.Is(ErrorKind::kUnavailable)) << status.ToString();
  EXPECT_EQ(ToErrno(status), EBUSY);
  EXPECT_TRUE(Exists(store_->layout().IngestDir("r") / "data"));
  CASFS_ASSERT_OK(writer->Commit(1, Sha256("x")));
}

TEST_F(LocalStoreTest, AbortRemovesDebris) {
  CASFS_ASSERT_OK(posix::MakeDir(store_->layout().IngestDir("r")));
  CASFS_ASSERT_OK(store_->Abort("r"));
  EXPECT_FALSE(Exists(store_->layout().IngestDir("r")));
}

// ---------------------------------------------------------------------------
// Ingest extras.

TEST_F(LocalStoreTest, IngestDigestAndReaderWithoutAWriter) {
  EXPECT_TRUE(store_->IngestDigest("none").status().IsNotFound());
  EXPECT_TRUE(store_->OpenIngestReader("none").status().IsNotFound());
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Write("hello", 5));
  EXPECT_EQ(*store_->IngestDigest("r"), Sha256("hello"));
  auto reader = store_->OpenIngestReader("r");
  ASSERT_TRUE(reader.ok());
  CASFS_ASSERT_OK(writer->Write(" world", 6));
  std::string buf(20, '\0');
  EXPECT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 0), 11u);  // it may grow
  CASFS_ASSERT_OK(writer->Close());
  EXPECT_EQ(*store_->IngestDigest("r"), Sha256("hello world"));  // from the checkpoint
  // A stale checkpoint is not trusted.
  std::this_thread::sleep_for(10ms);
  WriteAll(store_->layout().IngestDir("r") / "data", "HELLO WORLD");
  EXPECT_EQ(*store_->IngestDigest("r"), Sha256("HELLO WORLD"));
}

TEST_F(LocalStoreTest, SetIngestTotalAndExpected) {
  EXPECT_TRUE(store_->SetIngestTotal("none", 3).IsNotFound());
  EXPECT_TRUE(store_->SetIngestExpected("none", Sha256("x")).IsNotFound());
  auto writer = Open("r");
  CASFS_ASSERT_OK(writer->Close());
  const auto dir = store_->layout().IngestDir("r");
  const std::string created = ReadAll(dir / "updatedat");
  std::this_thread::sleep_for(5ms);
  CASFS_ASSERT_OK(store_->SetIngestTotal("r", 42));
  EXPECT_EQ(ReadAll(dir / "total"), "42");
  EXPECT_FALSE(Exists(dir / "total.tmp"));
  EXPECT_EQ(store_->GetStatus("r")->total, 42);
  EXPECT_GT(*ParseRfc3339(ReadAll(dir / "updatedat")), *ParseRfc3339(created));
  CASFS_ASSERT_OK(store_->SetIngestTotal("r", std::nullopt));
  EXPECT_FALSE(Exists(dir / "total"));
  CASFS_ASSERT_OK(store_->SetIngestTotal("r", 0));
  EXPECT_FALSE(Exists(dir / "total"));
  EXPECT_TRUE(store_->SetIngestTotal("r", -1).Is(ErrorKind::kInvalidArgument));

  CASFS_ASSERT_OK(store_->SetIngestExpected("r", Sha256("x")));
  EXPECT_EQ(ReadAll(dir / "casfs.expected"), Sha256("x").ToString());
  EXPECT_EQ(store_->GetStatus("r")->expected, Sha256("x"));
  CASFS_ASSERT_OK(store_->SetIngestExpected("r", std::nullopt));
  EXPECT_FALSE(Exists(dir / "casfs.expected"));
  EXPECT_FALSE(store_->GetStatus("r")->expected.has_value());
}

TEST_F(LocalStoreTest, StagedLabels) {
  EXPECT_TRUE(store_->StagedLabels("none").status().IsNotFound());
  EXPECT_TRUE(store_->StageLabel("none", "k", "v").IsNotFound());
  auto writer = Open("r");
  const auto dir = store_->layout().IngestDir("r");
  const std::string updated = ReadAll(dir / "updatedat");
  EXPECT_TRUE(store_->StagedLabels("r")->empty());
  CASFS_ASSERT_OK(store_->StageLabel("r", "a", "1"));
  CASFS_ASSERT_OK(store_->StageLabel("r", "b", "2"));
  CASFS_ASSERT_OK(store_->StageLabel("r", "b", ""));
  EXPECT_EQ(*store_->StagedLabels("r"), (Labels{{"a", "1"}}));
  EXPECT_TRUE(store_->StageLabel("r", "casfs.x", "1").Is(ErrorKind::kPermissionDenied));
  EXPECT_TRUE(store_->StageLabel("r", "k", std::string(5000, 'v')).Is(ErrorKind::kInvalidArgument));
  EXPECT_EQ(ReadAll(dir / "updatedat"), updated);  // staging never touches updatedat
  EXPECT_TRUE(*store_->UnstageLabel("r", "a"));
  EXPECT_FALSE(*store_->UnstageLabel("r", "a"));
  EXPECT_FALSE(Exists(dir / "casfs.labels"));
  CASFS_ASSERT_OK(store_->StageLabel("r", "kept", "yes"));
  CASFS_ASSERT_OK(writer->Write("x", 1));
  CASFS_ASSERT_OK(writer->Commit(1, Sha256("x")));
  EXPECT_EQ(store_->Info(Sha256("x"))->labels, (Labels{{"kept", "yes"}}));
}

TEST_F(LocalStoreTest, ConcurrentStagingIsNotLost) {
  auto writer = Open("r");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(store_->StageLabel("r", "t" + std::to_string(t) + "." + std::to_string(i), "v").ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store_->StagedLabels("r")->size(), 40u);
}

// The casfs files inside an ingest are containerd-invisible and go away
// with the folder.
TEST_F(LocalStoreTest, CasfsFilesLeaveWithTheIngest) {
  WriterOptions wo;
  wo.ref = "r";
  wo.expected = Sha256("x");
  auto writer = store_->OpenWriter(wo);
  ASSERT_TRUE(writer.ok());
  CASFS_ASSERT_OK(store_->StageLabel("r", "k", "v"));
  CASFS_ASSERT_OK((*writer)->Write("x", 1));
  CASFS_ASSERT_OK((*writer)->Close());
  EXPECT_TRUE(Exists(store_->layout().IngestDir("r") / "casfs.hashstate"));
  CASFS_ASSERT_OK(store_->Abort("r"));
  EXPECT_TRUE(posix::ListDir(store_->layout().IngestRoot())->empty());
}

}  // namespace
}  // namespace casfs
