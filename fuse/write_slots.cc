#include "fuse/write_slots.h"

namespace casfs::fuse {

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

void WriteSlots::Claim::Reset() {
  if (slots_ == nullptr) return;
  slots_->Release(ref_, slot_.get());
  slots_ = nullptr;
  slot_.reset();
}

Result<WriteSlots::Claim> WriteSlots::Acquire(const std::string& ref) {
  std::unique_lock lock(mu_);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto it = slots_.find(ref);
    if (it == slots_.end()) {
      auto slot = std::make_shared<Slot>();
      slots_.emplace(ref, slot);
      return Claim(this, ref, std::move(slot));
    }
    const Slot& slot = *it->second;
    bool closing = slot.releasing.load(std::memory_order_acquire);
    bool flushed = slot.flushed.load(std::memory_order_acquire);
    auto deadline = start + (closing ? closing_wait_ : release_wait_);
    if (!(closing || flushed) || std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("ref " + ref + " is open for writing through this mount");
    }
    released_.wait_until(lock, deadline);
  }
}

void WriteSlots::AwaitReleaseInFlight(const std::string& ref) {
  std::unique_lock lock(mu_);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto it = slots_.find(ref);
    if (it == slots_.end()) return;
    const Slot& slot = *it->second;
    bool closing = slot.releasing.load(std::memory_order_acquire);
    bool flushed = slot.flushed.load(std::memory_order_acquire);
    auto deadline = start + (closing ? closing_wait_ : release_wait_);
    if (!(closing || flushed) || std::chrono::steady_clock::now() >= deadline) return;
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

}  // namespace casfs::fuse
