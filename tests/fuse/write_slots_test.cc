#include "fuse/write_slots.h"

#include <gtest/gtest.h>

#include <thread>

namespace casfs::fuse {
namespace {

using namespace std::chrono_literals;

TEST(WriteSlotsTest, OneHandlePerRef) {
  WriteSlots slots(200ms, 2000ms);
  auto first = slots.Acquire("r");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
  EXPECT_TRUE(slots.Acquire("other").ok());
  first->Reset();
  EXPECT_TRUE(slots.Acquire("r").ok());
}

TEST(WriteSlotsTest, AnUnflushedHandleIsRefusedAtOnce) {
  WriteSlots slots(5000ms, 5000ms);
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(slots.Acquire("r").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

TEST(WriteSlotsTest, AFlushedHandleIsWaitedForUntilItsRelease) {
  WriteSlots slots(3000ms, 3000ms);
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  held->MarkFlushed();
  std::thread release([&] {
    std::this_thread::sleep_for(50ms);
    held->Reset();
  });
  auto next = slots.Acquire("r");
  release.join();
  EXPECT_TRUE(next.ok());
}

TEST(WriteSlotsTest, AFlushedHandleThatStaysOpenIsRefusedAfterTheWait) {
  WriteSlots slots(100ms, 3000ms);
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  held->MarkFlushed();
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
  // Written again after the flush: busy at once.
  held->MarkWritten();
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
}

TEST(WriteSlotsTest, AReleaseUnderWayIsWaitedForBeyondTheShortWait) {
  WriteSlots slots(100ms, 5000ms);
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  held->MarkFlushed();
  std::thread release([&] {
    std::this_thread::sleep_for(30ms);
    held->MarkReleasing();
    std::this_thread::sleep_for(400ms);  // a slow close (sync of the data)
    held->Reset();
  });
  auto next = slots.Acquire("r");
  release.join();
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

TEST(WriteSlotsTest, ClaimsMoveAndReleaseOnce) {
  WriteSlots slots(100ms, 100ms);
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  WriteSlots::Claim moved = std::move(held.value());
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(slots.Acquire("r").ok());
  moved = WriteSlots::Claim();
  EXPECT_TRUE(slots.Acquire("r").ok());
}

}  // namespace
}  // namespace casfs::fuse
