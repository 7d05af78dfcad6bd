// Engine::explain against the brute-force reference on generated traffic: for random users,
// signals, views, windows (shorter and longer than the raw retention) and times, the value is
// the one a query serves and the reference computes, the parts listed combine to it by the
// rule the answer states, every raw event listed is one the reference puts in that window and
// counts, and every tile lies inside the window.

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "analytics_signals.h"
#include "fixed_times.h"
#include "signalbox/common/error.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;
constexpr TimeMs kRetention = 3 * kDayMs;
const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};

// The first millisecond of a window by the rule of docs/signals.md, written out again here.
TimeMs ref_window_start(TimeMs as_of, TimeMs length) {
  if (length <= kRetention) return as_of - length + 1;
  const TimeMs start = as_of - length;
  return start / kDayMs * kDayMs - (start % kDayMs != 0 && start < 0 ? kDayMs : 0);
}

std::optional<std::map<std::string, double>> actions_of(const SignalConfig& s) {
  if (!s.actions) return std::nullopt;
  return std::map<std::string, double>(s.actions->begin(), s.actions->end());
}

// Adds `part` (a number, or an object of numbers) into `sums`, under "" for a number.
void add_into(std::map<std::string, double>& sums, const Value& part) {
  if (part.is_number()) sums[""] += part.number();
  if (part.is_object())
    for (const auto& [key, v] : part.object()) sums[key] += v.number();
}

// The parts' values of one window explanation: its tiles', then its events'.
std::vector<Value> part_values(const Value& window) {
  std::vector<Value> out;
  for (const char* list : {"tiles", "events"})
    for (const Value& part : window.find(list)->array()) out.push_back(*part.find("value"));
  return out;
}

// "" or what is wrong with how the parts of `window` make its value under `combine`.
std::string check_combination(const std::string& combine, const Value& window) {
  const Value& value = *window.find("value");
  const std::vector<Value> parts = part_values(window);
  if (combine == "sum") {
    std::map<std::string, double> sums;
    for (const Value& p : parts) add_into(sums, p);
    std::map<std::string, double> expected;
    add_into(expected, value);
    if (value.is_number() && sums.empty()) sums[""] = 0;
    for (const auto& [key, total] : sums) {
      const double want = expected.count(key) ? expected[key] : 0;
      if (std::abs(total - want) > 1e-9 * std::max(1.0, std::abs(want)))
        return fmt::format("key \"{}\": parts sum to {}, value {}", key, total, want);
    }
    for (const auto& [key, want] : expected)
      if (!sums.count(key)) return fmt::format("key \"{}\" of the value is in no part", key);
    return "";
  }
  if (combine == "min" || combine == "max") {
    std::map<std::string, double> best;
    for (const Value& p : parts) {
      std::map<std::string, double> one;
      add_into(one, p);
      for (const auto& [key, x] : one) {
        auto [it, inserted] = best.try_emplace(key, x);
        if (!inserted)
          it->second = combine == "min" ? std::min(it->second, x) : std::max(it->second, x);
      }
    }
    std::map<std::string, double> expected;
    add_into(expected, value);
    if (best != expected)
      return fmt::format("the {} of the parts is not the value {}", combine, value.to_json());
    return "";
  }
  if (combine == "newest" || combine == "newest_distinct") {
    for (const Value& entry : value.array()) {
      bool found = false;
      for (const Value& p : parts)
        for (const Value& e : p.array()) found = found || e == entry;
      if (!found) return "entry " + entry.to_json() + " of the value is in no part";
    }
    return "";
  }
  if (combine == "distinct_union") {
    double most = 0, total = 0;
    for (const Value& p : parts) {
      most = std::max(most, p.number());
      total += p.number();
    }
    if (value.number() < most || value.number() > total)
      return fmt::format("{} distinct values from parts of at most {} and {} in all",
                         value.number(), most, total);
    return "";
  }
  return "";  // a rule the parts alone do not decide (a mean of means): stated, not checked
}

