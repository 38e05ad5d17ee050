// Stress: several processes x threads ingesting, reading, labelling,
// deleting and committing the same and different content at once, through
// the mount and the CLI, for a bounded time; and the same mix inside one
// process, many threads on two LocalStore objects over one root (where
// ThreadSanitizer sees the engine's own locking). Afterwards every
// committed blob verifies, every reported commit exists, nobody hung, and
// nothing crashed. Prints operations done and errors seen by kind.
//
// Short by default (CI); CASFS_LONG=1 or CASFS_STRESS_SECONDS=N for more.
// scripts/tsan builds this binary and casfs under ThreadSanitizer and runs
// it; a TSan report in the daemon or in any CLI run fails the test.
//
// The worker processes are this binary again (`--stress-worker ...`), so
// no process forks while it has threads.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/local_store.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/reliability/support/casfs.h"
#include "tests/reliability/support/files.h"
#include "tests/reliability/support/process.h"

namespace casfs::reltest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

double StressSeconds() {
  if (const char* s = std::getenv("CASFS_STRESS_SECONDS"); s != nullptr && *s != '\0') return std::atof(s);
  return LongMode() ? 120.0 : 8.0;
}

// The content every participant draws from. Contents 0..kProtected-1 are
// never deleted, so every commit of one reported as done must still exist
// at the end; the others are deleted and re-added all the time.
constexpr int kContents = 12;
constexpr int kProtected = 6;

std::string ContentOf(int i) {
  static const size_t kSizes[kContents] = {1,        4096,    65536 + 7, 300000, 1 << 20, (2 << 20) + 3,
                                           0,        17,      131072,    999999, 1 << 19, (1 << 20) + 1};
  return RandomBytes(kSizes[i], 7000 + static_cast<uint64_t>(i));
}

// Counts by operation and outcome ("ok", an errno name, "exit 5"), with
// the outcomes that are a failure kept apart.
class Tallies {
 public:
  void Count(const std::string& op, const std::string& outcome, bool expected) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[op][outcome];
    if (!expected) {
      ++unexpected_;
      if (examples_.size() < 20) examples_.push_back(op + ": " + outcome);
    }
  }
  void Commit(const std::string& hex) {
    std::lock_guard<std::mutex> lock(mu_);
    commits_.insert(hex);
    ++commit_count_;
  }
  void Merge(std::istream& in) {
    std::string kind;
    while (in >> kind) {
      if (kind == "count") {
        std::string op, outcome;
        int n = 0;
        in >> op >> outcome >> n;
        counts_[op][outcome] += n;
      } else if (kind == "commit") {
        std::string hex;
        in >> hex;
        commits_.insert(hex);
        ++commit_count_;
      } else if (kind == "unexpected") {
        int n = 0;
        in >> n;
        unexpected_ += n;
      } else if (kind == "example") {
        std::string line;
        std::getline(in, line);
        if (examples_.size() < 20) examples_.push_back(line);
      }
    }
  }
  void Write(std::ostream& out) const {
    for (const auto& [op, outcomes] : counts_) {
      for (const auto& [outcome, n] : outcomes) out << "count " << op << " " << outcome << " " << n << "\n";
    }
    for (const auto& hex : commits_) out << "commit " << hex << "\n";
    out << "unexpected " << unexpected_ << "\n";
    for (const auto& e : examples_) out << "example " << e << "\n";
  }
  int64_t Operations() const {
    int64_t n = 0;
    for (const auto& [op, outcomes] : counts_) {
      for (const auto& [outcome, c] : outcomes) n += c;
    }
    return n;
  }
  // "EBUSY 12, ENOENT 40" over all operations, "ok" left out.
  std::string ErrorsByKind() const {
    std::map<std::string, int64_t> by_kind;
    for (const auto& [op, outcomes] : counts_) {
      for (const auto& [outcome, c] : outcomes) {
        if (outcome != "ok") by_kind[outcome] += c;
      }
    }
    std::string text;
    for (const auto& [kind, c] : by_kind) text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(c);
    return text.empty() ? "none" : text;
  }
  std::string Table() const {
    std::ostringstream out;
    for (const auto& [op, outcomes] : counts_) {
      out << "    " << op << ":";
      for (const auto& [outcome, c] : outcomes) out << " " << outcome << "=" << c;
      out << "\n";
    }
    return out.str();
  }
  // Successful outcomes of the operations whose name contains `part`.
  int64_t OkOf(const std::string& part) const {
    int64_t n = 0;
    for (const auto& [op, outcomes] : counts_) {
      if (op.find(part) == std::string::npos) continue;
      auto ok = outcomes.find("ok");
      if (ok != outcomes.end()) n += ok->second;
    }
    return n;
  }
  const std::set<std::string>& commits() const { return commits_; }
  int64_t commit_count() const { return commit_count_; }
  int64_t unexpected() const { return unexpected_; }
  const std::vector<std::string>& examples() const { return examples_; }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t>> counts_;
  std::set<std::string> commits_;
  int64_t commit_count_ = 0;
  int64_t unexpected_ = 0;
  std::vector<std::string> examples_;
};

