// The `signalbox` binary end to end: replay then get (and explain) on generated demo data, bad
// input, config errors and usage errors, each with its message and exit status (docs/cli.md).

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "free_ports.h"
#include "run.h"
#include "signalbox/event/decode.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kEnd = 1767225600000;  // 2026-01-01T00:00:00Z

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-cli-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->random_seed() + counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  // The demo config, pointed at this test's folder (with a tiny pin table unless the demo
  // data was generated there).
  std::string config_path() {
    if (!fs::exists(dir_ / "data/pins.tsv")) {
      fs::create_directories(dir_ / "data");
      write("data/pins.tsv",
            "item_id\tcategories\tembedding\np1\tfood|travel\t0.5,0.5\np2\tart\t1,0\n");
    }
    std::string yaml = read_file(fs::path(SIGNALBOX_SOURCE_DIR) / "examples/demo.yaml");
    write("demo.yaml", yaml);
    return (dir_ / "demo.yaml").string();
  }

  RunResult cli(const std::string& args) { return run(signalbox(args), dir_); }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(CliTest, ReplayThenGetAnswersWhatTheEventsSay) {
  RunResult gen = run(fmt::format("{} --out {} --users 300 --events 30000 --days 20 --end-ms {}",
                                  shell_quote(SIGNALBOX_DEMO_DATA_BINARY),
                                  shell_quote((dir_ / "data").string()), kEnd),
                      dir_);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::string config = config_path();
  RunResult replay =
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "data/events.ndjson").string()));
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_NE(replay.out.find("0 rejected"), std::string::npos) << replay.out;

  // Brute force from the file: saves per window and the newest distinct pins of each user.
  std::string ndjson = read_file(dir_ / "data/events.ndjson");
  EventDecoder decoder;
  std::map<std::uint64_t, std::vector<Event>> by_user;
  std::set<std::pair<std::uint64_t, std::string>> seen;
  decoder.decode_batch(
      ndjson,
      [&](std::size_t, Event&& e) {
        if (seen.emplace(e.user_id, e.event_id).second) by_user[e.user_id].push_back(std::move(e));
      },
      [&](std::size_t i, Rejection&& error) { FAIL() << "line " << i << ": " << error.message; });
  ASSERT_GT(by_user.size(), 100u);

  std::vector<std::uint64_t> users;
  for (const auto& [user, events] : by_user) users.push_back(user);
  std::sort(users.begin(), users.end(),
            [&](auto a, auto b) { return by_user[a].size() > by_user[b].size(); });
  users.resize(5);
  users.push_back(123456789);  // never seen

  const std::int64_t as_of = kEnd;
  for (std::uint64_t user : users) {
    // --as-of in ISO 8601; the answer carries both spellings.
    RunResult get = cli(fmt::format(
        "get --config {} --user {} --names saves,distinct_pins --as-of 2026-01-01T01:00:00+01:00",
        config, user));
    ASSERT_EQ(get.exit_code, 0) << get.err;
    std::map<std::string, int> saves = {{"1d", 0}, {"7d", 0}, {"90d", 0}};
    std::map<std::string, std::set<std::string>> pins = {{"1d", {}}, {"30d", {}}};
    const std::int64_t day = 86400000;
    for (const Event& e : by_user[user]) {
      if (e.ts > as_of) continue;
      bool in_1d = as_of - day < e.ts, in_7d = as_of - 7 * day < e.ts;
      bool in_30d =
          (as_of - 30 * day) / day * day <= e.ts;  // longer than the 7d retention: day-aligned
      bool in_90d = (as_of - 90 * day) / day * day <= e.ts;
      if (e.action == "save") {
        saves["1d"] += in_1d;
        saves["7d"] += in_7d;
        saves["90d"] += in_90d;
      }
      if (e.item_id) {
        if (in_1d) pins["1d"].insert(*e.item_id);
        if (in_30d) pins["30d"].insert(*e.item_id);
      }
    }
    std::string expected = fmt::format(
        R"({{"user_id":{},"as_of":{},"as_of_iso":"2026-01-01T00:00:00.000Z","signals":{{"saves":{{"1d":{},"7d":{},"90d":{}}},"distinct_pins":{{"1d":{},"30d":{}}}}}}})",
        user, as_of, saves["1d"], saves["7d"], saves["90d"], pins["1d"].size(), pins["30d"].size());
    EXPECT_EQ(get.out, expected + "\n") << "user " << user;
  }

  RunResult all = cli(fmt::format("get --config {} --user {} --as-of {}", config, users[0], as_of));
  ASSERT_EQ(all.exit_code, 0) << all.err;
  for (const char* name : {"category_counts", "saves", "category_affinity", "recent_pins",
                           "distinct_pins", "pin_embedding", "purchases_value", "top_categories_7d",
                           "category_mix_30d", "last_session_pins"})
    EXPECT_NE(all.out.find(fmt::format("\"{}\":", name)), std::string::npos) << name;
}

