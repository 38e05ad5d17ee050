// The store contract, held against the mount: a casfs::Store implemented
// only with file operations on a private mount (open, pwrite, ftruncate,
// stat, the xattrs of docs/mount-interface.md, rename to commit, unlink),
// so that the engine and the mount answer the same suite.
//
// The adapter translates, as a client of the mount would: errno back to
// the Store's kinds (EBUSY is kUnavailable; EINVAL from a commit's rename
// is the mismatch, kFailedPrecondition), containerd's filters over what
// the files show, and two things the file view does in another order:
//   - a writer's expected total is set as user.casfs.total just before its
//     first change of the data (or at Close), since setting it is itself a
//     change that moves updatedat, while the engine records it with the
//     ingest's creation;
//   - Commit(size) compares `size` with st_size, and AlreadyExists is told
//     by the blob's presence before the rename (the mount's rename onto
//     the same content succeeds, deduplicated).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/filters.h"
#include "core/labels.h"
#include "fuse/ref_name.h"
#include "tests/conformance/store_conformance.h"
#include "tests/fuse/mount_fixture.h"

namespace casfs::conformance {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUser = "user.";
constexpr std::string_view kVirtual = "user.casfs.";

Status Errno(std::string_view what, int err) {
  if (err == EBUSY) return Status::Unavailable(std::string(what) + ": busy (EBUSY)");
  if (err == ENODATA) return Status::NotFound(std::string(what) + ": no such attribute");
  return Status::FromErrno(what, err);
}

Timestamp TimeOf(const struct timespec& ts) { return Timestamp::FromTimespec(ts); }

// One attribute by path; nullopt when absent, an error otherwise.
Result<std::optional<std::string>> GetAttr(const fs::path& path, const std::string& name) {
  std::string value(65536, '\0');
  ssize_t n = ::getxattr(path.c_str(), name.c_str(), value.data(), value.size());
  if (n < 0) {
    if (errno == ENODATA) return std::optional<std::string>();
    return Errno("getxattr " + name + " " + path.string(), errno);
  }
  value.resize(static_cast<size_t>(n));
  return std::optional<std::string>(std::move(value));
}

Result<Timestamp> TimeAttr(const fs::path& path, const std::string& name) {
  auto text = GetAttr(path, name);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return Status::NotFound(name + " of " + path.string());
  return ParseRfc3339(**text);
}

// The labels of a blob (or the staged labels of an ingest): user.*
// attributes as listed.
Result<Labels> LabelsOf(const fs::path& path) {
  std::string list(65536, '\0');
  ssize_t n = ::listxattr(path.c_str(), list.data(), list.size());
  if (n < 0) return Errno("listxattr " + path.string(), errno);
  Labels labels;
  size_t start = 0;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (list[i] != '\0') continue;
    std::string name = list.substr(start, i - start);
    start = i + 1;
    if (!name.starts_with(kUser) || name.starts_with(kVirtual)) continue;
    auto value = GetAttr(path, name);
    if (!value.ok()) return value.status();
    if (value->has_value()) labels[name.substr(kUser.size())] = **value;
  }
  return labels;
}

Status SetAttr(const fs::path& path, const std::string& name, const std::string& value) {
  if (::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
    return Errno("setxattr " + name + " " + path.string(), errno);
  }
  return Status::Ok();
}

