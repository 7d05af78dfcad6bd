// Consumed means counted once: the real `signalbox serve` consumes a 4-partition topic of
// librdkafka's mock cluster (run in this process) while the test produces into it, and is
// killed with SIGKILL five times at random moments and restarted on the same store. The
// topic holds re-sent events (verbatim and with other content under the same id), events
// without an event_id, and invalid messages. In the end every signal of every user equals the
// reference the test computes from what it produced (ReferenceTopic: the documented event
// rules, identity and per-partition late rule, never the server's word): no event lost, none
// counted twice; and the dead-letter topic holds exactly the messages the reference finds invalid,
// each blamed on the field the reference blames.

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "invalid_events.h"
#include "mock_kafka.h"
#include "reference_topic.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

constexpr std::size_t kUsers = 40;
constexpr std::size_t kMessages = 40000;
constexpr int kPartitions = 4;
constexpr int kKills = 5;
constexpr int kMaxExtraKills = 10;
// The mock cluster keeps only the newest few MB of a partition: the producer stays at most
// this many messages ahead of the committed offsets.
constexpr std::size_t kMostAhead = 10000;

// The seed: SIGNALBOX_TEST_SEED when set (to repeat a run), else a fresh one.
std::uint64_t test_seed() {
  if (const char* given = std::getenv("SIGNALBOX_TEST_SEED")) return std::stoull(given);
  return std::random_device()();
}

struct Message {
  std::uint64_t user;  // chooses the partition
  std::string text;
};

// About two days of events in time order (up to 10 minutes early or late), keyed by user;
// 3% re-sent verbatim (some of them without an event_id, so identified by their content), 2%
// re-sent with other content under an event_id, 1% without an event_id, 0.3% invalid.
std::vector<Message> generate_messages(World& world) {
  auto& rng = world.rng();
  const TimeMs step = 2 * kDayMs / static_cast<TimeMs>(kMessages);
  std::vector<Message> messages;
  std::vector<Message> sent;  // the valid messages, as sent
  std::vector<Event> sent_events;
  for (std::size_t i = 0; i < kMessages; ++i) {
    const TimeMs ts = kStart + static_cast<TimeMs>(i) * step +
                      static_cast<TimeMs>(rng() % (20 * kMinuteMs)) - 10 * kMinuteMs;
    const std::uint64_t r = rng() % 1000;
    if (r < 30 && !sent.empty()) {
      messages.push_back(sent[rng() % sent.size()]);
      continue;
    }
    if (r < 50 && !sent.empty()) {
      Event again = sent_events[rng() % sent_events.size()];
      again.action = "purchase";
      again.ts += 1000;
      messages.push_back({again.user_id, event_json(again)});
      continue;
    }
    if (r < 53) {
      const std::uint64_t user = 1000 + rng() % kUsers;
      messages.push_back({user, invalid_event_text(user, ts, i, rng())});
      continue;
    }
    Event e = world.make_event(kUsers, ts, i);
    std::string text = event_json(e);
    if (r < 63) {  // without event_id: identified by its content
      const std::string id = fmt::format(R"(,"event_id":"{}")", e.event_id);
      text.erase(text.find(id), id.size());
    }
    messages.push_back({e.user_id, text});
    sent.push_back(messages.back());
    sent_events.push_back(std::move(e));
  }
  return messages;
}

std::string kafka_config(const Config& config, std::uint16_t port, const std::string& brokers) {
  return config_yaml(config, port, 1 << 20) +
         fmt::format(
             "ingest:\n  - {{ kind: http }}\n"
             "  - {{ kind: kafka, brokers: \"{}\", topic: user-events, group: crash, "
             "dead_letter_topic: user-events-dead, batch_size: 500, batch_linger: 5ms, "
             "rdkafka.session.timeout.ms: 3000, rdkafka.heartbeat.interval.ms: 300 }}\n",
             brokers);
}

// signalbox_kafka_messages_total of the server on `port` (since its start), 0 when it does
// not answer.
std::size_t messages_consumed(std::uint16_t port) {
  try {
    HttpClient client(port);
    const std::string metrics = client.get("/metrics").body;
    const std::string name = "signalbox_kafka_messages_total{topic=\"user-events\"} ";
    const std::size_t at = metrics.find(name);
    return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + name.size()));
  } catch (const std::exception&) {
    return 0;
  }
}

