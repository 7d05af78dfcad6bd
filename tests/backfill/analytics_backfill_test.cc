// Backfill of the statistics, sequence and sketch aggregators and the ratio and bucketize
// views against the brute-force reference: the same states through the temporary engine's
// tiles, over a generated log with disorder, duplicates and late lines.

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "analytics_signals.h"
#include "log.h"
#include "signalbox/backfill/backfill.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

TEST(Backfill, AnalyticsSignalsMatchTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 31);
  add_numeric_summary_signals(world, {"1h", "3d", "40d"});
  add_sequence_signals(world, {"1d", "10d"});
  add_sketch_signals(world, {"1d", "10d", "40d"});
  add_analytics_views(world);
  const std::size_t users = 8;
  EventLog log = generate_log(world, 8000, users, 195 * kSecondMs, 2 * kHourMs);
  auto& rng = world.rng();
  std::vector<BackfillQuery> queries;
  const TimeMs span = log.newest - kLogStart;
  for (int i = 0; i < 150; ++i)
    queries.push_back(
        {1000 + rng() % users, kLogStart + static_cast<TimeMs>(rng() % (span + kDayMs))});
  for (std::uint64_t user = 1000; user < 1000 + users; ++user)
    queries.push_back({user, log.newest});

  fs::path events = world.dir() / "events.ndjson";
  fs::path out = world.dir() / "out.ndjson";
  log.write(events);
  BackfillOptions options;
  options.event_files = {events.string()};
  options.out = out.string();
  options.arrival_order = true;
  options.lateness = 3 * kHourMs;
  options.progress = false;
  std::map<std::size_t, std::string> rejected;  // line -> the field its message blames
  options.on_reject = [&](const std::string& message) {
    std::size_t colon = message.find(':', events.string().size() + 1);
    rejected[std::stoul(message.substr(events.string().size() + 1, colon)) - 1] =
        fault_of(message.substr(colon + 2));
  };
  BackfillStats stats = run_backfill(world.config, queries, options);
  ASSERT_EQ(stats.query_errors, 0u) << stats.first_query_error;

  std::ifstream in(out, std::ios::binary);
  std::vector<std::string> answers;
  for (std::string line; std::getline(in, line);) answers.push_back(line);
  ASSERT_EQ(answers.size(), queries.size());
  // The reference decides on its own which lines count; the backfill rejected exactly the rest.
  EventLog::Verdict verdict = log.judge(world, stats.lines);
  ASSERT_EQ(rejected, verdict.rejected);
  auto& accepted = verdict.by_user;
  SketchStats sketches;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const BackfillQuery& q = queries[i];
    Value actual = parse_json(answers[i]);
    ASSERT_EQ(
        world.accept_sketch_answers(accepted[q.user_id], q.user_id, q.as_of, actual, sketches), "")
        << "query " << i;
    ASSERT_EQ(diff(world.expected(accepted[q.user_id], q.user_id, q.as_of), actual, 1e-9), "")
        << "query " << i << ": user " << q.user_id << " as_of " << q.as_of;
  }
  EXPECT_GT(sketches.exact_checks, 0u);
  EXPECT_GT(sketches.bound_checks, 0u);
}

}  // namespace
}  // namespace signalbox::testing
