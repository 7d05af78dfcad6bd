#pragma once

// A generated event log for backfill tests, written as NDJSON the way a topic dump looks:
// roughly time-ordered with bounded disorder, duplicates (verbatim and altered), events far
// too late for the retention, and a few lines that are not events at all. The reference judges
// each line on its own (judge()).

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "json.h"
#include "reference_intake.h"
#include "world.h"
#include "world_yaml.h"

namespace signalbox::testing {

constexpr TimeMs kLogStart = 1704067200000;  // 2024-01-01T00:00:00Z

// One line of the log: an event, or text that is not a valid event.
struct LogLine {
  std::optional<Event> event;
  std::string garbage;
};

struct EventLog {
  std::vector<LogLine> lines;
  TimeMs newest = 0;  // the highest ts of any event in the log

  // Writes the lines from `first` (0-based) up to `last` as NDJSON.
  void write(const std::filesystem::path& file, std::size_t first, std::size_t last) const {
    std::ofstream out(file, std::ios::binary);
    for (std::size_t i = first; i < last; ++i)
      out << (lines[i].event ? event_json(*lines[i].event) : lines[i].garbage) << '\n';
  }
  void write(const std::filesystem::path& file) const { write(file, 0, lines.size()); }

  // The reference's own verdict on the first `read` lines, each judged on its own by the
  // documented rules (reference_intake.h) against the lines before it: the events that count,
  // by user, and the rejected lines (0-based index -> the field at fault).
  struct Verdict {
    std::map<std::uint64_t, std::vector<RefEvent>> by_user;
    std::map<std::size_t, std::string> rejected;
  };
  Verdict judge(const World& world, std::size_t read) const {
    ReferenceIntake intake(world);
    Verdict v;
    for (std::size_t i = 0; i < std::min(read, lines.size()); ++i) {
      const std::string text = lines[i].event ? event_json(*lines[i].event) : lines[i].garbage;
      for (const auto& [index, fault] : intake.take_texts({text}).rejected) v.rejected[i] = fault;
    }
    for (const RefEvent& e : intake.taken()) v.by_user[e.user].push_back(e);
    return v;
  }
};

// About `count` lines, an event every `step` ms from kLogStart, each up to `disorder` ms
// older than its place in the log; about 2% duplicates of earlier events (half verbatim,
// half with other content under the same id, which still counts as the first), 0.5% events
// 100 days too old (beyond the late horizon of every test config: its longest window) and
// 0.2% lines that are not valid events.
inline EventLog generate_log(World& world, std::size_t count, std::size_t users, TimeMs step,
                             TimeMs disorder) {
  EventLog log;
  std::vector<Event> sent;
  auto& rng = world.rng();
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kLogStart + static_cast<TimeMs>(i) * step;
    if (disorder > 0) ts -= static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(disorder));
    std::uint64_t r = rng() % 1000;
    LogLine line;
    if (r < 10 && !sent.empty()) {
      line.event = sent[rng() % sent.size()];
    } else if (r < 20 && !sent.empty()) {
      Event again = sent[rng() % sent.size()];
      again.action = "purchase";
      again.ts += 1000;
      line.event = again;
    } else if (r < 25) {
      line.event = world.make_event(users, ts - 100 * kDayMs, i);
    } else if (r < 27) {
      line.garbage =
          r == 25 ? R"({"user_id": 1000, "ts": "yesterday", "action": "click"})" : "{not json";
    } else {
      line.event = world.make_event(users, ts, i);
    }
    if (line.event) {
      sent.push_back(*line.event);
      log.newest = std::max(log.newest, line.event->ts);
    }
    log.lines.push_back(std::move(line));
  }
  return log;
}

}  // namespace signalbox::testing
