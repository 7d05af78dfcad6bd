#include "signalbox/backfill/backfill.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <system_error>

#include "signalbox/backfill/csv.h"
#include "signalbox/backfill/flat_table.h"
#include "signalbox/backfill/json_value.h"
#include "signalbox/common/error.h"
#include "signalbox/common/temp_folder.h"
#include "signalbox/engine/engine.h"
#include "signalbox/event/decode.h"
#include "signalbox/eventlog/progress.h"
#include "signalbox/eventlog/time_ordered_log.h"
#include "signalbox/store/tiles.h"

namespace signalbox {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void throw_io_error(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

TimeMs saturating_add(TimeMs a, TimeMs b) {
  return a > std::numeric_limits<TimeMs>::max() - b ? std::numeric_limits<TimeMs>::max() : a + b;
}

// Answers in the order they are computed (by as_of), each findable by its query's position,
// so the output can be written in query order without holding the answers in memory.
class AnswerSpool {
 public:
  AnswerSpool(const fs::path& file, std::size_t queries) : name_(file.string()), index_(queries) {
    fd_ = ::open(name_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw_io_error(fmt::format("{}: cannot create", name_));
  }
  ~AnswerSpool() {
    if (fd_ >= 0) ::close(fd_);
  }
  AnswerSpool(const AnswerSpool&) = delete;
  AnswerSpool& operator=(const AnswerSpool&) = delete;

  void put(std::size_t position, const std::string& answer) {
    index_[position] = {written_ + buffer_.size(), answer.size()};
    buffer_ += answer;
    if (buffer_.size() >= kBufferBytes) drain();
  }

  // The answer put for `position`, into `out` (replacing its content).
  void get(std::size_t position, std::string& out) {
    drain();
    auto [offset, size] = index_[position];
    out.resize(size);
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, out.data() + done, size - done, static_cast<off_t>(offset + done));
      if (n <= 0) throw_io_error(fmt::format("{}: cannot read back", name_));
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  static constexpr std::size_t kBufferBytes = 1 << 20;

  void drain() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_io_error(fmt::format("{}: cannot write", name_));
      done += static_cast<std::size_t>(n);
    }
    written_ += buffer_.size();
    buffer_.clear();
  }

  std::string name_;
  int fd_ = -1;
  std::vector<std::pair<std::uint64_t, std::size_t>> index_;  // (offset, size) by position
  std::uint64_t written_ = 0;
  std::string buffer_;
};

// The output: standard output, or a file written under a temporary name beside its final
// one and renamed by commit(); dropped when never committed.
class Output {
 public:
  explicit Output(const std::string& name) : name_(name) {
    if (name == "-") {
      file_ = stdout;
      return;
    }
    fs::path target(name);
    fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string pattern =
        (folder / ("." + target.filename().string() + ".partial-XXXXXX")).string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw_io_error(fmt::format("{}: cannot write", name));
    partial_ = pattern;
    file_ = ::fdopen(fd, "wb");
    if (!file_) {
      ::close(fd);
      ::unlink(partial_.c_str());
      throw_io_error(fmt::format("{}: cannot write", name));
    }
  }
  ~Output() {
    if (partial_.empty()) return;
    if (file_) std::fclose(file_);
    ::unlink(partial_.c_str());
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void write_line(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() ||
        std::fputc('\n', file_) == EOF)
      throw_io_error(fmt::format("{}: cannot write", name_));
  }

  void commit() {
    if (partial_.empty()) {
      if (std::fflush(file_) != 0) throw_io_error(fmt::format("{}: cannot write", name_));
      return;
    }
    // mkstemp creates the file 0600; the output should look like any other file written.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(::fileno(file_), 0666 & ~mask);
    int status = std::fclose(file_);
    file_ = nullptr;
    if (status != 0) throw_io_error(fmt::format("{}: cannot write", name_));
    if (::rename(partial_.c_str(), name_.c_str()) != 0)
      throw_io_error(fmt::format("{}: cannot write", name_));
    partial_.clear();
  }

