// A signal added to the config of a store with history, through the real binary: `serve`
// builds it from the stored raw events in the background while it answers and ingests, its
// answers say from when it is complete and which windows are not, events posted meanwhile
// count once, and `signalbox rebuild` from the full log completes the long windows. Values
// are checked against the brute-force reference.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "json.h"
#include "server_process.h"
#include "world.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

constexpr TimeMs kRetention = 7 * kDayMs;
constexpr std::size_t kLifecycleUsers = 8;

SignalConfig count_signal(std::string name, std::vector<std::pair<std::string, double>> actions,
                          std::vector<WindowConfig> windows) {
  SignalConfig s;
  s.name = std::move(name);
  s.aggregator = "count";
  s.actions = std::move(actions);
  s.windows = std::move(windows);
  return s;
}

const std::vector<SignalConfig>& added_signals() {
  static const std::vector<SignalConfig> signals = {
      count_signal("weighted_clicks", {{"click", 2}, {"save", 1}},
                   {{"1d", kDayMs}, {"7d", 7 * kDayMs}, {"30d", 30 * kDayMs}}),
      count_signal("all_saves", {{"save", 1}}, {})};
  return signals;
}

// The reference of an added signal over the events with ts >= from.
Value expected(const SignalConfig& s, const std::vector<RefEvent>& all, std::uint64_t user,
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

// Whether GET /v1/signals says some signal is being built.
bool bootstrapping(HttpClient& client) {
  HttpAnswer answer = client.get("/v1/signals");
  EXPECT_EQ(answer.status, 200u) << answer.body;
  const Value described = answer.json();
  for (const Value& s : described.find("signals")->array())
    if (*s.find("bootstrapping") == Value(true)) return true;
  return false;
}

TEST(SignalLifecycleOverHttp, AnAddedSignalIsBuiltWhileServingAndCompletedByRebuild) {
  World world(kRetention, {"1h", "1d", "7d", "30d"});
  // Ten days of history, stored by an engine of the original config.
  std::vector<Event> log;
  std::vector<RefEvent> refs;
  TimeMs head = 0;
  {
    Engine engine(world.config);
    refs = world.ingest_spread(engine, kLifecycleUsers, 2400, kStart, 10 * kDayMs, 400, &log);
    engine.expire(/*compact=*/true);
    head = engine.stream_time();
  }
  const TimeMs raw_from = head - kRetention - world.config.event_store.max_future_skew + 1;

  // The config with two signals added, built slowly enough to be seen at work.
  Config with_added = world.config;
  for (const SignalConfig& s : added_signals()) with_added.signals.push_back(s);
  with_added.event_store.bootstrap_rate = 100;
  const std::uint16_t port = free_port();
  const std::filesystem::path config = write_config(with_added, port);
  auto server = std::make_unique<ServerProcess>(config, port, world.dir() / "serve.log");
  HttpClient client(port);
  ASSERT_TRUE(bootstrapping(client)) << "the added signals are being built";
  {
    HttpAnswer ready = client.get("/readyz");
    EXPECT_EQ(ready.status, 503u) << "not ready until every signal is built";
    EXPECT_EQ(ready.retry_after, "5");
    EXPECT_EQ(ready.json().find("bootstrapping")->to_json(), R"(["weighted_clicks","all_saves"])");
  }

  // While it is being built: answers mark every window before the start as incomplete, and
  // events posted count once (new ones, late ones within the retention, one sent again).
  std::size_t serial = 50000;
  for (int round = 0; round < 6; ++round) {
    std::vector<Event> live;
    for (int k = 0; k < 5; ++k) {
      TimeMs ts = k % 2 == 0 ? head + 1 + static_cast<TimeMs>(world.rng()() % kHourMs)
                             : head - static_cast<TimeMs>(world.rng()() % (5 * kDayMs));
      live.push_back(world.make_event(kLifecycleUsers, ts, serial++));
    }
    live.push_back(log[world.rng()() % log.size()]);
    HttpAnswer posted = client.post("/v1/events", events_body(live, round % 2 == 0));
    ASSERT_EQ(posted.status, 200u) << posted.body;
    EXPECT_EQ(posted.json().find("duplicates")->number(), 1.0) << posted.body;
    for (std::size_t i = 0; i + 1 < live.size(); ++i) {
      log.push_back(live[i]);
      refs.push_back(world.to_ref(live[i]));
    }
    HttpAnswer during =
        client.get(fmt::format("/v1/users/1000/signals?names=weighted_clicks&as_of={}", head));
    ASSERT_EQ(during.status, 200u) << during.body;
    EXPECT_EQ(during.json().find("complete_since")->to_json(),
              fmt::format(R"({{"weighted_clicks":{}}})", head + 1));
    EXPECT_EQ(during.json().find("incomplete")->to_json(),
              R"({"weighted_clicks":["1d","7d","30d"]})");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (bootstrapping(client)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the bootstrap did not finish:\n"
                                                          << server->log();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string metrics = client.get("/metrics").body;
  EXPECT_NE(metrics.find("signalbox_bootstrap_states_pending 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("signalbox_bootstrap_events_folded_total 0\n"), std::string::npos)
      << metrics;
  EXPECT_NE(server->log().find("bootstrap: done"), std::string::npos) << server->log();

  const TimeMs as_of = head + kHourMs;
  auto check = [&](TimeMs complete_from, bool marked) {
    for (std::uint64_t user = 1000; user < 1000 + kLifecycleUsers; ++user) {
      HttpAnswer answer = client.get(fmt::format(
          "/v1/users/{}/signals?names=weighted_clicks,all_saves&as_of={}", user, as_of));
      ASSERT_EQ(answer.status, 200u) << answer.body;
      Value v = answer.json();
      const Value* clicks = v.find("signals")->find("weighted_clicks");
      Value full = expected(added_signals()[0], refs, user, as_of, 0);
      Value held = expected(added_signals()[0], refs, user, as_of, complete_from);
      EXPECT_EQ(diff(*full.find("1d"), *clicks->find("1d"), 1e-9), "") << user;
      EXPECT_EQ(diff(*full.find("7d"), *clicks->find("7d"), 1e-9), "") << user;
      EXPECT_EQ(diff(*held.find("30d"), *clicks->find("30d"), 1e-9), "") << user;
      EXPECT_EQ(diff(expected(added_signals()[1], refs, user, as_of, complete_from),
                     *v.find("signals")->find("all_saves"), 1e-9),
                "")
          << user;
      if (marked) {
        EXPECT_EQ(v.find("complete_since")->to_json(),
                  fmt::format(R"({{"weighted_clicks":{},"all_saves":{}}})", complete_from,
                              complete_from));
        EXPECT_EQ(v.find("incomplete")->to_json(), R"({"weighted_clicks":["30d"],"all_saves":[]})");
      } else {
        EXPECT_EQ(v.find("complete_since"), nullptr) << answer.body;
        EXPECT_EQ(v.find("incomplete"), nullptr) << answer.body;
      }
    }
  };
  check(raw_from, true);

  // A rebuild beside the running server is refused; after it stops, the full log (with a
  // line repeated) completes the long windows.
  std::filesystem::path log_file = world.dir() / "log.ndjson";
  {
    std::ofstream out(log_file);
    for (const Event& e : log) out << event_json(e) << '\n';
    out << event_json(log.front()) << '\n';
  }
  std::string output;
  EXPECT_EQ(run_signalbox(
                {"rebuild", "--config", config.string(), "--events", log_file.string(), "--quiet"},
                world.dir() / "rebuild-refused.log", &output),
            1)
      << output;
  ASSERT_EQ(server->terminate(), 0);
  server.reset();
  ASSERT_EQ(run_signalbox({"rebuild", "--config", config.string(), "--events", log_file.string(),
                           "--quiet", "--all-history"},
                          world.dir() / "rebuild.log", &output),
            0)
      << output;
  EXPECT_NE(output.find("1 repeated"), std::string::npos) << output;
  EXPECT_NE(output.find("every signal is complete for all of history"), std::string::npos)
      << output;
  server = std::make_unique<ServerProcess>(config, port, world.dir() / "serve2.log");
  client.close();  // a new connection, to the new server
  EXPECT_FALSE(bootstrapping(client));
  check(0, false);
  HttpAnswer listed = client.get("/v1/signals");
  const Value described = listed.json();
  for (const Value& s : described.find("signals")->array())
    EXPECT_EQ(s.find("complete_since")->number(), 0.0) << listed.body;
}

}  // namespace
}  // namespace signalbox::testing
