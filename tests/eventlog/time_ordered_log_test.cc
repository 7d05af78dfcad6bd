#include "signalbox/eventlog/time_ordered_log.h"

#include <gtest/gtest.h>

#include "logs.h"
#include "signalbox/eventlog/line_time.h"

namespace signalbox::testing {
namespace {

std::vector<std::pair<std::uint32_t, std::uint64_t>> origins(TimeOrderedLog& log) {
  std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
  log.read([&](const LogRecord& r) {
    out.emplace_back(r.file, r.line);
    return true;
  });
  return out;
}

// Quiet options with runs in the test's folder.
TimeOrderOptions quiet_options(const LogFolder& folder) {
  TimeOrderOptions options;
  options.progress = false;
  options.tmp_dir = folder.path();
  return options;
}

TEST(TimeOrderedLog, OrderedFilesAreReadAsTheyAre) {
  LogFolder folder;
  std::string a = folder.write("a.ndjson", {event_line(1, 0), "", event_line(3, 1)});
  std::string b = folder.write("b.ndjson", {event_line(3, 2), event_line(4, 3), ""});
  TimeOrderOptions options = quiet_options(folder);
  TimeOrderedLog log({a, b}, options);
  auto got = origins(log);
  EXPECT_FALSE(log.sorted());
  EXPECT_EQ(got,
            (std::vector<std::pair<std::uint32_t, std::uint64_t>>{{0, 1}, {0, 3}, {1, 1}, {1, 2}}));
  EXPECT_EQ(log.lines(), 6u);
}

TEST(TimeOrderedLog, FilesOutOfOrderAreSortedUnlessPresorted) {
  LogFolder folder;
  std::string a = folder.write("a.ndjson", {event_line(5, 0), event_line(2, 1)});
  std::string b = folder.write("b.ndjson", {event_line(1, 2), "{no ts", "", event_line(5, 3)});
  TimeOrderOptions options = quiet_options(folder);
  TimeOrderedLog sorted({a, b}, options);
  auto got = origins(sorted);
  EXPECT_TRUE(sorted.sorted());
  EXPECT_EQ(got, (std::vector<std::pair<std::uint32_t, std::uint64_t>>{
                     {1, 2}, {1, 1}, {0, 2}, {0, 1}, {1, 4}}))
      << "no time first, then ts; equal ts in file order";
  EXPECT_EQ(sorted.lines(), 6u);
  EXPECT_EQ(sorted.total(), 5u);
  EXPECT_EQ(sorted.done(), 5u);

  options.presorted = true;
  TimeOrderedLog as_given({a, b}, options);
  got = origins(as_given);
  EXPECT_FALSE(as_given.sorted());
  EXPECT_EQ(got, (std::vector<std::pair<std::uint32_t, std::uint64_t>>{
                     {0, 1}, {0, 2}, {1, 1}, {1, 2}, {1, 4}}));
}

TEST(TimeOrderedLog, StoppingEarlyCountsTheLinesReadSoFar) {
  LogFolder folder;
  std::string a = folder.write("a.ndjson", {event_line(1, 0), "", event_line(2, 1)});
  std::string b = folder.write("b.ndjson", {"", event_line(3, 2), event_line(4, 3)});
  TimeOrderOptions options;
  options.progress = false;
  TimeOrderedLog log({a, b}, options);
  int handed = 0;
  log.read([&](const LogRecord&) { return ++handed < 3; });
  EXPECT_EQ(handed, 3);
  EXPECT_EQ(log.lines(), 5u) << "three of a, two of b";
}

}  // namespace
}  // namespace signalbox::testing
