#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace signalbox {

// Where and how often a ProgressReporter writes.
struct ProgressOutput {
  std::FILE* stream = stderr;
  // Whether `stream` is a terminal; absent: asked with isatty().
  std::optional<bool> terminal;
  // Least time between two progress lines when not on a terminal (a terminal's bar is redrawn
  // every 200 ms).
  std::chrono::milliseconds line_interval = std::chrono::seconds(10);
};

// Reports the progress of a long job on stderr: on a terminal, a bar redrawn in place with
// rate and ETA; otherwise (logs, CI) a plain line every 10 s and one final "done" line,
// printed exactly once. Not thread-safe.
class ProgressReporter {
 public:
  // `total` is the amount of work (bytes, rows) when known, 0 when not; `unit` names what
  // the rate counts ("events"). Disabled, it writes nothing.
  ProgressReporter(std::string label, std::uint64_t total, std::string unit, bool enabled = true,
                   ProgressOutput output = {});
  ~ProgressReporter();

  // `done` work so far; `items` the count the rate is given in. Draws when the interval has
  // passed; never draws the final state, which is finish()'s.
  void update(std::uint64_t done, std::uint64_t items);
  // Draws the final state and ends the line; calls after the first do nothing.
  void finish(std::uint64_t done, std::uint64_t items);

 private:
  void draw(std::uint64_t done, std::uint64_t items, bool final);

  std::string label_;
  std::uint64_t total_;
  std::string unit_;
  bool enabled_;
  ProgressOutput output_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace signalbox
