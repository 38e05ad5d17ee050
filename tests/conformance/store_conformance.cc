#include "tests/conformance/store_conformance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/digester.h"

namespace casfs::conformance {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Plumbing.

std::string FactoryName(const ::testing::TestParamInfo<std::shared_ptr<StoreFactory>>& info) {
  return info.param->Name();
}

void StoreConformanceTest::SetUp() {
  caps_ = GetParam()->capabilities();
  under_test_ = GetParam()->Make();
  ASSERT_NE(under_test_, nullptr) << "factory " << GetParam()->Name() << " made no store";
}

void StoreConformanceTest::TearDown() { under_test_.reset(); }

ScratchDir::ScratchDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + tag + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    ::chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);  // read-only blobs, non-root
  }
  std::filesystem::remove_all(path_, ec);
}

namespace {

Digest Sha256(const std::string& content) {
  return DigestOf(Algorithm::kSha256, content.data(), content.size());
}

std::string Bytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2246822519u + 7;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 23);
  }
  return out;
}

#define EXPECT_OK(expr)                                             \
  do {                                                              \
    ::casfs::Status s_ = (expr);                                    \
    EXPECT_TRUE(s_.ok()) << #expr << ": " << s_.ToString();         \
  } while (0)
#define ASSERT_OK(expr)                                             \
  do {                                                              \
    ::casfs::Status s_ = (expr);                                    \
    ASSERT_TRUE(s_.ok()) << #expr << ": " << s_.ToString();         \
  } while (0)
#define EXPECT_KIND(expr, kind)                                     \
  do {                                                              \
    ::casfs::Status s_ = (expr);                                    \
    EXPECT_TRUE(s_.Is(kind)) << #expr << ": " << s_.ToString();     \
  } while (0)

WriterOptions Options(const std::string& ref, int64_t total = 0,
                      std::optional<Digest> expected = std::nullopt) {
  WriterOptions options;
  options.ref = ref;
  options.total = total;
  options.expected = std::move(expected);
  options.lock_wait = 50ms;
  return options;
}

}  // namespace

// Helpers shared by the tests below, over the Store interface only.
class StoreOps {
 public:
  explicit StoreOps(Store& store) : store_(store) {}

  std::unique_ptr<Writer> Open(const std::string& ref, int64_t total = 0,
                               std::optional<Digest> expected = std::nullopt) {
    auto writer = store_.OpenWriter(Options(ref, total, std::move(expected)));
    EXPECT_TRUE(writer.ok()) << "open " << ref << ": " << writer.status().ToString();
    return writer.ok() ? std::move(*writer) : nullptr;
  }

  // containerd's WriteBlob: open, write, commit with size and digest.
  Status WriteBlob(const std::string& ref, const std::string& content,
                   const CommitOptions& options = {}) {
    auto writer = store_.OpenWriter(Options(ref, static_cast<int64_t>(content.size()), Sha256(content)));
    if (!writer.ok()) return writer.status();
    CASFS_RETURN_IF_ERROR((*writer)->Write(content.data(), content.size()));
    return (*writer)->Commit(static_cast<int64_t>(content.size()), Sha256(content), options);
  }

  // containerd's ReadBlob: one ReadAt of exactly Size() bytes.
  std::string Read(const Digest& digest) {
    auto reader = store_.ReaderAt(digest);
    if (!reader.ok()) return "<" + reader.status().ToString() + ">";
    std::string out(static_cast<size_t>((*reader)->Size()), '\0');
    auto n = (*reader)->ReadAt(out.data(), out.size(), 0);
    if (!n.ok()) return "<" + n.status().ToString() + ">";
    if (*n != out.size()) return "<short read>";
    return out;
  }

  std::vector<std::string> Walk(const std::vector<std::string>& filters = {}) {
    std::vector<std::string> out;
    Status status = store_.Walk(
        [&](const BlobInfo& info) {
          out.push_back(info.digest.ToString());
          return Status::Ok();
        },
        filters);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return out;
  }

  std::vector<std::string> Refs(const std::vector<std::string>& filters = {}) {
    auto statuses = store_.ListStatuses(filters);
    EXPECT_TRUE(statuses.ok()) << statuses.status().ToString();
    std::vector<std::string> refs;
    if (statuses.ok()) {
      for (const auto& s : *statuses) refs.push_back(s.ref);
    }
    std::sort(refs.begin(), refs.end());
    return refs;
  }

