// Time stamps in the text form containerd writes into ingest folders: Go's
// time.RFC3339Nano ("2026-12-03T10:07:05.426995201Z": fraction without
// trailing zeros, no dot when the nanoseconds are 0, 'Z' or a +hh:mm offset).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "core/status.h"

namespace casfs {

struct Timestamp {
  int64_t seconds = 0;      // since the Unix epoch, UTC
  int32_t nanoseconds = 0;  // 0..999'999'999

  static Timestamp Now();  // CLOCK_REALTIME
  static Timestamp FromTimespec(const struct timespec& ts) {
    return Timestamp{ts.tv_sec, static_cast<int32_t>(ts.tv_nsec)};
  }
  struct timespec ToTimespec() const {
    struct timespec ts{};
    ts.tv_sec = seconds;
    ts.tv_nsec = nanoseconds;
    return ts;
  }
  // Go's zero time, 0001-01-01T00:00:00Z.
  static Timestamp Zero();

  friend bool operator==(const Timestamp&, const Timestamp&) = default;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// RFC 3339 in UTC with up to nine fraction digits, trailing zeros dropped.
std::string FormatRfc3339Nano(Timestamp t);

// Accepts what Go's time.Parse(RFC3339Nano) accepts: a fraction of 1..9
// digits or none, 'Z' (or 'z') or a +hh:mm/-hh:mm offset. Anything else,
// including a trailing newline, is kInvalidArgument.
Result<Timestamp> ParseRfc3339(std::string_view text);

}  // namespace casfs
