// `signalbox backfill` end to end: against the reference through the real binary (gzip and
// several logs, a query file with header and blank rows, stdin), the same answers as
// `replay` + `get` at the end of the stream, and bad input with its message and exit status.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "log.h"
#include "read_lines.h"
#include "run.h"
#include "signalbox/backfill/query_file.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kDemoEnd = 1767225600000;  // 2026-01-01T00:00:00Z

class BackfillCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-backfill-cli-{}-{}", ::getpid(), counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  RunResult cli(const std::string& args) { return run(signalbox(args), dir_); }

  // The demo config and a demo log of 300 users over 20 days ending at kDemoEnd.
  std::string demo() {
    RunResult gen = run(
        fmt::format("{} --out {} --users 300 --events 30000 --days 20 --end-ms {}",
                    shell_quote(SIGNALBOX_DEMO_DATA_BINARY), shell_quote(path("data")), kDemoEnd),
        dir_);
    EXPECT_EQ(gen.exit_code, 0) << gen.err;
    write("demo.yaml", read_file(fs::path(SIGNALBOX_SOURCE_DIR) / "examples/demo.yaml"));
    return path("demo.yaml");
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(BackfillCliTest, TheBinaryMatchesTheReference) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 21);
  world.config.file = dir_ / "world.yaml";
  write("world.yaml", config_yaml(world.config));
  const std::size_t users = 20;
  EventLog log = generate_log(world, 8000, users, 5 * kMinuteMs, kHourMs);
  // Two logs read in order: the first compressed.
  const std::size_t half = log.lines.size() / 2;
  log.write(dir_ / "a.ndjson", 0, half);
  log.write(dir_ / "b.ndjson", half, log.lines.size());
  ASSERT_EQ(std::system(fmt::format("gzip {}", shell_quote(path("a.ndjson"))).c_str()), 0);

  auto& rng = world.rng();
  std::vector<BackfillQuery> queries;
  std::string csv = "user_id,as_of\n";
  for (int i = 0; i < 300; ++i) {
    BackfillQuery q{1000 + rng() % (users + 1),
                    kLogStart + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(
                                                                log.newest - kLogStart + kDayMs))};
    if (i % 50 == 0) q.as_of = log.newest;
    queries.push_back(q);
    csv += fmt::format("{},{}\n{}", q.user_id, q.as_of, i % 7 == 0 ? "\n" : "");
  }
  write("q.csv", csv);

  RunResult result =
      cli(fmt::format("backfill -q --config {} --events {} {} --queries {} --out {} "
                      "--arrival-order --lateness 2h",
                      path("world.yaml"), path("a.ndjson.gz"), path("b.ndjson"), path("q.csv"),
                      path("out.ndjson")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("backfilled 300 queries (0 refused)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(fmt::format("read {} lines", log.lines.size())), std::string::npos)
      << result.out;

  EXPECT_NE(result.err.find("rejected: ... and"), std::string::npos)
      << "more than 20: " << result.err;
  // The reference needs every rejection: list them all, as file:line: problem with line
  // numbers counting in each file.
  result = cli(fmt::format(
      "backfill -q --max-errors 100000 --config {} --events {} {} --queries {} --out {} "
      "--arrival-order --lateness 2h",
      path("world.yaml"), path("a.ndjson.gz"), path("b.ndjson"), path("q.csv"),
      path("out.ndjson")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::map<std::size_t, std::string> rejected;  // line of the whole log -> the field blamed
  for (const std::string& line : split_lines(result.err)) {
    for (auto [file, first] :
         {std::pair{path("a.ndjson.gz"), std::size_t{0}}, {path("b.ndjson"), half}}) {
      std::string prefix = "rejected: " + file + ":";
      if (line.rfind(prefix, 0) != 0) continue;
      const std::size_t colon = line.find(':', prefix.size());
      rejected[first + std::stoul(line.substr(prefix.size())) - 1] =
          fault_of(line.substr(colon + 2));
    }
  }

  std::vector<std::string> answers = split_lines(read_file(dir_ / "out.ndjson"));
  ASSERT_EQ(answers.size(), queries.size());
  // The reference decides on its own which lines count; the backfill rejected exactly the rest.
  EventLog::Verdict verdict = log.judge(world, log.lines.size());
  ASSERT_EQ(rejected, verdict.rejected);
  auto& accepted = verdict.by_user;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const BackfillQuery& q = queries[i];
    std::string d =
        diff(world.expected(accepted[q.user_id], q.user_id, q.as_of), parse_json(answers[i]), 1e-9);
    ASSERT_EQ(d, "") << "query " << i << ": user " << q.user_id << " as_of " << q.as_of;
  }
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find("signalbox-backfill-"), std::string::npos)
        << entry.path();

  // The same from standard input to standard output; the summary then goes to stderr.
  RunResult piped = run(
      fmt::format("cat {} | {}", shell_quote(path("b.ndjson")),
                  signalbox(fmt::format("backfill -q --config {} --events - --queries {} --out - "
                                        "--arrival-order --lateness 2h --tmp-dir {}",
                                        path("world.yaml"), path("q.csv"), path("data-tmp")))),
      dir_);
  EXPECT_EQ(piped.exit_code, 1) << "the temporary folder's parent does not exist: " << piped.err;
  fs::create_directories(dir_ / "data-tmp");
  piped = run(
      fmt::format("cat {} | {}", shell_quote(path("b.ndjson")),
                  signalbox(fmt::format("backfill -q --config {} --events - --queries {} --out - "
                                        "--arrival-order --lateness 2h --tmp-dir {}",
                                        path("world.yaml"), path("q.csv"), path("data-tmp")))),
      dir_);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(split_lines(piped.out).size(), queries.size());
  EXPECT_NE(piped.err.find("backfilled 300 queries"), std::string::npos) << piped.err;
  EXPECT_TRUE(fs::is_empty(dir_ / "data-tmp"));
}

// Online and offline agree: backfill at the end of the stream answers what replay + get do.
TEST_F(BackfillCliTest, AtTheEndOfTheStreamBackfillEqualsReplayThenGet) {
  std::string config = demo();
  const std::string events = path("data/events.ndjson");
  ASSERT_EQ(cli(fmt::format("replay -q --config {} {}", config, events)).exit_code, 0);

  // The busiest users, a quiet one and one never seen.
  std::map<std::uint64_t, int> counts;
  std::stringstream log(read_file(events));
  for (std::string line; std::getline(log, line);) {
    std::size_t at = line.find("\"user_id\":");
    if (at != std::string::npos) counts[std::stoull(line.substr(at + 10))]++;
  }
  std::vector<std::pair<int, std::uint64_t>> by_count;
  for (const auto& [user, n] : counts) by_count.emplace_back(n, user);
  std::sort(by_count.rbegin(), by_count.rend());
  std::vector<std::uint64_t> users;
  for (std::size_t i = 0; i < 6; ++i) users.push_back(by_count[i].second);
  users.push_back(by_count.back().second);
  users.push_back(987654321);

  // kDemoEnd written both ways: ms and ISO 8601 (date only, and with an offset).
  std::string csv;
  const std::string spellings[] = {std::to_string(kDemoEnd), "2026-01-01",
                                   "2026-01-01T01:00:00.000+01:00"};
  for (std::size_t i = 0; i < users.size(); ++i)
    csv += fmt::format("{},{}\n", users[i], spellings[i % 3]);
  write("q.csv", csv);
  RunResult backfill = cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {}",
                                       config, events, path("q.csv"), path("out.ndjson")));
  ASSERT_EQ(backfill.exit_code, 0) << backfill.err;
  EXPECT_NE(backfill.out.find(", 0 rejected"), std::string::npos) << backfill.out;
  std::vector<std::string> answers = split_lines(read_file(dir_ / "out.ndjson"));
  ASSERT_EQ(answers.size(), users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    RunResult get =
        cli(fmt::format("get --config {} --user {} --as-of {}", config, users[i], kDemoEnd));
    ASSERT_EQ(get.exit_code, 0) << get.err;
    // Tiles merge in another order in each store: doubles may differ in their last bits.
    std::string d = diff(parse_json(get.out), parse_json(answers[i]), 1e-9);
    EXPECT_EQ(d, "") << "user " << users[i];
  }
  EXPECT_NE(answers[0].find("\"top_categories_7d\":[{"), std::string::npos) << answers[0];
}

