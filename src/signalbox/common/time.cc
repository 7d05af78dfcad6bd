#include "signalbox/common/time.h"

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
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = kSecondMs;
  else if (unit == "m") scale = kMinuteMs;
  else if (unit == "h") scale = kHourMs;
  else if (unit == "d") scale = kDayMs;
  else return std::nullopt;
  if (amount > std::numeric_limits<TimeMs>::max() / scale) return std::nullopt;
  return amount * scale;
}

TimeMs wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace signalbox
