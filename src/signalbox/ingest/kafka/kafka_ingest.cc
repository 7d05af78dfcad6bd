#include "signalbox/ingest/kafka/kafka_ingest.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/asio.h"
#include "signalbox/common/error.h"
#include "signalbox/event/decode.h"
#include "signalbox/event_proto/event_json.h"
#include "signalbox/ingest/kafka/dead_letter.h"
#include "signalbox/ingest/kafka/kafka_metrics.h"
#include "signalbox/metrics/collect_function.h"
#include "signalbox/metrics/ingest_metrics.h"
#include "signalbox/metrics/registry.h"
#include "signalbox/metrics/scrape_family.h"

namespace signalbox {
namespace {

// How long one poll waits when nothing arrives: the longest stop() waits for an idle consumer.
constexpr int kIdlePollMs = 100;
// How often the lag of an idle consumer is refreshed from the cached watermarks.
constexpr std::chrono::milliseconds kLagRefresh{500};
// Wait before retrying, while idle, a commit the group refused (during a rebalance).
constexpr std::chrono::milliseconds kCommitRetry{500};
// Least time between two offset commits while batches are stored. A commit waits for the
// group's answer on the consumer thread, and a batch closes as soon as nothing more is ready to
// read, so a steady stream brings many small batches; the offsets of those stored meanwhile go
// with the next commit. Their events are visible either way, and a crash before that commit
// delivers them again, which deduplication absorbs.
constexpr std::chrono::milliseconds kCommitInterval{100};
// Longest wait, before a commit, for the broker to acknowledge the batch's dead letters.
constexpr std::chrono::milliseconds kDeadLetterFlushWait{10000};
// Longest wait for the group to answer an offset commit. A synchronous commit waited as long
// as the coordinator was unreachable (16 s in a test's broker outage), and the consumer,
// stuck in it, neither polled nor reported the outage meanwhile. Past this wait the commit
// counts as refused and is made again with the next batch (offsets only move forward, so a
// late answer to the abandoned one changes nothing).
constexpr std::chrono::milliseconds kCommitWait{5000};
// Wait before retrying a batch the engine failed on (store unavailable, ...).
constexpr std::chrono::milliseconds kIngestRetryDelay{1000};
// Longest time from stop() to the consumer's end, for the last commits and leaving the group
// (the waits above are cut to what is left of it). librdkafka's close waits for every request
// of the group to be answered, and an offset commit made while the group's coordinator was
// gone is retried for ever (librdkafka issue 3740): a server being stopped never exited. Past
// this time the consumer is left behind without leaving its group; its partitions go to the
// other members once its session times out, and what it stored but did not commit is
// delivered again, which changes nothing.
constexpr std::chrono::milliseconds kStopWait{10000};
// The least time given to leaving the group, however little of kStopWait the commits left.
constexpr std::chrono::milliseconds kLeaveGroupLeast{1000};

// Owns an rd_kafka_conf_t until librdkafka takes it.
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// Keeps a consumer that could not leave its group (see kStopWait) until the process exits:
// destroying it would wait for the requests nobody answers. Its log is silenced first, the only
// callback librdkafka makes from its own threads (the others run when polled, which nobody
// does any more), since the ingest it reported for is gone. Thread-safe.
void leave_behind(rd_kafka_t* consumer) {
  // librdkafka's only way to change the level of a running client (marked deprecated in favour
  // of the configuration property, which cannot change once the client runs).
  rd_kafka_set_log_level(consumer, 0);
  static std::mutex mutex;
  // Never freed: reachable, the handles are not leaks to a leak checker at exit.
  static auto* left_behind = new std::vector<rd_kafka_t*>;
  std::lock_guard lock(mutex);
  left_behind->push_back(consumer);
}

// Sets one property; returns librdkafka's complaint, or "" when it took it.
std::string set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512] = {0};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
    return error[0] ? std::string(error) : fmt::format("librdkafka refused {}", name);
  return "";
}

// The consumer configuration of `options`: Signalbox's defaults, then the user's properties,
// then the settings at-least-once delivery depends on. Throws ConfigError on a refused property.
ConfPtr make_conf(const KafkaIngestOptions& options) {
  ConfPtr conf(rd_kafka_conf_new());
  auto set = [&](const std::string& name, const std::string& value) {
    std::string error = set_property(conf.get(), name, value);
    if (!error.empty())
      throw ConfigError(
          fmt::format("kafka ingest of topic {}: {}: {}", options.topic, name, error));
  };
  set("client.id", "signalbox");
  // A new group reads the topic from its beginning: nothing produced before the first start
  // is skipped.
  set("auto.offset.reset", "earliest");
  // Eager assignors: librdkafka 2.0 aborts when closing a cooperative-sticky consumer that never
  // got an assignment, and eager revocation is where the batch in flight gets committed.
  set("partition.assignment.strategy", "range,roundrobin");
  set("enable.partition.eof", "false");
  for (const auto& [name, value] : options.rdkafka) set(name, value);
  set("bootstrap.servers", options.brokers);
  set("group.id", options.group);
  set("enable.auto.commit", "false");
  set("enable.auto.offset.store", "false");
  return conf;
}

