#pragma once

#include <string>

#include <prometheus/counter.h>

#include "signalbox/event/reject_reason.h"
#include "signalbox/metrics/duration_histogram.h"

namespace signalbox {

class MetricsRegistry;

// The counters and freshness histogram of one Kafka consumer, labelled topic="<its topic>", in
// a MetricsRegistry (families shared by every consumer of the process), resolved once at
// construction: counting is an atomic addition. Documented in docs/kafka.md:
// signalbox_kafka_messages_total, signalbox_kafka_events_accepted_total,
// signalbox_kafka_events_duplicate_total, signalbox_kafka_messages_rejected_total{reason},
// signalbox_kafka_commits_total, signalbox_kafka_commit_failures_total,
// signalbox_kafka_ingest_failures_total, signalbox_kafka_client_errors_total and
// signalbox_kafka_freshness_seconds (store time minus the message timestamp). The lag and
// dead-letter counts are read at scrape time (KafkaIngest). Thread-safe.
struct KafkaMetrics {
  KafkaMetrics(MetricsRegistry& registry, const std::string& topic);

  // The rejected-messages counter of `reason`'s class: undecodable, invalid or late.
  prometheus::Counter& skipped(RejectReason reason);

  prometheus::Counter& messages;
  prometheus::Counter& accepted;
  prometheus::Counter& duplicates;
  prometheus::Counter& undecodable;
  prometheus::Counter& invalid;
  prometheus::Counter& late;
  prometheus::Counter& commits;
  prometheus::Counter& commit_failures;
  prometheus::Counter& ingest_failures;
  prometheus::Counter& client_errors;
  DurationHistogram& freshness;
};

}  // namespace signalbox
