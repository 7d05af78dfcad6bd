#include "signalbox/verify/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "signalbox/backfill/backfill.h"
#include "signalbox/backfill/json_value.h"
#include "signalbox/common/error.h"
#include "signalbox/common/temp_folder.h"
#include "signalbox/verify/check_points.h"
#include "signalbox/verify/log_sample.h"

namespace signalbox {

namespace {

namespace fs = std::filesystem;

// Refused points listed in the report, at most.
constexpr std::size_t kRefusedExamples = 5;

bool wanted(const std::vector<std::string>& names, const std::string& name) {
  return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void check_verify_options(const Config& config, const VerifyOptions& options) {
  if (options.event_files.empty()) throw std::invalid_argument("--events: no event log given");
  for (const std::string& file : options.event_files)
    if (file == "-")
      throw std::invalid_argument(
          "--events: verify reads the logs twice, so standard input (-) cannot be one");
  if (options.points_per_user == 0) throw std::invalid_argument("--points: must be at least 1");
  if (!(options.tolerance >= 0)) throw std::invalid_argument("--tolerance: must be 0 or more");
  for (const std::string& name : options.names) {
    const bool signal = std::any_of(config.signals.begin(), config.signals.end(),
                                    [&](const SignalConfig& s) { return s.name == name; });
    const bool view = std::any_of(config.views.begin(), config.views.end(),
                                  [&](const ViewConfig& v) { return v.name == name; });
    if (!signal && !view)
      throw std::invalid_argument(
          fmt::format("--names: \"{}\" is no signal or view of the config", name));
  }
}

namespace {

// One tally per signal window, signal without windows, and view of `names` (all when empty),
// in config order, with whether each window is longer than the retention.
void add_tallies(const Config& config, const std::vector<std::string>& names, double tolerance,
                 VerifyReport& report) {
  for (const SignalConfig& signal : config.signals) {
    if (!wanted(names, signal.name)) continue;
    if (signal.windows.empty()) {
      report.tallies.emplace_back(signal.name, "", tolerance);
      report.beyond_retention.push_back(false);
    }
    for (const WindowConfig& window : signal.windows) {
      report.tallies.emplace_back(signal.name, window.text, tolerance);
      report.beyond_retention.push_back(window.length > config.event_store.retention);
    }
  }
  for (const ViewConfig& view : config.views) {
    if (!wanted(names, view.name)) continue;
    report.tallies.emplace_back(view.name, "", tolerance);
    report.beyond_retention.push_back(false);
  }
}

// The answers of the backfill for `points`, in their order, each the whole answer object.
std::vector<Value> recompute(const Config& config, const std::vector<BackfillQuery>& points,
                             const VerifyOptions& options) {
  const fs::path parent = options.tmp_dir.empty() ? fs::temp_directory_path() : options.tmp_dir;
  TempFolder folder(parent, "signalbox-verify");
  BackfillOptions backfill;
  backfill.event_files = options.event_files;
  backfill.names = options.names;
  backfill.out = (folder.path() / "recomputed.ndjson").string();
  backfill.tmp_dir = folder.path();
  backfill.progress = options.progress;
  backfill.stop = options.stop;
  run_backfill(config, points, backfill);
  std::ifstream in(backfill.out);
  std::vector<Value> answers;
  answers.reserve(points.size());
  for (std::string line; std::getline(in, line);) answers.push_back(parse_json_value(line));
  if (answers.size() != points.size())
    throw std::runtime_error(
        fmt::format("the recomputation answered {} of {} points", answers.size(), points.size()));
  return answers;
}

// The value of `tally`'s signal window in a "signals" object; null when absent.
Value value_of(const Value& signals, const SignalTally& tally) {
  const Value* result = signals.find(tally.name());
  if (result && !tally.window().empty()) result = result->find(tally.window());
  return result ? *result : Value();
}

void refuse(VerifyReport& report, const BackfillQuery& point, std::string reason) {
  ++report.points_refused;
  if (report.refused_examples.size() < kRefusedExamples)
    report.refused_examples.push_back(RefusedPoint{point.user_id, point.as_of, std::move(reason)});
}

// Asks `served` for `point` and tallies each signal window against `recomputed`.
void compare_point(ServedValues& served, const std::vector<std::string>& names,
                   const BackfillQuery& point, const Value& recomputed, VerifyReport& report) {
  if (const Value* error = recomputed.find("error")) {
    refuse(report, point,
           "recomputation: " + (error->is_string() ? error->string() : error->to_json()));
    return;
  }
  Value served_signals;
  try {
    served_signals = served.signals(point.user_id, names, point.as_of);
  } catch (const QueryError& e) {
    refuse(report, point, fmt::format("served: {}", e.what()));
    return;
  }
  const Value* recomputed_signals = recomputed.find("signals");
  const Value none;
  for (SignalTally& tally : report.tallies)
    tally.add(point.user_id, point.as_of, value_of(served_signals, tally),
              recomputed_signals ? value_of(*recomputed_signals, tally) : none);
  ++report.points_compared;
}

}  // namespace

VerifyReport run_verify(const Config& config, ServedValues& served, const VerifyOptions& options) {
  check_verify_options(config, options);
  VerifyReport report;
  report.served_by = served.description();
  report.seed = options.seed;
  report.points_per_user = options.points_per_user;
  report.log_files = options.event_files.size();
  report.tolerance = options.tolerance;
  add_tallies(config, options.names, options.tolerance, report);

  const LogSample sample =
      sample_log_users(options.event_files, options.sample_users, options.seed,
                       DecodeOptions{config.event_store.max_future_skew, wall_clock_ms});
  report.log_lines = sample.lines;
  report.log_invalid = sample.invalid_events;
  report.users_sampled = sample.users.size();
  if (!sample.log_end)
    throw std::runtime_error("the event logs hold no valid event: nothing to verify against");
  const std::optional<TimeMs> stream_time = served.stream_time();
  if (!stream_time)
    throw std::runtime_error(
        fmt::format("{} holds no events: nothing to verify", report.served_by));
  report.stream_time = *stream_time;
  report.log_end = *sample.log_end;
  // Beyond the end of the logs the store may hold events the logs lack, and beyond stream
  // time the logs may hold events the store has not seen yet: neither side is the truth there.
  report.checked_through = std::min(*stream_time, *sample.log_end);

  const CheckPoints chosen =
      choose_check_points(sample.users, served, options.names, report.checked_through,
                          options.points_per_user, options.seed);
  report.users_after_stream_time = chosen.users_after_end;
  report.users_unanswerable = chosen.users_unanswerable;
  report.points = chosen.points.size();
  if (chosen.points.empty()) return report;

  const std::vector<Value> recomputed = recompute(config, chosen.points, options);
  for (std::size_t i = 0; i < chosen.points.size(); ++i)
    compare_point(served, options.names, chosen.points[i], recomputed[i], report);
  return report;
}

}  // namespace signalbox