 private:
  Store& store_;
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

BlobInfo InfoOf(const Digest& digest, Labels labels = {}) {
  BlobInfo info;
  info.digest = digest;
  info.labels = std::move(labels);
  return info;
}

// ---------------------------------------------------------------------------
// Writer basics.

TEST_P(StoreConformanceTest, WriterBasics) {
  StoreOps ops(store());
  const std::string content = "containerd content testsuite";
  auto writer = ops.Open("basic", static_cast<int64_t>(content.size()));
  ASSERT_TRUE(writer);
  IngestStatus before = writer->GetStatus();
  EXPECT_EQ(before.ref, "basic");
  EXPECT_EQ(before.offset, 0);
  EXPECT_EQ(before.total, static_cast<int64_t>(content.size()));
  EXPECT_EQ(before.started_at, before.updated_at);
  ASSERT_OK(writer->Write(content.data(), 10));
  ASSERT_OK(writer->Write(content.data() + 10, content.size() - 10));
  EXPECT_EQ(writer->GetStatus().offset, static_cast<int64_t>(content.size()));
  EXPECT_EQ(writer->Size(), static_cast<int64_t>(content.size()));
  EXPECT_GE(writer->GetStatus().updated_at, before.updated_at);
  auto digest = writer->CurrentDigest();
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, Sha256(content));

  auto status = store().GetStatus("basic");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->ref, "basic");
  EXPECT_EQ(status->offset, static_cast<int64_t>(content.size()));
  EXPECT_EQ(ops.Refs(), std::vector<std::string>{"basic"});

  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_EQ(ops.Read(Sha256(content)), content);
  auto info = store().Info(Sha256(content));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->digest, Sha256(content));
  EXPECT_EQ(info->size, static_cast<int64_t>(content.size()));
  EXPECT_TRUE(store().GetStatus("basic").status().IsNotFound());
  EXPECT_TRUE(ops.Refs().empty());
  // The digest stays valid, and Close after Commit is harmless.
  EXPECT_EQ(*writer->CurrentDigest(), Sha256(content));
  EXPECT_OK(writer->Close());
}

TEST_P(StoreConformanceTest, EmptyRefIsInvalidArgument) {
  EXPECT_KIND(store().OpenWriter(Options("")).status(), ErrorKind::kInvalidArgument);
}

TEST_P(StoreConformanceTest, EmptyContentCommits) {
  StoreOps ops(store());
  auto writer = ops.Open("empty");
  ASSERT_TRUE(writer);
  EXPECT_EQ(*writer->CurrentDigest(), EmptySha256());
  ASSERT_OK(writer->Commit(0, EmptySha256()));
  EXPECT_EQ(store().Info(EmptySha256())->size, 0);
  EXPECT_EQ(ops.Read(EmptySha256()), "");
}

TEST_P(StoreConformanceTest, LargeContentRoundTrips) {
  StoreOps ops(store());
  const std::string content = Bytes((4 << 20) + 12345, 1);
  auto writer = ops.Open("large");
  ASSERT_TRUE(writer);
  for (size_t at = 0; at < content.size(); at += 1 << 20) {
    ASSERT_OK(writer->Write(content.data() + at, std::min<size_t>(1 << 20, content.size() - at)));
  }
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_TRUE(ops.Read(Sha256(content)) == content);
}

TEST_P(StoreConformanceTest, RefsWithSlashesColonsAndSpaces) {
  StoreOps ops(store());
  const std::vector<std::string> refs = {"default/17/layer-sha256:ab12", "a b", "x:y", "%2F", ".", ".."};
  std::vector<std::unique_ptr<Writer>> writers;
  for (const auto& ref : refs) {
    writers.push_back(ops.Open(ref));
    ASSERT_TRUE(writers.back()) << ref;
    ASSERT_OK(writers.back()->Write(ref.data(), ref.size()));
  }
  EXPECT_EQ(ops.Refs(), Sorted(refs));
  for (const auto& ref : refs) {
    auto status = store().GetStatus(ref);
    ASSERT_TRUE(status.ok()) << ref;
    EXPECT_EQ(status->ref, ref);
    EXPECT_EQ(status->offset, static_cast<int64_t>(ref.size()));
  }
}

