#include "signalbox/common/time.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <limits>

namespace signalbox {

std::optional<TimeMs> parse_duration(std::string_view text) {
  std::int64_t amount = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(begin, end, amount);
  if (ec != std::errc() || rest == begin || amount <= 0) return std::nullopt;
  std::string_view unit(rest, static_cast<std::size_t>(end - rest));
  TimeMs scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = kSecondMs;
  else if (unit == "m")
    scale = kMinuteMs;
  else if (unit == "h")
    scale = kHourMs;
  else if (unit == "d")
    scale = kDayMs;
  else
    return std::nullopt;
  if (amount > std::numeric_limits<TimeMs>::max() / scale) return std::nullopt;
  return amount * scale;
}

TimeMs wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr std::string_view kForms =
    "is not a time: write ISO 8601 (2026-11-30T12:00:00Z, 2026-11-30T12:00:00.123+01:00, "
    "2026-11-30) or milliseconds since the Unix epoch";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

// Reads exactly `n` digits at `pos`, advancing it.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool fail(std::string* problem, std::string message) {
  *problem = std::move(message);
  return false;
}

// A reader of one ISO 8601 text: the date, the time of day, the zone, in order.
class IsoReader {
 public:
  explicit IsoReader(std::string_view text) : s_(text) {}

  bool read(TimeMs& out, std::string* problem) {
    std::chrono::sys_days day;
    if (!read_date(day, problem)) return false;
    TimeMs ms = static_cast<TimeMs>(day.time_since_epoch().count()) * kDayMs;
    if (pos_ < s_.size()) {
      TimeMs time_of_day = 0, offset = 0;
      if (!read_time_of_day(time_of_day, problem) || !read_zone(offset, problem)) return false;
      ms += time_of_day - offset;
    }
    if (pos_ != s_.size()) return fail(problem, std::string(kForms));
    if (ms < 0) return fail(problem, "is before the Unix epoch (1970-01-01T00:00:00Z)");
    if (ms > kLatestTimeMs) return fail(problem, "is after 9999-12-31T23:59:59.999Z");
    out = ms;
    return true;
  }