// ---------------------------------------------------------------------
// Through the mount and the CLI: one worker process.

struct WorkerConfig {
  fs::path mount, root, contents, out;
  int id = 0;
  int threads = 3;
  double seconds = 8;
};

class Worker {
 public:
  explicit Worker(const WorkerConfig& c) : c_(c) {
    for (int i = 0; i < kContents; ++i) {
      contents_.push_back(ContentOf(i));
      hexes_.push_back(Sha256Hex(contents_.back()));
    }
  }

  int Run() {
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c_.seconds));
    std::vector<std::thread> threads;
    for (int t = 0; t < c_.threads; ++t) {
      threads.emplace_back([this, t, deadline] {
        std::mt19937_64 rng(static_cast<uint64_t>(c_.id) * 1000 + static_cast<uint64_t>(t));
        int n = 0;
        while (Clock::now() < deadline) Step(rng, t, n++);
      });
    }
    for (auto& t : threads) t.join();
    std::ofstream out(c_.out);
    tallies_.Write(out);
    // Sanitizer reports of CLI runs, for the parent's failure message.
    for (const auto& e : examples_) std::fprintf(stderr, "%s\n", e.c_str());
    return 0;
  }

 private:
  fs::path Blob(int i) const { return c_.mount / "blobs/sha256" / hexes_[i]; }
  fs::path ContentFile(int i) const { return c_.contents / ("c" + std::to_string(i)); }

  void CountErr(const std::string& op, int err, std::initializer_list<int> allowed) {
    bool ok = err == 0;
    for (int a : allowed) ok = ok || err == a;
    tallies_.Count(op, ErrnoName(err), ok);
  }

  // The CLI, checked for exit codes and for sanitizer reports.
  // Returns whether the command succeeded (exit 0, right output).
  bool Cli(const std::string& op, std::vector<std::string> args, std::initializer_list<int> allowed,
           const std::string* expect_out = nullptr) {
    RunResult r = RunCli(c_.root, std::move(args), seconds(120));
    if (r.err.find("ThreadSanitizer") != std::string::npos || r.err.find("AddressSanitizer") != std::string::npos ||
        r.err.find("runtime error:") != std::string::npos) {
      tallies_.Count(op, "sanitizer-report", false);
      std::lock_guard<std::mutex> lock(examples_mu_);
      if (examples_.size() < 3) examples_.push_back(r.err.substr(0, 4000));
      return false;
    }
    bool ok = r.exit_code == 0;
    for (int a : allowed) ok = ok || r.exit_code == a;
    std::string outcome = r.timed_out ? "timeout" : r.exit_code == 0 ? "ok" : "exit" + std::to_string(r.exit_code);
    if (r.exit_code == 0 && expect_out != nullptr && r.out != *expect_out) {
      outcome = "WRONG-CONTENT";
      ok = false;
    }
    tallies_.Count(op, outcome, ok);
    return outcome == "ok";
  }

  // Writes content i into ingest/<ref> in chunks, some out of order, then
  // commits it with rename. Shared refs ("shared-c<i>", always content i)
  // meet other writers: EBUSY, and ENOENT once someone else committed.
  void MountIngest(std::mt19937_64& rng, int i, const std::string& ref, bool shared) {
    const std::string op = shared ? "mount-ingest-shared" : "mount-ingest";
    fs::path file = c_.mount / "ingest" / ref;
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // A shared ref that the CLI committed behind the mount's back can still
    // have a cached entry (the contract allows 1 s), so O_CREAT opens the
    // vanished ingest and gets ENOENT instead of creating it. And an open
    // that races another thread's `mv` of the same ingest into blobs/ can
    // resolve the name to the file just before the rename moves it: the
    // open then reaches what is by now a blob, which opens read-only
    // (EPERM), as open(2) racing rename(2) reaches the moved file anywhere.
    if (fd < 0) {
      return CountErr(op + "-open", errno,
                      shared ? std::initializer_list<int>{EBUSY, ENOENT, EPERM} : std::initializer_list<int>{});
    }
    const std::string& data = contents_[i];
    // Chunks of random size; every third ingest writes its second half first.
    std::vector<std::pair<size_t, size_t>> chunks;
    for (size_t off = 0; off < data.size();) {
      size_t len = std::min(data.size() - off, static_cast<size_t>(1 + rng() % 200000));
      chunks.emplace_back(off, len);
      off += len;
    }
    if (rng() % 3 == 0) std::reverse(chunks.begin(), chunks.end());
    int err = 0;
    for (auto [off, len] : chunks) {
      if (pwrite(fd, data.data() + off, len, static_cast<off_t>(off)) != static_cast<ssize_t>(len)) {
        err = errno;
        break;
      }
    }
    if (close(fd) != 0 && err == 0) err = errno;
    if (err != 0) return CountErr(op + "-write", err, {});
    int rc = rename(file.c_str(), Blob(i).c_str()) == 0 ? 0 : errno;
    CountErr(op + "-commit", rc, shared ? std::initializer_list<int>{EBUSY, ENOENT} : std::initializer_list<int>{});
    if (rc == 0 && i < kProtected) tallies_.Commit(hexes_[i]);
  }

  void MountRead(int i) {
    int fd = open(Blob(i).c_str(), O_RDONLY);
    if (fd < 0) return CountErr("mount-read", errno, {ENOENT});
    std::string got;
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err != 0) return CountErr("mount-read", err, {});
    bool right = got == contents_[i];
    tallies_.Count("mount-read", right ? "ok" : "WRONG-CONTENT", right);
  }

  void Step(std::mt19937_64& rng, int t, int n) {
    int i = static_cast<int>(rng() % kContents);
    int churn = kProtected + static_cast<int>(rng() % (kContents - kProtected));
    std::string tag = std::to_string(c_.id) + "-" + std::to_string(t) + "-" + std::to_string(n);
    switch (rng() % 16) {
      case 0:
      case 1: MountIngest(rng, i, "w" + tag, false); break;
      case 2:
      case 3: MountIngest(rng, i, "shared-c" + std::to_string(i), true); break;
      case 4:
      case 5: MountRead(i); break;
      case 6: {
        int rc = SetXattr(Blob(i), "user.stress." + std::to_string(t % 4), tag);
        CountErr("mount-label", rc, {ENOENT});
        break;
      }
      case 7: {
        auto list = ListXattrs(Blob(i));
        CountErr("mount-listxattr", list.err, {ENOENT});
        break;
      }
      case 8: CountErr("mount-delete", unlink(Blob(churn).c_str()) == 0 ? 0 : errno, {ENOENT}); break;
      case 9: {
        std::error_code ec;
        for (const char* sub : {"blobs/sha256", "ingest"}) {
          for (const auto& e : fs::directory_iterator(c_.mount / sub, ec)) (void)e;
        }
        CountErr("mount-readdir", ec.value(), {});
        break;
      }
      case 10: {
        int rc = unlink((c_.mount / "ingest" / ("shared-c" + std::to_string(i))).c_str()) == 0 ? 0 : errno;
        CountErr("mount-abort-shared", rc, {ENOENT, EBUSY});
        break;
      }
      case 11:
        if (rng() % 2) {
          if (Cli("cli-ingest", {"ingest", "cli" + tag, ContentFile(i).string()}, {}) && i < kProtected) {
            tallies_.Commit(hexes_[i]);
          }
        } else {
          if (Cli("cli-ingest-shared", {"ingest", "shared-c" + std::to_string(i), ContentFile(i).string()}, {5}) &&
              i < kProtected) {
            tallies_.Commit(hexes_[i]);
          }
        }
        break;
      case 12: Cli("cli-cat", {"cat", "sha256:" + hexes_[i]}, {3}, &contents_[i]); break;
      case 13: Cli("cli-label", {"label", "sha256:" + hexes_[i], "cli.stress=" + tag}, {3}); break;
      case 14: Cli("cli-rm", {"rm", "sha256:" + hexes_[churn]}, {3}); break;
      case 15:
        switch (rng() % 3) {
          case 0: Cli("cli-ls", {"ls"}, {}); break;
          case 1: Cli("cli-active", {"active"}, {}); break;
          default: Cli("cli-add", {"add", ContentFile(churn).string()}, {}); break;
        }
        break;
    }
  }

  WorkerConfig c_;
  std::vector<std::string> contents_;
  std::vector<std::string> hexes_;
  Tallies tallies_;
  std::mutex examples_mu_;
  std::vector<std::string> examples_;  // guarded by examples_mu_
};

