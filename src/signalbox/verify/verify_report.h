#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/verify/signal_tally.h"

namespace signalbox {

// A point at which served and recomputed values could not both be had.
struct RefusedPoint {
  std::uint64_t user_id = 0;
  TimeMs as_of = 0;
  std::string reason;
};

// What one `signalbox verify` run compared and found. A plain value.
struct VerifyReport {
  std::string served_by;  // ServedValues::description()
  std::uint64_t seed = 0;
  double tolerance = 0;        // of every tally (SignalTally)
  TimeMs stream_time = 0;      // of what serves
  TimeMs log_end = 0;          // the newest valid event of the logs
  TimeMs checked_through = 0;  // the latest as_of checked: the smaller of the two
  std::uint64_t log_files = 0;
  std::uint64_t log_lines = 0;
  std::uint64_t log_invalid = 0;  // lines of the logs that are no valid event
  std::uint64_t users_sampled = 0;
  // Sampled users left out: all their events are after the stream time of what serves, or no
  // time up to it can be answered for them.
  std::uint64_t users_after_stream_time = 0;
  std::uint64_t users_unanswerable = 0;
  std::uint64_t points_per_user = 0;  // as asked; a user may get fewer when its times coincide
  std::uint64_t points = 0;           // (user, as_of) pairs asked of both sides
  std::uint64_t points_compared = 0;
  // Refused by what serves (QueryError) or by the recomputation; at most a few are kept.
  std::uint64_t points_refused = 0;
  std::vector<RefusedPoint> refused_examples;
  // One per signal window, signal without windows, and view, in config order.
  std::vector<SignalTally> tallies;
  // Of each tally: whether its window is longer than the retention (answered from day tiles).
  std::vector<bool> beyond_retention;

  // The tallies whose match rate (SignalTally::match_rate) is below `threshold`.
  std::vector<const SignalTally*> below(double threshold) const;
  // Whether the run passes: something was compared and no tally's match rate is below
  // `threshold`.
  bool passes(double threshold) const { return points_compared > 0 && below(threshold).empty(); }
};

// The three formats below are pure functions of the report: safe from any thread.

// The report as a table with a summary above it and the first mismatch of each failing
// signal below it, for a terminal.
std::string format_report_table(const VerifyReport& report, double threshold);

// The report as one JSON object (docs/cli.md#verify).
std::string format_report_json(const VerifyReport& report, double threshold);

// The report in the Prometheus text format, for node_exporter's textfile collector: gauges of
// the last run, each tally's labelled by signal and window; `run_time` is when it ran (ms).
std::string format_report_metrics(const VerifyReport& report, double threshold, TimeMs run_time);

}  // namespace signalbox
