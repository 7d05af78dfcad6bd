// The life of a signal's state (docs/signal-lifecycle.md): a signal added to a store with
// history is built from the stored raw events while ingest goes on, says from when it is
// complete, and is completed from an archived log; a renamed signal keeps its state and a
// changed one starts afresh. Every value is checked against the brute-force reference.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "signalbox/common/error.h"
#include "world.h"

namespace signalbox::testing {
namespace {

using testing::kStart;
constexpr TimeMs kRetention = 7 * kDayMs;
constexpr std::size_t kUsers = 10;

using Actions = std::vector<std::pair<std::string, double>>;

SignalConfig count_signal(std::string name, Actions actions,
                          std::vector<std::pair<std::string, TimeMs>> windows) {
  SignalConfig s;
  s.name = std::move(name);
  s.aggregator = "count";
  s.actions = std::move(actions);
  for (auto& [text, length] : windows) s.windows.push_back(WindowConfig{text, length});
  return s;
}

// The signals added to the world's config: a windowed one and one over all history (kept in a
// base tile), neither sharing state with a signal of the world.
std::vector<SignalConfig> added_signals() {
  return {count_signal("weighted_clicks", {{"click", 2}, {"save", 1}},
                       {{"1d", kDayMs}, {"7d", 7 * kDayMs}, {"30d", 30 * kDayMs}}),
          count_signal("all_saves", {{"save", 1}}, {})};
}

// The reference for one added (count) signal over the events with ts >= from.
Value expected_count(const SignalConfig& s, const std::vector<RefEvent>& all, std::uint64_t user,
                     TimeMs as_of, TimeMs from) {
  std::map<std::string, double> actions(s.actions->begin(), s.actions->end());
  auto pick = [&](std::optional<TimeMs> window) {
    std::vector<const RefEvent*> in;
    for (const RefEvent& e : all)
      if (e.user == user && e.ts >= from && in_window(e.ts, as_of, window, kRetention))
        in.push_back(&e);
    return ref_count(in, &actions);
  };
  if (s.windows.empty()) return pick(std::nullopt);
  Value::Object windows;
  for (const WindowConfig& w : s.windows) windows.emplace_back(w.text, pick(w.length));
  return Value(std::move(windows));
}

// A world's history: its events, as ingested, and as the reference sees them.
struct History {
  std::vector<Event> events;
  std::vector<RefEvent> refs;
  TimeMs head = 0;
};

// Ingests `count` generated events spread over `days` days from `from` (a few out of order).
void ingest_days(World& world, Engine& engine, History& history, TimeMs from, TimeMs days,
                 std::size_t count, std::size_t first_serial) {
  std::vector<Event> batch;
  const TimeMs step = days * kDayMs / static_cast<TimeMs>(count);
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts =
        from + static_cast<TimeMs>(i) * step + static_cast<TimeMs>(world.rng()() % (2 * kHourMs));
    batch.push_back(world.make_event(kUsers, ts, first_serial + i));
    if (batch.size() == 500 || i + 1 == count) {
      IngestResult r = engine.ingest(batch);
      ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
      ASSERT_EQ(r.duplicates, 0u);
      for (const Event& e : batch) {
        history.events.push_back(e);
        history.refs.push_back(world.to_ref(e));
      }
      batch.clear();
    }
  }
  history.head = engine.stream_time();
}

// 10 days of history in a store that keeps 7 days of raw events.
History ten_days(World& world) {
  History history;
  Engine engine(world.config);
  ingest_days(world, engine, history, kStart, 10, 4000, 0);
  engine.expire(/*compact=*/true);
  return history;
}

std::vector<std::string> signal_names(const std::vector<SignalConfig>& signals) {
  std::vector<std::string> out;
  for (const SignalConfig& s : signals) out.push_back(s.name);
  return out;
}

// The world's own signals and views still answer as the reference says.
void expect_world_signals(World& world, Engine& engine, const History& history, TimeMs as_of) {
  std::vector<std::string> names;
  for (const SignalConfig& s : world.config.signals) names.push_back(s.name);
  for (const ViewConfig& v : world.config.views) names.push_back(v.name);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user)
    EXPECT_EQ(
        diff(world.expected(history.refs, user, as_of), engine.query(user, names, as_of), 1e-9), "")
        << "user " << user;
}

