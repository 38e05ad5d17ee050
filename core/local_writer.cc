#include "core/local_writer.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <vector>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/digester.h"
#include "core/fault_injection.h"
#include "core/ingest_folder.h"

namespace casfs {
namespace {

// How often OpenWriter retries when the folder it locked vanished (an Abort
// or a Commit of the same ref removed it in between).
constexpr int kOpenAttempts = 16;

std::filesystem::path DataPath(const std::filesystem::path& dir) {
  return ingest::FilePath(dir, Layout::kDataFile);
}

// Opens an existing data file for reading and writing. A crash inside a
// commit can leave it read-only (the mode is set before the rename); its
// owner gets the write bit back.
Result<posix::UniqueFd> OpenExistingData(const std::filesystem::path& path) {
  auto fd = posix::Open(path, O_RDWR);
  if (fd.ok() || !fd.status().Is(ErrorKind::kPermissionDenied)) return fd;
  auto st = posix::Stat(path);
  if (!st.ok()) return fd;
  CASFS_RETURN_IF_ERROR(posix::Chmod(path, (st->st_mode & 07777) | S_IWUSR));
  return posix::Open(path, O_RDWR);
}

}  // namespace

// ---------------------------------------------------------------------------
// Opening.

Result<std::unique_ptr<Writer>> LocalWriter::Open(const Layout& layout,
                                                  const LocalWriterOptions& options) {
  const std::string& ref = options.ref;
  if (options.expected.has_value()) {
    // Before anything touches the disk: "nothing changes" when the content
    // is already there. (containerd checks after taking its lock, so a busy
    // ref reports Unavailable even then; casfs answers the more useful one.)
    if (auto blob = posix::Lstat(layout.BlobPath(*options.expected)); blob.ok() && S_ISREG(blob->st_mode)) {
      return Status::AlreadyExists("content " + options.expected->ToString());
    }
  }
  const std::filesystem::path dir = layout.IngestDir(ref);
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    bool folder_is_new = false;
    if (options.mode == IngestOpenMode::kResumeOnly) {
      if (!posix::Lstat(dir).ok()) return Status::NotFound("ingest for ref " + Quoted(ref));
    } else {
      Status made = posix::MakeDir(dir, 0755);
      if (made.ok()) {
        folder_is_new = true;
      } else if (made.IsNotFound()) {
        // ingest/ itself is gone (removed by hand): recreate it and retry.
        CASFS_RETURN_IF_ERROR(posix::MakeDirs(layout.IngestRoot()));
        continue;
      } else if (!made.IsAlreadyExists()) {
        return made;
      }
    }

    auto lock = RefLock::Acquire(dir, ref, options.lock_wait);
    if (!lock.ok()) {
      if (lock.status().IsNotFound()) continue;  // removed under us: start again
      return lock.status();
    }

    auto data = posix::Lstat(DataPath(dir));
    const bool has_data = data.ok();
    if (!has_data && !data.status().IsNotFound()) return data.status();
    if (has_data && !S_ISREG(data->st_mode)) {
      return Status::FromErrno("ingest data " + DataPath(dir).native() + " is not a file", EISDIR);
    }

    Result<Opened> opened = Status::Internal("unreachable");
    if (!has_data) {
      if (options.mode == IngestOpenMode::kResumeOnly) {
        return Status::NotFound("ingest for ref " + Quoted(ref));
      }
      // A folder without data is debris (a creation, commit or abort that
      // died half-way) or a folder we just made: a new ingest either way.
      opened = CreateNew(layout, dir, options, std::move(*lock), folder_is_new);
    } else {
      if (options.mode == IngestOpenMode::kCreateOnly) {
        return Status::AlreadyExists("ingest for ref " + Quoted(ref));
      }
      opened = Resume(layout, dir, options, std::move(*lock));
    }
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<Writer>(new LocalWriter(layout, dir, std::move(*opened)));
  }
  return Status::Unavailable("ingest for ref " + Quoted(ref) +
                             " kept being removed while opening it");
}

