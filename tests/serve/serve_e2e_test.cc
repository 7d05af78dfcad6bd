// `signalbox serve` end to end: the real binary on a loopback port, driven over HTTP. Every
// signal and view for many users equals the brute-force reference; batchGet equals per-user
// GETs; duplicates change nothing; answers survive a SIGTERM and a restart.

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};

// A World, its config written as YAML for a free port, and the server running it.
struct Served {
  Served() : world(3 * kDayMs, kWindows), port(free_port()) {
    config = write_config(world.config, port);
    start();
  }
  void start() {
    server = std::make_unique<ServerProcess>(config, port, world.dir() / "serve.log");
  }

  World world;
  std::uint16_t port;
  std::filesystem::path config;
  std::unique_ptr<ServerProcess> server;
};

// POSTs `texts` in random-sized batches, alternating NDJSON and JSON arrays (NDJSON when a
// text is no JSON); each answer is
// checked against the reference's own decisions.
void post_all(HttpClient& client, World& world, AcceptedEvents& accepted,
              const std::vector<std::string>& texts, std::size_t max_batch = 400) {
  std::size_t next = 0, round = 0;
  while (next < texts.size()) {
    std::size_t n = std::min<std::size_t>(1 + world.rng()() % max_batch, texts.size() - next);
    std::vector<std::string> batch(texts.begin() + next, texts.begin() + next + n);
    HttpAnswer answer =
        client.post("/v1/events", texts_body(batch, round++ % 2 == 1 && all_json(batch)));
    ASSERT_EQ(accepted.record(batch, answer), "");
    EXPECT_EQ(answer.content_type, "application/json");
    next += n;
  }
}
void post_all(HttpClient& client, World& world, AcceptedEvents& accepted,
              const std::vector<Event>& events) {
  post_all(client, world, accepted, as_texts(events));
}

std::string signals_target(std::uint64_t user, std::optional<TimeMs> as_of,
                           const std::string& names = "") {
  std::string target = fmt::format("/v1/users/{}/signals", user);
  std::string sep = "?";
  if (as_of) {
    target += fmt::format("?as_of={}", *as_of);
    sep = "&";
  }
  if (!names.empty()) target += sep + "names=" + names;
  return target;
}

// The reference's answer restricted to `names`, in that order.
Value only(const Value& full, const std::vector<std::string>& names) {
  Value::Object signals;
  for (const std::string& name : names)
    signals.emplace_back(name, *full.find("signals")->find(name));
  return Value(Value::Object{{"user_id", *full.find("user_id")},
                             {"as_of", *full.find("as_of")},
                             {"as_of_iso", *full.find("as_of_iso")},
                             {"seen", *full.find("seen")},
                             {"signals", Value(std::move(signals))}});
}

