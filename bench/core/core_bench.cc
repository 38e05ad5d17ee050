// core_bench: the engine against its native baselines, and against
// containerd's own local store, in one run.
//
//   (a) digest throughput: casfs::Digester and casfs::ResumableSha256 vs
//       OpenSSL EVP on the same warm buffer
//   (b) ingest of one large blob from memory: casfs Writer (OpenWriter,
//       1 MiB Writes, Commit) vs write + EVP + fsync + rename, and vs
//       containerd's store (bench/containerd, if --ctrbench is given)
//   (c) many small ingests (10,000 x 4 KiB): the same three, plus the plain
//       loop without fsync and with a folder fsync, for context
//   (e) resume of a 256 MiB ingest, with and without a valid hash
//       checkpoint (casfs.hashstate), beside a native re-read + hash
//
// Every case: one warm-up round (not counted), then --rounds rounds in which
// the contenders take turns, the order rotating each round; medians,
// ranges, and ratios paired within a round. One buffer is allocated and
// touched before anything is timed and reused throughout (fresh memory on
// these machines costs ~2 s/GiB to fault in). Small-file rounds each get a
// fresh folder (ext4 creates slowly in a folder just emptied). Large files
// are deleted right before the next write, so their page cache is recycled
// at once rather than handed back to the host and faulted in again.
//
// Not a pass/fail test: it prints figures and whether each target was met.
#include <fcntl.h>
#include <spawn.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/core/measure.h"
#include "bench/core/native.h"
#include "core/digester.h"
#include "core/layout.h"
#include "core/local_store.h"
#include "core/sha256_resumable.h"

extern char** environ;

namespace casfs::bench {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kGiB = size_t{1} << 30;

struct Config {
  fs::path parent = "/var/tmp";
  int rounds = 5;
  bool quick = false;
  std::string ctrbench;  // path of bench/containerd's binary; empty: skip containerd
  std::string cases = "abce";
  size_t digest_bytes = 512 * kMiB;
  size_t large_bytes = kGiB;
  int small_count = 10'000;
  size_t small_bytes = 4096;
  size_t resume_bytes = 256 * kMiB;
};

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + status.ToString());
}

template <typename T>
T Take(Result<T> result, const std::string& what) {
  if (!result.ok()) Die(what + ": " + result.status().ToString());
  return std::move(result).value();
}

// Deterministic, incompressible bytes (xorshift64*), so every 4 KiB slice
// is a distinct blob.
void Fill(char* p, size_t size) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= size; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t v = x * 0x2545f4914f6cdd1dull;
    std::memcpy(p + i, &v, 8);
  }
}

// Runs each contender once per round, rotating who goes first, after one
// warm-up round. Each contender returns its figure for the round.
void Alternate(int rounds, const std::vector<std::function<double()>>& contenders,
               std::vector<Samples>* samples) {
  samples->assign(contenders.size(), Samples());
  for (int round = -1; round < rounds; ++round) {
    for (size_t k = 0; k < contenders.size(); ++k) {
      size_t i = (k + static_cast<size_t>(std::max(round, 0))) % contenders.size();
      double v = contenders[i]();
      if (round >= 0) (*samples)[i].Add(v);
    }
  }
}

std::unique_ptr<LocalStore> OpenStore(const fs::path& root) {
  return Take(LocalStore::Open(root), "open store " + root.string());
}

void WriteFile(const fs::path& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(data, static_cast<std::streamsize>(size));
  if (!out) Die("cannot write " + path.string());
}

