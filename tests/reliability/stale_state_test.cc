// Stale state: what a crash, an administrator or a bad disk can leave in a
// root. A lock held by a process that was killed, an ingest folder whose
// startedat, total or ref is missing or corrupt, stray temp files, and a
// blob whose content was changed behind the store's back. Every time the
// store starts (CLI and mount), reports what it found, keeps the data it
// can vouch for, and never serves wrong content as verified: casfs verify
// flags the bad blob and casfs cat fails on it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/reliability/support/casfs.h"
#include "tests/reliability/support/files.h"
#include "tests/reliability/support/process.h"

namespace casfs::reltest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class StaleState : public ::testing::Test {
 protected:
  void SetUp() override {
    CASFS_REQUIRE_BINARY();
    source_ = RandomBytes(3u << 20, 11);
    hex_ = Sha256Hex(source_);
    ASSERT_TRUE(WriteFile(dir_ / "source", source_));
    ASSERT_TRUE(WriteFile(dir_ / "half", source_.substr(0, source_.size() / 2)));
  }

  // An unfinished ingest of `ref` holding the first half of the source.
  void MakeHalfIngest(const std::string& ref) {
    RunResult r = RunCli(root_, {"ingest", "--no-commit", ref, (dir_ / "half").string()});
    ASSERT_TRUE(r.ok()) << r.description;
    ASSERT_EQ(FileSize(IngestData(root_, ref)), static_cast<int64_t>(source_.size() / 2));
  }

  // The store starts: CLI listing and verification work, and a mount
  // comes up and lists its folders.
  void ExpectStoreStarts(const std::string& what) {
    RunResult active = RunCli(root_, {"active"});
    EXPECT_TRUE(active.ok()) << what << ": casfs active: " << active.description;
    RunResult ls = RunCli(root_, {"ls"});
    EXPECT_TRUE(ls.ok()) << what << ": casfs ls: " << ls.description;
    if (FuseUsable()) {
      std::string error;
      auto m = Mount::Start(root_, dir_ / ("mnt" + std::to_string(mounts_++)), &error);
      ASSERT_TRUE(m) << what << ": the mount does not start: " << error;
      std::error_code ec;
      for (const char* sub : {"ingest", "blobs/sha256"}) {
        for (const auto& e : fs::directory_iterator(*m / sub, ec)) (void)e;
        EXPECT_FALSE(ec) << what << ": listing " << sub << " through the mount: " << ec.message();
      }
      EXPECT_EQ(m->Unmount(), 0) << m->daemon().Describe();
    }
  }

  // Resuming `ref` with the whole source commits exactly the source.
  void ExpectResumesToSource(const std::string& ref, const std::string& what) {
    RunResult r = RunCli(root_, {"ingest", ref, (dir_ / "source").string()});
    EXPECT_TRUE(r.ok()) << what << ": resume failed: " << r.description;
    EXPECT_NE(r.out.find("sha256:" + hex_), std::string::npos) << what << ": resume printed " << r.out;
    // Debris with names that are no digest (StrayFiles puts it there) is
    // not content; every real blob must hash to its name.
    BlobAudit audit = AuditBlobs(root_);
    std::erase_if(audit.bad, [](const std::string& b) { return b.find("name is not") != std::string::npos ||
                                                              b.find("not an algorithm") != std::string::npos; });
    if (!audit.bad.empty()) ++bad_blobs_;
    EXPECT_TRUE(audit.bad.empty()) << what << ": " << (audit.bad.empty() ? "" : audit.bad[0]);
    EXPECT_EQ(FileSize(BlobPath(root_, hex_)), static_cast<int64_t>(source_.size())) << what;
  }

  TempDir dir_{"casfs-stale"};
  fs::path root_ = dir_ / "root";
  std::string source_;
  std::string hex_;
  int mounts_ = 0;
  int bad_blobs_ = 0;  // stores in which a blob did not hash to its name
};

// The CLI is killed while it holds the ref's lock; the next writer must not
// wait for a lock nobody holds (flock dies with its holder).
TEST_F(StaleState, LockOfKilledCli) {
  ProcessOptions o;
  o.stdin_pipe = true;
  Process cli = SpawnCli(root_, {"ingest", "locked", "-"}, o);
  ASSERT_TRUE(cli.WriteStdin(source_.data(), 1 << 20));
  ASSERT_TRUE(WaitUntil([&] { return FileSize(IngestData(root_, "locked")) > 0; }, seconds(30)))
      << cli.Describe();
  // While it lives, the ref is busy (exit 5), which proves a lock exists.
  RunResult busy = RunCli(root_, {"ingest", "locked", (dir_ / "source").string()}, seconds(30));
  EXPECT_EQ(busy.exit_code, 5) << "a second writer while the first holds the lock: " << busy.description;
  cli.Signal(SIGKILL);
  ASSERT_TRUE(cli.Wait(seconds(10)));
  ExpectStoreStarts("after kill -9 of a writer");
  ExpectResumesToSource("locked", "after kill -9 of a writer");
  ReportVerdict("stale-state (lock of a killed CLI)", "next writer got the ref at once, resumed, committed");
}