TEST_P(StoreConformanceTest, RefsOfAnyBytesAndLength) {
  if (!caps().any_ref_bytes) GTEST_SKIP() << "refs must be file names here";
  StoreOps ops(store());
  const std::string with_nul("nul\0inside", 10);
  const std::string long_ref(1000, 'r');
  for (const std::string& ref : {with_nul, long_ref}) {
    auto writer = ops.Open(ref);
    ASSERT_TRUE(writer);
    ASSERT_OK(writer->Write("x", 1));
    ASSERT_OK(writer->Close());
    EXPECT_EQ(store().GetStatus(ref)->ref, ref);
  }
  EXPECT_EQ(ops.Refs(), Sorted({with_nul, long_ref}));
}

// ---------------------------------------------------------------------------
// Resume.

TEST_P(StoreConformanceTest, ResumeFromTheOffset) {
  StoreOps ops(store());
  const std::string content = Bytes(300000, 2);
  const size_t first = 123457;
  {
    auto writer = ops.Open("resume", static_cast<int64_t>(content.size()));
    ASSERT_TRUE(writer);
    ASSERT_OK(writer->Write(content.data(), first));
    ASSERT_OK(writer->Close());
  }
  auto status = store().GetStatus("resume");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->offset, static_cast<int64_t>(first));
  EXPECT_EQ(status->total, static_cast<int64_t>(content.size()));
  // containerd's Copy: read the offset, skip that much, write the rest.
  auto writer = ops.Open("resume", static_cast<int64_t>(content.size()));
  ASSERT_TRUE(writer);
  const int64_t offset = writer->GetStatus().offset;
  EXPECT_EQ(offset, static_cast<int64_t>(first));
  EXPECT_EQ(writer->GetStatus().started_at, status->started_at);
  EXPECT_EQ(*writer->CurrentDigest(), Sha256(content.substr(0, first)));
  ASSERT_OK(writer->Write(content.data() + offset, content.size() - offset));
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_TRUE(ops.Read(Sha256(content)) == content);
}

TEST_P(StoreConformanceTest, ResumeByTruncatingAndRewriting) {
  StoreOps ops(store());
  const std::string content = Bytes(50000, 3);
  {
    auto writer = ops.Open("rewrite");
    ASSERT_TRUE(writer);
    ASSERT_OK(writer->Write("garbage that will go", 20));
    ASSERT_OK(writer->Close());
  }
  auto writer = ops.Open("rewrite");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Truncate(0));
  EXPECT_EQ(writer->GetStatus().offset, 0);
  ASSERT_OK(writer->Write(content.data(), content.size()));
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_TRUE(ops.Read(Sha256(content)) == content);
}

TEST_P(StoreConformanceTest, ResumeManyTimes) {
  StoreOps ops(store());
  const std::string content = Bytes(10000, 4);
  for (size_t at = 0; at < content.size(); at += 1000) {
    auto writer = ops.Open("steps");
    ASSERT_TRUE(writer);
    ASSERT_EQ(writer->GetStatus().offset, static_cast<int64_t>(at));
    ASSERT_OK(writer->Write(content.data() + at, 1000));
    ASSERT_OK(writer->Close());
  }
  auto writer = ops.Open("steps");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
}

// ---------------------------------------------------------------------------
// Commit.

TEST_P(StoreConformanceTest, CommitWithAMismatchedSizeIsFailedPreconditionAndKeepsTheIngest) {
  StoreOps ops(store());
  auto writer = ops.Open("size");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("four", 4));
  EXPECT_KIND(writer->Commit(5, Sha256("four")), ErrorKind::kFailedPrecondition);
  EXPECT_TRUE(store().Info(Sha256("four")).status().IsNotFound());
  auto status = store().GetStatus("size");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->offset, 4);
  // Resume and commit right.
  auto again = ops.Open("size");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->GetStatus().offset, 4);
  ASSERT_OK(again->Commit(4, Sha256("four")));
}

TEST_P(StoreConformanceTest, CommitWithAMismatchedDigestIsFailedPreconditionAndKeepsTheIngest) {
  StoreOps ops(store());
  auto writer = ops.Open("digest");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("four", 4));
  EXPECT_KIND(writer->Commit(4, Sha256("five")), ErrorKind::kFailedPrecondition);
  EXPECT_TRUE(store().Info(Sha256("four")).status().IsNotFound());
  EXPECT_TRUE(store().Info(Sha256("five")).status().IsNotFound());
  EXPECT_EQ(store().GetStatus("digest")->offset, 4);
  auto again = ops.Open("digest");
  ASSERT_TRUE(again);
  ASSERT_OK(again->Commit(4, Sha256("four")));
}