// Runs bench/containerd's program; returns the seconds it reports for the
// timed part (the data is already in its memory then).
double RunCtrbench(const Config& config, const std::vector<std::string>& args,
                   const fs::path& scratch) {
  std::vector<std::string> argv = {config.ctrbench};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  fs::path out = scratch / "ctrbench.out", err = scratch / "ctrbench.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) Die("cannot start " + config.ctrbench + ": " + std::strerror(rc));
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  std::ifstream out_in(out), err_in(err);
  std::stringstream out_text, err_text;
  out_text << out_in.rdbuf();
  err_text << err_in.rdbuf();
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) Die("ctrbench failed: " + err_text.str());
  nlohmann::json report = nlohmann::json::parse(out_text.str(), nullptr, false);
  if (report.is_discarded() || !report.contains("seconds")) Die("ctrbench printed " + out_text.str());
  return report["seconds"].get<double>();
}

// --- (a) digest throughput -------------------------------------------------

void BenchDigest(const Config& config, const char* buf) {
  const size_t size = config.digest_bytes;
  PrintHeading("(a) sha256 throughput, warm buffer of " + std::to_string(size / kMiB) +
               " MiB, 1 MiB updates");
  const std::string want = EvpSha256Hex(buf, size, kMiB);
  auto check = [&](const Digest& d, const char* who) {
    if (d.hex() != want) Die(std::string(who) + " computed a different sha256");
  };
  std::vector<Samples> s;
  Alternate(config.rounds,
            {
                [&] {
                  Stopwatch t;
                  std::string hex = EvpSha256Hex(buf, size, kMiB);
                  double rate = static_cast<double>(size) / t.Seconds();
                  if (hex != want) Die("EVP is not deterministic");
                  return rate;
                },
                [&] {
                  Stopwatch t;
                  Digester d(Algorithm::kSha256);
                  for (size_t off = 0; off < size; off += kMiB) d.Update(buf + off, kMiB);
                  Digest result = d.Current();
                  double rate = static_cast<double>(size) / t.Seconds();
                  check(result, "Digester");
                  return rate;
                },
                [&] {
                  Stopwatch t;
                  ResumableSha256 r;
                  for (size_t off = 0; off < size; off += kMiB) r.Update(buf + off, kMiB);
                  Digest result = r.Current();
                  double rate = static_cast<double>(size) / t.Seconds();
                  check(result, "ResumableSha256");
                  return rate;
                },
            },
            &s);
  PrintFigure("OpenSSL EVP_sha256 (baseline)", s[0], Unit::kGBps);
  PrintFigure("casfs::Digester", s[1], Unit::kGBps);
  PrintFigure("casfs::ResumableSha256", s[2], Unit::kGBps);
  PrintRatio("Digester / EVP", PairedRatios(s[1], s[0]), 0.95);
  PrintRatio("ResumableSha256 / EVP", PairedRatios(s[2], s[0]), 0.95);
}

// --- (b) one large ingest --------------------------------------------------