// The cells of one CSV line (quoted fields, "" for a quote), read here without the
// engine's reader.
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

// An answer's leaves by column name: top-level fields, then signal.window.key...
void leaves(const Value& v, const std::string& name, std::map<std::string, Value>& out) {
  if (!v.is_object()) {
    out[name] = v;
    return;
  }
  for (const auto& [key, x] : v.object()) leaves(x, name.empty() ? key : name + "." + key, out);
}

std::map<std::string, Value> flat_answer(const Value& answer) {
  std::map<std::string, Value> out;
  for (const auto& [field, v] : answer.object()) {
    if (field == "signals")
      leaves(v, "", out);
    else
      out[field] = v;
  }
  return out;
}

// --format csv: the JSON backfill's values, one flat row per query, with the query file's
// own columns (a label, an id) passed through; --names and --keys narrow the columns.
TEST_F(BackfillCliTest, CsvHoldsTheJsonValuesAndTheQueryFilesColumns) {
  std::string config = demo();
  const std::string events = path("data/events.ndjson");
  std::string queries = "request,user_id,label,as_of\n";
  std::map<std::uint64_t, int> counts;
  std::stringstream log(read_file(events));
  for (std::string line; std::getline(log, line);) {
    std::size_t at = line.find("\"user_id\":");
    if (at != std::string::npos) counts[std::stoull(line.substr(at + 10))]++;
  }
  std::vector<std::uint64_t> users;
  for (const auto& [user, n] : counts) users.push_back(user);
  for (std::size_t i = 0; i < 40; ++i) {
    const std::uint64_t user = i == 39 ? 987654321 : users[(i * 37) % users.size()];
    const std::string as_of = i % 2 ? std::to_string(kDemoEnd - static_cast<TimeMs>(i) * kHourMs)
                                    : "2025-12-2" + std::to_string(i % 10) + "T12:00:00Z";
    queries += fmt::format("\"r,{}\",{},{},{}\n", i, user, i % 3 == 0 ? "1" : "0", as_of);
  }
  write("q.csv", queries);
  auto backfill = [&](const std::string& out, const std::string& more) {
    return cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {} {}", config,
                           events, path("q.csv"), path(out), more));
  };
  RunResult json = backfill("out.ndjson", "");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  RunResult csv = backfill("out.csv", "--format csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;

  std::vector<std::string> answers = split_lines(read_file(dir_ / "out.ndjson"));
  std::vector<std::string> rows = split_lines(read_file(dir_ / "out.csv"));
  ASSERT_EQ(answers.size(), 40u);
  ASSERT_EQ(rows.size(), 41u);
  const std::vector<std::string> header = csv_cells(rows[0]);
  ASSERT_GT(header.size(), 30u);
  EXPECT_EQ(std::vector<std::string>(header.begin(), header.begin() + 5),
            (std::vector<std::string>{"user_id", "as_of", "as_of_iso", "request", "label"}));
  std::size_t numbers = 0, zeros = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const Value answer = parse_json(answers[i]);
    EXPECT_EQ(answer.find("request")->string(), fmt::format("r,{}", i));
    EXPECT_EQ(answer.find("label")->string(), i % 3 == 0 ? "1" : "0");
    const std::map<std::string, Value> expected = flat_answer(answer);
    const std::vector<std::string> cells = csv_cells(rows[i + 1]);
    ASSERT_EQ(cells.size(), header.size()) << rows[i + 1];
    for (std::size_t c = 0; c < header.size(); ++c) {
      auto it = expected.find(header[c]);
      if (it == expected.end()) {
        // A group key this answer lacks.
        EXPECT_EQ(cells[c], "0") << "row " << i << " " << header[c];
        ++zeros;
      } else if (it->second.is_number()) {
        EXPECT_EQ(std::stod(cells[c]), it->second.number()) << "row " << i << " " << header[c];
        ++numbers;
      } else if (it->second.is_string()) {
        EXPECT_EQ(cells[c], it->second.string()) << header[c];
      } else if (it->second.is_null()) {
        EXPECT_EQ(cells[c], "") << header[c];
      } else {
        EXPECT_EQ(parse_json(cells[c]), it->second) << header[c];
      }
    }
    for (const auto& [name, value] : expected)
      EXPECT_NE(std::find(header.begin(), header.end(), name), header.end()) << name;
  }
  EXPECT_GT(numbers, 1000u);
  EXPECT_GT(zeros, 100u);

  RunResult narrow =
      backfill("narrow.csv", "--format csv --names saves,category_counts --keys top:2");
  ASSERT_EQ(narrow.exit_code, 0) << narrow.err;
  std::vector<std::string> columns = csv_cells(split_lines(read_file(dir_ / "narrow.csv"))[0]);
  std::map<std::string, int> per_window;
  for (const std::string& column : columns) {
    if (column.rfind("category_counts.", 0) == 0) {
      per_window[column.substr(0, column.find('.', 16))]++;
    } else if (column.find('.') != std::string::npos) {
      EXPECT_EQ(column.rfind("saves.", 0), 0u) << column;
    }
  }
  EXPECT_EQ(per_window.size(), 5u);
  for (const auto& [window, n] : per_window) EXPECT_EQ(n, 2) << window;

  RunResult bad = backfill("x.csv", "--format csv --keys top:0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--keys: \"top:0\" is not all or top:N"), std::string::npos) << bad.err;
  bad = backfill("x.ndjson", "--keys top:3");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--keys applies only with --format csv"), std::string::npos) << bad.err;
  bad = backfill("x.ndjson", "--names saves,savez");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("names: \"savez\" is no signal or view"), std::string::npos) << bad.err;
  write("clash.csv", "user_id,as_of,saves\n1,2026-01-01,7\n");
  bad = cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {} --format csv",
                        config, events, path("clash.csv"), path("x.csv")));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("query file column \"saves\" has the name of a signal"), std::string::npos)
      << bad.err;
}

