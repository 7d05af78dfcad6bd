#include "signalbox/eventlog/external_sort.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <system_error>

#include "signalbox/eventlog/event_log_reader.h"
#include "signalbox/eventlog/line_time.h"
#include "signalbox/eventlog/progress.h"

namespace signalbox {

namespace fs = std::filesystem;

namespace {

// Runs merged at once: more would need more open files and smaller read buffers than pay off.
constexpr std::size_t kMaxFanIn = 128;
constexpr std::size_t kMinReadBuffer = 4096;
constexpr std::size_t kMaxReadBuffer = 1 << 20;
constexpr std::uint64_t kStopCheckEvery = 4096;

// A run on disk is a sequence of records: ts, line, file, length, then the line's text.
struct RunHeader {
  TimeMs ts;
  std::uint64_t line;
  std::uint32_t file;
  std::uint32_t length;
};
static_assert(sizeof(RunHeader) == 24);

[[noreturn]] void throw_file_error(const fs::path& path, const char* what) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno)));
}

}  // namespace

// One line's place in the order and in its chunk's text.
struct ExternalSort::Entry {
  TimeMs ts = kNoTime;
  std::uint64_t line = 0;
  std::uint32_t file = 0;
  std::uint32_t length = 0;
  std::uint64_t offset = 0;  // into the chunk's text; unused for entries read from a run

  bool operator<(const Entry& other) const {
    if (ts != other.ts) return ts < other.ts;
    if (file != other.file) return file < other.file;
    return line < other.line;
  }
};

// The lines held in memory: their text back to back and an entry for each.
class ExternalSort::Chunk {
 public:
  explicit Chunk(std::size_t budget) { text_.reserve(budget); }

  std::size_t bytes() const { return text_.size() + entries_.size() * sizeof(Entry); }
  bool empty() const { return entries_.empty(); }
  void add(TimeMs ts, std::uint32_t file, std::uint64_t line, std::string_view text) {
    entries_.push_back(
        Entry{ts, line, file, static_cast<std::uint32_t>(text.size()), text_.size()});
    text_.append(text);
  }
  // Every key is distinct (file, line), so an unstable sort gives the one stable order.
  void sort() { std::sort(entries_.begin(), entries_.end()); }
  void clear() {
    text_.clear();
    entries_.clear();
  }
  const std::vector<Entry>& entries() const { return entries_; }
  std::string_view text(const Entry& e) const { return {text_.data() + e.offset, e.length}; }

 private:
  std::string text_;
  std::vector<Entry> entries_;
};

class ExternalSort::RunWriter {
 public:
  explicit RunWriter(fs::path path) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) throw_file_error(path_, "cannot create");
    std::setvbuf(file_, nullptr, _IOFBF, kMaxReadBuffer);
  }
  ~RunWriter() {
    if (file_) std::fclose(file_);
  }
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  void write(const Entry& e, std::string_view text) {
    RunHeader header{e.ts, e.line, e.file, static_cast<std::uint32_t>(text.size())};
    if (std::fwrite(&header, sizeof header, 1, file_) != 1 ||
        std::fwrite(text.data(), 1, text.size(), file_) != text.size())
      throw_file_error(path_, "cannot write");
  }
  void close() {
    int status = std::fclose(file_);
    file_ = nullptr;
    if (status != 0) throw_file_error(path_, "cannot write");
  }

 private:
  fs::path path_;
  std::FILE* file_ = nullptr;
};

class ExternalSort::RunReader {
 public:
  RunReader(fs::path path, std::size_t buffer) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_) throw_file_error(path_, "cannot open");
    std::setvbuf(file_, nullptr, _IOFBF, buffer);
  }
  ~RunReader() {
    if (file_) std::fclose(file_);
  }
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  // Reads the next record into entry() and text(); false at the end of the run.
  bool next() {
    RunHeader header;
    std::size_t n = std::fread(&header, 1, sizeof header, file_);
    if (n == 0 && std::feof(file_)) return false;
    if (n != sizeof header) fail();
    text_.resize(header.length);
    if (std::fread(text_.data(), 1, header.length, file_) != header.length) fail();
    entry_ = Entry{header.ts, header.line, header.file, header.length, 0};
    return true;
  }
  const Entry& entry() const { return entry_; }
  std::string_view text() const { return text_; }

 private:
  [[noreturn]] void fail() {
    if (std::ferror(file_)) throw_file_error(path_, "cannot read back");
    throw std::runtime_error(fmt::format("{}: cannot read back: truncated", path_.string()));
  }

  fs::path path_;
  std::FILE* file_ = nullptr;
  Entry entry_;
  std::string text_;
};

