#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/verify/served_values.h"
#include "signalbox/verify/verify_report.h"

namespace signalbox {

struct VerifyOptions {
  // NDJSON event logs (plain or gzip): the history the served values should reflect. Read
  // twice (to sample, then to recompute), so standard input cannot be one.
  std::vector<std::string> event_files;
  std::size_t sample_users = 100;   // users picked from the logs, at most
  std::size_t points_per_user = 3;  // as_of times per user, at most (>= 1)
  std::uint64_t seed = 1;           // of the user sample and the times
  // The signals and views checked; empty: all. Times are picked where all of them can be
  // answered, so a few short windows reach further back than every signal together.
  std::vector<std::string> names;
  // Numbers that differ by at most this much, relative, still match (SignalTally). The
  // default lies far above the rounding of double sums taken in another order (~1e-16): the
  // store and the recomputation add the same events in differently cut ingest batches and
  // tiles. And far below the promised precision of decayed counts, means and normalised
  // values (1e-6).
  double tolerance = 1e-9;
  // Folder for the recomputation's temporary store and sort runs (a fresh subfolder, removed
  // at the end). Empty: the system's temporary folder.
  std::filesystem::path tmp_dir;
  bool progress = true;  // the recomputation's progress on stderr
  // When set and it becomes true, the recomputation stops and throws
  // std::runtime_error("interrupted"), leaving no temporary data.
  const std::atomic<bool>* stop = nullptr;
};

// Throws std::invalid_argument naming the option for options run_verify cannot take with
// `config`: no logs, standard input among them, points_per_user 0, a negative tolerance, a
// name that is no signal or view of the config.
void check_verify_options(const Config& config, const VerifyOptions& options);

// Checks served values against the event log: samples users from `options.event_files`
// (sample_log_users), picks as_of times each that `served` can answer, up to the smaller of
// its stream time and the logs' newest event (choose_check_points), recomputes every signal
// and view at those points from the logs with the backfill (run_backfill: the same engine
// code, in event time, on a temporary store), asks `served` for the same points, and tallies
// each signal window's comparisons. Points either side refuses are counted, not compared.
// Uses `served` from the calling thread only; any number of runs may go on at once with
// different `served` objects.
//
// Throws std::invalid_argument as check_verify_options does, before any work; std::runtime_error
// when the logs hold no valid event, `served` holds nothing, or a log cannot be read; and what
// `served` and run_backfill throw.
VerifyReport run_verify(const Config& config, ServedValues& served, const VerifyOptions& options);

}  // namespace signalbox
