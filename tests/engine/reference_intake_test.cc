// The tests' own reading of docs/events.md (event_rules.h, reference_intake.h), checked on the
// examples of the docs and on the cases the generated traffic relies on; and the comparison
// with an engine's rejections, which must catch a valid event rejected, an invalid one taken
// and a wrong field blamed.

#include <gtest/gtest.h>

#include "invalid_events.h"
#include "reference_intake.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kNow = 1795448939299;
constexpr TimeMs kSkew = kHourMs;

std::string fault(std::string_view text) { return judge_event(text, kNow, kSkew).fault; }

TEST(EventRules, TheDocumentedExampleIsValid) {
  JudgedEvent e = judge_event(
      R"({"user_id": 5444161, "ts": 1795448939299, "action": "save", "event_id": "e1234",
                                  "item_id": "p1950", "attrs": {"surface": "home"}})",
      kNow, kSkew);
  ASSERT_TRUE(e.event) << e.fault;
  EXPECT_EQ(e.event->user_id, 5444161u);
  EXPECT_EQ(e.event->event_id, "e1234");
  EXPECT_EQ(*e.event->item_id, "p1950");
}

TEST(EventRules, EachRuleNamesItsField) {
  EXPECT_EQ(fault(R"({"user_id": -1, "ts": 1, "action": "save"})"), "user_id");
  EXPECT_EQ(fault(R"({"user_id": 1.5, "ts": 1, "action": "save"})"), "user_id");
  EXPECT_EQ(fault(R"({"user_id": 1, "action": "save"})"), "ts");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": -1, "action": "save"})"), "ts");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": "1", "action": "save"})"), "ts");
  EXPECT_EQ(fault(fmt::format(R"({{"user_id": 1, "ts": {}, "action": "save"}})", kNow + kSkew + 1)),
            "ts");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "Save"})"), "action");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": ""})"), "action");
  EXPECT_EQ(
      fault(fmt::format(R"({{"user_id": 1, "ts": 1, "action": "{}"}})", std::string(33, 'a'))),
      "action");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save", "event_id": ""})"), "event_id");
  EXPECT_EQ(fault(fmt::format(R"({{"user_id": 1, "ts": 1, "action": "save", "item_id": "{}"}})",
                              std::string(257, 'x'))),
            "item_id");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save", "attrs": {"color": [1]}})"),
            "attrs.color");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save", "attrs": {"price": 1.7e308}})"),
            "attrs.price");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save", "userid": 2})"), "userid");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save", "ts": 2})"), "ts");
  EXPECT_EQ(fault(R"({"user_id": 1, "ts": 1, "action": "save")"), "json");
  EXPECT_EQ(fault(R"([{"user_id": 1, "ts": 1, "action": "save"}])"), "json");
}

TEST(EventRules, BoundsAreInclusiveAndNullIsAbsent) {
  EXPECT_EQ(fault(fmt::format(
                R"({{"user_id": 18446744073709551615, "ts": {}, "action": "{}", "event_id": null,
                                   "item_id": null, "query": "", "attrs": {{"price": 1e100, "n": -1e100}}}})",
                kNow + kSkew, std::string(32, 'a'))),
            "");
  for (std::uint64_t kind = 0; kind < kInvalidEventKinds; ++kind)
    EXPECT_NE(fault(invalid_event_text(1000, kNow, 1, kind)), "")
        << invalid_event_text(1000, kNow, 1, kind);
}

TEST(EventRules, AnEventWithoutIdIsIdentifiedByItsContent) {
  auto id = [](std::string_view text) { return judge_event(text, kNow, kSkew).event->event_id; };
  EXPECT_EQ(id(R"({"user_id": 1, "ts": 1, "action": "save", "attrs": {"a": 1, "b": "x"}})"),
            id(R"({"user_id": 1, "ts": 1, "action": "save", "attrs": {"b": "x", "a": 1}})"));
  EXPECT_NE(id(R"({"user_id": 1, "ts": 1, "action": "save"})"),
            id(R"({"user_id": 1, "ts": 2, "action": "save"})"));
}

TEST(ReferenceIntake, TheComparisonCatchesEveryDisagreement) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  ReferenceIntake intake(world);
  const std::vector<std::string> batch = {
      R"({"user_id": 1, "ts": 1704067200000, "action": "save", "event_id": "a"})",
      R"({"user_id": 1, "action": "save", "event_id": "b"})",
      R"({"user_id": 1, "ts": 1704067200000, "action": "click", "event_id": "a"})",
  };
  ReferenceIntake::Decision want = intake.take_texts(batch);
  ASSERT_EQ(want.rejected, (std::map<std::size_t, std::string>{{1, "ts"}}));
  EXPECT_EQ(want.duplicates, 1u);
  EXPECT_EQ(intake.taken().size(), 1u);

  EXPECT_EQ(compare_rejections(want, {{1, "ts: required"}}, 1), "");
  EXPECT_NE(compare_rejections(want, {}, 0), "") << "an invalid event taken";
  EXPECT_NE(compare_rejections(want, {{0, "ts: too late"}, {1, "ts: required"}}, 2), "")
      << "a valid event rejected";
  EXPECT_NE(compare_rejections(want, {{1, "action: required"}}, 1), "") << "the wrong field blamed";
}

TEST(ReferenceIntake, TheLateHorizonIsTheLongestWindowAtLeastRetentionPlusSkew) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  EXPECT_EQ(reference_late_horizon(world.config), 40 * kDayMs);
  world.config.event_store.late_horizon = kHourMs;
  EXPECT_EQ(reference_late_horizon(world.config),
            3 * kDayMs + world.config.event_store.max_future_skew);
}

}  // namespace
}  // namespace signalbox::testing
