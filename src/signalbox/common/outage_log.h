#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "signalbox/common/mutex.h"

namespace signalbox {

// Logs a dependency's outage (the store unreachable) once when it starts and once when it
// ends, with the number of requests it failed, instead of one line per failed request: at
// thousands of requests a second, a line each would bury every other line of the log.
//
// Thread-safe. succeeded() is one relaxed atomic load while nothing is failing.
class OutageLog {
 public:
  // `what` names the dependency in the lines, e.g. "storage".
  explicit OutageLog(std::string what) : what_(std::move(what)) {}

  // A request failed because of the dependency, for `reason`. The first failure of an
  // outage is logged as a warning with the reason.
  void failed(std::string_view reason);
  // A request went through: an outage in progress ends, logged with its count of failures.
  void succeeded();

 private:
  std::string what_;
  std::atomic<bool> down_{false};
  Mutex mutex_;  // guards failures_ and the transitions of down_
  std::uint64_t failures_ SIGNALBOX_GUARDED_BY(mutex_) = 0;
};

}  // namespace signalbox
