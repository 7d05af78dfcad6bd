#include "signalbox/ingest/kafka/dead_letter.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "signalbox/common/error.h"

namespace signalbox {

DeadLetterProducer::DeadLetterProducer(const std::string& brokers, std::string topic,
                                       const std::map<std::string, std::string>& properties)
    : topic_(std::move(topic)) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512] = {0};
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw ConfigError(fmt::format("kafka dead-letter topic {}: {}: {}", topic_, name, error));
    }
  };
  set("bootstrap.servers", brokers);
  set("client.id", "signalbox-dead-letter");
  // A dead letter is written before the offsets of its message are committed; acks=all so
  // that it survives the loss of the partition leader like the message itself.
  set("acks", "all");
  set("linger.ms", "5");
  for (const auto& [name, value] : properties) set(name, value);
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* message,
                                       void* opaque) { on_delivery(rk, message, opaque); });
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (!producer_) {
    rd_kafka_conf_destroy(conf);
    throw ConfigError(
        fmt::format("kafka dead-letter topic {}: cannot create the producer: {}", topic_, error));
  }
}

DeadLetterProducer::~DeadLetterProducer() {
  if (!flush(5000))
    spdlog::error("kafka dead-letter topic {}: {} dead letter(s) still unsent at stop", topic_,
                  rd_kafka_outq_len(producer_));
  rd_kafka_destroy(producer_);
}

void DeadLetterProducer::on_delivery(rd_kafka_t*, const void* message, void* opaque) {
  auto* self = static_cast<DeadLetterProducer*>(opaque);
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  if (!m->err) return;
  self->failed_.fetch_add(1, std::memory_order_relaxed);
  spdlog::error("kafka dead-letter topic {}: a dead letter was lost: {}", self->topic_,
                rd_kafka_err2str(m->err));
}

void DeadLetterProducer::send(std::string_view key, std::string_view value, std::string_view reason,
                              const DeadLetterOrigin& origin) {
  const std::string partition = std::to_string(origin.partition),
                    offset = std::to_string(origin.offset);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(value.empty() ? nullptr : const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADER("signalbox-error", reason.data(), static_cast<ssize_t>(reason.size())),
        RD_KAFKA_V_HEADER("signalbox-topic", origin.topic.data(),
                          static_cast<ssize_t>(origin.topic.size())),
        RD_KAFKA_V_HEADER("signalbox-partition", partition.data(),
                          static_cast<ssize_t>(partition.size())),
        RD_KAFKA_V_HEADER("signalbox-offset", offset.data(), static_cast<ssize_t>(offset.size())),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_, 10);  // serves delivery reports, which empties the queue
      continue;
    }
    if (err) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("kafka dead-letter topic {}: cannot send: {}", topic_, rd_kafka_err2str(err));
      return;
    }
    sent_.fetch_add(1, std::memory_order_relaxed);
    rd_kafka_poll(producer_, 0);
    return;
  }
}

bool DeadLetterProducer::flush(int timeout_ms) {
  return rd_kafka_flush(producer_, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace signalbox
