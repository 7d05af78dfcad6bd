#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "signalbox/engine/engine.h"

namespace signalbox {

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
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  bool sorted = false;  // the files were out of order and were ingested through the sort
};

// Ingests NDJSON files into `engine` in ts order, whatever the order of their lines: plain or
// gzip-compressed (by content, so a `.gz` name is not needed), "-" for standard input. Unless
// `presorted`, the files are first checked and, when out of order (or read from standard
// input), sorted by (ts, file, line) with an external sort (TimeOrderedLog), so that an event
// is never rejected as late only because of where it stands in the files. A rejected line
// is reported and skipped; every other line is ingested. Throws std::runtime_error naming the
// file when one cannot be read; what was ingested before stays ingested.
ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options);

}  // namespace signalbox
