#include "tests/reliability/support/files.h"

#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace casfs::reltest {

namespace {

// Undoes the octal escapes of /proc/self/mountinfo ("\040" for a space).
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        if (field[i + k] < '0' || field[i + k] > '7') {
          octal = false;
          break;
        }
        v = v * 8 + (field[i + k] - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

struct MountEntry {
  std::string point;
  std::string fstype;
};

std::vector<MountEntry> Mounts() {
  std::vector<MountEntry> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string word;
    while (fields >> word) f.push_back(word);
    // id parent major:minor root point options [optional...] - type source super
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end()) continue;
    mounts.push_back({UnescapeMountField(f[4]), *(dash + 1)});
  }
  return mounts;
}

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  if (type == FTW_DP) {
    rmdir(path);
  } else {
    unlink(path);
  }
  return 0;
}

}  // namespace

TempDir::TempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + tag + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  // Deepest mounts first; a mount left here by a failed test must not make
  // the removal walk into it (or fail on a dead FUSE connection).
  std::vector<std::string> below;
  std::string prefix = path_.string() + "/";
  for (const auto& m : Mounts()) {
    if (m.point.rfind(prefix, 0) == 0) below.push_back(m.point);
  }
  std::sort(below.begin(), below.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& point : below) {
    if (umount2(point.c_str(), MNT_DETACH) != 0) {
      std::string cmd = "fusermount3 -uz '" + point + "' >/dev/null 2>&1";
      (void)!std::system(cmd.c_str());
    }
  }
  nftw(path_.c_str(), RemoveEntry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

std::optional<std::string> ReadFile(const fs::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return data;
}

bool WriteFile(const fs::path& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return close(fd) == 0;
}

int64_t FileSize(const fs::path& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; i += 8) {
    // splitmix64
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(out.data() + i, &z, std::min<size_t>(8, size - i));
  }
  return out;
}

std::string HexDigest(const std::string& algorithm, const std::string& data) {
  const EVP_MD* md = algorithm == "sha512"   ? EVP_sha512()
                     : algorithm == "sha384" ? EVP_sha384()
                                             : EVP_sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

std::string Sha256Hex(const std::string& data) { return HexDigest("sha256", data); }
std::string Sha256Digest(const std::string& data) { return "sha256:" + Sha256Hex(data); }

fs::path IngestDir(const fs::path& root, const std::string& ref) {
  return root / "ingest" / Sha256Hex(ref);
}
fs::path IngestData(const fs::path& root, const std::string& ref) {
  return IngestDir(root, ref) / "data";
}
fs::path BlobPath(const fs::path& root, const std::string& hex, const std::string& alg) {
  return root / "blobs" / alg / hex;
}

BlobAudit AuditBlobs(const fs::path& root) {
  BlobAudit audit;
  std::error_code ec;
  fs::path blobs = root / "blobs";
  if (!fs::exists(blobs, ec)) return audit;
  static const std::map<std::string, size_t> kHexLength = {
      {"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
  for (const auto& alg_entry : fs::directory_iterator(blobs, ec)) {
    std::string alg = alg_entry.path().filename();
    auto known = kHexLength.find(alg);
    if (known == kHexLength.end() || !alg_entry.is_directory()) {
      audit.bad.push_back("blobs/" + alg + ": not an algorithm folder");
      continue;
    }
    for (const auto& entry : fs::directory_iterator(alg_entry.path(), ec)) {
      std::string name = entry.path().filename();
      std::string where = "blobs/" + alg + "/" + name;
      ++audit.blobs;
      bool hex_ok = name.size() == known->second &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    });
      if (!hex_ok) {
        audit.bad.push_back(where + ": name is not a " + alg + " digest");
        continue;
      }
      if (!entry.is_regular_file() || entry.is_symlink()) {
        audit.bad.push_back(where + ": not a regular file");
        continue;
      }
      auto content = ReadFile(entry.path());
      if (!content) {
        audit.bad.push_back(where + ": unreadable");
        continue;
      }
      std::string actual = HexDigest(alg, *content);
      if (actual != name) {
        audit.bad.push_back(where + ": content (" + std::to_string(content->size()) +
                            " bytes) hashes to " + actual);
        continue;
      }
      audit.names.push_back(alg + ":" + name);
    }
  }
  std::sort(audit.names.begin(), audit.names.end());
  return audit;
}

std::map<std::string, std::string> SnapshotTree(const fs::path& dir) {
  std::map<std::string, std::string> snap;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string rel = fs::relative(p, dir, ec).string();
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) continue;
    std::ostringstream desc;
    if (S_ISDIR(st.st_mode)) {
      desc << "dir";
    } else if (S_ISLNK(st.st_mode)) {
      desc << "symlink -> " << fs::read_symlink(p, ec).string();
    } else if (S_ISREG(st.st_mode)) {
      auto content = ReadFile(p);
      desc << "file " << st.st_size << " " << (content ? Sha256Hex(*content) : "unreadable");
    } else {
      desc << "other";
    }
    desc << " mode " << std::oct << (st.st_mode & 07777) << std::dec;
    if (!S_ISLNK(st.st_mode)) {
      auto names = ListXattrs(p);
      std::sort(names.names.begin(), names.names.end());
      for (const auto& n : names.names) {
        auto v = GetXattr(p, n);
        desc << " xattr " << n << "=" << Sha256Hex(v.value).substr(0, 16);
      }
    }
    snap[rel] = desc.str();
  }
  return snap;
}

