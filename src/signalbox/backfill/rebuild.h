#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "signalbox/engine/engine.h"

namespace signalbox {

struct RebuildOptions {
  // The logs are known to be in ts order: read them as given, without the order check and
  // the sort.
  bool presorted = false;
  // Folder for the sort's temporary runs; empty: the system's temporary folder.
  std::filesystem::path tmp_dir;
  // Memory the sort may hold, in bytes.
  std::size_t sort_memory = std::size_t{256} << 20;
  bool progress = true;
  // Events folded per Engine::fold_history() call.
  std::size_t batch_events = 8192;
  // The logs hold every event the store ever took: the states become complete for all of
  // history (complete_since 0) rather than from the logs' oldest event on.
  bool all_history = false;
  // Called with "file:line: message" for each line that is not a valid event.
  std::function<void(const std::string&)> on_reject;
};

struct RebuildStats {
  bool needed = false;         // some state was not complete for all time
  std::uint64_t lines = 0;     // lines of the logs read
  std::uint64_t events = 0;    // valid events read
  std::uint64_t folded = 0;    // events folded into at least one state
  std::uint64_t repeats = 0;   // events whose (user_id, event_id) came earlier in the logs
  std::uint64_t rejected = 0;  // lines that are not valid events
  TimeMs oldest = 0;           // the oldest ts of the logs' events (when events > 0)
  bool sorted = false;         // the logs were out of order and were read through the sort
};

// Fills the states of `engine` that do not hold all of history (Engine::history_incomplete)
// from archived event logs (NDJSON, plain or gzip, "-" for standard input), as if their
// events had been ingested live: the events are read in ts order, each (user_id, event_id)
// once (the first in ts order), checked by the ingest rules, and every one older than a
// state's complete_since is folded into that state (Engine::fold_history); newer ones are
// already there. Then each state is complete from the logs' oldest event on (from the
// beginning with options.all_history; Engine::extend_history), so the logs must hold every
// event from their oldest on. Run any
// pending bootstrap first (run_bootstrap), and never beside a server on the same store. Throws
// std::runtime_error naming the file when a log cannot be read, StorageError when the store
// fails.
RebuildStats rebuild_from_logs(Engine& engine, const std::vector<std::string>& files,
                               const RebuildOptions& options);

}  // namespace signalbox