TEST_F(CliTest, BadEventsAreReportedAndTheRestIsKept) {
  std::string config = config_path();
  std::string big(300, 'x');
  write(
      "events.ndjson",
      "{\"user_id\": 7, \"ts\": 1767225000000, \"action\": \"save\", \"item_id\": \"p1\"}\n"
      "{\"user_id\": 7, \"ts\": 1767225000001, \"action\": \"save\", \"item_id\": \"p2\"\n"  // malformed
      "{\"user_id\": \"seven\", \"ts\": 1767225000002, \"action\": \"save\"}\n"  // wrong type
      "{\"user_id\": 7, \"action\": \"save\"}\n"                                 // missing ts
      "{\"user_id\": 7, \"ts\": 1767225000003, \"action\": \"save\", \"item_id\": \"" +
          big +
          "\"}\n"
          "\n"
          "{\"user_id\": 7, \"ts\": 1767225000004, \"action\": \"save\", \"item_id\": \"p3\"}\n");
  RunResult replay =
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "events.ndjson").string()));
  EXPECT_EQ(replay.exit_code, 1);
  const std::string file = (dir_ / "events.ndjson").string();
  EXPECT_NE(replay.err.find(file + ":2: json:"), std::string::npos) << replay.err;
  EXPECT_NE(replay.err.find(file + ":3: user_id:"), std::string::npos) << replay.err;
  EXPECT_NE(replay.err.find(file + ":4: ts: required"), std::string::npos) << replay.err;
  EXPECT_NE(replay.err.find(file + ":5: item_id:"), std::string::npos) << replay.err;
  EXPECT_NE(replay.err.find("4 of 6 events rejected"), std::string::npos) << replay.err;
  EXPECT_NE(replay.out.find("2 events accepted"), std::string::npos) << replay.out;

  RunResult get = cli(fmt::format(
      "get --config {} --user 7 --names saves,recent_pins --as-of 1767225600000", config));
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(
      get.out,
      R"({"user_id":7,"as_of":1767225600000,"as_of_iso":"2026-01-01T00:00:00.000Z",)"
      R"("signals":{"saves":{"1d":2,"7d":2,"90d":2},)"
      R"("recent_pins":[{"value":"p3","ts":1767225000004},{"value":"p1","ts":1767225000000}]}})"
      "\n");

  RunResult allowed = cli(fmt::format("replay -q --allow-rejects --config {} {}", config, file));
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
}

