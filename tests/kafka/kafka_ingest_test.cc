// KafkaIngest in-process against librdkafka's mock cluster. Every test computes what the
// consumer must do on its own (ReferenceTopic: the documented event rules, per-partition late
// rule and identity) and checks the engine against it: its counts, the messages it skipped
// (each blamed on the same field) and every signal against the brute-force reference of the
// events the reference takes. Beside that, the Kafka mechanics: bad messages never hold up
// the good ones behind them; a stop hands over to the next consumer of the group without
// losing an event; a rebalance and a broker outage lose nothing; offsets are committed only
// once the engine stored the batch; delivering everything again changes nothing.

#include "signalbox/ingest/kafka/kafka_ingest.h"
#include "signalbox/metrics/registry.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "json.h"
#include "mock_kafka.h"
#include "reference_topic.h"
#include "signalbox/v1/signalbox.pb.h"
#include "traffic.h"

namespace signalbox::testing {
namespace {

const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};
constexpr std::size_t kUsers = 25;
constexpr std::size_t kBatchMessages = 50;
using Ownership = PartitionLateRule::Ownership;

// Events one minute apart (up to 30 minutes early), with verbatim and altered re-sends: two
// days in all, far inside the late horizon (40 days).
std::vector<Event> make_events(World& world, std::size_t count, std::size_t first_serial = 0) {
  return generate(world, count, kUsers, kMinuteMs, 30 * kMinuteMs, false, first_serial);
}

Config with_store(const Config& config, const std::filesystem::path& path) {
  Config copy = config;
  copy.storage.path = path;
  return copy;
}

KafkaIngestOptions options_for(const MockKafka& kafka, const std::string& group) {
  KafkaIngestOptions options;
  options.brokers = kafka.bootstrap_servers();
  options.topic = kafka.topic();
  options.group = group;
  options.batch_messages = kBatchMessages;
  options.batch_linger = std::chrono::milliseconds(5);
  // A quick rebalance when a member leaves or joins (the defaults wait 45 s).
  options.rdkafka = {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "300"}};
  return options;
}

// One message to `partition`, told to the reference too.
void publish(MockKafka& kafka, ReferenceTopic& reference, int partition, const std::string& text) {
  kafka.produce(partition, text);
  reference.take_text(partition, text);
}

// Each event keyed by its user, in the partition the user maps to.
void publish_events(MockKafka& kafka, ReferenceTopic& reference, const std::vector<Event>& events) {
  for (const Event& e : events) {
    const std::string text = event_json(e);
    kafka.produce_for_user(e.user_id, text);
    reference.take_text(
        static_cast<int>(e.user_id % static_cast<std::uint64_t>(kafka.partitions())), text);
  }
  kafka.flush();
}

ReferenceTopic::Counts counts_of(const KafkaIngestStats& s) {
  return {s.messages,         s.accepted,     s.duplicates, s.rejected_undecodable,
          s.rejected_invalid, s.rejected_late};
}

ReferenceTopic::Counts operator+(const ReferenceTopic::Counts& a, const ReferenceTopic::Counts& b) {
  return {a.messages + b.messages,       a.accepted + b.accepted, a.duplicates + b.duplicates,
          a.undecodable + b.undecodable, a.invalid + b.invalid,   a.late + b.late};
}

// Every signal and view of every user, as of the reference's stream time, equal to the
// brute-force reference over the events the reference took.
void expect_reference_answers(const World& world, const ReferenceTopic& reference, Engine& engine) {
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    ASSERT_EQ(diff(world.expected(reference.taken(), user, reference.head()),
                   engine.query(user, {}, reference.head()), 1e-9),
              "")
        << "user " << user;
  }
}

// The scenario's expectations rest on no guess about batching or partition ownership.
void assert_decidable(const ReferenceTopic& reference) {
  const std::vector<std::string> undecidable = reference.undecidable();
  ASSERT_TRUE(undecidable.empty()) << fmt::format("{}", fmt::join(undecidable, "\n"));
}