TEST_F(BackfillCliTest, BadInputIsReportedBeforeAnyWork) {
  std::string config = demo();
  const std::string events = path("data/events.ndjson");
  auto backfill = [&](const std::string& queries, const std::string& more = "") {
    return cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {} {}", config,
                           events, queries, path("out.ndjson"), more));
  };

  write("bad.csv", "user_id,as_of\n1,1767225600000\n\n7,tomorrow\n");
  RunResult bad = backfill(path("bad.csv"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            fmt::format("signalbox: {}:4: as_of: \"tomorrow\" is not a time: write ISO 8601 "
                        "(2026-11-30T12:00:00Z, 2026-11-30T12:00:00.123+01:00, 2026-11-30) or "
                        "milliseconds since the Unix epoch\n",
                        path("bad.csv")));
  write("seconds.csv", "user_id,as_of\n1,1767225600\n");
  RunResult seconds = backfill(path("seconds.csv"));
  EXPECT_EQ(seconds.exit_code, 2);
  EXPECT_NE(seconds.err.find("seconds.csv:2: as_of: \"1767225600\" looks like seconds since the "
                             "epoch, not milliseconds: multiply by 1000"),
            std::string::npos)
      << seconds.err;
  write("columns.csv", "1,1767225600000\n3;4\n");
  RunResult columns = backfill(path("columns.csv"));
  EXPECT_EQ(columns.exit_code, 2);
  EXPECT_NE(columns.err.find("columns.csv:2: expected two columns user_id,as_of"),
            std::string::npos)
      << columns.err;
  RunResult no_queries = backfill(path("nope.csv"));
  EXPECT_EQ(no_queries.exit_code, 2);
  EXPECT_NE(no_queries.err.find("nope.csv: cannot open"), std::string::npos) << no_queries.err;

  write("q.csv", "1,1767225600000\n");
  RunResult no_events =
      cli(fmt::format("backfill -q --config {} --events {} {} --queries {} --out {}", config,
                      events, path("missing.ndjson"), path("q.csv"), path("out.ndjson")));
  EXPECT_EQ(no_events.exit_code, 1);
  EXPECT_EQ(no_events.err, fmt::format("signalbox: {}: cannot open: No such file or directory\n",
                                       path("missing.ndjson")));

  RunResult lateness = backfill(path("q.csv"), "--arrival-order --lateness soon");
  EXPECT_EQ(lateness.exit_code, 2);
  EXPECT_NE(lateness.err.find("--lateness: \"soon\" is not a duration"), std::string::npos)
      << lateness.err;
  RunResult event_time = backfill(path("q.csv"), "--lateness 1h");
  EXPECT_EQ(event_time.exit_code, 2);
  EXPECT_NE(event_time.err.find("--lateness applies only with --arrival-order"), std::string::npos)
      << event_time.err;
  RunResult both = backfill(path("q.csv"), "--presorted --arrival-order");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--presorted and --arrival-order exclude each other"), std::string::npos)
      << both.err;
  EXPECT_EQ(cli(fmt::format("backfill --config {} --events {} --out x", config, events)).exit_code,
            2)
      << "--queries is required";

  write("broken.yaml", "signals:\n  - { name: s, aggregator: count, windows: [1x] }\n");
  RunResult broken =
      cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {}",
                      path("broken.yaml"), events, path("q.csv"), path("out.ndjson")));
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("broken.yaml:2: signals[0].windows[0]"), std::string::npos)
      << broken.err;

  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("out.ndjson"), std::string::npos)
        << entry.path();
    EXPECT_EQ(entry.path().filename().string().find("signalbox-backfill-"), std::string::npos)
        << entry.path();
  }
}