// An expected sha512 digest names the blob under blobs/sha512 (and is
// checked in sha512); read, Info and Walk find it by that name.
TEST_P(StoreConformanceTest, CommitUnderSha512) {
  StoreOps ops(store());
  const std::string content = "named by sha512";
  const Digest sha512 = DigestOf(Algorithm::kSha512, content.data(), content.size());
  auto wrong = ops.Open("sha512-wrong");
  ASSERT_TRUE(wrong);
  ASSERT_OK(wrong->Write("not it", 6));
  EXPECT_KIND(wrong->Commit(6, sha512), ErrorKind::kFailedPrecondition);
  EXPECT_EQ(store().GetStatus("sha512-wrong")->offset, 6);

  auto writer = ops.Open("sha512");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write(content.data(), content.size()));
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), sha512));
  EXPECT_EQ(writer->CommittedDigest(), sha512);
  auto info = store().Info(sha512);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, static_cast<int64_t>(content.size()));
  EXPECT_TRUE(store().Info(Sha256(content)).status().IsNotFound());
  std::vector<std::string> walked;
  ASSERT_OK(store().Walk([&](const BlobInfo& blob) {
    walked.push_back(blob.digest.ToString());
    return Status::Ok();
  }));
  EXPECT_EQ(walked, std::vector<std::string>{sha512.ToString()});
}

TEST_P(StoreConformanceTest, CommitChecksSizeBeforeDigest) {
  StoreOps ops(store());
  auto writer = ops.Open("order");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("four", 4));
  Status status = writer->Commit(9, Sha256("nine"));
  EXPECT_TRUE(status.Is(ErrorKind::kFailedPrecondition));
  EXPECT_NE(status.message().find("size"), std::string::npos) << status.message();
}

TEST_P(StoreConformanceTest, CommitWithoutSizeOrDigestCommitsWhatWasWritten) {
  StoreOps ops(store());
  auto writer = ops.Open("free");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("anything", 8));
  ASSERT_OK(writer->Commit(0, std::nullopt));
  EXPECT_EQ(ops.Read(Sha256("anything")), "anything");
}

TEST_P(StoreConformanceTest, CommitOfExistingContentIsAlreadyExistsAndRemovesTheIngest) {
  StoreOps ops(store());
  ASSERT_OK(ops.WriteBlob("first", "same"));
  auto writer = ops.Open("second");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("same", 4));
  EXPECT_KIND(writer->Commit(4, Sha256("same")), ErrorKind::kAlreadyExists);
  EXPECT_TRUE(store().GetStatus("second").status().IsNotFound());
  EXPECT_TRUE(ops.Refs().empty());
  EXPECT_EQ(ops.Read(Sha256("same")), "same");
  EXPECT_EQ(ops.Walk().size(), 1u);
}

TEST_P(StoreConformanceTest, OpenWriterForExistingContentIsAlreadyExists) {
  StoreOps ops(store());
  ASSERT_OK(ops.WriteBlob("first", "there"));
  auto writer = store().OpenWriter(Options("second", 5, Sha256("there")));
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(writer.status().IsAlreadyExists()) << writer.status().ToString();
  EXPECT_TRUE(store().GetStatus("second").status().IsNotFound());
  EXPECT_TRUE(ops.Refs().empty());
}

TEST_P(StoreConformanceTest, CommitOnAClosedWriterIsFailedPrecondition) {
  StoreOps ops(store());
  auto writer = ops.Open("closed");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  ASSERT_OK(writer->Close());
  EXPECT_KIND(writer->Commit(1, Sha256("x")), ErrorKind::kFailedPrecondition);
  EXPECT_EQ(store().GetStatus("closed")->offset, 1);
  EXPECT_OK(writer->Close());
}