// The skipped messages copied to `topic`, (partition, offset) -> the field their error names.
std::map<std::pair<int, std::int64_t>, std::string> dead_letter_faults(MockKafka& kafka,
                                                                       const std::string& topic) {
  std::map<std::pair<int, std::int64_t>, std::string> out;
  for (const auto& m : kafka.read_all(topic, 1)) {
    out[{std::stoi(m.headers.at("signalbox-partition")),
         std::stoll(m.headers.at("signalbox-offset"))}] = fault_of(m.headers.at("signalbox-error"));
  }
  return out;
}

// All messages consumed and every one of them settled (taken or skipped) by `ingest`.
bool settled(const KafkaIngest& ingest, std::uint64_t messages) {
  KafkaIngestStats s = ingest.stats();
  return s.messages >= messages &&
         s.accepted + s.rejected_undecodable + s.rejected_invalid + s.rejected_late == s.messages;
}

std::int64_t sum_committed(const std::map<std::int32_t, std::int64_t>& committed) {
  std::int64_t sum = 0;
  for (const auto& [partition, offset] : committed) sum += std::max<std::int64_t>(0, offset);
  return sum;
}

TEST(KafkaIngest, EventsOverPartitionsCountAsTheReferenceSaysAndBadMessagesAreSkipped) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 4);
  kafka.create_topic("user-events-dead", 1);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kStable);
  std::vector<Event> events = make_events(world, 2000);
  const std::size_t half = events.size() / 2;

  // Good events, then bad messages in every partition, then more good events behind them.
  publish_events(kafka, reference, {events.begin(), events.begin() + half});
  for (int p = 0; p < kafka.partitions(); ++p) publish(kafka, reference, p, "this is not JSON");
  publish(kafka, reference, 0, "");
  publish(kafka, reference, 1, R"({"user_id": 1001, "ts": "soon", "action": "click"})");
  publish(kafka, reference, 2,
          R"({"user_id": 1002, "ts": 1704067200000, "action": "Not Allowed"})");
  publish_events(kafka, reference, {events.begin() + half, events.end()});
  // Far behind its partition's stream time once the events above are in: late.
  publish_events(kafka, reference, {world.make_event(kUsers, kStart - 40 * kDayMs, 999999)});
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_EQ(want.late, 1u);
  ASSERT_EQ(want.undecodable, static_cast<std::uint64_t>(kafka.partitions()) + 1);
  ASSERT_GT(want.duplicates, 0u);

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.dead_letter_topic = "user-events-dead";
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, want.messages); }))
      << "consumed " << ingest.stats().messages << " of " << want.messages;

  KafkaIngestStats s = ingest.stats();
  EXPECT_EQ(compare_counts(want, counts_of(s)), "");
  EXPECT_GT(s.commits, 0u);
  expect_reference_answers(world, reference, engine);

  // Every partition's offsets are committed up to its end, so its lag drops to zero.
  ASSERT_TRUE(wait_until([&] {
    std::map<std::int32_t, std::int64_t> lag = ingest.lag();
    if (lag.size() != static_cast<std::size_t>(kafka.partitions())) return false;
    for (const auto& [partition, value] : lag)
      if (value != 0) return false;
    return true;
  }));
  // Skipped exactly the messages the reference rejects, each for the same field.
  EXPECT_EQ(dead_letter_faults(kafka, "user-events-dead"), reference.rejected);

  std::string metrics = ingest.registry().expose();
  EXPECT_NE(metrics.find(fmt::format("signalbox_kafka_messages_total{{topic=\"user-events\"}} {}\n",
                                     want.messages)),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(fmt::format("signalbox_kafka_messages_rejected_total{{topic=\"user-events\","
                               "reason=\"invalid\"}} {}\n",
                               want.invalid)),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("signalbox_kafka_consumer_lag{topic=\"user-events\",partition=\"3\"} 0\n"),
            std::string::npos)
      << metrics;
  // Freshness is observed for each event taken (duplicates included), none skipped.
  EXPECT_NE(
      metrics.find(fmt::format(
          "signalbox_kafka_freshness_seconds_count{{topic=\"user-events\"}} {}\n", want.accepted)),
      std::string::npos)
      << metrics;

  ingest.stop();
  ingest.wait();
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")), static_cast<std::int64_t>(want.messages));
}

