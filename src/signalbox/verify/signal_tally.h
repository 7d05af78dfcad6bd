#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/common/value.h"
#include "signalbox/verify/value_difference.h"

namespace signalbox {

// One served value that differs from the recomputed one, kept as an example for the report.
struct MismatchExample {
  std::uint64_t user_id = 0;
  TimeMs as_of = 0;
  Value served;
  Value recomputed;
};

// The comparisons of one signal window (or one signal without windows, or one view) over a
// verify run. Each comparison is exact (the same value), within tolerance (numbers only, none
// off by more than `tolerance` relative), a numeric mismatch (numbers only, some further off)
// or another mismatch (ValueDifference::structural). Exact and within-tolerance values match.
// A plain value: not synchronised.
class SignalTally {
 public:
  // `tolerance`: the relative difference up to which numbers still match; 0: only exact ones.
  SignalTally(std::string name, std::string window, double tolerance)
      : name_(std::move(name)), window_(std::move(window)), tolerance_(tolerance) {}

  // Counts one comparison of `served` against `recomputed` for `user_id` as of `as_of`.
  void add(std::uint64_t user_id, TimeMs as_of, const Value& served, const Value& recomputed);

  const std::string& name() const { return name_; }
  // The window as written in the config; empty for a signal without windows or a view.
  const std::string& window() const { return window_; }
  std::uint64_t compared() const { return compared_; }
  std::uint64_t exact() const { return exact_; }
  std::uint64_t within_tolerance() const { return within_tolerance_; }
  std::uint64_t numeric_mismatches() const { return numeric_mismatches_; }
  std::uint64_t other_mismatches() const { return other_mismatches_; }
  // exact() / compared(), and (exact() + within_tolerance()) / compared(); 1 when nothing
  // was compared.
  double exact_rate() const;
  double match_rate() const;
  // Over every value that differs in numbers only (within tolerance or not): the largest
  // absolute error, and the relative error at quantile `q` in (0, 1] by nearest rank; nullopt
  // when there is none.
  std::optional<double> max_abs_error() const;
  std::optional<double> relative_error_quantile(double q) const;
  // The first value that does not match, if any.
  const std::optional<MismatchExample>& first_mismatch() const { return first_mismatch_; }

 private:
  std::string name_;
  std::string window_;
  double tolerance_;
  std::uint64_t compared_ = 0;
  std::uint64_t exact_ = 0;
  std::uint64_t within_tolerance_ = 0;
  std::uint64_t numeric_mismatches_ = 0;
  std::uint64_t other_mismatches_ = 0;
  double max_abs_error_ = 0;
  std::vector<double> relative_errors_;  // one per value differing in numbers only
  std::optional<MismatchExample> first_mismatch_;
};

}  // namespace signalbox
