// Full disk: the store lives on a small ext4 filesystem (a loop-mounted
// image the test makes) that fills up during an ingest, during a commit and
// during a label write. Every time: the writer gets ENOSPC, the store stays
// consistent (blobs verify, ingests are prefixes, verify and active work
// while the disk is still full), and once space is freed the ingest
// resumes and commits. Needs root; skipped otherwise.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/reliability/support/casfs.h"
#include "tests/reliability/support/files.h"
#include "tests/reliability/support/process.h"

namespace casfs::reltest {
namespace {

using std::chrono::seconds;

constexpr int kFsMiB = 32;

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    CASFS_REQUIRE_FUSE();
    CASFS_REQUIRE_ROOT();
    std::string error;
    fs_ = LoopFs::Create(dir_ / "image", dir_ / "fs", kFsMiB, &error);
    if (!fs_) GTEST_SKIP() << "cannot make a loop-mounted ext4 here: " << error;
    root_ = fs_->mountpoint() / "root";
    filler_ = fs_->mountpoint() / "filler";
  }

  void TearDown() override {
    mount_.reset();
    fs_.reset();
  }

  void StartMount() {
    std::string error;
    mount_ = Mount::Start(root_, dir_ / ("mnt" + std::to_string(mounts_++)), &error);
    ASSERT_TRUE(mount_) << error;
  }

  // Fills the filesystem, then frees `leave` bytes again.
  void FillLeaving(int64_t leave) {
    int64_t filled = fs_->Fill(filler_);
    ASSERT_GT(filled, 0);
    if (leave > 0) {
      ASSERT_EQ(truncate(filler_.c_str(), std::max<int64_t>(0, filled - leave)), 0);
      sync();
    }
    std::printf("  filesystem filled: %lld bytes of filler, %lld bytes free\n",
                static_cast<long long>(std::max<int64_t>(0, filled - leave)),
                static_cast<long long>(fs_->FreeBytes()));
  }
  // ...and the scenarios that need "not one block free" can rely on it.
  void FillCompletely() {
    FillLeaving(0);
    ASSERT_EQ(fs_->FreeBytes(), 0) << "the filler could not take the last blocks";
  }
  void FreeSpace() {
    ASSERT_EQ(unlink(filler_.c_str()), 0);
    sync();
  }

  // The store is consistent, checked while the disk may still be full:
  // every blob verifies from outside and with casfs verify, casfs active
  // works, and every ingest is a prefix of `source` (when given).
  void ExpectConsistent(const std::string& when, const std::string& ref = "",
                        const std::string* source = nullptr) {
    BlobAudit audit = AuditBlobs(root_);
    for (const auto& bad : audit.bad) ADD_FAILURE() << when << ": bad blob: " << bad;
    RunResult v = RunCli(root_, {"verify"}, seconds(120));
    EXPECT_TRUE(v.ok()) << when << ": casfs verify: " << v.description << v.out;
    RunResult a = RunCli(root_, {"active"}, seconds(60));
    EXPECT_TRUE(a.ok()) << when << ": casfs active: " << a.description;
    if (!ref.empty() && source != nullptr) {
      auto data = ReadFile(IngestData(root_, ref));
      ASSERT_TRUE(data) << when << ": the ingest of " << ref << " is gone";
      EXPECT_TRUE(*data == source->substr(0, data->size()))
          << when << ": the ingest is not a prefix of what was written";
      EXPECT_NE(a.out.find(ref), std::string::npos) << when << ": casfs active does not list " << ref;
    }
    if (!HasFailure()) ++consistent_checks_;
  }

  static void Figure(const std::string& scenario, int cases, int enospc) {
    ReportVerdict("disk-full (" + scenario + ")",
                  std::to_string(cases) + (cases == 1 ? " case, " : " cases, ") + std::to_string(enospc) +
                      " got ENOSPC, store consistent, all resumed and committed after freeing space");
  }

