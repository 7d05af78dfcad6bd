// Late events against a reference that decides acceptance itself: events up to the late
// horizon behind stream time count exactly once in every window they fall in, also after
// their raw copies expired and after their day was folded into the all-history state; events
// beyond it are rejected as too late; copies re-sent days later change nothing.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fixed_times.h"
#include "late_rule.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;
using testing::kTolerance;

std::set<std::size_t> rejected_indexes(const IngestResult& result) {
  std::set<std::size_t> out;
  for (const RejectedEvent& r : result.rejected) {
    EXPECT_EQ(r.reason, RejectReason::kLate) << r.message;
    EXPECT_NE(r.message.find("too late"), std::string::npos) << r.message;
    out.insert(r.index);
  }
  return out;
}

class LateEvents : public ::testing::Test {
 protected:
  LateEvents() : world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}) {}

  void check_all(Engine& engine, TimeMs as_of, std::size_t users) {
    check_all(engine, rule->taken, as_of, users);
  }
  // Every user's answer as of `as_of` against the reference over the events `taken`.
  void check_all(Engine& engine, const std::vector<RefEvent>& taken, TimeMs as_of,
                 std::size_t users) {
    for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
      Value actual = engine.query(user, {}, as_of);
      Value expected = world.expected(taken, user, as_of);
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
      batch.push_back(
          world.make_event(users, now + static_cast<TimeMs>(rng() % kHourMs), serial++));
    if (hour > 24 && rng() % 2 == 0) {
      const TimeMs behind = 3 * kDayMs + 2 * kHourMs + static_cast<TimeMs>(rng() % (37 * kDayMs));
      batch.push_back(world.make_event(users, now - behind, serial++));
    }
    if (hour > 24 * 45 && rng() % 8 == 0)
      batch.push_back(world.make_event(
          users, now - 40 * kDayMs - static_cast<TimeMs>(rng() % kDayMs), serial++));
    if (!sent.empty() && rng() % 3 == 0) batch.push_back(sent[rng() % sent.size()]);
    std::shuffle(batch.begin(), batch.end(), rng);

    const TimeMs head_before = rule->head();
    std::set<std::size_t> expected = rule->decide(world, batch).rejected;
    IngestResult result = engine.ingest(batch);
    ASSERT_EQ(rejected_indexes(result), expected) << "hour " << hour;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (head_before == LateRule::kNone || batch[i].ts > head_before - 3 * kDayMs) continue;
      if (expected.count(i))
        ++late_refused;
      else
        ++late_taken;
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
  EXPECT_EQ(rule->decide(world, first).rejected, std::set<std::size_t>{});
  EXPECT_TRUE(engine.ingest(first).rejected.empty());

  std::vector<Event> late = {world.make_event(5, head - 5 * kDayMs + 1, 2),  // just inside
                             world.make_event(5, head - 5 * kDayMs, 3)};     // just beyond
  EXPECT_EQ(rule->decide(world, late).rejected, std::set<std::size_t>{1});
  IngestResult result = engine.ingest(late);
  ASSERT_EQ(result.rejected.size(), 1u);
  EXPECT_EQ(result.rejected[0].index, 1u);
  EXPECT_EQ(result.rejected[0].reason, RejectReason::kLate);
  EXPECT_NE(result.rejected[0].message.find("too late"), std::string::npos)
      << result.rejected[0].message;
  EXPECT_NE(result.rejected[0].message.find("late_horizon"), std::string::npos)
      << result.rejected[0].message;
  check_all(engine, head, 5);
}

// Backfill's temporary engine keeps ids longer than the service it stands in for, and is told
// that service's horizon: it then rejects exactly what the service would, boundary included.
TEST_F(LateEvents, AnEngineJudgesByTheHorizonItIsGiven) {
  Engine::Options options;
  options.late_horizon = 5 * kDayMs;
  Engine engine(world.config, options);
  EXPECT_EQ(engine.late_horizon(), 5 * kDayMs);
  rule = std::make_unique<LateRule>(5 * kDayMs);
  const TimeMs head = kStart + 20 * kDayMs;
  std::vector<Event> first = {world.make_event(5, head, 1)};
  EXPECT_EQ(rule->decide(world, first).rejected, std::set<std::size_t>{});
  EXPECT_TRUE(engine.ingest(first).rejected.empty());
  std::vector<Event> late = {world.make_event(5, head - 5 * kDayMs + 1, 2),  // just inside
                             world.make_event(5, head - 5 * kDayMs, 3)};     // just beyond
  EXPECT_EQ(rule->decide(world, late).rejected, std::set<std::size_t>{1});
  EXPECT_EQ(rejected_indexes(engine.ingest(late)), std::set<std::size_t>{1});
  check_all(engine, head, 5);

  // Longer than the config's own horizon would take events whose ids may be gone: refused.
  options.late_horizon = late_horizon(world.config) + 1;
  EXPECT_THROW(Engine(world.config, options), std::invalid_argument);
}

