#include "signalbox/verify/check_points.h"

#include <algorithm>
#include <random>

namespace signalbox {

CheckPoints choose_check_points(const std::vector<SampledUser>& users, ServedValues& served,
                                const std::vector<std::string>& names, TimeMs end,
                                std::size_t per_user, std::uint64_t seed) {
  CheckPoints result;
  // One generator for the whole run: the same seed, logs and store give the same points.
  std::mt19937_64 random(seed);
  for (const SampledUser& user : users) {
    if (user.first_ts > end) {
      ++result.users_after_end;
      continue;
    }
    const std::optional<TimeMs> earliest =
        served.earliest_answerable(user.user_id, names, user.first_ts, end);
    if (!earliest) {
      ++result.users_unanswerable;
      continue;
    }
    std::vector<TimeMs> times{end};
    std::uniform_int_distribution<TimeMs> between(*earliest, end);
    while (times.size() < per_user) times.push_back(between(random));
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    for (TimeMs t : times) result.points.push_back(BackfillQuery{user.user_id, t});
  }
  return result;
}

}  // namespace signalbox