class ExplainChecker {
 public:
  ExplainChecker(Engine& engine, World& world, const std::vector<RefEvent>& accepted)
      : engine_(engine), world_(world), accepted_(accepted) {
    for (const RefEvent& e : accepted_) by_id_[{e.user, e.event_id}] = &e;
  }

  void check(std::uint64_t user, const std::string& name, const std::optional<std::string>& window,
             TimeMs as_of) {
    SCOPED_TRACE(
        fmt::format("user {} {} window {} as_of {}", user, name, window.value_or("-"), as_of));
    const Value x = engine_.explain(user, name, window, as_of, {.max_events = 1000000});
    const Value served_all = engine_.query(user, {name}, as_of);
    const Value* served = served_all.find("signals")->find(name);
    if (window) served = served->find(*window);
    ASSERT_NE(served, nullptr);
    EXPECT_EQ(x.find("value")->to_json(), served->to_json())
        << "explain's value is the served value";

    Value expected_all = world_.expected(accepted_, user, as_of);
    const Value* expected = expected_all.find("signals")->find(name);
    if (window) expected = expected->find(*window);
    EXPECT_EQ(diff(*expected, *x.find("value"), 1e-9), "") << "the reference's value";

    for (const Value& w : x.find("windows")->array()) {
      // A view of two signals lists the windows of each; every entry names its own.
      const std::string signal_name = w.find("signal")->string();
      const SignalConfig& signal = *world_.find_signal(signal_name);
      const std::string combine = w.find("combine")->string();
      const Value served_signal =
          *engine_.query(user, {signal_name}, as_of).find("signals")->find(signal_name);
      const Value& label = *w.find("window");
      std::optional<TimeMs> length;
      if (!label.is_null()) {
        for (const WindowConfig& wc : signal.windows)
          if (wc.text == label.string()) length = wc.length;
        ASSERT_TRUE(length) << "window " << label.to_json() << " is one of the signal's";
        EXPECT_EQ(w.find("value")->to_json(), served_signal.find(label.string())->to_json());
        EXPECT_EQ(w.find("from")->number(), static_cast<double>(ref_window_start(as_of, *length)));
      } else {
        EXPECT_EQ(w.find("value")->to_json(), served_signal.to_json());
      }
      check_tiles(w, length, as_of);
      check_events(w, signal, user, length, as_of);
      EXPECT_EQ(check_combination(combine, w), "") << w.to_json().substr(0, 2000);
    }
    ++checks;
  }

  std::size_t checks = 0, windows_with_tiles_and_events = 0, events_listed = 0, tiles_listed = 0;

 private:
  void check_tiles(const Value& w, std::optional<TimeMs> length, TimeMs as_of) {
    for (const Value& t : w.find("tiles")->array()) {
      ++tiles_listed;
      const std::string kind = t.find("kind")->string();
      EXPECT_LE(t.find("to")->number(), static_cast<double>(as_of)) << t.to_json();
      if (kind == "base") continue;
      EXPECT_EQ(t.find("to")->number() - t.find("from")->number() + 1,
                static_cast<double>(kind == "day" ? kDayMs : kHourMs));
      if (length) {
        EXPECT_GE(t.find("from")->number(), static_cast<double>(ref_window_start(as_of, *length)));
      }
    }
  }