std::string g_self;  // this binary, for the worker processes

TEST(Stress, MountAndCliProcessesAndThreads) {
  CASFS_REQUIRE_FUSE();
  const int processes = LongMode() ? 4 : 2;
  const int threads = LongMode() ? 4 : 3;
  const double duration = StressSeconds();
  TempDir dir("casfs-stress");
  fs::path root = dir / "root";
  fs::create_directories(dir / "contents");
  for (int i = 0; i < kContents; ++i) ASSERT_TRUE(WriteFile(dir / "contents" / ("c" + std::to_string(i)), ContentOf(i)));
  std::string error;
  Mount::Options mo;
  mo.hang_timeout = std::chrono::seconds(static_cast<int>(duration) + 240);
  // Every errno the mount answers is logged with its handler: an
  // unexpected outcome below comes with the lines that explain it.
  mo.args = {"--log-level", "debug"};
  auto m = Mount::Start(root, dir / "mnt", mo, &error);
  ASSERT_TRUE(m) << error;

  std::vector<Process> workers;
  for (int p = 0; p < processes; ++p) {
    workers.push_back(Process::Spawn({g_self, "--stress-worker", m->mountpoint().string(), root.string(),
                                      (dir / "contents").string(), (dir / ("out" + std::to_string(p))).string(),
                                      std::to_string(p), std::to_string(threads), std::to_string(duration)}));
  }
  bool hung = false;
  for (auto& w : workers) {
    if (!w.Wait(std::chrono::seconds(static_cast<int>(duration) + 180))) {
      hung = true;
      ADD_FAILURE() << "a worker did not finish: deadlock or hang; " << w.Describe();
    }
  }
  if (hung) m->KillDaemon(SIGKILL);  // unblocks whatever waits on the mount
  Tallies all;
  for (int p = 0; p < processes; ++p) {
    EXPECT_EQ(workers[p].exit_code(), 0) << workers[p].Describe();
    std::ifstream in(dir / ("out" + std::to_string(p)));
    all.Merge(in);
  }
  bool daemon_alive = m->DaemonRunning();
  EXPECT_TRUE(daemon_alive) << "the daemon died during the stress: " << m->daemon().Describe();

  // Every committed blob verifies (from outside, and by casfs verify), and
  // every commit reported of a never-deleted content exists.
  BlobAudit audit = AuditBlobs(root);
  for (const auto& bad : audit.bad) ADD_FAILURE() << "bad blob after stress: " << bad;
  int missing = 0;
  for (const auto& hex : all.commits()) {
    if (!fs::exists(BlobPath(root, hex))) {
      ++missing;
      ADD_FAILURE() << "reported commit sha256:" << hex << " does not exist";
    }
  }
  RunResult verify = RunCli(root, {"verify"}, seconds(300));
  EXPECT_TRUE(verify.ok()) << verify.description << verify.out;
  RunResult active = RunCli(root, {"active"}, seconds(60));
  EXPECT_TRUE(active.ok()) << active.description;
  int daemon_exit = m->Unmount(std::chrono::seconds(60));
  EXPECT_EQ(daemon_exit, 0) << "the daemon did not exit cleanly: " << m->daemon().Describe();
  std::string log = m->Log();
  // The report itself, not the debug lines before it.
  auto report_of = [&log](const char* tool) {
    size_t at = log.find(std::string("WARNING: ") + tool);
    if (at == std::string::npos) at = log.find(std::string("ERROR: ") + tool);
    return at == std::string::npos ? std::string() : log.substr(at, 30000);
  };
  EXPECT_EQ(log.find("ThreadSanitizer"), std::string::npos) << "TSan report in the daemon:\n"
                                                              << report_of("ThreadSanitizer");
  EXPECT_EQ(log.find("AddressSanitizer"), std::string::npos) << report_of("AddressSanitizer");
  for (const auto& e : all.examples()) {
    const std::string err = e.substr(e.rfind(' ') + 1);
    std::string lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line) && lines.size() < 4000;) {
      if (line.find(": " + err) != std::string::npos) lines += line + "\n";
    }
    ADD_FAILURE() << "unexpected outcome: " << e << "\nthe mount's answers with " << err << ":\n" << lines;
  }
  EXPECT_EQ(all.unexpected(), 0);

  std::printf("  operations by kind and outcome:\n%s", all.Table().c_str());
  ReportFigure("stress (mount + CLI, " + std::to_string(processes) + " processes x " + std::to_string(threads) +
                   " threads, " + std::to_string(static_cast<int>(duration)) + " s)",
               std::to_string(all.Operations()) + " operations (" +
                   std::to_string(all.OkOf("commit") + all.OkOf("cli-ingest") + all.OkOf("cli-add")) +
                   " commits); errors by kind: " + all.ErrorsByKind() + "; " +
                   std::to_string(all.unexpected()) + " unexpected; " + std::to_string(all.commits().size()) +
                   " never-deleted digests reported committed, " + std::to_string(missing) + " missing; " +
                   std::to_string(audit.blobs) + " blobs at the end, " + std::to_string(audit.bad.size()) +
                   " bad; " + (hung ? "HUNG" : "no deadlock") + ", " +
                   (daemon_alive && daemon_exit == 0 ? "no crash" : "DAEMON FAILED"));
}

