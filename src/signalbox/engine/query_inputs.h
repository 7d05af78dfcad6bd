#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "signalbox/engine/query_planner.h"
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
  // Whether the tile read met any tile of the user (even one outside the windows asked for).
  bool read_any_tile = false;
  // The snapshot everything above was read from, for a follow-up read at the same state; it
  // owns the bytes the tiles view, so it goes wherever they go.
  std::unique_ptr<StoreSnapshot> snapshot;
};

}  // namespace signalbox