TEST_P(StoreConformanceTest, CommitTwiceIsFailedPrecondition) {
  StoreOps ops(store());
  auto writer = ops.Open("twice");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  ASSERT_OK(writer->Commit(1, Sha256("x")));
  EXPECT_KIND(writer->Commit(1, Sha256("x")), ErrorKind::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, CommittedBlobTimesAreEqualAndReadsLeaveThemAlone) {
  StoreOps ops(store());
  ASSERT_OK(ops.WriteBlob("t", "timed"));
  auto info = store().Info(Sha256("timed"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->created_at, info->updated_at);
  EXPECT_EQ(ops.Read(Sha256("timed")), "timed");
  EXPECT_EQ(store().Info(Sha256("timed"))->updated_at, info->updated_at);
}

// ---------------------------------------------------------------------------
// One writer per ref.

TEST_P(StoreConformanceTest, ASecondWriterOnARefIsUnavailable) {
  StoreOps ops(store());
  auto first = ops.Open("busy");
  ASSERT_TRUE(first);
  auto second = store().OpenWriter(Options("busy"));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().Is(ErrorKind::kUnavailable)) << second.status().ToString();
  ASSERT_OK(first->Close());
  auto third = store().OpenWriter(Options("busy"));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_P(StoreConformanceTest, CommitReleasesTheRef) {
  StoreOps ops(store());
  auto writer = ops.Open("released");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  EXPECT_FALSE(writer->Commit(2, std::nullopt).ok());
  auto next = store().OpenWriter(Options("released"));
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

TEST_P(StoreConformanceTest, WritersOnDifferentRefsRunInParallel) {
  StoreOps ops(store());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string content = Bytes(200000, 100 + t);
      EXPECT_OK(ops.WriteBlob("parallel-" + std::to_string(t), content));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ops.Walk().size(), 4u);
}

// ---------------------------------------------------------------------------
// Positional writes and truncation.

TEST_P(StoreConformanceTest, OutOfOrderWritesAndHoles) {
  StoreOps ops(store());
  const std::string content = Bytes(3 * 65536, 5);
  auto writer = ops.Open("positional");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->WriteAt(2 * 65536, content.data() + 2 * 65536, 65536));
  EXPECT_EQ(writer->Size(), 3 * 65536);
  std::string with_hole = std::string(2 * 65536, '\0') + content.substr(2 * 65536);
  EXPECT_EQ(*writer->CurrentDigest(), Sha256(with_hole));
  ASSERT_OK(writer->WriteAt(0, content.data(), 65536));
  ASSERT_OK(writer->WriteAt(65536, content.data() + 65536, 65536));
  EXPECT_EQ(*writer->CurrentDigest(), Sha256(content));
  ASSERT_OK(writer->Commit(static_cast<int64_t>(content.size()), Sha256(content)));
  EXPECT_TRUE(ops.Read(Sha256(content)) == content);
}

TEST_P(StoreConformanceTest, TruncateToZeroSmallerAndLarger) {
  StoreOps ops(store());
  auto writer = ops.Open("truncate", 0);
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("hello world", 11));
  ASSERT_OK(writer->Truncate(5));
  EXPECT_EQ(writer->Size(), 5);
  EXPECT_EQ(*writer->CurrentDigest(), Sha256("hello"));
  ASSERT_OK(writer->Truncate(8));
  EXPECT_EQ(*writer->CurrentDigest(), Sha256(std::string("hello") + std::string(3, '\0')));
  ASSERT_OK(writer->Truncate(0));
  EXPECT_EQ(writer->Size(), 0);
  EXPECT_EQ(*writer->CurrentDigest(), EmptySha256());
  EXPECT_EQ(store().GetStatus("truncate")->ref, "truncate");
  ASSERT_OK(writer->Write("again", 5));
  ASSERT_OK(writer->Commit(5, Sha256("again")));
}

TEST_P(StoreConformanceTest, AClosedWriterRefusesWrites) {
  StoreOps ops(store());
  auto writer = ops.Open("done");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  ASSERT_OK(writer->Close());
  EXPECT_FALSE(writer->Write("y", 1).ok());
  EXPECT_EQ(*writer->CurrentDigest(), Sha256("x"));
  EXPECT_EQ(store().GetStatus("done")->offset, 1);
}

// ---------------------------------------------------------------------------
// Info, Update, labels.

TEST_P(StoreConformanceTest, InfoAndReadOfMissingContentAreNotFound) {
  EXPECT_TRUE(store().Info(Sha256("missing")).status().IsNotFound());
  EXPECT_TRUE(store().ReaderAt(Sha256("missing")).status().IsNotFound());
  EXPECT_TRUE(store().GetStatus("missing").status().IsNotFound());
}

TEST_P(StoreConformanceTest, CommitLabelsShowInInfo) {
  StoreOps ops(store());
  Labels labels{{"containerd.io/gc.root", "2024-01-01T00:00:00Z"}, {"name", "value with spaces"}};
  ASSERT_OK(ops.WriteBlob("l", "labelled", CommitOptions{labels}));
  EXPECT_EQ(store().Info(Sha256("labelled"))->labels, labels);
}