// A partition 50 days ahead of another (a topic filled partition by partition, or one
// partition catching up after an outage): the lagging partition's events are on time for
// their own partition and must all count, once, whichever partition the consumer reads first.
TEST(KafkaIngest, APartitionRunningAheadDoesNotMakeAnothersEventsLate) {
  World world(3 * kDayMs, kWindows);  // late horizon: the longest window, 40 days
  MockKafka kafka("user-events", 2);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kStable);
  std::vector<Event> ahead, behind;
  for (std::size_t i = 0; i < 1500; ++i) {
    ahead.push_back(
        world.make_event(kUsers, kStart + 50 * kDayMs + static_cast<TimeMs>(i) * kMinuteMs, i));
    behind.push_back(
        world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * 4 * kMinuteMs, 10000 + i));
  }
  // Each partition in time order of its own, as a producer would write it. The lagging
  // partition's first events and all of the other's come first; once the consumer has taken
  // them (stream time is then 50 days on), the rest of the lagging partition arrives, with
  // copies of its first events re-sent.
  const std::size_t first = 50;
  for (const Event& e : ahead) publish(kafka, reference, 0, event_json(e));
  for (std::size_t i = 0; i < first; ++i) publish(kafka, reference, 1, event_json(behind[i]));
  kafka.flush();
  const std::uint64_t first_messages = reference.counts().messages;

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngest ingest(engine, options_for(kafka, "signalbox"));
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, first_messages); }))
      << "consumed " << ingest.stats().messages << " of " << first_messages;
  ASSERT_GT(engine.stream_time(), kStart + 50 * kDayMs);
  for (std::size_t i = first; i < behind.size(); ++i)
    publish(kafka, reference, 1, event_json(behind[i]));
  for (std::size_t i = 0; i < 100; ++i) publish(kafka, reference, 1, event_json(behind[i]));
  kafka.flush();
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  // The reference's own reading of the rule: nothing is late, the copies are duplicates.
  ASSERT_EQ(want.late, 0u);
  ASSERT_EQ(want.duplicates, 100u);
  ASSERT_TRUE(wait_until([&] { return settled(ingest, want.messages); }))
      << "consumed " << ingest.stats().messages << " of " << want.messages;
  EXPECT_EQ(compare_counts(want, counts_of(ingest.stats())), "");
  expect_reference_answers(world, reference, engine);
  ingest.stop();
  ingest.wait();
}

// A consumer of a two-partition topic started by the test, which produces while it consumes,
// and the reference beside it.
class LiveKafkaIngest : public ::testing::Test {
 protected:
  // The counts and every answer the reference's, then `ingest` stopped.
  void expect_reference_and_stop(KafkaIngest& ingest) {
    assert_decidable(reference);
    EXPECT_EQ(compare_counts(reference.counts(), counts_of(ingest.stats())), "");
    expect_reference_answers(world, reference, engine);
    ingest.stop();
    ingest.wait();
  }

  World world{3 * kDayMs, kWindows};
  MockKafka kafka{"user-events", 2};
  ReferenceTopic reference{world, kBatchMessages, Ownership::kStable};
  Engine engine{with_store(world.config, world.dir() / "kafka-store")};
  KafkaIngestOptions options = options_for(kafka, "signalbox");
};

