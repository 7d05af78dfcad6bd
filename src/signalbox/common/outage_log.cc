#include "signalbox/common/outage_log.h"

#include <spdlog/spdlog.h>

namespace signalbox {

void OutageLog::failed(std::string_view reason) {
  MutexLock lock(mutex_);
  ++failures_;
  if (down_.load(std::memory_order_relaxed)) return;
  down_.store(true, std::memory_order_relaxed);
  spdlog::warn("{} unavailable: {} (answering 503 until it is back; logged again when it is)",
               what_, reason);
}

void OutageLog::succeeded() {
  if (!down_.load(std::memory_order_relaxed)) return;
  MutexLock lock(mutex_);
  if (!down_.load(std::memory_order_relaxed)) return;
  down_.store(false, std::memory_order_relaxed);
  spdlog::info("{} available again after {} failed request(s)", what_, failures_);
  failures_ = 0;
}

}  // namespace signalbox
