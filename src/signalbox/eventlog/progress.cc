#include "signalbox/eventlog/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace signalbox {

namespace {

std::string human_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace

ProgressReporter::ProgressReporter(std::string label, std::uint64_t total, std::string unit,
                                   bool enabled, ProgressOutput output)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      enabled_(enabled),
      output_(output),
      terminal_(output.terminal ? *output.terminal : isatty(fileno(output.stream)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressReporter::~ProgressReporter() {
  if (enabled_ && terminal_ && !finished_) std::fputc('\n', output_.stream);
}

void ProgressReporter::update(std::uint64_t done, std::uint64_t items) {
  if (!enabled_ || finished_) return;
  // A line for the finished state would repeat the final one finish() prints.
  if (!terminal_ && total_ > 0 && done >= total_) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = terminal_ ? std::chrono::milliseconds(200) : output_.line_interval;
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  draw(done, items, false);
}

void ProgressReporter::finish(std::uint64_t done, std::uint64_t items) {
  if (!enabled_ || finished_) return;
  draw(done, items, true);
  finished_ = true;
}

void ProgressReporter::draw(std::uint64_t done, std::uint64_t items, bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(items) / elapsed : 0;
  std::string line;
  if (final && !terminal_) {
    line = fmt::format("{}: done: {} {} in {} ({:.0f}/s)", label_, items, unit_,
                       human_duration(elapsed), rate);
  } else if (total_ > 0) {
    double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : -1;
    if (terminal_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      line =
          fmt::format("{} [{}{}] {:5.1f}%  {} {}  {:.0f}/s  {}", label_, std::string(filled, '#'),
                      std::string(kWidth - filled, '.'), fraction * 100, items, unit_, rate,
                      final ? "done in " + human_duration(elapsed) : "ETA " + human_duration(eta));
    } else {
      line = fmt::format("{}: {:.1f}% {} {} ({:.0f}/s, ETA {})", label_, fraction * 100, items,
                         unit_, rate, human_duration(eta));
    }
  } else {
    line = fmt::format("{}: {} {} ({:.0f}/s, {} elapsed)", label_, items, unit_, rate,
                       human_duration(elapsed));
  }
  if (terminal_) {
    fmt::print(output_.stream, "\r{}\x1b[K{}", line, final ? "\n" : "");
  } else {
    fmt::print(output_.stream, "{}\n", line);
  }
  std::fflush(output_.stream);
}

}  // namespace signalbox
