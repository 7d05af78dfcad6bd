// The log of the real `signalbox` binary: the log section's errors, --log-level, and the JSON
// format (every stderr line one JSON object) with the lines operators rely on.

#include <unistd.h>

#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "json.h"
#include "read_lines.h"
#include "server_process.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

class LogEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-log-{}-{}", getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes a config with `log_section` (a YAML line, or empty) and returns its path.
  fs::path config(const std::string& log_section) {
    fs::path path = dir_ / "signalbox.yaml";
    std::ofstream(path) << fmt::format(
        "server: {{ http: 127.0.0.1:{} }}\n"
        "storage: {{ kind: rocksdb, path: {} }}\n"
        "{}\n"
        "signals:\n"
        "  - {{ name: clicks, aggregator: count, windows: [1h] }}\n",
        port_, (dir_ / "data").string(), log_section);
    return path;
  }

  // Starts serve with `extra` arguments, sends `posts` times two bad events and one good one,
  // stops it; returns everything it wrote.
  std::string serve_once(const fs::path& config_path, std::vector<std::string> extra = {},
                         int posts = 1) {
    std::vector<std::string> args = {"serve", "--config", config_path.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    fs::path log = dir_ / "serve.log";
    fs::remove(log);
    pid_t pid = spawn_signalbox(args, log);
    bool up = false;
    for (int i = 0; i < 3000 && !up; ++i) {
      try {
        up = HttpClient(port_).get("/healthz").status == 200;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    EXPECT_TRUE(up) << read_file(log);
    HttpClient client(port_);
    std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    for (int i = 0; i < posts; ++i) {
      HttpAnswer answer = client.post(
          "/v1/events", fmt::format("{{\"user_id\":1,\"ts\":{},\"action\":\"click\"}}\n"
                                    "{{\"user_id\":1,\"action\":\"click\"}}\n"
                                    "{{\"user_id\":1,\"ts\":{},\"action\":\"click\",\"x\":1}}\n",
                                    now, now));
      EXPECT_EQ(answer.status, 200u) << answer.body;
    }
    kill(pid, SIGTERM);
    EXPECT_EQ(wait_for_exit(pid, std::chrono::seconds(60)), 0) << read_file(log);
    return read_file(log);
  }

  fs::path dir_;
  std::uint16_t port_ = 0;
};

TEST_F(LogEndToEnd, LogSectionErrorsNameTheKey) {
  struct Case {
    std::string section, message;
  };
  std::vector<Case> cases = {
      {"log: { level: loud }",
       R"(:3: log.level: unknown level "loud" (use trace, debug, info, warn, error or off))"},
      {"log: { format: xml }", R"(:3: log.format: unknown format "xml" (use text or json))"},
      {"log: { colour: red }",
       ":3: log.colour: unknown key (expected level, format or slow_query)"},
      {"log: { slow_query: soon }", R"(:3: log.slow_query: bad duration "soon")"},
      {"log: [info]", ":3: log: must be a mapping"},
  };
  for (const Case& c : cases) {
    std::string output;
    int status = run_signalbox({"check", "--config", config(c.section).string()},
                               dir_ / "check.log", &output);
    EXPECT_EQ(status, 2) << c.section << "\n" << output;
    EXPECT_NE(output.find(c.message), std::string::npos)
        << c.section << ": \"" << c.message << "\" not in:\n"
        << output;
  }
  std::string output;
  EXPECT_EQ(
      run_signalbox({"check", "--config",
                     config("log: { level: debug, format: json, slow_query: 250ms }").string()},
                    dir_ / "check.log", &output),
      0)
      << output;
}

TEST_F(LogEndToEnd, BadLogLevelOptionIsAUsageError) {
  for (std::string command : {"serve", "replay", "backfill"}) {
    std::string output;
    int status = run_signalbox({command, "--config", config("").string(), "--log-level", "loud"},
                               dir_ / "cli.log", &output);
    EXPECT_EQ(status, 2) << command << "\n" << output;
    EXPECT_NE(output.find("--log-level"), std::string::npos) << command << "\n" << output;
  }
}

TEST_F(LogEndToEnd, JsonFormatWritesOneObjectPerLine) {
  std::string output = serve_once(config("log: { level: info, format: json }"));
  std::vector<std::string> lines = split_lines(output);
  ASSERT_GE(lines.size(), 4u) << output;
  static const std::regex kTimestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  std::map<std::string, Value> by_message;
  for (const std::string& line : lines) {
    Value object;
    ASSERT_NO_THROW(object = parse_json(line)) << line;
    ASSERT_TRUE(object.is_object()) << line;
    for (const char* key : {"ts", "level", "msg"}) {
      ASSERT_TRUE(object.find(key) && object.find(key)->is_string()) << key << " in " << line;
    }
    EXPECT_TRUE(std::regex_match(object.find("ts")->string(), kTimestamp)) << line;
    by_message.emplace(object.find("msg")->string(), object);
  }
  ASSERT_TRUE(by_message.count("signalbox serve: starting")) << output;
  const Value& start = by_message["signalbox serve: starting"];
  EXPECT_EQ(start.find("level")->string(), "info");
  EXPECT_EQ(start.find("signals")->number(), 1);
  EXPECT_EQ(start.find("log_format")->string(), "json");
  EXPECT_EQ(start.find("http")->string(), fmt::format("127.0.0.1:{}", port_));

  ASSERT_TRUE(by_message.count("rejected events")) << output;
  const Value& rejected = by_message["rejected events"];
  EXPECT_EQ(rejected.find("level")->string(), "warn");
  EXPECT_EQ(rejected.find("source")->string(), "http");
  EXPECT_EQ(rejected.find("rejected")->number(), 2);
  EXPECT_EQ(rejected.find("events")->number(), 3);
  EXPECT_EQ(rejected.find("reasons")->string(), "ts=1,unknown_field=1");
  EXPECT_EQ(rejected.find("example")->string(), "ts: required");

  bool listening = false;
  for (const auto& [message, object] : by_message) {
    if (message.starts_with("signalbox serve: listening on")) {
      listening = true;
      EXPECT_EQ(object.find("address")->string(), fmt::format("127.0.0.1:{}", port_));
    }
  }
  EXPECT_TRUE(listening) << output;
  EXPECT_TRUE(by_message.count("signalbox serve: SIGTERM received, finishing in-flight requests"))
      << output;
  EXPECT_TRUE(by_message.count("signalbox serve: stopped")) << output;
}

TEST_F(LogEndToEnd, RejectedEventsAreSummarisedNotLoggedOneByOne) {
  // 200 bad batches in well under the 10 s summary interval: the first is logged at once,
  // the rest wait for the next line.
  std::string output = serve_once(config("log: { format: json }"), {}, 200);
  std::size_t lines = 0;
  for (std::size_t at = output.find("\"msg\":\"rejected events\""); at != std::string::npos;
       at = output.find("\"msg\":\"rejected events\"", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << output;
}

TEST_F(LogEndToEnd, LevelFromConfigAndCommandLine) {
  // The config's warn hides the info lines but keeps the rejected-events warning.
  std::string output = serve_once(config("log: { level: warn, format: json }"));
  EXPECT_EQ(output.find("\"level\":\"info\""), std::string::npos) << output;
  EXPECT_NE(output.find("\"msg\":\"rejected events\""), std::string::npos) << output;

  // --log-level overrides it both ways.
  output = serve_once(config("log: { level: warn, format: json }"), {"--log-level", "info"});
  EXPECT_NE(output.find("\"msg\":\"signalbox serve: starting\""), std::string::npos) << output;
  output = serve_once(config("log: { format: json }"), {"--log-level", "error"});
  EXPECT_EQ(output, "");
}

TEST_F(LogEndToEnd, TextFormatIsTimestampLevelMessageAndFields) {
  std::string output = serve_once(config(""));
  static const std::regex kLine(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) .+)");
  for (const std::string& line : split_lines(output))
    EXPECT_TRUE(std::regex_match(line, kLine)) << line;
  EXPECT_NE(output.find("info signalbox serve: starting version=" SIGNALBOX_VERSION),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("warn rejected events source=http rejected=2 events=3 batches=1 "
                        "reasons=\"ts=1,unknown_field=1\" example=\"ts: required\""),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace signalbox::testing
