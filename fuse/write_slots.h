// One write handle per ref in this mount, and the short wait for a release
// in flight.
//
// close(2) returns once the kernel's FLUSH is answered; the RELEASE that
// really ends the handle follows asynchronously. A shell doing
// `echo a >> f; echo b >> f` opens f again before the first RELEASE may
// have arrived. So every write handle has a slot here that records whether
// it has been flushed since its last write: a claim that finds the ref held
// by a flushed handle waits (bounded) for its release; one that finds it
// held by a handle still in use is refused at once. Other processes and
// mounts are arbitrated by the engine's ref lock, whose own bounded wait
// covers their releases in flight.
//
// A slot is claimed before the engine's writer is opened (so two opens in
// this mount cannot both reach the engine) and before rm or mv of an
// ingest (so they see the same rule). Thread-safe; mu_ is a leaf lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "core/writer.h"

namespace casfs::fuse {

class WriteSlots {
  struct Slot {
    std::atomic<bool> flushed{false};
    std::atomic<bool> releasing{false};
    std::shared_ptr<Writer> writer;  // set once the engine's writer is open; guarded by mu_
  };

 public:
  // `release_wait`: how long a claim waits for the RELEASE of a flushed
  // handle to arrive; `closing_wait`: how long it waits for a release that
  // has arrived to finish.
  WriteSlots(std::chrono::milliseconds release_wait, std::chrono::milliseconds closing_wait)
      : release_wait_(release_wait), closing_wait_(closing_wait) {}
  WriteSlots(const WriteSlots&) = delete;
  WriteSlots& operator=(const WriteSlots&) = delete;

  // Holds one ref's slot; gives it back when destroyed. Move-only.
  class Claim {
   public:
    Claim() = default;
    Claim(Claim&& other) noexcept { *this = std::move(other); }
    Claim& operator=(Claim&& other) noexcept;
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim() { Reset(); }

    bool held() const { return slots_ != nullptr; }
    const std::string& ref() const { return ref_; }
    // The handle's descriptors have all been closed (FLUSH), or it wrote
    // again after that.
    void MarkFlushed() { slot_->flushed.store(true, std::memory_order_release); }
    void MarkWritten() {
      if (slot_->flushed.load(std::memory_order_relaxed)) {
        slot_->flushed.store(false, std::memory_order_release);
      }
    }
    // The kernel's RELEASE has arrived and the writer is closing (which
    // syncs the data and may take a while): claimants wait for it beyond
    // the short release wait, up to the closing wait.
    void MarkReleasing();
    // Publishes the open writer (for readers of the ingest's attributes).
    void SetWriter(std::shared_ptr<Writer> writer);
    // Gives the slot back now.
    void Reset();

   private:
    friend class WriteSlots;
    Claim(WriteSlots* slots, std::string ref, std::shared_ptr<Slot> slot)
        : slots_(slots), ref_(std::move(ref)), slot_(std::move(slot)) {}
    WriteSlots* slots_ = nullptr;
    std::string ref_;
    std::shared_ptr<Slot> slot_;
  };

  // Claims `ref`. kUnavailable ("ref <ref> is open for writing through
  // this mount") when a handle that has not been flushed since its last
  // write holds it, or when a flushed one is not released in time.
  Result<Claim> Acquire(const std::string& ref);

  // Waits (bounded as Acquire does) while `ref` is held by a handle that
  // has been flushed or is being released, so that a change made right
  // after close(2) does not race with that handle's close; returns at once
  // when no handle holds it or one is in use.
  void AwaitReleaseInFlight(const std::string& ref);

  // The writer of the handle holding `ref`, if one is open.
  std::shared_ptr<Writer> ActiveWriter(const std::string& ref) const;

 private:
  void Release(const std::string& ref, const Slot* slot);

  const std::chrono::milliseconds release_wait_;
  const std::chrono::milliseconds closing_wait_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace casfs::fuse
