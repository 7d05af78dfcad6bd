// 120 days of events through a 7-day event store: old raw events are gone, yet 30- and
// 90-day windows and all-history signals still equal the brute-force reference.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "kept_hours.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;

TEST(LongHistory, SignalsOutliveTheRawEvents) {
  World world(7 * kDayMs, {"1h", "1d", "7d", "30d", "90d"});
  const std::size_t users = 12;
  std::vector<RefEvent> accepted;
  TimeMs head = 0;
  {
    Engine engine(world.config);
    auto& rng = world.rng();
    std::vector<Event> batch;
    const std::size_t count = 24000;
    const TimeMs step = 120 * kDayMs / static_cast<TimeMs>(count);
    for (std::size_t i = 0; i < count; ++i) {
      TimeMs ts =
          kStart + static_cast<TimeMs>(i) * step - static_cast<TimeMs>(rng() % (2 * kHourMs));
      batch.push_back(world.make_event(users, ts, i));
      if (batch.size() == 500 || i + 1 == count) {
        IngestResult r = engine.ingest(batch);
        ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
        for (const Event& e : batch) accepted.push_back(world.to_ref(e));
        batch.clear();
      }
    }
    head = engine.stream_time();
    engine.expire(/*compact=*/true);

    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      Value actual = engine.query(user, {}, head);
      std::string d = diff(world.expected(accepted, user, head), actual, 1e-9);
      EXPECT_EQ(d, "") << "user " << user;
      Value later = engine.query(user, {}, head + 3 * kDayMs);
      d = diff(world.expected(accepted, user, head + 3 * kDayMs), later, 1e-9);
      EXPECT_EQ(d, "") << "user " << user << " three days later";
    }
  }

  // Read the store directly: only the last 7 days (plus the clock-skew allowance) remain.
  LastOperandMerger merger;
  auto store = open_rocksdb_store(RocksDbOptions{world.config.storage.path, true, false}, merger);
  auto snapshot = store->snapshot();
  const TimeMs horizon = head - 7 * kDayMs - world.config.event_store.max_future_skew;
  std::size_t stored = 0, expected_stored = 0;
  TimeMs oldest = std::numeric_limits<TimeMs>::max();
  for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
    snapshot->scan_events(user, 0, std::numeric_limits<TimeMs>::max(), [&](std::string_view bytes) {
      MaterializedEvent e = decode_event(bytes, FeatureNames());
      oldest = std::min(oldest, e.event.ts);
      ++stored;
    });
  }
  for (const RefEvent& e : accepted)
    if (e.ts > horizon) ++expected_stored;
  EXPECT_GT(oldest, horizon) << "raw events older than the retention are gone";
  EXPECT_EQ(stored, expected_stored) << "every event inside the retention is still there";
  EXPECT_LT(stored, accepted.size() / 10);
}

// The weekly fold into base tiles going one user per commit (Engine::Options::
// fold_slice_users), with late events among the rest: every answer, after every batch, equals
// the brute-force reference, whichever users the fold in progress has reached.
TEST(LongHistory, AFoldInSlicesLeavesEveryAnswerExactAtEveryBatch) {
  World world(7 * kDayMs, {"1h", "1d", "7d", "30d", "90d"});
  const std::size_t users = 8;
  Engine::Options options;
  options.fold_slice_users = 1;
  Engine engine(world.config, options);
  auto& rng = world.rng();
  std::vector<RefEvent> accepted;
  std::vector<Event> batch;
  const std::size_t count = 8000;  // 25 a batch: 6 hours
  const TimeMs step = 120 * kDayMs / static_cast<TimeMs>(count);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(i) * step - static_cast<TimeMs>(rng() % (2 * kHourMs));
    // Now and then an event ten days late: into a day tile some users have folded already.
    if (i % 50 == 49 && ts > kStart + 10 * kDayMs) ts -= 10 * kDayMs;
    batch.push_back(world.make_event(users, ts, i));
    if (batch.size() < 25 && i + 1 < count) continue;
    IngestResult r = engine.ingest(batch);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
    for (const Event& e : batch) accepted.push_back(world.to_ref(e));
    batch.clear();
    const TimeMs head = engine.stream_time();
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      std::string d =
          diff(world.expected(accepted, user, head), engine.query(user, {}, head), 1e-9);
      ASSERT_EQ(d, "") << "user " << user << " at " << head;
      ++checked;
    }
  }
  EXPECT_EQ(checked, users * count / 25);
}

// A windowed signal and an all-history signal that fold the same thing: the all-history
// one folds old day tiles into its base tile, which must not take them from the windowed one.
TEST(LongHistory, WindowedAndAllHistorySignalsOfTheSameFoldStayExact) {
  World world(7 * kDayMs, {"1h", "1d", "7d", "30d", "90d"});
  SignalConfig clicks;
  clicks.name = "clicks_windowed";
  clicks.aggregator = "count";
  clicks.actions = std::vector<std::pair<std::string, double>>{{"click", 1}};
  clicks.windows = {{"1d", kDayMs}, {"30d", 30 * kDayMs}, {"90d", 90 * kDayMs}};
  world.config.signals.push_back(clicks);  // all_clicks is the same fold without windows
  Engine engine(world.config);
  std::vector<RefEvent> accepted;
  std::vector<Event> batch;
  const std::size_t count = 8000;
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(i) * (100 * kDayMs / static_cast<TimeMs>(count));
    batch.push_back(world.make_event(6, ts, i));
    if (batch.size() == 400 || i + 1 == count) {
      ASSERT_TRUE(engine.ingest(batch).rejected.empty());
      for (const Event& e : batch) accepted.push_back(world.to_ref(e));
      batch.clear();
    }
  }
  engine.expire(/*compact=*/true);
  const TimeMs head = engine.stream_time();
  const std::map<std::string, double> click_weight = {{"click", 1}};
  for (std::uint64_t user = 1000; user < 1006; ++user) {
    Value actual = engine.query(user, {"clicks_windowed", "all_clicks"}, head);
    Value::Object windows;
    for (const auto& w : clicks.windows) {
      std::vector<const RefEvent*> in;
      for (const RefEvent& e : accepted)
        if (e.user == user && in_window(e.ts, head, w.length, 7 * kDayMs)) in.push_back(&e);
      windows.emplace_back(w.text, ref_count(in, &click_weight));
    }
    std::vector<const RefEvent*> all;
    for (const RefEvent& e : accepted)
      if (e.user == user && e.ts <= head) all.push_back(&e);
    Value expected(Value::Object{{"clicks_windowed", Value(std::move(windows))},
                                 {"all_clicks", ref_count(all, &click_weight)}});
    EXPECT_EQ(diff(expected, *actual.find("signals"), 1e-9), "") << "user " << user;
  }
}

// Every signal after old hours are dropped, each state by its own cut (kept_hours.h), on
// RocksDB.
TEST(LongHistory, EverySignalAnswersHoursAllOverTheRetentionAfterOldHoursAreDropped) {
  World world(7 * kDayMs, {"1h", "1d", "30d"});
  check_kept_hours(world, 6, 9000, kStart, 20 * kDayMs, 500);
}

}  // namespace
}  // namespace signalbox::testing
