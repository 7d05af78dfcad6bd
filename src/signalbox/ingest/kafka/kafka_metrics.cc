#include "signalbox/ingest/kafka/kafka_metrics.h"

#include "signalbox/metrics/registry.h"

namespace signalbox {

namespace {

prometheus::Counter& topic_counter(MetricsRegistry& registry, const std::string& topic,
                                   const std::string& name, const std::string& help) {
  return registry.counters(name, help, {"topic"}).Add({{"topic", topic}});
}

prometheus::Counter& rejected_counter(MetricsRegistry& registry, const std::string& topic,
                                      const std::string& reason) {
  return registry
      .counters("signalbox_kafka_messages_rejected_total",
                "Kafka messages skipped: undecodable (no event at all), invalid (a field breaks "
                "a rule) or late (more than the late horizon behind stream time).",
                {"topic", "reason"})
      .Add({{"topic", topic}, {"reason", reason}});
}

}  // namespace

KafkaMetrics::KafkaMetrics(MetricsRegistry& registry, const std::string& topic)
    : messages(topic_counter(registry, topic, "signalbox_kafka_messages_total",
                             "Kafka messages consumed, bad ones included.")),
      accepted(topic_counter(registry, topic, "signalbox_kafka_events_accepted_total",
                             "Events from Kafka taken by the engine, duplicates included.")),
      duplicates(topic_counter(
          registry, topic, "signalbox_kafka_events_duplicate_total",
          "Events from Kafka that were already stored (re-deliveries), so changed nothing.")),
      undecodable(rejected_counter(registry, topic, "undecodable")),
      invalid(rejected_counter(registry, topic, "invalid")),
      late(rejected_counter(registry, topic, "late")),
      commits(topic_counter(registry, topic, "signalbox_kafka_commits_total",
                            "Offset commits after an ingested batch.")),
      commit_failures(topic_counter(
          registry, topic, "signalbox_kafka_commit_failures_total",
          "Offset commits refused (e.g. during a rebalance); their messages come again.")),
      ingest_failures(topic_counter(registry, topic, "signalbox_kafka_ingest_failures_total",
                                    "Batches the engine failed to store; retried, offsets not "
                                    "committed.")),
      client_errors(topic_counter(
          registry, topic, "signalbox_kafka_client_errors_total",
          "Errors reported by the Kafka client (broker unreachable, ...); it keeps retrying.")),
      freshness(registry
                    .histograms("signalbox_kafka_freshness_seconds",
                                "Time from a message's Kafka timestamp to the commit of its "
                                "ingested event.",
                                {"topic"})
                    .series({topic})) {}

prometheus::Counter& KafkaMetrics::skipped(RejectReason reason) {
  switch (reject_reason_info(reason).kind) {
    case RejectClass::kUndecodable:
      return undecodable;
    case RejectClass::kInvalid:
      return invalid;
    case RejectClass::kLate:
      break;
  }
  return late;
}

}  // namespace signalbox