class MountReader final : public BlobReader {
 public:
  MountReader(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~MountReader() override { ::close(fd_); }
  int64_t Size() const override { return size_; }
  Result<size_t> ReadAt(void* buf, size_t size, int64_t offset) const override {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, static_cast<char*>(buf) + done, size - done, offset + static_cast<int64_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("pread", errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  int fd() const override { return fd_; }

 private:
  int fd_;
  int64_t size_;
};

class MountStore;

class MountWriter final : public Writer {
 public:
  MountWriter(MountStore* store, std::string ref, fs::path path, int fd, int64_t total)
      : store_(store), ref_(std::move(ref)), path_(std::move(path)), fd_(fd), pending_total_(total) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) offset_ = st.st_size;
  }
  ~MountWriter() override { (void)Close(); }

  Status Write(const void* data, size_t size) override {
    std::lock_guard lock(mu_);
    CASFS_RETURN_IF_ERROR(WriteLocked(offset_, data, size));
    offset_ += static_cast<int64_t>(size);
    return Status::Ok();
  }
  // As the engine's writer: Write continues after the last write or
  // truncation, whichever came last.
  Status WriteAt(int64_t offset, const void* data, size_t size) override {
    std::lock_guard lock(mu_);
    CASFS_RETURN_IF_ERROR(WriteLocked(offset, data, size));
    offset_ = offset + static_cast<int64_t>(size);
    return Status::Ok();
  }
  int64_t Size() const override {
    std::lock_guard lock(mu_);
    return SizeLocked();
  }
  Result<Digest> CurrentDigest() override {
    std::lock_guard lock(mu_);
    if (fd_ < 0) {
      if (final_digest_) return *final_digest_;
      return Status::FailedPrecondition("writer for " + ref_ + " has no digest");
    }
    return DigestLocked();
  }
  IngestStatus GetStatus() const override {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return last_status_;
    IngestStatus status = StatusLocked();
    if (status.total == 0) status.total = pending_total_;
    return status;
  }
  Status Truncate(int64_t size) override {
    std::lock_guard lock(mu_);
    CASFS_RETURN_IF_ERROR(CheckOpenLocked("truncate"));
    CASFS_RETURN_IF_ERROR(FlushTotalLocked());
    if (::ftruncate(fd_, size) != 0) return Errno("ftruncate " + path_.string(), errno);
    offset_ = size;
    return Status::Ok();
  }
  Status Commit(int64_t size, const std::optional<Digest>& expected, const CommitOptions& options) override;
  std::optional<Digest> CommittedDigest() const override {
    std::lock_guard lock(mu_);
    return committed_as_;
  }
  Status Close() override {
    std::lock_guard lock(mu_);
    return CloseLocked();
  }

 private:
  Status CheckOpenLocked(std::string_view what) const {
    if (fd_ < 0) return Status::FailedPrecondition(std::string(what) + " on closed writer for ref " + ref_);
    return Status::Ok();
  }
  Status FlushTotalLocked() {
    if (pending_total_ <= 0) return Status::Ok();
    auto current = GetAttr(path_, "user.casfs.total");
    std::string text = std::to_string(pending_total_);
    pending_total_ = 0;
    if (current.ok() && current->has_value() && **current == text) return Status::Ok();
    return SetAttr(path_, "user.casfs.total", text);
  }
  Status WriteLocked(int64_t offset, const void* data, size_t size) {
    CASFS_RETURN_IF_ERROR(CheckOpenLocked("write"));
    CASFS_RETURN_IF_ERROR(FlushTotalLocked());
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd_, static_cast<const char*>(data) + done, size - done,
                           offset + static_cast<int64_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("pwrite " + path_.string(), errno);
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  int64_t SizeLocked() const {
    if (fd_ < 0) return last_status_.offset;
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  }
  Result<Digest> DigestLocked() const {
    auto text = GetAttr(path_, "user.casfs.digest");
    if (!text.ok()) return text.status();
    if (!text->has_value()) return Status::NotFound("no digest of " + path_.string());
    return Digest::Parse(**text);
  }
  // Ends the handle (its close(2)), remembering what the writer reports
  // afterwards.
  Status CloseLocked() {
    if (fd_ < 0) return Status::Ok();
    Status flushed = FlushTotalLocked();
    if (auto digest = DigestLocked(); digest.ok()) final_digest_ = *digest;
    int fd = fd_;
    last_status_ = StatusLocked();
    fd_ = -1;
    int closed = ::close(fd);
    if (!flushed.ok()) return flushed;
    if (closed != 0) return Errno("close " + path_.string(), errno);
    return Status::Ok();
  }
  IngestStatus StatusLocked() const {
    IngestStatus status;
    status.ref = ref_;
    status.offset = SizeLocked();
    auto total = GetAttr(path_, "user.casfs.total");
    if (total.ok() && total->has_value()) {
      std::from_chars((*total)->data(), (*total)->data() + (*total)->size(), status.total);
    }
    if (auto t = TimeAttr(path_, "user.casfs.startedat"); t.ok()) status.started_at = *t;
    if (auto t = TimeAttr(path_, "user.casfs.updatedat"); t.ok()) status.updated_at = *t;
    return status;
  }

  MountStore* store_;
  const std::string ref_;
  const fs::path path_;
  mutable std::mutex mu_;
  int fd_;
  int64_t offset_ = 0;         // Write's position
  int64_t pending_total_ = 0;  // to set before the first change
  bool committed_ = false;
  std::optional<Digest> committed_as_;
  std::optional<Digest> final_digest_;
  IngestStatus last_status_;
};

class MountStore final : public Store {
 public:
  explicit MountStore(const fs::path& mnt) : mnt_(mnt) {}

  fs::path BlobPath(const Digest& digest) const {
    return mnt_ / "blobs" / std::string(digest.algorithm_name()) / digest.hex();
  }
  Result<fs::path> IngestPath(const std::string& ref) const {
    auto name = fuse::EncodeRefName(ref);
    if (!name.ok()) return name.status();
    return mnt_ / "ingest" / *name;
  }
  bool BlobExists(const Digest& digest) const {
    struct stat st {};
    return ::stat(BlobPath(digest).c_str(), &st) == 0;
  }

  Result<std::unique_ptr<BlobReader>> ReaderAt(const Digest& digest) override {
    int fd = ::open(BlobPath(digest).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open " + digest.ToString(), errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return Errno("fstat", err);
    }
    return std::unique_ptr<BlobReader>(new MountReader(fd, st.st_size));
  }

  Result<BlobInfo> Info(const Digest& digest) override {
    fs::path path = BlobPath(digest);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Errno("stat " + digest.ToString(), errno);
    auto labels = LabelsOf(path);
    if (!labels.ok()) return labels.status();
    BlobInfo info;
    info.digest = digest;
    info.size = st.st_size;
    info.created_at = TimeOf(st.st_mtim);
    info.updated_at = TimeOf(st.st_atim);
    info.labels = std::move(*labels);
    return info;
  }

  Result<BlobInfo> Update(const BlobInfo& info, const std::vector<std::string>& fieldpaths) override {
    bool replace = fieldpaths.empty();
    std::vector<std::string> keys;
    for (const std::string& path : fieldpaths) {
      if (path == "labels") {
        replace = true;
      } else if (path.starts_with("labels.") && path.size() > 7) {
        keys.push_back(path.substr(7));
      } else {
        return Status::InvalidArgument("cannot update field " + path);
      }
    }
    auto current = Info(info.digest);
    if (!current.ok()) return current.status();
    // Checked first, so that a refused update changes nothing (the mount
    // takes the labels one attribute at a time).
    for (const auto& [key, value] : info.labels) {
      if (replace || std::find(keys.begin(), keys.end(), key) != keys.end()) {
        CASFS_RETURN_IF_ERROR(ValidateLabel(key, value));
      }
    }
    fs::path path = BlobPath(info.digest);
    if (replace) {
      for (const auto& [key, value] : current->labels) {
        if (info.labels.count(key) == 0) CASFS_RETURN_IF_ERROR(SetAttr(path, std::string(kUser) + key, ""));
      }
      for (const auto& [key, value] : info.labels) CASFS_RETURN_IF_ERROR(SetAttr(path, std::string(kUser) + key, value));
      // An update that changes nothing still refreshes UpdatedAt (the
      // engine's Update does): removing an absent label is such a change.
      if (info.labels.empty() && current->labels.empty()) {
        CASFS_RETURN_IF_ERROR(SetAttr(path, "user.casfs-conformance-touch", ""));
      }
    } else {
      for (const std::string& key : keys) {
        auto it = info.labels.find(key);
        CASFS_RETURN_IF_ERROR(SetAttr(path, std::string(kUser) + key, it == info.labels.end() ? "" : it->second));
      }
    }
    return Info(info.digest);
  }

  Status Walk(const std::function<Status(const BlobInfo&)>& fn, const std::vector<std::string>& filters) override {
    auto filter = Filter::Parse(filters);
    if (!filter.ok()) return filter.status();
    for (Algorithm algorithm : kAllAlgorithms) {
      std::vector<std::string> names;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(mnt_ / "blobs" / std::string(AlgorithmName(algorithm)), ec)) {
        names.push_back(entry.path().filename().string());
      }
      if (ec) return Status::FromErrno("readdir blobs", ec.value());
      std::sort(names.begin(), names.end());
      for (const std::string& hex : names) {
        auto digest = Digest::Parse(std::string(AlgorithmName(algorithm)) + ":" + hex);
        if (!digest.ok()) continue;
        auto info = Info(*digest);
        if (!info.ok()) {
          if (info.status().IsNotFound()) continue;
          return info.status();
        }
        bool match = filter->Match([&](const std::vector<std::string>& path) -> std::optional<std::string> {
          if (path.empty()) return std::nullopt;
          if (path[0] == "digest") return info->digest.ToString();
          if (path[0] == "labels" && path.size() > 1) {
            std::string key = path[1];
            for (size_t i = 2; i < path.size(); ++i) key += "." + path[i];
            auto it = info->labels.find(key);
            if (it == info->labels.end()) return std::nullopt;
            return it->second;
          }
          return std::nullopt;
        });
        if (match) CASFS_RETURN_IF_ERROR(fn(*info));
      }
    }
    return Status::Ok();
  }

  Status Delete(const Digest& digest) override {
    if (::unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) return Errno("rm " + digest.ToString(), errno);
    return Status::Ok();
  }

  Result<IngestStatus> GetStatus(const std::string& ref) override {
    auto path = IngestPath(ref);
    if (!path.ok()) return path.status();
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) return Errno("stat ingest " + ref, errno);
    IngestStatus status;
    auto decoded = GetAttr(*path, "user.casfs.ref");
    if (!decoded.ok()) return decoded.status();
    status.ref = decoded->value_or(ref);
    status.offset = st.st_size;
    auto total = GetAttr(*path, "user.casfs.total");
    if (!total.ok()) return total.status();
    if (total->has_value()) std::from_chars((*total)->data(), (*total)->data() + (*total)->size(), status.total);
    auto started = TimeAttr(*path, "user.casfs.startedat");
    if (!started.ok()) return started.status();
    status.started_at = *started;
    auto updated = TimeAttr(*path, "user.casfs.updatedat");
    if (!updated.ok()) return updated.status();
    status.updated_at = *updated;
    auto expected = GetAttr(*path, "user.casfs.expected");
    if (expected.ok() && expected->has_value()) {
      auto digest = Digest::Parse(**expected);
      if (digest.ok()) status.expected = *digest;
    }
    return status;
  }

