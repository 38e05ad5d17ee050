#include "core/local_store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/filters.h"
#include "core/ingest_folder.h"
#include "core/label_store.h"
#include "core/local_writer.h"
#include "core/posix.h"

namespace casfs {
namespace {

// Whether a failed open means "no such file here". ELOOP is a symlink
// where a file belongs: no blob (or ingest), never followed out of the root.
bool NoFileThere(const Status& opened) { return opened.IsNotFound() || opened.sys_errno() == ELOOP; }

Status NoBlob(const Digest& digest) { return Status::NotFound("content " + digest.ToString()); }
Status NoIngest(std::string_view ref) { return Status::NotFound("ingest for ref " + Quoted(ref)); }

// A positional reader over one open file (a blob, or an ingest's data).
class FileReader final : public BlobReader {
 public:
  FileReader(posix::UniqueFd fd, int64_t size) : fd_(std::move(fd)), size_(size) {}
  int64_t Size() const override { return size_; }
  Result<size_t> ReadAt(void* buf, size_t size, int64_t offset) const override {
    if (offset < 0) return Status::InvalidArgument("negative read offset");
    return posix::PreadFull(fd_.get(), buf, size, offset);
  }
  int fd() const override { return fd_.get(); }

 private:
  posix::UniqueFd fd_;
  int64_t size_;
};

Result<std::unique_ptr<BlobReader>> OpenReader(const std::filesystem::path& path, Status missing) {
  auto fd = posix::OpenForReadNoAtime(path);
  if (!fd.ok()) {
    if (NoFileThere(fd.status())) return missing;
    return fd.status();
  }
  auto st = posix::Fstat(fd->get());
  if (!st.ok()) return st.status();
  if (!S_ISREG(st->st_mode)) return missing;
  return std::unique_ptr<BlobReader>(new FileReader(std::move(*fd), st->st_size));
}

BlobInfo InfoFromStat(const Digest& digest, const struct stat& st, Labels labels) {
  BlobInfo info;
  info.digest = digest;
  info.size = st.st_size;
  info.created_at = Timestamp::FromTimespec(st.st_mtim);
  info.updated_at = Timestamp::FromTimespec(st.st_atim);
  info.labels = std::move(labels);
  return info;
}

// containerd's Info adaptor: `digest`, and `labels.<key>` where the parts
// after "labels" joined with '.' are the key. Nothing else is present
// (`size` neither: containerd never implemented it).
std::optional<std::string> InfoField(const BlobInfo& info, const std::vector<std::string>& path) {
  if (path.empty()) return std::nullopt;
  if (path[0] == "digest") return info.digest.ToString();
  if (path[0] == "labels" && path.size() > 1) {
    std::string key = path[1];
    for (size_t i = 2; i < path.size(); ++i) key += "." + path[i];
    auto it = info.labels.find(key);
    if (it == info.labels.end()) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> StatusField(const IngestStatus& status,
                                       const std::vector<std::string>& path) {
  if (!path.empty() && path[0] == "ref") return status.ref;
  return std::nullopt;
}

}  // namespace

struct LocalStore::Impl {
  explicit Impl(const std::filesystem::path& root, bool ro)
      : layout(root), read_only(ro), labels(&layout) {}

  Status CheckWritable(std::string_view what) const {
    if (!read_only) return Status::Ok();
    return Status::ReadOnly(std::string(what) + ": store at " + layout.root().native() +
                            " is read-only");
  }

  // Read-modify-write of one blob's labels under the label lock. `change`
  // gets the current set and edits it; returning false means "nothing to
  // do" (no write, times untouched). Validates the result, writes it, sets
  // atime to now keeping mtime.
  template <typename F>
  Result<BlobInfo> ModifyLabels(const Digest& digest, F&& change) {
    const std::filesystem::path path = layout.BlobPath(digest);
    auto lock = labels.Lock(digest.algorithm());
    if (!lock.ok()) {
      if (lock.status().IsNotFound()) return NoBlob(digest);
      return lock.status();
    }
    auto fd = posix::OpenForReadNoAtime(path);
    if (!fd.ok()) {
      if (NoFileThere(fd.status())) return NoBlob(digest);
      return fd.status();
    }
    auto st = posix::Fstat(fd->get());
    if (!st.ok()) return st.status();
    // Deleted between our open and the lock (Delete holds the same lock).
    if (!S_ISREG(st->st_mode) || st->st_nlink == 0) return NoBlob(digest);
    auto current = labels.Read(fd->get(), digest);
    if (!current.ok()) return current.status();
    Labels next = *current;
    auto changed = change(next);
    if (!changed.ok()) return changed.status();
    if (!*changed) return InfoFromStat(digest, *st, std::move(next));
    std::erase_if(next, [](const auto& label) { return label.second.empty(); });
    CASFS_RETURN_IF_ERROR(ValidateLabels(next));
    CASFS_RETURN_IF_ERROR(labels.Write(fd->get(), digest, next));
    const Timestamp now = Timestamp::Now();
    Status touched = posix::SetTimes(fd->get(), now.ToTimespec(), st->st_mtim);
    if (!touched.ok()) {
      spdlog::warn("{}: UpdatedAt not refreshed: {}", digest.ToString(), touched.ToString());
    }
    BlobInfo info = InfoFromStat(digest, *st, std::move(next));
    info.updated_at = now;
    return info;
  }

  // Runs `change` on an ingest's small files while holding an exclusive
  // flock on its data file: the extras take no ref lock (an open writer
  // may hold it), yet two of them must not interleave a read-modify-write.
  template <typename F>
  Status WithIngest(const std::string& ref, F&& change) {
    if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
    const std::filesystem::path dir = layout.IngestDir(ref);
    auto data = posix::Open(ingest::FilePath(dir, Layout::kDataFile), O_RDONLY);
    if (!data.ok()) {
      if (data.status().IsNotFound() || data.status().sys_errno() == ENOTDIR) return NoIngest(ref);
      return data.status();
    }
    CASFS_RETURN_IF_ERROR(posix::Flock(data->get(), LOCK_EX));
    return change(dir);
  }

  Layout layout;
  bool read_only;
  LabelStore labels;
};

LocalStore::LocalStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LocalStore::~LocalStore() = default;

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::filesystem::path& root,
                                                     const StoreOptions& options) {
  auto impl = std::make_unique<Impl>(root, options.read_only);
  if (options.read_only) {
    auto st = posix::Stat(root);
    if (!st.ok()) return st.status();
  } else {
    CASFS_RETURN_IF_ERROR(posix::MakeDirs(impl->layout.IngestRoot()));
  }
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(impl)));
}

