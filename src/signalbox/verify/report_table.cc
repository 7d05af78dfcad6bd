// format_report_table(): the report for a terminal.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "signalbox/verify/verify_report.h"

namespace signalbox {

namespace {

constexpr std::size_t kExampleChars = 160;

// A rate as a percentage with two decimals, never rounded up to 100.00% when below 1.
std::string percent(double rate) {
  const double hundredths = std::floor(rate * 10000.0);
  return fmt::format("{:.2f}%", hundredths / 100.0);
}

std::string error_text(const std::optional<double>& error) {
  return error ? fmt::format("{:.3g}", *error) : "-";
}

std::string shortened(const Value& value) {
  std::string json = value.to_json();
  if (json.size() > kExampleChars) json = json.substr(0, kExampleChars) + "...";
  return json;
}

std::string tally_label(const SignalTally& tally) {
  return tally.window().empty() ? tally.name() : fmt::format("{} {}", tally.name(), tally.window());
}

using Row = std::array<std::string, 11>;

Row header_row() {
  return {"signal",  "window", "compared",    "exact",       "~tol",       "match",
          "numeric", "other",  "max abs err", "p50 rel err", "p99 rel err"};
}

Row tally_row(const SignalTally& tally, bool beyond_retention) {
  return {tally.name(),
          tally.window().empty() ? "-" : tally.window() + (beyond_retention ? "*" : ""),
          std::to_string(tally.compared()),
          std::to_string(tally.exact()),
          std::to_string(tally.within_tolerance()),
          percent(tally.match_rate()),
          std::to_string(tally.numeric_mismatches()),
          std::to_string(tally.other_mismatches()),
          error_text(tally.max_abs_error()),
          error_text(tally.relative_error_quantile(0.5)),
          error_text(tally.relative_error_quantile(0.99))};
}

// Rows as aligned columns: text left-aligned, numbers right-aligned.
std::string table(const std::vector<Row>& rows) {
  std::array<std::size_t, std::tuple_size_v<Row>> width{};
  for (const Row& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += "  ";
      line +=
          c < 2 ? fmt::format("{:<{}}", row[c], width[c]) : fmt::format("{:>{}}", row[c], width[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string summary(const VerifyReport& r) {
  std::string out = fmt::format(
      "verified {} against {} event log{} ({} lines, {} not valid events)\n", r.served_by,
      r.log_files, r.log_files == 1 ? "" : "s", r.log_lines, r.log_invalid);
  out += fmt::format(
      "sample: {} users (seed {}), up to {} as_of times each through {} (stream time {}, log end "
      "{})\n",
      r.users_sampled, r.seed, r.points_per_user, format_iso_time(r.checked_through),
      format_iso_time(r.stream_time), format_iso_time(r.log_end));
  out += fmt::format(
      "{} points compared, {} refused; users left out: {} with every event after stream time, {} "
      "with no answerable time\n",
      r.points_compared, r.points_refused, r.users_after_stream_time, r.users_unanswerable);
  out += fmt::format(
      "values match when exact or, numbers only, within {:g} relative (~tol); errors are over "
      "every value "
      "differing in numbers only\n",
      r.tolerance);
  for (const RefusedPoint& p : r.refused_examples)
    out += fmt::format("  refused: user {} as of {}: {}\n", p.user_id, format_iso_time(p.as_of),
                       p.reason);
  return out;
}

std::string verdict(const VerifyReport& r, double threshold) {
  if (r.points_compared == 0) return "FAIL: nothing was compared\n";
  const std::vector<const SignalTally*> failing = r.below(threshold);
  if (failing.empty())
    return fmt::format("PASS: every signal's match rate is at least {}\n", percent(threshold));
  std::string names;
  for (const SignalTally* tally : failing)
    names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", tally_label(*tally),
                         percent(tally->match_rate()));
  return fmt::format("FAIL: {} of {} below the match threshold {}: {}\n", failing.size(),
                     r.tallies.size(), percent(threshold), names);
}

}  // namespace

std::string format_report_table(const VerifyReport& report, double threshold) {
  std::string out = summary(report) + "\n";
  std::vector<Row> rows{header_row()};
  bool any_beyond = false;
  for (std::size_t i = 0; i < report.tallies.size(); ++i) {
    rows.push_back(tally_row(report.tallies[i], report.beyond_retention[i]));
    any_beyond = any_beyond || report.beyond_retention[i];
  }
  out += table(rows);
  if (any_beyond)
    out +=
        "* longer than the retention: the store answers from day tiles (whole days), the "
        "recomputation by the "
        "same rule\n";
  const std::vector<const SignalTally*> failing = report.below(threshold);
  if (!failing.empty()) {
    out += "\nfirst mismatch of each signal below the threshold:\n";
    for (const SignalTally* tally : failing) {
      const MismatchExample& m = *tally->first_mismatch();
      out += fmt::format("  {}: user {} as of {} ({}): served {}, recomputed {}\n",
                         tally_label(*tally), m.user_id, m.as_of, format_iso_time(m.as_of),
                         shortened(m.served), shortened(m.recomputed));
    }
  }
  return out + "\n" + verdict(report, threshold);
}

}  // namespace signalbox