TEST_F(LateEvents, AHorizonShorterThanTheRetentionIsRaisedToIt) {
  world.config.event_store.late_horizon = kHourMs;
  Engine engine(world.config);
  EXPECT_EQ(engine.late_horizon(),
            world.config.event_store.retention + world.config.event_store.max_future_skew);
}

// The per-input rule of Engine::ingest(events, lanes), applied by the test on its own: an
// event is too late when it is more than the late horizon behind the newest event taken from
// its own input (a duplicate is not taken again), or at or before the id horizon the test set
// up.
class LaneRule {
 public:
  explicit LaneRule(TimeMs late_horizon) : late_horizon_(late_horizon) {}

  std::set<std::size_t> decide(const World& world, const std::vector<Event>& batch,
                               const std::vector<std::string>& lanes) {
    std::set<std::size_t> rejected;
    std::map<std::string, TimeMs> after = clocks_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto clock = clocks_.find(lanes[i]);
      TimeMs floor = ids_horizon;
      if (clock != clocks_.end()) floor = std::max(floor, clock->second - late_horizon_);
      if (batch[i].ts <= floor) {
        rejected.insert(i);
        continue;
      }
      // A duplicate is accepted but moves no clock.
      if (!ids_.emplace(batch[i].user_id, batch[i].event_id).second) continue;
      taken.push_back(world.to_ref(batch[i]));
      auto [it, inserted] = after.try_emplace(lanes[i], batch[i].ts);
      if (!inserted) it->second = std::max(it->second, batch[i].ts);
    }
    clocks_ = std::move(after);
    return rejected;
  }
  void release(const std::string& lane) { clocks_.erase(lane); }
  // The input an event was first sent on, for a copy re-sent on the same one.
  void sent_on(const Event& e, const std::string& lane) { sent_on_[e.event_id] = lane; }
  std::string lane_of(const Event& e) const { return sent_on_.at(e.event_id); }

  TimeMs ids_horizon = std::numeric_limits<TimeMs>::min();
  std::vector<RefEvent> taken;

 private:
  TimeMs late_horizon_;
  std::map<std::string, TimeMs> clocks_;
  std::set<std::pair<std::uint64_t, std::string>> ids_;
  std::map<std::string, std::string> sent_on_;
};