ExternalSort::ExternalSort(std::vector<std::string> files, ExternalSortOptions options)
    : files_(std::move(files)), options_(std::move(options)) {
  if (options_.tmp_dir.empty()) options_.tmp_dir = fs::temp_directory_path();
  options_.memory_budget = std::max<std::size_t>(options_.memory_budget, 1);
}

ExternalSort::~ExternalSort() = default;

void ExternalSort::check_stop() const {
  if (options_.stop && options_.stop->load()) throw std::runtime_error("interrupted");
}

fs::path ExternalSort::next_run_path() {
  if (!folder_) folder_.emplace(options_.tmp_dir, "signalbox-sort");
  return folder_->path() / fmt::format("run-{:06}", next_run_++);
}

void ExternalSort::spill() {
  chunk_->sort();
  fs::path path = next_run_path();
  RunWriter writer(path);
  for (const Entry& e : chunk_->entries()) writer.write(e, chunk_->text(e));
  writer.close();
  runs_.push_back(std::move(path));
  ++run_count_;
  chunk_->clear();
}

void ExternalSort::sort() {
  std::uint64_t total = 0;
  for (const std::string& f : files_) {
    struct stat st;
    if (f != "-" && ::stat(f.c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_size);
  }
  ProgressReporter reporter("sort", total, "lines", options_.progress);
  chunk_ = std::make_unique<Chunk>(options_.memory_budget);
  LineTimeReader times;
  std::uint64_t done_before = 0;
  std::vector<std::string_view> lines;
  for (std::size_t f = 0; f < files_.size(); ++f) {
    EventLogReader log(files_[f]);
    while (log.next_lines(EventLogReader::kLinesPerRead, lines)) {
      check_stop();
      for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        if (is_blank_line(line)) continue;
        if (!chunk_->empty() &&
            chunk_->bytes() + line.size() + sizeof(Entry) > options_.memory_budget)
          spill();
        chunk_->add(times.read(line), static_cast<std::uint32_t>(f), log.first_line() + i, line);
        ++records_;
      }
      lines_ += lines.size();
      reporter.update(done_before + log.position(), lines_);
    }
    done_before += log.size();
  }
  if (!runs_.empty()) {
    if (!chunk_->empty()) spill();
    chunk_.reset();  // the merge reads from disk: give the memory back
  } else {
    chunk_->sort();
  }
  reporter.finish(total, lines_);
}

void ExternalSort::merge_runs(const std::vector<fs::path>& inputs,
                              const std::function<bool(const Entry&, std::string_view)>& sink) {
  const std::size_t buffer =
      std::clamp(options_.memory_budget / inputs.size(), kMinReadBuffer, kMaxReadBuffer);
  std::vector<std::unique_ptr<RunReader>> readers;
  readers.reserve(inputs.size());
  for (const fs::path& path : inputs) readers.push_back(std::make_unique<RunReader>(path, buffer));
  auto later = [&](std::size_t a, std::size_t b) {
    return readers[b]->entry() < readers[a]->entry();
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heads(later);
  for (std::size_t i = 0; i < readers.size(); ++i)
    if (readers[i]->next()) heads.push(i);
  std::uint64_t handed = 0;
  while (!heads.empty()) {
    if (++handed % kStopCheckEvery == 0) check_stop();
    std::size_t i = heads.top();
    heads.pop();
    if (!sink(readers[i]->entry(), readers[i]->text())) return;
    if (readers[i]->next()) heads.push(i);
  }
}

void ExternalSort::merge(const LogRecordConsumer& consume) {
  if (runs_.empty()) {
    if (!chunk_) return;
    std::uint64_t handed = 0;
    for (const Entry& e : chunk_->entries()) {
      if (++handed % kStopCheckEvery == 0) check_stop();
      if (!consume(LogRecord{e.file, e.line, chunk_->text(e)})) break;
    }
    chunk_.reset();
    return;
  }
  // Too many runs for one merge: merge the oldest into bigger runs until few enough are left.
  while (runs_.size() > kMaxFanIn) {
    std::vector<fs::path> inputs(runs_.begin(), runs_.begin() + kMaxFanIn);
    runs_.erase(runs_.begin(), runs_.begin() + kMaxFanIn);
    fs::path path = next_run_path();
    RunWriter writer(path);
    merge_runs(inputs, [&](const Entry& e, std::string_view text) {
      writer.write(e, text);
      return true;
    });
    writer.close();
    for (const fs::path& input : inputs) {
      std::error_code ignored;
      fs::remove(input, ignored);
    }
    runs_.push_back(std::move(path));
  }
  merge_runs(runs_, [&](const Entry& e, std::string_view text) {
    return consume(LogRecord{e.file, e.line, text});
  });
}

}  // namespace signalbox
