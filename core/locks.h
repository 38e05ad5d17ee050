// One writer per ref, across every process that uses the root.
//
// containerd locks refs in a per-process table, so two processes (or
// containerd and casfs) can interleave writes to one ingest. casfs takes an
// exclusive flock(2) on the ingest folder itself: the kernel arbitrates
// between processes and between open file descriptions within one process,
// and frees the lock when its holder dies, so a crash leaves no stale lock.
// (containerd's in-process table still applies on its side; a containerd
// process and casfs do not see each other's locks.)
#pragma once

#include <chrono>
#include <filesystem>

#include "core/posix.h"
#include "core/status.h"

namespace casfs {

class RefLock {
 public:
  RefLock() = default;  // holds nothing
  RefLock(RefLock&&) noexcept = default;
  RefLock& operator=(RefLock&&) noexcept = default;
  RefLock(const RefLock&) = delete;
  RefLock& operator=(const RefLock&) = delete;
  ~RefLock() = default;  // closing the folder's descriptor releases the lock

  // Locks the existing folder `dir`, retrying with a short backoff for up to
  // `wait` (0: one try). kUnavailable ("ref <ref> is locked by another
  // writer") when still held after that; kNotFound if `dir` does not exist,
  // or was removed while we waited (the lock is then on a dead folder). The
  // lock is taken only on the folder currently at `dir`: after flock the
  // inode is compared with a fresh stat of the path.
  static Result<RefLock> Acquire(const std::filesystem::path& dir, std::string_view ref,
                                 std::chrono::milliseconds wait);

  bool held() const { return fd_.valid(); }
  // Releases now (the destructor does the same).
  void Release() { fd_.Reset(); }

 private:
  explicit RefLock(posix::UniqueFd fd) : fd_(std::move(fd)) {}
  posix::UniqueFd fd_;
};

}  // namespace casfs