// explain takes the 7-day count apart: two saves in day tiles (Dec 29 and Dec 30) and two in
// the last partial hour as raw events; the click and the save 20 days back are not in it.
// Another user's event moves stream time past the as_of asked for; as of stream time, the
// last hour is that hour's tile.
TEST_F(CliTest, ExplainListsTheTilesAndRawEventsOfAValue) {
  std::string config = config_path();
  write("events.ndjson",
        "{\"user_id\": 7, \"ts\": 1765515600000, \"action\": \"save\", \"item_id\": \"p1\", "
        "\"event_id\": \"e1\"}\n"
        "{\"user_id\": 7, \"ts\": 1766973600000, \"action\": \"save\", \"item_id\": \"p2\", "
        "\"event_id\": \"e2\"}\n"
        "{\"user_id\": 7, \"ts\": 1766973660000, \"action\": \"click\", \"item_id\": \"p1\", "
        "\"event_id\": \"e3\"}\n"
        "{\"user_id\": 7, \"ts\": 1767137400000, \"action\": \"save\", \"item_id\": \"p1\", "
        "\"event_id\": \"e4\"}\n"
        "{\"user_id\": 7, \"ts\": 1767224100000, \"action\": \"save\", \"item_id\": \"p2\", "
        "\"event_id\": \"e5\"}\n"
        "{\"user_id\": 7, \"ts\": 1767225000000, \"action\": \"click\", \"item_id\": \"p2\", "
        "\"event_id\": \"e6\"}\n"
        "{\"user_id\": 7, \"ts\": 1767225300000, \"action\": \"save\", \"item_id\": \"p1\", "
        "\"event_id\": \"e7\"}\n"
        "{\"user_id\": 8, \"ts\": 1767225570000, \"action\": \"save\", \"item_id\": \"p1\", "
        "\"event_id\": \"e8\"}\n");
  RunResult replay =
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "events.ndjson").string()));
  ASSERT_EQ(replay.exit_code, 0) << replay.err;

  RunResult get =
      cli(fmt::format("get --config {} --user 7 --names saves --as-of 1767225480000", config));
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find(R"("7d":4)"), std::string::npos) << get.out;

  RunResult iso = cli(fmt::format(
      "explain --config {} --user 7 --signal saves --window 7d --as-of 2025-12-31T23:58:00Z",
      config));
  ASSERT_EQ(iso.exit_code, 0) << iso.err;
  EXPECT_EQ(
      iso.out,
      R"({"user_id":7,"as_of":1767225480000,"as_of_iso":"2025-12-31T23:58:00.000Z","name":"saves","kind":"signal",)"
      R"("signal":"saves","window":"7d","value":4,"aggregator":"count","combine":"sum",)"
      R"json("combine_rule":"the sum of the parts' values (per key)","additive":true,)json"
      R"("windows":[{"signal":"saves","combine":"sum","window":"7d","from":1766620680001,"to":1767225480000,"value":4,)"
      R"("tiles":[{"kind":"day","from":1766966400000,"to":1767052799999,"value":1},)"
      R"({"kind":"day","from":1767052800000,"to":1767139199999,"value":1}],)"
      R"("events":[{"ts":1767225300000,"event_id":"e7","action":"save","item_id":"p1",)"
      R"("features":{"pin.categories":["food","travel"],"pin.embedding":[0.5,0.5]},"weight":1,"value":1},)"
      R"({"ts":1767224100000,"event_id":"e5","action":"save","item_id":"p2",)"
      R"("features":{"pin.categories":["art"],"pin.embedding":[1,0]},"weight":1,"value":1}],)"
      R"("events_total":2,"truncated":0}]})"
      "\n");
  RunResult ms = cli(fmt::format(
      "explain --config {} --user 7 --signal saves --window 7d --as-of 1767225480000", config));
  EXPECT_EQ(ms.out, iso.out) << "ISO 8601 and epoch milliseconds are the same instant";

  // As of stream time (e8's), no stored event lies after as_of: the query reads the last
  // hour's tile, and explain lists what it read.
  RunResult head = cli(fmt::format(
      "explain --config {} --user 7 --signal saves --window 7d --as-of 1767225570000", config));
  ASSERT_EQ(head.exit_code, 0) << head.err;
  EXPECT_NE(head.out.find(R"("value":4,"tiles":[{"kind":"day","from":1766966400000,)"),
            std::string::npos)
      << head.out;
  EXPECT_NE(head.out.find(R"({"kind":"hour","from":1767222000000,"to":1767225599999,"value":2}],)"
                          R"("events":[],"events_total":0,"truncated":0}]})"),
            std::string::npos)
      << head.out;

  RunResult bounded = cli(fmt::format(
      "explain --config {} --user 7 --signal recent_pins --as-of 1767225480000 --max-events 1",
      config));
  ASSERT_EQ(bounded.exit_code, 0) << bounded.err;
  EXPECT_NE(bounded.out.find(R"("combine":"newest_distinct")"), std::string::npos) << bounded.out;
  EXPECT_NE(bounded.out.find(R"("events_total":3,"truncated":2)"), std::string::npos)
      << bounded.out;

  RunResult bad_window =
      cli(fmt::format("explain --config {} --user 7 --signal saves --window 2d", config));
  EXPECT_EQ(bad_window.exit_code, 2);
  EXPECT_NE(bad_window.err.find(
                R"json(window: signal "saves" has no window "2d" (its windows: 1d, 7d, 90d))json"),
            std::string::npos)
      << bad_window.err;
  RunResult bad_time =
      cli(fmt::format("explain --config {} --user 7 --signal saves --as-of yesterday", config));
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_NE(bad_time.err.find("signalbox explain: --as-of:"), std::string::npos) << bad_time.err;
  RunResult bad_name = cli(fmt::format("explain --config {} --user 7 --signal savez", config));
  EXPECT_EQ(bad_name.exit_code, 2);
  EXPECT_NE(bad_name.err.find(R"(unknown signal or view "savez")"), std::string::npos)
      << bad_name.err;
}