std::string DiffSnapshots(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  std::string diff;
  for (const auto& [path, desc] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      diff += "removed " + path + " (" + desc + ")\n";
    } else if (it->second != desc) {
      diff += "changed " + path + ": " + desc + " -> " + it->second + "\n";
    }
  }
  for (const auto& [path, desc] : after) {
    if (!before.count(path)) diff += "added " + path + " (" + desc + ")\n";
  }
  return diff;
}

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

bool IsMountPoint(const fs::path& path, std::string* fstype) {
  std::string want = path.lexically_normal().string();
  while (want.size() > 1 && want.back() == '/') want.pop_back();
  for (const auto& m : Mounts()) {
    if (m.point == want) {
      if (fstype) *fstype = m.fstype;
      return true;
    }
  }
  return false;
}

XattrResult GetXattr(const fs::path& path, const std::string& name) {
  XattrResult r;
  std::string buf(1 << 16, '\0');
  for (int attempt = 0; attempt < 3; ++attempt) {
    ssize_t n = getxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      r.value = buf;
      return r;
    }
    if (errno != ERANGE) break;
    buf.resize(buf.size() * 4);
  }
  r.err = errno;
  return r;
}

int SetXattr(const fs::path& path, const std::string& name, const std::string& value) {
  return setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

int RemoveXattr(const fs::path& path, const std::string& name) {
  return removexattr(path.c_str(), name.c_str()) == 0 ? 0 : errno;
}

XattrList ListXattrs(const fs::path& path) {
  XattrList r;
  std::string buf(1 << 16, '\0');
  ssize_t n = listxattr(path.c_str(), buf.data(), buf.size());
  if (n < 0) {
    r.err = errno;
    return r;
  }
  size_t start = 0;
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[static_cast<size_t>(i)] == '\0') {
      r.names.push_back(buf.substr(start, static_cast<size_t>(i) - start));
      start = static_cast<size_t>(i) + 1;
    }
  }
  return r;
}

std::string ErrnoName(int err) {
  if (err == 0) return "ok";
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

bool LongMode() {
  const char* v = std::getenv("CASFS_LONG");
  return v != nullptr && std::string(v) == "1";
}

bool IsRoot() { return geteuid() == 0; }

void ReportFigure(const std::string& scenario, const std::string& text) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string line = "[reliability] " + scenario + ": " + text;
  std::cout << line << std::endl;
  const char* file = std::getenv("CASFS_FIGURES_FILE");
  if (file != nullptr && *file != '\0') {
    std::ofstream out(file, std::ios::app);
    out << line << "\n";
  }
}

void ReportVerdict(const std::string& scenario, const std::string& ok_text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  int failed = 0;
  if (info != nullptr) {
    const auto* result = info->result();
    for (int i = 0; i < result->total_part_count(); ++i) {
      if (result->GetTestPartResult(i).failed()) ++failed;
    }
  }
  ReportFigure(scenario, failed == 0 ? ok_text : "FAILED (" + std::to_string(failed) + " failed checks)");
}

}  // namespace casfs::reltest