void BenchLarge(const Config& config, const char* buf, const fs::path& ws) {
  const size_t size = config.large_bytes;
  PrintHeading("(b) ingest of " + std::to_string(size / kMiB) +
               " MiB from memory, 1 MiB writes, durable commit");
  const std::string hex = EvpSha256Hex(buf, size, kMiB);
  const Digest digest = Take(Digest::Parse("sha256:" + hex), "digest");

  fs::path plain_dir = ws / "large-plain";
  fs::create_directories(plain_dir);
  std::unique_ptr<LocalStore> store = OpenStore(ws / "large-casfs");
  fs::path ctr_root = ws / "large-ctr", ctr_data = ws / "large.bin";
  const bool with_ctr = !config.ctrbench.empty();
  if (with_ctr) WriteFile(ctr_data, buf, size);

  std::vector<std::function<double()>> contenders = {
      [&] {
        fs::remove(plain_dir / hex);
        Stopwatch t;
        fs::path out = PlainIngest(plain_dir, "ingest.tmp", buf, size, {});
        double rate = static_cast<double>(size) / t.Seconds();
        if (out.filename() != hex) Die("plain ingest named " + out.string());
        return rate;
      },
      [&] {
        Check(store->Delete(digest), "delete");
        WriterOptions options;
        options.ref = "bench-large";
        options.total = static_cast<int64_t>(size);
        Stopwatch t;
        std::unique_ptr<Writer> w = Take(store->OpenWriter(options), "OpenWriter");
        for (size_t off = 0; off < size; off += kMiB) Check(w->Write(buf + off, kMiB), "Write");
        Check(w->Commit(static_cast<int64_t>(size), std::nullopt), "Commit");
        double rate = static_cast<double>(size) / t.Seconds();
        if (!fs::exists(store->layout().BlobPath(digest))) Die("casfs committed elsewhere");
        return rate;
      },
  };
  // ctrbench clears its root itself, after loading the data and right
  // before its clock starts (the same page-cache recycling as above).
  if (with_ctr) {
    contenders.push_back([&] {
      double seconds = RunCtrbench(config, {"large", ctr_root, ctr_data}, ws);
      return static_cast<double>(size) / seconds;
    });
  }
  std::vector<Samples> s;
  Alternate(config.rounds, contenders, &s);
  PrintFigure("plain write+EVP+fsync+rename (baseline)", s[0], Unit::kGBps);
  PrintFigure("casfs Writer: OpenWriter, Write, Commit", s[1], Unit::kGBps);
  if (with_ctr) PrintFigure("containerd 1.6 local store (Go)", s[2], Unit::kGBps);
  PrintRatio("casfs / plain", PairedRatios(s[1], s[0]), 0.90);
  if (with_ctr) {
    PrintRatio("casfs / containerd", PairedRatios(s[1], s[2]), 1.0);
    PrintRatio("containerd / plain (context)", PairedRatios(s[2], s[0]));
  }
  store.reset();
  fs::remove_all(plain_dir);
  fs::remove_all(ws / "large-casfs");
  fs::remove_all(ctr_root);
  fs::remove(ctr_data);
}

// --- (c) many small ingests ------------------------------------------------

void BenchSmall(const Config& config, const char* buf, const fs::path& ws) {
  const int count = config.small_count;
  const size_t size = config.small_bytes;
  PrintHeading("(c) " + std::to_string(count) + " ingests of " + std::to_string(size) +
               " bytes, a fresh folder per round");
  fs::path base = ws / "small";
  fs::create_directories(base);
  fs::path ctr_data = base / "small.bin";
  const bool with_ctr = !config.ctrbench.empty();
  if (with_ctr) WriteFile(ctr_data, buf, static_cast<size_t>(count) * size);

  int folder = 0;
  auto fresh = [&](const char* side) {
    fs::path dir = base / (std::string(side) + "-" + std::to_string(folder++));
    fs::create_directories(dir);
    return dir;
  };
  auto plain = [&](PlainIngestOptions options, const char* side) {
    options.chunk = size;
    return [&, options, side] {
      fs::path dir = fresh(side);
      Stopwatch t;
      for (int i = 0; i < count; ++i) {
        PlainIngest(dir, "ingest.tmp", buf + static_cast<size_t>(i) * size, size, options);
      }
      return count / t.Seconds();
    };
  };
  std::vector<std::function<double()>> contenders = {
      plain({.fsync_file = true}, "plain-fsync"),
      [&] {
        fs::path root = fresh("casfs");
        std::unique_ptr<LocalStore> store = OpenStore(root);
        WriterOptions options;
        options.total = static_cast<int64_t>(size);
        Stopwatch t;
        for (int i = 0; i < count; ++i) {
          options.ref = "bench-small-" + std::to_string(i);
          std::unique_ptr<Writer> w = Take(store->OpenWriter(options), "OpenWriter");
          Check(w->Write(buf + static_cast<size_t>(i) * size, size), "Write");
          Check(w->Commit(static_cast<int64_t>(size), std::nullopt), "Commit");
        }
        return count / t.Seconds();
      },
      plain({.fsync_file = false}, "plain-nofsync"),
      plain({.fsync_file = true, .fsync_folder = true}, "plain-fsync-dir"),
  };
  if (with_ctr) {
    contenders.push_back([&] {
      fs::path root = fresh("ctr");
      double seconds = RunCtrbench(
          config, {"small", root, ctr_data, std::to_string(count), std::to_string(size)}, ws);
      return count / seconds;
    });
  }
  std::vector<Samples> s;
  Alternate(config.rounds, contenders, &s);
  PrintFigure("plain create+write+EVP+fsync+rename (baseline)", s[0], Unit::kOpsPerSecond);
  PrintFigure("casfs Writer: OpenWriter, Write, Commit", s[1], Unit::kOpsPerSecond);
  PrintFigure("plain, no fsync (context)", s[2], Unit::kOpsPerSecond);
  PrintFigure("plain, fsync file and folder (context)", s[3], Unit::kOpsPerSecond);
  if (with_ctr) PrintFigure("containerd 1.6 local store (Go)", s[4], Unit::kOpsPerSecond);
  PrintRatio("casfs / plain with fsync", PairedRatios(s[1], s[0]));
  PrintRatio("casfs / plain with file+folder fsync", PairedRatios(s[1], s[3]));
  PrintRatio("casfs / plain without fsync", PairedRatios(s[1], s[2]));
  if (with_ctr) {
    PrintRatio("casfs / containerd", PairedRatios(s[1], s[4]), 1.0);
    PrintRatio("containerd / plain with fsync (context)", PairedRatios(s[4], s[0]));
  }
  fs::remove_all(base);
}

