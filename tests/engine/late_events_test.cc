// Late events against a reference that decides acceptance itself: events up to the late
// horizon behind stream time count exactly once in every window they fall in, also after
// their raw copies expired and after their day was folded into the all-history state; events
// beyond it are rejected as too late; copies re-sent days later change nothing.

#include <gtest/gtest.h>

#include <set>

#include "world.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kStart = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr double kTolerance = 1e-9;

// The rule as documented in docs/events.md, applied by the reference on its own: an event is
// too late when its ts is at or before (stream time before its batch) - late horizon, where
// stream time is the highest ts of any event taken; the first taken copy of an id counts.
class LateRule {
 public:
  explicit LateRule(TimeMs late_horizon) : late_horizon_(late_horizon) {}

  // Which of `batch` the reference expects rejected; records the taken ones.
  std::set<std::size_t> decide(const World& world, const std::vector<Event>& batch) {
    std::set<std::size_t> rejected;
    TimeMs head_after = head_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (head_ != kNone && batch[i].ts <= head_ - late_horizon_) {
        rejected.insert(i);
        continue;
      }
      head_after = head_after == kNone ? batch[i].ts : std::max(head_after, batch[i].ts);
      if (ids_.emplace(batch[i].user_id, batch[i].event_id).second) taken.push_back(world.to_ref(batch[i]));
    }
    head_ = head_after;
    return rejected;
  }

  TimeMs head() const { return head_; }
  std::vector<RefEvent> taken;

 private:
  static constexpr TimeMs kNone = std::numeric_limits<TimeMs>::min();
  TimeMs late_horizon_;
  TimeMs head_ = kNone;
  std::set<std::pair<std::uint64_t, std::string>> ids_;
};

std::set<std::size_t> rejected_indexes(const IngestResult& result) {
  std::set<std::size_t> out;
  for (const auto& [index, message] : result.rejected) {
    EXPECT_NE(message.find("too late"), std::string::npos) << message;
    out.insert(index);
  }
  return out;
}

class LateEvents : public ::testing::Test {
 protected:
  LateEvents() : world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}) {}

  void check_all(Engine& engine, TimeMs as_of, std::size_t users) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      Value actual = engine.query(user, {}, as_of);
      Value expected = world.expected(rule->taken, user, as_of);
      ASSERT_EQ(diff(expected, actual, kTolerance), "") << "user " << user << " as_of " << as_of;
    }
  }

  World world;
  std::unique_ptr<LateRule> rule;
};

TEST_F(LateEvents, LateEventsCountOnceInEveryWindowAfterTheirRawCopiesExpired) {
  Engine engine(world.config);
  ASSERT_EQ(engine.late_horizon(), 40 * kDayMs) << "the default is the longest window";
  rule = std::make_unique<LateRule>(engine.late_horizon());
  const std::size_t users = 12;
  auto& rng = world.rng();
  std::size_t serial = 0;
  std::vector<Event> sent;  // every event sent so far, to re-send some days later
  std::size_t late_taken = 0, late_refused = 0;

  // 70 days of on-time traffic; each batch also carries events far behind stream time: most
  // within the late horizon (older than the 3-day raw retention), some beyond it, and copies
  // of earlier events (verbatim) re-sent days later.
  for (int hour = 0; hour < 70 * 24; ++hour) {
    const TimeMs now = kStart + hour * kHourMs;
    std::vector<Event> batch;
    for (int i = 0; i < 6; ++i)
      batch.push_back(world.make_event(users, now + static_cast<TimeMs>(rng() % kHourMs), serial++));
    if (hour > 24 && rng() % 2 == 0) {
      const TimeMs behind = 3 * kDayMs + 2 * kHourMs + static_cast<TimeMs>(rng() % (37 * kDayMs));
      batch.push_back(world.make_event(users, now - behind, serial++));
    }
    if (hour > 24 * 45 && rng() % 8 == 0)
      batch.push_back(world.make_event(users, now - 40 * kDayMs - static_cast<TimeMs>(rng() % kDayMs), serial++));
    if (!sent.empty() && rng() % 3 == 0) batch.push_back(sent[rng() % sent.size()]);
    std::shuffle(batch.begin(), batch.end(), rng);

    const TimeMs head_before = rule->head();
    std::set<std::size_t> expected = rule->decide(world, batch);
    IngestResult result = engine.ingest(batch);
    ASSERT_EQ(rejected_indexes(result), expected) << "hour " << hour;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (head_before == std::numeric_limits<TimeMs>::min() || batch[i].ts > head_before - 3 * kDayMs) continue;
      if (expected.count(i)) ++late_refused;
      else ++late_taken;
    }
    sent.insert(sent.end(), batch.begin(), batch.end());
    if (hour % (24 * 9) == 24 * 9 - 1) check_all(engine, engine.stream_time(), users);
  }
  EXPECT_GT(late_taken, 300u) << "late events older than the retention were taken";
  EXPECT_GT(late_refused, 10u) << "events beyond the late horizon were refused";

  const TimeMs head = engine.stream_time();
  check_all(engine, head, users);
  check_all(engine, head - 40 * kMinuteMs, users);
  // Expired raw events and compacted, folded tiles: the late events live on in the tiles only.
  engine.expire(true);
  check_all(engine, head, users);
  check_all(engine, head + 5 * kHourMs, users);
}

TEST_F(LateEvents, AnEventBeyondTheConfiguredHorizonIsTooLate) {
  world.config.event_store.late_horizon = 5 * kDayMs;
  Engine engine(world.config);
  EXPECT_EQ(engine.late_horizon(), 5 * kDayMs);
  rule = std::make_unique<LateRule>(engine.late_horizon());
  const TimeMs head = kStart + 20 * kDayMs;
  std::vector<Event> first = {world.make_event(5, head, 1)};
  EXPECT_EQ(rule->decide(world, first), std::set<std::size_t>{});
  EXPECT_TRUE(engine.ingest(first).rejected.empty());

  std::vector<Event> late = {world.make_event(5, head - 5 * kDayMs + 1, 2),  // just inside
                             world.make_event(5, head - 5 * kDayMs, 3)};     // just beyond
  EXPECT_EQ(rule->decide(world, late), std::set<std::size_t>{1});
  IngestResult result = engine.ingest(late);
  ASSERT_EQ(result.rejected.size(), 1u);
  EXPECT_EQ(result.rejected[0].first, 1u);
  EXPECT_NE(result.rejected[0].second.find("too late"), std::string::npos) << result.rejected[0].second;
  EXPECT_NE(result.rejected[0].second.find("late_horizon"), std::string::npos) << result.rejected[0].second;
  check_all(engine, head, 5);
}

TEST_F(LateEvents, AHorizonShorterThanTheRetentionIsRaisedToIt) {
  world.config.event_store.late_horizon = kHourMs;
  Engine engine(world.config);
  EXPECT_EQ(engine.late_horizon(), world.config.event_store.retention + world.config.event_store.max_future_skew);
}

}  // namespace
}  // namespace signalbox::testing
