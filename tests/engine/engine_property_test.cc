// The engine against a brute-force reference on generated traffic: every aggregator and view,
// windows shorter and longer than retention, out-of-order, duplicated and late events,
// several users, as_of at the head of the stream and inside it.

#include <gtest/gtest.h>

#include <set>

#include "analytics_signals.h"
#include "event_texts.h"
#include "fixed_times.h"
#include "reference_intake.h"
#include "signalbox/common/error.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;
using testing::kTolerance;

// Feeds event texts to the engine in random-sized NDJSON batches. The reference decides on
// its own which count (ReferenceIntake: the documented event rules, late rule and identity),
// and each batch's rejections must be exactly its own, each for the same field.
class Feeder {
 public:
  Feeder(Engine& engine, World& world) : engine_(engine), world_(world), intake_(world) {}

  void feed(const std::vector<std::string>& texts) {
    std::string body;
    for (const std::string& text : texts) body += text + "\n";
    IngestResult result = engine_.ingest_json(body);
    ReferenceIntake::Decision want = intake_.take_texts(texts);
    ASSERT_EQ(compare_rejections(want, result.rejected), "");
    EXPECT_EQ(result.accepted, texts.size() - want.rejected.size());
    EXPECT_EQ(result.duplicates, want.duplicates);
  }
  void feed(const std::vector<Event>& events) { feed(as_texts(events)); }

  void check(std::uint64_t user, TimeMs as_of) {
    Value actual = engine_.query(user, {}, as_of);
    // The JSON the HTTP API serves is written as it folds, not from this Value: the same bytes.
    std::string served;
    engine_.query_json(user, {}, as_of, Engine::Seen::kOmit, served);
    ASSERT_EQ(served, actual.to_json()) << "user " << user << " as_of " << as_of;
    ASSERT_EQ(world_.accept_sketch_answers(accepted(), user, as_of, actual, sketches), "")
        << "user " << user << " as_of " << as_of;
    Value expected = world_.expected(accepted(), user, as_of);
    std::string d = diff(expected, actual, kTolerance);
    ASSERT_EQ(d, "") << "user " << user << " as_of " << as_of;
    check_views_of_two_signals_alone(user, as_of, expected);
    ++checks;
  }

  // Views of two signals asked for without their signals: the query plans the window the
  // view reads of each signal by itself.
  void check_views_of_two_signals_alone(std::uint64_t user, TimeMs as_of, const Value& expected) {
    std::vector<std::string> names;
    for (const ViewConfig& v : world_.config.views)
      if (v.params.count("denominator_signal")) names.push_back(v.name);
    if (names.empty()) return;
    Value alone = engine_.query(user, names, as_of);
    std::string served;
    engine_.query_json(user, names, as_of, Engine::Seen::kOmit, served);
    ASSERT_EQ(served, alone.to_json()) << "user " << user << " as_of " << as_of;
    Value::Object wanted;
    for (const std::string& name : names)
      wanted.emplace_back(name, *expected.find("signals")->find(name));
    ASSERT_EQ(diff(Value(std::move(wanted)), *alone.find("signals"), kTolerance), "")
        << "views asked for alone: user " << user << " as_of " << as_of;
  }

  const std::vector<RefEvent>& accepted() const { return intake_.taken(); }
  std::size_t late_total() const { return intake_.late_total; }
  std::size_t invalid_total() const { return intake_.invalid_total; }
  std::size_t checks = 0;
  SketchStats sketches;

 private:
  Engine& engine_;
  World& world_;
  ReferenceIntake intake_;
};