// A batch closes as soon as nothing more is ready to read, not when its linger runs out: with a
// linger of 10 s, events produced one at a time to a running consumer are each visible within
// a fraction of it, and the answers are still the reference's.
TEST_F(LiveKafkaIngest, ABatchIsStoredOnceNothingMoreIsReadyNotAfterItsLinger) {
  options.batch_linger = std::chrono::seconds(10);
  KafkaIngest ingest(engine, options);
  ingest.start();
  const std::vector<Event> events = make_events(world, 5);
  for (std::size_t i = 0; i < events.size(); ++i) {
    publish_events(kafka, reference, {events[i]});
    const auto produced = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return settled(ingest, i + 1); }, std::chrono::seconds(30)))
        << "consumed " << ingest.stats().messages << " of " << i + 1;
    // The first waits for the group's assignment too; none after it waits for the linger.
    if (i > 0) {
      EXPECT_LT(std::chrono::steady_clock::now() - produced, std::chrono::seconds(5))
          << "event " << i;
    }
  }
  expect_reference_and_stop(ingest);
}

// Events arriving 10 ms apart are stored one batch each, but their offsets are committed at
// most every 100 ms (each commit waits for the group's answer), and all of them once the
// stream pauses.
TEST_F(LiveKafkaIngest, OffsetsOfBatchesStoredCloseTogetherShareACommit) {
  // The mock broker answers a fetch only when this wait expires (500 ms by default).
  options.rdkafka["fetch.wait.max.ms"] = "5";
  KafkaIngest ingest(engine, options);
  ingest.start();
  const std::vector<Event> events = make_events(world, 31);
  publish_events(kafka, reference, {events[0]});
  ASSERT_TRUE(wait_until([&] { return settled(ingest, 1); }));
  ASSERT_TRUE(wait_until([&] { return sum_committed(kafka.committed("signalbox")) == 1; }));
  const std::uint64_t commits_before = ingest.stats().commits;

  const auto begin = std::chrono::steady_clock::now();
  for (std::size_t i = 1; i < events.size(); ++i) {
    publish_events(kafka, reference, {events[i]});
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::uint64_t messages = reference.counts().messages;
  ASSERT_TRUE(wait_until([&] { return settled(ingest, messages); }));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - begin);
  const std::uint64_t commits = ingest.stats().commits - commits_before;
  EXPECT_LE(commits, static_cast<std::uint64_t>(elapsed.count() / 100 + 2))
      << "over " << elapsed.count() << " ms";
  ASSERT_TRUE(wait_until([&] {
    return sum_committed(kafka.committed("signalbox")) == static_cast<std::int64_t>(messages);
  }));
  EXPECT_GT(ingest.stats().commits, commits_before);
  expect_reference_and_stop(ingest);
}

// The mirror image: an event far behind its own partition's stream time is late even while
// another partition, still far behind, keeps the topic's slowest stream time low.
TEST(KafkaIngest, AnEventFarBehindItsOwnPartitionIsLateWhateverTheOthersDo) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  kafka.create_topic("user-events-dead", 1);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kStable);
  std::size_t serial = 0;
  // Partition 0 runs 50 days on, partition 1 stays at the start; both in time order.
  for (std::size_t i = 0; i < 300; ++i) {
    publish(kafka, reference, 0,
            event_json(world.make_event(
                kUsers, kStart + 50 * kDayMs + static_cast<TimeMs>(i) * kMinuteMs, serial++)));
    publish(kafka, reference, 1,
            event_json(
                world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * kMinuteMs, serial++)));
  }
  // Behind partition 0's stream time by more than the late horizon (though not behind
  // partition 1's): late. Then more on-time events of partition 0 behind them.
  for (std::size_t i = 0; i < 5; ++i)
    publish(
        kafka, reference, 0,
        event_json(world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * kHourMs, serial++)));
  for (std::size_t i = 0; i < 100; ++i) {
    publish(
        kafka, reference, 0,
        event_json(world.make_event(
            kUsers, kStart + 50 * kDayMs + static_cast<TimeMs>(300 + i) * kMinuteMs, serial++)));
  }
  kafka.flush();
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_EQ(want.late, 5u);

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.dead_letter_topic = "user-events-dead";
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, want.messages); }))
      << "consumed " << ingest.stats().messages << " of " << want.messages;
  EXPECT_EQ(compare_counts(want, counts_of(ingest.stats())), "");
  expect_reference_answers(world, reference, engine);
  ASSERT_TRUE(wait_until([&] {
    return sum_committed(kafka.committed("signalbox")) == static_cast<std::int64_t>(want.messages);
  }));
  EXPECT_EQ(dead_letter_faults(kafka, "user-events-dead"), reference.rejected);
  ingest.stop();
  ingest.wait();
}