TEST_F(LateEvents, EachInputIsLateOnlyAgainstItsOwnStreamTime) {
  Engine engine(world.config);
  const TimeMs horizon = engine.late_horizon();
  LaneRule lanes_rule(horizon);
  const std::size_t users = 10;
  auto& rng = world.rng();
  std::size_t serial = 0;
  std::vector<Event> old_sent;
  auto send = [&](const std::vector<Event>& batch, const std::vector<std::string>& lanes) {
    std::set<std::size_t> expected = lanes_rule.decide(world, batch, lanes);
    IngestResult result = engine.ingest(batch, lanes);
    std::set<std::size_t> actual;
    for (const RejectedEvent& r : result.rejected) {
      EXPECT_EQ(r.reason, RejectReason::kLate) << r.message;
      EXPECT_NE(r.message.find("too late"), std::string::npos) << r.message;
      actual.insert(r.index);
    }
    EXPECT_EQ(actual, expected);
    return expected.size();
  };

  // Input "ahead" is at day 70 from the start; input "behind" works through days 0 to 45 in
  // hourly batches, each with a copy of an earlier event of its own and, now and then, an
  // event more than the late horizon behind its own stream time.
  // Both inputs are open from the start, as a consumer's partitions are once assigned.
  engine.open_lanes({"ahead", "behind"});
  std::vector<Event> ahead;
  for (int i = 0; i < 200; ++i)
    ahead.push_back(world.make_event(
        users, kStart + 70 * kDayMs + static_cast<TimeMs>(rng() % kDayMs), serial++));
  EXPECT_EQ(send(ahead, std::vector<std::string>(ahead.size(), "ahead")), 0u);
  std::size_t refused = 0;
  for (int hour = 0; hour < 45 * 24; ++hour) {
    std::vector<Event> batch;
    for (int i = 0; i < 3; ++i)
      batch.push_back(world.make_event(
          users, kStart + hour * kHourMs + static_cast<TimeMs>(rng() % kHourMs), serial++));
    if (!old_sent.empty() && rng() % 4 == 0) batch.push_back(old_sent[rng() % old_sent.size()]);
    if (hour > 41 * 24 && rng() % 10 == 0)
      batch.push_back(
          world.make_event(users, kStart + hour * kHourMs - horizon - kHourMs, serial++));
    old_sent.insert(old_sent.end(), batch.begin(), batch.end());
    refused += send(batch, std::vector<std::string>(batch.size(), "behind"));
  }
  EXPECT_GT(refused, 0u);
  // The ahead input moves on a little: stream time passes days, expiry runs, and the ids of
  // the behind input stay, held by its clock.
  for (int day = 71; day < 74; ++day) {
    std::vector<Event> batch = {world.make_event(users, kStart + day * kDayMs, serial++)};
    send(batch, {"ahead"});
  }
  // Copies of the behind input's last 300 events: those taken the first time are recognised
  // by their held ids (the rule checks which are refused, as the first time).
  std::vector<Event> again(old_sent.end() - 300, old_sent.end());
  std::vector<std::string> behind(again.size(), "behind");
  std::set<std::size_t> expected_again = lanes_rule.decide(world, again, behind);
  IngestResult result_again = engine.ingest(again, behind);
  EXPECT_EQ(result_again.rejected.size(), expected_again.size());
  EXPECT_EQ(result_again.accepted, again.size() - expected_again.size());
  EXPECT_EQ(result_again.duplicates, result_again.accepted) << "held ids recognise these";
  const TimeMs head = engine.stream_time();
  ASSERT_NO_FATAL_FAILURE(check_all(engine, lanes_rule.taken, head, users));

  // Once the behind input is gone, the id horizon moves to stream time - late horizon: a new
  // input without a clock is judged by that floor alone.
  engine.release_lanes({"behind"});
  lanes_rule.release("behind");
  engine.expire(false);
  lanes_rule.ids_horizon = head - horizon;
  std::vector<Event> fresh = {world.make_event(users, head - horizon, serial++),
                              world.make_event(users, head - horizon + 1, serial++)};
  EXPECT_EQ(lanes_rule.decide(world, fresh, {"new", "new"}), std::set<std::size_t>{0});
  IngestResult result = engine.ingest(fresh, {"new", "new"});
  ASSERT_EQ(result.rejected.size(), 1u);
  EXPECT_EQ(result.rejected[0].index, 0u);
  EXPECT_EQ(result.rejected[0].reason, RejectReason::kLate);
  EXPECT_NE(result.rejected[0].message.find("no longer kept"), std::string::npos)
      << result.rejected[0].message;
}

