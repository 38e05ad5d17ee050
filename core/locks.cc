#include "core/locks.h"

#include <sys/file.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>

namespace casfs {
namespace {

using Clock = std::chrono::steady_clock;

// Backoff between tries: random in [0, cap], cap doubling from 1 ms to
// 32 ms, like containerd's jittered retry but bounded by a deadline rather
// than a try count, so the caller's `wait` is what it gets.
std::chrono::microseconds NextSleep(std::chrono::microseconds& cap) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> pick(cap.count() / 2, cap.count());
  std::chrono::microseconds sleep(pick(rng));
  cap = std::min<std::chrono::microseconds>(cap * 2, std::chrono::milliseconds(32));
  return sleep;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

Result<RefLock> RefLock::Acquire(const std::filesystem::path& dir, std::string_view ref,
                                 std::chrono::milliseconds wait) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + wait;
  std::chrono::microseconds cap(1000);
  for (;;) {
    auto fd = posix::OpenDirectory(dir);
    if (!fd.ok()) {
      if (fd.status().IsNotFound()) {
        return Status::NotFound("ingest for ref " + std::string(ref) + " does not exist");
      }
      return fd.status();
    }
    Status locked = posix::Flock(fd->get(), LOCK_EX | LOCK_NB);
    if (locked.ok()) {
      // The folder may have been removed (Abort, Commit) or replaced between
      // our open and our flock; a lock on a dead inode guards nothing.
      auto held = posix::Fstat(fd->get());
      if (!held.ok()) return held.status();
      auto now_at_path = posix::Stat(dir);
      if (now_at_path.ok() && SameFile(*held, *now_at_path)) return RefLock(std::move(*fd));
      if (!now_at_path.ok() && !now_at_path.status().IsNotFound()) return now_at_path.status();
      if (!now_at_path.ok()) {
        return Status::NotFound("ingest for ref " + std::string(ref) +
                                " was removed while waiting for its lock");
      }
      continue;  // replaced by a new folder: lock that one instead
    }
    if (!locked.Is(ErrorKind::kUnavailable)) return locked;
    fd->Reset();
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
      return Status::Unavailable("ref " + std::string(ref) + " locked by another writer (waited " +
                                 std::to_string(waited.count()) + "ms)");
    }
    auto sleep = NextSleep(cap);
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
    std::this_thread::sleep_for(std::min(sleep, left));
  }
}

}  // namespace casfs