TEST(SignalLifecycle, AnAddedSignalIsBuiltFromTheStoredEventsWhileIngestGoesOn) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  History history = ten_days(world);
  Config with_added = world.config;
  for (const SignalConfig& s : added_signals()) with_added.signals.push_back(s);
  const std::vector<std::string> added = signal_names(added_signals());

  Engine engine(with_added);
  const TimeMs opened_at = history.head;
  EXPECT_TRUE(engine.bootstrap_pending());
  for (const std::string& name : added)
    EXPECT_EQ(engine.complete_since(name), opened_at + 1) << name;
  EXPECT_EQ(engine.complete_since("saves"), 0) << "a signal the store always had is complete";

  // Bootstrap in small steps; between them, live traffic: new events, events late within the
  // raw retention, one late beyond it, and events sent again.
  std::size_t serial = 100000, steps = 0;
  while (engine.bootstrap_pending()) {
    engine.bootstrap_step(150);
    ++steps;
    std::vector<Event> live;
    for (int k = 0; k < 6; ++k) {
      TimeMs ts = history.head + 1 + static_cast<TimeMs>(world.rng()() % kHourMs);
      if (k == 3) ts = history.head - 2 * kDayMs - static_cast<TimeMs>(world.rng()() % kDayMs);
      if (k == 4 && steps == 3) ts = history.head - 8 * kDayMs;
      live.push_back(world.make_event(kUsers, ts, serial++));
    }
    live.push_back(history.events[world.rng()() % history.events.size()]);  // sent again
    IngestResult r = engine.ingest(live);
    ASSERT_TRUE(r.rejected.empty()) << r.rejected.front().message;
    ASSERT_EQ(r.duplicates, 1u);
    for (std::size_t i = 0; i + 1 < live.size(); ++i) {
      history.events.push_back(live[i]);
      history.refs.push_back(world.to_ref(live[i]));
    }
    history.head = engine.stream_time();
  }
  ASSERT_GT(steps, 5u) << "the bootstrap ran interleaved with ingest";

  // Complete from the oldest raw event the store kept (retention plus the clock-skew allowance).
  const TimeMs raw_from = opened_at - kRetention - world.config.event_store.max_future_skew + 1;
  for (const std::string& name : added) EXPECT_EQ(engine.complete_since(name), raw_from) << name;

  const TimeMs as_of = history.head;
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value answer = engine.query(user, added, as_of);
    for (const SignalConfig& s : added_signals()) {
      // Windows within the retention are exact; the 30-day one and all-history hold exactly
      // the events from complete_since on, and say so.
      const Value* actual = answer.find("signals")->find(s.name);
      if (s.windows.empty()) {
        EXPECT_EQ(diff(expected_count(s, history.refs, user, as_of, raw_from), *actual, 1e-9), "")
            << user;
        continue;
      }
      Value full = expected_count(s, history.refs, user, as_of, 0);
      Value held = expected_count(s, history.refs, user, as_of, raw_from);
      EXPECT_EQ(diff(*full.find("1d"), *actual->find("1d"), 1e-9), "") << user;
      EXPECT_EQ(diff(*full.find("7d"), *actual->find("7d"), 1e-9), "") << user;
      EXPECT_EQ(diff(*held.find("30d"), *actual->find("30d"), 1e-9), "") << user;
    }
    EXPECT_EQ(answer.find("complete_since")->to_json(),
              fmt::format(R"({{"weighted_clicks":{},"all_saves":{}}})", raw_from, raw_from));
    EXPECT_EQ(answer.find("incomplete")->to_json(),
              R"({"weighted_clicks":["30d"],"all_saves":[]})");
  }
  expect_world_signals(world, engine, history, as_of);
  Value described = engine.describe();
  for (const Value& s : described.find("signals")->array()) {
    const bool is_added =
        std::find(added.begin(), added.end(), s.find("name")->string()) != added.end();
    EXPECT_EQ(s.find("complete_since")->number(), is_added ? static_cast<double>(raw_from) : 0.0);
    EXPECT_EQ(*s.find("bootstrapping"), Value(false));
  }

  // The archived log of everything fills what the raw events no longer hold: then every
  // window equals the reference over all events, and nothing is marked.
  std::vector<Event> log;
  TimeMs oldest = std::numeric_limits<TimeMs>::max();
  for (const Event& e : history.events) {
    log.push_back(e);
    oldest = std::min(oldest, e.ts);
  }
  EXPECT_GT(engine.fold_history(std::move(log)), 0u);
  engine.extend_history(oldest);
  for (const std::string& name : added) EXPECT_EQ(engine.complete_since(name), oldest);
  engine.expire(/*compact=*/true);  // folds old day tiles into the all-history base tile
  for (int pass = 0; pass < 2; ++pass) {
    // First complete from the log's oldest event (the 30-day window starts before it, so it
    // stays marked); then, told the log held all history, complete for all of it.
    if (pass == 1) engine.extend_history(0);
    for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
      Value answer = engine.query(user, added, as_of);
      for (const SignalConfig& s : added_signals())
        EXPECT_EQ(diff(expected_count(s, history.refs, user, as_of, 0),
                       *answer.find("signals")->find(s.name), 1e-9),
                  "")
            << s.name << " of user " << user;
      if (pass == 0) {
        EXPECT_EQ(answer.find("incomplete")->to_json(),
                  R"({"weighted_clicks":["30d"],"all_saves":[]})");
      } else {
        EXPECT_EQ(answer.find("complete_since"), nullptr);
        EXPECT_EQ(answer.find("incomplete"), nullptr);
      }
    }
  }
  for (const std::string& name : added) EXPECT_EQ(engine.complete_since(name), 0);
  expect_world_signals(world, engine, history, as_of);
}