 private:
  bool read_date(std::chrono::sys_days& out, std::string* problem) {
    int y = 0, m = 0, d = 0;
    if (!read_digits(s_, pos_, 4, y) || !expect('-') || !read_digits(s_, pos_, 2, m) ||
        !expect('-') || !read_digits(s_, pos_, 2, d))
      return fail(problem, std::string(kForms));
    using namespace std::chrono;
    year_month_day date{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
    if (m < 1 || m > 12)
      return fail(problem, fmt::format("has no month {:02} (months are 01 to 12)", m));
    if (!date.ok()) {
      const month_day_last last_of_month{month{static_cast<unsigned>(m)}};
      unsigned last = static_cast<unsigned>(year_month_day_last{year{y}, last_of_month}.day());
      return fail(problem,
                  fmt::format("is not a calendar date: {:04}-{:02} has {} days", y, m, last));
    }
    out = sys_days{date};
    return true;
  }

  bool read_time_of_day(TimeMs& out, std::string* problem) {
    char sep = s_[pos_++];
    if (sep != 'T' && sep != 't' && sep != ' ') return fail(problem, std::string(kForms));
    int h = 0, min = 0, sec = 0;
    if (!read_digits(s_, pos_, 2, h) || !expect(':') || !read_digits(s_, pos_, 2, min))
      return fail(problem, std::string(kForms));
    const bool has_seconds = expect(':');
    if (has_seconds && !read_digits(s_, pos_, 2, sec)) return fail(problem, std::string(kForms));
    if (h > 23 || min > 59 || sec > 59)
      return fail(problem, fmt::format("has no time of day {:02}:{:02}:{:02} (00:00:00 to "
                                       "23:59:59; leap seconds are not represented)",
                                       h, min, sec));
    TimeMs fraction_ms = 0;
    if (has_seconds && (expect('.') || expect(','))) {
      std::size_t digits = 0;
      while (pos_ < s_.size() && is_digit(s_[pos_])) {
        if (digits < 3) fraction_ms = fraction_ms * 10 + (s_[pos_] - '0');
        ++digits;
        ++pos_;
      }
      if (digits == 0 || digits > 9)
        return fail(problem, "has a fraction of a second of 1 to 9 digits at most");
      for (std::size_t i = digits; i < 3; ++i) fraction_ms *= 10;
    }
    out = h * kHourMs + min * kMinuteMs + sec * kSecondMs + fraction_ms;
    return true;
  }

  // The zone's offset from UTC, in ms: local time minus UTC.
  bool read_zone(TimeMs& offset, std::string* problem) {
    if (pos_ == s_.size())
      return fail(problem, "has no time zone: add Z for UTC or an offset such as +01:00");
    char sign = s_[pos_++];
    if (sign == 'Z' || sign == 'z') {
      offset = 0;
      return true;
    }
    if (sign != '+' && sign != '-') return fail(problem, std::string(kForms));
    int h = 0, m = 0;
    if (!read_digits(s_, pos_, 2, h)) return fail(problem, std::string(kForms));
    if (pos_ < s_.size()) {
      expect(':');
      if (!read_digits(s_, pos_, 2, m)) return fail(problem, std::string(kForms));
    }
    if (h > 23 || m > 59)
      return fail(problem, fmt::format("has no UTC offset {}{:02}:{:02}", sign, h, m));
    offset = (h * kHourMs + m * kMinuteMs) * (sign == '-' ? -1 : 1);
    return true;
  }

  bool expect(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool read_plain_ms(std::string_view text, TimeMs& out, std::string* problem) {
  TimeMs ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || end != text.data() + text.size() || ms >= kLatestPlainMs) {
    return fail(problem,
                "is too large for milliseconds since the epoch (after the year 5138); "
                "it looks like microseconds or nanoseconds: divide by 1000 or 1000000");
  }
  if (ms < kEarliestPlainMs) {
    return fail(problem, fmt::format("looks like seconds since the epoch, not milliseconds: "
                                     "multiply by 1000 ({} is {}), or write ISO 8601 such as "
                                     "2026-11-30T12:00:00Z",
                                     ms * 1000, format_iso_time(ms * 1000)));
  }
  out = ms;
  return true;
}

}  // namespace

std::optional<TimeMs> parse_time(std::string_view text, std::string* problem) {
  TimeMs out = 0;
  bool ok =
      all_digits(text) ? read_plain_ms(text, out, problem) : IsoReader(text).read(out, problem);
  if (!ok) return std::nullopt;
  return out;
}

std::string format_iso_time(TimeMs t) {
  using namespace std::chrono;
  const TimeMs day_ms = floor_day(t);
  const year_month_day date{sys_days{days{day_ms / kDayMs}}};
  const TimeMs in_day = t - day_ms;
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year,
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                       in_day / kHourMs, in_day % kHourMs / kMinuteMs,
                       in_day % kMinuteMs / kSecondMs, in_day % kSecondMs);
  }
  // Digit by digit into a fixed layout: every answer carries its as_of so, and fmt parsing the
  // pattern above at run time took some 3 700 instructions, 1.5 % of a light user's query.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto digits = [&](std::size_t at, std::size_t width, std::int64_t value) {
    for (std::size_t i = width; i-- > 0; value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  digits(0, 4, year);
  digits(5, 2, static_cast<unsigned>(date.month()));
  digits(8, 2, static_cast<unsigned>(date.day()));
  digits(11, 2, in_day / kHourMs);
  digits(14, 2, in_day % kHourMs / kMinuteMs);
  digits(17, 2, in_day % kMinuteMs / kSecondMs);
  digits(20, 3, in_day % kSecondMs);
  return out;
}

}  // namespace signalbox
