// One write handle per ref in this mount, the short wait for a release in
// flight, and the engine writers kept open ("parked") for a moment after
// their handle is released.
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
// Parking: a released handle's writer is not closed at once. What usually
// follows a close(2) is the rename that commits, or the next append; for
// `park_time` either takes the open writer over (no close with its sync
// and checkpoint, no resume with its reads). After that, a closer thread
// closes it. To another process the parked writer is a release still in
// flight: its ref lock is held for at most `park_time` more, within the
// engine's lock wait.
//
// A slot is claimed before the engine's writer is opened (so two opens in
// this mount cannot both reach the engine) and before rm or mv of an
// ingest (so they see the same rule). Thread-safe; mu_ is a leaf lock,
// never held while a writer is closed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "core/writer.h"

namespace casfs::fuse {

class WriteSlots {
  struct Slot {
    std::atomic<bool> flushed{false};
    std::atomic<bool> releasing{false};
    // Guarded by mu_: the engine's writer once open; whether it is parked
    // (no handle holds the slot) and until when.
    std::shared_ptr<Writer> writer;
    bool parked = false;
    std::chrono::steady_clock::time_point parked_until;
  };

 public:
  struct Timing {
    // How long a claim waits for the RELEASE of a flushed handle to
    // arrive, and for a release under way (a closing writer) to finish.
    std::chrono::milliseconds release_wait{1000};
    std::chrono::milliseconds closing_wait{30000};
    // How long a released handle's writer stays open for the next claim;
    // 0 closes it with the release.
    std::chrono::milliseconds park_time{0};
  };

  explicit WriteSlots(const Timing& timing);
  // Closes every parked writer.
  ~WriteSlots();
  WriteSlots(const WriteSlots&) = delete;
  WriteSlots& operator=(const WriteSlots&) = delete;

  // Holds one ref's slot; gives it back when destroyed (the caller has
  // closed or committed any writer by then, or parks it). Move-only.
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
    // The writer this claim took over from a parked slot (still open), or
    // the one published with SetWriter; nullptr if none.
    std::shared_ptr<Writer> writer() const;
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
    // Publishes the open writer (for readers of the ingest's attributes,
    // and for Park).
    void SetWriter(std::shared_ptr<Writer> writer);
    // Gives the slot back, leaving its open writer parked for the next
    // claim (or closed by the closer after the park time). With a park
    // time of 0, or no writer, the writer is closed now, as by Reset after
    // a Close.
    void Park();
    // Gives the slot back now; its writer, if any, must be closed or
    // committed already.
    void Reset();

   private:
    friend class WriteSlots;
    Claim(WriteSlots* slots, std::string ref, std::shared_ptr<Slot> slot)
        : slots_(slots), ref_(std::move(ref)), slot_(std::move(slot)) {}
    WriteSlots* slots_ = nullptr;
    std::string ref_;
    std::shared_ptr<Slot> slot_;
  };

  // Claims `ref`, taking over a parked writer if there is one (see
  // Claim::writer). kUnavailable ("ref <ref> is open for writing through
  // this mount") when a handle that has not been flushed since its last
  // write holds it, or when a flushed one is not released in time.
  Result<Claim> Acquire(const std::string& ref);

  // Waits (bounded as Acquire does) while `ref` is held by a handle that
  // has been flushed or is being released, and closes a parked writer of
  // it, so that a change made right after close(2) does not race with that
  // writer's close; returns at once when no handle holds it or one is in
  // use.
  void AwaitReleaseInFlight(const std::string& ref);

  // The writer of the handle holding `ref`, or the parked one, if any.
  std::shared_ptr<Writer> ActiveWriter(const std::string& ref) const;

 private:
  struct Due {
    std::string ref;
    std::shared_ptr<Slot> slot;
    std::shared_ptr<Writer> writer;
  };
  void Release(const std::string& ref, const Slot* slot);
  void ParkSlot(const std::string& ref, const std::shared_ptr<Slot>& slot);
  void CloserLoop();
  // Closes `writer` (logging a failure) and removes the slot.
  void CloseAndRelease(const std::string& ref, const Slot* slot, const std::shared_ptr<Writer>& writer);

  const Timing timing_;
  mutable std::mutex mu_;
  std::condition_variable released_;  // a slot went, or changed state
  std::condition_variable parked_;    // for the closer: a writer was parked, or stop
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  bool stop_ = false;
  std::thread closer_;  // started by the first Park; guarded by mu_
};

}  // namespace casfs::fuse
