#pragma once

// The late-event rule as docs/events.md states it, applied by a test on its own (never taking
// the engine's word): an event is too late when its ts is at or before (stream time before its
// batch) - late horizon, stream time being the highest ts of any event taken so far; of the
// events taken, the first copy of each (user, event_id) counts and later ones are duplicates
// (which do not move stream time: the first copy's ts stands).

#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "world.h"

namespace signalbox::testing {

class LateRule {
 public:
  explicit LateRule(TimeMs late_horizon) : late_horizon_(late_horizon) {}

  struct Decision {
    std::set<std::size_t> rejected;  // indexes into the batch
    std::size_t duplicates = 0;      // taken, but a copy of an event taken before
  };

  // What the engine must do with `batch`, ingested as one call; records the taken events.
  Decision decide(const World& world, const std::vector<Event>& batch) {
    Decision d;
    TimeMs head_after = head_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (head_ != kNone && batch[i].ts <= head_ - late_horizon_) {
        d.rejected.insert(i);
        continue;
      }
      if (!ids_.emplace(batch[i].user_id, batch[i].event_id).second) {
        ++d.duplicates;  // the copy taken first stands, its ts too
        continue;
      }
      taken.push_back(world.to_ref(batch[i]));
      head_after = head_after == kNone ? batch[i].ts : std::max(head_after, batch[i].ts);
    }
    head_ = head_after;
    return d;
  }

  static constexpr TimeMs kNone = std::numeric_limits<TimeMs>::min();
  // The highest ts taken; kNone before any.
  TimeMs head() const { return head_; }
  std::vector<RefEvent> taken;

 private:
  TimeMs late_horizon_;
  TimeMs head_ = kNone;
  std::set<std::pair<std::uint64_t, std::string>> ids_;
};

}  // namespace signalbox::testing
