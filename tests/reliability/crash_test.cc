// Crash mid-ingest: kill -9 the mount daemon while cp writes a large file,
// kill -9 the CLI mid-ingest, and kill either at each commit point (a
// deterministic SIGKILL from core/fault_injection.h). After every crash:
//   - blobs/ holds no partial or unverified blob (checked from outside);
//   - the ingest is still there, holding exactly the bytes that were
//     acknowledged (a prefix of the source, nothing lost, nothing wrong);
//   - it resumes from its offset (cat >>, dd conv=notrunc oflag=append,
//     casfs ingest again) and commits to the source's digest.
// Each test prints "<N> crashes, 0 lost or corrupt".
#include <fcntl.h>
#include <signal.h>
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

using std::chrono::milliseconds;
using std::chrono::seconds;

// Whether the engine in the binary calls the fault hook at `point` (the
// point's name is then a string literal in it). Scenarios that need a
// point skip while the engine does not have it yet.
bool BinaryHasFaultPoint(const std::string& point) {
  auto binary = ReadFile(CasfsBinary());
  return binary && binary->find(point) != std::string::npos;
}

enum class Resume { kCatAppend, kDdAppend, kCliIngest, kCliStdin };

const char* ResumeName(Resume r) {
  switch (r) {
    case Resume::kCatAppend: return "cat >>";
    case Resume::kDdAppend: return "dd conv=notrunc oflag=append";
    case Resume::kCliIngest: return "casfs ingest REF FILE";
    case Resume::kCliStdin: return "casfs ingest REF - (stdin from 0)";
  }
  return "?";
}

// One store, one source file, and the checks every crash run makes.
class CrashRun {
 public:
  CrashRun(const std::string& tag, size_t size, uint64_t seed)
      : dir_(tag), root_(dir_ / "root"), source_path_(dir_ / "source") {
    source_ = RandomBytes(size, seed);
    hex_ = Sha256Hex(source_);
    WriteFile(source_path_, source_);
  }

  const fs::path& root() const { return root_; }
  const fs::path& source_path() const { return source_path_; }
  const std::string& source() const { return source_; }
  const std::string& hex() const { return hex_; }
  fs::path mountpoint(int n) const { return dir_ / ("mnt" + std::to_string(n)); }
  fs::path data(const std::string& ref) const { return IngestData(root_, ref); }

  // After a crash, before anything else touches the root: no blob but
  // verified ones, and the ingest holds a prefix of the source. Returns the
  // ingest's size (-1 when it has none), or records a failure.
  int64_t CheckAfterCrash(const std::string& ref, int64_t expect_at_least, int64_t expect_at_most) {
    BlobAudit audit = AuditBlobs(root_);
    for (const auto& bad : audit.bad) Fail("partial or unverified blob after crash: " + bad);
    for (const auto& name : audit.names) {
      if (name != "sha256:" + hex_) Fail("unexpected blob after crash: " + name);
    }
    int64_t size = FileSize(data(ref));
    if (size < 0) return -1;
    if (size < expect_at_least || size > expect_at_most) {
      Fail("ingest holds " + std::to_string(size) + " bytes after the crash; acknowledged " +
           std::to_string(expect_at_least) + ".." + std::to_string(expect_at_most));
    }
    auto content = ReadFile(data(ref));
    if (!content || *content != source_.substr(0, content->size())) {
      Fail("ingest data is not a prefix of the source after the crash (" + std::to_string(size) +
           " bytes)");
    }
    return size;
  }

  // The ingest is listed by the CLI with that offset.
  void CheckListed(const std::string& ref, int64_t offset) {
    RunResult r = RunCli(root_, {"--json", "active"});
    if (!r.ok()) {
      Fail("casfs active failed after the crash: " + r.description);
      return;
    }
    if (r.out.find(ref) == std::string::npos) {
      Fail("casfs active does not list " + ref + " after the crash: " + r.out);
    }
    if (r.out.find(std::to_string(offset)) == std::string::npos) {
      Fail("casfs active does not show offset " + std::to_string(offset) + " for " + ref + ": " + r.out);
    }
  }

