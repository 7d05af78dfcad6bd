// Backfill in event time against a brute-force reference that decides everything itself: a
// log exported user by user (each user's whole history over 120 days, then the next user's),
// so that almost every event stands far behind the one before it. A row as of T must hold
// every valid, first-seen event with ts <= T, by the window rule of docs/signals.md, for
// windows shorter and longer than the 7-day retention.

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "log.h"
#include "read_lines.h"
#include "signalbox/backfill/backfill.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kUsers = 20;
constexpr TimeMs kSpan = 120 * kDayMs;

// Each user's history in time order, user after user; with verbatim duplicates, duplicates
// of an id under other content a second later (the first by time still counts), and lines
// that are not events.
EventLog user_major_log(World& world) {
  auto& rng = world.rng();
  EventLog log;
  std::size_t serial = 0;
  for (std::uint64_t u = 0; u < kUsers; ++u) {
    const std::size_t count = u < 3 ? 1500 : 100 + rng() % 400;
    std::vector<TimeMs> times;
    for (std::size_t i = 0; i < count; ++i)
      times.push_back(kLogStart + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(kSpan)));
    std::sort(times.begin(), times.end());
    std::vector<Event> history;
    for (TimeMs ts : times) {
      std::uint64_t r = rng() % 1000;
      LogLine line;
      if (r < 15 && !history.empty()) {
        Event again = history[rng() % history.size()];
        if (r % 2) {
          again.action = "purchase";
          again.ts += 1000;
        }
        line.event = again;
      } else if (r < 22) {
        line.garbage =
            r % 2 ? fmt::format(R"({{"user_id": {}, "action": "click"}})", 1000 + u) : "{not json";
      } else {
        Event e = world.make_event(1, ts, serial++);
        e.user_id = 1000 + u;
        history.push_back(e);
        line.event = e;
      }
      if (line.event) log.newest = std::max(log.newest, line.event->ts);
      log.lines.push_back(std::move(line));
    }
  }
  return log;
}

// What the reference counts, decided here: every line that is an event is valid (ts in the
// past, every field well formed); in time order (ts, then place in the log) the first line
// of each (user, event_id) is taken and the others are duplicates.
struct Reference {
  std::map<std::uint64_t, std::vector<RefEvent>> by_user;
  std::uint64_t valid = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t invalid = 0;

  Reference(const World& world, const EventLog& log) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < log.lines.size(); ++i) {
      if (log.lines[i].event)
        order.push_back(i);
      else
        ++invalid;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return log.lines[a].event->ts < log.lines[b].event->ts;
    });
    std::set<std::pair<std::uint64_t, std::string>> seen;
    for (std::size_t i : order) {
      const Event& e = *log.lines[i].event;
      ++valid;
      if (seen.emplace(e.user_id, e.event_id).second)
        by_user[e.user_id].push_back(world.to_ref(e));
      else
        ++duplicates;
    }
  }
};

struct EventTimeRun {
  BackfillStats stats;
  std::vector<std::string> answers;
  std::vector<std::string> rejected;
};

EventTimeRun backfill(World& world, const std::vector<std::string>& files,
                      const std::vector<BackfillQuery>& queries, BackfillOptions options) {
  fs::path out = world.dir() / "out.ndjson";
  options.event_files = files;
  options.out = out.string();
  options.progress = false;
  EventTimeRun run;
  options.on_reject = [&](const std::string& message) { run.rejected.push_back(message); };
  run.stats = run_backfill(world.config, queries, options);
  run.answers = read_lines(out);
  return run;
}

