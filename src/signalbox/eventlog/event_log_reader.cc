#include "signalbox/eventlog/event_log_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace signalbox {

namespace {

constexpr std::size_t kReadBytes = 1 << 20;

}  // namespace

EventLogReader::EventLogReader(std::string name) : name_(std::move(name)) {
  int fd = name_ == "-" ? ::dup(STDIN_FILENO) : ::open(name_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error(fmt::format("{}: cannot open: {}", name_, std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: cannot open: is a directory", name_));
    }
    if (S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  }
  file_ = gzdopen(fd, "rb");
  if (!file_) {
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot open", name_));
  }
  gzbuffer(file_, kReadBytes);
}

EventLogReader::~EventLogReader() {
  if (file_) gzclose(file_);
}

std::uint64_t EventLogReader::position() const {
  z_off_t offset = gzoffset(file_);
  return offset < 0 ? 0 : static_cast<std::uint64_t>(offset);
}

bool EventLogReader::next_lines(std::size_t max, std::vector<std::string_view>& lines) {
  lines.clear();
  // What was handed out last time is no longer needed: keep only the unread tail.
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  first_line_ = next_line_;
  std::size_t scan_from = 0;
  // Line ends are found as offsets first: reading more may move the buffer.
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  while (spans.size() < max) {
    std::size_t newline = buffer_.find('\n', scan_from);
    if (newline != std::string::npos) {
      std::size_t end = newline > consumed_ && buffer_[newline - 1] == '\r' ? newline - 1 : newline;
      spans.emplace_back(consumed_, end - consumed_);
      consumed_ = newline + 1;
      scan_from = consumed_;
      continue;
    }
    if (eof_) {
      if (consumed_ < buffer_.size()) spans.emplace_back(consumed_, buffer_.size() - consumed_);
      consumed_ = buffer_.size();
      break;
    }
    scan_from = buffer_.size();
    std::size_t old = buffer_.size();
    buffer_.resize(old + kReadBytes);
    int n = gzread(file_, buffer_.data() + old, static_cast<unsigned>(kReadBytes));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      throw std::runtime_error(fmt::format("{}: read error: {}", name_, message));
    }
    buffer_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) eof_ = true;
  }
  for (const auto& [offset, length] : spans) lines.emplace_back(buffer_.data() + offset, length);
  next_line_ += lines.size();
  return !lines.empty();
}

}  // namespace signalbox
