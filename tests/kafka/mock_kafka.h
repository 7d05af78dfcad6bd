#pragma once

// librdkafka's mock cluster (real Kafka protocol on loopback, inside the test process) and a
// producer for it, for the Kafka ingest tests.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace signalbox::testing {

// Creates a librdkafka handle from properties; throws naming the refused one.
inline rd_kafka_t* new_kafka_handle(rd_kafka_type_t type,
                                    const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(fmt::format("{}: {}", name, error));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(fmt::format("rd_kafka_new: {}", error));
  }
  return rk;
}

// A mock Kafka cluster of `brokers` brokers with one topic; lives as long as this object.
class MockKafka {
 public:
  MockKafka(std::string topic, int partitions, int brokers = 1)
      : topic_(std::move(topic)), partitions_(partitions) {
    host_ = new_kafka_handle(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    if (!cluster_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    if (rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(cluster_, topic_.c_str(), partitions, 1)) {
      throw std::runtime_error(fmt::format("create topic: {}", rd_kafka_err2str(err)));
    }
    producer_ = new_kafka_handle(
        RD_KAFKA_PRODUCER,
        {{"bootstrap.servers", bootstrap_servers()}, {"linger.ms", "1"}, {"log_level", "3"}});
  }
  ~MockKafka() {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  // Another topic on the same cluster (e.g. a dead-letter topic).
  void create_topic(const std::string& name, int partitions) {
    if (rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1))
      throw std::runtime_error(fmt::format("create topic {}: {}", name, rd_kafka_err2str(err)));
  }

  // One message as read back: its value and headers.
  struct ReadMessage {
    std::string value;
    std::map<std::string, std::string> headers;
  };
  // Every message of `topic` (partitions 0..partitions-1), from the beginning to the end.
  std::vector<ReadMessage> read_all(const std::string& topic, int partitions) {
    rd_kafka_t* reader =
        new_kafka_handle(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_servers()},
                                             {"group.id", "signalbox-test-reader"},
                                             {"enable.partition.eof", "true"},
                                             {"log_level", "3"}});
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p)
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(reader, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<ReadMessage> out;
    int at_end = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (at_end < partitions && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(reader, 100);
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++at_end;
      } else if (!m->err) {
        ReadMessage r;
        if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name;
          const void* value;
          std::size_t size;
          for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                  RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i)
            r.headers[name] = std::string(static_cast<const char*>(value), size);
        }
        out.push_back(std::move(r));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);
    return out;
  }

  std::string bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  const std::string& topic() const { return topic_; }
  int partitions() const { return partitions_; }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  // Queues one message for `partition`; call flush() to wait for its delivery.
  void produce(int partition, std::string_view value, std::string_view key = {}) {
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_, 10);
        continue;
      }
      if (err) throw std::runtime_error(fmt::format("produce: {}", rd_kafka_err2str(err)));
      return;
    }
  }
  // An event keyed by its user, in the partition the user maps to.
  void produce_for_user(std::uint64_t user_id, std::string_view value) {
    produce(static_cast<int>(user_id % static_cast<std::uint64_t>(partitions_)), value,
            std::to_string(user_id));
  }
  void flush() {
    if (rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 10000))
      throw std::runtime_error(fmt::format("flush: {}", rd_kafka_err2str(err)));
  }

  // The offsets `group` committed for each partition (-1 when none), read over the protocol.
  std::map<std::int32_t, std::int64_t> committed(const std::string& group) {
    rd_kafka_t* reader = new_kafka_handle(
        RD_KAFKA_CONSUMER,
        {{"bootstrap.servers", bootstrap_servers()}, {"group.id", group}, {"log_level", "3"}});
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions_);
    for (int p = 0; p < partitions_; ++p)
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), p);
    rd_kafka_resp_err_t err = rd_kafka_committed(reader, list, 10000);
    std::map<std::int32_t, std::int64_t> out;
    for (int i = 0; i < list->cnt; ++i)
      out[list->elems[i].partition] = list->elems[i].offset < 0 ? -1 : list->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(reader);
    if (err) throw std::runtime_error(fmt::format("committed: {}", rd_kafka_err2str(err)));
    return out;
  }

 private:
  std::string topic_;
  int partitions_;
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
};

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last answer.
template <typename Done>
bool wait_until(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace signalbox::testing
