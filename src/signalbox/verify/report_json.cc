// format_report_json(): the report for programs.

#include "signalbox/verify/verify_report.h"

namespace signalbox {

namespace {

Value optional_number(const std::optional<double>& x) { return x ? Value(*x) : Value(); }

Value tally_json(const SignalTally& tally, bool beyond_retention, double threshold) {
  Value::Object o{
      {"signal", Value(tally.name())},
      {"window", tally.window().empty() ? Value() : Value(tally.window())},
      {"beyond_retention", Value(beyond_retention)},
      {"compared", Value(tally.compared())},
      {"exact", Value(tally.exact())},
      {"within_tolerance", Value(tally.within_tolerance())},
      {"numeric_mismatches", Value(tally.numeric_mismatches())},
      {"other_mismatches", Value(tally.other_mismatches())},
      {"exact_rate", Value(tally.exact_rate())},
      {"match_rate", Value(tally.match_rate())},
      {"max_abs_error", optional_number(tally.max_abs_error())},
      {"p50_rel_error", optional_number(tally.relative_error_quantile(0.5))},
      {"p99_rel_error", optional_number(tally.relative_error_quantile(0.99))},
      {"passed", Value(tally.compared() == 0 || tally.match_rate() >= threshold)},
  };
  if (const std::optional<MismatchExample>& m = tally.first_mismatch())
    o.emplace_back("first_mismatch", Value(Value::Object{{"user_id", Value(m->user_id)},
                                                         {"as_of", Value(m->as_of)},
                                                         {"served", m->served},
                                                         {"recomputed", m->recomputed}}));
  return Value(std::move(o));
}

}  // namespace

std::string format_report_json(const VerifyReport& r, double threshold) {
  Value::Array refused;
  for (const RefusedPoint& p : r.refused_examples)
    refused.emplace_back(Value::Object{
        {"user_id", Value(p.user_id)}, {"as_of", Value(p.as_of)}, {"reason", Value(p.reason)}});
  Value::Array signals;
  for (std::size_t i = 0; i < r.tallies.size(); ++i)
    signals.push_back(tally_json(r.tallies[i], r.beyond_retention[i], threshold));
  Value report(Value::Object{
      {"passed", Value(r.passes(threshold))},
      {"threshold", Value(threshold)},
      {"tolerance", Value(r.tolerance)},
      {"served_by", Value(r.served_by)},
      {"seed", Value(r.seed)},
      {"stream_time", Value(r.stream_time)},
      {"log_end", Value(r.log_end)},
      {"checked_through", Value(r.checked_through)},
      {"log", Value(Value::Object{{"files", Value(r.log_files)},
                                  {"lines", Value(r.log_lines)},
                                  {"invalid", Value(r.log_invalid)}})},
      {"users", Value(Value::Object{{"sampled", Value(r.users_sampled)},
                                    {"after_stream_time", Value(r.users_after_stream_time)},
                                    {"unanswerable", Value(r.users_unanswerable)}})},
      {"points", Value(Value::Object{{"per_user", Value(r.points_per_user)},
                                     {"asked", Value(r.points)},
                                     {"compared", Value(r.points_compared)},
                                     {"refused", Value(r.points_refused)}})},
      {"refused", Value(std::move(refused))},
      {"signals", Value(std::move(signals))},
  });
  return report.to_json();
}

}  // namespace signalbox
