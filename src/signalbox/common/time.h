#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signalbox {

// Milliseconds since the Unix epoch, UTC. Event time and as-of time share this unit.
using TimeMs = std::int64_t;

inline constexpr TimeMs kSecondMs = 1000;
inline constexpr TimeMs kMinuteMs = 60 * kSecondMs;
inline constexpr TimeMs kHourMs = 60 * kMinuteMs;
inline constexpr TimeMs kDayMs = 24 * kHourMs;

// Rounds down to a multiple of `unit` (also for negative times).
constexpr TimeMs floor_to(TimeMs t, TimeMs unit) {
  TimeMs q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  return q * unit;
}
constexpr TimeMs floor_day(TimeMs t) { return floor_to(t, kDayMs); }
constexpr TimeMs floor_hour(TimeMs t) { return floor_to(t, kHourMs); }

// Parses "<integer><unit>" with unit ms, s, m, h or d into milliseconds. Returns nullopt on any
// other spelling, on a zero or negative amount, and on overflow.
std::optional<TimeMs> parse_duration(std::string_view text);

// The wall clock, for `as_of` defaults and the future-skew check.
TimeMs wall_clock_ms();

// The latest time parse_time() accepts: 9999-12-31T23:59:59.999Z.
inline constexpr TimeMs kLatestTimeMs = 253402300799999;
// Plain integers are read as milliseconds only from 1973-03-03T09:46:40Z (10^11 ms) up to
// 5138-11-16T09:46:40Z (10^14 ms): below, a number is far more likely seconds since the epoch,
// above, microseconds or nanoseconds. Either mistake would silently answer a time decades away.
inline constexpr TimeMs kEarliestPlainMs = 100'000'000'000;
inline constexpr TimeMs kLatestPlainMs = 100'000'000'000'000;

// Parses a point in time as people and programs write one:
//   - ISO 8601 / RFC 3339: "2026-11-30" (midnight UTC), "2026-11-30T12:00:00Z",
//     "2026-11-30T12:00Z", "2026-11-30T12:00:00.123+01:00" (offsets ±hh:mm, ±hhmm or ±hh;
//     'T' may be a space; a fraction has 1 to 9 digits and is truncated to the millisecond);
//     a time of day needs its zone (Z or an offset), a date alone is UTC. From 1970-01-01 to
//     9999-12-31.
//   - milliseconds since the Unix epoch: decimal digits, kEarliestPlainMs to kLatestPlainMs.
// Returns the time, or nullopt with `*problem` set to a phrase that follows the quoted text in
// an error message ("looks like seconds since the epoch; multiply by 1000 ..."). Pure: safe
// from any thread.
std::optional<TimeMs> parse_time(std::string_view text, std::string* problem);

// `t` in ISO 8601, UTC, with milliseconds: "2026-11-30T12:00:00.000Z" (parse_time() reads it
// back). Years beyond 9999 get more digits; times before 1970 are negative offsets from it.
std::string format_iso_time(TimeMs t);

}  // namespace signalbox
