#pragma once

// Generated traffic for the HTTP tests, and the reference's own record of what the server
// must have taken.

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "event_texts.h"
#include "fixed_times.h"
#include "http_client.h"
#include "reference_intake.h"
#include "world.h"

namespace signalbox::testing {

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

// Whether every text is a JSON document: only then can they go in one JSON array body (text
// that is no JSON would break the array, not only its own item).
inline bool all_json(const std::vector<std::string>& texts) {
  simdjson::dom::parser parser;
  for (const std::string& text : texts) {
    simdjson::dom::element root;
    if (parser.parse(simdjson::padded_string(text)).get(root)) return false;
  }
  return true;
}

// Event texts as one body: NDJSON (one per line) or one JSON array.
inline std::string texts_body(const std::vector<std::string>& texts, bool as_array) {
  std::string out = as_array ? "[" : "";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (as_array && i > 0) out += ',';
    out += texts[i];
    if (!as_array) out += '\n';
  }
  if (as_array) out += ']';
  return out;
}

// What the server must have taken, decided by the reference on its own (ReferenceIntake:
// the documented event rules, late rule and identity), and a check of each POST /v1/events
// answer against it: the same events rejected, each for the same field, the same counts.
class AcceptedEvents {
 public:
  explicit AcceptedEvents(const World& world) : intake_(world) {}

  // Records the answer to one POST of `texts` (the body's items in order), taken by the
  // server in this order among the batches recorded; returns "" or what was wrong with it.
  std::string record(const std::vector<std::string>& texts, const HttpAnswer& answer) {
    if (answer.status != 200) return fmt::format("status {}: {}", answer.status, answer.body);
    Value v = answer.json();
    std::vector<std::pair<std::size_t, std::string>> listed;
    for (const Value& e : v.find("errors")->array())
      listed.emplace_back(static_cast<std::size_t>(e.find("index")->number()),
                          e.find("error")->string());
    auto count = [&](const char* key) { return static_cast<std::size_t>(v.find(key)->number()); };
    std::string problems =
        record(texts, {listed, count("rejected"), count("accepted"), count("duplicates")});
    return problems.empty() ? "" : problems + answer.body.substr(0, 2000);
  }

  // What an ingest call (HTTP or gRPC) reported for one batch.
  struct Outcome {
    std::vector<std::pair<std::size_t, std::string>> listed;  // (index, message), in index order
    std::size_t rejected = 0, accepted = 0, duplicates = 0;
  };
  // Records the outcome of one ingest call of `texts`; returns "" or what differs from the
  // reference's own decisions.
  std::string record(const std::vector<std::string>& texts, const Outcome& got) {
    const ReferenceIntake::Decision want = intake_.take_texts(texts);
    std::string problems = compare_rejections(want, got.listed, got.rejected);
    if (got.accepted != texts.size() - want.rejected.size())
      problems += fmt::format("accepted {}, the reference {}; ", got.accepted,
                              texts.size() - want.rejected.size());
    if (got.duplicates != want.duplicates)
      problems += fmt::format("duplicates {}, the reference {}; ", got.duplicates, want.duplicates);
    accepted_total += texts.size() - want.rejected.size();
    late_total += want.late;
    invalid_total += want.rejected.size() - want.late;
    duplicates_total += want.duplicates;
    return problems;
  }
  std::string record(const std::vector<Event>& batch, const HttpAnswer& answer) {
    return record(as_texts(batch), answer);
  }

  // The events that count, each once.
  const std::vector<RefEvent>& events() const { return intake_.taken(); }
  // The stream time: the highest ts taken.
  TimeMs head() const { return intake_.head(); }
  std::size_t accepted_total = 0, late_total = 0, invalid_total = 0, duplicates_total = 0;

 private:
  ReferenceIntake intake_;
};

// Every user's served signals, as of the last event, equal the reference's over `events`
// (each counted once, whatever the store went through).
inline void expect_every_event_counted_once(World& world, HttpClient& client,
                                            const std::vector<Event>& events, std::uint64_t users) {
  std::vector<RefEvent> reference;
  for (const Event& e : events) reference.push_back(world.to_ref(e));
  const TimeMs head = events.back().ts;
  for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
    HttpAnswer answer = client.get(fmt::format("/v1/users/{}/signals?as_of={}", user, head));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    EXPECT_EQ(diff(world.served(reference, user, head), answer.json(), kTolerance), "")
        << "user " << user;
  }
}

}  // namespace signalbox::testing
