// Two `signalbox serve` processes on one Redis store, in one consumer group of an 8-partition
// topic (librdkafka's mock cluster), with poison messages mixed in. One is killed with -9
// midway; the survivor takes over its partitions; every user's signals equal the brute-force
// reference over the events the test's reference (ReferenceTopic) takes, and the dead-letter
// topic holds exactly the messages it rejects, each blamed on the field it blames.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "mock_kafka.h"
#include "redis_servers.h"
#include "reference_topic.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

constexpr std::size_t kUsers = 40;
constexpr std::size_t kEvents = 200000;
constexpr int kPartitions = 8;

std::string replica_config(const Config& config, std::uint16_t port, int redis_port,
                           const std::string& brokers) {
  std::string yaml = config_yaml(config, port, 1 << 20);
  const std::size_t storage = yaml.find("storage:");
  yaml.replace(storage, yaml.find('\n', storage) - storage,
               fmt::format("storage: {{ kind: redis, nodes: [127.0.0.1:{}], key_prefix: group }}",
                           redis_port));
  return yaml + fmt::format(
                    "ingest:\n  - {{ kind: http }}\n"
                    "  - {{ kind: kafka, brokers: \"{}\", topic: user-events, group: replicas, "
                    "dead_letter_topic: user-events-dead, batch_size: 2000, batch_linger: 5ms, "
                    "rdkafka.session.timeout.ms: 6000, rdkafka.heartbeat.interval.ms: 500 }}\n",
                    brokers);
}

// signalbox_kafka_messages_total of one process, 0 when it does not answer.
std::uint64_t messages_consumed(std::uint16_t port) {
  try {
    HttpClient client(port);
    std::string metrics = client.get("/metrics").body;
    const std::string name = "signalbox_kafka_messages_total{topic=\"user-events\"} ";
    std::size_t at = metrics.find(name);
    return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + name.size()));
  } catch (const std::exception&) {
    return 0;
  }
}