// The mount daemon is killed while a write handle is open; a new mount
// must give the ref to a new writer.
TEST_F(StaleState, LockOfKilledDaemon) {
  CASFS_REQUIRE_FUSE();
  {
    std::string error;
    auto m = Mount::Start(root_, dir_ / "mnt-a", &error);
    ASSERT_TRUE(m) << error;
    int fd = open((*m / "ingest/held").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0) << ErrnoName(errno);
    ASSERT_EQ(write(fd, source_.data(), 1 << 20), 1 << 20);
    m->KillDaemon(SIGKILL);
    close(fd);
  }
  std::string error;
  auto m = Mount::Start(root_, dir_ / "mnt-b", &error);
  ASSERT_TRUE(m) << error;
  int fd = open((*m / "ingest/held").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0) << "reopening the ingest after the daemon's death: " << ErrnoName(errno);
  std::string rest = source_.substr(1 << 20);
  ASSERT_EQ(write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  ASSERT_EQ(close(fd), 0);
  ASSERT_EQ(rename((*m / "ingest/held").c_str(), (*m / "blobs/sha256" / hex_).c_str()), 0) << ErrnoName(errno);
  EXPECT_EQ(m->Unmount(), 0) << m->Log();
  EXPECT_EQ(AuditBlobs(root_).names, std::vector<std::string>{"sha256:" + hex_});
  ReportVerdict("stale-state (lock of a killed daemon)", "remount reopened the ingest, resumed, committed");
}

struct MetadataDamage {
  const char* name;
  const char* file;  // in the ingest folder
  bool remove;
  const char* content;
  // casfs' own files that carry a promise (an expected digest, labels to
  // apply): refusing to commit while they are unreadable is right, as long
  // as the refusal names the problem, keeps the data, and abort works.
  bool may_refuse = false;
};

int FailureCount() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

// Each ingest file damaged in turn. The data is the ref's (its folder is
// named by the ref's hash), so every case must resume to the source.
TEST_F(StaleState, DamagedIngestMetadata) {
  const std::vector<MetadataDamage> damages = {
      {"startedat missing", "startedat", true, ""},
      {"startedat corrupt", "startedat", false, "yesterday\n"},
      {"startedat empty", "startedat", false, ""},
      {"updatedat corrupt", "updatedat", false, "\x01\x02garbage"},
      {"total corrupt", "total", false, "twelve"},
      {"total negative", "total", false, "-1"},
      {"total overflowing", "total", false, "99999999999999999999999"},
      {"ref missing", "ref", true, ""},
      {"ref empty", "ref", false, ""},
      {"ref of another name", "ref", false, "someone-else"},
      {"hash checkpoint corrupt", "casfs.hashstate", false, "not a checkpoint"},
      {"staged labels corrupt", "casfs.labels", false, "casfs-labels 9\n%%%", true},
      {"expected digest corrupt", "casfs.expected", false, "sha256:zz", true},
      {"data missing", "data", true, ""},
  };
  // All damaged ingests sit in one root, as they would after a bad day:
  // the store must start with every one of them there.
  auto ref_of = [](const MetadataDamage& d) { return std::string("damaged ") + d.name; };
  for (const auto& d : damages) {
    MakeHalfIngest(ref_of(d));
    fs::path file = IngestDir(root_, ref_of(d)) / d.file;
    if (d.remove) {
      ASSERT_EQ(unlink(file.c_str()), 0) << file;
    } else {
      ASSERT_TRUE(WriteFile(file, d.content));
    }
  }
  RunResult active = RunCli(root_, {"--json", "active"});
  EXPECT_TRUE(active.ok()) << active.description;
  std::printf("  casfs active with %zu damaged ingests: exit %d\n%s", damages.size(), active.exit_code,
              active.err.c_str());
  ExpectStoreStarts("with damaged ingests");
  int cases = 0, resumed = 0;
  for (const auto& d : damages) {
    SCOPED_TRACE(d.name);
    const std::string ref = ref_of(d);
    ++cases;
    int failures_before = FailureCount();
    if (d.may_refuse) {
      RunResult r = RunCli(root_, {"ingest", ref, (dir_ / "source").string()});
      std::printf("  %-26s resume -> exit %d %s", d.name, r.exit_code, r.err.c_str());
      if (r.ok()) {
        EXPECT_NE(r.out.find("sha256:" + hex_), std::string::npos) << r.out;
      } else {
        EXPECT_EQ(FileSize(IngestData(root_, ref)), static_cast<int64_t>(source_.size()))
            << "a refused commit lost data";
        RunResult abort = RunCli(root_, {"abort", ref});
        EXPECT_TRUE(abort.ok()) << abort.description;
        ExpectResumesToSource(ref, std::string(d.name) + ", after abort");
      }
    } else {
      ExpectResumesToSource(ref, d.name);
    }
    EXPECT_FALSE(fs::exists(IngestDir(root_, ref))) << "the ingest is still there after its commit";
    if (FailureCount() == failures_before) ++resumed;
  }
  ReportFigure("stale-state (damaged ingest metadata)",
               std::to_string(cases) + " cases, " + std::to_string(resumed) +
                   " started, resumed and committed the right digest, " + std::to_string(bad_blobs_) +
                   " with wrong content");
}

// Debris: temp files of an interrupted atomic write, files that are not
// ingests, names in blobs/ that are not digests, a leftover label file.
TEST_F(StaleState, StrayFiles) {
  MakeHalfIngest("stray");
  RunResult add = RunCli(root_, {"add", (dir_ / "half").string()});
  ASSERT_TRUE(add.ok()) << add.description;
  std::string half_hex = Sha256Hex(source_.substr(0, source_.size() / 2));
  fs::path ingest = IngestDir(root_, "stray");
  const std::vector<std::pair<fs::path, std::string>> strays = {
      {ingest / "startedat.tmp", "2026-01-01T00:"},
      {ingest / "updatedat.tmp", ""},
      {ingest / "casfs.labels.tmp", "casfs-labels 1\na=b"},
      {ingest / "casfs.hashstate.tmp", "xx"},
      {root_ / "ingest" / "not-a-folder", "junk"},
      {root_ / "ingest" / ".tmp-123", "junk"},
      {root_ / "blobs/sha256" / (half_hex + ".tmp"), "partial"},
      {root_ / "blobs/sha256" / "deadbeef", "short name"},
      {root_ / "blobs/sha256" / std::string(64, 'A'), "uppercase name"},
      {root_ / "blobs/md5", ""},  // a folder of an unknown algorithm (made below)
      {root_ / "labels/sha256" / std::string(64, 'e'), "casfs-labels 1\norphan=1"},
  };
  for (const auto& [path, content] : strays) {
    fs::create_directories(path.parent_path());
    if (path.filename() == "md5") {
      fs::create_directories(path);
    } else {
      ASSERT_TRUE(WriteFile(path, content)) << path;
    }
  }
  fs::create_directories(root_ / "ingest" / std::string(64, '0'));  // an empty ingest folder
  ExpectStoreStarts("with stray files");
  RunResult ls = RunCli(root_, {"ls"});
  EXPECT_NE(ls.out.find(half_hex), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find("deadbeef"), std::string::npos) << "ls shows a name that is not a digest: " << ls.out;
  RunResult verify = RunCli(root_, {"verify"});
  std::printf("  casfs verify with debris -> exit %d\n%s%s", verify.exit_code, verify.out.c_str(),
              verify.err.c_str());
  if (FuseUsable()) {
    std::string error;
    auto m = Mount::Start(root_, dir_ / "mnt-stray", &error);
    ASSERT_TRUE(m) << error;
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(*m / "blobs/sha256", ec)) names.push_back(e.path().filename());
    EXPECT_EQ(names, std::vector<std::string>{half_hex}) << "the mount lists debris under blobs/sha256";
    EXPECT_FALSE(fs::exists(*m / "blobs/sha256" / "deadbeef"));
    EXPECT_EQ(m->Unmount(), 0) << m->Log();
  }
  ExpectResumesToSource("stray", "with stray files");
  ReportVerdict("stale-state (stray files)",
                std::to_string(strays.size() + 1) + " pieces of debris, store started, ingest resumed and committed");
}

