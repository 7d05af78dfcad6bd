#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "signalbox/eventlog/log_record.h"

namespace signalbox {

struct TimeOrderOptions {
  // The files are known to be in ts order: read them as given, with no check and no sort.
  bool presorted = false;
  // Folder for the external sort's runs (see ExternalSortOptions); empty: the system's.
  std::filesystem::path tmp_dir;
  // Memory for the external sort, in bytes.
  std::size_t sort_memory = std::size_t{256} << 20;
  // Draw the "check order" and "sort" phases on stderr.
  bool progress = true;
  // When set and true, reading stops with std::runtime_error("interrupted").
  const std::atomic<bool>* stop = nullptr;
};

// A set of event logs read as one stream in ts order, whatever the order of their lines:
// unless presorted, the files are checked (logs_in_time_order) and, when they are out of
// order or include standard input, sorted (ExternalSort) by (ts, file index, line number).
// Files already in order are read as they are, so their records come in file order, which
// is the same order. Not thread-safe.
class TimeOrderedLog {
 public:
  TimeOrderedLog(std::vector<std::string> files, TimeOrderOptions options);
  ~TimeOrderedLog();
  TimeOrderedLog(const TimeOrderedLog&) = delete;
  TimeOrderedLog& operator=(const TimeOrderedLog&) = delete;

  // Checks the order and sorts when needed: the slow part before the first record. Throws
  // std::runtime_error naming the file when a log cannot be read.
  void prepare();
  // Hands every non-blank line to `consume` in ts order until it returns false; calls
  // prepare() first when it was not called. Call once. Exceptions of `consume` pass through.
  void read(const LogRecordConsumer& consume);

  // Whether the records come from the external sort (the files were not in order).
  bool sorted() const;
  // Progress of read(), for a progress bar: total() is the work (bytes of the files when read
  // as they are, records when sorted; 0 when unknown) and done() how much of it is behind.
  std::uint64_t total() const;
  std::uint64_t done() const;
  // Lines read so far, blank ones included: when sorted, every line of every file; otherwise
  // the lines up to the last record handed out (every line once read() has finished).
  std::uint64_t lines() const;

 private:
  void read_as_given(const LogRecordConsumer& consume);

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace signalbox
