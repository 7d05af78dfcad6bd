#pragma once

#include <cstdint>
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
  // Called with "file:line: message" for each rejected event.
  std::function<void(const std::string&)> on_reject;
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
};

// Ingests NDJSON files into `engine` in order: plain or gzip-compressed (by content, so a
// `.gz` name is not needed), "-" for standard input. A rejected line is reported and skipped;
// every other line is ingested. Throws std::runtime_error naming the file when one cannot be
// read; what was ingested before stays ingested.
ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options);

}  // namespace signalbox
