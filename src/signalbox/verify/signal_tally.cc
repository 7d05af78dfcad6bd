#include "signalbox/verify/signal_tally.h"

#include <algorithm>
#include <cmath>

namespace signalbox {

namespace {

double rate(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 1.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

void SignalTally::add(std::uint64_t user_id, TimeMs as_of, const Value& served,
                      const Value& recomputed) {
  ++compared_;
  const ValueDifference difference = compare_values(served, recomputed);
  if (difference.exact) {
    ++exact_;
    return;
  }
  if (difference.numeric()) {
    relative_errors_.push_back(difference.max_rel_error);
    max_abs_error_ = std::max(max_abs_error_, difference.max_abs_error);
    if (difference.max_rel_error <= tolerance_) {
      ++within_tolerance_;
      return;
    }
    ++numeric_mismatches_;
  } else {
    ++other_mismatches_;
  }
  if (!first_mismatch_) first_mismatch_ = MismatchExample{user_id, as_of, served, recomputed};
}

double SignalTally::exact_rate() const { return rate(exact_, compared_); }

double SignalTally::match_rate() const { return rate(exact_ + within_tolerance_, compared_); }

std::optional<double> SignalTally::max_abs_error() const {
  if (relative_errors_.empty()) return std::nullopt;
  return max_abs_error_;
}

std::optional<double> SignalTally::relative_error_quantile(double q) const {
  if (relative_errors_.empty()) return std::nullopt;
  std::vector<double> sorted = relative_errors_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace signalbox
