// format_report_metrics(): the report as gauges for node_exporter's textfile collector.

#include <string>
#include <utility>
#include <vector>

#include "signalbox/metrics/registry.h"
#include "signalbox/verify/verify_report.h"

namespace signalbox {

namespace {

// The families of the report, gauges in a registry of their own.
class ReportGauges {
 public:
  void family(const std::string& name, const std::string& help,
              std::vector<std::string> label_names = {}) {
    family_ = &registry_.gauges(name, help, std::move(label_names));
  }
  void sample(double value, const prometheus::Labels& labels = {}) {
    family_->Add(labels).Set(value);
  }
  std::string text() const { return registry_.expose(); }

 private:
  MetricsRegistry registry_;
  prometheus::Family<prometheus::Gauge>* family_ = nullptr;
};

prometheus::Labels tally_labels(const SignalTally& tally) {
  return {{"signal", tally.name()}, {"window", tally.window()}};
}

prometheus::Labels with_kind(prometheus::Labels labels, std::string kind) {
  labels.emplace("kind", std::move(kind));
  return labels;
}

}  // namespace

std::string format_report_metrics(const VerifyReport& r, double threshold, TimeMs run_time) {
  ReportGauges m;
  m.family("signalbox_verify_last_run_timestamp_seconds",
           "When the last signalbox verify run ended, in seconds since the Unix epoch.");
  m.sample(static_cast<double>(run_time) / 1000.0);
  m.family("signalbox_verify_passed",
           "1 when the last verify run passed: something was compared and no signal's match rate "
           "was below the threshold.");
  m.sample(r.passes(threshold) ? 1 : 0);
  m.family("signalbox_verify_threshold",
           "The match rate each signal had to reach in the last verify run.");
  m.sample(threshold);
  m.family("signalbox_verify_tolerance",
           "The relative difference up to which numbers matched in the last verify run.");
  m.sample(r.tolerance);
  m.family("signalbox_verify_points_compared",
           "(user, as_of) points compared in the last verify run.");
  m.sample(static_cast<double>(r.points_compared));
  m.family("signalbox_verify_points_refused",
           "(user, as_of) points refused by the served side or the recomputation in the last "
           "verify run.");
  m.sample(static_cast<double>(r.points_refused));
  const std::vector<std::string> by_window = {"signal", "window"};
  m.family("signalbox_verify_match_ratio",
           "Share of a signal window's served values that match the values recomputed from the "
           "event log (exact, or numbers within the tolerance), in the last verify run; window "
           "empty for a signal without windows or a view.",
           by_window);
  for (const SignalTally& t : r.tallies)
    if (t.compared() > 0) m.sample(t.match_rate(), tally_labels(t));
  m.family("signalbox_verify_exact_match_ratio",
           "Share of a signal window's served values exactly equal to the recomputed values in the "
           "last verify run.",
           by_window);
  for (const SignalTally& t : r.tallies)
    if (t.compared() > 0) m.sample(t.exact_rate(), tally_labels(t));
  m.family("signalbox_verify_compared",
           "Values of a signal window compared in the last verify run.", by_window);
  for (const SignalTally& t : r.tallies)
    m.sample(static_cast<double>(t.compared()), tally_labels(t));
  m.family("signalbox_verify_mismatches",
           "Values of a signal window that do not match the recomputed ones in the last verify "
           "run, by kind: numeric (numbers beyond the tolerance) or other.",
           {"signal", "window", "kind"});
  for (const SignalTally& t : r.tallies) {
    m.sample(static_cast<double>(t.numeric_mismatches()), with_kind(tally_labels(t), "numeric"));
    m.sample(static_cast<double>(t.other_mismatches()), with_kind(tally_labels(t), "other"));
  }
  m.family("signalbox_verify_max_abs_error",
           "The largest absolute difference of a signal window's values that differ in numbers "
           "only, in the last verify run (0 without any).",
           by_window);
  for (const SignalTally& t : r.tallies) m.sample(t.max_abs_error().value_or(0.0), tally_labels(t));
  return m.text();
}

}  // namespace signalbox