const Layout& LocalStore::layout() const { return impl_->layout; }
bool LocalStore::read_only() const { return impl_->read_only; }

// ---------------------------------------------------------------------------
// Blobs.

Result<std::unique_ptr<BlobReader>> LocalStore::ReaderAt(const Digest& digest) {
  return OpenReader(impl_->layout.BlobPath(digest), NoBlob(digest));
}

Result<BlobInfo> LocalStore::Info(const Digest& digest) {
  const std::filesystem::path path = impl_->layout.BlobPath(digest);
  auto st = posix::Lstat(path);
  if (!st.ok()) {
    if (st.status().IsNotFound()) return NoBlob(digest);
    return st.status();
  }
  if (!S_ISREG(st->st_mode)) return NoBlob(digest);
  auto labels = impl_->labels.ReadAt(path, digest);
  if (!labels.ok()) return labels.status();
  return InfoFromStat(digest, *st, std::move(*labels));
}

Result<BlobInfo> LocalStore::Update(const BlobInfo& info, const std::vector<std::string>& fieldpaths) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("update " + info.digest.ToString()));
  // containerd's order: the blob must exist, then the paths must be valid,
  // all of them before anything changes.
  if (!posix::Stat(impl_->layout.BlobPath(info.digest)).ok()) return NoBlob(info.digest);
  bool replace = fieldpaths.empty();
  std::vector<std::string> keys;
  for (const std::string& path : fieldpaths) {
    if (path == "labels") {
      replace = true;
    } else if (path.starts_with("labels.")) {
      keys.push_back(path.substr(std::string_view("labels.").size()));
    } else {
      return Status::InvalidArgument("cannot update \"" + path + "\" field on content info " +
                                     info.digest.ToString());
    }
  }
  return impl_->ModifyLabels(info.digest, [&](Labels& labels) -> Result<bool> {
    if (replace) {
      labels = info.labels;
      return true;
    }
    for (const std::string& key : keys) {
      auto it = info.labels.find(key);
      if (it == info.labels.end() || it->second.empty()) {
        labels.erase(key);
      } else {
        labels[key] = it->second;
      }
    }
    return true;
  });
}

Status LocalStore::SetLabel(const Digest& digest, const std::string& key, const std::string& value) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("label " + digest.ToString()));
  CASFS_RETURN_IF_ERROR(ValidateLabel(key, value));
  auto info = impl_->ModifyLabels(digest, [&](Labels& labels) -> Result<bool> {
    if (value.empty()) {
      labels.erase(key);
    } else {
      labels[key] = value;
    }
    return true;  // refreshes UpdatedAt even when nothing changed (mount contract)
  });
  return info.status();
}

Result<bool> LocalStore::RemoveLabel(const Digest& digest, const std::string& key) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("label " + digest.ToString()));
  bool was_there = false;
  auto info = impl_->ModifyLabels(digest, [&](Labels& labels) -> Result<bool> {
    was_there = labels.erase(key) > 0;
    return was_there;
  });
  if (!info.ok()) return info.status();
  return was_there;
}