TEST(SignalLifecycle, AnInterruptedBootstrapResumesWithoutCountingTwice) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  History history = ten_days(world);
  Config with_added = world.config;
  for (const SignalConfig& s : added_signals()) with_added.signals.push_back(s);
  {
    Engine engine(with_added);
    engine.bootstrap_step(300);
    engine.bootstrap_step(300);
    ASSERT_TRUE(engine.bootstrap_pending());
    std::vector<Event> live;
    for (std::size_t k = 0; k < 20; ++k)
      live.push_back(
          world.make_event(kUsers, history.head - static_cast<TimeMs>(k) * kHourMs, 200000 + k));
    ASSERT_TRUE(engine.ingest(live).rejected.empty());
    for (const Event& e : live) history.refs.push_back(world.to_ref(e));
  }
  Engine engine(with_added);
  ASSERT_TRUE(engine.bootstrap_pending()) << "the bootstrap goes on after a restart";
  while (!engine.bootstrap_step(1000).done) {
  }
  const TimeMs since = engine.complete_since("weighted_clicks");
  const TimeMs as_of = engine.stream_time();
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value answer = engine.query(user, {"weighted_clicks", "all_saves"}, as_of);
    for (const SignalConfig& s : added_signals())
      EXPECT_EQ(diff(expected_count(s, history.refs, user, as_of, since),
                     *answer.find("signals")->find(s.name), 1e-9),
                "")
          << s.name << " of user " << user;
  }
}