Result<LocalWriter::Opened> LocalWriter::CreateNew(const Layout& layout,
                                                   const std::filesystem::path& dir,
                                                   const LocalWriterOptions& options,
                                                   RefLock lock, bool folder_is_new) {
  (void)layout;
  auto create = [&]() -> Result<Opened> {
    if (!folder_is_new) {
      // Leftovers of an earlier ingest of this ref must not leak into this one.
      for (std::string_view name :
           {Layout::kTotalFile, Layout::kExpectedFile, Layout::kStagedLabelsFile,
            Layout::kHashStateFile}) {
        CASFS_RETURN_IF_ERROR(posix::Unlink(ingest::FilePath(dir, name), /*missing_ok=*/true));
      }
    }
    const Timestamp now = Timestamp::Now();
    // containerd's order: ref, startedat, updatedat, total; then data.
    CASFS_RETURN_IF_ERROR(posix::WriteFileInPlace(ingest::FilePath(dir, Layout::kRefFile), options.ref));
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(ingest::FilePath(dir, Layout::kStartedAtFile), now));
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(ingest::FilePath(dir, Layout::kUpdatedAtFile), now));
    if (options.total > 0) CASFS_RETURN_IF_ERROR(ingest::WriteTotal(dir, options.total, /*durable=*/false));
    if (options.expected.has_value()) {
      CASFS_RETURN_IF_ERROR(ingest::WriteExpected(dir, options.expected, /*durable=*/false));
    }
    // O_RDWR rather than containerd's O_WRONLY: the writer reads back
    // out-of-order ranges to hash them. Same mode, no truncation.
    auto data = posix::Open(DataPath(dir), O_RDWR | O_CREAT, 0666);
    if (!data.ok()) return data.status();
    // Status is the later of `updatedat` and the data's mtime; created last,
    // the data would otherwise make a new ingest look updated after it
    // started.
    CASFS_RETURN_IF_ERROR(posix::SetTimes(data->get(), now.ToTimespec(), now.ToTimespec()));
    // The folder's entries (above all `data`) must survive a crash once
    // the writer reports bytes as synced: the first Sync or Close syncs the
    // folder (and ingest/). Not here: an ingest committed without a Close
    // in between never needs it (the blob gets its own syncs and the
    // folder goes), and two fsyncs per ingest are most of what a small
    // blob costs.
    Opened opened;
    opened.folder_sync_pending = true;
    opened.parent_sync_pending = folder_is_new;
    opened.data = std::move(*data);
    opened.status.ref = options.ref;
    opened.status.total = options.total;
    opened.status.started_at = now;
    opened.status.updated_at = now;
    opened.status.expected = options.expected;
    return opened;
  };
  auto opened = create();
  if (!opened.ok()) {
    // A half-made ingest is worse than none (e.g. ENOSPC part-way).
    Status removed = posix::RemoveAll(dir);
    if (!removed.ok()) spdlog::warn("removing half-made ingest {}: {}", dir.native(), removed.ToString());
    return opened.status();
  }
  opened->lock = std::move(lock);
  return opened;
}