Status LocalStore::Walk(const std::function<Status(const BlobInfo&)>& fn,
                        const std::vector<std::string>& filters) {
  auto filter = Filter::Parse(filters);
  if (!filter.ok()) return filter.status();
  const Layout& layout = impl_->layout;
  auto algorithms = posix::ListDir(layout.BlobsDir());
  if (!algorithms.ok()) {
    // A store that never committed has no blobs/ (containerd fails here).
    if (algorithms.status().IsNotFound()) return Status::Ok();
    return algorithms.status();
  }
  std::sort(algorithms->begin(), algorithms->end());
  for (const std::string& name : *algorithms) {
    std::optional<Algorithm> algorithm = AlgorithmFromName(name);
    if (!algorithm.has_value()) continue;
    auto entries = posix::ListDir(layout.AlgorithmDir(*algorithm));
    if (!entries.ok()) {
      if (entries.status().IsNotFound() || entries.status().sys_errno() == ENOTDIR) continue;
      return entries.status();
    }
    std::sort(entries->begin(), entries->end());
    for (const std::string& hex : *entries) {
      if (!Digest::IsValidHex(*algorithm, hex)) {
        spdlog::debug("walk: skipping {}/{}: not a digest", name, hex);
        continue;
      }
      auto digest = Digest::Parse(name + ":" + hex);
      if (!digest.ok()) continue;
      const std::filesystem::path path = layout.BlobPath(*digest);
      auto st = posix::Lstat(path);
      if (!st.ok()) {
        if (st.status().IsNotFound()) continue;  // deleted while we walk
        return st.status();
      }
      if (!S_ISREG(st->st_mode)) {
        spdlog::debug("walk: skipping {}: not a regular file", path.native());
        continue;
      }
      auto labels = impl_->labels.ReadAt(path, *digest);
      if (!labels.ok()) {
        if (labels.status().IsNotFound()) continue;
        return labels.status();
      }
      BlobInfo info = InfoFromStat(*digest, *st, std::move(*labels));
      if (!filter->Match([&](const std::vector<std::string>& fieldpath) {
            return InfoField(info, fieldpath);
          })) {
        continue;
      }
      CASFS_RETURN_IF_ERROR(fn(info));
    }
  }
  return Status::Ok();
}

Status LocalStore::Delete(const Digest& digest) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("delete " + digest.ToString()));
  auto lock = impl_->labels.Lock(digest.algorithm());
  if (!lock.ok() && !lock.status().IsNotFound()) return lock.status();
  const std::filesystem::path path = impl_->layout.BlobPath(digest);
  Status removed = posix::Unlink(path, /*missing_ok=*/true);
  if (!removed.ok() && removed.sys_errno() == EISDIR) removed = posix::RemoveAll(path);
  if (!removed.ok() && !removed.IsNotFound()) return removed;
  return impl_->labels.RemoveOverflow(digest);
}

// ---------------------------------------------------------------------------
// Ingests.

Result<IngestStatus> LocalStore::GetStatus(const std::string& ref) {
  if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
  auto status = ingest::ReadStatus(impl_->layout.IngestDir(ref), ref);
  if (!status.ok() && status.status().IsNotFound()) return NoIngest(ref);
  return status;
}

Result<std::vector<IngestStatus>> LocalStore::ListStatuses(const std::vector<std::string>& filters) {
  auto filter = Filter::Parse(filters);
  if (!filter.ok()) return filter.status();
  const std::filesystem::path root = impl_->layout.IngestRoot();
  std::vector<IngestStatus> out;
  auto names = posix::ListDir(root);
  if (!names.ok()) {
    if (names.status().IsNotFound()) return out;
    return names.status();
  }
  for (const std::string& name : *names) {
    auto status = ingest::ReadStatus(root / name, std::nullopt);
    if (!status.ok()) {
      // A folder being created, committed or aborted right now, or debris:
      // not an ingest, and no reason to fail the listing (containerd does).
      spdlog::debug("list ingests: skipping {}: {}", name, status.status().ToString());
      continue;
    }
    if (!filter->Match([&](const std::vector<std::string>& fieldpath) {
          return StatusField(*status, fieldpath);
        })) {
      continue;
    }
    out.push_back(std::move(*status));
  }
  std::sort(out.begin(), out.end(),
            [](const IngestStatus& a, const IngestStatus& b) { return a.ref < b.ref; });
  return out;
}

Status LocalStore::Abort(const std::string& ref) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("abort " + Quoted(ref)));
  if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
  const std::filesystem::path dir = impl_->layout.IngestDir(ref);
  // An open writer keeps its ingest (containerd removes it from under it).
  auto lock = RefLock::Acquire(dir, ref, WriterOptions{}.lock_wait);
  if (!lock.ok()) {
    if (lock.status().IsNotFound()) return Status::Ok();  // nothing to abort
    return lock.status();
  }
  return posix::RemoveAll(dir);
}