// While a state is built, the tiles of a user still ahead of the build lack even that user's
// live events (the build folds them from their stored copies): every window of the state is
// marked incomplete, also one that starts after complete_since. An hour's window that lies
// within two partial hours is read from raw events alone and still counts every live event
// (the absence of a tile rules no raw event out then); once built, every window is exact.
TEST(SignalLifecycle, WhileASignalIsBuiltEveryWindowIsMarkedIncompleteAndRawEventsStillCount) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  History history = ten_days(world);
  Config with_added = world.config;
  const SignalConfig recent =
      count_signal("recent", {{"click", 1}, {"save", 1}}, {{"1h", kHourMs}, {"3h", 3 * kHourMs}});
  with_added.signals.push_back(recent);
  Engine engine(with_added);
  ASSERT_TRUE(engine.bootstrap_pending());  // and no step taken: every user is ahead of it
  const TimeMs opened_at = history.head;
  const TimeMs as_of = floor_hour(opened_at) + 3 * kHourMs + 20 * kMinuteMs;
  std::vector<Event> live;
  for (std::size_t k = 0; k < 60; ++k)
    live.push_back(world.make_event(
        kUsers, opened_at + 1 + static_cast<TimeMs>(world.rng()() % (as_of - opened_at)),
        300000 + k));
  ASSERT_TRUE(engine.ingest(live).rejected.empty());
  for (const Event& e : live) history.refs.push_back(world.to_ref(e));
  ASSERT_TRUE(engine.bootstrap_pending());
  ASSERT_GT(as_of - 3 * kHourMs + 1, engine.complete_since("recent"));
  std::size_t counted = 0;
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value answer = engine.query(user, {"recent"}, as_of);
    const Value expected = expected_count(recent, history.refs, user, as_of, 0);
    EXPECT_EQ(diff(*expected.find("1h"), *answer.find("signals")->find("recent")->find("1h"), 1e-9),
              "")
        << user;
    ASSERT_NE(answer.find("incomplete"), nullptr) << answer.to_json();
    EXPECT_EQ(answer.find("incomplete")->to_json(), R"({"recent":["1h","3h"]})");
    counted += static_cast<std::size_t>(expected.find("1h")->number());
  }
  EXPECT_GT(counted, 5u) << "the window holds live events";
  while (!engine.bootstrap_step(1000).done) {
  }
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value answer = engine.query(user, {"recent"}, as_of);
    EXPECT_EQ(diff(expected_count(recent, history.refs, user, as_of, 0),
                   *answer.find("signals")->find("recent"), 1e-9),
              "")
        << user;
    EXPECT_EQ(answer.find("incomplete"), nullptr) << answer.to_json();
  }
}