  void check_events(const Value& w, const SignalConfig& signal, std::uint64_t user,
                    std::optional<TimeMs> length, TimeMs as_of) {
    const auto actions = actions_of(signal);
    std::set<std::string> seen;
    const auto& events = w.find("events")->array();
    events_listed += events.size();
    if (!events.empty() && !w.find("tiles")->array().empty()) ++windows_with_tiles_and_events;
    EXPECT_EQ(static_cast<double>(events.size()) + w.find("truncated")->number(),
              w.find("events_total")->number());
    for (const Value& e : events) {
      const std::string id = e.find("event_id")->string();
      EXPECT_TRUE(seen.insert(id).second) << "listed twice: " << id;
      auto it = by_id_.find({user, id});
      ASSERT_NE(it, by_id_.end()) << "not an event the reference accepted for this user: "
                                  << e.to_json();
      const RefEvent& ref = *it->second;
      EXPECT_EQ(e.find("ts")->number(), static_cast<double>(ref.ts));
      EXPECT_EQ(e.find("action")->string(), ref.action);
      EXPECT_TRUE(in_window(ref.ts, as_of, length, kRetention))
          << "outside the window: " << e.to_json();
      const std::optional<double> weight = weight_of(ref, actions ? &*actions : nullptr);
      ASSERT_TRUE(weight) << "an event the signal does not count: " << e.to_json();
      EXPECT_EQ(e.find("weight")->number(), *weight);
      const Value* categories = e.find("features")->find("pin.categories");
      std::vector<std::string> listed;
      if (categories)
        for (const Value& c : categories->array()) listed.push_back(c.string());
      EXPECT_EQ(listed, ref.categories) << "the event's looked-up categories";
    }
  }

  Engine& engine_;
  World& world_;
  const std::vector<RefEvent>& accepted_;
  std::map<std::pair<std::uint64_t, std::string>, const RefEvent*> by_id_;
};

// A disordered stream of `count` events about every 90 seconds (9000 span more than nine days,
// three times the raw retention), fed in random batches; what
// the engine accepted, as the reference sees it.
std::vector<RefEvent> feed(Engine& engine, World& world, std::size_t count, std::size_t users) {
  auto& rng = world.rng();
  std::vector<RefEvent> accepted;
  std::set<std::pair<std::uint64_t, std::string>> ids;
  std::size_t serial = 0;
  while (serial < count) {
    std::vector<Event> batch;
    const std::size_t n = 1 + rng() % 300;
    for (std::size_t i = 0; i < n && serial < count; ++i, ++serial) {
      const TimeMs ts = kStart + static_cast<TimeMs>(serial) * 90 * 1000 -
                        static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(2 * kHourMs));
      batch.push_back(world.make_event(users, ts, serial));
    }
    const IngestResult result = engine.ingest(batch);
    std::set<std::size_t> rejected;
    for (const RejectedEvent& r : result.rejected) rejected.insert(r.index);
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (!rejected.count(i) && ids.emplace(batch[i].user_id, batch[i].event_id).second)
        accepted.push_back(world.to_ref(batch[i]));
  }
  return accepted;
}

// Every built-in family but the sketches (whose answers the reference bounds rather than
// computes), and views of one and of two windows.
void add_explained_signals(World& world) {
  add_numeric_summary_signals(world, kWindows);
  add_sequence_signals(world, kWindows);
  add_analytics_views(world);
}

TEST(Explain, PartsCombineToTheServedValueAndEventsAreTheReferences) {
  World world(kRetention, kWindows, 29);
  add_explained_signals(world);
  Engine engine(world.config);
  const std::size_t users = 12;
  const std::vector<RefEvent> accepted = feed(engine, world, 9000, users);
  ExplainChecker checker(engine, world, accepted);
  auto& rng = world.rng();
  const std::vector<std::string> names = engine.names();
  const TimeMs head = engine.stream_time();
  for (int k = 0; k < 400 && !::testing::Test::HasFatalFailure(); ++k) {
    const std::uint64_t user = 1000 + rng() % users;
    const std::string& name = names[rng() % names.size()];
    std::optional<std::string> window;
    const SignalConfig* signal = world.find_signal(name);
    if (signal && !signal->windows.empty() && rng() % 3 != 0)
      window = signal->windows[rng() % signal->windows.size()].text;
    const TimeMs as_of = rng() % 2 == 0 ? head - static_cast<TimeMs>(rng() % (45 * kMinuteMs))
                                        : head + static_cast<TimeMs>(rng() % kDayMs);
    checker.check(user, name, window, as_of);
  }
  EXPECT_EQ(checker.checks, 400u);
  std::cout << "explained: " << checker.tiles_listed << " tiles and " << checker.events_listed
            << " raw events; " << checker.windows_with_tiles_and_events
            << " windows made of both\n";
  // Windows within and beyond the raw retention were explained, from tiles and raw events.
  EXPECT_GT(checker.windows_with_tiles_and_events, 50u);
  EXPECT_GT(checker.events_listed, 300u);
  EXPECT_GT(checker.tiles_listed, 1000u);
}