TEST_P(StoreConformanceTest, UpdateLabelsByFieldpath) {
  StoreOps ops(store());
  const Digest d = Sha256("update me");
  ASSERT_OK(ops.WriteBlob("u", "update me", CommitOptions{Labels{{"a", "1"}, {"b", "2"}}}));
  const BlobInfo before = *store().Info(d);

  auto one = store().Update(InfoOf(d, {{"b", "20"}, {"c", "3"}}), {"labels.b", "labels.c"});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->labels, (Labels{{"a", "1"}, {"b", "20"}, {"c", "3"}}));
  EXPECT_EQ(store().Info(d)->labels, one->labels);

  auto removed = store().Update(InfoOf(d), {"labels.a"});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(store().Info(d)->labels, (Labels{{"b", "20"}, {"c", "3"}}));

  auto replaced = store().Update(InfoOf(d, {{"only", "this"}}), {"labels"});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(store().Info(d)->labels, (Labels{{"only", "this"}}));

  auto all = store().Update(InfoOf(d, {{"x", "y"}}), {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(store().Info(d)->labels, (Labels{{"x", "y"}}));

  auto cleared = store().Update(InfoOf(d), {});
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE(store().Info(d)->labels.empty());

  const BlobInfo after = *store().Info(d);
  EXPECT_EQ(after.created_at, before.created_at);
  EXPECT_GE(after.updated_at, before.updated_at);
  EXPECT_EQ(after.size, before.size);
}

TEST_P(StoreConformanceTest, UpdateOfOtherFieldsIsInvalidArgumentAndChangesNothing) {
  StoreOps ops(store());
  const Digest d = Sha256("fields");
  ASSERT_OK(ops.WriteBlob("f", "fields", CommitOptions{Labels{{"a", "1"}}}));
  for (const char* path : {"size", "digest", "createdat", "labelsx"}) {
    EXPECT_KIND(store().Update(InfoOf(d, {{"a", "2"}}), {"labels.a", path}).status(),
                ErrorKind::kInvalidArgument);
  }
  EXPECT_EQ(store().Info(d)->labels, (Labels{{"a", "1"}}));
}

TEST_P(StoreConformanceTest, UpdateOfMissingContentIsNotFound) {
  EXPECT_TRUE(store().Update(InfoOf(Sha256("nope"), {{"a", "1"}}), {}).status().IsNotFound());
}

TEST_P(StoreConformanceTest, UpdateValidatesLabels) {
  StoreOps ops(store());
  const Digest d = Sha256("validated");
  ASSERT_OK(ops.WriteBlob("v", "validated"));
  EXPECT_KIND(store().Update(InfoOf(d, {{"k", std::string(4096, 'v')}}), {}).status(),
              ErrorKind::kInvalidArgument);
  EXPECT_OK(store().Update(InfoOf(d, {{"k", std::string(4095, 'v')}}), {}).status());
  EXPECT_EQ(store().Info(d)->labels.at("k").size(), 4095u);
}

TEST_P(StoreConformanceTest, ManyGcReferenceLabels) {
  StoreOps ops(store());
  const Digest d = Sha256("an index");
  ASSERT_OK(ops.WriteBlob("i", "an index"));
  Labels labels;
  for (int i = 0; i < 500; ++i) {
    labels["containerd.io/gc.ref.content.l." + std::to_string(i)] = Sha256("layer" + std::to_string(i)).ToString();
  }
  auto updated = store().Update(InfoOf(d, labels), {});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(store().Info(d)->labels, labels);
  EXPECT_EQ(ops.Walk({"labels.\"containerd.io/gc.ref.content.l.499\""}), std::vector<std::string>{d.ToString()});
}

TEST_P(StoreConformanceTest, LongLabelKeys) {
  if (!caps().long_label_keys) GTEST_SKIP() << "label keys are xattr names here";
  StoreOps ops(store());
  const Digest d = Sha256("long keys");
  ASSERT_OK(ops.WriteBlob("k", "long keys"));
  const std::string key(1000, 'k');
  ASSERT_OK(store().Update(InfoOf(d, {{key, "v"}}), {}).status());
  EXPECT_EQ(store().Info(d)->labels.at(key), "v");
}

// ---------------------------------------------------------------------------
// Walk.

TEST_P(StoreConformanceTest, WalkOfAnEmptyStoreCallsNothing) {
  int calls = 0;
  EXPECT_OK(store().Walk([&](const BlobInfo&) {
    ++calls;
    return Status::Ok();
  }));
  EXPECT_EQ(calls, 0);
}

TEST_P(StoreConformanceTest, WalkVisitsEveryBlobInOrderWithInfo) {
  StoreOps ops(store());
  std::vector<std::string> expected;
  for (int i = 0; i < 12; ++i) {
    const std::string content = "blob " + std::to_string(i);
    ASSERT_OK(ops.WriteBlob("w" + std::to_string(i), content, CommitOptions{Labels{{"n", std::to_string(i)}}}));
    expected.push_back(Sha256(content).ToString());
  }
  std::vector<BlobInfo> seen;
  ASSERT_OK(store().Walk([&](const BlobInfo& info) {
    seen.push_back(info);
    return Status::Ok();
  }));
  std::vector<std::string> digests;
  for (const auto& info : seen) {
    digests.push_back(info.digest.ToString());
    auto direct = store().Info(info.digest);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(info.size, direct->size);
    EXPECT_EQ(info.labels, direct->labels);
    EXPECT_EQ(info.created_at, direct->created_at);
  }
  EXPECT_EQ(digests, Sorted(expected));
}

TEST_P(StoreConformanceTest, WalkFilters) {
  StoreOps ops(store());
  ASSERT_OK(ops.WriteBlob("a", "a", CommitOptions{Labels{{"containerd.io/gc.root", "x"}, {"foo", "bar"}}}));
  ASSERT_OK(ops.WriteBlob("b", "b", CommitOptions{Labels{{"foo", "baz"}, {"a.b", "c"}}}));
  ASSERT_OK(ops.WriteBlob("c", "c"));
  const std::string a = Sha256("a").ToString(), b = Sha256("b").ToString(), c = Sha256("c").ToString();
  EXPECT_EQ(ops.Walk({"digest==" + a}), std::vector<std::string>{a});
  EXPECT_EQ(ops.Walk({"digest~=^sha256:"}), Sorted({a, b, c}));
  EXPECT_EQ(ops.Walk({"labels.\"containerd.io/gc.root\""}), std::vector<std::string>{a});
  EXPECT_EQ(ops.Walk({"labels.foo==bar"}), std::vector<std::string>{a});
  EXPECT_EQ(ops.Walk({"labels.a.b==c"}), std::vector<std::string>{b});
  EXPECT_EQ(ops.Walk({"labels.foo!=bar"}), Sorted({b, c}));
  EXPECT_EQ(ops.Walk({"labels.foo~=/^ba[rz]$/"}), Sorted({a, b}));
  EXPECT_EQ(ops.Walk({"labels.foo==bar", "labels.foo==baz"}), Sorted({a, b}));
  EXPECT_EQ(ops.Walk({"labels.foo~=^ba,digest==" + b}), std::vector<std::string>{b});
  EXPECT_TRUE(ops.Walk({"size==1"}).empty());
  EXPECT_EQ(ops.Walk({""}), Sorted({a, b, c}));
}

TEST_P(StoreConformanceTest, WalkFilterSyntaxErrorIsInvalidArgument) {
  for (const char* filter : {"labels.k-1==v", "digest==", "digest=x", "a==b ", ",x"}) {
    EXPECT_KIND(store().Walk([](const BlobInfo&) { return Status::Ok(); }, {filter}), ErrorKind::kInvalidArgument);
  }
}

TEST_P(StoreConformanceTest, WalkStopsWithTheCallbacksError) {
  StoreOps ops(store());
  ASSERT_OK(ops.WriteBlob("1", "1"));
  ASSERT_OK(ops.WriteBlob("2", "2"));
  int calls = 0;
  Status status = store().Walk([&](const BlobInfo&) {
    ++calls;
    return Status::NotImplemented("stop");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(status.Is(ErrorKind::kNotImplemented));
}

// ---------------------------------------------------------------------------
// ListStatuses, Abort, Delete.

TEST_P(StoreConformanceTest, ListStatusesWithFilters) {
  StoreOps ops(store());
  std::vector<std::unique_ptr<Writer>> writers;
  for (const char* ref : {"default/1/a", "default/2/b", "other/3/c"}) {
    writers.push_back(ops.Open(ref));
    ASSERT_TRUE(writers.back());
  }
  EXPECT_EQ(ops.Refs(), (std::vector<std::string>{"default/1/a", "default/2/b", "other/3/c"}));
  EXPECT_EQ(ops.Refs({"ref~=^default/"}), (std::vector<std::string>{"default/1/a", "default/2/b"}));
  EXPECT_EQ(ops.Refs({"ref==other/3/c"}), std::vector<std::string>{"other/3/c"});
  EXPECT_EQ(ops.Refs({"ref==other/3/c", "ref==default/1/a"}), (std::vector<std::string>{"default/1/a", "other/3/c"}));
  EXPECT_TRUE(ops.Refs({"ref==none"}).empty());
  EXPECT_KIND(store().ListStatuses({"ref=="}).status(), ErrorKind::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ListStatusesReportsProgress) {
  StoreOps ops(store());
  auto writer = ops.Open("progress", 100);
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write(std::string(40, 'p').data(), 40));
  auto statuses = store().ListStatuses();
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_EQ((*statuses)[0].ref, "progress");
  EXPECT_EQ((*statuses)[0].offset, 40);
  EXPECT_EQ((*statuses)[0].total, 100);
  EXPECT_LE((*statuses)[0].started_at, (*statuses)[0].updated_at);
}

TEST_P(StoreConformanceTest, AbortRemovesTheIngest) {
  StoreOps ops(store());
  auto writer = ops.Open("abort");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  ASSERT_OK(writer->Close());
  ASSERT_OK(store().Abort("abort"));
  EXPECT_TRUE(store().GetStatus("abort").status().IsNotFound());
  EXPECT_TRUE(ops.Refs().empty());
  // A new writer starts from nothing.
  auto fresh = ops.Open("abort");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->GetStatus().offset, 0);
}

TEST_P(StoreConformanceTest, AbortOfAMissingIngestIsSuccess) {
  EXPECT_OK(store().Abort("never"));
}

TEST_P(StoreConformanceTest, AbortWhileAWriterIsOpenIsUnavailable) {
  StoreOps ops(store());
  auto writer = ops.Open("open");
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Write("x", 1));
  EXPECT_KIND(store().Abort("open"), ErrorKind::kUnavailable);
  ASSERT_OK(writer->Commit(1, Sha256("x")));
}

TEST_P(StoreConformanceTest, DeleteRemovesContentAndMissingIsSuccess) {
  StoreOps ops(store());
  EXPECT_OK(store().Delete(Sha256("never")));
  ASSERT_OK(ops.WriteBlob("d", "delete me", CommitOptions{Labels{{"k", "v"}}}));
  auto reader = store().ReaderAt(Sha256("delete me"));
  ASSERT_TRUE(reader.ok());
  ASSERT_OK(store().Delete(Sha256("delete me")));
  EXPECT_TRUE(store().Info(Sha256("delete me")).status().IsNotFound());
  EXPECT_TRUE(ops.Walk().empty());
  // An open reader keeps working.
  std::string buf(9, '\0');
  auto n = (*reader)->ReadAt(buf.data(), buf.size(), 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), "delete me");
  // Committing it again gives fresh content without the old labels.
  ASSERT_OK(ops.WriteBlob("d", "delete me"));
  EXPECT_TRUE(store().Info(Sha256("delete me"))->labels.empty());
}

