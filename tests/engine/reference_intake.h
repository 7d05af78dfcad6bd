#pragma once

// Which events of a stream count, decided by the tests on their own from docs/events.md:
// the event rules (event_rules.h), the late rule (late_rule.h) and the identity of events
// (the first copy of each (user_id, event_id) taken counts; later copies are duplicates). A
// test feeds the reference what it sends, batch by batch, in the order the engine takes the
// batches, then asserts that the engine rejected exactly what the reference rejected
// (compare_rejections) and computes the expected signals from `taken()`. Never takes the
// engine's word on what was accepted.
//
// Not thread-safe: one test thread feeds it.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "event_rules.h"
#include "late_rule.h"
#include "signalbox/common/time.h"
#include "world.h"

namespace signalbox::testing {

// event_store.late_horizon as docs/events.md states it: as configured, else the longest
// window of any signal; never less than the retention plus max_future_skew.
inline TimeMs reference_late_horizon(const Config& config) {
  TimeMs horizon = 0;
  if (config.event_store.late_horizon) {
    horizon = *config.event_store.late_horizon;
  } else {
    for (const SignalConfig& signal : config.signals)
      for (const WindowConfig& window : signal.windows) horizon = std::max(horizon, window.length);
  }
  return std::max(horizon, config.event_store.retention + config.event_store.max_future_skew);
}

class ReferenceIntake {
 public:
  explicit ReferenceIntake(const World& world)
      : world_(world), late_(reference_late_horizon(world.config)) {}

  // What the engine must do with one batch taken in one call.
  struct Decision {
    std::map<std::size_t, std::string> rejected;  // index in the batch -> the field at fault
    std::size_t late = 0;                         // of those, too late (field `ts`)
    std::size_t duplicates = 0;                   // taken, but copies of events taken before
  };

  // A batch of event texts (HTTP body items, Kafka messages, log lines): each judged by the
  // event rules, the valid ones then by the late rule and their identity.
  Decision take_texts(const std::vector<std::string>& texts) {
    Decision d;
    std::vector<Event> valid;
    std::vector<std::size_t> at;  // valid[k] is texts[at[k]]
    const TimeMs now = wall_clock_ms();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      JudgedEvent judged = judge_event(texts[i], now, world_.config.event_store.max_future_skew);
      if (judged.event) {
        valid.push_back(std::move(*judged.event));
        at.push_back(i);
      } else {
        d.rejected[i] = judged.fault;
      }
    }
    rejected_total += d.rejected.size();
    invalid_total += d.rejected.size();
    Decision events = take(valid);
    for (const auto& [k, fault] : events.rejected) d.rejected[at[k]] = fault;
    d.late = events.late;
    d.duplicates = events.duplicates;
    return d;
  }

  // A batch of events already in the engine's struct form (valid by construction): only the
  // late rule and identity apply.
  Decision take(const std::vector<Event>& events) {
    LateRule::Decision late = late_.decide(world_, events);
    Decision d;
    for (std::size_t i : late.rejected) d.rejected[i] = "ts";
    d.late = late.rejected.size();
    d.duplicates = late.duplicates;
    rejected_total += d.rejected.size();
    late_total += d.late;
    duplicates_total += d.duplicates;
    return d;
  }

  // The events that count, each once, in the order taken.
  const std::vector<RefEvent>& taken() const { return late_.taken; }
  // The highest ts taken (the stream time); LateRule::kNone before any.
  TimeMs head() const { return late_.head(); }

  // Over every batch taken: rejected (invalid plus late), invalid, late, duplicates.
  std::size_t rejected_total = 0, invalid_total = 0, late_total = 0, duplicates_total = 0;

 private:
  const World& world_;
  LateRule late_;
};

// "" when the engine rejected exactly the events the reference did, each for the same field;
// else what differs. `listed` is what the engine named, (index, message) in index order;
// `count` how many it rejected in all (an HTTP answer lists at most the first 100).
inline std::string compare_rejections(
    const ReferenceIntake::Decision& want,
    const std::vector<std::pair<std::size_t, std::string>>& listed, std::size_t count) {
  std::string out;
  if (count != want.rejected.size())
    out += fmt::format("the engine rejected {} events, the reference {}; ", count,
                       want.rejected.size());
  auto expected = want.rejected.begin();
  for (const auto& [index, message] : listed) {
    while (expected != want.rejected.end() && expected->first < index) {
      out += fmt::format("[{}] valid by the engine, the reference rejects it ({}); ",
                         expected->first, expected->second);
      ++expected;
    }
    if (expected == want.rejected.end() || expected->first != index) {
      out +=
          fmt::format("[{}] rejected by the engine ({}), valid by the reference; ", index, message);
      continue;
    }
    if (fault_of(message) != expected->second)
      out += fmt::format("[{}] the engine blames {}, the reference {}; ", index, message,
                         expected->second);
    ++expected;
  }
  if (listed.size() == count)
    for (; expected != want.rejected.end(); ++expected)
      out += fmt::format("[{}] valid by the engine, the reference rejects it ({}); ",
                         expected->first, expected->second);
  return out;
}

// compare_rejections() for what the engine itself returned, every rejection listed.
inline std::string compare_rejections(const ReferenceIntake::Decision& want,
                                      const std::vector<RejectedEvent>& rejected) {
  std::vector<std::pair<std::size_t, std::string>> listed;
  for (const RejectedEvent& r : rejected) listed.emplace_back(r.index, r.message);
  return compare_rejections(want, listed, rejected.size());
}

}  // namespace signalbox::testing
