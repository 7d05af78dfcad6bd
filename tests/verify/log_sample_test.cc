// sample_log_users: a bottom-k sample of the users of a log, with each one's span of events,
// the same whatever the order of the lines.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "signalbox/verify/log_sample.h"

namespace signalbox {
namespace {

namespace fs = std::filesystem;

class LogSampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("signalbox-log-sample-{}", ::getpid());
    fs::create_directories(dir_);
    // 50 users, user u with u + 1 events at ts 1000 * u + 10 * i: first 1000 u, last 1000 u + 10 u.
    for (std::uint64_t u = 1; u <= 50; ++u)
      for (std::uint64_t i = 0; i <= u; ++i)
        lines_.push_back(
            fmt::format(R"({{"user_id":{},"ts":{},"action":"click"}})", u, 1000 * u + 10 * i));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<std::string>& lines) {
    std::ofstream out(dir_ / name);
    for (const std::string& line : lines) out << line << "\n";
    return (dir_ / name).string();
  }

  static DecodeOptions decode() {
    return DecodeOptions{kHourMs, [] { return TimeMs{2'000'000'000'000}; }};
  }

  fs::path dir_;
  std::vector<std::string> lines_;
};

TEST_F(LogSampleTest, EverySampledUserHasTheSpanOfAllItsEvents) {
  const std::string file = write("log.ndjson", lines_);
  LogSample sample = sample_log_users({file}, 10, 7, decode());
  ASSERT_EQ(sample.users.size(), 10u);
  for (const SampledUser& user : sample.users) {
    EXPECT_EQ(user.first_ts, static_cast<TimeMs>(1000 * user.user_id));
    EXPECT_EQ(user.last_ts, static_cast<TimeMs>(1000 * user.user_id + 10 * user.user_id));
  }
  EXPECT_TRUE(std::is_sorted(
      sample.users.begin(), sample.users.end(),
      [](const SampledUser& a, const SampledUser& b) { return a.user_id < b.user_id; }));
  EXPECT_EQ(sample.valid_events, lines_.size());
  EXPECT_EQ(*sample.log_end, 50 * 1000 + 500);
}

TEST_F(LogSampleTest, TheSampleDependsOnTheSeedButNotOnTheOrderOfTheLines) {
  std::vector<std::string> shuffled = lines_;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  const std::string in_order = write("a.ndjson", lines_);
  const std::string out_of_order = write("b.ndjson", shuffled);
  auto ids = [](const LogSample& s) {
    std::vector<std::uint64_t> ids;
    for (const SampledUser& u : s.users) ids.push_back(u.user_id);
    return ids;
  };
  LogSample a = sample_log_users({in_order}, 10, 7, decode());
  LogSample b = sample_log_users({out_of_order}, 10, 7, decode());
  EXPECT_EQ(ids(a), ids(b));
  for (std::size_t i = 0; i < a.users.size(); ++i) {
    EXPECT_EQ(a.users[i].first_ts, b.users[i].first_ts);
    EXPECT_EQ(a.users[i].last_ts, b.users[i].last_ts);
  }
  // Seeds pick different users (ten out of fifty, twice the same ten has odds near 1e-10).
  EXPECT_NE(ids(a), ids(sample_log_users({in_order}, 10, 8, decode())));
}

TEST_F(LogSampleTest, ASampleLargerThanTheUsersTakesThemAllAndInvalidLinesAreCounted) {
  std::vector<std::string> lines = lines_;
  lines.push_back(R"({"user_id":"x","ts":1,"action":"click"})");
  lines.push_back("");
  lines.push_back("not json");
  const std::string file = write("log.ndjson", lines);
  LogSample sample = sample_log_users({file}, 1000, 1, decode());
  EXPECT_EQ(sample.users.size(), 50u);
  EXPECT_EQ(sample.invalid_events, 2u);
  EXPECT_EQ(sample.lines, lines.size());
}

TEST_F(LogSampleTest, AnUnreadableLogIsNamed) {
  const std::string missing = (dir_ / "missing.ndjson").string();
  try {
    sample_log_users({missing}, 10, 1, decode());
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace signalbox
