#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/backfill/query_file.h"
#include "signalbox/common/time.h"
#include "signalbox/config/config.h"

namespace signalbox {

// How the answers are written (see run_backfill).
enum class BackfillFormat {
  kJson,  // NDJSON: one answer object per line
  kCsv,   // one flat row per answer (FlatTable), after a header row
};

struct BackfillOptions {
  // NDJSON event logs: plain or gzip (by content), "-" for standard input. Read as one
  // stream, in ts order (sorted first unless `presorted`) or, with `arrival_order`, in the
  // order given.
  std::vector<std::string> event_files;
  // The signals and views to answer, in this order; empty: all (Engine::query's names).
  std::vector<std::string> names;
  // The names of the query file's extra columns, one per BackfillQuery::extra: each answer
  // carries them as string fields after as_of_iso.
  std::vector<std::string> extra_columns;
  BackfillFormat format = BackfillFormat::kJson;
  // kCsv: the group keys kept per signal or view (FlatTable's top_keys); absent: all.
  std::optional<std::size_t> top_keys;
  // Where the answers go, one line per query in query order; "-" for standard output.
  // A file is written under a temporary name beside it and renamed when complete, so it
  // never holds a partial result.
  std::string out;
  // Folder for the temporary store, result spool and sort runs (fresh subfolders, removed at
  // the end). Empty: the folder of `out`, or the system's temporary folder when `out` is "-".
  std::filesystem::path tmp_dir;
  // Event time (the default): a query as of T sees every event with ts <= T, wherever it
  // stands in the logs. The logs are checked and, when out of order, sorted by
  // (ts, file, line); each query is answered once the sorted stream passes its as_of.
  //
  // Arrival order (`arrival_order`): the logs are read as given, as online serving would
  // have received them. A query as of T is answered once the log shows an event with
  // ts > T + lateness, with every event read before that one; an event more than
  // late_horizon(config) behind stream time is rejected as too late.
  bool arrival_order = false;
  // The logs are known to be in ts order: no check and no sort (event time only).
  bool presorted = false;
  // Memory the sort may hold, in bytes.
  std::size_t sort_memory = std::size_t{256} << 20;
  // Arrival order only (std::invalid_argument otherwise). Absent: the config's
  // event_store.max_future_skew.
  std::optional<TimeMs> lateness;
  // Event lines ingested per engine call, at most.
  std::size_t batch_lines = 8192;
  // Draw a progress bar (a terminal) or progress lines (otherwise) on stderr.
  bool progress = true;
  // Stop reading the log once every query has been answered.
  bool stop_when_answered = true;
  // Called with "file:line: message" for each event rejected (invalid, or, in arrival order,
  // too late when it arrived).
  std::function<void(const std::string&)> on_reject;
  // When set and it becomes true, the backfill stops between batches and throws
  // std::runtime_error("interrupted"), leaving no output file and no temporary data.
  const std::atomic<bool>* stop = nullptr;
};

struct BackfillStats {
  std::uint64_t queries = 0;
  std::uint64_t query_errors = 0;  // queries answered with {"error": ...}
  std::string first_query_error;   // the first such error, as written
  bool arrival_order = false;      // the mode used (see BackfillOptions)
  bool sorted = false;             // event time: the logs were out of order and were sorted
  std::uint64_t lines = 0;         // event log lines read, blank ones included
  std::uint64_t accepted = 0;      // events taken, duplicates included
  std::uint64_t duplicates = 0;
  std::uint64_t rejected_invalid = 0;  // lines that are not a valid event
  // Arrival order: more than late_horizon(config) behind stream time when read. Event time
  // reads in ts order, where nothing is late: 0.
  std::uint64_t rejected_late = 0;
  // Arrival order: events stored (not duplicates) that arrived more than `lateness` behind
  // the newest event read before them: queries as of a time in [ts, newest - lateness) were
  // answered without them. Event time: 0.
  std::uint64_t beyond_lateness = 0;
  TimeMs lateness = 0;     // the lateness used (0 in event time)
  TimeMs stream_time = 0;  // the newest event ts ingested (0 when none)
  // When reading stopped before the log's end because every query was answered: the
  // "file:line" of the event that answered the last ones. Empty when the log was read whole.
  std::string stopped_at;
};

// Computes, for each query, the answer Engine::query(user_id, all names, as_of) gives —
// the same materializer, aggregators, tiles and views as online — from event logs, by
// streaming them in ts order (or, in arrival order, as given) through a temporary engine and
// answering each query as soon as the stream has passed its as_of (by `lateness` in arrival
// order; see docs/backfill.md). Each answer carries the query's extra columns as string fields
// after as_of_iso: {"user_id", "as_of", "as_of_iso", <extra>..., "signals"}. A query the
// engine refuses gets {"user_id", "as_of", "as_of_iso", <extra>..., "error"} instead and
// counts in query_errors. In kCsv format the same answers are written as a FlatTable: a
// header row, then one row per query.
// Memory holds the queries, the temporary engine's caches and at most `sort_memory` of the
// log: the sorted runs, the temporary store and the answers waiting for their turn are on
// disk.
//
// Throws QueryError, before any work, for a name in `names` that is no signal or view, and in
// kCsv format for an extra column named like a signal or view (their columns would clash).
// Throws ConfigError when `config` does not build an engine, std::runtime_error naming the
// file when an event log cannot be read or the output cannot be written, StorageError when
// the temporary store fails. On any failure no output file is left behind; the temporary
// folder is always removed.
BackfillStats run_backfill(const Config& config, const std::vector<BackfillQuery>& queries,
                           const BackfillOptions& options);

// One line saying what a backfill did, for the end of `signalbox backfill`.
std::string summary_line(const BackfillStats& stats);

}  // namespace signalbox