TEST(ServeEndToEnd, SignalsOverHttpMatchTheReference) {
  Served s;
  HttpClient client(s.port);
  AcceptedEvents accepted(s.world);
  const std::size_t users = 25;
  post_all(
      client, s.world, accepted,
      with_invalid(s.world, generate(s.world, 8000, users, 6 * kMinuteMs, 3 * kHourMs, true), 200));
  ASSERT_GT(accepted.late_total, 0u) << "the stream should hold events beyond the horizon";
  ASSERT_GT(accepted.invalid_total, 0u) << "the stream should hold invalid events";
  ASSERT_GT(accepted.duplicates_total, 0u);
  const TimeMs head = accepted.head();

  std::size_t checks = 0;
  auto check = [&](std::uint64_t user, TimeMs as_of) {
    HttpAnswer answer = client.get(signals_target(user, as_of));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    EXPECT_EQ(answer.content_type, "application/json");
    ASSERT_EQ(diff(s.world.served(accepted.events(), user, as_of), answer.json(), kTolerance), "")
        << "user " << user << " as_of " << as_of;
    ++checks;
  };
  for (std::uint64_t user = 1000; user <= 1000 + users; ++user) check(user, head);
  for (int k = 0; k < 40; ++k) {
    std::uint64_t user = 1000 + s.world.rng()() % users;
    check(user, head - 50 * kMinuteMs + static_cast<TimeMs>(s.world.rng()() % (2 * kDayMs)));
  }
  check(42, head);  // never seen: zeros and empty lists
  EXPECT_EQ(checks, 67u);

  // A subset of names, URL-encoded, in the order asked.
  {
    HttpAnswer answer = client.get(signals_target(1001, head, "top3%2Csaves,session"));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    Value expected =
        only(s.world.served(accepted.events(), 1001, head), {"top3", "saves", "session"});
    EXPECT_EQ(diff(expected, answer.json(), kTolerance), "");
  }
  // as_of defaults to the wall clock, which the answer reports.
  {
    HttpAnswer answer = client.get(signals_target(1000, std::nullopt));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    Value actual = answer.json();
    auto as_of = static_cast<TimeMs>(actual.find("as_of")->number());
    EXPECT_NEAR(static_cast<double>(as_of), static_cast<double>(wall_clock_ms()), 60e3);
    EXPECT_EQ(diff(s.world.served(accepted.events(), 1000, as_of), actual, kTolerance), "");
  }

  // batchGet equals the per-user GETs, in the order asked, unknown users included.
  std::vector<std::uint64_t> ids = {1003, 1000, 42, 1017, 1000, 1024};
  for (const std::string& names : {std::string(), std::string("saves,top3,recent_items")}) {
    std::string body = fmt::format(R"({{"user_ids": [{}, "18446744073709551615"], "as_of": {})",
                                   fmt::join(ids, ", "), head);
    if (!names.empty()) body += R"(, "names": ["saves", "top3", "recent_items"])";
    body += "}";
    HttpAnswer answer = client.post("/v1/signals:batchGet", body);
    ASSERT_EQ(answer.status, 200u) << answer.body;
    EXPECT_EQ(answer.content_type, "application/json");
    Value parsed = answer.json();
    const Value::Array& results = parsed.find("results")->array();
    ASSERT_EQ(results.size(), ids.size() + 1);
    for (std::size_t i = 0; i < ids.size(); ++i)
      EXPECT_EQ(results[i].to_json(), client.get(signals_target(ids[i], head, names)).body) << i;
    EXPECT_EQ(results.back().to_json(),
              client.get(signals_target(18446744073709551615ull, head, names)).body);
  }

  // /metrics agrees with what the answers said.
  {
    HttpAnswer answer = client.get("/metrics");
    ASSERT_EQ(answer.status, 200u);
    EXPECT_NE(answer.body.find(
                  fmt::format("signalbox_events_accepted_total {}\n", accepted.accepted_total)),
              std::string::npos)
        << answer.body;
    EXPECT_NE(answer.body.find(
                  fmt::format("signalbox_events_duplicate_total {}\n", accepted.duplicates_total)),
              std::string::npos);
    EXPECT_NE(answer.body.find(fmt::format(
                  "signalbox_events_rejected_total{{reason=\"late\"}} {}\n", accepted.late_total)),
              std::string::npos);
    EXPECT_NE(
        answer.body.find(fmt::format("signalbox_events_rejected_total{{reason=\"invalid\"}} {}\n",
                                     accepted.invalid_total)),
        std::string::npos);
    EXPECT_NE(answer.body.find(fmt::format("signalbox_stream_time_seconds {}\n",
                                           static_cast<double>(head) / 1000.0)),
              std::string::npos);
  }
}

// "seen" tells a user the store holds something of from one it never saw, also where every
// window asked for is empty: before the user's only event, and for a signal its action does
// not feed (no tile part of that state, so the RocksDB store looks the user up).
TEST(ServeEndToEnd, SeenTellsAnUnknownUserFromAnInactiveOne) {
  Served s;
  HttpClient client(s.port);
  const TimeMs t = 1767225600000;  // 2026-01-01T00:00:00Z
  HttpAnswer posted = client.post(
      "/v1/events",
      fmt::format(R"({{"user_id": 5, "ts": {}, "action": "click", "item_id": "x"}})", t));
  ASSERT_EQ(posted.status, 200u) << posted.body;
  auto seen = [&](std::uint64_t user, TimeMs as_of) {
    HttpAnswer answer =
        client.get(fmt::format("/v1/users/{}/signals?names=saves&as_of={}", user, as_of));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    EXPECT_NE(answer.body.find(R"("saves":{"1d":0,)"), std::string::npos) << answer.body;
    const Value parsed = answer.json();
    const Value* field = parsed.find("seen");
    return field ? field->to_json() : std::string("absent");
  };
  EXPECT_EQ(seen(5, t - 1), "true");
  EXPECT_EQ(seen(5, t), "true");
  EXPECT_EQ(seen(6, t), "false");
  HttpAnswer batch =
      client.post("/v1/signals:batchGet",
                  fmt::format(R"({{"user_ids": [6, 5], "names": ["saves"], "as_of": {}}})", t - 1));
  ASSERT_EQ(batch.status, 200u) << batch.body;
  const Value parsed = batch.json();
  const Value::Array& results = parsed.find("results")->array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].find("seen")->to_json(), "false");
  EXPECT_EQ(results[1].find("seen")->to_json(), "true");
}

