// run_backfill against the brute-force reference: for random (user, as_of) pairs over a
// generated log — as_of before, inside and at the end of the stream and after it — every
// answer equals World::expected over exactly the events the temporary engine accepted.

#include "signalbox/backfill/backfill.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fixed_times.h"
#include "log.h"
#include "read_lines.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

// Runs a backfill of `log` (written to one file) and keeps what it rejected, by line index.
struct BackfillRun {
  BackfillStats stats;
  std::vector<std::string> answers;
  std::set<std::size_t> rejected;
  std::map<std::size_t, std::string> faults;  // rejected line -> the field its message blames
  std::vector<std::string> messages;
};

BackfillRun backfill(World& world, const EventLog& log, const std::vector<BackfillQuery>& queries,
                     std::optional<TimeMs> lateness, std::size_t batch_lines = 8192) {
  fs::path events = world.dir() / "events.ndjson";
  fs::path out = world.dir() / "out.ndjson";
  log.write(events);
  BackfillRun run;
  BackfillOptions options;
  options.event_files = {events.string()};
  options.out = out.string();
  // These tests are about arrival order; event time has tests of its own.
  options.arrival_order = true;
  options.lateness = lateness;
  options.progress = false;
  options.batch_lines = batch_lines;
  options.on_reject = [&](const std::string& message) {
    // "<file>:<line>: <problem>"
    std::size_t colon = message.find(':', events.string().size() + 1);
    std::size_t line = std::stoul(message.substr(events.string().size() + 1, colon));
    run.rejected.insert(line - 1);
    run.faults[line - 1] = fault_of(message.substr(colon + 2));
    run.messages.push_back(message);
  };
  run.stats = run_backfill(world.config, queries, options);
  run.answers = read_lines(out);
  return run;
}

void expect_reference(const World& world, const EventLog& log, const BackfillRun& run,
                      const std::vector<BackfillQuery>& queries) {
  ASSERT_EQ(run.answers.size(), queries.size());
  // The reference decides on its own which lines count, and the backfill must have rejected
  // exactly the others, each for the same field.
  EventLog::Verdict verdict = log.judge(world, run.stats.lines);
  ASSERT_EQ(run.faults, verdict.rejected);
  auto& accepted = verdict.by_user;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const BackfillQuery& q = queries[i];
    Value actual = parse_json(run.answers[i]);
    Value expected = world.expected(accepted[q.user_id], q.user_id, q.as_of);
    std::string d = diff(expected, actual, kTolerance);
    ASSERT_EQ(d, "") << "query " << i << ": user " << q.user_id << " as_of " << q.as_of;
  }
}

TEST(Backfill, EveryAnswerMatchesTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 11);
  const std::size_t users = 30;
  // 45 days; events up to 2 hours out of order, read with 3 hours of lateness.
  EventLog log = generate_log(world, 20000, users, 195 * kSecondMs, 2 * kHourMs);
  auto& rng = world.rng();

  std::vector<BackfillQuery> queries;
  auto user = [&] { return 1000 + rng() % (users + 1); };  // users + 1: one never seen
  const TimeMs span = log.newest - kLogStart;
  for (int i = 0; i < 1000; ++i)  // anywhere in the stream, a day either side
    queries.push_back(
        {user(), kLogStart - kDayMs + static_cast<TimeMs>(rng() % (span + 2 * kDayMs))});
  for (int i = 0; i < 60; ++i) {
    queries.push_back({user(), log.newest});  // the end of the stream
    TimeMs day = floor_day(kLogStart + static_cast<TimeMs>(rng() % span));
    queries.push_back({user(), day});  // window edges on tile boundaries
    queries.push_back({user(), day - 1});
    const LogLine& line = log.lines[rng() % log.lines.size()];
    if (line.event) queries.push_back({line.event->user_id, line.event->ts});  // ts == as_of counts
  }
  queries.push_back({1000, 0});
  queries.push_back({1001, log.newest + 50 * kDayMs});

  BackfillRun run = backfill(world, log, queries, 3 * kHourMs);
  EXPECT_EQ(run.stats.queries, queries.size());
  EXPECT_EQ(run.stats.query_errors, 0u) << run.stats.first_query_error;
  EXPECT_EQ(run.stats.lines, log.lines.size());
  EXPECT_EQ(run.stats.stream_time, log.newest);
  EXPECT_GT(run.stats.rejected_invalid, 10u);
  EXPECT_GT(run.stats.rejected_late, 50u);
  EXPECT_GT(run.stats.duplicates, 100u);
  EXPECT_EQ(run.stats.beyond_lateness, 0u) << "the log's disorder is within the lateness";
  EXPECT_EQ(run.stats.rejected_invalid + run.stats.rejected_late, run.rejected.size());
  EXPECT_TRUE(run.stats.stopped_at.empty());
  expect_reference(world, log, run, queries);

  bool named_field = false;
  for (const std::string& m : run.messages) named_field |= m.find(": ts: ") != std::string::npos;
  EXPECT_TRUE(named_field) << "rejections name the file, line and field";
}

