#include "signalbox/metrics/lazy_counter.h"

namespace signalbox {

prometheus::Counter& LazyCounter::resolve() {
  prometheus::Counter* counter = counter_.load(std::memory_order_acquire);
  if (counter) return *counter;
  // Two threads racing here get the same counter: Family::Add returns the one it holds.
  counter = &family_.Add(labels_);
  counter_.store(counter, std::memory_order_release);
  return *counter;
}

}  // namespace signalbox