TEST_F(CliTest, CompressedFilesAndStandardInputReplayToo) {
  std::string config = config_path();
  write("a.ndjson", "{\"user_id\": 9, \"ts\": 1767225000000, \"action\": \"save\"}\n");
  write("b.ndjson", "{\"user_id\": 9, \"ts\": 1767225000001, \"action\": \"save\"}\n");
  ASSERT_EQ(
      std::system(fmt::format("gzip -f {}", shell_quote((dir_ / "a.ndjson").string())).c_str()), 0);
  RunResult gz =
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "a.ndjson.gz").string()));
  ASSERT_EQ(gz.exit_code, 0) << gz.err;
  RunResult in = run(fmt::format("cat {} | {}", shell_quote((dir_ / "b.ndjson").string()),
                                 signalbox(fmt::format("replay -q --config {} -", config))),
                     dir_);
  ASSERT_EQ(in.exit_code, 0) << in.err;
  RunResult get =
      cli(fmt::format("get --config {} --user 9 --names saves --as-of 1767225600000", config));
  EXPECT_EQ(get.out, R"({"user_id":9,"as_of":1767225600000,"as_of_iso":"2026-01-01T00:00:00.000Z",)"
                     R"("signals":{"saves":{"1d":2,"7d":2,"90d":2}}})"
                     "\n");
}

// Lines far out of order are sorted before they are ingested, unless --presorted says the
// files are in order already; then the line far behind is rejected as late.
TEST_F(CliTest, ReplaySortsLinesOutOfOrderUnlessPresorted) {
  std::string config = config_path();
  // A full batch of 32 768 lines first: events of one batch are checked against the stream
  // time before it, so the line far behind must come in a later batch.
  std::string text;
  for (int i = 0; i < 32768; ++i)
    text += fmt::format("{{\"user_id\": {}, \"ts\": {}, \"action\": \"click\"}}\n", 100 + i % 50,
                        kEnd - 3600000 + i);
  text += fmt::format("{{\"user_id\": 5, \"ts\": {}, \"action\": \"save\"}}\n",
                      kEnd - 200 * 86400000LL);
  write("late.ndjson", text);
  const std::string file = (dir_ / "late.ndjson").string();
  RunResult presorted = cli(fmt::format("replay -q --presorted --config {} {}", config, file));
  EXPECT_EQ(presorted.exit_code, 1);
  EXPECT_NE(presorted.err.find(file + ":32769: ts:"), std::string::npos) << presorted.err;
  EXPECT_NE(presorted.err.find("late"), std::string::npos) << presorted.err;
  fs::remove_all(dir_ / "data/store");

  fs::create_directories(dir_ / "sort-tmp");
  RunResult sorted = cli(fmt::format("replay -q --sort-memory 64KiB --tmp-dir {} --config {} {}",
                                     (dir_ / "sort-tmp").string(), config, file));
  ASSERT_EQ(sorted.exit_code, 0) << sorted.err;
  EXPECT_NE(sorted.out.find("32769 events accepted"), std::string::npos) << sorted.out;
  EXPECT_NE(sorted.out.find("lines (sorted by ts first):"), std::string::npos) << sorted.out;
  EXPECT_EQ(presorted.out.find("sorted"), std::string::npos) << presorted.out;
  EXPECT_TRUE(fs::is_empty(dir_ / "sort-tmp"));

  RunResult size = cli(fmt::format("replay -q --sort-memory 12x --config {} {}", config, file));
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_NE(size.err.find("--sort-memory: \"12x\" is not a size"), std::string::npos) << size.err;
  RunResult stdin_twice = cli(fmt::format("replay -q --config {} - -", config));
  EXPECT_EQ(stdin_twice.exit_code, 2);
  EXPECT_NE(stdin_twice.err.find("standard input can be read only once"), std::string::npos)
      << stdin_twice.err;
}