  // Through a fresh mount: the ingest shows the same size and digest.
  void CheckThroughMount(const Mount& m, const std::string& ref, int64_t offset) {
    fs::path file = m.mountpoint() / "ingest" / ref;
    struct stat st {};
    if (stat(file.c_str(), &st) != 0) {
      Fail("ingest/" + ref + " missing after remount: " + ErrnoName(errno));
      return;
    }
    if (st.st_size != offset) {
      Fail("ingest/" + ref + " has st_size " + std::to_string(st.st_size) + ", expected " +
           std::to_string(offset));
    }
    XattrResult off = GetXattr(file, "user.casfs.offset");
    if (off.err != 0 || off.value != std::to_string(offset)) {
      Fail("user.casfs.offset is " + (off.err ? ErrnoName(off.err) : off.value) + ", expected " +
           std::to_string(offset));
    }
    XattrResult dig = GetXattr(file, "user.casfs.digest");
    std::string want = Sha256Digest(source_.substr(0, static_cast<size_t>(offset)));
    if (dig.err != 0 || dig.value != want) {
      Fail("user.casfs.digest is " + (dig.err ? ErrnoName(dig.err) : dig.value) + ", expected " + want);
    }
  }

  // Appends the rest of the source through the mount and commits with mv.
  void ResumeThroughMount(const Mount& m, const std::string& ref, int64_t offset, Resume how) {
    fs::path file = m.mountpoint() / "ingest" / ref;
    RunResult r;
    if (how == Resume::kCatAppend) {
      std::string cmd = "tail -c +" + std::to_string(offset + 1) + " '" + source_path_.string() +
                        "' >> '" + file.string() + "'";
      r = RunCommand({"sh", "-c", cmd}, seconds(120));
    } else {
      r = RunCommand({"dd", "if=" + source_path_.string(), "of=" + file.string(), "bs=1M",
               "skip=" + std::to_string(offset), "iflag=skip_bytes", "conv=notrunc", "oflag=append",
               "status=none"},
              seconds(120));
    }
    if (!r.ok()) {
      Fail(std::string("resume with ") + ResumeName(how) + " failed: " + r.description);
      return;
    }
    RunResult mv = RunCommand({"mv", file.string(), (m.mountpoint() / "blobs/sha256" / hex_).string()},
                       seconds(120));
    if (!mv.ok()) Fail("commit (mv) after resume failed: " + mv.description);
  }

  // Resumes with the CLI (the store not mounted) and checks the digest it prints.
  void ResumeWithCli(const std::string& ref, Resume how) {
    RunResult r;
    if (how == Resume::kCliIngest) {
      r = RunCli(root_, {"ingest", ref, source_path_.string()}, seconds(120));
    } else {
      ProcessOptions o;
      o.stdin_path = source_path_.string();
      r = RunCli(root_, {"ingest", ref, "-"}, seconds(120), o);
    }
    if (!r.ok()) {
      Fail(std::string("resume with ") + ResumeName(how) + " failed: " + r.description);
      return;
    }
    if (r.out.find("sha256:" + hex_) == std::string::npos) {
      Fail(std::string("resume with ") + ResumeName(how) + " printed " + r.out + ", expected sha256:" + hex_);
    }
  }

  // The end state: exactly the source's blob, verified from outside and by
  // casfs verify, with its content; the ingest gone.
  void CheckCommitted(const std::string& ref) {
    BlobAudit audit = AuditBlobs(root_);
    for (const auto& bad : audit.bad) Fail("bad blob after commit: " + bad);
    if (audit.names != std::vector<std::string>{"sha256:" + hex_}) {
      std::string got;
      for (const auto& n : audit.names) got += n + " ";
      Fail("after commit the store holds [" + got + "], expected sha256:" + hex_);
    }
    if (fs::exists(IngestDir(root_, ref))) Fail("the ingest of " + ref + " is still there after commit");
    RunResult v = RunCli(root_, {"verify"}, seconds(120));
    if (!v.ok()) Fail("casfs verify failed after commit: " + v.description + v.out);
    RunResult cat = RunCli(root_, {"cat", "sha256:" + hex_}, seconds(120));
    if (!cat.ok() || cat.out != source_) Fail("casfs cat after commit: " + cat.description);
  }

