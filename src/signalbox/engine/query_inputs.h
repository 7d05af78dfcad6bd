#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "signalbox/engine/query_planner.h"
#include "signalbox/engine/span_cache.h"
#include "signalbox/event/event.h"
#include "signalbox/store/store.h"

namespace signalbox {

// What one snapshot gave a query (Engine::read_cover): each asked-for signal's window plans,
// the stored tiles those windows can use, and the raw events of every raw piece. A plain value.
struct QueryInputs {
  TimeMs as_of = 0;
  std::vector<std::vector<WindowPlan>> plans;                        // by signal index
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
};

}  // namespace signalbox
