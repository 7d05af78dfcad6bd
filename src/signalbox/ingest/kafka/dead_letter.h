#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

typedef struct rd_kafka_s rd_kafka_t;

namespace signalbox {

// Where a bad message came from, for the headers of its dead letter.
struct DeadLetterOrigin {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// Copies messages the consumer skipped (undecodable, invalid or late) to a dead-letter topic,
// key and value unchanged, with headers saying why and where from: `signalbox-error` (the
// reason, as logged), `signalbox-topic`, `signalbox-partition`, `signalbox-offset`.
//
// Sending is asynchronous; flush() waits for the broker's acknowledgement of everything sent,
// so the consumer calls it before committing the offsets of the skipped messages: a crash
// before the commit sends them again (at least once). A dead letter the broker still refuses
// after librdkafka's retries (message.timeout.ms) is logged and counted in failed(), not
// retried: a dead-letter topic must never stop consumption.
//
// send() and flush() from one thread (the consumer's); sent() and failed() from any.
class DeadLetterProducer {
 public:
  // `properties`: librdkafka properties applied after bootstrap.servers (security settings
  // shared with the consumer). Throws ConfigError when librdkafka refuses them.
  DeadLetterProducer(const std::string& brokers, std::string topic,
                     const std::map<std::string, std::string>& properties);
  ~DeadLetterProducer();
  DeadLetterProducer(const DeadLetterProducer&) = delete;
  DeadLetterProducer& operator=(const DeadLetterProducer&) = delete;

  void send(std::string_view key, std::string_view value, std::string_view reason,
            const DeadLetterOrigin& origin);
  // Waits up to `timeout_ms` for every dead letter sent to be acknowledged or failed; true
  // when none is left in flight.
  bool flush(int timeout_ms);

  const std::string& topic() const { return topic_; }
  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  static void on_delivery(rd_kafka_t* rk, const void* message, void* opaque);

  std::string topic_;
  rd_kafka_t* producer_ = nullptr;
  std::atomic<std::uint64_t> sent_{0}, failed_{0};
};

}  // namespace signalbox
