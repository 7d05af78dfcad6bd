// `signalbox verify` end to end, through the real binary: a store replayed from a generated
// log agrees with that log; an event the store holds and the log lacks is reported for the
// signals it feeds and fails the run; a running `signalbox serve` is checked over HTTP the
// same way; bad arguments exit 2.

#include <gtest/gtest.h>

#include <set>

#include "json.h"
#include "server_process.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kEnd = 1767225600000;  // 2026-01-01T00:00:00Z

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

class VerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-verify-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    // 20 days of events against a 7-day retention: the 30d and 90d windows are answered from
    // day tiles, and much of the log is no longer in the store as raw events.
    std::string output;
    ASSERT_EQ(run_program(SIGNALBOX_DEMO_DATA_BINARY,
                          {"--out", (dir_ / "data").string(), "--users", "300", "--events", "30000",
                           "--days", "20", "--end-ms", std::to_string(kEnd)},
                          &output),
              0)
        << output;
    log_ = (dir_ / "data/events.ndjson").string();
    read_log();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The demo config, its store in this test's folder, serving HTTP on `port`.
  std::string config(std::uint16_t port = 8080) {
    std::string yaml = read_file(fs::path(SIGNALBOX_SOURCE_DIR) / "examples/demo.yaml");
    const std::string address = "127.0.0.1:8080";
    yaml.replace(yaml.find(address), address.size(), fmt::format("127.0.0.1:{}", port));
    const fs::path path = dir_ / "demo.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }

  static int run_program(const std::string& program, const std::vector<std::string>& args,
                         std::string* output) {
    std::vector<std::string> argv_strings{program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const fs::path log =
        fs::temp_directory_path() / fmt::format("signalbox-verify-run-{}.txt", ::getpid());
    fs::remove(log);
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const int status = wait_for_exit(pid, std::chrono::minutes(5));
    *output = read_file(log);
    fs::remove(log);
    return status;
  }

  // `signalbox args...`, stdout and stderr apart.
  Outcome signalbox(const std::vector<std::string>& args) {
    const fs::path log = dir_ / "signalbox.log";
    Outcome r;
    r.exit_code = run_signalbox(args, log, &r.out);
    return r;
  }

  // `signalbox verify --json` with `args`; the report parsed.
  Value verify_json(const std::vector<std::string>& args, int expected_exit) {
    std::vector<std::string> all{"verify", "--config", config(port_), "--events",   log_,
                                 "--json", "--quiet",  "--tmp-dir",   dir_.string()};
    all.insert(all.end(), args.begin(), args.end());
    const fs::path out = dir_ / "report.json";
    // The report is stdout; stderr goes apart so that the JSON can be parsed.
    const std::string command = fmt::format("{} {} >{} 2>{}", SIGNALBOX_BINARY, joined(all),
                                            out.string(), (dir_ / "verify.err").string());
    const int status = std::system(command.c_str());
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    stderr_ = read_file(dir_ / "verify.err");
    EXPECT_EQ(exit_code, expected_exit) << stderr_ << read_file(out);
    return parse_json(read_file(out));
  }

  static std::string joined(const std::vector<std::string>& args) {
    std::string line;
    for (const std::string& a : args) line += " '" + a + "'";
    return line;
  }

  void replay(const std::string& file) {
    Outcome r = signalbox({"replay", "-q", "--config", config(port_), file});
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  // The users of the log and its newest ts, read here without the engine.
  void read_log() {
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      Value event = parse_json(line);
      users_.insert(static_cast<std::uint64_t>(event.find("user_id")->number()));
      log_end_ = std::max(log_end_, static_cast<std::int64_t>(event.find("ts")->number()));
    }
  }

  // One save of `user`, a minute before the log's end, that the log does not hold.
  std::string extra_event(std::uint64_t user) const {
    return fmt::format(
        R"({{"user_id":{},"ts":{},"action":"save","item_id":"not-in-the-log","event_id":"extra-1"}})",
        user, log_end_ - 60'000);
  }

  static const Value& row(const Value& report, const std::string& signal,
                          const std::string& window) {
    for (const Value& r : report.find("signals")->array()) {
      const Value* w = r.find("window");
      if (r.find("signal")->string() == signal &&
          (w->is_null() ? window.empty() : w->string() == window))
        return r;
    }
    throw std::runtime_error("no row " + signal + " " + window);
  }

  static std::uint64_t count(const Value& row, const char* field) {
    return static_cast<std::uint64_t>(row.find(field)->number());
  }

  fs::path dir_;
  std::string log_;
  std::set<std::uint64_t> users_;
  std::int64_t log_end_ = 0;
  std::uint16_t port_ = 8080;
  std::string stderr_;
};

// The demo config's signal windows, signals without windows and views: one report row each.
const std::vector<std::pair<std::string, std::string>> kRows = {{"category_counts", "1h"},
                                                                {"category_counts", "1d"},
                                                                {"category_counts", "7d"},
                                                                {"category_counts", "30d"},
                                                                {"category_counts", "90d"},
                                                                {"saves", "1d"},
                                                                {"saves", "7d"},
                                                                {"saves", "90d"},
                                                                {"category_affinity", ""},
                                                                {"recent_pins", ""},
                                                                {"distinct_pins", "1d"},
                                                                {"distinct_pins", "30d"},
                                                                {"pin_embedding", "1d"},
                                                                {"pin_embedding", "7d"},
                                                                {"pin_embedding", "90d"},
                                                                {"purchases_value", "7d"},
                                                                {"purchases_value", "90d"},
                                                                {"top_categories_7d", ""},
                                                                {"category_mix_30d", ""},
                                                                {"last_session_pins", ""}};

// Whether every value of the signal is made of integers (counts) or texts (lists of items).
bool integral(const std::string& signal) {
  return signal == "category_counts" || signal == "saves" || signal == "recent_pins" ||
         signal == "distinct_pins" || signal == "top_categories_7d" ||
         signal == "last_session_pins";
}

TEST_F(VerifyCliTest, AStoreReplayedFromTheLogMatchesItExactly) {
  replay(log_);
  const fs::path metrics = dir_ / "verify.prom";
  Value report = verify_json({"--metrics-file", metrics.string()}, 0);
  EXPECT_EQ(*report.find("passed"), Value(true));
  const Value& users = *report.find("users");
  EXPECT_EQ(count(users, "sampled"), 100u);
  const std::uint64_t compared = count(*report.find("points"), "compared");
  // 100 users, up to 3 times each, every user with events before the log's end.
  EXPECT_GE(compared, 200u);
  EXPECT_EQ(count(*report.find("points"), "refused"), 0u);
  EXPECT_EQ(static_cast<std::int64_t>(report.find("checked_through")->number()), log_end_);
  ASSERT_EQ(report.find("signals")->array().size(), kRows.size());
  for (const auto& [signal, window] : kRows) {
    const Value& r = row(report, signal, window);
    EXPECT_EQ(count(r, "compared"), compared) << signal << " " << window;
    // Counts and lists are bit for bit the same; decayed counts, means and normalised values
    // may differ in the last bits of a double, far within the tolerance.
    EXPECT_EQ(count(r, "exact") + count(r, "within_tolerance"), compared)
        << signal << " " << window << ": " << r.to_json();
    if (integral(signal)) {
      EXPECT_EQ(count(r, "exact"), compared) << signal << " " << window << ": " << r.to_json();
    }
    if (count(r, "within_tolerance") > 0) {
      EXPECT_LT(r.find("p99_rel_error")->number(), 1e-12) << r.to_json();
    }
    EXPECT_EQ(*r.find("beyond_retention"), Value(window == "30d" || window == "90d"))
        << signal << " " << window;
  }

  const std::string prom = read_file(metrics);
  EXPECT_NE(prom.find("# TYPE signalbox_verify_exact_match_ratio gauge\n"), std::string::npos)
      << prom;
  EXPECT_NE(prom.find("# TYPE signalbox_verify_match_ratio gauge\n"), std::string::npos) << prom;
  for (const auto& [signal, window] : kRows)
    EXPECT_NE(
        prom.find(fmt::format("signalbox_verify_match_ratio{{signal=\"{}\",window=\"{}\"}} 1\n",
                              signal, window)),
        std::string::npos)
        << signal << " " << window << "\n"
        << prom;
  EXPECT_NE(prom.find("signalbox_verify_exact_match_ratio{signal=\"saves\",window=\"90d\"} 1\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("signalbox_verify_passed 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find(fmt::format("signalbox_verify_points_compared {}\n", compared)),
            std::string::npos)
      << prom;

  // The table says the same for people.
  Outcome table = signalbox(
      {"verify", "--config", config(), "--events", log_, "--quiet", "--tmp-dir", dir_.string()});
  EXPECT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("PASS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("90d*"), std::string::npos) << table.out;
}

TEST_F(VerifyCliTest, AnEventTheLogLacksIsReportedForTheSignalsItFeeds) {
  replay(log_);
  const std::uint64_t user = *users_.begin();
  const fs::path extra = dir_ / "extra.ndjson";
  std::ofstream(extra) << extra_event(user) << "\n";
  replay(extra.string());

  // Every user of the log is sampled, so the one with the extra save is among them.
  const fs::path metrics = dir_ / "verify.prom";
  Value report = verify_json({"--sample", "1000", "--metrics-file", metrics.string()}, 1);
  EXPECT_EQ(*report.find("passed"), Value(false));
  EXPECT_NE(stderr_.find("below the match threshold"), std::string::npos) << stderr_;
  EXPECT_EQ(count(*report.find("users"), "sampled"), users_.size());
  const std::uint64_t compared = count(*report.find("points"), "compared");
  ASSERT_GT(compared, 0u);

  // The save counts one more than the log in every window, at the present at least; the
  // example is that user's, with the store's value one above the log's.
  for (const char* window : {"1d", "7d", "90d"}) {
    const Value& saves = row(report, "saves", window);
    EXPECT_GE(count(saves, "numeric_mismatches"), 1u) << window;
    EXPECT_EQ(count(saves, "other_mismatches"), 0u) << window;
    EXPECT_EQ(count(saves, "exact") + count(saves, "numeric_mismatches"), compared) << window;
    EXPECT_EQ(count(saves, "within_tolerance"), 0u) << window;
    EXPECT_EQ(*saves.find("passed"), Value(false));
    const Value& example = *saves.find("first_mismatch");
    EXPECT_EQ(static_cast<std::uint64_t>(example.find("user_id")->number()), user);
    EXPECT_EQ(example.find("served")->number(), example.find("recomputed")->number() + 1)
        << example.to_json();
    EXPECT_DOUBLE_EQ(saves.find("max_abs_error")->number(), 1.0);
  }
  // Its item is a new distinct pin and the newest recent pin: a list that differs is no number.
  EXPECT_GE(count(row(report, "recent_pins", ""), "other_mismatches"), 1u);
  EXPECT_GE(count(row(report, "distinct_pins", "1d"), "numeric_mismatches"), 1u);
  // The item has no categories, no embedding and no price: those signals still agree.
  for (const auto& [signal, window] : kRows) {
    if (signal.find("categor") == std::string::npos && signal != "pin_embedding" &&
        signal != "purchases_value")
      continue;
    const Value& r = row(report, signal, window);
    EXPECT_EQ(count(r, "exact") + count(r, "within_tolerance"), compared)
        << signal << " " << window << ": " << r.to_json();
  }

  const std::string prom = read_file(metrics);
  EXPECT_NE(prom.find("signalbox_verify_passed 0\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("signalbox_verify_match_ratio{signal=\"category_counts\",window=\"7d\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(prom.find("signalbox_verify_match_ratio{signal=\"saves\",window=\"7d\"} 1\n"),
            std::string::npos);
  EXPECT_NE(prom.find("signalbox_verify_match_ratio{signal=\"saves\",window=\"7d\"} 0."),
            std::string::npos)
      << prom;

  // One user of hundreds is far above half: a threshold of 0.5 tolerates it.
  verify_json({"--sample", "1000", "--threshold", "0.5"}, 0);
}

TEST_F(VerifyCliTest, ARunningServerIsCheckedOverHttp) {
  replay(log_);
  port_ = free_port();
  ServerProcess server(config(port_), port_, dir_ / "serve.log");
  const std::string url = fmt::format("http://127.0.0.1:{}", port_);

  Value report = verify_json({"--server", url}, 0);
  EXPECT_NE(report.find("served_by")->string().find(url), std::string::npos) << report.to_json();
  const std::uint64_t compared = count(*report.find("points"), "compared");
  EXPECT_GE(compared, 200u);
  for (const auto& [signal, window] : kRows) {
    const Value& r = row(report, signal, window);
    EXPECT_EQ(count(r, "exact") + count(r, "within_tolerance"), compared)
        << signal << " " << window;
    if (integral(signal)) {
      EXPECT_EQ(count(r, "exact"), compared) << signal << " " << window;
    }
  }

  // Some signals and views only: those rows alone, asked of the server by name.
  Value some = verify_json({"--server", url, "--names", "saves,last_session_pins"}, 0);
  ASSERT_EQ(some.find("signals")->array().size(), 4u) << some.to_json();
  EXPECT_EQ(count(row(some, "last_session_pins", ""), "exact"),
            count(*some.find("points"), "compared"));
  EXPECT_EQ(count(row(some, "saves", "90d"), "exact"), count(*some.find("points"), "compared"));

  const std::uint64_t user = *users_.begin();
  HttpClient client(port_);
  HttpAnswer posted = client.post("/v1/events", extra_event(user));
  ASSERT_EQ(posted.status, 200u) << posted.body;
  ASSERT_NE(posted.body.find("\"accepted\":1"), std::string::npos) << posted.body;

  Value after = verify_json({"--server", url, "--sample", "1000"}, 1);
  const Value& saves = row(after, "saves", "1d");
  EXPECT_GE(count(saves, "numeric_mismatches"), 1u);
  EXPECT_EQ(static_cast<std::uint64_t>(saves.find("first_mismatch")->find("user_id")->number()),
            user);
  EXPECT_EQ(server.terminate(), 0);
}

TEST_F(VerifyCliTest, BadArgumentsExitTwoWithTheReason) {
  const std::string c = config();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"verify", "--config", c, "--events", log_, "--server", "https://127.0.0.1:8443"}, "https"},
      {{"verify", "--config", c, "--events", log_, "--server", "127.0.0.1:8080"},
       "not an http:// URL"},
      {{"verify", "--config", c, "--events", "-"}, "standard input"},
      {{"verify", "--config", c, "--events", log_, "--threshold", "1.5"}, "--threshold"},
      {{"verify", "--config", c, "--events", log_, "--sample", "0"}, "--sample"},
      {{"verify", "--config", c, "--events", log_, "--tolerance", "-1"}, "--tolerance"},
      {{"verify", "--config", c, "--events", log_, "--names", "saves,nope"},
       "\"nope\" is no signal or view"},
      {{"verify", "--config", c}, "--events"},
  };
  for (const Case& k : cases) {
    Outcome r = signalbox(k.args);
    EXPECT_EQ(r.exit_code, 2) << joined(k.args) << "\n" << r.out;
    EXPECT_NE(r.out.find(k.message), std::string::npos) << joined(k.args) << "\n" << r.out;
  }
}

TEST_F(VerifyCliTest, AnEmptyStoreIsAFailureNotAPass) {
  const fs::path empty = dir_ / "empty.ndjson";
  std::ofstream{empty};
  replay(empty.string());
  Outcome r = signalbox(
      {"verify", "--config", config(), "--events", log_, "--quiet", "--tmp-dir", dir_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("holds no events"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace signalbox::testing
