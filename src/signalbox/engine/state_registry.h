#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "signalbox/common/time.h"

namespace signalbox {

// What the store holds of one state (the tiles of one state id, see Signal::state_id): from
// when its tiles hold every event, and how far the build of its tiles from the stored raw
// events has come. Kept, for every state of the config, in one store note (kStateRegistryNote)
// so that it survives restarts; see docs/signal-lifecycle.md.
struct StateRecord {
  // The state's tiles hold every stored event with ts >= this and none older, and live ingest
  // folds only such events into them: what is older comes from `signalbox rebuild` only, so
  // nothing is counted twice. 0 (no event is older): the state is complete for all time.
  TimeMs holds_from = 0;
  // Answers: a window that starts before this is incomplete. holds_from, except while a
  // bootstrap runs: then the stream time at its start plus one, as only what was ingested
  // after it is in the tiles for sure.
  TimeMs complete_since = 0;
  // The state is being built from the stored raw events with ts >= holds_from, user by user in
  // ascending id order: users below next_user are done (their events are in the tiles, and
  // live ingest folds theirs), the others' stored events are not yet.
  bool bootstrapping = false;
  std::uint64_t next_user = 0;
  // No signal of the config uses the state any more: its tiles are left to expiry. Should a
  // signal use it again, what is left of them is dropped first and the state is built anew.
  bool retired = false;

  friend bool operator==(const StateRecord&, const StateRecord&) = default;
};

// Every known state's record, by state id.
using StateRegistry = std::map<std::uint64_t, StateRecord>;

// The name of the store note that holds the registry.
inline constexpr std::string_view kStateRegistryNote = "state_registry";

// The note's text: a version line, then one line per state. decode_state_registry() reads what
// encode_state_registry() wrote and throws CorruptionError, naming the line, for anything else.
// Pure and thread-safe.
std::string encode_state_registry(const StateRegistry& registry);
StateRegistry decode_state_registry(std::string_view text);

}  // namespace signalbox
