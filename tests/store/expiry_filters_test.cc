// The expiry compaction filters on their own, called as RocksDB's compactions call them. The
// horizons and cut-off days are worked out here from calendar dates, not by the filters' code.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

#include "signalbox/store/rocksdb/expiry_filters.h"
#include "signalbox/store/rocksdb/key_layout.h"
#include "signalbox/store/tile_value.h"

namespace signalbox::testing {
namespace {

namespace keys = rocksdb_keys;
using Decision = rocksdb::CompactionFilter::Decision;
using ValueType = rocksdb::CompactionFilter::ValueType;

constexpr TimeMs kJan1 = 1704067200000;  // 2024-01-01T00:00:00Z
// 2024 is a leap year: 1 March is day 31 + 29 = 60 after 1 January.
constexpr TimeMs day(int days_after_jan1) { return kJan1 + days_after_jan1 * kDayMs; }
constexpr TimeMs kMar15 = day(74);
// The horizon used below: 2024-03-15T10:00:00Z.
constexpr TimeMs kThrough = kMar15 + 10 * kHourMs;

bool drops(const rocksdb::CompactionFilter& filter, const std::string& key,
           const std::string& value) {
  std::string new_value;
  bool changed = false;
  return filter.Filter(0, key, value, &new_value, &changed);
}

TEST(EventExpiryFilter, DropsEventsAtOrBeforeTheHorizonAndKeepsLaterOnes) {
  std::atomic<TimeMs> through{kThrough};
  EventExpiryFilter filter(through);
  EXPECT_TRUE(drops(filter, keys::event_key(1, kThrough - kDayMs, "a"), "body"));
  EXPECT_TRUE(drops(filter, keys::event_key(1, kThrough - 1, "a"), "body"));
  EXPECT_TRUE(drops(filter, keys::event_key(1, kThrough, "a"), "body"));  // exactly at the horizon
  EXPECT_TRUE(drops(filter, keys::event_key(1, kThrough, std::string(40, '\xff')), "body"));
  EXPECT_FALSE(drops(filter, keys::event_key(1, kThrough + 1, ""), "body"));
  EXPECT_FALSE(drops(filter, keys::event_key(~std::uint64_t{0}, kThrough + kDayMs, "z"), "body"));
}

TEST(EventExpiryFilter, ComparesSignedTimes) {
  std::atomic<TimeMs> through{-1};
  EventExpiryFilter filter(through);
  EXPECT_TRUE(drops(filter, keys::event_key(1, -kDayMs, "a"), ""));
  EXPECT_TRUE(drops(filter, keys::event_key(1, -1, "a"), ""));
  EXPECT_FALSE(drops(filter, keys::event_key(1, 0, "a"), ""));
  EXPECT_FALSE(drops(filter, keys::event_key(1, kJan1, "a"), ""));
}

TEST(EventExpiryFilter, ReadsTheHorizonAsItMoves) {
  std::atomic<TimeMs> through{kBeginningOfTime};
  EventExpiryFilter filter(through);
  const std::string key = keys::event_key(3, kThrough, "a");
  EXPECT_FALSE(drops(filter, key, "body"));
  through.store(kThrough - 1);
  EXPECT_FALSE(drops(filter, key, "body"));
  through.store(kThrough);
  EXPECT_TRUE(drops(filter, key, "body"));
}

TEST(EventExpiryFilter, KeepsKeysTooShortToBeEvents) {
  std::atomic<TimeMs> through{kThrough};
  EventExpiryFilter filter(through);
  EXPECT_FALSE(drops(filter, "", "body"));
  EXPECT_FALSE(drops(filter, keys::event_key(1, kBeginningOfTime, "").substr(0, 15), "body"));
}

TEST(EventIdExpiryFilter, DropsIdsByTheTimeInTheirValue) {
  std::atomic<TimeMs> through{kThrough};
  EventIdExpiryFilter filter(through);
  const std::string key = keys::event_id_key(1, "a");
  EXPECT_TRUE(drops(filter, key, keys::event_id_value(kThrough - kDayMs)));
  EXPECT_TRUE(drops(filter, key, keys::event_id_value(kThrough)));  // exactly at the horizon
  EXPECT_FALSE(drops(filter, key, keys::event_id_value(kThrough + 1)));
  // The key plays no part: an id key whose hash bytes look like an old time is kept by value.
  EXPECT_FALSE(
      drops(filter, keys::event_key(1, kBeginningOfTime, ""), keys::event_id_value(kThrough + 1)));
  through.store(kThrough + 1);
  EXPECT_TRUE(drops(filter, key, keys::event_id_value(kThrough + 1)));
}

TEST(EventIdExpiryFilter, KeepsValuesThatAreNotATime) {
  std::atomic<TimeMs> through{kThrough};
  EventIdExpiryFilter filter(through);
  EXPECT_FALSE(drops(filter, keys::event_id_key(1, "a"), ""));
  EXPECT_FALSE(drops(filter, keys::event_id_key(1, "a"), keys::event_id_value(0).substr(0, 7)));
  EXPECT_FALSE(drops(filter, keys::event_id_key(1, "a"), keys::event_id_value(0) + "x"));
}

// ---- tiles ----

// States: 1 window-only with a 30-day longest window, 2 window-only with a 1-day window,
// 3 base-keeping; 9 is unknown to the policy.
RetentionPolicy policy() {
  RetentionPolicy p;
  p.states[1] = StatePolicy{30 * kDayMs, false};
  p.states[2] = StatePolicy{kDayMs, false};
  p.states[3] = StatePolicy{kDayMs, true};
  return p;
}

// Hour tiles are kept from the day before the horizon's day: 2024-03-14.
constexpr TimeMs kHoursKeptFrom = day(73);
// State 1's day tiles are kept from the day before the day of kThrough - 30 days
// (2024-02-14T10:00): 2024-02-13.
constexpr TimeMs kState1DaysKeptFrom = day(43);
// State 2's: the day before the day of kThrough - 1 day (2024-03-14T10:00): 2024-03-13.
constexpr TimeMs kState2DaysKeptFrom = day(72);

std::string tile(std::initializer_list<std::uint64_t> states) {
  std::string value;
  for (std::uint64_t s : states) append_tile_part(value, s, "state-" + std::to_string(s));
  return value;
}

struct Outcome {
  Decision decision;
  std::string new_value;
};

Outcome filter_tile(const TileExpiryFilter& filter, TileKind kind, TimeMs start,
                    const std::string& value, ValueType type = ValueType::kValue) {
  Outcome out{Decision::kKeep, ""};
  std::string skip_until;
  out.decision = filter.FilterV2(0, keys::tile_key(TileKey{7, kind, start}), type, value,
                                 &out.new_value, &skip_until);
  return out;
}

class TileExpiryFilterTest : public ::testing::Test {
 protected:
  void SetUp() override { policy_.set(policy()); }
  std::atomic<TimeMs> through_{kThrough};
  SharedRetentionPolicy policy_;
  TileExpiryFilter filter_{through_, policy_};
};

TEST_F(TileExpiryFilterTest, HourTilesGoBeforeTheDayPrecedingTheHorizonsDay) {
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kHoursKeptFrom - kHourMs, tile({1, 3})).decision,
            Decision::kRemove);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kHoursKeptFrom - 30 * kDayMs, tile({3})).decision,
            Decision::kRemove);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kHoursKeptFrom, tile({1, 3})).decision,
            Decision::kKeep);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kThrough, tile({1, 2, 3})).decision,
            Decision::kKeep);
}