spdlog::level::level_enum spdlog_level(int syslog_level) {
  if (syslog_level <= 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  if (syslog_level <= 6) return spdlog::level::info;
  return spdlog::level::debug;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

KafkaIngestOptions KafkaIngestOptions::from_config(const IngestConfig& entry,
                                                   const Config& config) {
  // The loader checked the entry's keys and values against the kind's schema
  // (config/ingest_kinds.cc); what is left to judge is what only librdkafka can.
  KafkaIngestOptions options;
  const ConfigParams& params = entry.params;
  auto text = [&](std::string_view key) -> const ConfigParam* {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
  };
  for (const auto& [key, param] : params) {
    if (!key.starts_with("rdkafka.")) continue;
    std::string property = key.substr(8);
    ConfPtr scratch(rd_kafka_conf_new());
    std::string error = set_property(scratch.get(), property, param.text);
    if (!error.empty()) throw_config_error(param.where, key, error);
    options.rdkafka[property] = param.text;
  }
  options.brokers = text("brokers")->text;
  options.topic = text("topic")->text;
  if (const ConfigParam* group = text("group")) options.group = group->text;
  if (const ConfigParam* dead = text("dead_letter_topic")) options.dead_letter_topic = dead->text;
  if (const ConfigParam* format = text("format")) {
    options.format = format->text == "protobuf" ? KafkaFormat::kProtobuf : KafkaFormat::kJson;
  }
  options.batch_messages = static_cast<std::size_t>(param_int(
      params, "batch_size", entry.where, static_cast<std::int64_t>(options.batch_messages)));
  options.batch_linger = std::chrono::milliseconds(
      param_duration(params, "batch_linger", entry.where, options.batch_linger.count()));
  options.max_future_skew = config.event_store.max_future_skew;
  make_conf(options);  // librdkafka's own checks of the combination, at config time
  return options;
}

struct KafkaIngest::Impl {
  Impl(Engine& engine, const KafkaIngestOptions& options)
      : engine(engine),
        options(options),
        decoder(DecodeOptions{options.max_future_skew}),
        own_registry(options.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
        registry(options.metrics ? *options.metrics : *own_registry),
        counters(registry, options.topic) {}

  // One message of a batch.
  struct Delivery {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestamp_ms = -1;  // -1: the message has none
  };

  // The messages polled for one Engine::ingest, and what their commit needs.
  struct Batch {
    std::vector<Event> events;         // decoded events
    std::vector<Delivery> deliveries;  // deliveries[i] carried events[i]
    Engine::Lanes lanes;               // the input of events[i] (its partition)
    // By partition: the index of its name in lanes.names, -1 while it has none.
    std::vector<std::int32_t> lane_of_partition;
    // With a dead-letter topic: the key and value of the message that carried events[i], in
    // case the engine refuses it as late.
    std::vector<std::pair<std::string, std::string>> messages;
    std::map<std::int32_t, std::int64_t> next_offsets;  // per partition: last offset + 1
    std::size_t message_count = 0;
    std::chrono::steady_clock::time_point received;  // when its first message was polled
    // Messages that yielded no event (index: the message's in the batch), for the server's
    // per-source reject counts.
    std::vector<RejectedEvent> decode_rejects;
  };

  // A batch being stored by the storing thread while the consumer thread polls, decodes and
  // prepares the next one; its offsets are committed once the task is done. The task reads the
  // batch (on the heap, so that it stays put) until it ends; its events are kept for a retry
  // when storing fails.
  struct Storing {
    std::unique_ptr<const Batch> batch;
    std::future<IngestResult> stored;
  };

  Engine& engine;
  const KafkaIngestOptions& options;
  rd_kafka_t* consumer = nullptr;
  std::thread thread;
  std::atomic<bool> stop_requested{false};
  // Notified by stop(), for wait_for_stop().
  std::mutex stop_mutex;
  std::condition_variable stop_changed;
  // stop() plus kStopWait; never until stop() is called.
  std::chrono::steady_clock::time_point stop_deadline =
      std::chrono::steady_clock::time_point::max();
  bool started = false;

  // Consumer thread only.
  EventDecoder decoder;
  v1::Event proto_event;   // format protobuf: the message being decoded
  std::string proto_json;  // ... and its fields as JSON, for the decoder's rules
  Batch polled;            // the batch being polled
  std::optional<Storing> storing;
  // Stores the batches large enough to overlap with the next one's preparing (started with the
  // first): one thread for the consumer's life, not a std::async thread a batch, whose end cost
  // mimalloc ~4 M instructions (docs/performance.md).
  std::optional<boost::asio::thread_pool> storing_thread;
  std::unique_ptr<DeadLetterProducer> dead_letters;
  std::set<std::int32_t> assigned;
  std::map<std::int32_t, std::int64_t> committed;  // per partition, by this consumer
  // Offsets ingested but whose commit was refused (during a rebalance): sent again with the
  // next commit, so a refused commit costs re-delivery only if the partition moves.
  std::map<std::int32_t, std::int64_t> uncommitted;
  std::uint64_t refused_in_a_row = 0;  // refused commits since the last success
  std::chrono::steady_clock::time_point last_commit_attempt;
  std::chrono::steady_clock::time_point last_lag_refresh;

  std::unique_ptr<MetricsRegistry> own_registry;  // when options.metrics is null
  MetricsRegistry& registry;
  KafkaMetrics counters;
  // The metrics read at scrape time: the lag and the dead-letter counts.
  std::unique_ptr<CollectFunction> scrape;
  mutable std::mutex lag_mutex;
  std::map<std::int32_t, std::int64_t> lag;  // guarded by lag_mutex

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<Impl*>(opaque)->rebalance(rk, err, partitions);
  }
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    Impl* self = static_cast<Impl*>(opaque);
    self->counters.client_errors.Increment();
    // librdkafka's own log already has a line for each failed connection.
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) return;
    spdlog::warn("kafka {}: {} ({}); retrying", self->options.topic,
                 rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)), reason);
  }
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    const Impl* self = static_cast<const Impl*>(rd_kafka_opaque(rk));
    spdlog::log(spdlog_level(level), "kafka {}: librdkafka {}: {}", self->options.topic, facility,
                text);
  }

  void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) {
    std::vector<std::int32_t> ids;
    for (int i = 0; i < partitions->cnt; ++i) ids.push_back(partitions->elems[i].partition);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      spdlog::info("kafka {}: assigned partitions [{}] in group {}", options.topic,
                   fmt::join(ids, ", "), options.group);
      rd_kafka_assign(rk, partitions);
      assigned.insert(ids.begin(), ids.end());
      std::vector<std::string> lanes;
      for (std::int32_t p : ids) lanes.push_back(lane(p));
      engine.open_lanes(lanes);
      for (std::int32_t p : ids) committed.erase(p);
    } else {
      if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        // Eager protocol: the partitions go to someone else once this returns, so what was
        // read from them is ingested and committed now, while this consumer still owns them.
        store_everything();
        if (!uncommitted.empty()) {
          spdlog::warn(
              "kafka {}: partitions [{}] revoked with offsets not committed; their "
              "newest messages will be delivered again, which changes nothing",
              options.topic, fmt::join(ids, ", "));
        }
        spdlog::info("kafka {}: revoked partitions [{}]", options.topic, fmt::join(ids, ", "));
      } else {
        spdlog::error("kafka {}: rebalance failed: {}", options.topic, rd_kafka_err2str(err));
      }
      rd_kafka_assign(rk, nullptr);
      release_lanes(assigned);
      assigned.clear();
      committed.clear();
      uncommitted.clear();
    }
    refresh_lag();
  }

  void run() {
    rd_kafka_poll_set_consumer(consumer);
    PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics.get());
    if (err) {
      spdlog::error("kafka {}: cannot subscribe: {}", options.topic, rd_kafka_err2str(err));
    } else {
      spdlog::info("kafka {}: consuming from {} in group {}", options.topic, options.brokers,
                   options.group);
    }
    while (!stop_requested.load()) {
      collect_batch();
      store_polled();
      if (std::chrono::steady_clock::now() - last_lag_refresh >= kLagRefresh) refresh_lag();
    }
    store_everything();
    if (leave_group()) {
      rd_kafka_destroy(consumer);
    } else {
      spdlog::warn(
          "kafka {}: the group did not answer the consumer leaving it within {} s of the stop; "
          "stopped without leaving, its partitions move to the other members when its session "
          "times out",
          options.topic, kStopWait.count() / 1000);
      leave_behind(consumer);
    }
    consumer = nullptr;
    {
      std::lock_guard lock(lag_mutex);
      lag.clear();
    }
    spdlog::info("kafka {}: stopped", options.topic);
  }

  // Leaves the group, waiting for what is left of kStopWait (at least kLeaveGroupLeast): the
  // revoke callback runs (nothing left to commit) and the partitions go to the other members at
  // once rather than after the session timeout. True when the consumer is closed.
  bool leave_group() {
    rd_kafka_queue_t* close_events = rd_kafka_queue_new(consumer);
    if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(consumer, close_events)) {
      spdlog::warn("kafka {}: close: {}", options.topic, rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::max(wait_left(kStopWait), kLeaveGroupLeast);
    bool closed = false;
    while (!(closed = rd_kafka_consumer_closed(consumer)) &&
           std::chrono::steady_clock::now() < deadline) {
      rd_kafka_event_t* event = rd_kafka_queue_poll(close_events, kIdlePollMs);
      if (!event) continue;
      if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
        rebalance(consumer, rd_kafka_event_error(event),
                  rd_kafka_event_topic_partition_list(event));
      }
      rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(close_events);
    return closed;
  }

  // Polls until the batch is full, nothing more is ready to read, or `batch_linger` passed since
  // its first message. Only an empty batch waits for a message, up to a poll interval (and not
  // while a batch is being stored, so that the stored one is finished at once when nothing else
  // is there). A batch thus holds what arrived while the one before was prepared and stored:
  // small and soon visible while the consumer keeps up, larger, up to `batch_size`, as it falls
  // behind. Waiting for a batch to fill would only delay its events, since what arrives
  // meanwhile forms the next batch anyway.
  void collect_batch() {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    while (polled.message_count < options.batch_messages && !stop_requested.load()) {
      const int timeout = polled.message_count > 0 || storing ? 0 : kIdlePollMs;
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, timeout);
      if (!message) return;
      take(*message);
      rd_kafka_message_destroy(message);
      if (polled.message_count > 0 && !deadline)
        deadline = std::chrono::steady_clock::now() + options.batch_linger;
      if (deadline && std::chrono::steady_clock::now() >= *deadline) return;
    }
  }

  void take(const rd_kafka_message_t& message) {
    if (message.err) {
      if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      counters.client_errors.Increment();
      spdlog::warn("kafka {}: consumer error: {}", options.topic,
                   rd_kafka_message_errstr(&message));
      return;
    }
    counters.messages.Increment();
    if (polled.message_count++ == 0) polled.received = std::chrono::steady_clock::now();
    Delivery delivery{message.partition, message.offset, -1};
    rd_kafka_timestamp_type_t type;
    std::int64_t ts = rd_kafka_message_timestamp(&message, &type);
    if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) delivery.timestamp_ms = ts;
    auto& next = polled.next_offsets[message.partition];
    next = std::max(next, message.offset + 1);

    Event event;
    Rejection error;
    bool ok = false;
    if (message.payload == nullptr || message.len == 0) {
      error = Rejection{RejectReason::kOther, "empty message"};
    } else if (options.format == KafkaFormat::kJson) {
      ok = decoder.decode(std::string_view(static_cast<const char*>(message.payload), message.len),
                          &event, &error);
    } else if (message.len > kMaxEventJsonBytes) {
      error = Rejection{RejectReason::kOther,
                        fmt::format("protobuf: event larger than {} bytes", kMaxEventJsonBytes)};
    } else if (!proto_event.ParseFromArray(message.payload, static_cast<int>(message.len))) {
      error = Rejection{RejectReason::kOther, "protobuf: not a signalbox.v1.Event message"};
    } else {
      // The same rules and messages as JSON events: the decoder judges the fields set.
      proto_json.clear();
      append_event_json(proto_event, proto_json);
      ok = decoder.decode(proto_json, &event, &error);
    }
    if (ok) {
      polled.events.push_back(std::move(event));
      polled.deliveries.push_back(delivery);
      polled.lanes.of_event.push_back(lane_index(delivery.partition));
      if (dead_letters) polled.messages.emplace_back(message_key(message), message_value(message));
      return;
    }
    const bool undecodable = reject_reason_info(error.reason).kind == RejectClass::kUndecodable;
    counters.skipped(error.reason).Increment();
    spdlog::warn("kafka {} partition {} offset {}: skipped {} message: {}", options.topic,
                 delivery.partition, delivery.offset, undecodable ? "undecodable" : "invalid",
                 error.message);
    if (dead_letters) {
      dead_letters->send(message_key(message), message_value(message), error.message,
                         DeadLetterOrigin{options.topic, delivery.partition, delivery.offset});
    }
    polled.decode_rejects.push_back(
        RejectedEvent{polled.message_count - 1, error.reason, std::move(error.message)});
  }

  static std::string message_key(const rd_kafka_message_t& message) {
    return message.key ? std::string(static_cast<const char*>(message.key), message.key_len)
                       : std::string();
  }
  static std::string message_value(const rd_kafka_message_t& message) {
    return message.payload ? std::string(static_cast<const char*>(message.payload), message.len)
                           : std::string();
  }

  // Each partition is an input of its own to the engine, with its own stream time (see
  // Engine::ingest with lanes): a partition running ahead does not make another one's
  // on-time events late.
  std::string lane(std::int32_t partition) const {
    return fmt::format("partition {} of {}", partition, options.topic);
  }
  // The index of `partition`'s lane in the polled batch's names, added on its first event.
  std::uint32_t lane_index(std::int32_t partition) {
    const auto at = static_cast<std::size_t>(partition);
    if (at >= polled.lane_of_partition.size()) polled.lane_of_partition.resize(at + 1, -1);
    std::int32_t& index = polled.lane_of_partition[at];
    if (index < 0) {
      index = static_cast<std::int32_t>(polled.lanes.names.size());
      polled.lanes.names.push_back(lane(partition));
    }
    return static_cast<std::uint32_t>(index);
  }
  void release_lanes(const std::set<std::int32_t>& partitions) {
    std::vector<std::string> lanes;
    for (std::int32_t p : partitions) lanes.push_back(lane(p));
    engine.release_lanes(lanes);
  }

  // Hands the polled batch to a storing task, after the batch before it is stored and its
  // offsets committed; the batch is prepared (materialized, its tile deltas folded) first, while
  // that one is still being stored. A batch of a backlog or of a live stream (at least 1/128
  // of batch_size: 64 events by default; a stream of tens of thousands of events a second
  // brings hundreds while the batch before it is stored) is stored by the storing thread
  // while the next one is polled and prepared. A smaller one (a quiet stream's) is stored and
  // committed at once on this thread: there is little to overlap it with, and a thread hop on
  // a busy machine costs its events milliseconds of freshness. Without a polled batch:
  // finishes the one being stored and commits the offsets left uncommitted once
  // kCommitInterval passed (a refused commit: kCommitRetry), so an idle partition does not keep
  // them pending.
  void store_polled() {
    if (polled.message_count == 0) {
      finish_stored();
      const auto wait = refused_in_a_row > 0 ? kCommitRetry : kCommitInterval;
      if (!uncommitted.empty() && std::chrono::steady_clock::now() - last_commit_attempt >= wait)
        commit({});
      return;
    }
    const bool by_task =
        polled.message_count >= std::max<std::size_t>(1, options.batch_messages / 128);
    auto batch = std::make_unique<const Batch>(std::exchange(polled, Batch()));
    // A failed preparation fails the storing task, and so goes to the retries of
    // finish_stored().
    std::optional<Engine::PreparedBatch> prepared;
    std::exception_ptr failure;
    if (!batch->events.empty()) {
      try {
        prepared = engine.prepare_ingest(batch->events, batch->lanes);
      } catch (const std::exception&) {
        failure = std::current_exception();
      }
    }
    finish_stored();
    auto store = [this, b = batch.get(), failure, prepared = std::move(prepared)]() mutable {
      if (failure) std::rethrow_exception(failure);
      IngestResult result;
      if (prepared) result = engine.ingest_prepared(std::move(*prepared));
      count_stored(*b, result);
      return result;
    };
    // A small batch's task runs where finish_stored() waits for it, below.
    std::future<IngestResult> stored =
        by_task ? boost::asio::post(storer(), boost::asio::use_future(std::move(store)))
                : std::async(std::launch::deferred, std::move(store));
    storing.emplace(Storing{std::move(batch), std::move(stored)});
    if (!by_task) finish_stored();
  }

  boost::asio::thread_pool& storer() {
    if (!storing_thread) storing_thread.emplace(1);
    return *storing_thread;
  }

  // Stores everything polled and commits its offsets before returning (a revocation, stop()),
  // with any refused before.
  void store_everything() {
    store_polled();
    finish_stored();
    if (!uncommitted.empty()) commit({});
  }

  // Waits for the batch being stored, then sends the copies of the events the engine refused to
  // the dead-letter topic and commits the batch's offsets, with those of the batches before it,
  // once kCommitInterval passed since the last commit (otherwise the next commit takes them). An
  // engine failure is retried until it succeeds or stop() is called; then nothing of the batch
  // is committed and its messages are delivered again to whoever consumes the partitions next.
  void finish_stored() {
    if (!storing) return;
    Storing done = std::move(*storing);
    storing.reset();
    const Batch& batch = *done.batch;
    IngestResult result;
    try {
      result = done.stored.get();
    } catch (const std::exception& e) {
      if (!store_again(batch, e.what(), result)) return;
    }
    if (dead_letters) {
      for (const RejectedEvent& r : result.rejected) {
        const Delivery& d = batch.deliveries[r.index];
        dead_letters->send(batch.messages[r.index].first, batch.messages[r.index].second, r.message,
                           DeadLetterOrigin{options.topic, d.partition, d.offset});
      }
    }
    add_uncommitted(batch.next_offsets);
    if (std::chrono::steady_clock::now() - last_commit_attempt >= kCommitInterval) commit({});
    refresh_lag();
  }

  // Retries a batch whose storing failed with `error` until it is stored (true, its result in
  // `result`) or stop() is called (false).
  bool store_again(const Batch& batch, const std::string& error, IngestResult& result) {
    std::string last_error = error;
    while (true) {
      counters.ingest_failures.Increment();
      spdlog::error("kafka {}: ingest of {} events failed, offsets not committed: {}",
                    options.topic, batch.events.size(), last_error);
      if (wait_for_stop(kIngestRetryDelay)) return false;
      try {
        result = engine.ingest(batch.events, batch.lanes);
        count_stored(batch, result);
        return true;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
    }
  }

  // Counts a batch the engine just stored in the metrics, with its freshness, and logs the
  // events the engine refused. Runs where it was stored, so that the counts move when its
  // events become visible.
  void count_stored(const Batch& batch, const IngestResult& result) {
    const auto stored_at = std::chrono::steady_clock::now();
    const std::int64_t stored_at_ms = now_ms();
    std::set<std::size_t> late;
    // Events reach the engine decoded and validated: the engine refuses them only as late.
    for (const RejectedEvent& r : result.rejected) {
      late.insert(r.index);
      const Delivery& d = batch.deliveries[r.index];
      counters.skipped(r.reason).Increment();
      spdlog::warn("kafka {} partition {} offset {}: skipped {} event: {}", options.topic,
                   d.partition, d.offset, reject_reason_label(r.reason), r.message);
    }
    counters.accepted.Increment(static_cast<double>(result.accepted));
    counters.duplicates.Increment(static_cast<double>(result.duplicates));
    std::vector<RejectedEvent> rejects = batch.decode_rejects;
    rejects.insert(rejects.end(), result.rejected.begin(), result.rejected.end());
    registry.ingest().count(IngestSource::kKafka, result.accepted, result.duplicates, rejects);
    if (result.accepted > 0)
      registry.ingest().observe_freshness(IngestSource::kKafka, stored_at - batch.received);
    for (std::size_t i = 0; i < batch.deliveries.size(); ++i) {
      if (batch.deliveries[i].timestamp_ms < 0 || late.count(i)) continue;
      std::int64_t age = std::max<std::int64_t>(0, stored_at_ms - batch.deliveries[i].timestamp_ms);
      counters.freshness.observe(std::chrono::milliseconds(age));
    }
  }

  // Offsets of a stored batch, committed with the next commit.
  void add_uncommitted(const std::map<std::int32_t, std::int64_t>& next_offsets) {
    for (const auto& [partition, next] : next_offsets) {
      auto& pending = uncommitted[partition];
      pending = std::max(pending, next);
    }
  }

  // Commits `next_offsets` and every offset not committed yet (stored since the last commit, or
  // refused), waiting up to kCommitWait for the answer; true on success.
  bool commit(const std::map<std::int32_t, std::int64_t>& next_offsets) {
    last_commit_attempt = std::chrono::steady_clock::now();
    add_uncommitted(next_offsets);
    // The skipped messages' copies first: a crash after the commit must not lose them.
    if (dead_letters &&
        !dead_letters->flush(static_cast<int>(wait_left(kDeadLetterFlushWait).count()))) {
      counters.commit_failures.Increment();
      if (refused_in_a_row++ == 0) {
        spdlog::warn(
            "kafka {}: dead letters to {} not acknowledged yet; offsets not committed, "
            "retried with the next batch",
            options.topic, dead_letters->topic());
      }
      return false;
    }
    PartitionListPtr offsets(
        rd_kafka_topic_partition_list_new(static_cast<int>(uncommitted.size())));
    for (const auto& [partition, next] : uncommitted)
      rd_kafka_topic_partition_list_add(offsets.get(), options.topic.c_str(), partition)->offset =
          next;
    rd_kafka_resp_err_t err = commit_and_wait(*offsets);
    if (err) {
      counters.commit_failures.Increment();
      // One line per run of refusals: a rebalance refuses every commit until it completes.
      if (refused_in_a_row++ == 0) {
        spdlog::warn("kafka {}: offset commit refused ({}); retried with the next batch",
                     options.topic, rd_kafka_err2str(err));
      }
      return false;
    }
    if (refused_in_a_row > 0) {
      spdlog::info("kafka {}: offsets committed again after {} refused commits", options.topic,
                   refused_in_a_row);
      refused_in_a_row = 0;
    }
    counters.commits.Increment();
    for (const auto& [partition, next] : uncommitted) committed[partition] = next;
    uncommitted.clear();
    return true;
  }

  // One offset commit, its answer awaited on a queue of its own for at most kCommitWait (or
  // what is left of kStopWait): the first error of the commit or of any partition,
  // RD_KAFKA_RESP_ERR__TIMED_OUT when no answer came in time.
  rd_kafka_resp_err_t commit_and_wait(const rd_kafka_topic_partition_list_t& offsets) {
    rd_kafka_queue_t* answers = rd_kafka_queue_new(consumer);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer, &offsets, answers, nullptr, nullptr);
    if (!err) {
      const auto begin = std::chrono::steady_clock::now();
      rd_kafka_event_t* answer = nullptr;
      // In slices: a stop() meanwhile cuts the wait short.
      for (auto left = wait_left(kCommitWait); !answer && left.count() > 0;
           left = wait_left(kCommitWait - std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - begin))) {
        answer = rd_kafka_queue_poll(
            answers,
            static_cast<int>(std::min(left, std::chrono::milliseconds{kIdlePollMs}).count()));
      }
      if (!answer) {
        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      } else {
        err = rd_kafka_event_error(answer);
        const rd_kafka_topic_partition_list_t* parts = rd_kafka_event_topic_partition_list(answer);
        for (int i = 0; !err && parts && i < parts->cnt; ++i) err = parts->elems[i].err;
        rd_kafka_event_destroy(answer);
      }
    }
    rd_kafka_queue_destroy(answers);
    return err;
  }

  // `wait` from now, cut to what is left of kStopWait once stop() was called (0 or more).
  std::chrono::milliseconds wait_left(std::chrono::milliseconds wait) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(stop_mutex);
    if (stop_deadline <= now) return std::chrono::milliseconds{0};
    return std::min(wait,
                    std::chrono::duration_cast<std::chrono::milliseconds>(stop_deadline - now));
  }

  // Sleeps up to `delay`; true when stop() was called meanwhile.
  bool wait_for_stop(std::chrono::milliseconds delay) {
    std::unique_lock lock(stop_mutex);
    return stop_changed.wait_for(lock, delay, [this] { return stop_requested.load(); });
  }

  // Recomputes the lag of every assigned partition from librdkafka's cached high watermarks
  // (updated by every fetch response, so no broker round trip here).
  void refresh_lag() {
    last_lag_refresh = std::chrono::steady_clock::now();
    std::map<std::int32_t, std::int64_t> fresh;
    std::vector<std::string> caught_up;
    PartitionListPtr positions(
        rd_kafka_topic_partition_list_new(static_cast<int>(assigned.size())));
    for (std::int32_t p : assigned)
      rd_kafka_topic_partition_list_add(positions.get(), options.topic.c_str(), p);
    if (!assigned.empty()) rd_kafka_position(consumer, positions.get());
    for (int i = 0; i < positions->cnt; ++i) {
      std::int32_t p = positions->elems[i].partition;
      std::int64_t low = -1, high = -1;
      std::int64_t lag_value = -1;
      if (!rd_kafka_get_watermark_offsets(consumer, options.topic.c_str(), p, &low, &high) &&
          high >= 0) {
        auto c = committed.find(p);
        std::int64_t done = c != committed.end() ? c->second : positions->elems[i].offset;
        if (done >= 0)
          lag_value = std::max<std::int64_t>(0, high - done);
        else if (low >= 0 && high == low)
          lag_value = 0;  // an empty partition: nothing to read
      }
      fresh[p] = lag_value;
      if (lag_value == 0) caught_up.push_back(lane(p));
    }
    // A partition with nothing left to read holds no backlog that could be behind the others.
    if (!caught_up.empty()) engine.settle_lanes(caught_up);
    std::lock_guard lock(lag_mutex);
    lag = std::move(fresh);
  }
};