TEST_F(CliTest, ConfigErrorsNameFileLineAndKeyAndExitTwo) {
  write("bad.yaml",
        "storage: { kind: rocksdb, path: store }\n"
        "signals:\n"
        "  - { name: saves, aggregator: count, windows: [1d, 7x] }\n");
  const std::string file = (dir_ / "bad.yaml").string();
  RunResult check = cli("check --config " + file);
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(file + ":3: signals[0].windows[1]: bad duration \"7x\""),
            std::string::npos)
      << check.err;
  EXPECT_EQ(std::count(check.err.begin(), check.err.end(), '\n'), 1)
      << "one clear line: " << check.err;

  write("unknown.yaml", "signals:\n  - { name: s, aggregator: median, value: item_id }\n");
  RunResult unknown = cli("check --config " + (dir_ / "unknown.yaml").string());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(
      unknown.err.find("unknown.yaml:2: signals[0].aggregator: unknown aggregator \"median\""),
      std::string::npos)
      << unknown.err;

  write("events.ndjson", "{\"user_id\": 1, \"ts\": 1, \"action\": \"save\"}\n");
  RunResult replay =
      cli(fmt::format("replay -q --config {} {}", file, (dir_ / "events.ndjson").string()));
  EXPECT_EQ(replay.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "store")) << "nothing is done before the config is valid";

  RunResult missing = cli("check --config " + (dir_ / "nope.yaml").string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.yaml: cannot read"), std::string::npos) << missing.err;

  RunResult good = cli("check --config " + config_path());
  EXPECT_EQ(good.exit_code, 0) << good.err;
}

TEST_F(CliTest, UsageErrorsExitTwoAndOtherFailuresOne) {
  std::string config = config_path();
  EXPECT_EQ(cli("").exit_code, 2);
  EXPECT_EQ(cli("replay").exit_code, 2);
  EXPECT_EQ(cli("frobnicate --config x").exit_code, 2);
  RunResult bad_user = cli(fmt::format("get --config {} --user -3", config));
  EXPECT_EQ(bad_user.exit_code, 2);
  EXPECT_NE(bad_user.err.find("--user"), std::string::npos) << bad_user.err;
  RunResult no_file =
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "missing.ndjson").string()));
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_NE(no_file.err.find("missing.ndjson: cannot open"), std::string::npos) << no_file.err;
  write("e.ndjson", "{\"user_id\": 1, \"ts\": 1767225000000, \"action\": \"save\"}\n");
  ASSERT_EQ(
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "e.ndjson").string())).exit_code,
      0);
  RunResult unknown_name = cli(fmt::format("get --config {} --user 1 --names nope", config));
  EXPECT_EQ(unknown_name.exit_code, 2);
  EXPECT_NE(unknown_name.err.find("unknown signal or view \"nope\""), std::string::npos)
      << unknown_name.err;
}

