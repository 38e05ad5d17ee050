// Interoperability with the real thing: containerd's own local content store
// (Go, containerd 1.6, driven through tests/interop/ctrstore) and casfs'
// LocalStore share one root. Each side writes, the other reads, lists,
// resumes, deletes; the ingest files both write are compared byte for byte.
//
// The Go program is built once per test process (gtest_discover_tests runs
// each test in its own process, so a build cache in the build tree keeps
// that to a link). Without `go` or containerd's sources the tests skip,
// except under CI (CI set), where they must run.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/digester.h"
#include "core/layout.h"
#include "core/local_store.h"
#include "core/timestamp.h"
#include "tests/interop/ctrstore.h"

namespace casfs {
namespace {

namespace fs = std::filesystem;
using interop::RunResult;
using nlohmann::json;

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    ::casfs::Status assert_ok_status_ = (expr);          \
    ASSERT_TRUE(assert_ok_status_.ok()) << #expr << ": " \
                                        << assert_ok_status_.ToString(); \
  } while (0)

int64_t Nanos(Timestamp t) { return t.seconds * 1'000'000'000 + t.nanoseconds; }

std::string Bytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t word = rng();
    for (size_t j = 0; j < 8 && i + j < size; ++j) data[i + j] = static_cast<char>(word >> (8 * j));
  }
  return data;
}

