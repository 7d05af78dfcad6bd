#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "signalbox/config/config.h"
#include "signalbox/engine/engine.h"
#include "signalbox/process/service.h"

namespace signalbox {

class MetricsRegistry;

// How Kafka messages carry events.
enum class KafkaFormat {
  kJson,      // one JSON event (docs/events.md) per message
  kProtobuf,  // one serialized signalbox.v1.Event per message
};

// What one `ingest: - { kind: kafka, ... }` entry asks for (docs/kafka.md).
struct KafkaIngestOptions {
  // bootstrap.servers: comma-separated host:port list.
  std::string brokers;
  std::string topic;
  // The consumer group: every process of one group shares the topic's partitions.
  std::string group = "signalbox";
  KafkaFormat format = KafkaFormat::kJson;
  // Most messages handed to Engine::ingest at once, and the longest a batch keeps taking
  // messages once its first arrived. A batch closes as soon as nothing more is ready to read,
  // so it holds what arrived while the batch before it was prepared and stored: it fills only
  // while the consumer is behind (a backlog), where bigger batches amortise lookups and the
  // commit (8192 took 72 k events/s where 1000 took 45-57 k, docs/performance.md); the linger
  // bounds what that costs the first message's freshness.
  std::size_t batch_messages = 8192;
  std::chrono::milliseconds batch_linger{20};
  // Rejects events with ts > wall clock + this (event_store.max_future_skew).
  TimeMs max_future_skew = kHourMs;
  // Further librdkafka consumer properties (`rdkafka.<property>` keys of the entry), applied
  // after Signalbox's own defaults so they can override them, except the commit settings
  // delivery depends on (enable.auto.commit, enable.auto.offset.store), which are refused.
  std::map<std::string, std::string> rdkafka;
  // When set, every skipped message (undecodable, invalid, late) is copied to this topic of
  // the same brokers, with the reason in a header (see dead_letter.h), before its offset is
  // committed.
  std::string dead_letter_topic;
  // Where the consumer's metrics go (KafkaMetrics, the lag and dead letters, labelled by
  // topic), and where every batch is also counted in the shared per-source ingest metrics
  // (signalbox_events_total{source="kafka"}, ...): the server's registry, exposed by GET
  // /metrics. Must outlive the KafkaIngest. Null: a registry of the KafkaIngest's own, which
  // nothing exposes (registry() still reads it).
  MetricsRegistry* metrics = nullptr;

  // The options of one ingest entry of kind kafka, as the loader read it: parse_config has
  // checked its keys and values (config/ingest_kinds.cc). Throws ConfigError naming the file,
  // line and key for what only librdkafka judges: an rdkafka.<property> it rejects.
  static KafkaIngestOptions from_config(const IngestConfig& entry, const Config& config);
};

// Counters since construction. Events are counted once per delivery: a message re-delivered
// after a rebalance or restart counts again (as a duplicate when it was stored before).
struct KafkaIngestStats {
  std::uint64_t messages = 0;              // messages consumed (good and bad)
  std::uint64_t accepted = 0;              // events taken by the engine, duplicates included
  std::uint64_t duplicates = 0;            // accepted events that were already stored
  std::uint64_t rejected_undecodable = 0;  // not a JSON object / not a protobuf Event
  std::uint64_t rejected_invalid = 0;      // decoded, but a field breaks a rule of docs/events.md
  std::uint64_t rejected_late = 0;         // more than the late horizon behind stream time
  std::uint64_t commits = 0;               // successful offset commits
  std::uint64_t commit_failures = 0;       // refused commits (their messages will come again)
  std::uint64_t ingest_failures = 0;       // batches the engine failed on (retried)
  std::uint64_t client_errors = 0;         // errors reported by librdkafka (broker down, ...)
  std::uint64_t dead_letters = 0;          // skipped messages sent to the dead-letter topic
  std::uint64_t dead_letter_failures = 0;  // ... that the broker never acknowledged
};

// Consumes one Kafka topic in a consumer group and ingests its events into an Engine, with
// at-least-once delivery: a batch's offsets are committed only after Engine::ingest returned
// for it, so a crash re-delivers at most the uncommitted batches, and re-delivery is harmless
// because the engine takes an event twice only once (same user_id and event_id).
//
// A bad message (undecodable, invalid, too late) is counted, logged with its topic, partition
// and offset, copied to the dead-letter topic when one is configured, and skipped; it never
// stops consumption. Broker outages are logged and retried
// until stop(). A Service (process/service.h): start(), stop() and wait() may be called from
// any thread; the consumer runs on one thread of its own, which hands each batch to a storing
// task and, from a backlog, prepares the next batch while that one is stored (batches are
// stored and committed in the order they were read). stats(), lag() and the metrics' collection are
// thread-safe.
class KafkaIngest : public Service {
 public:
  // Builds the consumer; nothing connects before start(). `engine` must outlive this object.
  // Throws ConfigError when librdkafka refuses the configuration.
  KafkaIngest(Engine& engine, KafkaIngestOptions options);
  // Stops and joins the consumer when still running.
  ~KafkaIngest() override;
  KafkaIngest(const KafkaIngest&) = delete;
  KafkaIngest& operator=(const KafkaIngest&) = delete;

  // Subscribes and starts consuming on a new thread. Returns at once: an unreachable broker is
  // logged and retried, never an error here. Call at most once.
  void start() override;
  // Asks the consumer to stop: the batches in flight are ingested and committed, then the consumer
  // leaves its group. Returns at once; thread-safe; idempotent.
  void stop() override;
  // Waits until the consumer has stopped (after stop()): the batches in flight stored, and at
  // most 10 s after stop() for their commits and the leaving of the group (a group that does
  // not answer is left without a word). No-op when never started.
  void wait() override;

  const KafkaIngestOptions& options() const { return options_; }
  KafkaIngestStats stats() const;
  // Partitions assigned to this consumer now, with their lag: the high watermark minus the
  // committed offset (or the position before the first commit), -1 while unknown.
  std::map<std::int32_t, std::int64_t> lag() const;
  // Where the metrics go: KafkaIngestOptions::metrics, or the KafkaIngest's own registry.
  MetricsRegistry& registry();

 private:
  // The families read at scrape time: lag by partition, dead letters.
  std::vector<prometheus::MetricFamily> collect_scraped() const;

  struct Impl;
  KafkaIngestOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