struct Tamper {
  const char* name;
  std::function<void(const fs::path& blob)> apply;
};

// A blob changed behind the store's back (same size, other size, emptied):
// verify flags it, cat fails on it, and the good blob beside it stays fine.
TEST_F(StaleState, TamperedBlob) {
  std::string other = RandomBytes(4096, 12);
  ASSERT_TRUE(WriteFile(dir_ / "other", other));
  ASSERT_TRUE(WriteFile(dir_ / "outside", source_));
  const std::vector<Tamper> tampers = {
      {"one byte flipped",
       [](const fs::path& blob) {
         int fd = open(blob.c_str(), O_WRONLY);
         char c = 0x5a;
         (void)!pwrite(fd, &c, 1, 1000);
         close(fd);
       }},
      {"bytes appended",
       [](const fs::path& blob) {
         int fd = open(blob.c_str(), O_WRONLY | O_APPEND);
         (void)!write(fd, "extra", 5);
         close(fd);
       }},
      {"truncated to 0", [](const fs::path& blob) { (void)!truncate(blob.c_str(), 0); }},
  };
  int cases = 0, flagged = 0, refused = 0;
  for (const auto& t : tampers) {
    SCOPED_TRACE(t.name);
    root_ = dir_ / ("root-tamper-" + std::to_string(cases++));
    RunResult add = RunCli(root_, {"add", (dir_ / "source").string(), (dir_ / "other").string()});
    ASSERT_TRUE(add.ok()) << add.description;
    fs::path blob = BlobPath(root_, hex_);
    chmod(blob.c_str(), 0644);
    t.apply(blob);

    RunResult verify = RunCli(root_, {"verify"}, seconds(60));
    EXPECT_EQ(verify.exit_code, 1) << "casfs verify on a tampered blob: " << verify.description << verify.out;
    EXPECT_NE((verify.out + verify.err).find(hex_), std::string::npos)
        << "verify does not name the bad blob: " << verify.out << verify.err;
    if (verify.exit_code == 1 && (verify.out + verify.err).find(hex_) != std::string::npos) ++flagged;

    RunResult cat = RunCli(root_, {"cat", "sha256:" + hex_}, seconds(60));
    std::printf("  %-22s verify -> exit %d, cat -> exit %d: %s", t.name, verify.exit_code, cat.exit_code,
                cat.err.c_str());
    EXPECT_NE(cat.exit_code, 0) << "casfs cat served a tampered blob as good (" << cat.out.size() << " bytes)";
    if (cat.exit_code != 0 && cat.out != source_) ++refused;
    RunResult good = RunCli(root_, {"cat", "sha256:" + Sha256Hex(other)});
    EXPECT_TRUE(good.ok() && good.out == other) << "the good blob beside it: " << good.description;
    ExpectStoreStarts(t.name);
  }
  ReportFigure("stale-state (blob changed behind the store's back)",
               std::to_string(cases) + " cases, verify flagged " + std::to_string(flagged) + ", cat refused " +
                   std::to_string(refused) + ", wrong content served as verified: " +
                   std::to_string(cases - refused));
}

