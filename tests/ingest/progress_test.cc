// Progress output: a bar with rate and ETA on a terminal, plain lines otherwise, and the final
// line exactly once — in the reporter and in `signalbox replay` / `backfill` with stderr
// redirected to a file.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "read_lines.h"
#include "run.h"
#include "signalbox/eventlog/progress.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

// What a reporter wrote to a temporary file.
class Captured {
 public:
  Captured() : file_(std::tmpfile()) {}
  ~Captured() { std::fclose(file_); }
  std::FILE* stream() { return file_; }
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file_)) out.append(buffer, n);
    return out;
  }

 private:
  std::FILE* file_;
};

std::size_t count_starting(const std::vector<std::string>& lines, std::string_view prefix) {
  return std::count_if(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

TEST(Progress, NotATerminalPrintsPlainLinesAndTheFinalOneOnce) {
  Captured out;
  {
    ProgressReporter progress("load", 100, "events", true,
                              {out.stream(), false, std::chrono::milliseconds(0)});
    progress.update(50, 5);
    // Reaching the total is the final state: it is finish()'s line, not a periodic one.
    progress.update(100, 10);
    progress.finish(100, 10);
    progress.finish(100, 10);
    progress.update(100, 10);
  }
  std::vector<std::string> lines = split_lines(out.text());
  ASSERT_EQ(lines.size(), 2u) << out.text();
  EXPECT_EQ(lines[0].rfind("load: 50.0% 5 events (", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("ETA "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("load: done: 10 events in ", 0), 0u) << lines[1];
  EXPECT_EQ(out.text().find('\r'), std::string::npos);
  EXPECT_EQ(out.text().find('\x1b'), std::string::npos);
}

TEST(Progress, NotATerminalWaitsTheIntervalBetweenLines) {
  Captured out;
  ProgressReporter progress("load", 0, "rows", true, {out.stream(), false, std::chrono::hours(1)});
  for (int i = 1; i <= 1000; ++i) progress.update(i, i);
  progress.finish(1000, 1000);
  std::vector<std::string> lines = split_lines(out.text());
  ASSERT_EQ(lines.size(), 1u) << out.text();
  EXPECT_EQ(lines[0].rfind("load: done: 1000 rows in ", 0), 0u) << lines[0];
}

TEST(Progress, UnknownTotalGivesCountRateAndElapsed) {
  Captured out;
  ProgressReporter progress("load", 0, "rows", true,
                            {out.stream(), false, std::chrono::milliseconds(0)});
  progress.update(7, 7);
  progress.finish(9, 9);
  std::vector<std::string> lines = split_lines(out.text());
  ASSERT_EQ(lines.size(), 2u) << out.text();
  EXPECT_EQ(lines[0].rfind("load: 7 rows (", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" elapsed)"), std::string::npos) << lines[0];
  EXPECT_EQ(count_starting(lines, "load: done: 9 rows in "), 1u);
}

TEST(Progress, TerminalRedrawsOneBarWithRateAndEta) {
  Captured out;
  {
    ProgressReporter progress("load", 100, "events", true, {out.stream(), true, {}});
    progress.finish(100, 10);
  }
  std::string text = out.text();
  // One line, redrawn in place, ended once.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.front(), '\r');
  EXPECT_NE(text.find("load [##############################] 100.0%  10 events  "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("/s  done in "), std::string::npos) << text;

  Captured partial;
  {
    // Interrupted before finish(): the bar's line is still ended.
    ProgressReporter progress("load", 200, "events", true, {partial.stream(), true, {}});
    std::this_thread::sleep_for(std::chrono::milliseconds(210));
    progress.update(50, 5);
  }
  text = partial.text();
  EXPECT_NE(text.find("load [#######.......................]  25.0%  5 events  "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ETA "), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, DisabledWritesNothing) {
  Captured out;
  {
    ProgressReporter progress("load", 100, "events", false,
                              {out.stream(), false, std::chrono::milliseconds(0)});
    progress.update(50, 5);
    progress.finish(100, 10);
  }
  EXPECT_EQ(out.text(), "");
}

// `signalbox replay` and `backfill` with stderr in a file: one final line each, no bar.
class ProgressCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-progress-{}-{}", getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "signalbox.yaml") << fmt::format(
        "storage: {{ kind: rocksdb, path: {} }}\n"
        "signals:\n"
        "  - {{ name: clicks, aggregator: count, windows: [1h] }}\n",
        (dir_ / "data").string());
    const std::int64_t start = 1'700'000'000'000;
    for (int f = 0; f < 3; ++f) {
      std::ofstream events(dir_ / fmt::format("events{}.ndjson", f));
      for (int i = 0; i < 400; ++i) {
        int n = f * 400 + i;
        events << fmt::format(R"({{"user_id":{},"ts":{},"action":"click","event_id":"e{}"}})",
                              n % 17, start + n * 1000, n)
               << "\n";
      }
    }
    std::ofstream(dir_ / "queries.csv") << "user_id,as_of\n1,1700000600000\n2,1700001200000\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string files() const {
    std::string out;
    for (int f = 0; f < 3; ++f)
      out += " " + shell_quote((dir_ / fmt::format("events{}.ndjson", f)).string());
    return out;
  }
  std::string config() const { return shell_quote((dir_ / "signalbox.yaml").string()); }

  fs::path dir_;
};

TEST_F(ProgressCli, ReplayPrintsOneFinalLine) {
  RunResult r = run(signalbox(fmt::format("replay --config {}{}", config(), files())), dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = split_lines(r.err);
  EXPECT_EQ(count_starting(lines, "replay: done: 1200 events in "), 1u) << r.err;
  EXPECT_EQ(count_starting(lines, "replay: done:"), 1u) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1200 events accepted"), std::string::npos) << r.out;

  r = run(signalbox(fmt::format("replay --quiet --config {}{}", config(), files())), dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(ProgressCli, BackfillPrintsOneFinalLine) {
  RunResult r =
      run(signalbox(fmt::format("backfill --config {} --queries {} --out {} --events{}", config(),
                                shell_quote((dir_ / "queries.csv").string()),
                                shell_quote((dir_ / "answers.ndjson").string()), files())),
          dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = split_lines(r.err);
  EXPECT_EQ(count_starting(lines, "backfill: done:"), 1u) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
}

}  // namespace
}  // namespace signalbox::testing