TEST(ServeEndToEnd, DuplicatesPostedAgainChangeNothing) {
  Served s;
  HttpClient client(s.port);
  AcceptedEvents accepted(s.world);
  // Two days of events: none gets older than the retention horizon, so all can come again.
  std::vector<Event> events = generate(s.world, 3000, 10, kMinuteMs, kHourMs, false);
  post_all(client, s.world, accepted, events);
  ASSERT_EQ(accepted.late_total + accepted.invalid_total, 0u);
  const TimeMs head = accepted.head();
  std::vector<std::string> before;
  for (std::uint64_t user = 1000; user < 1010; ++user)
    before.push_back(client.get(signals_target(user, head)).body);

  for (bool as_array : {false, true}) {
    HttpAnswer again = client.post("/v1/events", events_body(events, as_array));
    ASSERT_EQ(again.status, 200u) << again.body;
    Value v = again.json();
    EXPECT_EQ(v.find("accepted")->number(), static_cast<double>(events.size()));
    EXPECT_EQ(v.find("duplicates")->number(), static_cast<double>(events.size()));
    EXPECT_EQ(v.find("rejected")->number(), 0.0);
  }
  for (std::uint64_t user = 1000; user < 1010; ++user) {
    HttpAnswer answer = client.get(signals_target(user, head));
    EXPECT_EQ(answer.body, before[user - 1000]);
    EXPECT_EQ(diff(s.world.served(accepted.events(), user, head), answer.json(), kTolerance), "");
  }
}

TEST(ServeEndToEnd, AnswersAreTheSameAfterSigtermAndRestart) {
  Served s;
  AcceptedEvents accepted(s.world);
  std::vector<std::string> before;
  TimeMs head = 0;
  {
    HttpClient client(s.port);
    post_all(client, s.world, accepted, generate(s.world, 3000, 8, 10 * kMinuteMs, kHourMs, false));
    head = accepted.head();
    for (std::uint64_t user = 1000; user < 1009; ++user)
      before.push_back(client.get(signals_target(user, head)).body);
    before.push_back(client.get("/v1/signals").body);
  }
  EXPECT_EQ(s.server->terminate(), 0) << s.server->log();
  std::string log = s.server->log();
  EXPECT_NE(log.find(fmt::format("listening on http://127.0.0.1:{}", s.port)), std::string::npos)
      << log;
  EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;

  s.start();
  HttpClient client(s.port);
  for (std::uint64_t user = 1000; user < 1009; ++user) {
    HttpAnswer answer = client.get(signals_target(user, head));
    EXPECT_EQ(answer.body, before[user - 1000]);
    EXPECT_EQ(diff(s.world.served(accepted.events(), user, head), answer.json(), kTolerance), "");
  }
  EXPECT_EQ(client.get("/v1/signals").body, before.back());
  EXPECT_EQ(s.server->terminate(), 0);
}

TEST(ServeEndToEnd, ARequestInFlightAtSigtermIsAnsweredAndKept) {
  Served s;
  std::vector<Event> events = generate(s.world, 30000, 20, kMinuteMs / 10, kHourMs, false);
  std::string body = events_body(events, false);
  HttpClient client(s.port);
  ASSERT_EQ(client.get("/healthz").status, 200u);  // the connection is accepted and served
  client.write_raw(
      fmt::format("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  "Content-Length: {}\r\n\r\n{}",
                  body.size(), body));
  // The request is fully sent (the server has begun on it) before the signal.
  s.server->send_signal(SIGTERM);
  HttpAnswer answer = client.read(false);
  ASSERT_EQ(answer.status, 200u) << answer.body;
  EXPECT_FALSE(answer.keep_alive) << "a draining server closes the connection";
  AcceptedEvents accepted(s.world);
  ASSERT_EQ(accepted.record(events, answer), "");
  EXPECT_EQ(accepted.late_total + accepted.invalid_total, 0u);
  EXPECT_EQ(s.server->wait(std::chrono::seconds(60)), 0) << s.server->log();

  s.start();
  HttpClient again(s.port);
  for (std::uint64_t user = 1000; user < 1005; ++user) {
    HttpAnswer a = again.get(signals_target(user, accepted.head()));
    EXPECT_EQ(diff(s.world.served(accepted.events(), user, accepted.head()), a.json(), kTolerance),
              "");
  }
}