// --- (e) resume ------------------------------------------------------------

void BenchResume(const Config& config, const char* buf, const fs::path& ws) {
  const size_t size = config.resume_bytes;
  PrintHeading("(e) resume of a " + std::to_string(size / kMiB) +
               " MiB ingest: OpenWriter + CurrentDigest");
  const std::string hex = EvpSha256Hex(buf, size, kMiB);
  std::unique_ptr<LocalStore> store = OpenStore(ws / "resume");
  const std::string ref = "bench-resume";
  {
    WriterOptions options;
    options.ref = ref;
    std::unique_ptr<Writer> w = Take(store->OpenWriter(options), "OpenWriter");
    for (size_t off = 0; off < size; off += kMiB) Check(w->Write(buf + off, kMiB), "Write");
    Check(w->Close(), "Close");
  }
  const fs::path ingest = store->layout().IngestDir(ref);
  const fs::path checkpoint = ingest / Layout::kHashStateFile;
  std::unique_ptr<char[]> scratch(new char[kMiB]);

  auto resume = [&](bool with_checkpoint) {
    if (with_checkpoint && !fs::exists(checkpoint)) Die("Close left no " + checkpoint.string());
    if (!with_checkpoint) fs::remove(checkpoint);
    LocalWriterOptions options;
    options.ref = ref;
    options.mode = IngestOpenMode::kResumeOnly;
    Stopwatch t;
    std::unique_ptr<Writer> w = Take(store->OpenWriter(options), "resume");
    Digest d = Take(w->CurrentDigest(), "CurrentDigest");
    double seconds = t.Seconds();
    if (d.hex() != hex) Die("resume computed a different sha256");
    Check(w->Close(), "Close");  // writes the checkpoint again
    return seconds;
  };
  std::vector<Samples> s;
  Alternate(config.rounds,
            {
                [&] { return resume(true); },
                [&] { return resume(false); },
                [&] {
                  Stopwatch t;
                  std::string got = PlainRehash(ingest / Layout::kDataFile, scratch.get());
                  double seconds = t.Seconds();
                  if (got != hex) Die("re-read gave a different sha256");
                  return seconds;
                },
            },
            &s);
  PrintFigure("casfs, valid checkpoint", s[0], Unit::kMilliseconds);
  PrintFigure("casfs, no checkpoint (re-reads the data)", s[1], Unit::kMilliseconds);
  PrintFigure("native pread + EVP of the data (context)", s[2], Unit::kMilliseconds);
  PrintRatio("speed-up from the checkpoint (no / with)", PairedRatios(s[1], s[0]));
  PrintRatio("no checkpoint / native re-read (time)", PairedRatios(s[1], s[2]));
  store.reset();
  fs::remove_all(ws / "resume");
}

