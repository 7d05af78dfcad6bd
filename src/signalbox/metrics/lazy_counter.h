#pragma once

#include <atomic>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/labels.h>

namespace signalbox {

// The counter of one label set of a family, added to the family on its first increment (or
// resolve()), so a label set that never happens (a status code, a gRPC error) is not exposed
// as a zero. After that, increment() is an atomic load and the counter's atomic addition: the
// family's label lookup happens once. Thread-safe.
class LazyCounter {
 public:
  LazyCounter(prometheus::Family<prometheus::Counter>& family, prometheus::Labels labels)
      : family_(family), labels_(std::move(labels)) {}
  LazyCounter(const LazyCounter&) = delete;
  LazyCounter& operator=(const LazyCounter&) = delete;

  void increment(double amount = 1) { resolve().Increment(amount); }
  // The counter, added to the family now if it was not yet (to expose it from the start).
  prometheus::Counter& resolve();

 private:
  prometheus::Family<prometheus::Counter>& family_;
  const prometheus::Labels labels_;
  std::atomic<prometheus::Counter*> counter_{nullptr};
};

}  // namespace signalbox
