#pragma once

#include <cstdint>
#include <vector>

#include "signalbox/backfill/query_file.h"
#include "signalbox/verify/log_sample.h"
#include "signalbox/verify/served_values.h"

namespace signalbox {

// The (user, as_of) points a verify run checks, and the sampled users it had to leave out.
struct CheckPoints {
  std::vector<BackfillQuery> points;  // by user, then as_of
  std::uint64_t users_after_end = 0;  // every event of the user is after `end`
  std::uint64_t users_unanswerable = 0;
};

// For each sampled user, up to `per_user` times in [a, end], where a is the earliest time
// from its first event on at which `served` can answer `names` (all when empty): `end` itself (the
// present, as served), and the others drawn uniformly with a generator seeded by `seed`. Times that
// coincide are taken once. Asks `served` for each user's answerable edge; its exceptions pass
// through. As thread-safe as `served` (which is used from the calling thread only).
CheckPoints choose_check_points(const std::vector<SampledUser>& users, ServedValues& served,
                                const std::vector<std::string>& names, TimeMs end,
                                std::size_t per_user, std::uint64_t seed);

}  // namespace signalbox