void PrintMachine(const Config& config, const fs::path& ws) {
  struct utsname u{};
  uname(&u);
  std::string cpu = "?";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  struct statfs sf{};
  statfs(ws.c_str(), &sf);
  char when[64];
  std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  std::printf("core_bench  %s\n", when);
  std::printf("  machine: %s, %ld cpus, %s %s\n", cpu.c_str(), sysconf(_SC_NPROCESSORS_ONLN),
              u.sysname, u.release);
  std::printf("  work dir: %s (filesystem type 0x%lx%s)\n", ws.c_str(),
              static_cast<unsigned long>(sf.f_type), sf.f_type == 0xEF53 ? ", ext4" : "");
  std::printf("  rounds: %d after 1 warm-up, contenders alternate, order rotating%s\n",
              config.rounds, config.quick ? "  [--quick: smaller sizes, not for the record]" : "");
  std::ifstream loadavg("/proc/loadavg");
  std::string load1, load5, load15;
  loadavg >> load1 >> load5 >> load15;
  std::printf("  load average at start: %s %s %s (other work on the machine skews every figure)\n",
              load1.c_str(), load5.c_str(), load15.c_str());
  std::printf("  containerd: %s\n", config.ctrbench.empty() ? "not measured (no --ctrbench)"
                                                             : config.ctrbench.c_str());
}

int Main(int argc, char** argv) {
  Config config;
  CLI::App app{"casfs engine benchmark: casfs vs native baselines and containerd, side by side"};
  app.add_option("--dir", config.parent, "where to make the work folder (same filesystem as a store)");
  app.add_option("--rounds", config.rounds, "counted rounds per case (after one warm-up)")
      ->check(CLI::Range(1, 100));
  app.add_flag("--quick", config.quick, "smaller sizes and 3 rounds: a smoke run");
  app.add_option("--ctrbench", config.ctrbench, "bench/containerd binary; without it containerd is skipped");
  app.add_option("--cases", config.cases, "which cases to run, e.g. abce");
  CLI11_PARSE(app, argc, argv);
  if (config.quick) {
    if (app.count("--rounds") == 0) config.rounds = 3;
    config.digest_bytes = 128 * kMiB;
    config.large_bytes = 256 * kMiB;
    config.small_count = 1000;
    config.resume_bytes = 64 * kMiB;
  }
  for (char c : config.cases) {
    if (std::string_view("abce").find(c) == std::string_view::npos) {
      Die(std::string("unknown case '") + c + "' (a, b, c, e)");
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  std::string tmpl = (config.parent / "casfs-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) DieErrno("mkdtemp " + tmpl);
  const fs::path ws = tmpl;
  PrintMachine(config, ws);

  // One buffer for every case, touched before anything is timed.
  const size_t buffer_size = std::max({config.digest_bytes, config.large_bytes, config.resume_bytes,
                                       static_cast<size_t>(config.small_count) * config.small_bytes});
  std::unique_ptr<char[]> buffer(new char[buffer_size]);
  Fill(buffer.get(), buffer_size);

  for (char c : config.cases) {
    switch (c) {
      case 'a': BenchDigest(config, buffer.get()); break;
      case 'b': BenchLarge(config, buffer.get(), ws); break;
      case 'c': BenchSmall(config, buffer.get(), ws); break;
      case 'e': BenchResume(config, buffer.get(), ws); break;
      default: break;  // checked above
    }
  }
  fs::remove_all(ws);
  return 0;
}

}  // namespace
}  // namespace casfs::bench

int main(int argc, char** argv) { return casfs::bench::Main(argc, argv); }
