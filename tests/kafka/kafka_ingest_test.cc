// KafkaIngest in-process against librdkafka's mock cluster: events spread over partitions end
// up exactly as if posted over HTTP; bad messages are counted and skipped without holding up
// the good ones behind them; a stop hands over to the next consumer of the group without
// losing an event; offsets are committed only once the engine stored the batch.

#include "signalbox/ingest/kafka/kafka_ingest.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "json.h"
#include "signalbox/v1/signalbox.pb.h"
#include "mock_kafka.h"
#include "traffic.h"

namespace signalbox::testing {
namespace {

const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};
constexpr std::size_t kUsers = 25;

// Events one minute apart: two days in all, well inside the retention (3 days), so no event
// is late whatever order the partitions are consumed in.
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
  options.batch_messages = 50;
  options.batch_linger = std::chrono::milliseconds(5);
  // A quick rebalance when a member leaves or joins (the defaults wait 45 s).
  options.rdkafka = {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "300"}};
  return options;
}

void produce_events(MockKafka& kafka, const std::vector<Event>& events) {
  for (const Event& e : events) kafka.produce_for_user(e.user_id, event_json(e));
  kafka.flush();
}

// Every signal and view of every user, as of `as_of`, answered the same by both engines.
void expect_same_answers(Engine& expected, Engine& actual, TimeMs as_of) {
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    Value want = expected.query(user, {}, as_of);
    Value got = actual.query(user, {}, as_of);
    ASSERT_EQ(diff(want, got, 1e-9), "") << "user " << user;
  }
}

TimeMs head_of(const std::vector<Event>& events) {
  TimeMs head = 0;
  for (const Event& e : events) head = std::max(head, e.ts);
  return head;
}

// All messages consumed and every one of them settled (taken or skipped) by `ingest`.
bool settled(const KafkaIngest& ingest, std::uint64_t messages) {
  KafkaIngestStats s = ingest.stats();
  return s.messages >= messages && s.accepted + s.rejected_undecodable + s.rejected_invalid +
                                           s.rejected_late ==
                                       s.messages;
}

std::int64_t sum_committed(const std::map<std::int32_t, std::int64_t>& committed) {
  std::int64_t sum = 0;
  for (const auto& [partition, offset] : committed) sum += std::max<std::int64_t>(0, offset);
  return sum;
}