TEST(KafkaIngest, AStoppedConsumerHandsOverWithoutLossAndRedeliveryChangesNothing) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 3);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kMoving);
  std::vector<Event> events = make_events(world, 2400);
  const std::size_t half = events.size() / 2;
  publish_events(kafka, reference, {events.begin(), events.begin() + half});

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.batch_messages = 20;
  KafkaIngest first(engine, options);
  first.start();
  ASSERT_TRUE(wait_until([&] { return first.stats().accepted >= 200; }));
  first.stop();
  first.wait();
  // The batch in flight at stop() was finished: what was consumed is ingested and committed.
  KafkaIngestStats before = first.stats();
  EXPECT_TRUE(settled(first, 0));
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")),
            static_cast<std::int64_t>(before.messages));

  publish_events(kafka, reference, {events.begin() + half, events.end()});
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_GT(want.duplicates, 0u);
  KafkaIngest second(engine, options);
  second.start();
  ASSERT_TRUE(wait_until([&] { return settled(second, want.messages - before.messages); }))
      << second.stats().messages << " + " << before.messages << " of " << want.messages;
  second.stop();
  second.wait();
  // A clean hand-over: the second consumer started where the first committed, and the two
  // together did exactly what the reference says one would have.
  EXPECT_EQ(second.stats().messages, want.messages - before.messages);
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")), static_cast<std::int64_t>(want.messages));
  EXPECT_EQ(compare_counts(want, counts_of(before) + counts_of(second.stats())), "");
  expect_reference_answers(world, reference, engine);

  // Everything delivered again (a new group reads from the beginning): every event taken is
  // now a duplicate, and the answers stay the reference's.
  KafkaIngest replay(engine, options_for(kafka, "replay"));
  replay.start();
  ASSERT_TRUE(wait_until([&] { return settled(replay, want.messages); }));
  replay.stop();
  replay.wait();
  ReferenceTopic::Counts again = want;
  again.duplicates = want.accepted;
  EXPECT_EQ(compare_counts(again, counts_of(replay.stats())), "");
  expect_reference_answers(world, reference, engine);
}

// Events stored once each, however often they were delivered: the consumers' counts, summed,
// against the reference's, where re-deliveries may have added messages and duplicates.
std::string compare_distinct(const ReferenceTopic::Counts& want,
                             const ReferenceTopic::Counts& got) {
  std::string out;
  if (got.messages < want.messages)
    out += fmt::format("consumed {} messages of {}; ", got.messages, want.messages);
  if (got.accepted - got.duplicates != want.accepted - want.duplicates)
    out += fmt::format("stored {} distinct events, the reference {}; ",
                       got.accepted - got.duplicates, want.accepted - want.duplicates);
  auto skipped = [&](const char* reason, std::uint64_t w, std::uint64_t g) {
    if (g < w || (w == 0 && g != 0))
      out += fmt::format("{}: the reference {}, the consumers {}; ", reason, w, g);
  };
  skipped("undecodable", want.undecodable, got.undecodable);
  skipped("invalid", want.invalid, got.invalid);
  skipped("late", want.late, got.late);
  return out;
}