Result<LocalWriter::Opened> LocalWriter::Resume(const Layout& layout,
                                                const std::filesystem::path& dir,
                                                const LocalWriterOptions& options, RefLock lock) {
  (void)layout;
  const std::string& ref = options.ref;
  auto data = OpenExistingData(DataPath(dir));
  if (!data.ok()) return data.status();
  auto st = posix::Fstat(data->get());
  if (!st.ok()) return st.status();
  const Timestamp mtime = Timestamp::FromTimespec(st->st_mtim);

  // The folder's name is sha256(ref): the data is this ref's whatever the
  // small files say. Missing or corrupt ones are rewritten, not fatal
  // (containerd starts over, and keeps stale bytes while doing so).
  const std::filesystem::path ref_file = ingest::FilePath(dir, Layout::kRefFile);
  auto stored_ref = posix::ReadFile(ref_file);
  if (!stored_ref.ok() || *stored_ref != ref) {
    spdlog::info("ingest for ref {}: repairing its ref file", Quoted(ref));
    CASFS_RETURN_IF_ERROR(posix::WriteFileInPlace(ref_file, ref));
  }
  const std::filesystem::path started_file = ingest::FilePath(dir, Layout::kStartedAtFile);
  std::optional<Timestamp> started = ingest::ReadTimestamp(started_file);
  if (!started.has_value()) {
    auto born = posix::BirthTime(data->get());
    started = (born.ok() && born->has_value()) ? Timestamp::FromTimespec(**born) : mtime;
    spdlog::info("ingest for ref {}: repairing startedat", Quoted(ref));
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(started_file, *started));
  }
  const std::filesystem::path updated_file = ingest::FilePath(dir, Layout::kUpdatedAtFile);
  std::optional<Timestamp> updated = ingest::ReadTimestamp(updated_file);
  if (!updated.has_value()) {
    updated = std::max(*started, mtime);
    spdlog::info("ingest for ref {}: repairing updatedat", Quoted(ref));
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(updated_file, *updated));
  }

  Opened opened;
  opened.lock = std::move(lock);
  opened.status.ref = ref;
  opened.status.expected = ingest::ReadExpected(dir);
  if (options.expected.has_value() && opened.status.expected != options.expected) {
    CASFS_RETURN_IF_ERROR(ingest::WriteExpected(dir, options.expected, /*durable=*/false));
    opened.status.expected = options.expected;
  }

  const int64_t stored_total = ingest::ReadTotal(dir);
  if (options.total > 0 && stored_total > 0 && options.total != stored_total) {
    // The caller means other content than was started: start over, as
    // containerd does, but truncate the data too (containerd leaves the
    // old bytes past the new writes, and can commit a mixture).
    spdlog::info("ingest for ref {}: total {} differs from the stored {}; starting over",
                 Quoted(ref), options.total, stored_total);
    if (auto removed = ingest::RemoveCheckpoint(dir); !removed.ok()) return removed.status();
    CASFS_RETURN_IF_ERROR(posix::Ftruncate(data->get(), 0));
    const Timestamp now = Timestamp::Now();
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(started_file, now));
    CASFS_RETURN_IF_ERROR(ingest::WriteTimestamp(updated_file, now));
    CASFS_RETURN_IF_ERROR(ingest::WriteTotal(dir, options.total, /*durable=*/false));
    if (!options.expected.has_value() && opened.status.expected.has_value()) {
      CASFS_RETURN_IF_ERROR(ingest::WriteExpected(dir, std::nullopt, /*durable=*/false));
      opened.status.expected.reset();
    }
    opened.status.total = options.total;
    opened.status.started_at = now;
    opened.status.updated_at = now;
    opened.data = std::move(*data);
    return opened;
  }

  // containerd keeps the stored total and drops the caller's.
  opened.status.total = stored_total;
  opened.status.started_at = *started;
  opened.status.updated_at = std::max(*updated, mtime);

  std::optional<ResumableSha256> restored = ingest::LoadCheckpoint(dir, *st);
  auto had_checkpoint = ingest::RemoveCheckpoint(dir);
  if (!had_checkpoint.ok()) return had_checkpoint.status();
  if (*had_checkpoint) {
    // This session will change the data: the checkpoint must be gone for
    // good first, or a crash could resurrect it next to different bytes.
    CASFS_RETURN_IF_ERROR(posix::FsyncPath(dir));
  }
  if (restored.has_value()) {
    opened.hash = std::move(*restored);
  } else {
    std::vector<char> scratch;
    CASFS_RETURN_IF_ERROR(ingest::HashRange(data->get(), &opened.hash, 0, st->st_size, &scratch));
  }
  opened.size = st->st_size;
  opened.data = std::move(*data);
  return opened;
}

LocalWriter::LocalWriter(const Layout& layout, std::filesystem::path dir, Opened opened)
    : layout_(layout),
      labels_(&layout_),
      dir_(std::move(dir)),
      lock_(std::move(opened.lock)),
      data_(std::move(opened.data)),
      status_(std::move(opened.status)),
      hash_(std::move(opened.hash)),
      hashed_(static_cast<int64_t>(hash_.length())),
      size_(opened.size),
      append_at_(opened.size),
      folder_sync_pending_(opened.folder_sync_pending),
      parent_sync_pending_(opened.parent_sync_pending) {}

