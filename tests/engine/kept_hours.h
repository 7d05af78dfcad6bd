#pragma once

// The hours of each state are kept from its longest exact window (a window up to the
// retention) before the day before stream time's day on, or from that day for a state with
// none (store/tiles.h, hours_kept_from): expiry drops the older ones, and a query as of a time
// whose hours are gone reads their raw events instead. Shared by the RocksDB and the Redis
// store's tests.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/store/open_store.h"
#include "signalbox/store/tiles.h"
#include "world.h"

namespace signalbox::testing {

// Whether a query of `signal` as of `as_of` must be answered with raw events kept after
// `raw_after` and `retention`: every exact window starts after the raw horizon, and the day of
// `as_of` does for a longer window or for all history (which read that day's hours).
inline bool must_answer(const SignalConfig& signal, TimeMs as_of, TimeMs raw_after,
                        TimeMs retention) {
  if (signal.windows.empty()) return floor_day(as_of) > raw_after;
  for (const WindowConfig& w : signal.windows) {
    const bool held =
        w.length <= retention ? as_of - w.length + 1 > raw_after : floor_day(as_of) > raw_after;
    if (!held) return false;
  }
  return true;
}

// Queries each signal of users 1000..1002 at hours all over the retention before `head`
// (stream time) and compares each answer with the reference: an as_of must_answer() says is
// held must be answered, any other may be refused.
inline void expect_answers_over_the_retention(World& world, Engine& engine,
                                              const std::vector<RefEvent>& accepted, TimeMs head) {
  const TimeMs retention = world.config.event_store.retention;
  const TimeMs raw_after = head - retention - world.config.event_store.max_future_skew;
  std::size_t answered = 0, asked = 0;
  for (TimeMs as_of = head - retention; as_of <= head; as_of += 5 * kHourMs + 17 * kMinuteMs) {
    for (std::uint64_t user = 1000; user < 1003; ++user) {
      const Value expected = world.expected(accepted, user, as_of);
      for (const SignalConfig& signal : world.config.signals) {
        ++asked;
        Value actual;
        try {
          actual = engine.query(user, {signal.name}, as_of);
        } catch (const QueryError& e) {
          EXPECT_FALSE(must_answer(signal, as_of, raw_after, retention))
              << signal.name << " as_of " << as_of << ": " << e.what();
          continue;
        }
        EXPECT_EQ(diff(*expected.find("signals")->find(signal.name),
                       *actual.find("signals")->find(signal.name), 1e-9),
                  "")
            << signal.name << " of user " << user << " as of " << as_of << " (head " << head << ")";
        ++answered;
      }
    }
  }
  EXPECT_GT(answered, asked / 2);
}

// Reads the hour tiles of users 1000..1000+users-1 straight from the store of `world.config`
// (the engine closed, or not writing): none of a state starts before that state's cut (its
// longest exact window, from the test's own reading of the config), those of all-history
// states start after theirs, and the state with the longest exact window keeps hours before
// the cut of a shorter one.
inline void expect_old_hours_dropped(const World& world, std::size_t users, TimeMs head) {
  LastOperandMerger merger;
  const TimeMs retention = world.config.event_store.retention;
  const FeatureNames features({"pin.categories", "pin.embedding"});
  std::map<std::string, std::uint64_t> state_of;
  std::map<std::uint64_t, TimeMs> exact_window;  // by state, of every signal sharing it
  for (const SignalConfig& s : world.config.signals) {
    const std::uint64_t id = Signal(s, features).state_id();
    state_of[s.name] = id;
    TimeMs& longest = exact_window[id];
    for (const WindowConfig& w : s.windows)
      if (w.length <= retention) longest = std::max(longest, w.length);
  }
  std::unique_ptr<Store> store = open_store(world.config, merger, {.read_only = true});
  std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
  const TimeMs raw_kept = retention + world.config.event_store.max_future_skew;
  auto cut_of = [&](std::uint64_t state) {
    return hours_kept_from(snapshot->expired_through(), raw_kept, exact_window[state]);
  };
  std::vector<std::uint64_t> ids;
  for (const auto& [id, window] : exact_window) ids.push_back(id);
  std::map<std::uint64_t, std::vector<TimeMs>> hours;  // by state: the starts of its hour tiles
  for (std::uint64_t user = 1000; user < 1000 + users; ++user)
    for (const StoredTile& t : snapshot->tiles(user, ids, head - 40 * kDayMs, head))
      if (t.kind == TileKind::kHour) hours[t.state_id].push_back(t.start);
  auto before = [&](std::uint64_t state, TimeMs cut) {
    const std::vector<TimeMs>& starts = hours[state];
    return std::count_if(starts.begin(), starts.end(), [&](TimeMs s) { return s < cut; });
  };
  for (const auto& [name, id] : state_of)
    EXPECT_EQ(before(id, cut_of(id)), 0) << name << ": hour tiles before its cut are kept";
  for (const SignalConfig& s : world.config.signals) {
    if (!s.windows.empty()) continue;
    EXPECT_GT(hours[state_of[s.name]].size(), 0u) << s.name << ": no hour tile after the cut";
  }
  std::uint64_t longest = 0, shortest = 0;
  for (const auto& [id, window] : exact_window) {
    if (window == 0) continue;
    if (longest == 0 || window > exact_window[longest]) longest = id;
    if (shortest == 0 || window < exact_window[shortest]) shortest = id;
  }
  ASSERT_LT(exact_window[shortest], exact_window[longest]) << "the config tests one cut only";
  ASSERT_LT(cut_of(longest), cut_of(shortest));
  EXPECT_GT(before(longest, cut_of(shortest)), 0)
      << "a state with a longer exact window lost its hour tiles before a shorter one's cut";
}

// The whole check on the store of `world.config`: `count` events of `users` spread over
// `span` from `from`, ingested in batches of `batch_size` and expired with a compaction; then
// both checks above.
inline void check_kept_hours(World& world, std::size_t users, std::size_t count, TimeMs from,
                             TimeMs span, std::size_t batch_size) {
  TimeMs head = 0;
  {
    Engine engine(world.config);
    const std::vector<RefEvent> accepted =
        world.ingest_spread(engine, users, count, from, span, batch_size);
    head = engine.stream_time();
    engine.expire(/*compact=*/true);
    expect_answers_over_the_retention(world, engine, accepted, head);
  }
  expect_old_hours_dropped(world, users, head);
}

}  // namespace signalbox::testing
