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

}  // namespace signalbox