Result<std::unique_ptr<Writer>> LocalStore::OpenWriter(const WriterOptions& options) {
  LocalWriterOptions local;
  static_cast<WriterOptions&>(local) = options;
  return OpenWriter(local);
}

Result<std::unique_ptr<Writer>> LocalStore::OpenWriter(const LocalWriterOptions& options) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("write " + Quoted(options.ref)));
  if (options.ref.empty()) return Status::InvalidArgument("ref must not be empty");
  return LocalWriter::Open(impl_->layout, options);
}

// ---------------------------------------------------------------------------
// Ingest extras.

Result<Digest> LocalStore::IngestDigest(const std::string& ref) {
  if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
  const std::filesystem::path dir = impl_->layout.IngestDir(ref);
  auto fd = posix::OpenForReadNoAtime(ingest::FilePath(dir, Layout::kDataFile));
  if (!fd.ok()) {
    if (fd.status().IsNotFound() || fd.status().sys_errno() == ENOTDIR) return NoIngest(ref);
    return fd.status();
  }
  auto st = posix::Fstat(fd->get());
  if (!st.ok()) return st.status();
  ResumableSha256 hash = ingest::LoadCheckpoint(dir, *st).value_or(ResumableSha256());
  std::vector<char> scratch;
  CASFS_RETURN_IF_ERROR(ingest::HashRange(fd->get(), &hash, static_cast<int64_t>(hash.length()),
                                          st->st_size, &scratch));
  return hash.Current();
}

Result<std::unique_ptr<BlobReader>> LocalStore::OpenIngestReader(const std::string& ref) {
  if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
  return OpenReader(ingest::FilePath(impl_->layout.IngestDir(ref), Layout::kDataFile), NoIngest(ref));
}

Status LocalStore::SetIngestTotal(const std::string& ref, std::optional<int64_t> total) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("set total of " + Quoted(ref)));
  if (total.has_value() && *total < 0) {
    return Status::InvalidArgument("negative total " + std::to_string(*total) + " for ref " + Quoted(ref));
  }
  return impl_->WithIngest(ref, [&](const std::filesystem::path& dir) -> Status {
    CASFS_RETURN_IF_ERROR(ingest::WriteTotal(dir, total.value_or(0), /*durable=*/true));
    return ingest::WriteTimestamp(ingest::FilePath(dir, Layout::kUpdatedAtFile), Timestamp::Now());
  });
}

Status LocalStore::SetIngestExpected(const std::string& ref, const std::optional<Digest>& expected) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("set expected digest of " + Quoted(ref)));
  return impl_->WithIngest(ref, [&](const std::filesystem::path& dir) -> Status {
    CASFS_RETURN_IF_ERROR(ingest::WriteExpected(dir, expected, /*durable=*/true));
    return ingest::WriteTimestamp(ingest::FilePath(dir, Layout::kUpdatedAtFile), Timestamp::Now());
  });
}

Result<Labels> LocalStore::StagedLabels(const std::string& ref) {
  if (ref.empty()) return Status::InvalidArgument("ref must not be empty");
  const std::filesystem::path dir = impl_->layout.IngestDir(ref);
  if (!posix::Lstat(ingest::FilePath(dir, Layout::kDataFile)).ok()) return NoIngest(ref);
  return ingest::ReadStagedLabels(dir);
}

Status LocalStore::StageLabel(const std::string& ref, const std::string& key, const std::string& value) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("stage label on " + Quoted(ref)));
  CASFS_RETURN_IF_ERROR(ValidateLabel(key, value));
  return impl_->WithIngest(ref, [&](const std::filesystem::path& dir) -> Status {
    auto labels = ingest::ReadStagedLabels(dir);
    if (!labels.ok()) return labels.status();
    if (value.empty()) {
      labels->erase(key);
    } else {
      (*labels)[key] = value;
    }
    return ingest::WriteStagedLabels(dir, *labels);
  });
}

Result<bool> LocalStore::UnstageLabel(const std::string& ref, const std::string& key) {
  CASFS_RETURN_IF_ERROR(impl_->CheckWritable("unstage label on " + Quoted(ref)));
  bool was_there = false;
  Status status = impl_->WithIngest(ref, [&](const std::filesystem::path& dir) -> Status {
    auto labels = ingest::ReadStagedLabels(dir);
    if (!labels.ok()) return labels.status();
    was_there = labels->erase(key) > 0;
    if (!was_there) return Status::Ok();
    return ingest::WriteStagedLabels(dir, *labels);
  });
  if (!status.ok()) return status;
  return was_there;
}

}  // namespace casfs