TEST(KafkaIngest, EventsOverPartitionsEqualHttpIngestAndBadMessagesAreSkipped) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 4);
  std::vector<Event> events = make_events(world, 2000);
  const std::size_t half = events.size() / 2;

  // Good events, then bad messages in every partition, then more good events behind them.
  produce_events(kafka, {events.begin(), events.begin() + half});
  for (int p = 0; p < kafka.partitions(); ++p) kafka.produce(p, "this is not JSON");
  kafka.produce(0, "");
  kafka.produce(1, R"({"user_id": 1001, "ts": "soon", "action": "click"})");
  kafka.produce(2, R"({"user_id": 1002, "ts": 1704067200000, "action": "Not Allowed"})");
  produce_events(kafka, {events.begin() + half, events.end()});
  // Far older than the retention horizon once the events above are in: late.
  Event late = world.make_event(kUsers, kStart - 40 * kDayMs, 999999);
  kafka.produce_for_user(late.user_id, event_json(late));
  kafka.flush();
  const std::uint64_t messages = events.size() + kafka.partitions() + 3 + 1;

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngest ingest(engine, options_for(kafka, "signalbox"));
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, messages); }))
      << "consumed " << ingest.stats().messages << " of " << messages;

  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  IngestResult posted = reference.ingest_json(events_body(events, false));
  ASSERT_TRUE(posted.rejected.empty());

  KafkaIngestStats s = ingest.stats();
  EXPECT_EQ(s.messages, messages);
  EXPECT_EQ(s.accepted, events.size());
  EXPECT_EQ(s.duplicates, posted.duplicates);
  EXPECT_EQ(s.rejected_undecodable, static_cast<std::uint64_t>(kafka.partitions()) + 1);
  EXPECT_EQ(s.rejected_invalid, 2u);
  EXPECT_EQ(s.rejected_late, 1u);
  EXPECT_GT(s.commits, 0u);
  expect_same_answers(reference, engine, head_of(events));

  // Every partition's offsets are committed up to its end, so its lag drops to zero.
  ASSERT_TRUE(wait_until([&] {
    std::map<std::int32_t, std::int64_t> lag = ingest.lag();
    if (lag.size() != static_cast<std::size_t>(kafka.partitions())) return false;
    for (const auto& [partition, value] : lag)
      if (value != 0) return false;
    return true;
  }));
  std::string metrics;
  append_kafka_prometheus({&ingest}, metrics);
  EXPECT_NE(metrics.find(fmt::format("signalbox_kafka_messages_total{{topic=\"user-events\"}} {}\n",
                                     messages)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("signalbox_kafka_messages_rejected_total{topic=\"user-events\","
                         "reason=\"invalid\"} 2\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("signalbox_kafka_consumer_lag{topic=\"user-events\",partition=\"3\"} 0\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(fmt::format("signalbox_kafka_freshness_seconds_count{{topic=\"user-events\"}} {}\n",
                                     events.size())),
            std::string::npos)
      << metrics;

  ingest.stop();
  ingest.join();
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")), static_cast<std::int64_t>(messages));
}

// A partition 50 days ahead of another (a topic filled partition by partition, or one
// partition catching up after an outage): the lagging partition's events are on time for
// their own partition and must all count, once, whichever partition the consumer reads first.
TEST(KafkaIngest, APartitionRunningAheadDoesNotMakeAnothersEventsLate) {
  World world(3 * kDayMs, kWindows);  // late horizon: the longest window, 40 days
  MockKafka kafka("user-events", 2);
  std::vector<Event> ahead, behind;
  for (std::size_t i = 0; i < 1500; ++i) {
    ahead.push_back(world.make_event(kUsers, kStart + 50 * kDayMs + static_cast<TimeMs>(i) * kMinuteMs, i));
    behind.push_back(world.make_event(kUsers, kStart + static_cast<TimeMs>(i) * 4 * kMinuteMs, 10000 + i));
  }
  // Each partition in time order of its own, as a producer would write it. The lagging
  // partition's first events and all of the other's come first; once the consumer has taken
  // them (stream time is then 50 days on), the rest of the lagging partition arrives, with
  // copies of its first events re-sent.
  const std::size_t first = 50;
  for (const Event& e : ahead) kafka.produce(0, event_json(e));
  for (std::size_t i = 0; i < first; ++i) kafka.produce(1, event_json(behind[i]));
  kafka.flush();

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngest ingest(engine, options_for(kafka, "signalbox"));
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, ahead.size() + first); }))
      << "consumed " << ingest.stats().messages << " of " << ahead.size() + first;
  ASSERT_GT(engine.stream_time(), kStart + 50 * kDayMs);
  for (std::size_t i = first; i < behind.size(); ++i) kafka.produce(1, event_json(behind[i]));
  for (std::size_t i = 0; i < 100; ++i) kafka.produce(1, event_json(behind[i]));
  kafka.flush();
  const std::uint64_t messages = ahead.size() + behind.size() + 100;
  ASSERT_TRUE(wait_until([&] { return settled(ingest, messages); }))
      << "consumed " << ingest.stats().messages << " of " << messages;
  KafkaIngestStats s = ingest.stats();
  EXPECT_EQ(s.rejected_late, 0u);
  EXPECT_EQ(s.accepted, messages);
  EXPECT_EQ(s.duplicates, 100u);

  // The brute-force reference over every event, each once.
  std::vector<RefEvent> all;
  for (const auto* list : {&ahead, &behind})
    for (const Event& e : *list) all.push_back(world.to_ref(e));
  const TimeMs head = head_of(ahead);
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user)
    ASSERT_EQ(diff(world.expected(all, user, head), engine.query(user, {}, head), 1e-9), "") << "user " << user;
  ingest.stop();
  ingest.join();
}

