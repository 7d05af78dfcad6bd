// The external sort against a sort done here: every record in (ts, file, line) order, lines
// without ts first, with a memory budget small enough to force hundreds of runs (and so a
// merge in several passes) and with one large enough to need no disk.

#include "signalbox/eventlog/external_sort.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "logs.h"
#include "signalbox/eventlog/line_time.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

struct Expected {
  TimeMs ts;  // kNoTime for a line without a readable ts
  std::uint32_t file;
  std::uint64_t line;
  std::string text;
};

struct Got {
  std::uint32_t file;
  std::uint64_t line;
  std::string text;
};

// Three logs (the second gzip-compressed) with many equal ts, blank lines and lines whose ts
// cannot be read, and the order the sort must give them.
struct Logs {
  std::vector<std::string> files;
  std::vector<Expected> expected;
  std::uint64_t lines = 0;

  explicit Logs(const LogFolder& folder, std::size_t per_file = 2000) {
    std::mt19937_64 rng(5);
    std::size_t tag = 0;
    for (std::uint32_t f = 0; f < 3; ++f) {
      std::vector<std::string> lines;
      for (std::size_t i = 0; i < per_file; ++i) {
        const std::uint64_t line_number = lines.size() + 1;
        std::uint64_t r = rng() % 100;
        if (r < 3) {
          lines.push_back(r == 0 ? "" : "  \t");
          continue;
        }
        std::string text;
        TimeMs ts = kNoTime;
        if (r < 6) {
          text = r == 3 ? "{not json" : R"({"user_id": 3, "action": "click", "ts": "noon"})";
        } else {
          ts = 1000 + static_cast<TimeMs>(rng() % 500);  // many ties, across files too
          text = event_line(ts, tag++);
        }
        lines.push_back(text);
        expected.push_back(Expected{ts, f, line_number, text});
      }
      this->lines += lines.size();
      files.push_back(
          folder.write(fmt::format("log{}.ndjson{}", f, f == 1 ? ".gz" : ""), lines, f == 1));
    }
    // Enumerated in (file, line) order, so a stable sort by ts gives (ts, file, line).
    std::stable_sort(expected.begin(), expected.end(),
                     [](const Expected& a, const Expected& b) { return a.ts < b.ts; });
  }
};

std::vector<Got> merge_all(ExternalSort& sort) {
  std::vector<Got> got;
  sort.merge([&](const LogRecord& r) {
    got.push_back(Got{r.file, r.line, std::string(r.text)});
    return true;
  });
  return got;
}

void expect_order(const Logs& logs, const std::vector<Got>& got) {
  ASSERT_EQ(got.size(), logs.expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Expected& e = logs.expected[i];
    ASSERT_EQ(got[i].file, e.file) << "record " << i;
    ASSERT_EQ(got[i].line, e.line) << "record " << i;
    ASSERT_EQ(got[i].text, e.text) << "record " << i;
  }
}

// Quiet options writing runs into `tmp`, with a memory budget (0: the default).
ExternalSortOptions quiet_options(const fs::path& tmp, std::size_t budget = 0) {
  ExternalSortOptions options;
  options.tmp_dir = tmp;
  if (budget) options.memory_budget = budget;
  options.progress = false;
  return options;
}

TEST(ExternalSort, ATinyBudgetMergesHundredsOfRunsInOrder) {
  LogFolder folder;
  Logs logs(folder);
  fs::path tmp = folder.path() / "tmp";
  fs::create_directories(tmp);
  ExternalSortOptions options = quiet_options(tmp, 2048);
  {
    ExternalSort sort(logs.files, options);
    sort.sort();
    EXPECT_GT(sort.runs(), 128u) << "more runs than one merge takes";
    EXPECT_EQ(sort.lines(), logs.lines) << "blank lines count";
    EXPECT_EQ(sort.records(), logs.expected.size());
    EXPECT_FALSE(fs::is_empty(tmp)) << "the runs are on disk";
    expect_order(logs, merge_all(sort));
  }
  EXPECT_TRUE(fs::is_empty(tmp)) << "the temporary folder is removed";
}

TEST(ExternalSort, OneChunkNeedsNoDisk) {
  LogFolder folder;
  Logs logs(folder);
  fs::path tmp = folder.path() / "tmp";
  fs::create_directories(tmp);
  ExternalSortOptions options = quiet_options(tmp);
  ExternalSort sort(logs.files, options);
  sort.sort();
  EXPECT_EQ(sort.runs(), 0u);
  EXPECT_TRUE(fs::is_empty(tmp));
  expect_order(logs, merge_all(sort));
}

TEST(ExternalSort, SameAnswerWhateverTheBudget) {
  LogFolder folder;
  Logs logs(folder, 700);
  for (std::size_t budget : {1ul, 300ul, 5000ul, 64ul << 10}) {
    ExternalSortOptions options = quiet_options(folder.path(), budget);
    ExternalSort sort(logs.files, options);
    sort.sort();
    expect_order(logs, merge_all(sort));
  }
}

TEST(ExternalSort, StoppingEarlyOrFailingInTheConsumerLeavesNoTemporaryData) {
  LogFolder folder;
  Logs logs(folder, 500);
  fs::path tmp = folder.path() / "tmp";
  fs::create_directories(tmp);
  ExternalSortOptions options = quiet_options(tmp, 4096);
  {
    ExternalSort sort(logs.files, options);
    sort.sort();
    std::size_t handed = 0;
    sort.merge([&](const LogRecord&) { return ++handed < 10; });
    EXPECT_EQ(handed, 10u) << "nothing after the consumer said stop";
  }
  EXPECT_TRUE(fs::is_empty(tmp));
  {
    ExternalSort sort(logs.files, options);
    sort.sort();
    EXPECT_THROW(sort.merge([](const LogRecord&) -> bool { throw std::runtime_error("full"); }),
                 std::runtime_error);
  }
  EXPECT_TRUE(fs::is_empty(tmp));
}

TEST(ExternalSort, AnUnreadableLogIsNamedAndLeavesNoTemporaryData) {
  LogFolder folder;
  Logs logs(folder, 300);
  fs::path tmp = folder.path() / "tmp";
  fs::create_directories(tmp);
  const std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", 17);
  std::ofstream(folder.path() / "broken.gz", std::ios::binary) << gz;
  std::vector<std::string> files = logs.files;
  files.push_back((folder.path() / "broken.gz").string());
  ExternalSortOptions options = quiet_options(tmp, 1024);
  try {
    ExternalSort sort(files, options);
    sort.sort();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.gz: read error"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp));
}

TEST(ExternalSort, AStopRequestInterrupts) {
  LogFolder folder;
  Logs logs(folder, 300);
  std::atomic<bool> stop{true};
  ExternalSortOptions options = quiet_options(folder.path());
  options.stop = &stop;
  ExternalSort sort(logs.files, options);
  EXPECT_THROW(sort.sort(), std::runtime_error);
}

}  // namespace
}  // namespace signalbox::testing