  void Fail(const std::string& what) {
    ADD_FAILURE() << what;
    failed_ = true;
  }
  bool failed() const { return failed_; }
  void ResetFailed() { failed_ = false; }

 private:
  TempDir dir_;
  fs::path root_;
  fs::path source_path_;
  std::string source_;
  std::string hex_;
  bool failed_ = false;
};

struct Tally {
  int crashes = 0;
  int lost_or_corrupt = 0;
  void Add(bool failed) {
    ++crashes;
    if (failed) ++lost_or_corrupt;
  }
  std::string Text() const {
    return std::to_string(crashes) + " crashes, " + std::to_string(lost_or_corrupt) + " lost or corrupt";
  }
};

size_t SourceSize() { return LongMode() ? (64u << 20) : (8u << 20); }

std::vector<int64_t> KillPoints(int64_t size) {
  std::vector<int64_t> points = {1, (1 << 20) + 4097, size / 2 + 3, size - 1};
  if (LongMode()) {
    for (int i = 1; i <= 8; ++i) points.push_back(size * i / 9 + i * 511);
  }
  return points;
}

// kill -9 of the daemon while cp copies from a pipe that the test feeds:
// the daemon dies when exactly K bytes have been acknowledged to cp, so
// the ingest must hold exactly K bytes afterwards.
TEST(CrashMidIngest, MountDaemonKilledWhileCpWrites) {
  CASFS_REQUIRE_FUSE();
  Tally tally;
  int run = 0;
  const Resume kResumes[] = {Resume::kCatAppend, Resume::kDdAppend, Resume::kCliIngest, Resume::kCliStdin};
  for (int64_t k : KillPoints(static_cast<int64_t>(SourceSize()))) {
    CrashRun c("casfs-crash-mount", SourceSize(), 100 + run);
    std::string ref = "crash-" + std::to_string(run);
    Resume how = kResumes[run % 4];
    ++run;
    {
      std::string error;
      auto m = Mount::Start(c.root(), c.mountpoint(1), &error);
      ASSERT_TRUE(m) << error;
      ProcessOptions o;
      o.stdin_pipe = true;
      Process cp = Process::Spawn({"cp", "/dev/stdin", (*m / "ingest" / ref).string()}, o);
      ASSERT_TRUE(cp.WriteStdin(c.source().data(), static_cast<size_t>(k))) << cp.Describe();
      bool reached = WaitUntil([&] { return FileSize(c.data(ref)) == k; }, seconds(60));
      ASSERT_TRUE(reached) << "the ingest never reached " << k << " bytes (has " << FileSize(c.data(ref))
                           << "); " << cp.Describe() << "\ndaemon: " << m->Log();
      m->KillDaemon(SIGKILL);
      cp.CloseStdin();
      ASSERT_TRUE(cp.Wait(seconds(30))) << "cp hung after the daemon died";
      EXPECT_NE(cp.exit_code(), 0) << "cp succeeded although the daemon was killed";
    }
    int64_t size = c.CheckAfterCrash(ref, k, k);
    ASSERT_EQ(size, k) << "the ingest was lost";
    c.CheckListed(ref, k);
    if (how == Resume::kCliIngest || how == Resume::kCliStdin) {
      {
        std::string error;
        auto m = Mount::Start(c.root(), c.mountpoint(2), &error);
        ASSERT_TRUE(m) << error;
        c.CheckThroughMount(*m, ref, k);
        EXPECT_EQ(m->Unmount(), 0) << m->Log();
      }
      c.ResumeWithCli(ref, how);
    } else {
      std::string error;
      auto m = Mount::Start(c.root(), c.mountpoint(2), &error);
      ASSERT_TRUE(m) << error;
      c.CheckThroughMount(*m, ref, k);
      c.ResumeThroughMount(*m, ref, k, how);
      EXPECT_EQ(m->Unmount(), 0) << m->Log();
    }
    c.CheckCommitted(ref);
    std::printf("  killed daemon at %lld of %zu bytes, resumed with %s: %s\n", static_cast<long long>(k),
                SourceSize(), ResumeName(how), c.failed() ? "FAILED" : "ok");
    tally.Add(c.failed());
  }
  ReportFigure("crash-mid-ingest (mount daemon kill -9 during cp)", tally.Text());
  EXPECT_EQ(tally.lost_or_corrupt, 0);
}