TEST(KafkaScaleOut, TheSurvivorOfAKilledReplicaTakesOverAndEveryEventCountsOnce) {
  ASSERT_TRUE(have_program("redis-server"))
      << "redis-server is not installed (Debian package redis-server)";
  auto redis = start_redis();
  ASSERT_TRUE(redis->ready()) << "redis-server did not answer PING";
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"});
  MockKafka kafka("user-events", kPartitions);
  kafka.create_topic("user-events-dead", 1);

  // 200 000 events over 12 days in time order, each keyed by its user, so each partition is in
  // time order; 60 poison messages among them, each told apart by its text.
  std::vector<std::pair<std::uint64_t, std::string>> messages;  // (user or partition, text)
  std::set<std::string> poison;
  for (std::size_t i = 0; i < kEvents; ++i) {
    Event e =
        world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * (12 * kDayMs / kEvents), i);
    messages.emplace_back(e.user_id, event_json(e));
    if (i % (kEvents / 60) == 7) {
      std::string bad =
          poison.size() % 2 == 0
              ? fmt::format("poison {} {{", poison.size())  // undecodable
              : fmt::format(R"({{"user_id": 1000, "action": "click", "item_id": "poison-{}"}})",
                            poison.size());  // invalid: no ts
      messages.emplace_back(poison.size() % kPartitions, bad);
      poison.insert(bad);
    }
  }

  // What the replicas must make of the topic, decided by the test on its own; partitions
  // change owner when a replica dies. The producer stays at most 40 000 messages ahead of
  // the commits, so no message is consumed after more than half the topic behind it (the
  // victim's partitions wait out a 6 s session timeout meanwhile, far from that).
  ReferenceTopic reference(world, 2000, PartitionLateRule::Ownership::kMoving, kEvents / 2);
  for (const auto& [to, text] : messages)
    reference.take_text(static_cast<int>(to >= 1000 ? to % kPartitions : to), text);
  ASSERT_TRUE(reference.undecidable().empty())
      << fmt::format("{}", fmt::join(reference.undecidable(), "\n"));
  ASSERT_EQ(reference.counts().undecodable + reference.counts().invalid, poison.size());

  std::uint16_t ports[2] = {free_port(), free_port()};
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  for (int r = 0; r < 2; ++r) {
    std::filesystem::path file = world.dir() / fmt::format("replica{}.yaml", r);
    std::ofstream(file) << replica_config(world.config, ports[r], redis->port(),
                                          kafka.bootstrap_servers());
    replicas.push_back(std::make_unique<ServerProcess>(
        file, ports[r], world.dir() / fmt::format("replica{}.log", r)));
  }

  // Produced while consumed: the mock cluster keeps only the newest few MB of each partition,
  // so no more than 40 000 messages wait uncommitted at any time.
  auto committed_total = [&] {
    std::int64_t sum = 0;
    for (const auto& [partition, offset] : kafka.committed("replicas"))
      sum += std::max<std::int64_t>(0, offset);
    return static_cast<std::size_t>(sum);
  };
  std::atomic<bool> produced_all{false};
  std::thread producer([&] {
    for (std::size_t at = 0; at < messages.size(); ++at) {
      if (at % 10000 == 0 && at >= 40000) {
        if (!wait_until([&] { return committed_total() + 40000 >= at; }, std::chrono::seconds(120)))
          break;
      }
      const auto& [to, text] = messages[at];
      if (to >= 1000)
        kafka.produce_for_user(to, text);
      else
        kafka.produce(static_cast<int>(to), text);
    }
    kafka.flush();
    produced_all = true;
  });

  // Both consume; once half of the topic is committed, one dies at once.
  bool half =
      wait_until([&] { return committed_total() >= kEvents / 2; }, std::chrono::seconds(120));
  if (!half) producer.join();
  ASSERT_TRUE(half) << replicas[0]->log() << replicas[1]->log();
  const std::uint64_t taken_by_victim = messages_consumed(ports[0]);
  replicas[0]->send_signal(SIGKILL);
  replicas[0]->wait(std::chrono::seconds(10));
  producer.join();
  ASSERT_TRUE(produced_all) << "the consumers stopped committing" << replicas[1]->log();
  ASSERT_GT(taken_by_victim, 0u) << "the killed replica had no partition";

  HttpClient survivor(ports[1]);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value want = world.served(reference.taken(), user, reference.head());
    std::string target = fmt::format("/v1/users/{}/signals?as_of={}", user, reference.head()), last;
    bool same = wait_until(
        [&] {
          HttpAnswer answer = survivor.get(target);
          last = answer.status == 200 ? diff(want, answer.json(), 1e-9) : answer.body;
          return last.empty();
        },
        std::chrono::seconds(120));
    ASSERT_TRUE(same) << "user " << user << ": " << last << "\n" << replicas[1]->log();
  }

  // The dead letters are exactly the messages the reference rejects, each blamed on the same
  // field (a copy made by the killed replica for an offset it had not committed comes again
  // from the survivor: the same message twice).
  std::map<std::pair<int, std::int64_t>, std::string> dead;
  bool all = wait_until(
      [&] {
        dead.clear();
        for (const auto& m : kafka.read_all("user-events-dead", 1)) {
          EXPECT_EQ(m.headers.at("signalbox-topic"), "user-events");
          dead[{std::stoi(m.headers.at("signalbox-partition")),
                std::stoll(m.headers.at("signalbox-offset"))}] =
              fault_of(m.headers.at("signalbox-error"));
        }
        return dead.size() >= reference.rejected.size();
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(all) << dead.size() << " distinct dead letters of " << reference.rejected.size()
                   << " rejected messages";
  EXPECT_EQ(dead, reference.rejected);
  EXPECT_EQ(replicas[1]->terminate(), 0) << replicas[1]->log();
}

}  // namespace
}  // namespace signalbox::testing