 private:
  std::string name_;
  std::string partial_;  // empty for standard output and once committed
  std::FILE* file_ = nullptr;
};

// The names of the windowed signals: their results are {window: result}.
std::set<std::string> windowed_signals(const Config& config) {
  std::set<std::string> names;
  for (const SignalConfig& s : config.signals)
    if (!s.windows.empty()) names.insert(s.name);
  return names;
}

// Fails early, before any work, for names no signal or view has, and for extra columns whose
// CSV columns would clash with a signal's or view's.
void check_names(const Config& config, const BackfillOptions& options) {
  std::set<std::string> known;
  for (const SignalConfig& s : config.signals) known.insert(s.name);
  for (const ViewConfig& v : config.views) known.insert(v.name);
  for (const std::string& name : options.names) {
    if (!known.count(name))
      throw QueryError(fmt::format("names: \"{}\" is no signal or view of the config", name));
  }
  if (options.format != BackfillFormat::kCsv) return;
  for (const std::string& column : options.extra_columns) {
    if (known.count(column))
      throw QueryError(
          fmt::format("query file column \"{}\" has the name of a signal or view, "
                      "whose CSV columns start with it: rename the column",
                      column));
  }
}

// Fails early, before any work, for a log that will not open when its turn comes.
void check_event_files(const std::vector<std::string>& files) {
  if (files.empty()) throw std::runtime_error("no event log given");
  if (std::count(files.begin(), files.end(), "-") > 1)
    throw std::runtime_error("-: standard input can be read only once");
  for (const std::string& f : files) {
    if (f == "-") continue;
    struct stat st;
    if (::stat(f.c_str(), &st) != 0 || ::access(f.c_str(), R_OK) != 0)
      throw_io_error(fmt::format("{}: cannot open", f));
    if (S_ISDIR(st.st_mode))
      throw std::runtime_error(fmt::format("{}: cannot open: is a directory", f));
  }
}

// The backfill proper: one pass over the log, queries answered in as_of order.
class Backfill {
 public:
  Backfill(const Config& config, const std::vector<BackfillQuery>& queries,
           const BackfillOptions& options, const fs::path& folder, TimeMs lateness)
      : queries_(queries),
        options_(options),
        lateness_(lateness),
        folder_(folder),
        decoder_(DecodeOptions{config.event_store.max_future_skew, wall_clock_ms}),
        engine_(temporary_config(config, folder, lateness), temporary_engine_options(config)),
        spool_(folder / "answers", queries.size()),
        order_(queries.size()) {
    if (options.format == BackfillFormat::kCsv)
      table_.emplace(windowed_signals(config), options.top_keys);
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
      return queries_[a].as_of < queries_[b].as_of;
    });
    stats_.queries = queries.size();
    stats_.lateness = lateness;
    stats_.arrival_order = options.arrival_order;
  }

  BackfillStats run(Output& output) {
    read_log();
    due_end_ = order_.size();  // as_of at or after the log's end
    answer_due();
    if (table_)
      write_table(output);
    else
      write_lines(output);
    output.commit();
    TimeMs stream_time = engine_.stream_time();
    stats_.stream_time = stream_time == kBeginningOfTime ? 0 : stream_time;
    return stats_;
  }

 private:
  struct Pending {
    Event event;
    std::uint32_t file = 0;
    std::uint64_t line = 0;
    bool beyond_lateness = false;
  };

  // How far past a due query's as_of + lateness stream time may run before the query is
  // answered. Due queries wait for the end of the read batch rather than cut it, so that
  // dense queries do not shrink ingest batches; this slack bounds how far the batch may
  // carry stream time meanwhile.
  static constexpr TimeMs kAnswerSlack = kDayMs;

  // The config of the temporary engine: its own store, and raw events kept long enough that
  // every query is answerable exactly when its turn comes. The query planner answers any
  // as_of >= stream time - max_future_skew; a query is answered while stream time is at most
  // as_of + lateness + kAnswerSlack, so max_future_skew >= that sum suffices. The extra hour
  // keeps the raw events at the end of a long window ([floor_hour(as_of + 1), as_of]) present
  // even with a retention under an hour. Windows depend on the retention alone, unchanged.
  static Config temporary_config(const Config& config, const fs::path& folder, TimeMs lateness) {
    Config temp = config;
    temp.storage.kind = "rocksdb";
    temp.storage.nodes.clear();
    temp.storage.path = folder / "store";
    temp.ingest.clear();
    temp.event_store.max_future_skew =
        std::max(config.event_store.max_future_skew, lateness + kAnswerSlack) + kHourMs;
    return temp;
  }

  // The temporary engine keeps ids longer than online serving does (its max_future_skew is
  // larger, see temporary_config), so it is told the online late horizon: in arrival order it
  // then rejects as too late exactly what online serving would. In ts order nothing is late.
  static Engine::Options temporary_engine_options(const Config& config) {
    Engine::Options options;
    options.late_horizon = late_horizon(config);
    return options;
  }

  TimeMs deadline(std::size_t k) const {
    return saturating_add(queries_[order_[k]].as_of, lateness_);
  }
  bool all_due() const { return due_end_ == order_.size(); }
  bool any_due() const { return next_ < due_end_; }

  // Whether ingesting `event` now would change the answer of a due query or carry stream time
  // beyond what the planner can answer for it: then the due queries must be answered first.
  bool must_answer_before(const Event& event) const {
    if (!any_due()) return false;
    return event.ts <= queries_[order_[due_end_ - 1]].as_of ||
           event.ts > saturating_add(deadline(next_), kAnswerSlack);
  }

  // Marks as due every query the log has passed: as_of + lateness < ts. Events with a larger
  // ts than a due query's as_of cannot change its answer (they are outside every window), so
  // it may still be answered after them.
  void mark_due(TimeMs ts) {
    while (due_end_ < order_.size() && deadline(due_end_) < ts) ++due_end_;
  }

  // Ingests what is pending and answers the due queries.
  void answer_pending() {
    ingest_pending();
    answer_due();
  }

  void answer_due() {
    for (; next_ < due_end_; ++next_) {
      std::size_t position = order_[next_];
      const BackfillQuery& q = queries_[position];
      Value answer;
      try {
        answer = engine_.query(q.user_id, options_.names, q.as_of);
      } catch (const QueryError& e) {
        if (stats_.query_errors++ == 0) stats_.first_query_error = e.what();
        answer = Value(Value::Object{{"user_id", Value(q.user_id)},
                                     {"as_of", Value(q.as_of)},
                                     {"as_of_iso", Value(format_iso_time(q.as_of))},
                                     {"error", Value(std::string(e.what()))}});
      }
      add_extra_columns(q, answer);
      if (table_) table_->learn(answer);
      spool_.put(position, answer.to_json());
    }
  }

  // The query's extra columns, as string fields after as_of_iso.
  void add_extra_columns(const BackfillQuery& q, Value& answer) const {
    if (options_.extra_columns.empty()) return;
    Value::Object& fields = answer.object();
    auto at = std::find_if(fields.begin(), fields.end(),
                           [](const auto& field) { return field.first == "as_of_iso"; });
    at = at == fields.end() ? fields.end() : at + 1;
    Value::Object extra;
    for (std::size_t i = 0; i < options_.extra_columns.size(); ++i)
      extra.emplace_back(options_.extra_columns[i], Value(i < q.extra.size() ? q.extra[i] : ""));
    fields.insert(at, std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
  }

  void write_lines(Output& output) {
    std::string answer;
    for (std::size_t i = 0; i < queries_.size(); ++i) {
      spool_.get(i, answer);
      output.write_line(answer);
    }
  }

  void write_table(Output& output) {
    output.write_line(csv_line(table_->columns()));
    std::string answer;
    for (std::size_t i = 0; i < queries_.size(); ++i) {
      spool_.get(i, answer);
      output.write_line(csv_line(table_->row(parse_json_value(answer))));
    }
  }

  static std::string csv_line(const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) line += ',';
      append_csv_field(line, cells[i]);
    }
    return line;
  }

  void reject(std::uint32_t file, std::uint64_t line, const std::string& message) {
    if (options_.on_reject)
      options_.on_reject(fmt::format("{}:{}: {}", options_.event_files[file], line, message));
  }

  // Ingests what was read since the last call. An event beyond the lateness goes in a call of
  // its own, so that the result tells whether it was new or a harmless duplicate.
  void ingest_pending() {
    std::size_t start = 0;
    while (start < pending_.size()) {
      std::size_t end = start + 1;
      if (!pending_[start].beyond_lateness)
        while (end < pending_.size() && !pending_[end].beyond_lateness) ++end;
      ingest_range(start, end);
      start = end;
    }
    pending_.clear();
  }

  // Ingests pending_[start, end); the engine rejects what online serving would reject.
  void ingest_range(std::size_t start, std::size_t end) {
    std::vector<Event> events;
    std::vector<std::pair<std::uint32_t, std::uint64_t>> origin;
    events.reserve(end - start);
    for (std::size_t i = start; i < end; ++i) {
      events.push_back(std::move(pending_[i].event));
      origin.emplace_back(pending_[i].file, pending_[i].line);
    }
    IngestResult result = engine_.ingest(std::move(events));
    stats_.accepted += result.accepted;
    stats_.duplicates += result.duplicates;
    // Decoded events are refused only as late.
    for (const RejectedEvent& r : result.rejected) {
      ++stats_.rejected_late;
      reject(origin[r.index].first, origin[r.index].second, r.message);
    }
    if (pending_[start].beyond_lateness && result.accepted == 1 && result.duplicates == 0)
      ++stats_.beyond_lateness;
  }

  void read_log() {
    TimeOrderOptions order;
    order.presorted = options_.arrival_order || options_.presorted;
    order.tmp_dir = folder_;
    order.sort_memory = options_.sort_memory;
    order.progress = options_.progress;
    order.stop = options_.stop;
    TimeOrderedLog log(options_.event_files, order);
    log.prepare();
    stats_.sorted = log.sorted();
    ProgressReporter progress("backfill", log.total(), "events", options_.progress);
    std::uint64_t events_read = 0;
    std::size_t batch = 0;
    Event event;
    Rejection error;
    bool stopped = false;
    log.read([&](const LogRecord& record) {
      if (++batch == options_.batch_lines) {
        batch = 0;
        if (options_.stop && options_.stop->load()) throw std::runtime_error("interrupted");
        answer_pending();
        progress.update(log.done(), events_read);
      }
      ++events_read;
      if (!decoder_.decode(record.text, &event, &error)) {
        ++stats_.rejected_invalid;
        reject(record.file, record.line, error.message);
        event = Event();
        error = Rejection();
        return true;
      }
      mark_due(event.ts);
      if (must_answer_before(event)) answer_pending();
      if (all_due() && options_.stop_when_answered) {
        // The rest of the log cannot change any answer.
        stats_.stopped_at = fmt::format("{}:{}", options_.event_files[record.file], record.line);
        stopped = true;
        return false;
      }
      const bool beyond = log_time_ != kBeginningOfTime && event.ts < log_time_ - lateness_;
      log_time_ = std::max(log_time_, event.ts);
      pending_.push_back(Pending{std::move(event), record.file, record.line, beyond});
      event = Event();
      return true;
    });
    answer_pending();
    stats_.lines = log.lines();
    progress.finish(stopped ? log.done() : log.total(), events_read);
  }

  const std::vector<BackfillQuery>& queries_;
  const BackfillOptions& options_;
  const TimeMs lateness_;
  const fs::path folder_;  // the temporary folder: store, spool, sorted runs
  EventDecoder decoder_;
  Engine engine_;
  AnswerSpool spool_;
  std::vector<std::size_t> order_;      // query positions by as_of
  std::size_t next_ = 0;                // order_[next_] is the first query not yet answered
  std::size_t due_end_ = 0;             // order_[next_, due_end_) are due: the log has passed them
  TimeMs log_time_ = kBeginningOfTime;  // the newest ts of any valid event read
  std::vector<Pending> pending_;
  std::optional<FlatTable> table_;  // kCsv: the columns, learnt from every answer
  BackfillStats stats_;
};

