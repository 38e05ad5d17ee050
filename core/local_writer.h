// The local store's Writer (internal to the engine): opening and resuming
// an ingest, positional writes with an incrementally hashed prefix, the
// hash checkpoint, and the durable commit recipe (core/local_store.h).
//
// Hashing. `hash_` covers exactly bytes [0, hashed_) of the data file, and
// those bytes have not changed since they were hashed. A write at
// hashed_ is hashed from the caller's buffer; written ranges beyond hashed_
// are remembered (extents_) and read back from the file once the prefix
// reaches them; a write below hashed_ invalidates the hash, which is then
// rebuilt from the file when next needed. CurrentDigest and Commit read
// [hashed_, size) from the file, holes reading as zeros. Bytes written in
// order are hashed once and never read back.
//
// Concurrency. `io_mu_` guards the data descriptor's lifetime: positional
// writes and reads hold it shared (so writes from several threads reach
// the file in parallel), Truncate, Close and Commit hold it exclusively.
// `mu_` guards everything else. Lock order: io_mu_, then mu_.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/label_store.h"
#include "core/layout.h"
#include "core/local_store.h"
#include "core/locks.h"
#include "core/posix.h"
#include "core/sha256_resumable.h"
#include "core/writer.h"

namespace casfs {

class LocalWriter final : public Writer {
 public:
  // Creates or resumes the ingest of options.ref under `layout` (the rules
  // are in local_store.h). The store's checks (read-only, empty ref) come
  // first, in LocalStore::OpenWriter.
  static Result<std::unique_ptr<Writer>> Open(const Layout& layout,
                                              const LocalWriterOptions& options);

  ~LocalWriter() override;
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  Status Write(const void* data, size_t size) override;
  Status WriteAt(int64_t offset, const void* data, size_t size) override;
  int64_t Size() const override { return size_.load(std::memory_order_acquire); }
  Result<Digest> CurrentDigest() override;
  std::optional<Digest> CommittedDigest() const override;
  IngestStatus GetStatus() const override;
  Status Truncate(int64_t size) override;
  Status Commit(int64_t size, const std::optional<Digest>& expected,
                const CommitOptions& options = {}) override;
  Status Close() override;

 private:
  // What Open hands over: the held lock, the open data file, its status
  // and its hashed prefix.
  struct Opened {
    RefLock lock;
    posix::UniqueFd data;
    IngestStatus status;
    ResumableSha256 hash;
    int64_t size = 0;
    // A new ingest's folder entries (and, for a new folder, its entry in
    // ingest/) are not yet synced: that waits for the first Sync/Close.
    bool folder_sync_pending = false;
    bool parent_sync_pending = false;
  };
  LocalWriter(const Layout& layout, std::filesystem::path dir, Opened opened);

  static Result<Opened> CreateNew(const Layout& layout, const std::filesystem::path& dir,
                                  const LocalWriterOptions& options, RefLock lock,
                                  bool folder_is_new);
  static Result<Opened> Resume(const Layout& layout, const std::filesystem::path& dir,
                               const LocalWriterOptions& options, RefLock lock);

  enum class State { kOpen, kClosed, kCommitted };

  // Requires io_mu_ (shared at least) and mu_.
  Status CatchUpLocked();
  Status HashFromFileLocked(int64_t from, int64_t to);
  void AbsorbExtentsLocked(Status* status);
  void AddExtentLocked(int64_t begin, int64_t end);
  void InvalidateHashLocked();
  // Requires io_mu_ exclusively and mu_: syncs the data and saves the hash
  // checkpoint (best effort; the hash must cover the whole file).
  Status SyncAndCheckpointLocked();
  // Requires io_mu_ exclusively and mu_: closes the data file, releases
  // the ref lock, remembers the final digest.
  void FinishLocked(State state);
  std::string RefForMessages() const;

  const Layout layout_;
  const LabelStore labels_;
  const std::filesystem::path dir_;

  mutable std::shared_mutex io_mu_;
  mutable std::mutex mu_;
  RefLock lock_;                         // guarded by io_mu_ (exclusive)
  posix::UniqueFd data_;                 // lifetime guarded by io_mu_
  State state_ = State::kOpen;           // guarded by mu_
  IngestStatus status_;                  // guarded by mu_
  ResumableSha256 hash_;                 // guarded by mu_; covers [0, hashed_)
  int64_t hashed_ = 0;                   // guarded by mu_
  std::map<int64_t, int64_t> extents_;   // guarded by mu_; begin -> end, beyond hashed_
  std::atomic<int64_t> size_{0};         // written under mu_; read anywhere
  int64_t append_at_ = 0;                // guarded by mu_; where Write goes: the end of the last write
  std::optional<Digest> final_digest_;   // guarded by mu_; once not open
  std::optional<Digest> committed_as_;   // guarded by mu_
  std::vector<char> scratch_;            // guarded by mu_
  bool folder_sync_pending_ = false;     // guarded by mu_
  bool parent_sync_pending_ = false;     // guarded by mu_
};

}  // namespace casfs
