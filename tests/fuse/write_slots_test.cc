#include "fuse/write_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace casfs::fuse {
namespace {

using namespace std::chrono_literals;

// A writer that only counts its closes.
class FakeWriter final : public Writer {
 public:
  std::atomic<int> closes{0};
  Status Write(const void*, size_t) override { return Status::Ok(); }
  Status WriteAt(int64_t, const void*, size_t) override { return Status::Ok(); }
  int64_t Size() const override { return 0; }
  Result<Digest> CurrentDigest() override { return EmptySha256(); }
  IngestStatus GetStatus() const override { return {}; }
  Status Truncate(int64_t) override { return Status::Ok(); }
  Status Commit(int64_t, const std::optional<Digest>&, const CommitOptions&) override { return Status::Ok(); }
  std::optional<Digest> CommittedDigest() const override { return std::nullopt; }
  Status Close() override {
    ++closes;
    return Status::Ok();
  }
};

TEST(WriteSlotsTest, OneHandlePerRef) {
  WriteSlots slots(WriteSlots::Timing{200ms, 2000ms, 0ms});
  auto first = slots.Acquire("r");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
  EXPECT_TRUE(slots.Acquire("other").ok());
  first->Reset();
  EXPECT_TRUE(slots.Acquire("r").ok());
}

TEST(WriteSlotsTest, AnUnflushedHandleIsRefusedAtOnce) {
  WriteSlots slots(WriteSlots::Timing{5000ms, 5000ms, 0ms});
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(slots.Acquire("r").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

TEST(WriteSlotsTest, AFlushedHandleIsWaitedForUntilItsRelease) {
  WriteSlots slots(WriteSlots::Timing{3000ms, 3000ms, 0ms});
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
  WriteSlots slots(WriteSlots::Timing{100ms, 3000ms, 0ms});
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  held->MarkFlushed();
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
  // Written again after the flush: busy at once.
  held->MarkWritten();
  EXPECT_TRUE(slots.Acquire("r").status().Is(ErrorKind::kUnavailable));
}

TEST(WriteSlotsTest, AReleaseUnderWayIsWaitedForBeyondTheShortWait) {
  WriteSlots slots(WriteSlots::Timing{100ms, 5000ms, 0ms});
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
  WriteSlots slots(WriteSlots::Timing{100ms, 100ms, 0ms});
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  WriteSlots::Claim moved = std::move(held.value());
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(slots.Acquire("r").ok());
  moved = WriteSlots::Claim();
  EXPECT_TRUE(slots.Acquire("r").ok());
}

TEST(WriteSlotsTest, AParkedWriterIsTakenOverByTheNextClaim) {
  WriteSlots slots(WriteSlots::Timing{100ms, 1000ms, 5000ms});
  auto writer = std::make_shared<FakeWriter>();
  {
    auto claim = slots.Acquire("r");
    ASSERT_TRUE(claim.ok());
    EXPECT_EQ(claim->writer(), nullptr);
    claim->SetWriter(writer);
    claim->Park();
  }
  EXPECT_EQ(slots.ActiveWriter("r"), writer);
  auto next = slots.Acquire("r");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->writer(), writer);
  EXPECT_EQ(writer->closes, 0);
  // Held again: a second claim is refused.
  EXPECT_FALSE(slots.Acquire("r").ok());
  next->Reset();
  EXPECT_TRUE(slots.Acquire("r").ok());
}

TEST(WriteSlotsTest, AParkedWriterIsClosedAfterTheParkTime) {
  WriteSlots slots(WriteSlots::Timing{100ms, 1000ms, 50ms});
  auto writer = std::make_shared<FakeWriter>();
  {
    auto claim = slots.Acquire("r");
    ASSERT_TRUE(claim.ok());
    claim->SetWriter(writer);
    claim->Park();
  }
  for (int i = 0; i < 200 && writer->closes == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(writer->closes, 1);
  EXPECT_EQ(slots.ActiveWriter("r"), nullptr);
  auto next = slots.Acquire("r");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->writer(), nullptr);
}

TEST(WriteSlotsTest, WithoutAParkTimeParkCloses) {
  WriteSlots slots(WriteSlots::Timing{100ms, 1000ms, 0ms});
  auto writer = std::make_shared<FakeWriter>();
  auto claim = slots.Acquire("r");
  ASSERT_TRUE(claim.ok());
  claim->SetWriter(writer);
  claim->Park();
  EXPECT_EQ(writer->closes, 1);
  EXPECT_TRUE(slots.Acquire("r").ok());
}

TEST(WriteSlotsTest, AwaitingAReleaseClosesAParkedWriter) {
  WriteSlots slots(WriteSlots::Timing{100ms, 1000ms, 60000ms});
  auto writer = std::make_shared<FakeWriter>();
  auto claim = slots.Acquire("r");
  ASSERT_TRUE(claim.ok());
  claim->SetWriter(writer);
  claim->Park();
  slots.AwaitReleaseInFlight("r");
  EXPECT_EQ(writer->closes, 1);
  EXPECT_EQ(slots.ActiveWriter("r"), nullptr);
}

TEST(WriteSlotsTest, UnmountClosesWhatIsParked) {
  auto writer = std::make_shared<FakeWriter>();
  {
    WriteSlots slots(WriteSlots::Timing{100ms, 1000ms, 60000ms});
    auto claim = slots.Acquire("r");
    ASSERT_TRUE(claim.ok());
    claim->SetWriter(writer);
    claim->Park();
    EXPECT_EQ(writer->closes, 0);
  }
  EXPECT_EQ(writer->closes, 1);
}

TEST(WriteSlotsTest, AClaimWaitingForAReleaseTakesTheParkedWriter) {
  WriteSlots slots(WriteSlots::Timing{3000ms, 3000ms, 5000ms});
  auto writer = std::make_shared<FakeWriter>();
  auto held = slots.Acquire("r");
  ASSERT_TRUE(held.ok());
  held->SetWriter(writer);
  held->MarkFlushed();
  std::thread release([&] {
    std::this_thread::sleep_for(50ms);
    held->Park();
  });
  auto next = slots.Acquire("r");
  release.join();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->writer(), writer);
}

}  // namespace
}  // namespace casfs::fuse