TEST(KafkaIngest, AStoppedConsumerHandsOverWithoutLossAndRedeliveryChangesNothing) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 3);
  std::vector<Event> events = make_events(world, 2400);
  const std::size_t half = events.size() / 2;
  produce_events(kafka, {events.begin(), events.begin() + half});

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.batch_messages = 20;
  KafkaIngest first(engine, options);
  first.start();
  ASSERT_TRUE(wait_until([&] { return first.stats().accepted >= 200; }));
  first.stop();
  first.join();
  // The batch in flight at stop() was finished: what was consumed is ingested and committed.
  KafkaIngestStats before = first.stats();
  EXPECT_TRUE(settled(first, 0));
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")),
            static_cast<std::int64_t>(before.messages));

  produce_events(kafka, {events.begin() + half, events.end()});
  KafkaIngest second(engine, options);
  second.start();
  ASSERT_TRUE(wait_until([&] {
    return settled(second, events.size() - before.messages);
  })) << second.stats().messages << " + " << before.messages << " of " << events.size();
  second.stop();
  second.join();
  // A clean hand-over: the second consumer started where the first committed.
  EXPECT_EQ(second.stats().messages, events.size() - before.messages);
  EXPECT_EQ(sum_committed(kafka.committed("signalbox")), static_cast<std::int64_t>(events.size()));

  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  IngestResult posted = reference.ingest_json(events_body(events, false));
  ASSERT_TRUE(posted.rejected.empty());
  EXPECT_EQ(before.duplicates + second.stats().duplicates, posted.duplicates);
  expect_same_answers(reference, engine, head_of(events));

  // Everything delivered again (a new group reads from the beginning): all duplicates.
  KafkaIngest replay(engine, options_for(kafka, "replay"));
  replay.start();
  ASSERT_TRUE(wait_until([&] { return settled(replay, events.size()); }));
  replay.stop();
  replay.join();
  EXPECT_EQ(replay.stats().accepted, events.size());
  EXPECT_EQ(replay.stats().duplicates, events.size());
  expect_same_answers(reference, engine, head_of(events));
}

TEST(KafkaIngest, ARebalanceWhileConsumingLosesNothing) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 4);
  std::vector<Event> events = make_events(world, 3000);
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
    return sum_committed(kafka.committed("signalbox")) == static_cast<std::int64_t>(events.size());
  };
  ASSERT_TRUE(wait_until(all_committed, std::chrono::seconds(20)))
      << first.stats().messages << " + " << second.stats().messages;
  first.stop();
  second.stop();
  first.join();
  second.join();
  KafkaIngestStats a = first.stats(), b = second.stats();
  EXPECT_GT(b.accepted, 0u) << "the second member never got a partition";

  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  IngestResult posted = reference.ingest_json(events_body(events, false));
  // Every distinct event stored once, whatever was delivered twice around the rebalance.
  EXPECT_EQ(a.accepted - a.duplicates + b.accepted - b.duplicates,
            events.size() - posted.duplicates);
  EXPECT_GE(a.messages + b.messages, events.size());
  expect_same_answers(reference, engine, head_of(events));
}