TEST(KafkaIngest, ARebalanceWhileConsumingLosesNothing) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 4);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kMoving);
  std::vector<Event> events = make_events(world, 3000);
  for (const Event& e : events)
    reference.take_text(
        static_cast<int>(e.user_id % static_cast<std::uint64_t>(kafka.partitions())),
        event_json(e));
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.batch_messages = 20;
  KafkaIngest first(engine, options);
  KafkaIngest second(engine, options);
  first.start();
  // Events keep arriving while the second member joins and the partitions are split.
  std::thread producer([&] {
    for (std::size_t i = 0; i < events.size(); ++i) {
      kafka.produce_for_user(events[i].user_id, event_json(events[i]));
      if (i % 100 == 99) {
        kafka.flush();
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
      }
    }
    kafka.flush();
  });
  bool first_took_some = wait_until([&] { return first.stats().accepted >= 100; });
  second.start();
  producer.join();
  ASSERT_TRUE(first_took_some);
  auto all_committed = [&] {
    return sum_committed(kafka.committed("signalbox")) == static_cast<std::int64_t>(want.messages);
  };
  ASSERT_TRUE(wait_until(all_committed, std::chrono::seconds(20)))
      << first.stats().messages << " + " << second.stats().messages;
  first.stop();
  second.stop();
  first.wait();
  second.wait();
  KafkaIngestStats a = first.stats(), b = second.stats();
  EXPECT_GT(b.accepted, 0u) << "the second member never got a partition";
  // Every distinct event stored once, whatever was delivered twice around the rebalance.
  EXPECT_EQ(compare_distinct(want, counts_of(a) + counts_of(b)), "");
  expect_reference_answers(world, reference, engine);
}

TEST(KafkaIngest, ABrokerOutageIsRiddenOut) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  // The outage may cost the consumer its group membership: partitions may be assigned anew.
  ReferenceTopic reference(world, kBatchMessages, Ownership::kMoving);
  std::vector<Event> events = make_events(world, 800);
  const std::size_t half = events.size() / 2;
  publish_events(kafka, reference, {events.begin(), events.begin() + half});
  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.rdkafka["reconnect.backoff.max.ms"] = "500";
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, reference.counts().messages); }));

  // The broker goes away: the consumer reports it and keeps trying.
  ASSERT_EQ(rd_kafka_mock_broker_set_down(kafka.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(wait_until([&] { return ingest.stats().client_errors > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(rd_kafka_mock_broker_set_up(kafka.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);

  publish_events(kafka, reference, {events.begin() + half, events.end()});
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_TRUE(wait_until([&] {
    return sum_committed(kafka.committed("signalbox")) ==
               static_cast<std::int64_t>(want.messages) &&
           settled(ingest, want.messages);
  })) << ingest.stats().messages
      << " of " << want.messages;
  ingest.stop();
  ingest.wait();
  EXPECT_EQ(compare_distinct(want, counts_of(ingest.stats())), "");
  expect_reference_answers(world, reference, engine);
}

TEST(KafkaIngest, OffsetsAreCommittedOnlyAfterTheEngineStoredTheBatch) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kStable);
  publish_events(kafka, reference, make_events(world, 600));
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  Config config = with_store(world.config, world.dir() / "kafka-store");
  { Engine create(config); }

  {
    // A read-only engine refuses every write: nothing may be committed, however long it runs.
    Engine::Options read_only;
    read_only.read_only = true;
    Engine failing(config, read_only);
    KafkaIngest ingest(failing, options_for(kafka, "signalbox"));
    ingest.start();
    ASSERT_TRUE(wait_until([&] { return ingest.stats().ingest_failures >= 2; }));
    ingest.stop();
    ingest.wait();
    EXPECT_EQ(ingest.stats().accepted, 0u);
    EXPECT_EQ(ingest.stats().commits, 0u);
  }
  for (const auto& [partition, offset] : kafka.committed("signalbox"))
    EXPECT_EQ(offset, -1) << "partition " << partition;

  // The next consumer of the group starts from the beginning: nothing was lost.
  Engine engine(config);
  KafkaIngest ingest(engine, options_for(kafka, "signalbox"));
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, want.messages); }));
  ingest.stop();
  ingest.wait();
  EXPECT_EQ(compare_counts(want, counts_of(ingest.stats())), "");
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")), static_cast<std::int64_t>(want.messages));
  expect_reference_answers(world, reference, engine);
}

