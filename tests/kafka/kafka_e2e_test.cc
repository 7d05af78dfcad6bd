// `signalbox serve` with a kafka ingest entry, end to end: the test process runs librdkafka's
// mock cluster, the real binary consumes from it, and the events become visible over HTTP
// exactly as the test's reference (ReferenceTopic) computes them from what it produced;
// /metrics shows the Kafka counters, each as the reference counts. A broker
// that cannot be reached, from the start or once the consumer has joined its group, does not
// keep the server from serving or from stopping.

#include <gtest/gtest.h>

#include "mock_kafka.h"
#include "reference_topic.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};
constexpr std::size_t kUsers = 20;

// The client settings of most tests here: a short session and reconnect backoff, so that what
// waits on the group or the broker takes seconds.
constexpr std::string_view kQuickClient =
    ", rdkafka.session.timeout.ms: 6000, rdkafka.heartbeat.interval.ms: 500, "
    "rdkafka.reconnect.backoff.max.ms: 1000";

std::string kafka_entry(const std::string& brokers, std::string_view client = kQuickClient) {
  return fmt::format(
      "ingest:\n  - {{ kind: http }}\n"
      "  - {{ kind: kafka, brokers: \"{}\", topic: user-events, group: signalbox, format: json, "
      "batch_linger: 5ms{} }}\n",
      brokers, client);
}

TEST(KafkaServeEndToEnd, EventsProducedToKafkaAreServedOverHttp) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 3);
  std::uint16_t port = free_port();
  std::ofstream(world.config.file)
      << config_yaml(world.config, port, 1 << 20) << kafka_entry(kafka.bootstrap_servers());
  ServerProcess server(world.config.file, port, world.dir() / "serve.log");

  // The reference decides on its own what the server must make of every message (the server
  // may be assigned its partitions before they hold any: ownership is not stable).
  ReferenceTopic reference(world, 1000, PartitionLateRule::Ownership::kMoving);
  auto publish = [&](int partition, const std::string& text) {
    kafka.produce(partition, text);
    reference.take_text(partition, text);
  };
  std::vector<Event> events = generate(world, 900, kUsers, kMinuteMs, 30 * kMinuteMs, false);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i == events.size() / 2) {
      publish(0, "{\"user_id\": 1000, \"ts\": ");             // undecodable
      publish(1, R"({"user_id": 1001, "action": "click"})");  // invalid: no ts
    }
    publish(static_cast<int>(events[i].user_id % 3), event_json(events[i]));
  }
  kafka.flush();
  ASSERT_TRUE(reference.undecidable().empty())
      << fmt::format("{}", fmt::join(reference.undecidable(), "\n"));
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_EQ(want.undecodable, 1u);
  ASSERT_EQ(want.invalid, 1u);
  ASSERT_GT(want.duplicates, 0u);

  HttpClient client(port);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value want_answer = world.served(reference.taken(), user, reference.head());
    std::string target = fmt::format("/v1/users/{}/signals?as_of={}", user, reference.head());
    std::string last;
    bool same = wait_until(
        [&] {
          HttpAnswer answer = client.get(target);
          if (answer.status != 200) {
            last = answer.body;
            return false;
          }
          last = diff(want_answer, answer.json(), 1e-9);
          return last.empty();
        },
        std::chrono::seconds(20));
    ASSERT_TRUE(same) << "user " << user << ": " << last << "\n" << server.log();
  }

  std::string metrics;
  std::string expected_total =
      fmt::format("signalbox_kafka_messages_total{{topic=\"user-events\"}} {}\n", want.messages);
  // Offsets are committed a moment after the events are visible; then partition 0 has no lag.
  const std::string caught_up =
      "signalbox_kafka_consumer_lag{topic=\"user-events\",partition=\"0\"} 0\n";
  ASSERT_TRUE(wait_until([&] {
    metrics = client.get("/metrics").body;
    return metrics.find(expected_total) != std::string::npos &&
           metrics.find(caught_up) != std::string::npos;
  })) << metrics;
  // Each counter as the reference counts.
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"signalbox_kafka_events_accepted_total{topic=\"user-events\"}", want.accepted},
           {"signalbox_kafka_events_duplicate_total{topic=\"user-events\"}", want.duplicates},
           {"signalbox_kafka_messages_rejected_total{topic=\"user-events\",reason=\"undecodable\"}",
            want.undecodable},
           {"signalbox_kafka_messages_rejected_total{topic=\"user-events\",reason=\"invalid\"}",
            want.invalid},
           {"signalbox_kafka_messages_rejected_total{topic=\"user-events\",reason=\"late\"}",
            want.late}}) {
    EXPECT_NE(metrics.find(fmt::format("{} {}\n", name, value)), std::string::npos) << name << "\n"
                                                                                    << metrics;
  }
  EXPECT_NE(metrics.find("# TYPE signalbox_kafka_consumer_lag gauge\n"), std::string::npos);
  EXPECT_NE(metrics.find("signalbox_kafka_consumer_lag{topic=\"user-events\",partition=\"0\"} "),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(fmt::format(
          "signalbox_kafka_freshness_seconds_count{{topic=\"user-events\"}} {}\n", want.accepted)),
      std::string::npos)
      << metrics;
  // The engine-wide counters include what came over Kafka.
  EXPECT_NE(metrics.find(fmt::format("signalbox_events_accepted_total {}\n", want.accepted)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(
                fmt::format("signalbox_events_total{{source=\"kafka\",outcome=\"rejected\"}} {}\n",
                            want.undecodable + want.invalid + want.late)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("signalbox_events_total{source=\"kafka\",outcome=\"accepted\"} "),
            std::string::npos)
      << metrics;

  EXPECT_EQ(server.terminate(), 0) << server.log();
  std::string log = server.log();
  EXPECT_NE(log.find("partition 1 offset"), std::string::npos) << log;
  EXPECT_NE(log.find("ts: required"), std::string::npos) << log;
  // Everything consumed was committed before the exit.
  std::int64_t committed = 0;
  for (const auto& [partition, offset] : kafka.committed("signalbox")) committed += offset;
  EXPECT_EQ(committed, static_cast<std::int64_t>(want.messages));
}

TEST(KafkaServeEndToEnd, AnUnreachableBrokerNeitherStopsServingNorStopping) {
  World world(3 * kDayMs, kWindows);
  std::uint16_t port = free_port();
  std::uint16_t nobody = free_port();
  std::ofstream(world.config.file) << config_yaml(world.config, port, 1 << 20)
                                   << kafka_entry(fmt::format("127.0.0.1:{}", nobody));
  ServerProcess server(world.config.file, port, world.dir() / "serve.log");
  HttpClient client(port);
  Event e = world.make_event(kUsers, kStart, 1);
  HttpAnswer posted = client.post("/v1/events", events_body({e}, false));
  ASSERT_EQ(posted.status, 200u) << posted.body;
  EXPECT_NE(posted.body.find("\"accepted\":1"), std::string::npos) << posted.body;
  // The client reports the broker down and keeps trying.
  ASSERT_TRUE(wait_until([&] {
    return client.get("/metrics")
               .body.find("signalbox_kafka_client_errors_total{topic=\"user-events\"} 0\n") ==
           std::string::npos;
  })) << server.log();
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(server.terminate(std::chrono::seconds(15)), 0) << server.log();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(10));
  EXPECT_NE(server.log().find("kafka user-events: "), std::string::npos) << server.log();
}