// The same with a plain `cp FILE` that runs at full speed: the kill lands
// wherever cp happens to be, so the ingest holds some prefix.
TEST(CrashMidIngest, MountDaemonKilledDuringPlainCp) {
  CASFS_REQUIRE_FUSE();
  Tally tally;
  std::vector<double> fractions = {0.25, 0.6};
  if (LongMode()) fractions = {0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95};
  int run = 0;
  for (double fraction : fractions) {
    CrashRun c("casfs-crash-cp", SourceSize(), 200 + run);
    std::string ref = "cp-" + std::to_string(run++);
    auto threshold = static_cast<int64_t>(static_cast<double>(SourceSize()) * fraction);
    {
      std::string error;
      auto m = Mount::Start(c.root(), c.mountpoint(1), &error);
      ASSERT_TRUE(m) << error;
      Process cp = Process::Spawn({"cp", c.source_path().string(), (*m / "ingest" / ref).string()});
      WaitUntil([&] { return FileSize(c.data(ref)) >= threshold || !cp.Running(); }, seconds(60),
                milliseconds(1));
      m->KillDaemon(SIGKILL);
      ASSERT_TRUE(cp.Wait(seconds(30))) << "cp hung after the daemon died";
    }
    int64_t size = c.CheckAfterCrash(ref, 0, static_cast<int64_t>(SourceSize()));
    ASSERT_GE(size, 0) << "the ingest was lost";
    c.CheckListed(ref, size);
    {
      std::string error;
      auto m = Mount::Start(c.root(), c.mountpoint(2), &error);
      ASSERT_TRUE(m) << error;
      c.CheckThroughMount(*m, ref, size);
      c.ResumeThroughMount(*m, ref, size, run % 2 ? Resume::kDdAppend : Resume::kCatAppend);
      EXPECT_EQ(m->Unmount(), 0) << m->Log();
    }
    c.CheckCommitted(ref);
    std::printf("  killed daemon with %lld of %zu bytes in: %s\n", static_cast<long long>(size), SourceSize(),
                c.failed() ? "FAILED" : "ok");
    tally.Add(c.failed());
  }
  ReportFigure("crash-mid-ingest (mount daemon kill -9 during plain cp)", tally.Text());
  EXPECT_EQ(tally.lost_or_corrupt, 0);
}

