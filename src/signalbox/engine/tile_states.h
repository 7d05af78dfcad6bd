#pragma once

// Engine's tile deltas while they are being folded, shared by its ingest path (ingest.cc) and
// the builds of state from history (state_lifecycle.cc). Internal to the engine.

#include <memory>
#include <vector>

#include "signalbox/engine/engine.h"

namespace signalbox {

// One tile's deltas being folded: states[o] belongs to state_owners_[o], null when no event
// folded into it.
struct Engine::TileStates {
  TileKey key;
  std::vector<std::unique_ptr<State>> states;
};

}  // namespace signalbox