LocalWriter::~LocalWriter() {
  Status closed = Close();
  if (!closed.ok()) spdlog::warn("closing writer for ref {}: {}", RefForMessages(), closed.ToString());
}

std::string LocalWriter::RefForMessages() const { return Quoted(status_.ref); }

// ---------------------------------------------------------------------------
// Writing and hashing.

Status LocalWriter::Write(const void* data, size_t size) {
  int64_t offset = 0;
  {
    std::lock_guard lock(mu_);
    offset = append_at_;
    append_at_ += static_cast<int64_t>(size);
  }
  return WriteAt(offset, data, size);
}

Status LocalWriter::WriteAt(int64_t offset, const void* data, size_t size) {
  if (offset < 0) return Status::InvalidArgument("negative write offset for ref " + RefForMessages());
  std::shared_lock io(io_mu_);
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kOpen) {
      return Status::FailedPrecondition("write on closed writer for ref " + RefForMessages());
    }
  }
  const int64_t end = offset + static_cast<int64_t>(size);
  Status written = posix::PwriteFull(data_.get(), data, size, offset);

  std::lock_guard lock(mu_);
  status_.updated_at = Timestamp::Now();
  if (!written.ok()) {
    // Part of the range may have landed (ENOSPC half-way): the file's size
    // is the truth, and any hashed byte the write reached is suspect.
    if (offset < hashed_) InvalidateHashLocked();
    auto st = posix::Fstat(data_.get());
    if (st.ok()) size_.store(st->st_size, std::memory_order_release);
    return written.WithContext("write ingest for ref " + RefForMessages());
  }
  append_at_ = end;
  if (size == 0) return Status::Ok();
  if (end > size_.load(std::memory_order_relaxed)) size_.store(end, std::memory_order_release);
  if (offset < hashed_) {
    InvalidateHashLocked();
  } else if (offset == hashed_) {
    hash_.Update(data, size);
    hashed_ = end;
  } else {
    AddExtentLocked(offset, end);
  }
  Status status;
  AbsorbExtentsLocked(&status);
  return status;
}

void LocalWriter::AddExtentLocked(int64_t begin, int64_t end) {
  // Merge with every extent that overlaps or touches [begin, end).
  auto it = extents_.upper_bound(begin);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) {
      begin = prev->first;
      end = std::max(end, prev->second);
      it = extents_.erase(prev);
    }
  }
  while (it != extents_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = extents_.erase(it);
  }
  extents_.emplace(begin, end);
}

void LocalWriter::AbsorbExtentsLocked(Status* status) {
  while (!extents_.empty() && extents_.begin()->first <= hashed_) {
    const int64_t end = extents_.begin()->second;
    extents_.erase(extents_.begin());
    if (end > hashed_) {
      Status read = HashFromFileLocked(hashed_, end);
      if (!read.ok()) {
        *status = read;
        return;
      }
    }
  }
}

Status LocalWriter::HashFromFileLocked(int64_t from, int64_t to) {
  Status status = ingest::HashRange(data_.get(), &hash_, from, to, &scratch_);
  if (!status.ok()) {
    InvalidateHashLocked();
    return status;
  }
  hashed_ = to;
  return Status::Ok();
}

void LocalWriter::InvalidateHashLocked() {
  hash_.Reset();
  hashed_ = 0;
  extents_.clear();
}

Status LocalWriter::CatchUpLocked() {
  const int64_t size = size_.load(std::memory_order_relaxed);
  if (hashed_ > size) InvalidateHashLocked();
  extents_.clear();
  if (hashed_ == size) return Status::Ok();
  return HashFromFileLocked(hashed_, size);
}

std::optional<Digest> LocalWriter::CommittedDigest() const {
  std::lock_guard lock(mu_);
  return committed_as_;
}

Result<Digest> LocalWriter::CurrentDigest() {
  std::shared_lock io(io_mu_);
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) {
    if (final_digest_.has_value()) return *final_digest_;
    return Status::FailedPrecondition("digest of ref " + RefForMessages() + " is unknown");
  }
  CASFS_RETURN_IF_ERROR(CatchUpLocked());
  return hash_.Current();
}