v1::Event to_proto(const Event& e) {
  v1::Event p;
  p.set_user_id(e.user_id);
  p.set_ts(e.ts);
  p.set_action(e.action);
  p.set_event_id(e.event_id);
  if (e.item_id) p.set_item_id(*e.item_id);
  if (e.query) p.set_query(*e.query);
  for (const auto& [name, value] : e.attrs) {
    v1::AttrValue& v = (*p.mutable_attrs())[name];
    if (const auto* s = std::get_if<std::string>(&value))
      v.set_string_value(*s);
    else
      v.set_number_value(std::get<double>(value));
  }
  return p;
}

// A protobuf message judged by the test's own reading of docs/kafka.md: no signalbox.v1.Event
// is undecodable (`protobuf`); else the fields it sets are the event's JSON fields, under the
// same rules, and an AttrValue holding neither a string nor a number is neither (JSON null).
JudgedEvent judge_proto(const std::string& bytes, const Config& config) {
  v1::Event p;
  if (!p.ParseFromString(bytes)) return {std::nullopt, "protobuf"};
  std::vector<std::string> fields;
  auto text = [](const std::string& s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  if (p.has_user_id()) fields.push_back(fmt::format(R"("user_id":{})", p.user_id()));
  if (p.has_ts()) fields.push_back(fmt::format(R"("ts":{})", p.ts()));
  if (p.has_action()) fields.push_back(R"("action":)" + text(p.action()));
  if (p.has_event_id()) fields.push_back(R"("event_id":)" + text(p.event_id()));
  if (p.has_item_id()) fields.push_back(R"("item_id":)" + text(p.item_id()));
  if (p.has_query()) fields.push_back(R"("query":)" + text(p.query()));
  if (!p.attrs().empty()) {
    std::vector<std::string> attrs;
    for (const auto& [name, value] : p.attrs()) {
      std::string v = value.kind_case() == v1::AttrValue::kStringValue ? text(value.string_value())
                      : value.kind_case() == v1::AttrValue::kNumberValue
                          ? fmt::format("{}", value.number_value())
                          : "null";
      attrs.push_back(text(name) + ":" + v);
    }
    fields.push_back(fmt::format(R"("attrs":{{{}}})", fmt::join(attrs, ",")));
  }
  return judge_event("{" + fmt::format("{}", fmt::join(fields, ",")) + "}", wall_clock_ms(),
                     config.event_store.max_future_skew);
}

TEST(KafkaIngest, ProtobufEventsFollowTheSameRulesAsJson) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  kafka.create_topic("user-events-dead", 1);
  ReferenceTopic reference(world, kBatchMessages, Ownership::kStable);
  auto publish_proto = [&](int partition, const std::string& bytes) {
    kafka.produce(partition, bytes);
    reference.take_judged(partition, judge_proto(bytes, world.config));
  };
  std::vector<Event> events = make_events(world, 500);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i == events.size() / 2) {
      publish_proto(0, "\xff\xff\xff\xff");  // no protobuf at all
      v1::Event no_ts = to_proto(events[i]);
      no_ts.clear_ts();
      publish_proto(1, no_ts.SerializeAsString());
      v1::Event bad_attr = to_proto(events[i]);
      (*bad_attr.mutable_attrs())["empty"];  // neither string nor number
      publish_proto(1, bad_attr.SerializeAsString());
    }
    publish_proto(static_cast<int>(events[i].user_id % 2), to_proto(events[i]).SerializeAsString());
  }
  kafka.flush();
  assert_decidable(reference);
  const ReferenceTopic::Counts& want = reference.counts();
  ASSERT_EQ(want.undecodable, 1u);
  ASSERT_EQ(want.invalid, 2u);

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.format = KafkaFormat::kProtobuf;
  options.dead_letter_topic = "user-events-dead";
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, want.messages); }))
      << "consumed " << ingest.stats().messages << " of " << want.messages;
  ASSERT_TRUE(wait_until([&] {
    return sum_committed(kafka.committed("signalbox")) == static_cast<std::int64_t>(want.messages);
  }));
  ingest.stop();
  ingest.wait();
  EXPECT_EQ(compare_counts(want, counts_of(ingest.stats())), "");
  EXPECT_EQ(dead_letter_faults(kafka, "user-events-dead"), reference.rejected);
  expect_reference_answers(world, reference, engine);
}

