#pragma once

// Generated traffic for the HTTP tests, and the reference's record of what the server took.

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "http_client.h"
#include "world.h"

namespace signalbox::testing {

inline constexpr TimeMs kStart = 1704067200000;  // 2024-01-01T00:00:00Z

// Events about every `step` ms from kStart, up to `disorder` late, with exact and altered
// duplicates of earlier events and, when `late` is set, a few beyond the retention horizon.
inline std::vector<Event> generate(World& world, std::size_t count, std::size_t users, TimeMs step,
                                   TimeMs disorder, bool late, std::size_t first_serial = 0) {
  std::vector<Event> events;
  auto& rng = world.rng();
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(i) * step -
                static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(disorder));
    std::uint64_t r = rng() % 1000;
    if (r < 40 && !events.empty()) {
      events.push_back(events[rng() % events.size()]);  // sent again, verbatim
    } else if (r < 60 && !events.empty()) {
      Event again = events[rng() % events.size()];  // same id, other content: the same event
      again.action = "purchase";
      again.ts += 1000;
      events.push_back(std::move(again));
    } else if (r < 65 && late) {
      events.push_back(world.make_event(users, ts - 40 * kDayMs, first_serial + i));
    } else {
      events.push_back(world.make_event(users, ts, first_serial + i));
    }
  }
  return events;
}

// What the server accepted, as the reference sees it: the first accepted occurrence of each
// (user, event_id), in the order the server took the requests.
class AcceptedEvents {
 public:
  explicit AcceptedEvents(const World& world) : world_(world) {}

  // Records one POST /v1/events answer for `batch`; returns "" or what was wrong with it.
  std::string record(const std::vector<Event>& batch, const HttpAnswer& answer) {
    if (answer.status != 200) return fmt::format("status {}: {}", answer.status, answer.body);
    Value v = answer.json();
    std::set<std::size_t> rejected;
    for (const Value& e : v.find("errors")->array())
      rejected.insert(static_cast<std::size_t>(e.find("index")->number()));
    auto count = [&](const char* key) { return static_cast<std::size_t>(v.find(key)->number()); };
    if (count("rejected") != rejected.size())
      return fmt::format("{} rejected but {} errors listed", count("rejected"), rejected.size());
    if (count("accepted") + count("rejected") != batch.size())
      return fmt::format("accepted + rejected != {} events: {}", batch.size(), answer.body);
    accepted_total += count("accepted");
    rejected_total += count("rejected");
    duplicates_total += count("duplicates");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (rejected.count(i)) continue;
      if (!ids_.emplace(batch[i].user_id, batch[i].event_id).second) continue;
      events.push_back(world_.to_ref(batch[i]));
      head = std::max(head, batch[i].ts);
    }
    return "";
  }

  std::vector<RefEvent> events;
  TimeMs head = 0;
  std::size_t accepted_total = 0, rejected_total = 0, duplicates_total = 0;

 private:
  const World& world_;
  std::set<std::pair<std::uint64_t, std::string>> ids_;
};

}  // namespace signalbox::testing