TEST(Backfill, AnOrderedLogWithoutLatenessAndSmallBatches) {
  World world(2 * kDayMs, {"1h", "1d", "2d", "5d", "20d"}, 12);
  EventLog log = generate_log(world, 6000, 12, 5 * kMinuteMs, 0);
  auto& rng = world.rng();
  std::vector<BackfillQuery> queries;
  for (int i = 0; i < 400; ++i) {
    const LogLine& line = log.lines[rng() % log.lines.size()];
    TimeMs as_of = line.event ? line.event->ts + static_cast<TimeMs>(rng() % 3) - 1 : kLogStart;
    queries.push_back({1000 + rng() % 13, std::max<TimeMs>(as_of, 0)});
  }
  BackfillRun run = backfill(world, log, queries, 0, 97);
  EXPECT_EQ(run.stats.query_errors, 0u) << run.stats.first_query_error;
  expect_reference(world, log, run, queries);
}

// An event later than the lateness is not seen by the queries answered before it came, and
// is counted; queries after it see it.
TEST(Backfill, AnEventLaterThanTheLatenessMissesEarlierQueries) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 13);
  EventLog log;
  auto add = [&](TimeMs ts, std::size_t serial, const std::string& action) {
    Event e = world.make_event(1, ts, serial);
    e.user_id = 1000;
    e.action = action;
    log.lines.push_back(LogLine{e, ""});
    log.newest = std::max(log.newest, ts);
  };
  const TimeMs t0 = kLogStart;
  add(t0, 0, "save");
  add(t0 + 2 * kHourMs, 1, "click");
  add(t0 + 10 * kMinuteMs, 2, "save");  // 110 minutes behind: later than 1h lateness
  add(t0 + 3 * kHourMs, 3, "click");
  std::vector<BackfillQuery> queries = {
      {1000, t0 + 30 * kMinuteMs}, {1000, t0 + 90 * kMinuteMs}, {1000, t0 + 3 * kHourMs}};
  BackfillRun run = backfill(world, log, queries, kHourMs);
  ASSERT_EQ(run.answers.size(), 3u);
  auto saves_1d = [&](std::size_t i) {
    return parse_json(run.answers[i]).find("signals")->find("saves")->find("1d")->number();
  };
  EXPECT_EQ(saves_1d(0), 1) << "answered when ts " << t0 + 2 * kHourMs
                            << " arrived: " << run.answers[0];
  EXPECT_EQ(saves_1d(1), 2) << run.answers[1];
  EXPECT_EQ(saves_1d(2), 2) << run.answers[2];
  EXPECT_EQ(run.stats.beyond_lateness, 1u);
}

TEST(Backfill, ReadingStopsOnceEveryQueryIsAnswered) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 14);
  EventLog log = generate_log(world, 5000, 10, 10 * kMinuteMs, kHourMs);
  std::vector<BackfillQuery> queries = {{1000, kLogStart + 5 * kDayMs},
                                        {1001, kLogStart + 2 * kDayMs}};
  BackfillRun run = backfill(world, log, queries, 2 * kHourMs);
  EXPECT_FALSE(run.stats.stopped_at.empty());
  EXPECT_LT(run.stats.lines, log.lines.size() / 2);
  EXPECT_LE(run.stats.stream_time, kLogStart + 5 * kDayMs + 2 * kHourMs);
  expect_reference(world, log, run, queries);
}

TEST(Backfill, NoTemporaryDataOrPartialOutputIsLeft) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 15);
  EventLog log = generate_log(world, 500, 5, 10 * kMinuteMs, kHourMs);
  fs::path tmp = world.dir() / "tmp";
  fs::create_directories(tmp);
  log.write(world.dir() / "events.ndjson");
  BackfillOptions options;
  options.event_files = {(world.dir() / "events.ndjson").string()};
  options.out = (world.dir() / "out.ndjson").string();
  options.tmp_dir = tmp;
  options.progress = false;
  options.sort_memory = 4096;  // the log is out of order: sorted through runs on disk
  BackfillStats stats = run_backfill(world.config, {{1000, kLogStart}}, options);
  EXPECT_EQ(stats.queries, 1u);
  EXPECT_TRUE(fs::is_empty(tmp));
  EXPECT_EQ(read_lines(world.dir() / "out.ndjson").size(), 1u);

  // A log that breaks off as a corrupt gzip stream: an error, and no output at all.
  const std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", 17);
  std::ofstream(world.dir() / "broken.gz", std::ios::binary) << gz;
  options.event_files = {(world.dir() / "broken.gz").string()};
  options.out = (world.dir() / "broken-out.ndjson").string();
  EXPECT_THROW(run_backfill(world.config, {{1000, kLogStart}}, options), std::runtime_error);
  EXPECT_TRUE(fs::is_empty(tmp));
  for (const auto& entry : fs::directory_iterator(world.dir()))
    EXPECT_EQ(entry.path().filename().string().find("broken-out"), std::string::npos)
        << entry.path();

  std::atomic<bool> stop{true};
  options.event_files = {(world.dir() / "events.ndjson").string()};
  options.stop = &stop;
  EXPECT_THROW(run_backfill(world.config, {{1000, kLogStart}}, options), std::runtime_error);
  EXPECT_TRUE(fs::is_empty(tmp));
}

}  // namespace
}  // namespace signalbox::testing