TEST(KafkaIngestCrash, EveryProducedEventCountsOnceThroughFiveKillNines) {
  const std::uint64_t seed = test_seed();
  std::cout << "seed " << seed << " (SIGNALBOX_TEST_SEED=" << seed << " repeats this run)"
            << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(fmt::format("seed {}", seed));

  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"}, seed);
  const std::vector<Message> messages = generate_messages(world);
  MockKafka kafka("user-events", kPartitions);
  kafka.create_topic("user-events-dead", 1);

  const std::uint16_t port = free_port();
  const std::filesystem::path config = world.dir() / "serve.yaml";
  std::ofstream(config) << kafka_config(world.config, port, kafka.bootstrap_servers());
  const std::filesystem::path log = world.dir() / "serve.log";
  auto server = std::make_unique<ServerProcess>(config, port, log);

  auto committed_total = [&] {
    std::int64_t sum = 0;
    for (const auto& [partition, offset] : kafka.committed("crash"))
      sum += std::max<std::int64_t>(0, offset);
    return static_cast<std::size_t>(sum);
  };

  std::atomic<bool> produced_all{false}, stop_producing{false};
  std::thread producer([&] {
    for (std::size_t at = 0; at < messages.size() && !stop_producing; ++at) {
      if (at % 1000 == 0 && at >= kMostAhead) {
        while (!stop_producing && committed_total() + kMostAhead < at)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      kafka.produce_for_user(messages[at].user, messages[at].text);
    }
    kafka.flush();
    produced_all = !stop_producing;
  });

  // Kill points: once a random share of the topic is committed, plus a random delay, so that
  // kills land between and within batches, before and after commits.
  std::vector<std::size_t> kill_at;
  // They lie in the first 70 %, leaving room for the extra kills below.
  for (int k = 0; k < kKills; ++k)
    kill_at.push_back(messages.size() / 20 + world.rng()() % (messages.size() * 13 / 20));
  std::sort(kill_at.begin(), kill_at.end());
  int kills = 0;
  std::string failure;
  // Messages a killed process had consumed but not committed (at least): they come again.
  std::size_t redelivered = 0;
  std::size_t committed_at_start = 0;
  // A kill that lands while the consumer is idle (everything produced so far is committed)
  // proves nothing about redelivery; should all the planned kills land so, more follow at once
  // (up to kMaxExtraKills) while the topic is still being consumed.
  auto more_kills = [&](int k) {
    if (k < kKills) return true;
    return redelivered == 0 && k < kKills + kMaxExtraKills &&
           committed_total() < messages.size() * 19 / 20;
  };
  for (int k = 0; failure.empty() && more_kills(k); ++k) {
    const std::size_t kill_point = k < kKills ? kill_at[static_cast<std::size_t>(k)] : 0;
    if (!wait_until([&] { return committed_total() >= kill_point; }, std::chrono::seconds(60))) {
      failure = fmt::format("consumption stalled before kill {} (committed {})\n{}", k + 1,
                            committed_total(), server->log());
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(world.rng()() % 300000));
    const std::size_t consumed = messages_consumed(port);
    server->send_signal(SIGKILL);
    server->wait(std::chrono::seconds(30));
    ++kills;
    const std::size_t committed = committed_total();
    redelivered +=
        committed_at_start + consumed - std::min(committed_at_start + consumed, committed);
    committed_at_start = committed;
    try {
      server = std::make_unique<ServerProcess>(config, port, log);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!failure.empty()) stop_producing = true;
  producer.join();
  ASSERT_EQ(failure, "");
  ASSERT_TRUE(produced_all);
  ASSERT_TRUE(
      wait_until([&] { return committed_total() == messages.size(); }, std::chrono::seconds(60)))
      << "committed " << committed_total() << " of " << messages.size() << "\n"
      << server->log();
  EXPECT_GE(kills, kKills);
  // Reported, not asserted: the messages metric is sampled before each kill and may lag the
  // consumer, so this lower bound stays 0 in some runs even when kills land mid-batch.
  if (redelivered == 0)
    std::cout << "note: no kill was seen to catch consumed messages uncommitted" << std::endl;
  RecordProperty("redelivered", static_cast<int>(redelivered));
  std::cout << kills << " kills; at least " << redelivered
            << " messages consumed again after a kill" << std::endl;

  // One last kill once everything is committed: the answers below come from what the store
  // recovered, not from a process that never went down.
  server->send_signal(SIGKILL);
  server->wait(std::chrono::seconds(30));
  server = std::make_unique<ServerProcess>(config, port, log);

  // The reference: the topic's messages in production order, each partition's decided by the
  // per-partition late rule; the partitions change owner with every restart.
  ReferenceTopic reference(world, 500, PartitionLateRule::Ownership::kMoving);
  for (const Message& m : messages)
    reference.take_text(static_cast<int>(m.user % static_cast<std::uint64_t>(kPartitions)), m.text);
  ASSERT_TRUE(reference.undecidable().empty())
      << fmt::format("{}", fmt::join(reference.undecidable(), "\n"));
  ASSERT_EQ(reference.counts().late, 0u)
      << "the generated topic stays well inside the late horizon";
  ASSERT_GT(reference.rejected.size(), 50u);
  ASSERT_GT(reference.counts().duplicates, 1000u);

  HttpClient client(port);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    HttpAnswer answer =
        client.get(fmt::format("/v1/users/{}/signals?as_of={}", user, reference.head()));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    ASSERT_EQ(diff(world.served(reference.taken(), user, reference.head()), answer.json(), 1e-9),
              "")
        << "user " << user << " after " << kills << " kills";
  }

  // Rejected exactly what the reference rejects: the dead letters are the messages it finds
  // invalid (a message skipped by a killed process before its commit is skipped again by the
  // next, so it may be there twice), each blamed on the same field.
  std::map<std::pair<int, std::int64_t>, std::string> dead;
  for (const auto& m : kafka.read_all("user-events-dead", 1)) {
    dead[{std::stoi(m.headers.at("signalbox-partition")),
          std::stoll(m.headers.at("signalbox-offset"))}] =
        fault_of(m.headers.at("signalbox-error"));
  }
  EXPECT_EQ(dead, reference.rejected);
  EXPECT_EQ(server->terminate(), 0) << server->log();
}

}  // namespace
}  // namespace signalbox::testing
