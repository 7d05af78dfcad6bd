#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/common/time.h"
#include "signalbox/engine/query_planner.h"

namespace signalbox {

// The plans of the windowed signals of a query, which depend on the query's time, the online
// state and when its states became complete, not on the user: the same for every query of one
// set of names at one as_of (a query at the wall clock shares its millisecond with the others
// of that millisecond).
struct WindowedPlans {
  TimeMs as_of = 0;
  OnlineState online;
  TimeMs complete_from = 0;
  std::vector<std::vector<WindowPlan>> plans;  // by signal index; empty for the rest
  // The hour tiles those plans fold and the hours of their raw pieces the tiles may rule
  // out (append_hour_tile_ranges, append_raw_piece_hours), merged (merge_ranges).
  std::vector<std::pair<TimeMs, TimeMs>> hours;

  bool made_for(TimeMs at, const OnlineState& state, TimeMs complete) const {
    return as_of == at && online == state && complete_from == complete;
  }
};

// Keeps the WindowedPlans last made for the engine's default query (every signal and view),
// so that queries at one as_of plan once. Safe to use from many threads.
class PlanCache {
 public:
  // The plans for (as_of, online, complete_from): the ones kept when made for them, else
  // those `make()` returns, marked as made for them (and kept in place of the others). What
  // `make` throws is passed on, and nothing is kept. A template, not a std::function: the
  // query's lambda would be copied to the heap on every call.
  template <class Make>
  std::shared_ptr<const WindowedPlans> get(TimeMs as_of, const OnlineState& online,
                                           TimeMs complete_from, Make&& make) {
    if (std::shared_ptr<const WindowedPlans> kept = find(as_of, online, complete_from)) return kept;
    // Made without the lock: planning takes a while, and two threads making the same plans
    // at once only waste one of them.
    return keep(make(), as_of, online, complete_from);
  }

 private:
  std::shared_ptr<const WindowedPlans> find(TimeMs as_of, const OnlineState& online,
                                            TimeMs complete_from);
  std::shared_ptr<const WindowedPlans> keep(WindowedPlans plans, TimeMs as_of,
                                            const OnlineState& online, TimeMs complete_from);

  Mutex mutex_;
  std::shared_ptr<const WindowedPlans> last_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