TEST(SignalLifecycle, ARenamedSignalKeepsItsStateAndAChangedOneStartsAfresh) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  History history = ten_days(world);
  const TimeMs as_of = history.head;
  // Renamed only: the same state, complete, with every window of the reference.
  {
    Config renamed = world.config;
    for (SignalConfig& s : renamed.signals)
      if (s.name == "saves") s.name = "saves_renamed";
    for (ViewConfig& v : renamed.views)
      if (v.signal == "saves") v.signal = "saves_renamed";
    Engine engine(renamed);
    EXPECT_FALSE(engine.bootstrap_pending());
    EXPECT_EQ(engine.complete_since("saves_renamed"), 0);
    SignalConfig saves = *world.find_signal("saves");
    for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
      Value answer = engine.query(user, {"saves_renamed"}, as_of);
      EXPECT_EQ(diff(expected_count(saves, history.refs, user, as_of, 0),
                     *answer.find("signals")->find("saves_renamed"), 1e-9),
                "")
          << user;
      EXPECT_EQ(answer.find("complete_since"), nullptr);
    }
  }
  // Actions changed: the new definition's values only, built from the stored raw events,
  // never the old state's counts nor a mix of the two.
  Config changed = world.config;
  SignalConfig* saves = nullptr;
  for (SignalConfig& s : changed.signals)
    if (s.name == "saves") saves = &s;
  saves->actions = Actions{{"save", 1}, {"closeup", 5}};
  {
    Engine engine(changed);
    ASSERT_TRUE(engine.bootstrap_pending());
    while (!engine.bootstrap_step(1000).done) {
    }
    const TimeMs since = engine.complete_since("saves");
    EXPECT_EQ(since, history.head - kRetention - world.config.event_store.max_future_skew + 1);
    bool any_closeup = false;
    for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
      Value answer = engine.query(user, {"saves"}, as_of);
      const Value* actual = answer.find("signals")->find("saves");
      Value full = expected_count(*saves, history.refs, user, as_of, 0);
      Value held = expected_count(*saves, history.refs, user, as_of, since);
      EXPECT_EQ(diff(*full.find("1d"), *actual->find("1d"), 1e-9), "") << user;
      EXPECT_EQ(diff(*held.find("30d"), *actual->find("30d"), 1e-9), "") << user;
      Value old_definition =
          expected_count(*world.find_signal("saves"), history.refs, user, as_of, 0);
      any_closeup = any_closeup || old_definition.find("1d")->number() != full.find("1d")->number();
    }
    EXPECT_TRUE(any_closeup) << "the changed definition counts differently somewhere";
  }
  // Changed back: the old definition's leftover tiles are dropped and it is built anew, so
  // it counts what the store holds, once.
  Engine back(world.config);
  EXPECT_TRUE(back.bootstrap_pending());
  while (!back.bootstrap_step(1000).done) {
  }
  const TimeMs back_since = back.complete_since("saves");
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value actual = *back.query(user, {"saves"}, as_of).find("signals")->find("saves");
    Value full = expected_count(*world.find_signal("saves"), history.refs, user, as_of, 0);
    Value held = expected_count(*world.find_signal("saves"), history.refs, user, as_of, back_since);
    EXPECT_EQ(diff(*full.find("1d"), *actual.find("1d"), 1e-9), "") << user;
    EXPECT_EQ(diff(*held.find("30d"), *actual.find("30d"), 1e-9), "") << user;
  }
}

// A store written before states were recorded has no registry: its states, whatever they
// are, count as complete (docs/signal-lifecycle.md says why), and from then on they are
// recorded, so a signal added later is built.
TEST(SignalLifecycle, AStoreWithoutRecordsTakesItsStatesAsComplete) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  History history = ten_days(world);
  {
    Engine engine(world.config);
    ASSERT_TRUE(engine.read_note(kStateRegistryNote));
    engine.write_note(kStateRegistryNote, std::nullopt);
  }
  Config with_added = world.config;
  with_added.signals.push_back(added_signals()[0]);
  {
    Engine engine(with_added);
    EXPECT_FALSE(engine.bootstrap_pending());
    EXPECT_EQ(engine.complete_since("weighted_clicks"), 0);
  }
  with_added.signals.push_back(added_signals()[1]);
  Engine engine(with_added);
  EXPECT_TRUE(engine.bootstrap_pending());
  EXPECT_EQ(engine.complete_since("weighted_clicks"), 0);
  EXPECT_EQ(engine.complete_since("all_saves"), history.head + 1);
}

TEST(StateRegistry, ReadsWhatItWroteAndNamesTheLineOfAnythingElse) {
  StateRegistry registry;
  registry[0xfedcba9876543210ULL] = StateRecord{5, 7, true, 1234, false};
  registry[42] = StateRecord{0, 0, false, 0, true};
  EXPECT_EQ(decode_state_registry(encode_state_registry(registry)), registry);
  std::string text = encode_state_registry(registry);
  EXPECT_THROW(decode_state_registry(""), CorruptionError);
  EXPECT_THROW(decode_state_registry("something else\n"), CorruptionError);
  try {
    decode_state_registry(text + "00000000000000ab 1 x 0 0 0\n");
    FAIL() << "a bad number was read";
  } catch (const CorruptionError& e) {
    EXPECT_NE(std::string(e.what()).find("line 4"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace signalbox::testing