TEST_F(TileExpiryFilterTest, DayTilePartsGoPastTheirStatesLongestWindow) {
  // Just before state 2's cut-off: its part goes, the others stay.
  Outcome o = filter_tile(filter_, TileKind::kDay, kState2DaysKeptFrom - kDayMs, tile({1, 2, 3}));
  ASSERT_EQ(o.decision, Decision::kChangeValue);
  EXPECT_EQ(o.new_value, tile({1, 3}));
  // At the cut-off itself everything stays.
  EXPECT_EQ(filter_tile(filter_, TileKind::kDay, kState2DaysKeptFrom, tile({1, 2, 3})).decision,
            Decision::kKeep);
  // Just before state 1's: both window-only parts go; the base-keeping part waits for expire().
  o = filter_tile(filter_, TileKind::kDay, kState1DaysKeptFrom - kDayMs, tile({1, 2, 3}));
  ASSERT_EQ(o.decision, Decision::kChangeValue);
  EXPECT_EQ(o.new_value, tile({3}));
  EXPECT_EQ(filter_tile(filter_, TileKind::kDay, kState1DaysKeptFrom, tile({1})).decision,
            Decision::kKeep);
  // A tile left with nothing goes.
  EXPECT_EQ(
      filter_tile(filter_, TileKind::kDay, kState1DaysKeptFrom - kDayMs, tile({1, 2})).decision,
      Decision::kRemove);
  EXPECT_EQ(filter_tile(filter_, TileKind::kDay, kJan1 - 400 * kDayMs, tile({3})).decision,
            Decision::kKeep);
}