  Result<std::vector<IngestStatus>> ListStatuses(const std::vector<std::string>& filters) override {
    auto filter = Filter::Parse(filters);
    if (!filter.ok()) return filter.status();
    std::vector<IngestStatus> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(mnt_ / "ingest", ec)) {
      auto ref = fuse::DecodeRefName(entry.path().filename().string());
      if (!ref.ok()) continue;
      auto status = GetStatus(*ref);
      if (!status.ok()) continue;  // gone since the listing
      bool match = filter->Match([&](const std::vector<std::string>& path) -> std::optional<std::string> {
        if (!path.empty() && path[0] == "ref") return status->ref;
        return std::nullopt;
      });
      if (match) out.push_back(std::move(*status));
    }
    if (ec) return Status::FromErrno("readdir ingest", ec.value());
    std::sort(out.begin(), out.end(), [](const IngestStatus& a, const IngestStatus& b) { return a.ref < b.ref; });
    return out;
  }

  Status Abort(const std::string& ref) override {
    auto path = IngestPath(ref);
    if (!path.ok()) return path.status();
    if (::unlink(path->c_str()) != 0 && errno != ENOENT) return Errno("rm ingest " + ref, errno);
    return Status::Ok();
  }

  Result<std::unique_ptr<Writer>> OpenWriter(const WriterOptions& options) override {
    if (options.ref.empty()) return Status::InvalidArgument("ref must not be empty");
    if (options.expected && BlobExists(*options.expected)) {
      return Status::AlreadyExists("content " + options.expected->ToString() + " already exists");
    }
    auto path = IngestPath(options.ref);
    if (!path.ok()) return path.status();
    int fd = ::open(path->c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open ingest " + options.ref, errno);
    return std::unique_ptr<Writer>(new MountWriter(this, options.ref, *path, fd, options.total));
  }

 private:
  fs::path mnt_;
};