std::string duration_text(TimeMs ms) {
  for (auto [unit, name] :
       {std::pair{kDayMs, "d"}, {kHourMs, "h"}, {kMinuteMs, "m"}, {kSecondMs, "s"}})
    if (ms != 0 && ms % unit == 0) return fmt::format("{}{}", ms / unit, name);
  return fmt::format("{}ms", ms);
}

}  // namespace

std::string summary_line(const BackfillStats& s) {
  std::string line = fmt::format(
      "backfilled {} queries ({} refused); read {} lines: {} events accepted ({} duplicates), "
      "{} rejected ({} invalid, {} too late), ",
      s.queries, s.query_errors, s.lines, s.accepted, s.duplicates,
      s.rejected_invalid + s.rejected_late, s.rejected_invalid, s.rejected_late);
  if (s.arrival_order)
    line += fmt::format("{} more than {} late in arrival order", s.beyond_lateness,
                        duration_text(s.lateness));
  else
    line += s.sorted ? "in event time (sorted)" : "in event time (already in order)";
  line += fmt::format("; stream time {}", s.stream_time);
  if (s.stream_time > 0) line += fmt::format(" ({})", format_iso_time(s.stream_time));
  if (!s.stopped_at.empty())
    line += fmt::format("; stopped reading at {}, every query answered", s.stopped_at);
  return line;
}

BackfillStats run_backfill(const Config& config, const std::vector<BackfillQuery>& queries,
                           const BackfillOptions& options) {
  if (options.lateness && !options.arrival_order)
    throw std::invalid_argument("lateness: applies only to arrival order");
  // In event time the stream is in ts order: a query is due as soon as it is passed.
  const TimeMs lateness =
      options.arrival_order ? options.lateness.value_or(config.event_store.max_future_skew) : 0;
  if (lateness < 0) throw std::invalid_argument("lateness: must not be negative");
  check_names(config, options);
  check_event_files(options.event_files);
  Output output(options.out);
  fs::path parent = options.tmp_dir;
  if (parent.empty()) {
    fs::path out(options.out);
    parent = options.out == "-"      ? fs::temp_directory_path()
             : out.has_parent_path() ? out.parent_path()
                                     : fs::path(".");
  }
  TempFolder folder(parent, "signalbox-backfill");
  Backfill backfill(config, queries, options, folder.path(), lateness);
  return backfill.run(output);
}

}  // namespace signalbox