// `rebuild` checks its arguments like the other commands, and says when there is nothing to do.
TEST_F(CliTest, RebuildRefusesBadArgumentsAndSaysWhenNothingIsToBeDone) {
  std::string config = config_path();
  EXPECT_EQ(cli(fmt::format("rebuild --config {}", config)).exit_code, 2) << "--events is required";
  RunResult stdin_twice = cli(fmt::format("rebuild --config {} --events - --events -", config));
  EXPECT_EQ(stdin_twice.exit_code, 2);
  EXPECT_NE(stdin_twice.err.find("standard input can be read only once"), std::string::npos)
      << stdin_twice.err;
  write("e.ndjson", "{\"user_id\": 1, \"ts\": 1767225000000, \"action\": \"save\"}\n");
  ASSERT_EQ(
      cli(fmt::format("replay -q --config {} {}", config, (dir_ / "e.ndjson").string())).exit_code,
      0);
  RunResult nothing =
      cli(fmt::format("rebuild -q --config {} --events {}", config, (dir_ / "e.ndjson").string()));
  EXPECT_EQ(nothing.exit_code, 0) << nothing.err;
  EXPECT_EQ(nothing.out, "every signal is complete for all of history: nothing to rebuild\n");
}

// A store another process holds (RocksDB's LOCK file) is one plain sentence, exit 1.
TEST_F(CliTest, AStoreHeldByAnotherProcessIsOnePlainSentence) {
  using namespace std::chrono_literals;
  const std::string config = (dir_ / "held.yaml").string();
  write("held.yaml",
        fmt::format("server: {{ http: 127.0.0.1:{} }}\n"
                    "storage: {{ kind: rocksdb, path: store }}\n"
                    "signals:\n  - {{ name: saves, aggregator: count, windows: [1d] }}\n",
                    free_port()));
  const fs::path log = dir_ / "serve.log";
  RunResult started =
      run(fmt::format("{} >{} 2>&1 & echo $!", signalbox("serve --config " + config),
                      shell_quote(log.string())),
          dir_);
  const pid_t serve = std::stoi(started.out);
  auto listening = [&] { return read_file(log).find("listening") != std::string::npos; };
  for (int i = 0; i < 600 && !listening(); ++i) std::this_thread::sleep_for(100ms);
  RunResult replay = cli("replay -q --config " + config + " /dev/null");
  ::kill(serve, SIGTERM);
  for (int i = 0; i < 600 && ::kill(serve, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(listening()) << read_file(log);
  EXPECT_EQ(replay.exit_code, 1);
  EXPECT_EQ(replay.err,
            fmt::format("signalbox: the store {} is in use by another process (a running "
                        "signalbox serve or replay): stop it first, or send events to the running "
                        "server (POST /v1/events)\n",
                        (dir_ / "store").string()));
}

// `serve --http A --grpc B` listens there, whatever the config's server section says.
TEST_F(CliTest, ServeTakesItsAddressesFromTheCommandLine) {
  using namespace std::chrono_literals;
  const std::string config = (dir_ / "serve.yaml").string();
  write("serve.yaml",
        "server: { http: 127.0.0.1:1 }\n"
        "storage: { kind: rocksdb, path: store }\n"
        "signals:\n  - { name: saves, aggregator: count, windows: [1d] }\n");
  const std::uint16_t http = free_port(), grpc = free_port();
  const fs::path log = dir_ / "serve.log";
  RunResult started = run(
      fmt::format("{} >{} 2>&1 & echo $!",
                  signalbox(fmt::format("serve --config {} --http 127.0.0.1:{} --grpc 127.0.0.1:{}",
                                        config, http, grpc)),
                  shell_quote(log.string())),
      dir_);
  const pid_t serve = std::stoi(started.out);
  const std::string grpc_line = fmt::format("listening on grpc://127.0.0.1:{}", grpc);
  auto listening = [&] { return read_file(log).find(grpc_line) != std::string::npos; };
  for (int i = 0; i < 600 && !listening(); ++i) std::this_thread::sleep_for(100ms);
  ::kill(serve, SIGTERM);
  for (int i = 0; i < 600 && ::kill(serve, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  const std::string text = read_file(log);
  EXPECT_TRUE(listening()) << text;
  EXPECT_NE(text.find(fmt::format("listening on http://127.0.0.1:{}", http)), std::string::npos)
      << text;

  RunResult bad = cli("serve --config " + config + " --http localhost");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "signalbox serve: --http: bad address \"localhost\" (use host:port, port "
            "1-65535)\n");
  bad = cli("serve --config " + config + " --grpc 127.0.0.1:70000");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--grpc: bad address"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace signalbox::testing
