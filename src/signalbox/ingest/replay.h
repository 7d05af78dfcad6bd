#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "signalbox/engine/engine.h"

namespace signalbox {

// What to do when the store holds the checkpoint of a replay that did not finish.
enum class InterruptedReplay {
  kRefuse,   // throw ReplayInterrupted, naming the files and where that replay stopped
  kResume,   // go on after the checkpoint, when the files are the same (else throw)
  kRestart,  // replay the files from their start (what is stored counts as duplicates)
};

// A replay that cannot go ahead because of an interrupted one: the message says what to do.
class ReplayInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReplayOptions {
  // Lines ingested per engine call: larger batches amortise lookups and writes and combine
  // more events into each tile delta. Two batches are in memory at once (one prepared while
  // the other is stored), with their decoded and materialized events.
  std::size_t batch_lines = 32768;
  bool progress = true;
  // The files are known to be in ts order: ingest them as given, without the order check
  // and the sort.
  bool presorted = false;
  // Folder for the sort's temporary runs (a fresh subfolder, removed at the end); empty: the
  // system's temporary folder.
  std::filesystem::path tmp_dir;
  // Memory the sort may hold, in bytes; more spills to `tmp_dir`.
  std::size_t sort_memory = std::size_t{256} << 20;
  // Called with "file:line: message" for each rejected event, naming its place in the file
  // it came from.
  std::function<void(const std::string&)> on_reject;
  InterruptedReplay interrupted = InterruptedReplay::kRefuse;
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  bool sorted = false;  // the files were out of order and were ingested through the sort
  // Resuming: the records an interrupted replay of the same files had stored, skipped now
  // (not counted in `lines`' events above); 0 otherwise.
  std::uint64_t resumed_after = 0;
  bool found_interrupted = false;  // the store held the checkpoint of an unfinished replay
};

// Ingests NDJSON files into `engine` in ts order, whatever the order of their lines: plain or
// gzip-compressed (by content, so a `.gz` name is not needed), "-" for standard input. Unless
// `presorted`, the files are first checked and, when out of order (or read from standard
// input), sorted by (ts, file, line) with an external sort (TimeOrderedLog), so that an event
// is never rejected as late only because of where it stands in the files. A rejected line
// is reported and skipped; every other line is ingested. Throws std::runtime_error naming the
// file when one cannot be read; what was ingested before stays ingested.
//
// Crash safety: after each stored batch the replay's checkpoint (ReplayCheckpoint: the files'
// identity and the records of the time-ordered stream stored so far) is written to the store
// as a note, and deleted when every record is stored. A replay killed at any moment can then be
// resumed (options.interrupted = kResume) with the same files: the records up to the
// checkpoint are read (and sorted) again but not ingested, and the batch stored after the last
// checkpoint, if any, comes again as duplicates. The end state is that of one uninterrupted
// run. Throws ReplayInterrupted when the store holds the checkpoint of an unfinished replay
// and options.interrupted says to refuse, or to resume but the files are not the same.
ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options);

}  // namespace signalbox