TEST(ServeEndToEnd, IdleKeepAliveConnectionsDoNotHoldUpAStopOnSigint) {
  Served s;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<HttpClient>(s.port));
    ASSERT_EQ(clients.back()->get("/healthz").status, 200u);
  }
  auto start = std::chrono::steady_clock::now();
  s.server->send_signal(SIGINT);
  EXPECT_EQ(s.server->wait(std::chrono::seconds(60)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (auto& client : clients) EXPECT_TRUE(client->closed_by_server());
}

TEST(ServeEndToEnd, SighupReloadsSourcesAndMetricsShowIt) {
  Served s;
  {
    // A new pin in a new category, written beside the table and moved into place.
    std::string table = read_file(s.world.dir() / "pins.tsv") + "pin_new\tnewcategory\t0,0,0,1\n";
    std::ofstream(s.world.dir() / "pins.tsv.new") << table;
    std::filesystem::rename(s.world.dir() / "pins.tsv.new", s.world.dir() / "pins.tsv");
  }
  s.server->send_signal(SIGHUP);
  HttpClient client(s.port);
  const std::string not_reloaded = "signalbox_source_reloads_total{source=\"pins\"} 0\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string metrics = client.get("/metrics").body;
  while (metrics.find(not_reloaded) != std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = client.get("/metrics").body;
  }
  ASSERT_NE(metrics.find("signalbox_source_reloads_total{source=\"pins\"} "), std::string::npos)
      << metrics;
  ASSERT_EQ(metrics.find(not_reloaded), std::string::npos) << metrics << s.server->log();
  EXPECT_NE(metrics.find("# TYPE signalbox_source_lookups_total counter\n"), std::string::npos);

  Event e = s.world.make_event(3, kStart, 1);
  e.action = "click";
  e.item_id = "pin_new";
  e.query.reset();
  ASSERT_EQ(client.post("/v1/events", events_body({e}, false)).status, 200u);
  HttpAnswer answer = client.get(signals_target(e.user_id, kStart, "category_counts"));
  ASSERT_EQ(answer.status, 200u) << answer.body;
  EXPECT_NE(answer.body.find(R"("1h":{"newcategory":1})"), std::string::npos) << answer.body;
  EXPECT_EQ(s.server->terminate(), 0);
}

TEST(ServeEndToEnd, BadKafkaEntryAndABusyGrpcPortAreRefusedAtStart) {
  World world(3 * kDayMs, kWindows);
  std::string yaml = config_yaml(world.config, free_port(), 1 << 20) +
                     "ingest:\n  - { kind: http }\n"
                     "  - { kind: kafka, brokers: 127.0.0.1:9092, topic: t, batch_size: 0 }\n";
  std::ofstream(world.config.file) << yaml;
  std::string output;
  int status = run_signalbox({"serve", "--config", world.config.file.string()},
                             world.dir() / "kafka.log", &output);
  EXPECT_EQ(status, 2) << output;
  EXPECT_NE(output.find("ingest[1].batch_size: "), std::string::npos) << output;

  BusyPort taken;
  std::string grpc = config_yaml(world.config, free_port(), 1 << 20);
  grpc.replace(grpc.find("server: {"), 9,
               fmt::format("server: {{ grpc: 127.0.0.1:{},", taken.port()));
  std::ofstream(world.config.file) << grpc;
  status = run_signalbox({"serve", "--config", world.config.file.string()},
                         world.dir() / "grpc.log", &output);
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("server.grpc: cannot listen on 127.0.0.1:"), std::string::npos) << output;
}

TEST(ServeEndToEnd, HttpIngestEntryAndAPortInUse) {
  World world(3 * kDayMs, kWindows);
  BusyPort taken;
  std::string yaml =
      config_yaml(world.config, taken.port(), 1 << 20) + "ingest:\n  - { kind: http }\n";
  std::ofstream(world.config.file) << yaml;
  std::string output;
  int status = run_signalbox({"serve", "--config", world.config.file.string()},
                             world.dir() / "busy.log", &output);
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("cannot listen on 127.0.0.1:"), std::string::npos) << output;
}

}  // namespace
}  // namespace signalbox::testing