// Batches whose events come from three inputs interleaved (as a Kafka batch holds several
// partitions' messages), each input at a time of its own and now and then sending an event
// more than the late horizon behind itself, or a copy of an earlier event: each event is
// judged by its own input's clock, and a refusal names that input.
TEST_F(LateEvents, InputsInterleavedInOneBatchAreEachJudgedByTheirOwnClock) {
  const std::vector<std::string> inputs = {"partition 0", "partition 1", "partition 2"};
  const std::vector<TimeMs> offsets = {0, 20 * kDayMs, 60 * kDayMs};
  const std::size_t users = 10;
  Engine engine(world.config);
  engine.open_lanes(inputs);
  const TimeMs horizon = engine.late_horizon();
  LaneRule lanes_rule(horizon);
  auto& rng = world.rng();
  std::size_t serial = 0, refused = 0, named = 0;
  std::vector<Event> sent;
  for (int hour = 0; hour < 10 * 24; ++hour) {
    std::vector<Event> batch;
    std::vector<std::string> lanes;
    for (int i = 0; i < 12; ++i) {
      const std::size_t input = rng() % inputs.size();
      TimeMs ts = kStart + offsets[input] + hour * kHourMs + static_cast<TimeMs>(rng() % kHourMs);
      if (hour > 24 && rng() % 20 == 0) ts -= horizon + kHourMs;
      if (!sent.empty() && rng() % 10 == 0) {
        batch.push_back(sent[rng() % sent.size()]);
        lanes.push_back(lanes_rule.lane_of(batch.back()));
      } else {
        batch.push_back(world.make_event(users, ts, serial++));
        lanes.push_back(inputs[input]);
        lanes_rule.sent_on(batch.back(), inputs[input]);
      }
    }
    sent.insert(sent.end(), batch.begin(), batch.end());
    std::set<std::size_t> expected = lanes_rule.decide(world, batch, lanes);
    IngestResult result = engine.ingest(batch, lanes);
    std::set<std::size_t> actual;
    for (const RejectedEvent& r : result.rejected) {
      actual.insert(r.index);
      // Refused by its input's clock (not by the id horizon, whose message names none).
      if (r.message.find("the stream time of") == std::string::npos) continue;
      ++named;
      EXPECT_NE(r.message.find("the stream time of " + lanes[r.index] + " is"), std::string::npos)
          << r.message;
    }
    EXPECT_EQ(actual, expected) << "hour " << hour;
    refused += expected.size();
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(named, 0u);
  const TimeMs head = engine.stream_time();
  ASSERT_NO_FATAL_FAILURE(check_all(engine, lanes_rule.taken, head, users));
}

TEST_F(LateEvents, ADuplicateWithANewerTimeMovesNeitherItsInputsClockNorStreamTime) {
  Engine engine(world.config);
  const TimeMs horizon = engine.late_horizon();
  LaneRule lanes_rule(horizon);
  const std::uint64_t user = 1000;
  Event first = world.make_event(1, kStart + 10 * kDayMs, 1);
  Event resent = first;  // the same id, re-sent with a time far ahead (a producer's bug)
  resent.ts = first.ts + 3 * horizon;
  Event next = world.make_event(1, first.ts + kHourMs, 2);
  first.user_id = resent.user_id = next.user_id = user;
  for (const Event& e : {first, resent, next}) {
    std::set<std::size_t> expected = lanes_rule.decide(world, {e}, {"p0"});
    IngestResult result = engine.ingest({e}, {"p0"});
    EXPECT_EQ(result.rejected.size(), expected.size()) << "event " << e.event_id;
    EXPECT_EQ(result.accepted, 1u - expected.size()) << "event " << e.event_id;
  }
  EXPECT_EQ(engine.stream_time(), next.ts);
  const TimeMs head = engine.stream_time();
  ASSERT_EQ(
      diff(world.expected(lanes_rule.taken, user, head), engine.query(user, {}, head), kTolerance),
      "");
  // `next` was taken: the re-sent copy did not move the input's clock past it.
  EXPECT_EQ(lanes_rule.taken.size(), 2u);
}

TEST_F(LateEvents, AnOpenedInputHoldsTheIdHorizonUntilItSendsOrSettles) {
  Engine engine(world.config);
  const TimeMs horizon = engine.late_horizon();
  engine.open_lanes({"backlog"});
  // Stream time runs 60 days ahead on another input; expiry runs along the way.
  for (int day = 0; day < 60; ++day)
    engine.ingest({world.make_event(5, kStart + day * kDayMs, static_cast<std::size_t>(day))},
                  {"live"});
  ASSERT_GT(engine.stream_time() - kStart, horizon);
  // The backlog's first events, from the very start, are still taken: no id was forgotten.
  IngestResult backlog = engine.ingest({world.make_event(5, kStart + kHourMs, 1000)}, {"backlog"});
  EXPECT_TRUE(backlog.rejected.empty());
  // Without a held horizon (a settled input), expiry forgets ids behind the late horizon.
  engine.open_lanes({"idle"});
  engine.settle_lanes({"idle"});
  engine.release_lanes({"backlog"});
  engine.expire(false);
  IngestResult idle = engine.ingest({world.make_event(5, kStart + 2 * kHourMs, 1001)}, {"idle"});
  ASSERT_EQ(idle.rejected.size(), 1u);
}

}  // namespace
}  // namespace signalbox::testing