IngestStatus LocalWriter::GetStatus() const {
  std::lock_guard lock(mu_);
  IngestStatus status = status_;
  status.offset = size_.load(std::memory_order_relaxed);
  return status;
}

Status LocalWriter::Truncate(int64_t size) {
  if (size < 0) return Status::InvalidArgument("negative size for ref " + RefForMessages());
  std::unique_lock io(io_mu_);
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) {
    return Status::FailedPrecondition("truncate on closed writer for ref " + RefForMessages());
  }
  CASFS_RETURN_IF_ERROR(posix::Ftruncate(data_.get(), size));
  if (size < hashed_) {
    InvalidateHashLocked();
  } else {
    // Drop what the cut removed; the zeros of an extension are hashed from
    // the file when the prefix reaches them.
    for (auto it = extents_.begin(); it != extents_.end();) {
      if (it->first >= size) {
        it = extents_.erase(it);
      } else {
        it->second = std::min(it->second, size);
        ++it;
      }
    }
  }
  size_.store(size, std::memory_order_release);
  append_at_ = size;
  status_.updated_at = Timestamp::Now();
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Closing and committing.

Status LocalWriter::SyncAndCheckpointLocked() {
  CASFS_RETURN_IF_ERROR(posix::Fsync(data_.get()));
  if (folder_sync_pending_) {
    CASFS_RETURN_IF_ERROR(posix::FsyncPath(dir_));
    folder_sync_pending_ = false;
  }
  if (parent_sync_pending_) {
    CASFS_RETURN_IF_ERROR(posix::FsyncPath(dir_.parent_path()));
    parent_sync_pending_ = false;
  }
  Status caught_up = CatchUpLocked();
  if (!caught_up.ok()) return caught_up;
  auto st = posix::Fstat(data_.get());
  if (!st.ok()) return st.status();
  Status saved = ingest::SaveCheckpoint(dir_, hash_, *st);
  if (!saved.ok()) {
    // Only costs a rehash on the next resume.
    spdlog::warn("ingest for ref {}: hash checkpoint not saved: {}", RefForMessages(), saved.ToString());
  }
  return Status::Ok();
}

void LocalWriter::FinishLocked(State state) {
  if (hashed_ == size_.load(std::memory_order_relaxed)) final_digest_ = hash_.Current();
  data_.Reset();
  lock_.Release();
  state_ = state;
}

Status LocalWriter::Close() {
  std::unique_lock io(io_mu_);
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) return Status::Ok();
  Status synced = SyncAndCheckpointLocked();

  // updatedat is the time of the last change, whoever made it: this
  // session's writes, the data's mtime, or a SetIngestTotal since.
  Timestamp updated = status_.updated_at;
  if (auto st = posix::Fstat(data_.get()); st.ok()) {
    updated = std::max(updated, Timestamp::FromTimespec(st->st_mtim));
  }
  const std::filesystem::path updated_file = ingest::FilePath(dir_, Layout::kUpdatedAtFile);
  if (auto on_disk = ingest::ReadTimestamp(updated_file)) updated = std::max(updated, *on_disk);
  Status recorded = ingest::WriteTimestamp(updated_file, updated);
  if (!recorded.ok()) {
    spdlog::warn("ingest for ref {}: updatedat not written: {}", RefForMessages(), recorded.ToString());
  }
  status_.updated_at = updated;

  Status closed = data_.Close();
  FinishLocked(State::kClosed);
  if (!synced.ok()) return synced.WithContext("close writer for ref " + RefForMessages());
  return closed;
}

