#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "signalbox/common/time.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

// Stream time and the raw horizon as last read from a Redis store's meta hash, handed to the
// snapshots taken shortly after instead of a round trip each. A snapshot needs horizons read
// before it reads a user (RedisSnapshot), and a reading from a moment earlier is as good: it
// was read before too, and a user found expired past it has the snapshot read them again.
// Each round trip costs Redis about as much CPU as the whole read of a light user, and under
// load many queries begin within a millisecond. The process's own commits and expiries raise
// the kept values (raise()), so that what it wrote shows at once in its next snapshot.
// Thread-safe.
class MetaReading {
 public:
  using Clock = std::chrono::steady_clock;
  struct Horizons {
    TimeMs high_water = kBeginningOfTime;
    TimeMs expired_through = kBeginningOfTime;
  };

  explicit MetaReading(Clock::duration reuse) : reuse_(reuse) {}

  // The horizons kept, if they were read at most the reuse time before `now`.
  std::optional<Horizons> recent(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    if (!read_at_ || now - *read_at_ > reuse_) return std::nullopt;
    return kept_;
  }

  // Keeps horizons read from the store at `at`; never lowers what is kept.
  void keep(Horizons read, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    raise_kept(read);
    read_at_ = std::max(read_at_.value_or(at), at);
  }

  // Raises the kept horizons to values this process has just written.
  void raise(Horizons written) {
    std::lock_guard lock(mutex_);
    raise_kept(written);
  }

 private:
  // Under mutex_.
  void raise_kept(Horizons to) {
    kept_.high_water = std::max(kept_.high_water, to.high_water);
    kept_.expired_through = std::max(kept_.expired_through, to.expired_through);
  }

  const Clock::duration reuse_;
  mutable std::mutex mutex_;
  Horizons kept_;
  std::optional<Clock::time_point> read_at_;
};

}  // namespace signalbox