// kill -9 of `casfs ingest REF -` fed through a pipe. The CLI may hold up
// to one buffer it has read but not written; the ingest must be a prefix
// of what it was given, and the same command must resume it.
TEST(CrashMidIngest, CliKilledMidIngest) {
  CASFS_REQUIRE_BINARY();
  Tally tally;
  int run = 0;
  for (int64_t k : KillPoints(static_cast<int64_t>(SourceSize()))) {
    CrashRun c("casfs-crash-cli", SourceSize(), 300 + run);
    std::string ref = "cli-" + std::to_string(run);
    Resume how = run % 2 ? Resume::kCliStdin : Resume::kCliIngest;
    ++run;
    {
      ProcessOptions o;
      o.stdin_pipe = true;
      Process cli = SpawnCli(c.root(), {"ingest", ref, "-"}, o);
      ASSERT_TRUE(cli.WriteStdin(c.source().data(), static_cast<size_t>(k))) << cli.Describe();
      // Wait for the bytes to land, but only briefly: a CLI that buffers a
      // whole chunk before writing it is killed with less written.
      WaitUntil([&] { return FileSize(c.data(ref)) == k; }, milliseconds(1500));
      cli.Signal(SIGKILL);
      ASSERT_TRUE(cli.Wait(seconds(10)));
      EXPECT_EQ(cli.term_signal(), SIGKILL) << cli.Describe();
    }
    int64_t size = c.CheckAfterCrash(ref, 0, k);
    if (size >= 0) c.CheckListed(ref, size);
    c.ResumeWithCli(ref, how);
    c.CheckCommitted(ref);
    std::printf("  killed CLI after feeding %lld bytes (%lld in the ingest), resumed with %s: %s\n",
                static_cast<long long>(k), static_cast<long long>(size), ResumeName(how),
                c.failed() ? "FAILED" : "ok");
    tally.Add(c.failed());
  }
  ReportFigure("crash-mid-ingest (CLI kill -9 mid-ingest)", tally.Text());
  EXPECT_EQ(tally.lost_or_corrupt, 0);
}

// Each commit point, `rounds` times (with a different size each time).
std::vector<std::string> CommitPoints(int rounds) {
  std::vector<std::string> points;
  for (int r = 0; r < rounds; ++r) {
    for (const char* p : {"commit:before-sync", "commit:after-sync", "commit:after-rename"}) points.push_back(p);
  }
  return points;
}

// After a crash at a commit point, the blob is either absent or complete
// and verified; the ingest is intact unless the blob is complete.
void CheckAfterCommitCrash(CrashRun& c, const std::string& ref, const std::string& point) {
  BlobAudit audit = AuditBlobs(c.root());
  for (const auto& bad : audit.bad) c.Fail(point + ": partial or unverified blob: " + bad);
  bool committed = audit.names == std::vector<std::string>{"sha256:" + c.hex()};
  if (!committed) {
    if (!audit.names.empty()) c.Fail(point + ": unexpected blob");
    // Not committed: the whole ingest must still be there.
    auto data = ReadFile(c.data(ref));
    if (!data || *data != c.source()) {
      c.Fail(point + ": crash before the rename lost ingest data (" +
             std::to_string(data ? data->size() : 0) + " of " + std::to_string(c.source().size()) +
             " bytes)");
    }
    c.CheckListed(ref, static_cast<int64_t>(c.source().size()));
  }
  if (point == "commit:after-rename" && !committed) {
    c.Fail(point + ": the blob is missing although the rename had happened");
  }
}