KafkaIngest::KafkaIngest(Engine& engine, KafkaIngestOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(engine, options_)) {
  ConfPtr conf = make_conf(options_);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  rd_kafka_conf_set_log_cb(conf.get(), &Impl::on_log);
  char error[512] = {0};
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error);
  if (!consumer) {
    throw ConfigError(fmt::format("kafka ingest of topic {}: cannot create the consumer: {}",
                                  options_.topic, error));
  }
  conf.release();  // rd_kafka_new took it
  impl_->consumer = consumer;
  if (!options_.dead_letter_topic.empty()) {
    // The connection and security settings of the consumer, not its consumer-only ones.
    std::map<std::string, std::string> shared;
    for (const auto& [name, value] : options_.rdkafka) {
      for (std::string_view prefix :
           {"security.", "sasl.", "ssl.", "socket.", "broker.", "client."})
        if (name.rfind(prefix, 0) == 0) shared[name] = value;
    }
    impl_->dead_letters =
        std::make_unique<DeadLetterProducer>(options_.brokers, options_.dead_letter_topic, shared);
  }
  impl_->scrape = std::make_unique<CollectFunction>([this] { return collect_scraped(); });
  impl_->registry.add_collectable(*impl_->scrape);
}

std::vector<prometheus::MetricFamily> KafkaIngest::collect_scraped() const {
  const std::string& topic = options_.topic;
  KafkaIngestStats s = stats();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(
      ScrapeFamily("signalbox_kafka_dead_letters_total",
                   "Skipped messages copied to the dead-letter topic (dead_letter_topic).",
                   prometheus::MetricType::Counter)
          .add(static_cast<double>(s.dead_letters), {{"topic", topic}})
          .take());
  out.push_back(ScrapeFamily("signalbox_kafka_dead_letter_failures_total",
                             "Dead letters the broker never acknowledged after the producer's "
                             "retries (lost).",
                             prometheus::MetricType::Counter)
                    .add(static_cast<double>(s.dead_letter_failures), {{"topic", topic}})
                    .take());
  ScrapeFamily lag_family("signalbox_kafka_consumer_lag",
                          "Messages of an assigned partition not yet committed: high watermark "
                          "minus committed offset.",
                          prometheus::MetricType::Gauge);
  for (const auto& [partition, value] : lag()) {
    if (value < 0) continue;
    lag_family.add(static_cast<double>(value),
                   {{"topic", topic}, {"partition", std::to_string(partition)}});
  }
  out.push_back(lag_family.take());
  return out;
}