Digest Sha256(std::string_view data) { return DigestOf(Algorithm::kSha256, data.data(), data.size()); }

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t Permissions(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

class InteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // containerd derives modes from the umask; pin it so both sides are
    // compared under the same one.
    umask(022);
    std::optional<interop::GoToolchain> go = interop::FindGoToolchain(&unavailable_);
    if (!go) return;
    char tmpl[] = "/tmp/casfs-interop-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      build_failure_ = "mkdtemp failed";
      return;
    }
    suite_dir_ = tmpl;
    ctrstore_ = suite_dir_ / "ctrstore";
    RunResult build = interop::BuildGoProgram(*go, CASFS_CTRSTORE_SOURCE, ctrstore_,
                                              CASFS_INTEROP_GOCACHE, suite_dir_);
    if (!build.ok()) build_failure_ = "go build of ctrstore failed:\n" + build.out + build.err;
  }

  static void TearDownTestSuite() {
    if (!suite_dir_.empty()) fs::remove_all(suite_dir_);
  }

  void SetUp() override {
    if (!unavailable_.empty()) {
      if (std::getenv("CI") != nullptr) FAIL() << "CI must run the interop test: " << unavailable_;
      GTEST_SKIP() << "containerd interop test skipped: " << unavailable_;
    }
    ASSERT_TRUE(build_failure_.empty()) << build_failure_;
    char tmpl[] = "/tmp/casfs-interop-case-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ / "root";
    fs::create_directories(dir_ / "inputs");
  }

  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs ctrstore with `args`.
  RunResult Ctr(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const {
    std::vector<std::string> argv = {ctrstore_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return interop::Run(argv, dir_, env);
  }

  // Runs ctrstore, which must succeed and print JSON lines.
  std::vector<json> CtrJson(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {}) const {
    RunResult r = Ctr(args, env);
    EXPECT_TRUE(r.ok()) << "ctrstore " << ::testing::PrintToString(args) << " exit "
                        << r.exit_code << ": " << r.err;
    return interop::ParseJsonLines(r.out);
  }

  // Like CtrJson, for commands that print exactly one object.
  json CtrOne(const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env = {}) const {
    std::vector<json> lines = CtrJson(args, env);
    EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(args);
    return lines.empty() ? json::object() : lines.front();
  }

  // A file of `data` for ctrstore to ingest.
  std::string Input(const std::string& data) {
    fs::path path = dir_ / "inputs" / ("in" + std::to_string(inputs_++));
    std::ofstream(path, std::ios::binary) << data;
    return path.string();
  }

  static std::unique_ptr<LocalStore> OpenCasfs(const fs::path& root) {
    Result<std::unique_ptr<LocalStore>> store = LocalStore::Open(root);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // casfs ingests `data` under `ref` and commits it.
  static void CasfsWrite(LocalStore& store, const std::string& ref, const std::string& data,
                         const CommitOptions& commit = {}) {
    WriterOptions options;
    options.ref = ref;
    options.total = static_cast<int64_t>(data.size());
    Result<std::unique_ptr<Writer>> w = store.OpenWriter(options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_OK((*w)->Write(data.data(), data.size()));
    ASSERT_OK((*w)->Commit(static_cast<int64_t>(data.size()), Sha256(data), commit));
  }

  // casfs starts an ingest of `total` bytes under `ref`, writes `prefix` and
  // closes without committing.
  static void CasfsPartial(LocalStore& store, const std::string& ref, std::string_view prefix,
                           int64_t total) {
    WriterOptions options;
    options.ref = ref;
    options.total = total;
    Result<std::unique_ptr<Writer>> w = store.OpenWriter(options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    // Two writes, so the ingest is not one lucky syscall.
    size_t half = prefix.size() / 2;
    ASSERT_OK((*w)->Write(prefix.data(), half));
    ASSERT_OK((*w)->Write(prefix.data() + half, prefix.size() - half));
    ASSERT_OK((*w)->Close());
  }

  static std::string ReadCasfs(LocalStore& store, const Digest& digest) {
    Result<std::unique_ptr<BlobReader>> reader = store.ReaderAt(digest);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    std::string data(static_cast<size_t>((*reader)->Size()), '\0');
    Result<size_t> n = (*reader)->ReadAt(data.data(), data.size(), 0);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (n.ok()) data.resize(*n);
    return data;
  }

  static std::vector<std::string> WalkCasfs(LocalStore& store) {
    std::vector<std::string> digests;
    Status s = store.Walk([&](const BlobInfo& info) {
      digests.push_back(info.digest.ToString());
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return digests;
  }

  std::vector<std::string> WalkContainerd(const fs::path& root) const {
    std::vector<std::string> digests;
    for (const json& info : CtrJson({"list", root.string()})) digests.push_back(info["digest"]);
    return digests;
  }

  static inline std::string unavailable_;
  static inline std::string build_failure_;
  static inline fs::path suite_dir_;
  static inline fs::path ctrstore_;

  fs::path dir_;
  fs::path root_;
  int inputs_ = 0;
};

// Exit codes of ctrstore (see its main.go).
constexpr int kCtrNotFound = 2;

// --- containerd writes, casfs reads -------------------------------------

TEST_F(InteropTest, CasfsReadsBlobsContainerdWrote) {
  std::vector<std::string> blobs = {"", Bytes(1, 1), Bytes(4096, 2), Bytes((1 << 20) + 3, 3)};
  std::vector<std::string> digests;
  for (size_t i = 0; i < blobs.size(); ++i) {
    json out = CtrOne({"write", root_, "ref-" + std::to_string(i), Input(blobs[i]), "--total",
                       std::to_string(blobs[i].size())});
    EXPECT_EQ(out["digest"], Sha256(blobs[i]).ToString());
    digests.push_back(Sha256(blobs[i]).ToString());
  }
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  for (size_t i = 0; i < blobs.size(); ++i) {
    SCOPED_TRACE(digests[i]);
    // Times first: containerd's read may move atime (relatime).
    json ctr = CtrOne({"info", root_, digests[i]});
    Result<BlobInfo> info = store->Info(Sha256(blobs[i]));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size, static_cast<int64_t>(blobs[i].size()));
    EXPECT_EQ(info->size, ctr["size"].get<int64_t>());
    EXPECT_EQ(Nanos(info->created_at), ctr["createdat_ns"].get<int64_t>());
    EXPECT_EQ(Nanos(info->updated_at), ctr["updatedat_ns"].get<int64_t>());
    EXPECT_EQ(ReadCasfs(*store, Sha256(blobs[i])), blobs[i]);
  }
  std::sort(digests.begin(), digests.end());
  EXPECT_EQ(WalkCasfs(*store), digests);
  EXPECT_EQ(WalkContainerd(root_), digests);
}

TEST_F(InteropTest, CasfsResumesAndCommitsContainerdIngest) {
  const std::string data = Bytes((3 << 20) + 5, 10);
  const size_t prefix = (1 << 20) + 17;
  // A ref the way the daemon makes them: namespace/sequence/client ref.
  const std::string ref = "default/17/layer-" + Sha256(data).ToString();
  const std::string input = Input(data);
  json partial = CtrOne({"partial", root_, ref, input, std::to_string(prefix), "--total",
                         std::to_string(data.size())});
  EXPECT_EQ(partial["digest"], Sha256(std::string_view(data).substr(0, prefix)).ToString());
  json ctr = CtrOne({"status", root_, ref});

  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  Result<IngestStatus> st = store->GetStatus(ref);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->ref, ref);
  EXPECT_EQ(st->offset, static_cast<int64_t>(prefix));
  EXPECT_EQ(st->total, static_cast<int64_t>(data.size()));
  EXPECT_EQ(Nanos(st->started_at), ctr["startedat_ns"].get<int64_t>());
  EXPECT_EQ(Nanos(st->updated_at), ctr["updatedat_ns"].get<int64_t>());
  Result<Timestamp> started_text =
      ParseRfc3339(ReadAll(store->layout().IngestDir(ref) / Layout::kStartedAtFile));
  ASSERT_TRUE(started_text.ok()) << started_text.status().ToString();
  EXPECT_EQ(*started_text, st->started_at);

  Result<std::vector<IngestStatus>> all = store->ListStatuses();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().ref, ref);
  EXPECT_EQ(all->front().offset, static_cast<int64_t>(prefix));
  EXPECT_EQ(all->front().total, static_cast<int64_t>(data.size()));
  EXPECT_EQ(all->front().started_at, st->started_at);
  Result<std::vector<IngestStatus>> filtered = store->ListStatuses({"ref~=^default/"});
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  EXPECT_EQ(filtered->size(), 1u);
  filtered = store->ListStatuses({"ref==other"});
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  EXPECT_TRUE(filtered->empty());

  WriterOptions options;
  options.ref = ref;
  options.total = static_cast<int64_t>(data.size());
  Result<std::unique_ptr<Writer>> w = store->OpenWriter(options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->GetStatus().offset, static_cast<int64_t>(prefix));
  EXPECT_EQ((*w)->GetStatus().started_at, st->started_at);
  ASSERT_OK((*w)->Write(data.data() + prefix, data.size() - prefix));
  ASSERT_OK((*w)->Commit(static_cast<int64_t>(data.size()), Sha256(data)));

  EXPECT_FALSE(fs::exists(store->layout().IngestDir(ref)));
  EXPECT_EQ(ReadCasfs(*store, Sha256(data)), data);
  EXPECT_EQ(CtrOne({"info", root_, Sha256(data).ToString()})["size"].get<int64_t>(),
            static_cast<int64_t>(data.size()));
  EXPECT_TRUE(Ctr({"read", root_, Sha256(data).ToString()}).out == data);
  EXPECT_TRUE(CtrJson({"statuses", root_}).empty());
}

TEST_F(InteropTest, CasfsResumesContainerdIngestWithoutTotal) {
  const std::string data = Bytes(200'000, 11);
  const std::string ref = "no-total";
  CtrOne({"partial", root_, ref, Input(data), "70000"});
  EXPECT_FALSE(fs::exists(Layout(root_).IngestDir(ref) / Layout::kTotalFile));

  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  Result<IngestStatus> st = store->GetStatus(ref);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->offset, 70000);
  EXPECT_EQ(st->total, 0);

  WriterOptions options;
  options.ref = ref;
  Result<std::unique_ptr<Writer>> w = store->OpenWriter(options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->Size(), 70000);
  ASSERT_OK((*w)->Write(data.data() + 70000, data.size() - 70000));
  ASSERT_OK((*w)->Commit(0, Sha256(data)));
  EXPECT_TRUE(Ctr({"read", root_, Sha256(data).ToString()}).out == data);
}

// containerd leaves `<file>.tmp` behind when an atomic timestamp write
// fails (section 1.6 of the semantics); it ignores them, and so must casfs.
TEST_F(InteropTest, CasfsIgnoresContainerdsLeftoverTmpFiles) {
  const std::string data = Bytes(30'000, 13);
  const std::string ref = "leftovers";
  CtrOne({"partial", root_, ref, Input(data), "10000", "--total", "30000"});
  fs::path dir = Layout(root_).IngestDir(ref);
  std::ofstream(dir / "startedat.tmp") << "2001-02-03T04:05:0";
  std::ofstream(dir / "updatedat.tmp") << "";

  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  Result<std::vector<IngestStatus>> all = store->ListStatuses();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().offset, 10000);
  WriterOptions options;
  options.ref = ref;
  options.total = 30000;
  Result<std::unique_ptr<Writer>> w = store->OpenWriter(options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->Size(), 10000);
  ASSERT_OK((*w)->Write(data.data() + 10000, data.size() - 10000));
  ASSERT_OK((*w)->Commit(30000, Sha256(data)));
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(Ctr({"read", root_, Sha256(data).ToString()}).out == data);
}

// containerd writes local time with the zone's offset; casfs must read it.
TEST_F(InteropTest, CasfsReadsContainerdTimestampsWithAnOffset) {
  const std::string data = Bytes(50'000, 12);
  const std::string ref = "kolkata";
  std::map<std::string, std::string> tz = {{"TZ", "Asia/Kolkata"}};
  CtrOne({"partial", root_, ref, Input(data), "1000", "--total", "50000"}, tz);
  std::string text = ReadAll(Layout(root_).IngestDir(ref) / Layout::kStartedAtFile);
  ASSERT_TRUE(text.ends_with("+05:30")) << text;
  json ctr = CtrOne({"status", root_, ref});

  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  Result<IngestStatus> st = store->GetStatus(ref);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(Nanos(st->started_at), ctr["startedat_ns"].get<int64_t>());
  EXPECT_EQ(Nanos(st->updated_at), ctr["updatedat_ns"].get<int64_t>());
  EXPECT_EQ(st->offset, 1000);
}

// --- casfs writes, containerd reads ---------------------------------------

TEST_F(InteropTest, ContainerdReadsBlobsCasfsWrote) {
  std::vector<std::string> blobs = {"", Bytes(7, 20), Bytes(65536, 21), Bytes((2 << 20) + 1, 22)};
  std::vector<std::string> digests;
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  for (size_t i = 0; i < blobs.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "casfs-" + std::to_string(i), blobs[i]));
    digests.push_back(Sha256(blobs[i]).ToString());
  }
  for (size_t i = 0; i < blobs.size(); ++i) {
    SCOPED_TRACE(digests[i]);
    Result<BlobInfo> info = store->Info(Sha256(blobs[i]));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    json ctr = CtrOne({"info", root_, digests[i]});
    EXPECT_EQ(ctr["digest"], digests[i]);
    EXPECT_EQ(ctr["size"].get<int64_t>(), static_cast<int64_t>(blobs[i].size()));
    EXPECT_EQ(ctr["createdat_ns"].get<int64_t>(), Nanos(info->created_at));
    EXPECT_EQ(ctr["updatedat_ns"].get<int64_t>(), Nanos(info->updated_at));
    // Commit sets atime = mtime, as containerd's does.
    EXPECT_EQ(ctr["createdat_ns"], ctr["updatedat_ns"]);
    RunResult read = Ctr({"read", root_, digests[i]});
    EXPECT_TRUE(read.ok()) << read.err;
    EXPECT_TRUE(read.out == blobs[i]) << "containerd read " << read.out.size() << " bytes";
  }
  std::sort(digests.begin(), digests.end());
  EXPECT_EQ(WalkContainerd(root_), digests);
}

TEST_F(InteropTest, ContainerdResumesAndCommitsCasfsIngest) {
  const std::string data = Bytes((2 << 20) + 99, 30);
  const size_t prefix = (1 << 20) + 1;
  const std::string ref = "default/3/casfs-started";
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(
      CasfsPartial(*store, ref, std::string_view(data).substr(0, prefix), data.size()));
  Result<IngestStatus> st = store->GetStatus(ref);
  ASSERT_TRUE(st.ok()) << st.status().ToString();

  std::vector<json> statuses = CtrJson({"statuses", root_});
  ASSERT_EQ(statuses.size(), 1u);
  const json& ctr = statuses.front();
  EXPECT_EQ(ctr["ref"], ref);
  EXPECT_EQ(ctr["offset"].get<int64_t>(), static_cast<int64_t>(prefix));
  EXPECT_EQ(ctr["total"].get<int64_t>(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(ctr["startedat_ns"].get<int64_t>(), Nanos(st->started_at));
  EXPECT_EQ(ctr["updatedat_ns"].get<int64_t>(), Nanos(st->updated_at));
  EXPECT_EQ(CtrOne({"status", root_, ref}), ctr);

  json resumed = CtrOne({"resume", root_, ref, Input(data), "--total", std::to_string(data.size())});
  EXPECT_EQ(resumed["opened_offset"].get<int64_t>(), static_cast<int64_t>(prefix));
  EXPECT_EQ(resumed["digest"], Sha256(data).ToString());

  // containerd removes the folder whole, casfs' own files included.
  EXPECT_FALSE(fs::exists(store->layout().IngestDir(ref)));
  Result<BlobInfo> info = store->Info(Sha256(data));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(ReadCasfs(*store, Sha256(data)), data);
  Result<std::vector<IngestStatus>> left = store->ListStatuses();
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->empty());
}

TEST_F(InteropTest, BlobFilesAreReadOnlyLikeContainerds) {
  fs::path ctr_root = dir_ / "ctr";
  CtrOne({"write", ctr_root, "a", Input("containerd's"), "--total", "12"});
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "b", "casfs'"));

  Layout ctr_layout(ctr_root);
  fs::path ctr_blob = ctr_layout.BlobPath(Sha256("containerd's"));
  fs::path casfs_blob = store->layout().BlobPath(Sha256("casfs'"));
  EXPECT_EQ(Permissions(ctr_blob), 0444u);
  EXPECT_EQ(Permissions(casfs_blob), 0444u);
  EXPECT_EQ(Permissions(ctr_layout.BlobsDir()), Permissions(store->layout().BlobsDir()));
  EXPECT_EQ(Permissions(ctr_layout.AlgorithmDir(Algorithm::kSha256)),
            Permissions(store->layout().AlgorithmDir(Algorithm::kSha256)));
  EXPECT_EQ(Permissions(ctr_layout.IngestRoot()), Permissions(store->layout().IngestRoot()));
}

// --- shared roots with casfs' extras ---------------------------------------

TEST_F(InteropTest, ContainerdWalksRootWithCasfsLabelsAndIngests) {
  const std::string a = Bytes(1000, 40), b = Bytes(2000, 41), c = Bytes(3000, 42);
  CtrOne({"write", root_, "a", Input(a)});
  CtrOne({"write", root_, "b", Input(b)});
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  CommitOptions with_labels;
  with_labels.labels = Labels{{"containerd.io/gc.root", "2024"}, {"k", "v"}};
  ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "c", c, with_labels));
  ASSERT_OK(store->SetLabel(Sha256(a), "org.example/small", "fits in an xattr"));
  // Three labels of ~3 KiB each cannot fit in ext4's inode xattr space:
  // they overflow into <root>/labels/, beside blobs/.
  for (char k : std::string("xyz")) {
    ASSERT_OK(store->SetLabel(Sha256(b), std::string("big.") + k, std::string(3000, k)));
  }
  ASSERT_NO_FATAL_FAILURE(CasfsPartial(*store, "partial", "half", 8));

  std::vector<std::string> expected = {Sha256(a).ToString(), Sha256(b).ToString(),
                                       Sha256(c).ToString()};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(WalkContainerd(root_), expected);
  EXPECT_EQ(CtrOne({"info", root_, Sha256(b).ToString()})["size"].get<int64_t>(), 2000);
  EXPECT_TRUE(Ctr({"read", root_, Sha256(a).ToString()}).out == a);
  EXPECT_TRUE(Ctr({"read", root_, Sha256(c).ToString()}).out == c);
  // Filters work on containerd's side too (it has no labels: digest only).
  std::vector<json> one = CtrJson({"list", root_, "digest==" + Sha256(c).ToString()});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.front()["digest"], Sha256(c).ToString());

  // And casfs still sees its labels on all three.
  int labelled = 0;
  ASSERT_OK(store->Walk([&](const BlobInfo& info) {
    labelled += info.labels.empty() ? 0 : 1;
    return Status::Ok();
  }));
  EXPECT_EQ(labelled, 3);
  Result<BlobInfo> big = store->Info(Sha256(b));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->labels.size(), 3u);
}

