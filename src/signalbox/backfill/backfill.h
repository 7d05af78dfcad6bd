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

struct BackfillOptions {
  // NDJSON event logs, read in this order as one stream: plain or gzip (by content), "-"
  // for standard input.
  std::vector<std::string> event_files;
  // Where the answers go, one NDJSON line per query in query order; "-" for standard output.
  // A file is written under a temporary name beside it and renamed when complete, so it
  // never holds a partial result.
  std::string out;
  // Folder for the temporary store and result spool (a fresh subfolder, removed at the end).
  // Empty: the folder of `out`, or the system's temporary folder when `out` is "-".
  std::filesystem::path tmp_dir;
  // A query as of T is answered once the log shows an event with ts > T + lateness, with
  // every event read before that one. Absent: the config's event_store.max_future_skew.
  std::optional<TimeMs> lateness;
  // Event lines ingested per engine call, at most.
  std::size_t batch_lines = 8192;
  // Draw a progress bar (a terminal) or progress lines (otherwise) on stderr.
  bool progress = true;
  // Stop reading the log once every query has been answered.
  bool stop_when_answered = true;
  // Called with "file:line: message" for each event rejected (invalid, or older than the
  // retention horizon when it arrived).
  std::function<void(const std::string&)> on_reject;
  // When set and it becomes true, the backfill stops between batches and throws
  // std::runtime_error("interrupted"), leaving no output file and no temporary data.
  const std::atomic<bool>* stop = nullptr;
};

struct BackfillStats {
  std::uint64_t queries = 0;
  std::uint64_t query_errors = 0;  // queries answered with {"error": ...}
  std::string first_query_error;   // the first such error, as written
  std::uint64_t lines = 0;         // event log lines read, blank ones included
  std::uint64_t accepted = 0;      // events taken, duplicates included
  std::uint64_t duplicates = 0;
  std::uint64_t rejected_invalid = 0;  // lines that are not a valid event
  std::uint64_t rejected_late = 0;     // older than the retention horizon when read
  // Events stored (not duplicates) that arrived more than `lateness` behind the newest event
  // read before them: queries as of a time in [ts, newest - lateness) were answered without
  // them.
  std::uint64_t beyond_lateness = 0;
  TimeMs lateness = 0;     // the lateness used
  TimeMs stream_time = 0;  // the newest event ts ingested (0 when none)
  // When reading stopped before the log's end because every query was answered: the
  // "file:line" of the event that answered the last ones. Empty when the log was read whole.
  std::string stopped_at;
};

// Computes, for each query, the answer Engine::query(user_id, all names, as_of) gives —
// the same materializer, aggregators, tiles and views as online — from event logs, by
// streaming them in order through a temporary engine and answering each query as soon as
// the log has passed its as_of by `lateness` (see docs/backfill.md). A query the engine
// refuses gets {"user_id", "as_of", "error"} on its line and counts in query_errors.
// Memory holds the queries and the temporary engine's caches, not the log: the temporary
// store and the answers waiting for their turn are on disk.
//
// Throws ConfigError when `config` does not build an engine, std::runtime_error naming the
// file when an event log cannot be read or the output cannot be written, StorageError when
// the temporary store fails. On any failure no output file is left behind; the temporary
// folder is always removed.
BackfillStats run_backfill(const Config& config, const std::vector<BackfillQuery>& queries,
                           const BackfillOptions& options);

// One line saying what a backfill did, for the end of `signalbox backfill`.
std::string summary_line(const BackfillStats& stats);

}  // namespace signalbox