// A blob replaced by a symlink to a file outside the root. Found while
// writing TamperedBlob: the engine follows the link (cat streams the
// outside file's bytes before failing its digest check; info reports the
// outside file's size), and verify, which walks only regular files, says
// nothing and exits 0. Expected: verify flags the entry (exit 1, naming
// it), and reading a blob never follows a link out of the root.
TEST_F(StaleState, BlobReplacedBySymlinkIsFlaggedAndNotFollowed) {
  const std::string outside = "outside the root\n";
  ASSERT_TRUE(WriteFile(dir_ / "outside", outside));
  RunResult add = RunCli(root_, {"add", (dir_ / "source").string()});
  ASSERT_TRUE(add.ok()) << add.description;
  fs::path blob = BlobPath(root_, hex_);
  ASSERT_EQ(unlink(blob.c_str()), 0);
  ASSERT_EQ(symlink((dir_ / "outside").c_str(), blob.c_str()), 0);

  RunResult verify = RunCli(root_, {"verify"});
  EXPECT_EQ(verify.exit_code, 1) << "verify is silent about a symlink in blobs/: " << verify.description;
  EXPECT_NE((verify.out + verify.err).find(hex_), std::string::npos) << verify.out << verify.err;
  RunResult cat = RunCli(root_, {"cat", "sha256:" + hex_});
  EXPECT_NE(cat.exit_code, 0);
  EXPECT_EQ(cat.out.find("outside the root"), std::string::npos)
      << "casfs cat read a file outside the root through a digest";
  ExpectStoreStarts("with a symlink in blobs/");
}

}  // namespace
}  // namespace casfs::reltest