TEST(KafkaServeEndToEnd, ACoordinatorLostWithACommitOutstandingDoesNotHoldUpTheStop) {
  World world(3 * kDayMs, kWindows);
  auto kafka = std::make_unique<MockKafka>("user-events", 3);
  std::uint16_t port = free_port();
  // librdkafka's own session timeout (45 s): only leaving the group ends the membership early.
  std::ofstream(world.config.file)
      << config_yaml(world.config, port, 1 << 20) << kafka_entry(kafka->bootstrap_servers(), "");
  std::optional<ServerProcess> server;
  server.emplace(world.config.file, port, world.dir() / "serve.log");
  const std::vector<Event> first = generate(world, 300, kUsers, kMinuteMs, 30 * kMinuteMs, false);
  for (const Event& e : first) kafka->produce(static_cast<int>(e.user_id % 3), event_json(e));
  kafka->flush();
  HttpClient client(port);
  // Consumed, stored and committed: the consumer is a member of its group.
  const std::string caught_up =
      "signalbox_kafka_consumer_lag{topic=\"user-events\",partition=\"0\"} 0\n";
  ASSERT_TRUE(wait_until([&] {
    std::string metrics = client.get("/metrics").body;
    return metrics.find(
               fmt::format("signalbox_kafka_events_accepted_total{{topic=\"user-events\"}} "
                           "{}\n",
                           first.size())) != std::string::npos &&
           metrics.find(caught_up) != std::string::npos;
  })) << server->log();
  // From here the coordinator answers every offset commit with a retriable error (librdkafka
  // retries such a commit itself), while more is consumed; then the whole cluster goes away
  // with a commit outstanding.
  std::vector<rd_kafka_resp_err_t> refusals(100000, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  rd_kafka_mock_push_request_errors_array(kafka->cluster(), /*OffsetCommit*/ 8, refusals.size(),
                                          refusals.data());
  for (const Event& e : generate(world, 20000, kUsers, kMinuteMs, 30 * kMinuteMs, false))
    kafka->produce(static_cast<int>(e.user_id % 3), event_json(e));
  kafka->flush();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  kafka.reset();

  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(server->terminate(std::chrono::seconds(60)), 0) << server->log();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(15)) << server->log();
  const std::string log = server->log();
  EXPECT_NE(log.find("kafka user-events: stopped"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped without leaving"), std::string::npos) << log;

  // What was stored before is still there.
  std::ofstream(world.config.file) << config_yaml(world.config, port, 1 << 20);
  server.emplace(world.config.file, port, world.dir() / "serve-again.log");
  std::string metrics = HttpClient(port).get("/metrics").body;
  constexpr std::string_view kStored = "\nsignalbox_store_events ";
  const std::size_t at = metrics.find(kStored);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stoull(metrics.substr(at + kStored.size())), first.size()) << metrics;
  EXPECT_EQ(server->terminate(), 0) << server->log();
}

}  // namespace
}  // namespace signalbox::testing
