#include "signalbox/ingest/replay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <zlib.h>

#include "signalbox/ingest/progress.h"

namespace signalbox {

namespace {

// Reads a plain or gzip file (zlib's gzread passes plain files through) as whole lines.
class LineSource {
 public:
  explicit LineSource(const std::string& name) : name_(name) {
    int fd = name == "-" ? dup(STDIN_FILENO) : ::open(name.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
    file_ = gzdopen(fd, "rb");
    if (!file_) {
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: cannot open", name));
    }
    gzbuffer(file_, 1 << 20);
  }
  ~LineSource() {
    if (file_) gzclose(file_);
  }

  // Fills `lines` with up to `max` lines (without their newline); false at end of input.
  bool next_lines(std::size_t max, std::vector<std::string>& lines) {
    lines.clear();
    while (lines.size() < max) {
      std::size_t newline = buffer_.find('\n', scan_from_);
      if (newline != std::string::npos) {
        lines.emplace_back(buffer_, consumed_, newline - consumed_);
        consumed_ = newline + 1;
        scan_from_ = consumed_;
        continue;
      }
      if (eof_) {
        if (consumed_ < buffer_.size()) lines.emplace_back(buffer_, consumed_);
        consumed_ = buffer_.size();
        break;
      }
      buffer_.erase(0, consumed_);
      consumed_ = 0;
      scan_from_ = buffer_.size();
      std::size_t old = buffer_.size();
      buffer_.resize(old + (1 << 20));
      int n = gzread(file_, buffer_.data() + old, 1 << 20);
      if (n < 0) {
        int code;
        const char* message = gzerror(file_, &code);
        throw std::runtime_error(fmt::format("{}: read error: {}", name_, message));
      }
      buffer_.resize(old + static_cast<std::size_t>(n));
      if (n == 0) eof_ = true;
    }
    return !lines.empty();
  }

  // Bytes of the file read so far (compressed offset for gzip).
  std::uint64_t position() const { return static_cast<std::uint64_t>(gzoffset(file_)); }
  std::uint64_t size() const { return size_; }

 private:
  std::string name_;
  gzFile file_ = nullptr;
  std::uint64_t size_ = 0;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::size_t scan_from_ = 0;
  bool eof_ = false;
};

// One batch of lines on its way: being decoded and materialized on another thread while the
// batch before it is stored.
struct PendingBatch {
  std::string file;
  std::vector<std::uint64_t> line_of_event;
  std::uint64_t position = 0;  // progress after it
  std::future<Engine::PreparedBatch> prepared;
};

}  // namespace

ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options) {
  ReplayStats stats;
  std::uint64_t total = 0;
  for (const std::string& f : files) {
    struct stat st;
    if (f != "-" && ::stat(f.c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_size);
  }
  ProgressReporter progress("replay", total, "events", options.progress);

  // Stores a prepared batch, in file order; the next one is prepared meanwhile.
  auto store = [&](PendingBatch& batch) {
    IngestResult result = engine.ingest_prepared(batch.prepared.get());
    stats.accepted += result.accepted;
    stats.duplicates += result.duplicates;
    stats.rejected += result.rejected.size();
    if (options.on_reject)
      for (const auto& [index, message] : result.rejected)
        options.on_reject(fmt::format("{}:{}: {}", batch.file, batch.line_of_event.at(index), message));
    progress.update(batch.position, stats.accepted + stats.rejected);
  };

  std::optional<PendingBatch> in_flight;
  // On an error, wait for the batch being prepared: it refers to this frame.
  struct Drain {
    std::optional<PendingBatch>& batch;
    ~Drain() {
      if (batch && batch->prepared.valid()) batch->prepared.wait();
    }
  } drain{in_flight};

  std::uint64_t done_before = 0;
  std::vector<std::string> lines;
  for (const std::string& name : files) {
    LineSource source(name);
    std::uint64_t first_line = 1;
    while (source.next_lines(options.batch_lines, lines)) {
      // Blank lines keep their line numbers: they are ingested as nothing but still count.
      PendingBatch next;
      next.file = name;
      auto body = std::make_shared<std::string>();
      for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        body->append(line);
        body->push_back('\n');
        next.line_of_event.push_back(first_line + i);
      }
      first_line += lines.size();
      stats.lines += lines.size();
      next.position = done_before + source.position();
      next.prepared = std::async(std::launch::async, [&engine, body] { return engine.prepare_json(*body); });
      if (in_flight) store(*in_flight);
      in_flight = std::move(next);
    }
    done_before += source.size();
  }
  if (in_flight) {
    store(*in_flight);
    in_flight.reset();
  }
  progress.finish(total, stats.accepted + stats.rejected);
  return stats;
}

}  // namespace signalbox