TEST(KafkaIngestOptions, ReadFromTheIngestEntryWithErrorsNamingTheKey) {
  auto parse = [](const std::string& entry) {
    Config config = parse_config(
        "ingest:\n  - " + entry + "\nsignals:\n  - { name: n, aggregator: count }\n", "cfg.yaml");
    return KafkaIngestOptions::from_config(config.ingest.at(0), config);
  };
  auto error_of = [&](const std::string& entry) -> std::string {
    try {
      parse(entry);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  KafkaIngestOptions o = parse(
      "{ kind: kafka, brokers: 'h1:9092,h2:9092', topic: ev, group: g, format: json, "
      "batch_size: 10, batch_linger: 2ms, rdkafka.session.timeout.ms: 6000 }");
  EXPECT_EQ(o.brokers, "h1:9092,h2:9092");
  EXPECT_EQ(o.topic, "ev");
  EXPECT_EQ(o.group, "g");
  EXPECT_EQ(o.format, KafkaFormat::kJson);
  EXPECT_EQ(o.batch_messages, 10u);
  EXPECT_EQ(o.batch_linger, std::chrono::milliseconds(2));
  EXPECT_EQ(o.rdkafka.at("session.timeout.ms"), "6000");
  KafkaIngestOptions defaults = parse("{ kind: kafka, brokers: b:1, topic: ev }");
  EXPECT_EQ(defaults.group, "signalbox");
  EXPECT_EQ(defaults.batch_messages, 8192u);

  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, batch: 5 }"),
            "cfg.yaml:2: ingest[0].batch: unknown key (use brokers, topic, group, format, "
            "batch_size, batch_linger, dead_letter_topic or rdkafka.<librdkafka property>)");
  EXPECT_EQ(
      parse("{ kind: kafka, brokers: b:1, topic: t, dead_letter_topic: t-dead }").dead_letter_topic,
      "t-dead");
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, dead_letter_topic: t }"),
            "cfg.yaml:2: ingest[0].dead_letter_topic: must differ from topic");
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, grop: g }"),
            "cfg.yaml:2: ingest[0].grop: unknown key for ingest kind kafka (did you mean group?)");
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, batch_lingr: 5ms }"),
            "cfg.yaml:2: ingest[0].batch_lingr: unknown key for ingest kind kafka (did you mean "
            "batch_linger?)");
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, batch_size: 200000 }"),
            "cfg.yaml:2: ingest[0].batch_size: must be between 1 and 100000");
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, batch_linger: 1m }"),
            "cfg.yaml:2: ingest[0].batch_linger: must be between 0ms and 10s");
  EXPECT_EQ(parse("{ kind: kafka, brokers: b:1, topic: t, format: protobuf }").format,
            KafkaFormat::kProtobuf);
  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, rdkafka.enable.auto.commit: true }"),
            "cfg.yaml:2: ingest[0].rdkafka.enable.auto.commit: is set by Signalbox (use brokers "
            "and group; offsets are always committed by Signalbox after ingest)");
  EXPECT_NE(error_of("{ kind: kafka, brokers: b:1, topic: t, rdkafka.no.such.property: 1 }")
                .find("cfg.yaml:2: ingest[0].rdkafka.no.such.property: "),
            std::string::npos);
}

}  // namespace
}  // namespace signalbox::testing