TEST(BackfillEventTime, AUserMajorLogMatchesTheReference) {
  World world(7 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 41);
  EventLog log = user_major_log(world);
  const std::size_t half = log.lines.size() / 2;
  std::vector<std::string> files = {(world.dir() / "a.ndjson").string(),
                                    (world.dir() / "b.ndjson").string()};
  log.write(files[0], 0, half);
  log.write(files[1], half, log.lines.size());
  ASSERT_EQ(std::system(fmt::format("gzip '{}'", files[1]).c_str()), 0);
  files[1] += ".gz";

  auto& rng = world.rng();
  std::vector<BackfillQuery> queries;
  auto user = [&] { return 1000 + rng() % (kUsers + 1); };  // kUsers + 1: one never seen
  for (int i = 0; i < 700; ++i)  // anywhere, a day either side of the log
    queries.push_back(
        {user(), kLogStart - kDayMs +
                     static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(kSpan + 2 * kDayMs))});
  for (int i = 0; i < 300; ++i) {  // between a user's events, and on them
    const LogLine& line = log.lines[rng() % log.lines.size()];
    if (!line.event) continue;
    queries.push_back({line.event->user_id, line.event->ts + static_cast<TimeMs>(rng() % 3) - 1});
  }
  for (int i = 0; i < 60; ++i) {
    TimeMs day = floor_day(kLogStart + static_cast<TimeMs>(rng() % kSpan));
    queries.push_back({user(), day});  // window edges on tile boundaries
    queries.push_back({user(), day - 1});
    queries.push_back({user(), log.newest});  // the end of the log, and after it
    queries.push_back({user(), log.newest + 1 + static_cast<TimeMs>(rng() % (50 * kDayMs))});
  }
  ASSERT_GE(queries.size(), 1000u);

  fs::path tmp = world.dir() / "tmp";
  fs::create_directories(tmp);
  BackfillOptions options;
  options.tmp_dir = tmp;
  options.sort_memory = 256 << 10;  // the sort spills runs to disk
  options.batch_lines = 1000;
  EventTimeRun run = backfill(world, files, queries, options);
  Reference reference(world, log);

  EXPECT_TRUE(fs::is_empty(tmp));
  EXPECT_FALSE(run.stats.arrival_order);
  EXPECT_TRUE(run.stats.sorted);
  EXPECT_EQ(run.stats.query_errors, 0u) << run.stats.first_query_error;
  EXPECT_EQ(run.stats.lines, log.lines.size());
  EXPECT_EQ(run.stats.rejected_late, 0u) << "nothing is late in ts order";
  EXPECT_EQ(run.stats.beyond_lateness, 0u);
  EXPECT_EQ(run.stats.rejected_invalid, reference.invalid);
  EXPECT_EQ(run.stats.accepted, reference.valid);
  EXPECT_EQ(run.stats.duplicates, reference.duplicates);
  EXPECT_GT(reference.duplicates, 50u);
  EXPECT_EQ(run.stats.stream_time, log.newest);
  EXPECT_EQ(run.rejected.size(), reference.invalid);
  ASSERT_EQ(run.answers.size(), queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const BackfillQuery& q = queries[i];
    Value expected = world.expected(reference.by_user[q.user_id], q.user_id, q.as_of);
    std::string d = diff(expected, parse_json(run.answers[i]), 1e-9);
    ASSERT_EQ(d, "") << "query " << i << ": user " << q.user_id << " as_of " << q.as_of;
  }
  EXPECT_NE(summary_line(run.stats).find("in event time (sorted)"), std::string::npos)
      << summary_line(run.stats);

  // The same log in time order needs no sort and, told it is sorted, no check: same answers.
  std::vector<std::size_t> order(log.lines.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto ts_of = [&](std::size_t i) { return log.lines[i].event ? log.lines[i].event->ts : 0; };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ts_of(a) < ts_of(b); });
  EventLog ordered;
  for (std::size_t i : order) ordered.lines.push_back(log.lines[i]);
  ordered.write(world.dir() / "ordered.ndjson");
  for (bool presorted : {false, true}) {
    options.presorted = presorted;
    EventTimeRun again =
        backfill(world, {(world.dir() / "ordered.ndjson").string()}, queries, options);
    EXPECT_FALSE(again.stats.sorted);
    ASSERT_EQ(again.answers, run.answers) << "presorted " << presorted;
  }

  // Read in arrival order, the user-major log loses most events as too late: the rule above
  // is what makes the difference.
  options.presorted = false;
  options.arrival_order = true;
  EventTimeRun arrival = backfill(world, files, queries, options);
  EXPECT_TRUE(arrival.stats.arrival_order);
  EXPECT_GT(arrival.stats.rejected_late, reference.valid / 4);
  bool named_late = false;
  for (const std::string& m : arrival.rejected) named_late |= m.find("late") != std::string::npos;
  EXPECT_TRUE(named_late);
}

// Once the sorted stream has passed every as_of, the rest of it is not ingested.
TEST(BackfillEventTime, IngestingStopsOnceEveryQueryIsAnswered) {
  World world(7 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 43);
  EventLog log = user_major_log(world);
  const std::string file = (world.dir() / "events.ndjson").string();
  log.write(file);
  std::vector<BackfillQuery> queries = {{1000, kLogStart + 10 * kDayMs},
                                        {1003, kLogStart + 20 * kDayMs}};
  EventTimeRun run = backfill(world, {file}, queries, BackfillOptions());
  EXPECT_TRUE(run.stats.sorted);
  EXPECT_EQ(run.stats.stopped_at.rfind(file + ":", 0), 0u) << run.stats.stopped_at;
  EXPECT_LE(run.stats.stream_time, kLogStart + 20 * kDayMs);
  EXPECT_LT(run.stats.accepted, log.lines.size() / 4);
  Reference reference(world, log);
  ASSERT_EQ(run.answers.size(), queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const BackfillQuery& q = queries[i];
    Value expected = world.expected(reference.by_user[q.user_id], q.user_id, q.as_of);
    EXPECT_EQ(diff(expected, parse_json(run.answers[i]), 1e-9), "") << "query " << i;
  }
}

TEST(BackfillEventTime, LatenessBelongsToArrivalOrder) {
  World world(7 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 42);
  EventLog log = user_major_log(world);
  log.write(world.dir() / "events.ndjson");
  BackfillOptions options;
  options.lateness = kHourMs;
  EXPECT_THROW(
      backfill(world, {(world.dir() / "events.ndjson").string()}, {{1000, kLogStart}}, options),
      std::invalid_argument);
}

}  // namespace
}  // namespace signalbox::testing