  TempDir dir_{"casfs-diskfull"};
  std::unique_ptr<LoopFs> fs_;
  std::unique_ptr<Mount> mount_;
  fs::path root_;
  fs::path filler_;
  int mounts_ = 0;
  int consistent_checks_ = 0;
};

bool SaysNoSpace(const RunResult& r) {
  return r.err.find("No space left on device") != std::string::npos ||
         r.err.find("ENOSPC") != std::string::npos;
}

// cp into ingest/ runs out of space; so does the CLI; so does creating a
// new ingest. Each resumes after the filler is removed.
TEST_F(DiskFull, DuringIngest) {
  if (IsSkipped()) return;
  const std::string source = RandomBytes(12u << 20, 7);
  const std::string hex = Sha256Hex(source);
  fs::path source_path = dir_ / "source";
  ASSERT_TRUE(WriteFile(source_path, source));
  int cases = 0, enospc = 0;

  StartMount();
  FillLeaving(4 << 20);

  // 1. cp through the mount.
  {
    ++cases;
    RunResult cp = RunCommand({"cp", source_path.string(), (*mount_ / "ingest/cp-full").string()}, seconds(120));
    EXPECT_FALSE(cp.ok()) << "cp of 12 MiB into 4 MiB free succeeded";
    EXPECT_TRUE(SaysNoSpace(cp)) << cp.description;
    if (SaysNoSpace(cp)) ++enospc;
    EXPECT_TRUE(mount_->DaemonRunning()) << "the daemon died on ENOSPC: " << mount_->Log();
    int64_t size = FileSize(*mount_ / "ingest/cp-full");
    XattrResult offset = GetXattr(*mount_ / "ingest/cp-full", "user.casfs.offset");
    XattrResult digest = GetXattr(*mount_ / "ingest/cp-full", "user.casfs.digest");
    EXPECT_EQ(offset.value, std::to_string(size));
    EXPECT_EQ(digest.value, Sha256Digest(source.substr(0, static_cast<size_t>(std::max<int64_t>(size, 0)))));
    ExpectConsistent("after ENOSPC in cp", "cp-full", &source);
  }
  // 2. casfs ingest from the CLI (the mount stays up: both use the root).
  {
    ++cases;
    RunResult r = RunCli(root_, {"ingest", "cli-full", source_path.string()}, seconds(120));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(SaysNoSpace(r)) << r.description;
    if (SaysNoSpace(r)) ++enospc;
    ExpectConsistent("after ENOSPC in casfs ingest");
  }
  // 3. A new ingest when not one block is left.
  ASSERT_NO_FATAL_FAILURE(FillCompletely());
  {
    ++cases;
    int fd = open((*mount_ / "ingest/new-full").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    int err = fd < 0 ? errno : 0;
    std::string data = source.substr(0, 1 << 20);
    ssize_t wrote = 0;
    if (fd >= 0) {
      wrote = write(fd, data.data(), data.size());
      err = wrote < 0 ? errno : 0;
      close(fd);
    }
    EXPECT_EQ(err, ENOSPC) << "creating and writing an ingest on a full disk: " << ErrnoName(err)
                           << " (wrote " << wrote << ")";
    if (err == ENOSPC) ++enospc;
    ExpectConsistent("after ENOSPC creating an ingest");
  }

  FreeSpace();
  // Resume all three: dd append through the mount, the CLI, and cat >>.
  int64_t cp_size = FileSize(*mount_ / "ingest/cp-full");
  RunResult dd = RunCommand({"dd", "if=" + source_path.string(), "of=" + (*mount_ / "ingest/cp-full").string(),
                      "bs=1M", "skip=" + std::to_string(cp_size), "iflag=skip_bytes", "conv=notrunc",
                      "oflag=append", "status=none"},
                     seconds(120));
  ASSERT_TRUE(dd.ok()) << dd.description;
  RunResult mv = RunCommand({"mv", (*mount_ / "ingest/cp-full").string(), (*mount_ / "blobs/sha256" / hex).string()},
                     seconds(120));
  ASSERT_TRUE(mv.ok()) << mv.description;
  RunResult cli = RunCli(root_, {"ingest", "cli-full", source_path.string()}, seconds(120));
  ASSERT_TRUE(cli.ok()) << cli.description;
  EXPECT_NE(cli.out.find("sha256:" + hex), std::string::npos) << cli.out;
  if (fs::exists(*mount_ / "ingest/new-full")) {
    int64_t have = FileSize(*mount_ / "ingest/new-full");
    std::string cmd = "tail -c +" + std::to_string(have + 1) + " '" + source_path.string() + "' >> '" +
                      (*mount_ / "ingest/new-full").string() + "'";
    ASSERT_TRUE(RunCommand({"sh", "-c", cmd}, seconds(120)).ok());
    RunResult mv2 = RunCommand({"mv", (*mount_ / "ingest/new-full").string(),
                         (*mount_ / "blobs/sha256" / hex).string()},
                        seconds(120));
    ASSERT_TRUE(mv2.ok()) << mv2.description;
  }
  EXPECT_EQ(mount_->Unmount(), 0) << mount_->Log();
  BlobAudit audit = AuditBlobs(root_);
  EXPECT_TRUE(audit.bad.empty());
  EXPECT_EQ(audit.names, std::vector<std::string>{"sha256:" + hex});
  RunResult active = RunCli(root_, {"active"});
  EXPECT_EQ(active.out.find("-full"), std::string::npos) << "ingests left after commit: " << active.out;
  Figure("during ingest: cp, casfs ingest, new ingest", cases, enospc);
  EXPECT_EQ(enospc, cases);
}

// The commit itself needs space: the first commit creates blobs/sha256/,
// and a large staged label needs an xattr block or an overflow file. With
// no block free the rename must fail with ENOSPC and leave the ingest as
// it was; after freeing, the same mv commits, label included.
TEST_F(DiskFull, DuringCommit) {
  if (IsSkipped()) return;
  const std::string source = RandomBytes(1u << 20, 8);
  const std::string hex = Sha256Hex(source);
  const std::string big_label(3000, 'v');
  ASSERT_TRUE(WriteFile(dir_ / "source", source));
  // Written by the CLI, whose close is synchronous: a mount's release
  // arrives after close(2) returns and would change updatedat under the
  // snapshot below.
  RunResult written = RunCli(root_, {"ingest", "--no-commit", "commit-full", (dir_ / "source").string()});
  ASSERT_TRUE(written.ok()) << written.description;
  StartMount();
  fs::path ingest = *mount_ / "ingest/commit-full";
  ASSERT_EQ(SetXattr(ingest, "user.big", big_label), 0);
  bool blobs_existed = fs::exists(root_ / "blobs/sha256");
  auto before = SnapshotTree(IngestDir(root_, "commit-full"));
  ASSERT_NO_FATAL_FAILURE(FillCompletely());

  int err = rename(ingest.c_str(), (*mount_ / "blobs/sha256" / hex).c_str()) == 0 ? 0 : errno;
  std::printf("  commit on a full disk (blobs/sha256 %s before): %s\n",
              blobs_existed ? "existed" : "did not exist", ErrnoName(err).c_str());
  EXPECT_TRUE(mount_->DaemonRunning()) << mount_->Log();
  ExpectConsistent("after the commit on a full disk");
  if (err == 0) {
    // Allowed only if the commit is complete: content and label.
    EXPECT_EQ(GetXattr(*mount_ / "blobs/sha256" / hex, "user.big").value, big_label)
        << "the commit succeeded on a full disk but lost the staged label";
  } else {
    EXPECT_EQ(err, ENOSPC);
    EXPECT_FALSE(fs::exists(BlobPath(root_, hex)));
    // casfs.hashstate is a cache of the running hash (the data is the
    // truth), which a writer may drop; everything else must be as it was.
    auto after = SnapshotTree(IngestDir(root_, "commit-full"));
    before.erase("casfs.hashstate");
    after.erase("casfs.hashstate");
    EXPECT_EQ(DiffSnapshots(before, after), "")
        << "the failed commit changed the ingest (a leftover *.tmp is the bug of "
           "posix::WriteFileAtomic not removing its temp file when a write fails)";
    FreeSpace();
    ASSERT_EQ(rename(ingest.c_str(), (*mount_ / "blobs/sha256" / hex).c_str()), 0) << ErrnoName(errno);
    EXPECT_EQ(GetXattr(*mount_ / "blobs/sha256" / hex, "user.big").value, big_label);
  }
  EXPECT_EQ(mount_->Unmount(), 0) << mount_->Log();
  BlobAudit audit = AuditBlobs(root_);
  EXPECT_TRUE(audit.bad.empty());
  EXPECT_EQ(audit.names, std::vector<std::string>{"sha256:" + hex});
  Figure("during commit", 1, err == ENOSPC ? 1 : 0);
}

// A label that needs a new block (an xattr block, or the overflow file)
// on a full disk: ENOSPC through the mount and the CLI, the labels as they
// were; after freeing, both succeed.
TEST_F(DiskFull, DuringLabelWrite) {
  if (IsSkipped()) return;
  const std::string source = RandomBytes(64u << 10, 9);
  const std::string hex = Sha256Hex(source);
  StartMount();
  fs::path ingest = *mount_ / "ingest/label-full";
  ASSERT_TRUE(WriteFile(ingest, source));
  fs::path blob = *mount_ / "blobs/sha256" / hex;
  ASSERT_EQ(rename(ingest.c_str(), blob.c_str()), 0) << ErrnoName(errno);
  ASSERT_EQ(SetXattr(blob, "user.small", "1"), 0);
  const std::string big(3000, 'L');
  auto labels_before = ListXattrs(blob);
  ASSERT_NO_FATAL_FAILURE(FillCompletely());
  int cases = 0, enospc = 0;

  ++cases;
  int err = SetXattr(blob, "user.big", big);
  EXPECT_EQ(err, ENOSPC) << "setfattr of a 3000-byte label on a full disk: " << ErrnoName(err);
  if (err == ENOSPC) ++enospc;
  EXPECT_EQ(ListXattrs(blob).names, labels_before.names) << "a failed label write changed the labels";
  EXPECT_EQ(GetXattr(blob, "user.small").value, "1");

  ++cases;
  RunResult r = RunCli(root_, {"label", "sha256:" + hex, "big2=" + big}, seconds(60));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(SaysNoSpace(r)) << r.description;
  if (SaysNoSpace(r)) ++enospc;
  ExpectConsistent("after ENOSPC on label writes");

  FreeSpace();
  EXPECT_EQ(SetXattr(blob, "user.big", big), 0);
  RunResult r2 = RunCli(root_, {"label", "sha256:" + hex, "big2=" + big}, seconds(60));
  EXPECT_TRUE(r2.ok()) << r2.description;
  // The CLI wrote behind the mount's back: allow its attribute cache to expire.
  WaitUntil([&] { return GetXattr(blob, "user.big2").value == big; }, seconds(3));
  EXPECT_EQ(GetXattr(blob, "user.big").value, big);
  EXPECT_EQ(GetXattr(blob, "user.big2").value, big);
  EXPECT_EQ(GetXattr(blob, "user.small").value, "1");
  EXPECT_EQ(mount_->Unmount(), 0) << mount_->Log();
  ExpectConsistent("at the end");
  Figure("during label write: setfattr, casfs label", cases, enospc);
  EXPECT_EQ(enospc, cases);
}

}  // namespace
}  // namespace casfs::reltest
