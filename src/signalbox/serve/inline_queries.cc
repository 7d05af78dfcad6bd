#include "signalbox/serve/inline_queries.h"

namespace signalbox {

InlineQueries::InlineQueries(std::chrono::microseconds budget) : budget_(budget) {}

bool InlineQueries::runs_inline(std::string_view path, std::size_t in_pool, double io_load) const {
  if (!enabled() || path.empty() || in_pool > 0 || io_load >= kMaxLoad) return false;
  std::optional<std::chrono::microseconds> cost = costs_.last(path);
  return cost && *cost <= budget_;
}

void InlineQueries::record(std::string_view path, std::chrono::nanoseconds cost) {
  if (enabled()) costs_.record(path, cost);
}

}  // namespace signalbox
