#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace signalbox {

// Reports the progress of a long job on stderr: a redrawn bar with rate and ETA on a
// terminal, a plain line every few seconds otherwise (logs, CI). Not thread-safe.
class ProgressReporter {
 public:
  // `total` is the amount of work (bytes, rows) when known, 0 when not; `unit` names what
  // the rate counts ("events").
  ProgressReporter(std::string label, std::uint64_t total, std::string unit, bool enabled = true);
  ~ProgressReporter();

  // `done` work so far; `items` the count the rate is given in.
  void update(std::uint64_t done, std::uint64_t items);
  // Draws the final state and ends the line.
  void finish(std::uint64_t done, std::uint64_t items);

 private:
  void draw(std::uint64_t done, std::uint64_t items, bool final);

  std::string label_;
  std::uint64_t total_;
  std::string unit_;
  bool enabled_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace signalbox