TEST_F(InteropTest, ContainerdListsIngestsHoldingCasfsFiles) {
  const std::string data = Bytes(10'000, 50);
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(CasfsPartial(*store, "with-extras", std::string_view(data).substr(0, 4000),
                                       static_cast<int64_t>(data.size())));
  ASSERT_OK(store->SetIngestExpected("with-extras", Sha256(data)));
  ASSERT_OK(store->StageLabel("with-extras", "staged", "yes"));
  ASSERT_NO_FATAL_FAILURE(CasfsPartial(*store, "empty", "", 0));

  fs::path extras = store->layout().IngestDir("with-extras");
  for (std::string_view name :
       {Layout::kExpectedFile, Layout::kStagedLabelsFile, Layout::kHashStateFile}) {
    EXPECT_TRUE(fs::exists(extras / name)) << name;
  }

  std::vector<json> statuses = CtrJson({"statuses", root_});
  ASSERT_EQ(statuses.size(), 2u);
  std::map<std::string, json> by_ref;
  for (const json& s : statuses) by_ref[s["ref"].get<std::string>()] = s;
  ASSERT_EQ(by_ref.count("with-extras"), 1u);
  ASSERT_EQ(by_ref.count("empty"), 1u);
  EXPECT_EQ(by_ref["with-extras"]["offset"].get<int64_t>(), 4000);
  EXPECT_EQ(by_ref["with-extras"]["total"].get<int64_t>(), 10'000);
  // containerd never stores an expected digest; casfs' file is invisible to it.
  EXPECT_EQ(by_ref["with-extras"]["expected"], "");
  EXPECT_EQ(by_ref["empty"]["offset"].get<int64_t>(), 0);
  EXPECT_EQ(by_ref["empty"]["total"].get<int64_t>(), 0);
  EXPECT_EQ(CtrJson({"statuses", root_, "ref==empty"}).size(), 1u);

  // containerd's Abort removes the folder whole, casfs' files included.
  EXPECT_TRUE(Ctr({"abort", root_, "with-extras"}).ok());
  EXPECT_FALSE(fs::exists(extras));
  Result<std::vector<IngestStatus>> left = store->ListStatuses();
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().ref, "empty");
  EXPECT_TRUE(store->GetStatus("with-extras").status().IsNotFound());
}

// The same ingest (ref, total, bytes) started by each side: containerd's
// files must come out identical, so either side reads the other's.
TEST_F(InteropTest, IngestFilesAreByteForByteContainerds) {
  const std::string data = Bytes(12345, 60);
  const std::string ref = "default/7/layer-sha256:0123abc";
  fs::path ctr_root = dir_ / "ctr";
  CtrOne({"partial", ctr_root, ref, Input(data), "5000", "--total", "12345"});
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(CasfsPartial(*store, ref, std::string_view(data).substr(0, 5000), 12345));

  fs::path ctr_dir = Layout(ctr_root).IngestDir(ref);
  fs::path casfs_dir = store->layout().IngestDir(ref);
  EXPECT_EQ(ctr_dir.filename(), casfs_dir.filename());
  ASSERT_TRUE(fs::is_directory(ctr_dir));
  ASSERT_TRUE(fs::is_directory(casfs_dir));

  std::set<std::string> ctr_files = FileNames(ctr_dir), casfs_files = FileNames(casfs_dir);
  EXPECT_EQ(ctr_files, (std::set<std::string>{"data", "ref", "startedat", "total", "updatedat"}));
  for (const std::string& name : casfs_files) {
    EXPECT_TRUE(ctr_files.count(name) == 1 || name.starts_with("casfs.")) << name;
  }
  for (const std::string& name : ctr_files) {
    SCOPED_TRACE(name);
    EXPECT_EQ(casfs_files.count(name), 1u);
    EXPECT_EQ(Permissions(casfs_dir / name), Permissions(ctr_dir / name));
  }
  EXPECT_EQ(Permissions(casfs_dir), Permissions(ctr_dir));
  EXPECT_EQ(ReadAll(casfs_dir / "ref"), ReadAll(ctr_dir / "ref"));
  EXPECT_EQ(ReadAll(casfs_dir / "ref"), ref);
  EXPECT_EQ(ReadAll(casfs_dir / "total"), ReadAll(ctr_dir / "total"));
  EXPECT_EQ(ReadAll(casfs_dir / "total"), "12345");
  EXPECT_TRUE(ReadAll(casfs_dir / "data") == ReadAll(ctr_dir / "data"));

  // Go's RFC 3339 with nanoseconds: no trailing zeros in the fraction, no
  // dot without one, no newline. casfs writes UTC.
  const std::regex go_time(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?(Z|[+-]\d\d:\d\d)$)");
  for (const char* name : {"startedat", "updatedat"}) {
    SCOPED_TRACE(name);
    std::string ctr_text = ReadAll(ctr_dir / name), casfs_text = ReadAll(casfs_dir / name);
    EXPECT_TRUE(std::regex_match(ctr_text, go_time)) << ctr_text;
    EXPECT_TRUE(std::regex_match(casfs_text, go_time)) << casfs_text;
    EXPECT_TRUE(casfs_text.ends_with("Z")) << casfs_text;
    // Each side parses the other's text to the same instant.
    Result<Timestamp> mine = ParseRfc3339(casfs_text);
    ASSERT_TRUE(mine.ok()) << mine.status().ToString();
    json go = CtrOne({"time-parse", casfs_text});
    EXPECT_EQ(go["sec"].get<int64_t>(), mine->seconds);
    EXPECT_EQ(go["nsec"].get<int64_t>(), mine->nanoseconds);
    Result<Timestamp> theirs = ParseRfc3339(ctr_text);
    ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
    go = CtrOne({"time-parse", ctr_text});
    EXPECT_EQ(go["sec"].get<int64_t>(), theirs->seconds);
    EXPECT_EQ(go["nsec"].get<int64_t>(), theirs->nanoseconds);
  }
}

TEST_F(InteropTest, TimestampTextMatchesGosBothWays) {
  std::vector<Timestamp> instants = {
      Timestamp::Zero(),         {0, 0},          {0, 1},
      {1700000000, 123000000},   {1700000000, 1}, {1700000000, 999999999},
      {-1, 500},                 {951782400, 0},  {253402300799, 999999999},  // 9999-12-31
  };
  std::mt19937_64 rng(70);
  for (int i = 0; i < 12; ++i) {
    instants.push_back({static_cast<int64_t>(rng() % 253402300800) - 62135596800,
                        static_cast<int32_t>(rng() % 1'000'000'000)});
  }
  for (const Timestamp& t : instants) {
    std::string sec = std::to_string(t.seconds), nsec = std::to_string(t.nanoseconds);
    SCOPED_TRACE(sec + "." + nsec);
    // casfs writes exactly what Go (containerd) writes for UTC...
    std::string casfs_text = FormatRfc3339Nano(t);
    EXPECT_EQ(CtrOne({"time-format", sec, nsec})["text"], casfs_text);
    // ...Go reads it back to the same instant...
    json parsed = CtrOne({"time-parse", casfs_text});
    EXPECT_EQ(parsed["sec"].get<int64_t>(), t.seconds);
    EXPECT_EQ(parsed["nsec"].get<int64_t>(), t.nanoseconds);
    // ...and casfs reads what Go writes in other zones.
    for (const char* zone : {"Asia/Kolkata", "America/St_Johns", "America/Los_Angeles"}) {
      RunResult r = Ctr({"time-format", sec, nsec, zone});
      if (!r.ok()) continue;  // a year that leaves 0..9999 after the offset
      std::string text = interop::ParseJsonLines(r.out).at(0)["text"];
      Result<Timestamp> back = ParseRfc3339(text);
      ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
      // Go's own reading is the oracle: before 1900 or so a zone's offset
      // has seconds, which the text drops, so it need not give back t.
      json go = CtrOne({"time-parse", text});
      EXPECT_EQ(back->seconds, go["sec"].get<int64_t>()) << text;
      EXPECT_EQ(back->nanoseconds, go["nsec"].get<int64_t>()) << text;
    }
  }
}

TEST_F(InteropTest, ContainerdDeletesCasfsBlob) {
  const std::string data = Bytes(5000, 80);
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);
  CommitOptions with_labels;
  with_labels.labels = Labels{{"k", "v"}};
  ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "d", data, with_labels));

  RunResult del = Ctr({"delete", root_, Sha256(data).ToString()});
  EXPECT_TRUE(del.ok()) << del.err;
  EXPECT_FALSE(fs::exists(store->layout().BlobPath(Sha256(data))));
  EXPECT_TRUE(store->Info(Sha256(data)).status().IsNotFound());
  EXPECT_TRUE(WalkCasfs(*store).empty());
  EXPECT_EQ(Ctr({"info", root_, Sha256(data).ToString()}).exit_code, kCtrNotFound);
  // containerd: deleting a missing blob is success.
  EXPECT_TRUE(Ctr({"delete", root_, Sha256(data).ToString()}).ok());
  // The content can come back.
  ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "d-again", data));
  EXPECT_TRUE(Ctr({"read", root_, Sha256(data).ToString()}).out == data);
}

