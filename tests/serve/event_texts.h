#pragma once

// Generated events as the texts a client sends, with invalid events (invalid_events.h) mixed
// in, for tests whose reference judges texts on its own (reference_intake.h).

#include <string>
#include <vector>

#include "invalid_events.h"
#include "json.h"
#include "world.h"

namespace signalbox::testing {

// `events` as texts, with an invalid event (invalid_events.h) before about one in `every`.
inline std::vector<std::string> with_invalid(World& world, const std::vector<Event>& events,
                                             std::uint64_t every) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (world.rng()() % every == 0)
      texts.push_back(invalid_event_text(events[i].user_id, events[i].ts, i, world.rng()()));
    texts.push_back(event_json(events[i]));
  }
  return texts;
}

inline std::vector<std::string> as_texts(const std::vector<Event>& events) {
  std::vector<std::string> texts;
  for (const Event& e : events) texts.push_back(event_json(e));
  return texts;
}

}  // namespace signalbox::testing