// ---------------------------------------------------------------------
// Inside one process: threads on two LocalStore objects over one root.

TEST(Stress, EngineThreads) {
  // The engine logs through spdlog, whose registry libspdlog makes on first
  // use. That static's thread-safe initialisation is inside the (not
  // instrumented) library, so ThreadSanitizer would see the threads below
  // race on it: make it here, before them.
  (void)spdlog::default_logger();
  const int threads = LongMode() ? 8 : 6;
  // Bounded apart from the mount run unless a duration was asked for
  // (scripts/tsan asks, so that the engine gets the whole time too).
  const bool asked = std::getenv("CASFS_STRESS_SECONDS") != nullptr;
  const double duration = asked ? StressSeconds() : (LongMode() ? 60.0 : 5.0);
  TempDir dir("casfs-stress-engine");
  auto a = LocalStore::Open(dir / "root");
  auto b = LocalStore::Open(dir / "root");
  ASSERT_TRUE(a.ok() && b.ok());
  LocalStore* stores[2] = {a->get(), b->get()};
  std::vector<std::string> contents;
  std::vector<Digest> digests;
  for (int i = 0; i < kContents; ++i) {
    contents.push_back(ContentOf(i));
    digests.push_back(*Digest::Parse(Sha256Digest(contents.back())));
  }
  Tallies tallies;
  auto count = [&](const std::string& op, const Status& s, std::initializer_list<ErrorKind> allowed) {
    bool ok = s.ok();
    for (auto k : allowed) ok = ok || s.Is(k);
    tallies.Count(op, s.ok() ? "ok" : std::string(KindName(s.kind())).c_str(), ok);
    if (!ok) std::fprintf(stderr, "  %s: %s\n", op.c_str(), s.ToString().c_str());
  };
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 99);
      for (int n = 0; Clock::now() < deadline; ++n) {
        LocalStore& store = *stores[rng() % 2];
        int i = static_cast<int>(rng() % kContents);
        int churn = kProtected + static_cast<int>(rng() % (kContents - kProtected));
        bool shared = rng() % 2;
        std::string ref = shared ? "shared-c" + std::to_string(i) : "t" + std::to_string(t) + "-" + std::to_string(n);
        switch (rng() % 10) {
          case 0:
          case 1:
          case 2: {
            LocalWriterOptions o;
            o.ref = ref;
            o.lock_wait = std::chrono::milliseconds(rng() % 2 ? 0 : 20);
            auto w = store.OpenWriter(o);
            if (!w.ok()) {
              count(shared ? "writer-open-shared" : "writer-open", w.status(),
                    shared ? std::initializer_list<ErrorKind>{ErrorKind::kUnavailable, ErrorKind::kNotFound}
                           : std::initializer_list<ErrorKind>{});
              break;
            }
            // Another writer may have left part of it: start over.
            Status s = (*w)->Truncate(0);
            const std::string& data = contents[i];
            size_t half = data.size() / 2;
            if (s.ok() && rng() % 2) {
              s = (*w)->WriteAt(static_cast<int64_t>(half), data.data() + half, data.size() - half);
              if (s.ok()) s = (*w)->WriteAt(0, data.data(), half);
            } else if (s.ok()) {
              s = (*w)->Write(data.data(), data.size());
            }
            if (!s.ok()) {
              count("writer-write", s, {});
              break;
            }
            if (rng() % 4 == 0) {
              count("writer-close", (*w)->Close(), {});
              break;
            }
            Status c = (*w)->Commit(static_cast<int64_t>(data.size()), digests[i]);
            count(shared ? "writer-commit-shared" : "writer-commit", c, {ErrorKind::kAlreadyExists});
            if ((c.ok() || c.IsAlreadyExists()) && i < kProtected) tallies.Commit(digests[i].hex());
            break;
          }
          case 3:
          case 4: {
            auto r = store.ReaderAt(digests[i]);
            if (!r.ok()) {
              count("read", r.status(), {ErrorKind::kNotFound});
              break;
            }
            std::string got(static_cast<size_t>((*r)->Size()), '\0');
            auto n = (*r)->ReadAt(got.data(), got.size(), 0);
            bool right = n.ok() && *n == got.size() && got == contents[i];
            tallies.Count("read", right ? "ok" : "WRONG-CONTENT", right);
            break;
          }
          case 5:
            count("label", store.SetLabel(digests[i], "k" + std::to_string(t % 3), std::to_string(n)),
                  {ErrorKind::kNotFound});
            break;
          case 6: count("delete", store.Delete(digests[churn]), {}); break;
          case 7: {
            int64_t seen = 0;
            Status s = store.Walk([&](const BlobInfo&) {
              ++seen;
              return Status::Ok();
            });
            count("walk", s, {});
            break;
          }
          case 8: {
            auto l = store.ListStatuses();
            count("list-statuses", l.ok() ? Status::Ok() : l.status(), {});
            break;
          }
          case 9:
            count("abort-shared", store.Abort("shared-c" + std::to_string(i)), {ErrorKind::kUnavailable});
            break;
        }
      }
    });
  }
  for (auto& t : pool) t.join();

  BlobAudit audit = AuditBlobs(dir / "root");
  for (const auto& bad : audit.bad) ADD_FAILURE() << "bad blob: " << bad;
  int missing = 0;
  for (const auto& hex : tallies.commits()) {
    if (!fs::exists(BlobPath(dir / "root", hex))) {
      ++missing;
      ADD_FAILURE() << "reported commit sha256:" << hex << " does not exist";
    }
  }
  for (const auto& e : tallies.examples()) ADD_FAILURE() << "unexpected outcome: " << e;
  std::printf("  operations by kind and outcome:\n%s", tallies.Table().c_str());
  ReportFigure("stress (engine, " + std::to_string(threads) + " threads on 2 stores, " +
                   std::to_string(static_cast<int>(duration)) + " s)",
               std::to_string(tallies.Operations()) + " operations (" + std::to_string(tallies.OkOf("commit")) +
                   " commits); errors by kind: " + tallies.ErrorsByKind() +
                   "; " + std::to_string(tallies.unexpected()) + " unexpected; " +
                   std::to_string(tallies.commits().size()) + " never-deleted digests reported committed, " +
                   std::to_string(missing) + " missing; " + std::to_string(audit.blobs) + " blobs, " +
                   std::to_string(audit.bad.size()) + " bad");
}

}  // namespace
}  // namespace casfs::reltest

int main(int argc, char** argv) {
  std::error_code ec;
  casfs::reltest::g_self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) casfs::reltest::g_self = argv[0];
  if (argc == 9 && std::string(argv[1]) == "--stress-worker") {
    casfs::reltest::WorkerConfig c;
    c.mount = argv[2];
    c.root = argv[3];
    c.contents = argv[4];
    c.out = argv[5];
    c.id = std::atoi(argv[6]);
    c.threads = std::atoi(argv[7]);
    c.seconds = std::atof(argv[8]);
    return casfs::reltest::Worker(c).Run();
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
