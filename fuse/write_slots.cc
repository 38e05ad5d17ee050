#include "fuse/write_slots.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace casfs::fuse {

using Clock = std::chrono::steady_clock;

WriteSlots::WriteSlots(const Timing& timing) : timing_(timing) {}

WriteSlots::~WriteSlots() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  parked_.notify_all();
  if (closer_.joinable()) closer_.join();
  // Whatever is still parked is closed now (at unmount).
  std::vector<Due> parked;
  {
    std::lock_guard lock(mu_);
    for (auto& [ref, slot] : slots_) {
      if (slot->parked) parked.push_back({ref, slot, slot->writer});
    }
  }
  for (Due& d : parked) CloseAndRelease(d.ref, d.slot.get(), d.writer);
}

WriteSlots::Claim& WriteSlots::Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    Reset();
    slots_ = other.slots_;
    ref_ = std::move(other.ref_);
    slot_ = std::move(other.slot_);
    other.slots_ = nullptr;
  }
  return *this;
}

std::shared_ptr<Writer> WriteSlots::Claim::writer() const {
  std::lock_guard lock(slots_->mu_);
  return slot_->writer;
}

void WriteSlots::Claim::SetWriter(std::shared_ptr<Writer> writer) {
  std::lock_guard lock(slots_->mu_);
  slot_->writer = std::move(writer);
}

void WriteSlots::Claim::MarkReleasing() {
  {
    std::lock_guard lock(slots_->mu_);
    slot_->releasing.store(true, std::memory_order_release);
  }
  slots_->released_.notify_all();
}

void WriteSlots::Claim::Park() {
  if (slots_ == nullptr) return;
  WriteSlots* slots = slots_;
  std::shared_ptr<Slot> slot = std::move(slot_);
  std::string ref = std::move(ref_);
  slots_ = nullptr;
  std::shared_ptr<Writer> writer;
  {
    std::lock_guard lock(slots->mu_);
    writer = slot->writer;
  }
  if (writer && slots->timing_.park_time.count() > 0) {
    slots->ParkSlot(ref, slot);
    return;
  }
  if (writer) {
    slot->releasing.store(true, std::memory_order_release);
    slots->released_.notify_all();
  }
  slots->CloseAndRelease(ref, slot.get(), writer);
}

void WriteSlots::Claim::Reset() {
  if (slots_ == nullptr) return;
  slots_->Release(ref_, slot_.get());
  slots_ = nullptr;
  slot_.reset();
}

void WriteSlots::ParkSlot(const std::string& ref, const std::shared_ptr<Slot>& slot) {
  {
    std::lock_guard lock(mu_);
    // Started with the first parked writer, not before: the background
    // mount forks after the filesystem is made, and a thread does not
    // survive a fork.
    if (!closer_.joinable() && !stop_) closer_ = std::thread([this] { CloserLoop(); });
    slot->parked = true;
    slot->parked_until = Clock::now() + timing_.park_time;
    slot->flushed.store(false, std::memory_order_release);
    slot->releasing.store(false, std::memory_order_release);
  }
  (void)ref;
  released_.notify_all();  // a waiting claimant can take it over now
  parked_.notify_all();
}

void WriteSlots::CloseAndRelease(const std::string& ref, const Slot* slot,
                                 const std::shared_ptr<Writer>& writer) {
  if (writer) {
    Status closed = writer->Close();
    if (!closed.ok()) spdlog::warn("closing ingest {}: {}", ref, closed.ToString());
  }
  Release(ref, slot);
}

Result<WriteSlots::Claim> WriteSlots::Acquire(const std::string& ref) {
  std::unique_lock lock(mu_);
  auto start = Clock::now();
  for (;;) {
    auto it = slots_.find(ref);
    if (it == slots_.end()) {
      auto slot = std::make_shared<Slot>();
      slots_.emplace(ref, slot);
      return Claim(this, ref, std::move(slot));
    }
    Slot& slot = *it->second;
    if (slot.parked) {
      // Taken over: the writer is still open and now this claim's.
      slot.parked = false;
      return Claim(this, ref, it->second);
    }
    bool closing = slot.releasing.load(std::memory_order_acquire);
    bool flushed = slot.flushed.load(std::memory_order_acquire);
    auto deadline = start + (closing ? timing_.closing_wait : timing_.release_wait);
    if (!(closing || flushed) || Clock::now() >= deadline) {
      return Status::Unavailable("ref " + ref + " is open for writing through this mount");
    }
    released_.wait_until(lock, deadline);
  }
}

void WriteSlots::AwaitReleaseInFlight(const std::string& ref) {
  std::unique_lock lock(mu_);
  auto start = Clock::now();
  for (;;) {
    auto it = slots_.find(ref);
    if (it == slots_.end()) return;
    std::shared_ptr<Slot> slot = it->second;
    if (slot->parked) {
      slot->parked = false;
      slot->releasing.store(true, std::memory_order_release);
      std::shared_ptr<Writer> writer = slot->writer;
      lock.unlock();
      CloseAndRelease(ref, slot.get(), writer);
      return;
    }
    bool closing = slot->releasing.load(std::memory_order_acquire);
    bool flushed = slot->flushed.load(std::memory_order_acquire);
    auto deadline = start + (closing ? timing_.closing_wait : timing_.release_wait);
    if (!(closing || flushed) || Clock::now() >= deadline) return;
    released_.wait_until(lock, deadline);
  }
}

std::shared_ptr<Writer> WriteSlots::ActiveWriter(const std::string& ref) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(ref);
  return it == slots_.end() ? nullptr : it->second->writer;
}

void WriteSlots::Release(const std::string& ref, const Slot* slot) {
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(ref);
    if (it != slots_.end() && it->second.get() == slot) slots_.erase(it);
  }
  released_.notify_all();
}

void WriteSlots::CloserLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    std::vector<Due> due;
    for (auto& [ref, slot] : slots_) {
      if (!slot->parked) continue;
      if (slot->parked_until <= now) {
        slot->parked = false;
        slot->releasing.store(true, std::memory_order_release);
        due.push_back({ref, slot, slot->writer});
      } else {
        next = std::min(next, slot->parked_until);
      }
    }
    if (!due.empty()) {
      lock.unlock();
      for (Due& d : due) CloseAndRelease(d.ref, d.slot.get(), d.writer);
      lock.lock();
      continue;
    }
    if (next == Clock::time_point::max()) {
      parked_.wait(lock);
    } else {
      parked_.wait_until(lock, next);
    }
  }
}

}  // namespace casfs::fuse