// ---------------------------------------------------------------------------
// Reading back.

TEST_P(StoreConformanceTest, ReaderAtReadsPositionally) {
  StoreOps ops(store());
  const std::string content = Bytes(100000, 6);
  ASSERT_OK(ops.WriteBlob("r", content));
  auto reader = store().ReaderAt(Sha256(content));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Size(), static_cast<int64_t>(content.size()));
  std::string buf(4096, '\0');
  for (int64_t at : {0L, 1L, 4095L, 50000L, 95000L}) {
    auto n = (*reader)->ReadAt(buf.data(), buf.size(), at);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(*n, 4096u);
    EXPECT_TRUE(buf == content.substr(at, 4096)) << at;
  }
  auto tail = (*reader)->ReadAt(buf.data(), buf.size(), 99000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 1000u);
  EXPECT_TRUE(buf.substr(0, 1000) == content.substr(99000));
  EXPECT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 100000), 0u);
  EXPECT_EQ(*(*reader)->ReadAt(buf.data(), buf.size(), 200000), 0u);
}

TEST_P(StoreConformanceTest, ConcurrentReadersAgree) {
  StoreOps ops(store());
  const std::string content = Bytes(1 << 20, 7);
  ASSERT_OK(ops.WriteBlob("c", content));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { EXPECT_TRUE(ops.Read(Sha256(content)) == content); });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace casfs::conformance