TEST_F(TileExpiryFilterTest, PartsOfStatesNoSignalUsesGoFromEveryKind) {
  Outcome o = filter_tile(filter_, TileKind::kBase, 0, tile({3, 9}));
  ASSERT_EQ(o.decision, Decision::kChangeValue);
  EXPECT_EQ(o.new_value, tile({3}));
  EXPECT_EQ(filter_tile(filter_, TileKind::kBase, 0, tile({9})).decision, Decision::kRemove);
  EXPECT_EQ(filter_tile(filter_, TileKind::kBase, 0, tile({3})).decision, Decision::kKeep);
  o = filter_tile(filter_, TileKind::kHour, kThrough, tile({1, 9}));
  ASSERT_EQ(o.decision, Decision::kChangeValue);
  EXPECT_EQ(o.new_value, tile({1}));
  EXPECT_EQ(filter_tile(filter_, TileKind::kDay, kThrough, tile({9})).decision, Decision::kRemove);
}

TEST_F(TileExpiryFilterTest, MergeOperandsAreFilteredLikeValues) {
  Outcome o = filter_tile(filter_, TileKind::kDay, kState2DaysKeptFrom - kDayMs, tile({2, 3}),
                          ValueType::kMergeOperand);
  ASSERT_EQ(o.decision, Decision::kChangeValue);
  EXPECT_EQ(o.new_value, tile({3}));
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kHoursKeptFrom - kHourMs, tile({1}),
                        ValueType::kMergeOperand)
                .decision,
            Decision::kRemove);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kHoursKeptFrom - kHourMs, tile({1}),
                        ValueType::kBlobIndex)
                .decision,
            Decision::kKeep);
}

TEST_F(TileExpiryFilterTest, NothingGoesBeforeAPolicyAndAHorizon) {
  SharedRetentionPolicy none;
  TileExpiryFilter without_policy(through_, none);
  EXPECT_EQ(filter_tile(without_policy, TileKind::kHour, kJan1, tile({1})).decision,
            Decision::kKeep);
  EXPECT_EQ(filter_tile(without_policy, TileKind::kDay, kJan1, tile({9})).decision,
            Decision::kKeep);
  through_.store(kBeginningOfTime);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kJan1 - 400 * kDayMs, tile({9})).decision,
            Decision::kKeep);
}

TEST_F(TileExpiryFilterTest, FollowsTheLatestPolicy) {
  RetentionPolicy wider = policy();
  wider.states[9] = StatePolicy{kDayMs, false};
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kThrough, tile({9})).decision, Decision::kRemove);
  policy_.set(wider);
  EXPECT_EQ(filter_tile(filter_, TileKind::kHour, kThrough, tile({9})).decision, Decision::kKeep);
}

TEST_F(TileExpiryFilterTest, KeepsWhatDoesNotParse) {
  std::string skip_until, new_value;
  EXPECT_EQ(filter_.FilterV2(0, "short", ValueType::kValue, tile({9}), &new_value, &skip_until),
            Decision::kKeep);
  EXPECT_EQ(filter_tile(filter_, TileKind::kDay, kThrough, "\x01\x02").decision, Decision::kKeep);
}

}  // namespace
}  // namespace signalbox::testing