KafkaIngest::~KafkaIngest() {
  impl_->registry.remove_collectable(*impl_->scrape);
  stop();
  wait();
  if (impl_->consumer) rd_kafka_destroy(impl_->consumer);  // never started
}

void KafkaIngest::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void KafkaIngest::stop() {
  {
    // Under the mutex, so that a wait_for_stop() between its check and its wait is not missed.
    std::lock_guard lock(impl_->stop_mutex);
    if (!impl_->stop_requested.load())
      impl_->stop_deadline = std::chrono::steady_clock::now() + kStopWait;
    impl_->stop_requested.store(true);
  }
  impl_->stop_changed.notify_all();
}

void KafkaIngest::wait() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

KafkaIngestStats KafkaIngest::stats() const {
  const KafkaMetrics& c = impl_->counters;
  auto count = [](const prometheus::Counter& counter) {
    return static_cast<std::uint64_t>(counter.Value());
  };
  KafkaIngestStats s;
  s.messages = count(c.messages);
  s.accepted = count(c.accepted);
  s.duplicates = count(c.duplicates);
  s.rejected_undecodable = count(c.undecodable);
  s.rejected_invalid = count(c.invalid);
  s.rejected_late = count(c.late);
  s.commits = count(c.commits);
  s.commit_failures = count(c.commit_failures);
  s.ingest_failures = count(c.ingest_failures);
  s.client_errors = count(c.client_errors);
  if (impl_->dead_letters) {
    s.dead_letters = impl_->dead_letters->sent();
    s.dead_letter_failures = impl_->dead_letters->failed();
  }
  return s;
}

MetricsRegistry& KafkaIngest::registry() { return impl_->registry; }

std::map<std::int32_t, std::int64_t> KafkaIngest::lag() const {
  std::lock_guard lock(impl_->lag_mutex);
  return impl_->lag;
}

}  // namespace signalbox
