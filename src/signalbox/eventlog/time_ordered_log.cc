#include "signalbox/eventlog/time_ordered_log.h"

#include <sys/stat.h>

#include <optional>
#include <stdexcept>

#include "signalbox/eventlog/event_log_reader.h"
#include "signalbox/eventlog/external_sort.h"
#include "signalbox/eventlog/order_check.h"

namespace signalbox {

namespace {}  // namespace

struct TimeOrderedLog::State {
  std::vector<std::string> files;
  TimeOrderOptions options;
  bool prepared = false;
  std::optional<ExternalSort> sort;
  // Reading as given: the bytes of the files before the current one, and the current reader.
  std::uint64_t bytes_total = 0;
  std::uint64_t bytes_before = 0;
  const EventLogReader* current = nullptr;
  std::uint64_t lines_before = 0;  // lines of the files before the current one
  std::uint64_t lines = 0;
  std::uint64_t handed = 0;  // records handed out
};

TimeOrderedLog::TimeOrderedLog(std::vector<std::string> files, TimeOrderOptions options)
    : state_(std::make_unique<State>()) {
  state_->files = std::move(files);
  state_->options = std::move(options);
}

TimeOrderedLog::~TimeOrderedLog() = default;

void TimeOrderedLog::prepare() {
  State& s = *state_;
  if (s.prepared) return;
  s.prepared = true;
  for (const std::string& f : s.files) {
    struct stat st;
    if (f != "-" && ::stat(f.c_str(), &st) == 0)
      s.bytes_total += static_cast<std::uint64_t>(st.st_size);
  }
  if (s.options.presorted || logs_in_time_order(s.files, s.options.progress, s.options.stop))
    return;
  ExternalSortOptions sort_options;
  sort_options.tmp_dir = s.options.tmp_dir;
  sort_options.memory_budget = s.options.sort_memory;
  sort_options.progress = s.options.progress;
  sort_options.stop = s.options.stop;
  s.sort.emplace(s.files, sort_options);
  s.sort->sort();
  s.lines = s.sort->lines();
}

void TimeOrderedLog::read(const LogRecordConsumer& consume) {
  prepare();
  State& s = *state_;
  if (!s.sort) {
    read_as_given(consume);
    return;
  }
  s.sort->merge([&](const LogRecord& record) {
    ++s.handed;
    return consume(record);
  });
}

void TimeOrderedLog::read_as_given(const LogRecordConsumer& consume) {
  State& s = *state_;
  std::vector<std::string_view> lines;
  for (std::size_t f = 0; f < s.files.size(); ++f) {
    EventLogReader log(s.files[f]);
    s.current = &log;
    struct Unset {
      const EventLogReader*& current;
      ~Unset() { current = nullptr; }
    } unset{s.current};
    while (log.next_lines(EventLogReader::kLinesPerRead, lines)) {
      if (s.options.stop && s.options.stop->load()) throw std::runtime_error("interrupted");
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (is_blank_line(lines[i])) continue;
        const std::uint64_t line = log.first_line() + i;
        s.lines = s.lines_before + line;
        ++s.handed;
        if (!consume(LogRecord{static_cast<std::uint32_t>(f), line, lines[i]})) return;
      }
      s.lines = s.lines_before + log.first_line() + lines.size() - 1;
    }
    s.lines_before = s.lines;
    s.bytes_before += log.size();
  }
}

bool TimeOrderedLog::sorted() const { return state_->sort.has_value(); }

std::uint64_t TimeOrderedLog::total() const {
  return state_->sort ? state_->sort->records() : state_->bytes_total;
}

std::uint64_t TimeOrderedLog::done() const {
  const State& s = *state_;
  if (s.sort) return s.handed;
  return s.bytes_before + (s.current ? s.current->position() : 0);
}

std::uint64_t TimeOrderedLog::lines() const { return state_->lines; }

}  // namespace signalbox