// Events about every `step` ms from kStart, up to `disorder` late, with exact and altered
// duplicates of earlier events and a few far too late; times are multiples of `tick` (a
// coarse tick gives many events of one user the same ts).
std::vector<Event> generate(World& world, std::size_t count, std::size_t users, TimeMs step,
                            TimeMs disorder, TimeMs tick = 1) {
  std::vector<Event> events;
  auto& rng = world.rng();
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(i) * step -
                static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(disorder));
    ts -= ts % tick;
    std::uint64_t r = rng() % 1000;
    if (r < 40 && !events.empty()) {
      events.push_back(events[rng() % events.size()]);  // sent again, verbatim
    } else if (r < 60 && !events.empty()) {
      Event again = events[rng() % events.size()];  // same id, other content: still the same event
      again.action = "purchase";
      again.ts += 1000;
      events.push_back(std::move(again));
    } else if (r < 65) {
      events.push_back(world.make_event(users, ts - 40 * kDayMs, i));  // beyond the horizon
    } else {
      events.push_back(world.make_event(users, ts, i));
    }
  }
  return events;
}

// Feeds a long disordered stream in random batches and checks every user now and then, at
// the head of the stream, inside it and past it, then at many points of the last two days.
// Returns what the sketch checks came to.
SketchStats check_against_reference(World& world, TimeMs tick = 1) {
  Engine engine(world.config);
  Feeder feeder(engine, world);
  const std::size_t users = 25;
  std::vector<std::string> events =
      with_invalid(world, generate(world, 12000, users, 6 * kMinuteMs, 3 * kHourMs, tick), 200);
  auto& rng = world.rng();

  std::size_t next = 0, next_check = 1500;
  while (next < events.size()) {
    std::size_t n = std::min<std::size_t>(1 + rng() % 400, events.size() - next);
    feeder.feed(std::vector<std::string>(events.begin() + next, events.begin() + next + n));
    if (::testing::Test::HasFatalFailure()) return feeder.sketches;
    next += n;
    if (next >= next_check) {
      next_check += 1500;
      TimeMs head = engine.stream_time();
      for (int k = 0; k < 4; ++k) {
        std::uint64_t user = 1000 + (k < 2 ? k : rng() % users);
        feeder.check(user, head);
        feeder.check(user, head - static_cast<TimeMs>(rng() % (45 * kMinuteMs)));
        feeder.check(user, head + 2 * kHourMs);
      }
    }
  }
  TimeMs head = engine.stream_time();
  for (std::uint64_t user = 1000; user < 1000 + users + 1; ++user) feeder.check(user, head);
  for (int k = 0; k < 30; ++k) {
    TimeMs as_of = head - 50 * kMinuteMs + static_cast<TimeMs>(rng() % (2 * kDayMs));
    feeder.check(1000 + rng() % users, as_of);
  }
  EXPECT_GT(feeder.late_total(), 0u) << "the stream should contain events beyond the horizon";
  EXPECT_GT(feeder.invalid_total(), 0u) << "the stream should contain invalid events";
  EXPECT_GT(feeder.checks, 100u);
  return feeder.sketches;
}

TEST(EngineProperty, EveryAggregatorAndViewMatchesTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  check_against_reference(world);
}

// The custom signals of the signal kit - the tutorial's histogram (examples/plugin) and the
// engagement example's session_mean and session_profile (examples/engagement), compiled into
// this test - through the same tiles, windows and checks as the built-ins.
TEST(EngineProperty, CustomAggregatorsAndViewsMatchTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  auto add = [&](std::string name, std::string aggregator, std::string value,
                 std::optional<std::vector<std::pair<std::string, double>>> actions,
                 std::vector<std::string> windows, ConfigParams params) {
    SignalConfig s;
    s.name = std::move(name);
    s.aggregator = std::move(aggregator);
    s.value = std::move(value);
    s.actions = std::move(actions);
    for (const auto& w : windows) s.windows.push_back({w, *parse_duration(w)});
    s.params = std::move(params);
    world.config.signals.push_back(std::move(s));
  };
  // Windows shorter and longer than the 3-day retention, and one signal without windows.
  add("price_histogram", "histogram", "attrs.price", std::nullopt, {"1h", "1d", "3d", "10d", "40d"},
      {{"width", {"10", {}}}});
  add("weighted_histogram", "histogram", "attrs.price",
      std::vector<std::pair<std::string, double>>{{"purchase", 2.5}, {"save", 1}}, {},
      {{"width", {"7.5", {}}}});
  add("taste_sessions", "session_mean", "pin.embedding",
      std::vector<std::pair<std::string, double>>{{"save", 3}, {"click", 1}, {"closeup", 0.5}},
      {"1h", "1d", "40d"}, {{"gap", {"45m", {}}}});
  add("all_sessions", "session_mean", "pin.embedding", std::nullopt, {}, {{"gap", {"20m", {}}}});
  world.config.views.push_back(
      ViewConfig{"taste_profile", "taste_sessions", "", "session_profile", {}, {}});
  world.config.views.push_back(
      ViewConfig{"all_profile", "all_sessions", "", "session_profile", {}, {}});
  check_against_reference(world);
}