// The mount daemon dies inside the commit (mv ingest/REF blobs/sha256/HEX)
// at each point; a remount and a second mv (or casfs ingest) finish it.
TEST(CrashMidIngest, MountDaemonKilledDuringCommit) {
  CASFS_REQUIRE_FUSE();
  Tally tally;
  int run = 0;
  for (const auto& point : CommitPoints(LongMode() ? 4 : 1)) {
    if (!BinaryHasFaultPoint(point)) {
      std::printf("  %s: not wired into the engine yet, skipped\n", point.c_str());
      continue;
    }
    CrashRun c("casfs-crash-commit", SourceSize() / 4 + static_cast<size_t>(run) * 4099, 400 + run);
    std::string ref = "commit-" + std::to_string(run++);
    {
      std::string error;
      Mount::Options mo;
      mo.env = {"CASFS_FAULT=" + point};
      auto m = Mount::Start(c.root(), c.mountpoint(1), mo, &error);
      ASSERT_TRUE(m) << error;
      RunResult cp = RunCommand({"cp", c.source_path().string(), (*m / "ingest" / ref).string()}, seconds(120));
      ASSERT_TRUE(cp.ok()) << cp.description;
      RunResult mv = RunCommand({"mv", (*m / "ingest" / ref).string(), (*m / "blobs/sha256" / c.hex()).string()},
                         seconds(60));
      EXPECT_FALSE(mv.ok()) << "mv succeeded although the daemon was to die at " << point;
      ASSERT_TRUE(m->WaitDaemon(seconds(20))) << "the daemon did not die at " << point;
      EXPECT_EQ(m->daemon().term_signal(), SIGKILL) << m->daemon().Describe();
      m->KillDaemon(SIGKILL);  // clears the dead mount
    }
    CheckAfterCommitCrash(c, ref, point);
    {
      std::string error;
      auto m = Mount::Start(c.root(), c.mountpoint(2), &error);
      ASSERT_TRUE(m) << error;
      fs::path file = *m / "ingest" / ref;
      if (fs::exists(IngestData(c.root(), ref))) {
        c.CheckThroughMount(*m, ref, static_cast<int64_t>(c.source().size()));
        RunResult mv = RunCommand({"mv", file.string(), (*m / "blobs/sha256" / c.hex()).string()}, seconds(60));
        if (!mv.ok()) c.Fail(point + ": second mv failed: " + mv.description);
      } else {
        // The blob is in; whatever is left of the ingest must not block
        // listing, and must go away with rm (or not be shown at all).
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(*m / "ingest", ec)) (void)e;
        if (ec) c.Fail(point + ": listing ingest/ after the crash failed: " + ec.message());
        if (fs::exists(file, ec)) {
          RunResult rm = RunCommand({"rm", "-f", file.string()}, seconds(30));
          if (!rm.ok()) c.Fail(point + ": rm of the leftover ingest failed: " + rm.description);
        }
      }
      EXPECT_EQ(m->Unmount(), 0) << m->Log();
    }
    // Whatever state the crash left, the ingest folder must be gone or
    // resumable to the same digest.
    if (fs::exists(IngestDir(c.root(), ref))) c.ResumeWithCli(ref, Resume::kCliIngest);
    c.CheckCommitted(ref);
    std::printf("  daemon killed at %s: %s\n", point.c_str(), c.failed() ? "FAILED" : "ok");
    tally.Add(c.failed());
  }
  if (tally.crashes == 0) GTEST_SKIP() << "the engine has no commit fault points yet";
  ReportFigure("crash-during-commit (mount daemon, fault points)", tally.Text());
  EXPECT_EQ(tally.lost_or_corrupt, 0);
}

// `casfs ingest` dies inside its commit at each point; running the same
// command again finishes the job.
TEST(CrashMidIngest, CliKilledDuringCommit) {
  CASFS_REQUIRE_BINARY();
  Tally tally;
  int run = 0;
  for (const auto& point : CommitPoints(LongMode() ? 4 : 1)) {
    if (!BinaryHasFaultPoint(point)) {
      std::printf("  %s: not wired into the engine yet, skipped\n", point.c_str());
      continue;
    }
    CrashRun c("casfs-crash-clicommit", SourceSize() / 4 + static_cast<size_t>(run) * 4099, 500 + run);
    std::string ref = "clicommit-" + std::to_string(run++);
    ProcessOptions o;
    o.env = {"CASFS_FAULT=" + point};
    RunResult r = RunCli(c.root(), {"ingest", ref, c.source_path().string()}, seconds(120), o);
    EXPECT_EQ(r.term_signal, SIGKILL) << "the CLI did not die at " << point << ": " << r.description;
    CheckAfterCommitCrash(c, ref, point);
    c.ResumeWithCli(ref, Resume::kCliIngest);
    c.CheckCommitted(ref);
    std::printf("  CLI killed at %s: %s\n", point.c_str(), c.failed() ? "FAILED" : "ok");
    tally.Add(c.failed());
  }
  if (tally.crashes == 0) GTEST_SKIP() << "the engine has no commit fault points yet";
  ReportFigure("crash-during-commit (CLI, fault points)", tally.Text());
  EXPECT_EQ(tally.lost_or_corrupt, 0);
}

}  // namespace
}  // namespace casfs::reltest
