#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "signalbox/event/reject_reason.h"
#include "signalbox/metrics/ingest_metrics.h"

namespace signalbox {

// Logs rejected events as summaries at most once per `interval`: the first batch with
// rejects is logged at once, later ones are added up until the interval has passed, so a
// flood of bad events makes one line per interval, not one per event. Thread-safe.
class RejectLog {
 public:
  explicit RejectLog(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // Notes the rejects of one ingest call from `source` (of `events` events).
  void note(IngestSource source, std::size_t events, const std::vector<RejectedEvent>& rejected);

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_line_{};
  bool logged_any_ = false;
  std::uint64_t pending_rejected_ = 0;
  std::uint64_t pending_events_ = 0;
  std::uint64_t pending_batches_ = 0;
  std::array<std::uint64_t, kRejectReasonCount> pending_reasons_{};
  std::string first_message_;
};

}  // namespace signalbox