// min, max, avg and stddev (grouped and not, filtered by actions and not, with and without
// windows) through the same tiles, windows and checks as the other built-ins.
TEST(EngineProperty, NumericSummariesMatchTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 11);
  add_numeric_summary_signals(world, {"1h", "1d", "3d", "10d", "40d"});
  check_against_reference(world);
}

// sequence with every kind of field, filtered by actions and not, with and without windows;
// once with times to the minute, so that many events share a ts and the tie order shows.
TEST(EngineProperty, SequencesMatchTheReference) {
  for (TimeMs tick : {TimeMs{1}, kMinuteMs}) {
    World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 13);
    add_sequence_signals(world, {"1h", "1d", "3d", "10d", "40d"});
    check_against_reference(world, tick);
  }
}

// quantile and top_frequent in both regimes (exact, and within their bounds), the ratio and
// bucketize views; over several seeds.
TEST(EngineProperty, SketchesAndViewsMatchTheReference) {
  SketchStats total;
  for (std::uint64_t seed : {17, 19, 23}) {
    World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, seed);
    add_sketch_signals(world, {"1h", "1d", "3d", "10d", "40d"});
    add_analytics_views(world);
    SketchStats stats = check_against_reference(world);
    if (::testing::Test::HasFatalFailure()) return;
    // The ratios of two signals met each case worth seeing.
    std::cout << "ratios of two signals, seed " << seed << ": "
              << world.cross_ratio_cases.zero_denominators << " zero denominators, "
              << world.cross_ratio_cases.numerator_only_keys << " keys only in the numerator, "
              << world.cross_ratio_cases.denominator_only_keys << " only in the denominator\n";
    EXPECT_GT(world.cross_ratio_cases.zero_denominators, 0u) << "seed " << seed;
    EXPECT_GT(world.cross_ratio_cases.numerator_only_keys, 0u) << "seed " << seed;
    EXPECT_GT(world.cross_ratio_cases.denominator_only_keys, 0u) << "seed " << seed;
    total.exact_checks += stats.exact_checks;
    total.bound_checks += stats.bound_checks;
    total.worst_rank_error = std::max(total.worst_rank_error, stats.worst_rank_error);
  }
  // Both regimes were reached.
  EXPECT_GT(total.exact_checks, 100u);
  EXPECT_GT(total.bound_checks, 100u);
  std::cout << "sketch answers: " << total.exact_checks << " exact, " << total.bound_checks
            << " within bounds; worst quantile rank error " << total.worst_rank_error << "\n";
}

TEST(EngineProperty, ReingestingEverythingChangesNothing) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  Feeder feeder(engine, world);
  std::vector<Event> events = generate(world, 4000, 10, 10 * kMinuteMs, kHourMs);
  feeder.feed(events);
  TimeMs head = engine.stream_time();
  std::vector<Value> before;
  for (std::uint64_t user = 1000; user < 1010; ++user)
    before.push_back(engine.query(user, {}, head));
  IngestResult again = engine.ingest(events);
  EXPECT_EQ(again.accepted, again.duplicates) << "every accepted event was a duplicate";
  for (std::uint64_t user = 1000; user < 1010; ++user) {
    EXPECT_EQ(engine.query(user, {}, head).to_json(), before[user - 1000].to_json());
    feeder.check(user, head);
  }
}

