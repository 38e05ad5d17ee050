#include "core/timestamp.h"

#include <gtest/gtest.h>
#include <time.h>

#include <random>
#include <string>

namespace casfs {
namespace {

Timestamp MustParse(std::string_view text) {
  Result<Timestamp> t = ParseRfc3339(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().ToString();
  return t.ok() ? *t : Timestamp{};
}

// glibc's timegm as an independent oracle for the civil-date math.
int64_t Oracle(int year, int month, int day, int hour, int minute, int second) {
  struct tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

TEST(TimestampTest, FixedPoints) {
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(MustParse("1970-01-01T00:00:00Z"), (Timestamp{0, 0}));
  EXPECT_EQ(Timestamp::Zero().seconds, -62135596800);
  EXPECT_EQ(Timestamp::Zero().nanoseconds, 0);
  EXPECT_EQ(FormatRfc3339Nano(Timestamp::Zero()), "0001-01-01T00:00:00Z");
  EXPECT_EQ(MustParse("0001-01-01T00:00:00Z"), Timestamp::Zero());
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{-1, 0}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{951782400, 0}), "2000-02-29T00:00:00Z");
}

TEST(TimestampTest, DocumentExamples) {
  Timestamp a = MustParse("2026-12-03T10:07:05.426995201Z");
  EXPECT_EQ(a.seconds, Oracle(2026, 12, 3, 10, 7, 5));
  EXPECT_EQ(a.nanoseconds, 426995201);
  EXPECT_EQ(FormatRfc3339Nano(a), "2026-12-03T10:07:05.426995201Z");

  Timestamp b = MustParse("2023-04-05T10:11:12.12+02:00");
  EXPECT_EQ(b.seconds, Oracle(2023, 4, 5, 8, 11, 12));
  EXPECT_EQ(b.nanoseconds, 120000000);
  EXPECT_EQ(FormatRfc3339Nano(b), "2023-04-05T08:11:12.12Z");
}

TEST(TimestampTest, FractionTrailingZerosDropped) {
  int64_t s = Oracle(2024, 1, 2, 3, 4, 5);
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{s, 0}), "2024-01-02T03:04:05Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{s, 500000000}), "2024-01-02T03:04:05.5Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{s, 1}), "2024-01-02T03:04:05.000000001Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{s, 10}), "2024-01-02T03:04:05.00000001Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{s, 999999999}), "2024-01-02T03:04:05.999999999Z");
}

TEST(TimestampTest, ParsesEveryFractionWidth) {
  int64_t s = Oracle(2024, 1, 2, 3, 4, 5);
  std::string digits = "123456789";
  for (size_t n = 1; n <= 9; ++n) {
    std::string text = "2024-01-02T03:04:05." + digits.substr(0, n) + "Z";
    Timestamp t = MustParse(text);
    int32_t expected = std::stoi(digits.substr(0, n));
    for (size_t i = n; i < 9; ++i) expected *= 10;
    EXPECT_EQ(t, (Timestamp{s, expected})) << text;
  }
  EXPECT_EQ(MustParse("2024-01-02T03:04:05.000Z"), (Timestamp{s, 0}));
}

TEST(TimestampTest, OffsetsConvertToUtc) {
  int64_t s = Oracle(2024, 1, 1, 0, 30, 0);
  EXPECT_EQ(MustParse("2024-01-01T00:30:00z"), (Timestamp{s, 0}));
  EXPECT_EQ(MustParse("2024-01-01T00:30:00+00:00"), (Timestamp{s, 0}));
  EXPECT_EQ(MustParse("2024-01-01T00:30:00-00:00"), (Timestamp{s, 0}));
  EXPECT_EQ(MustParse("2024-01-01T05:30:00+05:00"), (Timestamp{s, 0}));
  EXPECT_EQ(MustParse("2023-12-31T19:00:00-05:30"), (Timestamp{s, 0}));
  EXPECT_EQ(FormatRfc3339Nano(MustParse("2023-12-31T19:00:00.25-05:30")),
            "2024-01-01T00:30:00.25Z");
  EXPECT_EQ(MustParse("2024-01-01T00:30:00+23:59").seconds, s - 23 * 3600 - 59 * 60);
}