// Rows holding an error are no training data: a backfill with refused queries still writes
// every answer, then says how many were refused and why, and exits 1.
TEST_F(BackfillCliTest, RefusedQueriesMakeTheExitStatusOne) {
  write("refusing.yaml",
        fmt::format("plugins: [{}]\n"
                    "signals:\n"
                    "  - {{ name: since_start, aggregator: refuses_before, from: {} }}\n",
                    REFUSES_BEFORE_PLUGIN, kDemoEnd + 5000));
  // Times from kDemoEnd on, in ms.
  auto at = [](std::int64_t ms) { return kDemoEnd + ms; };
  write("events.ndjson", fmt::format("{{\"user_id\":1,\"ts\":{},\"action\":\"click\"}}\n"
                                     "{{\"user_id\":1,\"ts\":{},\"action\":\"click\"}}\n",
                                     at(1000), at(6000)));
  write("q.csv", fmt::format("user_id,as_of\n1,{}\n1,{}\n1,{}\n", at(7000), at(2000), at(3000)));
  RunResult result = cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {}",
                                     path("refusing.yaml"), path("events.ndjson"), path("q.csv"),
                                     path("out.ndjson")));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(
      result.err.find(fmt::format("signalbox backfill: 2 of 3 queries refused (first: as_of: {} is "
                                  "before {}, where this signal's data starts)\n",
                                  at(2000), at(5000))),
      std::string::npos)
      << result.err;
  EXPECT_NE(result.out.find("backfilled 3 queries (2 refused)"), std::string::npos) << result.out;
  std::vector<std::string> answers = split_lines(read_file(dir_ / "out.ndjson"));
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_NE(answers[0].find(R"("signals":{"since_start":2})"), std::string::npos) << answers[0];
  EXPECT_NE(answers[1].find(fmt::format(R"("error":"as_of: {} is before {})", at(2000), at(5000))),
            std::string::npos)
      << answers[1];
  EXPECT_NE(answers[2].find(fmt::format(R"("error":"as_of: {} is before {})", at(3000), at(5000))),
            std::string::npos)
      << answers[2];

  // The same queries from the time the signal answers: exit 0.
  write("q.csv", fmt::format("user_id,as_of\n1,{}\n1,{}\n", at(7000), at(5000)));
  result = cli(fmt::format("backfill -q --config {} --events {} --queries {} --out {}",
                           path("refusing.yaml"), path("events.ndjson"), path("q.csv"),
                           path("out.ndjson")));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("refused"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("backfilled 2 queries (0 refused)"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace signalbox::testing