TEST(KafkaIngest, ABrokerOutageIsRiddenOut) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  std::vector<Event> events = make_events(world, 800);
  const std::size_t half = events.size() / 2;
  produce_events(kafka, {events.begin(), events.begin() + half});
  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.rdkafka["reconnect.backoff.max.ms"] = "500";
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, half); }));

  // The broker goes away: the consumer reports it and keeps trying.
  ASSERT_EQ(rd_kafka_mock_broker_set_down(kafka.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(wait_until([&] { return ingest.stats().client_errors > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(rd_kafka_mock_broker_set_up(kafka.cluster(), 1), RD_KAFKA_RESP_ERR_NO_ERROR);

  produce_events(kafka, {events.begin() + half, events.end()});
  ASSERT_TRUE(wait_until([&] { return settled(ingest, events.size()); }))
      << ingest.stats().messages << " of " << events.size();
  ingest.stop();
  ingest.join();
  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  reference.ingest_json(events_body(events, false));
  expect_same_answers(reference, engine, head_of(events));
}

TEST(KafkaIngest, OffsetsAreCommittedOnlyAfterTheEngineStoredTheBatch) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  std::vector<Event> events = make_events(world, 600);
  produce_events(kafka, events);
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
    ingest.join();
    EXPECT_EQ(ingest.stats().accepted, 0u);
    EXPECT_EQ(ingest.stats().commits, 0u);
  }
  for (const auto& [partition, offset] : kafka.committed("signalbox"))
    EXPECT_EQ(offset, -1) << "partition " << partition;

  Engine engine(config);
  KafkaIngest ingest(engine, options_for(kafka, "signalbox"));
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, events.size()); }));
  ingest.stop();
  ingest.join();
  EXPECT_EQ(ingest.stats().messages, events.size());
  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  reference.ingest_json(events_body(events, false));
  expect_same_answers(reference, engine, head_of(events));
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

TEST(KafkaIngest, ProtobufEventsFollowTheSameRulesAsJson) {
  World world(3 * kDayMs, kWindows);
  MockKafka kafka("user-events", 2);
  std::vector<Event> events = make_events(world, 500);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i == events.size() / 2) {
      kafka.produce(0, "\xff\xff\xff\xff");  // no protobuf at all
      v1::Event no_ts = to_proto(events[i]);
      no_ts.clear_ts();
      kafka.produce(1, no_ts.SerializeAsString());
      v1::Event bad_attr = to_proto(events[i]);
      (*bad_attr.mutable_attrs())["empty"];  // neither string nor number
      kafka.produce(1, bad_attr.SerializeAsString());
    }
    kafka.produce_for_user(events[i].user_id, to_proto(events[i]).SerializeAsString());
  }
  kafka.flush();
  const std::uint64_t messages = events.size() + 3;

  Engine engine(with_store(world.config, world.dir() / "kafka-store"));
  KafkaIngestOptions options = options_for(kafka, "signalbox");
  options.format = KafkaFormat::kProtobuf;
  KafkaIngest ingest(engine, options);
  ingest.start();
  ASSERT_TRUE(wait_until([&] { return settled(ingest, messages); }))
      << "consumed " << ingest.stats().messages << " of " << messages;
  ingest.stop();
  ingest.join();
  KafkaIngestStats s = ingest.stats();
  EXPECT_EQ(s.accepted, events.size());
  EXPECT_EQ(s.rejected_undecodable, 1u);
  EXPECT_EQ(s.rejected_invalid, 2u);

  Engine reference(with_store(world.config, world.dir() / "reference-store"));
  ASSERT_TRUE(reference.ingest_json(events_body(events, false)).rejected.empty());
  expect_same_answers(reference, engine, head_of(events));
}

TEST(KafkaIngestOptions, ReadFromTheIngestEntryWithErrorsNamingTheKey) {
  auto parse = [](const std::string& entry) {
    Config config = parse_config("ingest:\n  - " + entry +
                                     "\nsignals:\n  - { name: n, aggregator: count }\n",
                                 "cfg.yaml");
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
  EXPECT_EQ(defaults.batch_messages, 1000u);

  EXPECT_EQ(error_of("{ kind: kafka, brokers: b:1, topic: t, batch: 5 }"),
            "cfg.yaml:2: ingest[0].batch: unknown key (use brokers, topic, group, format, "
            "batch_size, batch_linger, dead_letter_topic or rdkafka.<librdkafka property>)");
  EXPECT_EQ(parse("{ kind: kafka, brokers: b:1, topic: t, dead_letter_topic: t-dead }").dead_letter_topic, "t-dead");
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