TEST(TimestampTest, CivilMathAgreesWithTimegm) {
  std::mt19937_64 rng(42);
  // 0000-01-01 .. 9999-12-31 in seconds.
  std::uniform_int_distribution<int64_t> seconds(-62167219200, 253402300799);
  std::uniform_int_distribution<int32_t> nanos(0, 999999999);
  for (int i = 0; i < 20000; ++i) {
    Timestamp t{seconds(rng), i % 3 == 0 ? 0 : nanos(rng)};
    std::string text = FormatRfc3339Nano(t);
    time_t raw = static_cast<time_t>(t.seconds);
    struct tm tm{};
    ASSERT_NE(gmtime_r(&raw, &tm), nullptr);
    char expected[32];
    strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string expected_prefix = expected;
    if (tm.tm_year + 1900 < 1000) {
      // strftime does not pad years below 1000 to four digits.
      char buf[16];
      snprintf(buf, sizeof buf, "%04d", tm.tm_year + 1900);
      expected_prefix = std::string(buf) + expected_prefix.substr(expected_prefix.find('-'));
    }
    ASSERT_EQ(text.substr(0, 19), expected_prefix) << t.seconds;
    ASSERT_EQ(MustParse(text), t) << text;
  }
}

TEST(TimestampTest, RoundTripsNowAndBoundaries) {
  Timestamp now = Timestamp::Now();
  EXPECT_EQ(MustParse(FormatRfc3339Nano(now)), now);
  Timestamp first{-62167219200, 0};
  EXPECT_EQ(FormatRfc3339Nano(first), "0000-01-01T00:00:00Z");
  EXPECT_EQ(MustParse("0000-01-01T00:00:00Z"), first);
  Timestamp last{253402300799, 999999999};
  EXPECT_EQ(FormatRfc3339Nano(last), "9999-12-31T23:59:59.999999999Z");
  EXPECT_EQ(MustParse("9999-12-31T23:59:59.999999999Z"), last);
}

TEST(TimestampTest, OutOfRangeYearsClampSoTheTextStillParses) {
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{-62167219201, 0}), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{253402300800, 0}), "9999-12-31T23:59:59.999999999Z");
}

TEST(TimestampTest, NormalizesNanosecondCarry) {
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{0, 1500000000}), "1970-01-01T00:00:01.5Z");
  EXPECT_EQ(FormatRfc3339Nano(Timestamp{0, -1}), "1969-12-31T23:59:59.999999999Z");
}

TEST(TimestampTest, TimespecRoundTrip) {
  Timestamp t{1700000000, 123};
  EXPECT_EQ(Timestamp::FromTimespec(t.ToTimespec()), t);
}

class TimestampRejectTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TimestampRejectTest, Rejects) {
  Result<Timestamp> t = ParseRfc3339(GetParam());
  ASSERT_FALSE(t.ok()) << GetParam();
  EXPECT_EQ(t.status().kind(), ErrorKind::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, TimestampRejectTest,
    ::testing::Values("", "2024-01-02T03:04:05Z\n", "2024-01-02T03:04:05Z ", " 2024-01-02T03:04:05Z",
                    "2024-01-02T03:04:05", "2024-01-02 03:04:05Z", "2024-01-02t03:04:05Z",
                    "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05.1234567890Z",
                    "2024-01-02T03:04:05,5Z", "2024-1-02T03:04:05Z", "24-01-02T03:04:05Z",
                    "2024-01-02T3:04:05Z", "2024-13-02T03:04:05Z", "2024-00-02T03:04:05Z",
                    "2024-01-00T03:04:05Z", "2023-02-29T03:04:05Z", "1900-02-29T00:00:00Z",
                    "2024-04-31T00:00:00Z", "2024-01-02T24:00:00Z", "2024-01-02T23:60:00Z",
                    "2024-01-02T23:59:60Z", "2024-01-02T03:04:05+0200", "2024-01-02T03:04:05+02",
                    "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+02:60",
                    "2024-01-02T03:04:05UTC", "2024-01-02T03:04:05ZZ", "+2024-01-02T03:04:05Z",
                    "-001-01-02T03:04:05Z", std::string("2024-01-02T03:04:05Z\0", 21)));

TEST(TimestampTest, AcceptsLeapDayOf2000) {
  EXPECT_EQ(MustParse("2000-02-29T00:00:00Z").seconds, 951782400);
}

}  // namespace
}  // namespace casfs
