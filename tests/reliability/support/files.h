// Files, digests and store checks for the reliability tests.
//
// These helpers look at a store root from outside, the way an auditor
// would: they read the backing files directly and recompute every digest
// themselves (OpenSSL), never trusting casfs to check itself.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace casfs::reltest {

namespace fs = std::filesystem;

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on
// destruction. Anything still mounted below it is lazily unmounted first,
// and removal never crosses into another filesystem.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "casfs-rel");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Whole-file I/O. ReadFile: nullopt if the file cannot be read.
std::optional<std::string> ReadFile(const fs::path& path);
bool WriteFile(const fs::path& path, const std::string& data);
// Size of a file, or -1 if it does not exist.
int64_t FileSize(const fs::path& path);

// Deterministic pseudo-random bytes (the same seed gives the same bytes).
std::string RandomBytes(size_t size, uint64_t seed);

// Lowercase hex digests.
std::string Sha256Hex(const std::string& data);
std::string HexDigest(const std::string& algorithm, const std::string& data);  // sha256/384/512
// "sha256:<hex>".
std::string Sha256Digest(const std::string& data);

// The ingest folder of a ref (containerd's rule: sha256 of the raw ref).
fs::path IngestDir(const fs::path& root, const std::string& ref);
fs::path IngestData(const fs::path& root, const std::string& ref);
fs::path BlobPath(const fs::path& root, const std::string& hex, const std::string& alg = "sha256");

// Every file under <root>/blobs, checked from outside: its folder must be a
// known algorithm, its name a valid digest of it, and its content must hash
// to its name. `bad` lists each violation ("blobs/sha256/ab..: content
// hashes to ..."); a partial or unverified blob always shows up there.
struct BlobAudit {
  int blobs = 0;
  std::vector<std::string> bad;
  std::vector<std::string> names;  // "<alg>:<hex>" of the good ones
};
BlobAudit AuditBlobs(const fs::path& root);

// A picture of every file and folder under `dir` (relative path -> type,
// size, content hash, extended attributes), to prove that a refused
// operation changed nothing. Times are left out on purpose: a refused
// operation may read a file.
std::map<std::string, std::string> SnapshotTree(const fs::path& dir);
// The differences between two snapshots, one line each; empty if equal.
std::string DiffSnapshots(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after);

// Polls `pred` every `every` until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(2));

// True when `path` is a mount point in this process's mount namespace;
// `fstype` receives the filesystem type when given.
bool IsMountPoint(const fs::path& path, std::string* fstype = nullptr);

// Extended attributes through the syscalls, with errno kept: value or
// error number.
struct XattrResult {
  int err = 0;  // 0 on success
  std::string value;
};
XattrResult GetXattr(const fs::path& path, const std::string& name);
int SetXattr(const fs::path& path, const std::string& name, const std::string& value);  // errno or 0
int RemoveXattr(const fs::path& path, const std::string& name);                       // errno or 0
// Names listed by listxattr, or the errno.
struct XattrList {
  int err = 0;
  std::vector<std::string> names;
};
XattrList ListXattrs(const fs::path& path);

// Short errno names for the figures ("ENOSPC", "EBUSY", ...).
std::string ErrnoName(int err);

// True when the tests were asked for their long variants (CASFS_LONG=1).
bool LongMode();
// Whether we may mount block devices and tmpfs (root, with mount rights).
bool IsRoot();

// Prints one figure line on stdout, "[reliability] <scenario>: <text>",
// and appends it to $CASFS_FIGURES_FILE when that is set (scripts/reliability
// collects them for docs/reliability.md).
void ReportFigure(const std::string& scenario, const std::string& text);
// For scenarios whose figure is a verdict: prints `ok_text` when the
// current test has no failure so far, else "FAILED" with the count of
// failed checks, so a figure never claims more than the test saw.
void ReportVerdict(const std::string& scenario, const std::string& ok_text);

}  // namespace casfs::reltest
