#include "signalbox/serve/inline_queries.h"

#include <algorithm>

namespace signalbox {

namespace {

std::int64_t ns_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool InlineQueries::runs_inline(std::string_view path, std::size_t in_pool) const {
  if (!enabled() || path.empty() || in_pool > 0) return false;
  std::optional<std::chrono::microseconds> cost = costs_.last(path);
  if (!cost || *cost > budget_) return false;
  std::int64_t ahead =
      busy_until_ns_.load(std::memory_order_relaxed) - ns_of(std::chrono::steady_clock::now());
  return ahead < kDepth * std::chrono::nanoseconds(budget_).count();
}

void InlineQueries::record(std::string_view path, std::chrono::steady_clock::time_point start,
                           std::chrono::nanoseconds cost, bool ran_inline) {
  if (!enabled()) return;
  costs_.record(path, cost);
  if (!ran_inline) return;
  auto spread = static_cast<std::int64_t>(static_cast<double>(cost.count()) / rate_);
  std::int64_t from = ns_of(start);
  std::int64_t until = busy_until_ns_.load(std::memory_order_relaxed);
  while (!busy_until_ns_.compare_exchange_weak(until, std::max(until, from) + spread,
                                               std::memory_order_relaxed)) {
  }
}

}  // namespace signalbox