TEST(Explain, ListsAtMostMaxEventsAndCountsTheRest) {
  World world(kRetention, kWindows, 31);
  add_explained_signals(world);
  Engine engine(world.config);
  const std::vector<RefEvent> accepted = feed(engine, world, 3000, 3);
  const TimeMs head = engine.stream_time();
  std::size_t truncated_seen = 0;
  for (std::uint64_t user = 1000; user < 1003; ++user) {
    const Value all =
        engine.explain(user, "category_counts", std::string("1d"), head, {.max_events = 1000000});
    const Value few =
        engine.explain(user, "category_counts", std::string("1d"), head, {.max_events = 2});
    const Value& w_all = all.find("windows")->array().at(0);
    const Value& w_few = few.find("windows")->array().at(0);
    EXPECT_EQ(w_few.find("events_total")->to_json(), w_all.find("events_total")->to_json());
    const std::size_t total = static_cast<std::size_t>(w_all.find("events_total")->number());
    EXPECT_EQ(w_few.find("events")->array().size(), std::min<std::size_t>(2, total));
    EXPECT_EQ(w_few.find("truncated")->number(),
              static_cast<double>(total - std::min<std::size_t>(2, total)));
    // The newest are listed, newest first.
    for (std::size_t i = 0; i < w_few.find("events")->array().size(); ++i)
      EXPECT_EQ(w_few.find("events")->array()[i].to_json(),
                w_all.find("events")->array()[i].to_json());
    EXPECT_EQ(few.find("value")->to_json(), all.find("value")->to_json());
    truncated_seen += static_cast<std::size_t>(w_few.find("truncated")->number());
  }
  EXPECT_GT(truncated_seen, 0u);
}

TEST(Explain, MarksThePartsThatDecideAMaximum) {
  World world(kRetention, kWindows, 31);
  add_explained_signals(world);
  Engine engine(world.config);
  feed(engine, world, 3000, 3);
  const Value x = engine.explain(1000, "price_min", std::string("40d"), engine.stream_time(), {});
  EXPECT_EQ(x.find("combine")->string(), "min");
  const Value& w = x.find("windows")->array().at(0);
  std::size_t deciding = 0;
  for (const char* list : {"tiles", "events"})
    for (const Value& part : w.find(list)->array())
      if (part.find("decides")) {
        ++deciding;
        EXPECT_EQ(part.find("value")->to_json(), x.find("value")->to_json());
      }
  EXPECT_GE(deciding, 1u);
}

TEST(Explain, RefusesUnknownNamesAndWindows) {
  World world(kRetention, kWindows, 31);
  add_explained_signals(world);
  Engine engine(world.config);
  feed(engine, world, 500, 3);
  const TimeMs head = engine.stream_time();
  auto message = [&](const std::string& name,
                     const std::optional<std::string>& window) -> std::string {
    try {
      engine.explain(1000, name, window, head, {});
    } catch (const QueryError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message("no_such_signal", std::nullopt).find("\"no_such_signal\""), std::string::npos);
  EXPECT_NE(
      message("saves", std::string("2d")).find("window: signal \"saves\" has no window \"2d\""),
      std::string::npos);
  EXPECT_NE(message("recent_items", std::string("1d")).find("has no windows"), std::string::npos);
  EXPECT_NE(message("top3", std::string("1d")).find("is a view"), std::string::npos);
}

}  // namespace
}  // namespace signalbox::testing
