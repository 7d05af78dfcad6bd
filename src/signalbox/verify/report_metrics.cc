// format_report_metrics(): the report as gauges for node_exporter's textfile collector.

#include <fmt/format.h>

#include "signalbox/common/prometheus_label.h"
#include "signalbox/verify/verify_report.h"

namespace signalbox {

namespace {

class MetricsText {
 public:
  void family(std::string_view name, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  }
  void sample(std::string_view name, const std::string& labels, double value) {
    fmt::format_to(std::back_inserter(out_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{", labels,
                   labels.empty() ? "" : "}", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string tally_labels(const SignalTally& tally) {
  return fmt::format("signal=\"{}\",window=\"{}\"", prometheus_label_value(tally.name()), prometheus_label_value(tally.window()));
}

}  // namespace

std::string format_report_metrics(const VerifyReport& r, double threshold, TimeMs run_time) {
  MetricsText m;
  m.family("signalbox_verify_last_run_timestamp_seconds", "When the last signalbox verify run ended, in seconds since the Unix epoch.");
  m.sample("signalbox_verify_last_run_timestamp_seconds", "", static_cast<double>(run_time) / 1000.0);
  m.family("signalbox_verify_passed", "1 when the last verify run passed: something was compared and no signal's match rate was below the threshold.");
  m.sample("signalbox_verify_passed", "", r.passes(threshold) ? 1 : 0);
  m.family("signalbox_verify_threshold", "The match rate each signal had to reach in the last verify run.");
  m.sample("signalbox_verify_threshold", "", threshold);
  m.family("signalbox_verify_tolerance", "The relative difference up to which numbers matched in the last verify run.");
  m.sample("signalbox_verify_tolerance", "", r.tolerance);
  m.family("signalbox_verify_points_compared", "(user, as_of) points compared in the last verify run.");
  m.sample("signalbox_verify_points_compared", "", static_cast<double>(r.points_compared));
  m.family("signalbox_verify_points_refused", "(user, as_of) points refused by the served side or the recomputation in the last verify run.");
  m.sample("signalbox_verify_points_refused", "", static_cast<double>(r.points_refused));
  m.family("signalbox_verify_match_ratio", "Share of a signal window's served values that match the values recomputed from the event log (exact, or numbers within the tolerance), in the last verify run; window empty for a signal without windows or a view.");
  for (const SignalTally& t : r.tallies)
    if (t.compared() > 0) m.sample("signalbox_verify_match_ratio", tally_labels(t), t.match_rate());
  m.family("signalbox_verify_exact_match_ratio", "Share of a signal window's served values exactly equal to the recomputed values in the last verify run.");
  for (const SignalTally& t : r.tallies)
    if (t.compared() > 0) m.sample("signalbox_verify_exact_match_ratio", tally_labels(t), t.exact_rate());
  m.family("signalbox_verify_compared", "Values of a signal window compared in the last verify run.");
  for (const SignalTally& t : r.tallies) m.sample("signalbox_verify_compared", tally_labels(t), static_cast<double>(t.compared()));
  m.family("signalbox_verify_mismatches", "Values of a signal window that do not match the recomputed ones in the last verify run, by kind: numeric (numbers beyond the tolerance) or other.");
  for (const SignalTally& t : r.tallies) {
    m.sample("signalbox_verify_mismatches", tally_labels(t) + ",kind=\"numeric\"", static_cast<double>(t.numeric_mismatches()));
    m.sample("signalbox_verify_mismatches", tally_labels(t) + ",kind=\"other\"", static_cast<double>(t.other_mismatches()));
  }
  m.family("signalbox_verify_max_abs_error", "The largest absolute difference of a signal window's values that differ in numbers only, in the last verify run (0 without any).");
  for (const SignalTally& t : r.tallies)
    m.sample("signalbox_verify_max_abs_error", tally_labels(t), t.max_abs_error().value_or(0.0));
  return m.take();
}

}  // namespace signalbox
