#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace signalbox {

// Whether a line holds nothing but blanks: such lines are skipped, but still count in line
// numbers.
inline bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Reads one event log file as lines: plain or gzip-compressed (recognised by content, so any
// name), or standard input for "-". The one line reader of `replay`, `backfill`, the order
// check and the external sort. It hands out views into its own buffer instead of a string per
// line, which matters at tens of millions of lines. Not thread-safe.
class EventLogReader {
 public:
  // Throws std::runtime_error("<name>: cannot open: <reason>") when the file cannot be opened.
  explicit EventLogReader(std::string name);
  ~EventLogReader();
  EventLogReader(const EventLogReader&) = delete;
  EventLogReader& operator=(const EventLogReader&) = delete;

  // A good `max` for next_lines(): large enough that per-call costs vanish, small enough that
  // the lines held stay a few MiB.
  static constexpr std::size_t kLinesPerRead = 8192;

  // Replaces `lines` with up to `max` further lines, without their line ends; they stay valid
  // until the next call. Returns false at the end of the input. Throws std::runtime_error
  // naming the file on a read error (a corrupt or truncated gzip stream).
  bool next_lines(std::size_t max, std::vector<std::string_view>& lines);

  // The 1-based line number of lines[0] of the last next_lines() call.
  std::uint64_t first_line() const { return first_line_; }
  const std::string& name() const { return name_; }
  // Bytes of the file consumed so far (of the compressed file for gzip), for progress.
  std::uint64_t position() const;
  // The file's size, or 0 when unknown (standard input, a pipe).
  std::uint64_t size() const { return size_; }

 private:
  std::string name_;
  gzFile file_ = nullptr;
  std::uint64_t size_ = 0;
  std::string buffer_;
  std::size_t consumed_ = 0;  // buffer_[0, consumed_) has been handed out
  bool eof_ = false;
  std::uint64_t first_line_ = 1;
  std::uint64_t next_line_ = 1;
};

}  // namespace signalbox