Status MountWriter::Commit(int64_t size, const std::optional<Digest>& expected, const CommitOptions& options) {
  std::lock_guard lock(mu_);
  if (committed_ || fd_ < 0) return Status::FailedPrecondition("cannot commit on closed writer for ref " + ref_);
  int64_t now = SizeLocked();
  auto digest = DigestLocked();
  // The handle ends here whatever the outcome: a rename while a write
  // handle counts would be EBUSY.
  CASFS_RETURN_IF_ERROR(CloseLocked());
  if (size > 0 && size != now) {
    return Status::FailedPrecondition("unexpected commit size " + std::to_string(size) + ", ingest " + ref_ +
                                      " has " + std::to_string(now));
  }
  if (!digest.ok()) return digest.status();
  if (!expected && options.algorithm && *options.algorithm != Algorithm::kSha256) {
    return Status::NotImplemented("through the mount a blob is named by the rename target: give an expected digest");
  }
  Digest target = expected.value_or(*digest);
  if (options.labels) {
    for (const auto& [key, value] : *options.labels) {
      CASFS_RETURN_IF_ERROR(SetAttr(path_, std::string(kUser) + key, value));
    }
  }
  bool existed = store_->BlobExists(target);
  if (::rename(path_.c_str(), store_->BlobPath(target).c_str()) != 0) {
    int err = errno;
    if (err == EINVAL) {
      return Status::FailedPrecondition("commit of ref " + ref_ + " as " + target.ToString() +
                                        " refused by the mount (EINVAL: a size, total, expected or digest mismatch)");
    }
    return Errno("rename " + ref_ + " to " + target.ToString(), err);
  }
  committed_ = true;
  committed_as_ = target;
  if (existed) return Status::AlreadyExists("content " + target.ToString() + " already exists");
  return Status::Ok();
}

class MountUnderTest final : public StoreUnderTest {
 public:
  explicit MountUnderTest(std::unique_ptr<fuse::testing::MountFixture> mount)
      : mount_(std::move(mount)), store_(mount_->mnt()) {}
  Store& store() override { return store_; }

 private:
  std::unique_ptr<fuse::testing::MountFixture> mount_;  // outlives the store
  MountStore store_;
};

class MountFactory final : public StoreFactory {
 public:
  std::string Name() const override { return "Mount"; }
  Capabilities capabilities() const override {
    Capabilities caps;
    caps.any_ref_bytes = false;    // a ref is a file name
    caps.long_label_keys = false;  // a label key is an xattr name
    return caps;
  }
  std::unique_ptr<StoreUnderTest> Make() override {
    auto mount = std::make_unique<fuse::testing::MountFixture>();
    if (!mount->mounted()) {
      spdlog::error("mount: {}", mount->error());
      return nullptr;
    }
    return std::make_unique<MountUnderTest>(std::move(mount));
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Mount, StoreConformanceTest, ::testing::Values(std::make_shared<MountFactory>()),
                         FactoryName);

}  // namespace casfs::conformance