TEST_F(InteropTest, ExistingBlobsAreAlreadyExistsAcrossStores) {
  const std::string x = Bytes(3000, 90), y = Bytes(4000, 91);
  CtrOne({"write", root_, "x", Input(x)});
  std::unique_ptr<LocalStore> store = OpenCasfs(root_);
  ASSERT_NE(store, nullptr);

  // casfs sees containerd's blob: a writer expecting it is kAlreadyExists...
  WriterOptions expecting_x;
  expecting_x.ref = "x-again";
  expecting_x.expected = Sha256(x);
  Result<std::unique_ptr<Writer>> w = store->OpenWriter(expecting_x);
  EXPECT_TRUE(w.status().IsAlreadyExists()) << w.status().ToString();
  // ...and so is a commit of the same bytes, which removes the ingest.
  WriterOptions plain;
  plain.ref = "x-blind";
  w = store->OpenWriter(plain);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_OK((*w)->Write(x.data(), x.size()));
  EXPECT_TRUE((*w)->Commit(static_cast<int64_t>(x.size()), Sha256(x)).IsAlreadyExists());
  EXPECT_FALSE(fs::exists(store->layout().IngestDir("x-blind")));

  // containerd sees casfs' blob: WriteBlob with its digest is a no-op success.
  ASSERT_NO_FATAL_FAILURE(CasfsWrite(*store, "y", y));
  Result<BlobInfo> before = store->Info(Sha256(y));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  CtrOne({"write", root_, "y-ctr", Input(y), "--expected", Sha256(y).ToString()});
  Result<BlobInfo> after = store->Info(Sha256(y));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->created_at, before->created_at);
  EXPECT_TRUE(CtrJson({"statuses", root_}).empty());
}

}  // namespace
}  // namespace casfs
