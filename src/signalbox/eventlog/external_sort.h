#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "signalbox/common/temp_folder.h"
#include "signalbox/eventlog/log_record.h"

namespace signalbox {

struct ExternalSortOptions {
  // Where the sorted runs go: a fresh folder "signalbox-sort-XXXXXX" under it, created only
  // when the lines do not fit in memory and removed when the sort is destroyed. Empty: the
  // system's temporary folder.
  std::filesystem::path tmp_dir;
  // Bytes of line text and bookkeeping held at once while sorting; also shared out as the read
  // buffers of the merge. A single line larger than this is still taken, alone.
  std::size_t memory_budget = std::size_t{256} << 20;
  // Draw a "sort" phase on stderr while the lines are read and sorted.
  bool progress = true;
  // When set and true, sort() and merge() stop with std::runtime_error("interrupted").
  const std::atomic<bool>* stop = nullptr;
};

// Sorts every non-blank line of a set of event logs by (ts, file index, line number): stable
// with respect to the order the files were given in, and so deterministic. Lines whose ts
// cannot be read (LineTimeReader) come first. Blank lines are skipped but count as lines.
//
// sort() reads all lines into chunks of up to the memory budget, sorts each and, when there is
// more than one, writes each as a sorted run to the temporary folder; merge() then k-way merges
// the runs (in several passes when there are very many) and hands out the records in order. A
// single chunk is merged straight from memory, with no disk. Not thread-safe.
class ExternalSort {
 public:
  ExternalSort(std::vector<std::string> files, ExternalSortOptions options);
  ~ExternalSort();
  ExternalSort(const ExternalSort&) = delete;
  ExternalSort& operator=(const ExternalSort&) = delete;

  // Reads and sorts. Throws std::runtime_error naming the file when a log cannot be read or a
  // run cannot be written; the temporary folder is removed all the same (on destruction).
  void sort();
  // Hands every record to `consume` in order, until it returns false. Call once, after sort().
  // Throws std::runtime_error when a run cannot be read back; exceptions of `consume` pass
  // through.
  void merge(const LogRecordConsumer& consume);

  std::uint64_t lines() const { return lines_; }      // lines read, blank ones included
  std::uint64_t records() const { return records_; }  // non-blank lines, what merge() hands out
  std::size_t runs() const { return run_count_; }     // sorted runs written to disk (0: in memory)

 private:
  struct Entry;
  class Chunk;
  class RunWriter;
  class RunReader;

  void spill();
  std::filesystem::path next_run_path();
  void merge_runs(const std::vector<std::filesystem::path>& inputs,
                  const std::function<bool(const Entry&, std::string_view)>& sink);
  void check_stop() const;

  std::vector<std::string> files_;
  ExternalSortOptions options_;
  std::unique_ptr<Chunk> chunk_;
  std::optional<TempFolder> folder_;
  std::vector<std::filesystem::path> runs_;
  std::uint64_t next_run_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t records_ = 0;
  std::size_t run_count_ = 0;
};

}  // namespace signalbox