Status LocalWriter::Commit(int64_t size, const std::optional<Digest>& expected,
                           const CommitOptions& options) {
  std::unique_lock io(io_mu_);
  std::lock_guard lock(mu_);
  // A writer that is no longer open holds no lock and must not touch one
  // (containerd's closed writer frees whatever lock the ref has now).
  if (state_ != State::kOpen) {
    return Status::FailedPrecondition("cannot commit on closed writer for ref " + RefForMessages());
  }
  const std::string ref = RefForMessages();
  const std::filesystem::path data_path = DataPath(dir_);
  const int fd = data_.get();

  // Whatever the outcome, this writer ends here and releases its lock.
  // A failure before the rename leaves the ingest as it was (plus a hash
  // checkpoint, so that a corrected retry does not rehash everything).
  bool committed = false;
  std::optional<Digest> named_as;
  auto finish = [&](Status status) -> Status {
    if (status.ok() || status.IsAlreadyExists()) committed_as_ = named_as;
    if (!committed && data_.valid() && !status.IsAlreadyExists()) {
      Status checkpoint = SyncAndCheckpointLocked();
      if (!checkpoint.ok()) spdlog::debug("ingest for ref {}: {}", ref, checkpoint.ToString());
    }
    FinishLocked(State::kCommitted);
    return status;
  };

  // 1. Verify: labels, then containerd's order (size before digest),
  //    caller's expectations before the ingest's stored ones.
  if (options.labels.has_value()) {
    if (Status valid = ValidateLabels(*options.labels); !valid.ok()) return finish(valid);
  }
  auto st = posix::Fstat(fd);
  if (!st.ok()) return finish(st.status());
  const int64_t data_size = st->st_size;
  if (data_size != size_.load(std::memory_order_relaxed)) {
    // Changed behind our back (only a process that ignores our lock, such
    // as containerd, can): what is verified must be what gets renamed.
    spdlog::warn("ingest for ref {}: data is {} bytes, the writer knew {}", ref, data_size,
                 size_.load(std::memory_order_relaxed));
    InvalidateHashLocked();
    size_.store(data_size, std::memory_order_release);
  }
  if (Status hashed = CatchUpLocked(); !hashed.ok()) return finish(hashed);
  const int64_t stored_total = ingest::ReadTotal(dir_);
  const std::optional<Digest> stored_expected = ingest::ReadExpected(dir_);
  // The data's digest in each algorithm asked for: sha256 from the running
  // hash, any other by reading the data once more.
  std::map<Algorithm, Digest> digests{{Algorithm::kSha256, hash_.Current()}};
  auto digest_in = [&](Algorithm algorithm) -> Result<Digest> {
    if (auto it = digests.find(algorithm); it != digests.end()) return it->second;
    Digester digester(algorithm);
    CASFS_RETURN_IF_ERROR(ingest::HashRange(fd, &digester, 0, data_size, &scratch_));
    return digests.emplace(algorithm, digester.Current()).first->second;
  };
  const Algorithm naming = options.algorithm.value_or(
      expected.has_value() ? expected->algorithm()
                           : (stored_expected.has_value() ? stored_expected->algorithm() : Algorithm::kSha256));
  auto named = digest_in(naming);
  if (!named.ok()) return finish(named.status());
  const Digest actual = *named;
  named_as = actual;
  // An expected digest is checked in its own algorithm; `whose` names it
  // in the message.
  auto check_expected = [&](const Digest& wanted, std::string_view whose) -> Status {
    auto got = digest_in(wanted.algorithm());
    if (!got.ok()) return got.status();
    if (*got == wanted) return Status::Ok();
    return Status::FailedPrecondition("unexpected commit digest for ref " + ref + ": expected " +
                                      wanted.ToString() + std::string(whose) + ", actual " + got->ToString());
  };
  if (size > 0 && size != data_size) {
    return finish(Status::FailedPrecondition("unexpected commit size for ref " + ref + ": expected " +
                                             std::to_string(size) + ", actual " +
                                             std::to_string(data_size)));
  }
  if (stored_total > 0 && stored_total != data_size) {
    return finish(Status::FailedPrecondition(
        "unexpected commit size for ref " + ref + ": expected " + std::to_string(stored_total) +
        " (the ingest's total), actual " + std::to_string(data_size)));
  }
  if (expected.has_value()) {
    if (Status checked = check_expected(*expected, ""); !checked.ok()) return finish(checked);
  }
  if (stored_expected.has_value()) {
    Status checked = check_expected(*stored_expected, " (the ingest's expected digest)");
    if (!checked.ok()) return finish(checked);
  }

  // The blob's labels: staged ones, overridden by the options; an empty
  // value removes (containerd's metadata store drops empty labels).
  auto staged = ingest::ReadStagedLabels(dir_);
  if (!staged.ok()) return finish(staged.status());
  Labels labels = std::move(*staged);
  const bool set_labels = options.labels.has_value() || !labels.empty();
  if (options.labels.has_value()) {
    for (const auto& [key, value] : *options.labels) labels[key] = value;
  }
  std::erase_if(labels, [](const auto& label) { return label.second.empty(); });
  if (Status valid = ValidateLabels(labels); !valid.ok()) return finish(valid);

  MaybeInjectFault("commit:before-sync");

  const std::filesystem::path blob = layout_.BlobPath(actual);
  const std::filesystem::path algorithm_dir = layout_.AlgorithmDir(actual.algorithm());
  const bool new_algorithm_dir = !posix::Lstat(algorithm_dir).ok();
  if (Status made = posix::MakeDirs(algorithm_dir); !made.ok()) return finish(made);

  // Label changes of blobs are serialised by the label lock. A commit that
  // carries labels holds it from its (second) existence check to its
  // rename, which makes "exists: merge" and "new: write" exclusive between
  // such commits and against Update and Delete; it is never held across
  // the data's fsync, so labelled commits still sync in parallel.
  posix::UniqueFd label_lock;
  auto lock_labels = [&]() -> Status {
    if (!set_labels || label_lock.valid()) return Status::Ok();
    auto locked = labels_.Lock(actual.algorithm());
    if (!locked.ok()) return locked.status();
    label_lock = std::move(*locked);
    return Status::Ok();
  };

  // 2. Already there: merge our labels into the blob's (under the label
  //    lock), drop the ingest.
  auto merge_into_existing = [&]() -> Status {
    if (!labels.empty()) {
      auto blob_fd = posix::OpenForReadNoAtime(blob);
      if (!blob_fd.ok()) return blob_fd.status();
      auto blob_st = posix::Fstat(blob_fd->get());
      if (!blob_st.ok()) return blob_st.status();
      auto existing = labels_.Read(blob_fd->get(), actual);
      if (!existing.ok()) return existing.status();
      Labels merged = std::move(*existing);
      for (const auto& [key, value] : labels) merged[key] = value;
      CASFS_RETURN_IF_ERROR(labels_.Write(blob_fd->get(), actual, merged));
      Status touched =
          posix::SetTimes(blob_fd->get(), Timestamp::Now().ToTimespec(), blob_st->st_mtim);
      if (!touched.ok()) spdlog::warn("{}: updatedat not refreshed: {}", actual.ToString(), touched.ToString());
    }
    label_lock.Reset();
    Status removed = posix::RemoveAll(dir_);
    if (!removed.ok()) spdlog::warn("ingest for ref {}: not removed: {}", ref, removed.ToString());
    committed = true;  // nothing of the ingest is left to checkpoint
    return Status::AlreadyExists("content " + actual.ToString());
  };
  // Status of the blob path: absent (ok, false), a blob (ok, true), or
  // debris that no Walk or Info reports, never to be mistaken for the blob.
  auto blob_exists = [&]() -> Result<bool> {
    auto existing = posix::Lstat(blob);
    if (!existing.ok()) {
      if (existing.status().IsNotFound()) return false;
      return existing.status();
    }
    if (!S_ISREG(existing->st_mode)) {
      return Status::FromErrno("commit ref " + ref + ": " + blob.native() +
                                   " is taken by something that is not a blob",
                               EISDIR);
    }
    return true;
  };
  // Checked before the work of step 3, and again under the label lock.
  if (auto exists = blob_exists(); !exists.ok() || *exists) {
    if (!exists.ok()) return finish(exists.status());
    if (Status locked = lock_labels(); !locked.ok()) return finish(locked);
    return finish(merge_into_existing());
  }

  // 3. Make the data file the blob it will be: labels, read-only mode,
  //    commit-time times; then one fsync makes content and inode durable.
  //    Everything here is undone if the rename does not happen.
  const mode_t original_mode = st->st_mode & 07777;
  const struct timespec original_atime = st->st_atim;
  const struct timespec original_mtime = st->st_mtim;
  bool wrote_attribute = false;
  bool needs_overflow = false;
  bool wrote_overflow = false;
  std::optional<std::string> previous_overflow;
  auto undo = [&]() {
    if (Status s = posix::Fchmod(fd, original_mode); !s.ok()) spdlog::warn("commit undo: {}", s.ToString());
    if (wrote_attribute) {
      if (Status s = labels_.RemoveAttribute(fd); !s.ok()) spdlog::warn("commit undo: {}", s.ToString());
    }
    if (wrote_overflow) {  // only ever under the label lock
      if (Status s = labels_.RestoreOverflow(actual, previous_overflow); !s.ok()) {
        spdlog::warn("commit undo: {}", s.ToString());
      }
    }
    if (Status s = posix::SetTimes(fd, original_atime, original_mtime); !s.ok()) {
      spdlog::warn("commit undo: {}", s.ToString());
    }
  };
  auto prepare = [&]() -> Status {
    if (set_labels) {
      // The data file is ours alone until the rename: no lock needed.
      Status set = labels_.SetAttribute(fd, labels);
      if (set.ok()) {
        wrote_attribute = true;
      } else if (LabelStore::IsOverflowErrno(set)) {
        needs_overflow = true;  // the store's file: written under the lock, below
        CASFS_RETURN_IF_ERROR(labels_.RemoveAttribute(fd));
      } else {
        return set;
      }
    } else {
      // A commit that died after its labels were set leaves them on the
      // data; without labels now, the blob must not inherit them.
      CASFS_RETURN_IF_ERROR(labels_.RemoveAttribute(fd));
    }
    CASFS_RETURN_IF_ERROR(posix::Fchmod(fd, original_mode & ~mode_t{0333}));
    const struct timespec now = Timestamp::Now().ToTimespec();
    CASFS_RETURN_IF_ERROR(posix::SetTimes(fd, now, now));
    return posix::Fsync(fd);
  };
  if (Status prepared = prepare(); !prepared.ok()) {
    undo();
    return finish(prepared.WithContext("commit ref " + ref));
  }
  MaybeInjectFault("commit:after-sync");

  // 4. The blob name appears only now, pointing at complete, verified,
  //    read-only, durable content. RENAME_NOREPLACE settles a race between
  //    two refs committing the same content: one creates, one merges.
  auto publish = [&]() -> Status {
    CASFS_RETURN_IF_ERROR(lock_labels());
    auto exists = blob_exists();
    if (!exists.ok()) return exists.status();
    if (*exists) return Status::AlreadyExists("content " + actual.ToString());
    if (needs_overflow) {
      auto previous = labels_.ReadOverflowRaw(actual);
      if (!previous.ok()) return previous.status();
      previous_overflow = std::move(*previous);
      wrote_overflow = true;
      CASFS_RETURN_IF_ERROR(labels_.WriteOverflow(actual, labels));
    }
    return posix::RenameNoReplace(data_path, blob);
  };
  if (Status renamed = publish(); !renamed.ok()) {
    undo();
    if (renamed.IsAlreadyExists()) return finish(merge_into_existing());
    label_lock.Reset();
    return finish(renamed.WithContext("commit ref " + ref));
  }
  committed = true;
  MaybeInjectFault("commit:after-rename");

  // 5. From here on the blob exists: failures are logged, not returned.
  if (wrote_attribute) {
    // The attribute now hides any stale overflow file; drop it.
    if (Status s = labels_.RemoveOverflow(actual); !s.ok()) spdlog::warn("commit {}: {}", ref, s.ToString());
  }
  label_lock.Reset();
  if (Status s = posix::FsyncPath(algorithm_dir); !s.ok()) {
    spdlog::error("commit {}: {} may not survive a crash: {}", ref, actual.ToString(), s.ToString());
  }
  if (new_algorithm_dir) {
    for (const auto& parent : {layout_.BlobsDir(), layout_.root()}) {
      if (Status s = posix::FsyncPath(parent); !s.ok()) spdlog::warn("commit {}: {}", ref, s.ToString());
    }
  }
  if (Status s = posix::RemoveAll(dir_); !s.ok()) {
    spdlog::warn("commit {}: ingest folder left behind: {}", ref, s.ToString());
  }
  return finish(Status::Ok());
}

}  // namespace casfs
