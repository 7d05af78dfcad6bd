#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "signalbox/engine/plan_cache.h"
#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/span_cache.h"
#include "signalbox/event/event.h"
#include "signalbox/store/store.h"

namespace signalbox {

// What one snapshot gave a query (Engine::read_cover): each asked-for signal's window plans,
// the stored tiles those windows can use, and the raw events of every raw piece. A value that
// moves (its plans point into its own members); not copied.
struct QueryInputs {
  TimeMs as_of = 0;
  // By signal index, its window plans (empty for a signal not asked for): those the query made
  // (`own_plans`), or the windowed ones made once for every query at its as_of and kept
  // (`shared_plans`, PlanCache), which a query points at rather than copies.
  std::vector<const std::vector<WindowPlan>*> plans;
  std::vector<std::vector<WindowPlan>> own_plans;
  std::shared_ptr<const WindowedPlans> shared_plans;
  std::unordered_map<std::uint64_t, std::vector<StoredTile>> tiles;  // by state id
  std::vector<MaterializedEvent> events;                             // ascending by ts
  // How the query finds merged runs (no cache: explain), and by signal index, by plan, the
  // leading run found before reading, whose tiles were then not read (settled_runs.h), or null.
  SpanLookup runs;
  std::vector<std::vector<std::shared_ptr<const CachedRun>>> leading_runs;
  // Whether the tile read met any tile of the user (even one outside the windows asked for),
  // or a run found instead held one.
  bool read_any_tile = false;
  // By state (the engine's owner index), read before the snapshot was taken, as a record
  // published later may be newer than it: from when the state holds every event it takes
  // (complete_since; 0: all of history), and whether it was being built from history.
  std::vector<TimeMs> complete_since;
  std::vector<bool> being_built;
  std::size_t tiles_read = 0;  // tile parts read
  // The snapshot everything above was read from, for a follow-up read at the same state; it
  // owns the bytes the tiles view, so it goes wherever they go.
  std::unique_ptr<StoreSnapshot> snapshot;

  // Room for the plans of `signals` signals, each empty and the query's own.
  void size_plans(std::size_t signals) {
    own_plans.assign(signals, {});
    plans.resize(signals);
    for (std::size_t s = 0; s < signals; ++s) plans[s] = &own_plans[s];
  }
  // Signal `s`'s plans are `made` by this query.
  void own(std::size_t s, std::vector<WindowPlan> made) {
    own_plans[s] = std::move(made);
    plans[s] = &own_plans[s];
  }
};

}  // namespace signalbox
