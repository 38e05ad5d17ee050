#include "core/timestamp.h"

#include <time.h>

#include <cstdio>

namespace casfs {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int32_t kNanosPerSecond = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date. The calendar repeats
// every 400 years (146097 days); counting years from March puts the leap day
// last, so the day of the year follows from the month by a linear formula.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;                            // 0..399
  int64_t month_from_march = month > 2 ? month - 3 : month + 9;      // 0..11
  int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // 0..365
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

// The inverse of DaysFromCivil.
Civil CivilFromDays(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;  // 0..146096
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  int month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return Civil{year, month, day};
}

bool IsLeapYear(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Go's MarshalText refuses years outside 0000..9999 and containerd then
// fails the write. Our formatter cannot fail, so it clamps to the range: the
// text always parses back, and no real clock reaches either end.
const int64_t kMinSeconds = DaysFromCivil(0, 1, 1) * kSecondsPerDay;
const int64_t kMaxSeconds = DaysFromCivil(10000, 1, 1) * kSecondsPerDay - 1;

// Reads exactly `width` decimal digits at text[*pos].
bool ReadDigits(std::string_view text, size_t* pos, size_t width, int64_t* out) {
  if (text.size() - *pos < width) return false;
  int64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += width;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

Timestamp Timestamp::Now() {
  struct timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return FromTimespec(ts);
}

Timestamp Timestamp::Zero() { return Timestamp{DaysFromCivil(1, 1, 1) * kSecondsPerDay, 0}; }

std::string FormatRfc3339Nano(Timestamp t) {
  // Timestamp is a plain struct; carry out-of-range nanoseconds into seconds.
  int64_t seconds = t.seconds + t.nanoseconds / kNanosPerSecond;
  int32_t nanos = t.nanoseconds % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  if (seconds < kMinSeconds) {
    seconds = kMinSeconds;
    nanos = 0;
  } else if (seconds > kMaxSeconds) {
    seconds = kMaxSeconds;
    nanos = kNanosPerSecond - 1;
  }

  int64_t days = seconds / kSecondsPerDay;
  int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    days -= 1;
  }
  Civil date = CivilFromDays(days);

  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d",
                        static_cast<int>(date.year), date.month, date.day,
                        static_cast<int>(second_of_day / 3600),
                        static_cast<int>(second_of_day / 60 % 60),
                        static_cast<int>(second_of_day % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (nanos != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, "%09d", nanos);
    size_t digits = 9;
    while (fraction[digits - 1] == '0') --digits;
    out += '.';
    out.append(fraction, digits);
  }
  out += 'Z';
  return out;
}

Result<Timestamp> ParseRfc3339(std::string_view text) {
  auto fail = [&](const char* why) {
    std::string message = "cannot parse time \"";
    message += text;
    message += "\" as RFC 3339: ";
    message += why;
    return Status::InvalidArgument(std::move(message));
  };

  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day) || !Expect(text, &pos, 'T') ||
      !ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return fail("bad date or time");
  }
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) return fail("day out of range");
  if (hour > 23) return fail("hour out of range");
  if (minute > 59) return fail("minute out of range");
  if (second > 59) return fail("second out of range");

  int32_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) return fail("more than nine fraction digits");
      nanos = nanos * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return fail("empty fraction");
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }

  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t offset_hours = 0, offset_minutes = 0;
    if (!ReadDigits(text, &pos, 2, &offset_hours) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &offset_minutes)) {
      return fail("bad zone offset");
    }
    if (offset_hours > 23 || offset_minutes > 59) return fail("zone offset out of range");
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
  } else {
    return fail("missing zone");
  }
  if (pos != text.size()) return fail("extra text after the time");

  int64_t seconds = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) *
                        kSecondsPerDay +
                    hour * 3600 + minute * 60 + second - offset_seconds;
  return Timestamp{seconds, nanos};
}

}  // namespace casfs
