#pragma once

// The hours of a state that only signals without windows use are kept for stream time's day
// and the day before alone (store/tiles.h, base_only_hours_from): expiry drops the older
// ones, and a query as of an earlier day of the retention reads that day's raw events
// instead. Shared by the RocksDB and the Redis store's tests.

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

// The all-history signals of World's config.
inline const std::vector<std::string> kAllHistorySignals = {"affinity", "recent_items",
                                                            "all_clicks"};

// Queries the all-history signals of users 1000..1002 at hours all over the retention before
// `head` (stream time) and compares each answer with the reference: an as_of whose UTC day
// starts after the raw horizon must be answered, an older one may be refused.
inline void expect_all_history_answers_over_the_retention(World& world, Engine& engine,
                                                          const std::vector<RefEvent>& accepted,
                                                          TimeMs head) {
  const TimeMs retention = world.config.event_store.retention;
  const TimeMs raw_after = head - retention - world.config.event_store.max_future_skew;
  std::size_t answered = 0, asked = 0;
  for (TimeMs as_of = head - retention; as_of <= head; as_of += 5 * kHourMs + 17 * kMinuteMs) {
    for (std::uint64_t user = 1000; user < 1003; ++user) {
      ++asked;
      Value actual;
      try {
        actual = engine.query(user, kAllHistorySignals, as_of);
      } catch (const QueryError& e) {
        EXPECT_LE(floor_day(as_of), raw_after) << "as_of " << as_of << ": " << e.what();
        continue;
      }
      const Value expected = world.expected(accepted, user, as_of);
      for (const std::string& name : kAllHistorySignals)
        EXPECT_EQ(
            diff(*expected.find("signals")->find(name), *actual.find("signals")->find(name), 1e-9),
            "")
            << name << " of user " << user << " as of " << as_of << " (head " << head << ")";
      ++answered;
    }
  }
  EXPECT_GT(answered, asked / 2);
}

// Reads the hour tiles of users 1000..1000+users-1 straight from the store of `world.config`
// (the engine closed, or not writing): none of an all-history state starts before the cut,
// some start after it, and the windowed category_counts keeps hours before it.
inline void expect_old_all_history_hours_dropped(const World& world, std::size_t users,
                                                 TimeMs head) {
  LastOperandMerger merger;
  std::map<std::string, std::uint64_t> state_of;
  const FeatureNames features({"pin.categories", "pin.embedding"});
  for (const SignalConfig& s : world.config.signals)
    state_of[s.name] = Signal(s, features).state_id();
  std::unique_ptr<Store> store = open_store(world.config, merger, {.read_only = true});
  std::unique_ptr<StoreSnapshot> snapshot = store->snapshot();
  const TimeMs cut = base_only_hours_from(
      snapshot->expired_through(),
      world.config.event_store.retention + world.config.event_store.max_future_skew);
  ASSERT_GT(cut, head - 3 * kDayMs);
  std::vector<std::uint64_t> ids;
  for (const auto& [name, id] : state_of) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::map<std::uint64_t, std::pair<std::size_t, std::size_t>> hours;  // state: before, after
  for (std::uint64_t user = 1000; user < 1000 + users; ++user)
    for (const StoredTile& t : snapshot->tiles(user, ids, head - 40 * kDayMs, head))
      if (t.kind == TileKind::kHour) {
        auto& [before, after] = hours[t.state_id];
        ++(t.start < cut ? before : after);
      }
  for (const std::string& name : kAllHistorySignals) {
    EXPECT_EQ(hours[state_of[name]].first, 0u) << name << ": hour tiles before the cut are kept";
    EXPECT_GT(hours[state_of[name]].second, 0u) << name << ": no hour tile of the last two days";
  }
  EXPECT_GT(hours[state_of["category_counts"]].first, 0u)
      << "a windowed state lost its hour tiles before the cut";
}

// The whole check on the store of `world.config`: `count` events of `users` spread over
// `span` from `from`, ingested in batches of `batch_size` and expired with a compaction; then
// both checks above.
inline void check_all_history_hours(World& world, std::size_t users, std::size_t count, TimeMs from,
                                    TimeMs span, std::size_t batch_size) {
  TimeMs head = 0;
  {
    Engine engine(world.config);
    const std::vector<RefEvent> accepted =
        world.ingest_spread(engine, users, count, from, span, batch_size);
    head = engine.stream_time();
    engine.expire(/*compact=*/true);
    expect_all_history_answers_over_the_retention(world, engine, accepted, head);
  }
  expect_old_all_history_hours_dropped(world, users, head);
}

}  // namespace signalbox::testing
