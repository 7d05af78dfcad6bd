#include "signalbox/eventlog/order_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "signalbox/eventlog/event_log_reader.h"
#include "signalbox/eventlog/line_time.h"
#include "signalbox/eventlog/progress.h"

namespace signalbox {

namespace {}  // namespace

bool logs_in_time_order(const std::vector<std::string>& files, bool progress,
                        const std::atomic<bool>* stop) {
  if (std::find(files.begin(), files.end(), "-") != files.end()) return false;
  std::uint64_t total = 0;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_size);
  }
  ProgressReporter reporter("check order", total, "lines", progress);
  LineTimeReader times;
  TimeMs newest = kNoTime;
  std::uint64_t done_before = 0;
  std::uint64_t lines_read = 0;
  std::vector<std::string_view> lines;
  for (const std::string& name : files) {
    EventLogReader log(name);
    while (log.next_lines(EventLogReader::kLinesPerRead, lines)) {
      if (stop && stop->load()) throw std::runtime_error("interrupted");
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (is_blank_line(lines[i])) continue;
        TimeMs ts = times.read(lines[i]);
        if (ts == kNoTime) continue;
        if (ts < newest) {
          reporter.finish(done_before + log.position(), lines_read + i + 1);
          return false;
        }
        newest = ts;
      }
      lines_read += lines.size();
      reporter.update(done_before + log.position(), lines_read);
    }
    done_before += log.size();
  }
  reporter.finish(total, lines_read);
  return true;
}

}  // namespace signalbox