TEST(EngineProperty, AnswersSurviveARestart) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Feeder* feeder_ptr = nullptr;
  std::vector<std::string> before;
  TimeMs head = 0;
  std::vector<Event> events = generate(world, 3000, 8, 10 * kMinuteMs, kHourMs);
  {
    Engine engine(world.config);
    engine.ingest(events);
    head = engine.stream_time();
    for (std::uint64_t user = 1000; user < 1008; ++user)
      before.push_back(engine.query(user, {}, head).to_json());
  }
  Engine reopened(world.config);
  EXPECT_EQ(reopened.stream_time(), head);
  for (std::uint64_t user = 1000; user < 1008; ++user)
    EXPECT_EQ(reopened.query(user, {}, head).to_json(), before[user - 1000]);
  (void)feeder_ptr;
}

TEST(EngineProperty, AnAsOfOlderThanTheOnlineStateIsRefused) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  engine.ingest(generate(world, 3000, 8, 10 * kMinuteMs, kHourMs));
  TimeMs head = engine.stream_time();
  try {
    engine.query(1000, {"saves"}, head - 10 * kDayMs);
    FAIL() << "expected a QueryError";
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("too old"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("saves"), std::string::npos) << e.what();
  }
  EXPECT_THROW(engine.query(1000, {"no_such_signal"}, head), QueryError);
}

TEST(EngineProperty, UnknownUsersGetZerosAndEmptyLists) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  Value v = engine.query(42, {}, kStart);
  const Value* signals = v.find("signals");
  ASSERT_NE(signals, nullptr);
  EXPECT_EQ(signals->find("saves")->to_json(), R"({"1d":0,"40d":0})");
  EXPECT_EQ(signals->find("category_counts")->find("1h")->to_json(), "{}");
  EXPECT_EQ(signals->find("recent_items")->to_json(), "[]");
  EXPECT_EQ(signals->find("taste")->find("1d")->to_json(), "null");
  EXPECT_EQ(signals->find("top3")->to_json(), "[]");
}

// The served JSON is written as the windows fold, except for the signals a view reads or that
// are named twice, which are built as Values first: every mix answers as the Value path does,
// and each name as it does when asked alone.
TEST(EngineProperty, NamesAskedTwiceOrBesideTheirViewsAnswerAsAlone) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  Engine engine(world.config);
  engine.ingest(generate(world, 3000, 8, 10 * kMinuteMs, kHourMs));
  const TimeMs head = engine.stream_time();
  const std::vector<std::vector<std::string>> asks = {
      {"top3", "category_counts", "saves", "top3", "saves"},
      {"recent_items", "recent_items"},
      {"taste", "top3"},
      {"saves"}};
  for (const std::vector<std::string>& names : asks) {
    for (std::uint64_t user = 1000; user < 1008; ++user) {
      const Value answer = engine.query(user, names, head, Engine::Seen::kReport);
      std::string served;
      engine.query_json(user, names, head, Engine::Seen::kReport, served);
      ASSERT_EQ(served, answer.to_json()) << "user " << user;
      const Value::Object& signals = answer.find("signals")->object();
      ASSERT_EQ(signals.size(), names.size());
      for (std::size_t n = 0; n < names.size(); ++n) {
        EXPECT_EQ(signals[n].first, names[n]);
        const Value alone = engine.query(user, {names[n]}, head);
        EXPECT_EQ(signals[n].second, *alone.find("signals")->find(names[n]))
            << names[n] << " of user " << user;
      }
    }
  }
}

}  // namespace
}  // namespace signalbox::testing
