// The benchmark programs of bench/ on tiny data, for about a second each: the generator's
// heavy tier, http_load's modes against the real `signalbox serve`, the Redis baseline
// against a real redis-server (whose answers must equal Signalbox's), engine_bench,
// signal_costs and scaling_bench. They check that each program runs and reports sane numbers,
// not how fast anything is.

#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_process.h"

extern char** environ;

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kEndMs = 1767225600000;  // the end of the generated history

struct Finished {
  int status = -1;
  std::string output;  // stdout and stderr
};

Finished run(const std::string& command) {
  Finished r;
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The "key=value" numbers of the line starting with "<label>:".
std::map<std::string, double> report(const std::string& output, const std::string& label) {
  std::map<std::string, double> values;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with(label + ":")) continue;
    std::istringstream words(line.substr(label.size() + 1));
    std::string word;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq != std::string::npos) values[word.substr(0, eq)] = std::stod(word.substr(eq + 1));
    }
  }
  return values;
}

class BenchSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("signalbox-bench-smoke-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Finished gen =
        run(fmt::format("{} --out {} --users 40 --events 3000 --pins 200 --days 90 --end-ms {} "
                        "--heavy-users 2 --heavy-events 1500",
                        SIGNALBOX_DEMO_DATA_BINARY, (dir_ / "data").string(), kEndMs));
    ASSERT_EQ(gen.status, 0) << gen.output;
    port_ = free_port();
    std::string config = read_file(fs::path(SIGNALBOX_SOURCE_DIR) / "examples/demo.yaml");
    auto replace = [&](const std::string& from, const std::string& to) {
      auto at = config.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      config.replace(at, from.size(), to);
    };
    replace("path: data/store", "path: store");
    replace("127.0.0.1:8080", fmt::format("127.0.0.1:{}", port_));
    std::ofstream(dir_ / "bench.yaml") << config;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The lines of the generated events file.
  std::size_t event_lines() {
    std::istringstream text(read_file(dir_ / "data/events.ndjson"));
    std::size_t lines = 0;
    for (std::string line; std::getline(text, line);) ++lines;
    return lines;
  }

  // User ids by number of events, most first.
  std::vector<std::pair<int, std::string>> users_by_count() {
    std::map<std::string, int> counts;
    std::istringstream lines(read_file(dir_ / "data/events.ndjson"));
    std::string line;
    while (std::getline(lines, line)) {
      auto at = line.find("\"user_id\":");
      if (at == std::string::npos) continue;
      ++counts[line.substr(at + 10, line.find(',', at) - at - 10)];
    }
    std::vector<std::pair<int, std::string>> out;
    for (auto& [user, n] : counts) out.emplace_back(n, user);
    std::sort(out.rbegin(), out.rend());
    return out;
  }

  // Runs `http_load MODE_ARGS` against a mock cluster as bench/run.sh does: http_load runs the
  // cluster and writes its address; serve is then started with a kafka ingest on it;
  // http_load measures, says done, and waits for serve to stop. `output`: http_load's.
  void run_against_mock_cluster(const std::string& mode_args, std::string* output) {
    fs::path brokers = dir_ / "brokers.txt", done = dir_ / "done.txt", out = dir_ / "kafka.out";
    std::string command =
        fmt::format("{} {} --port {} --brokers-file {} --done-file {} >{} 2>&1", HTTP_LOAD_BINARY,
                    mode_args, port_, brokers.string(), done.string(), out.string());
    std::vector<std::string> args = {"/bin/sh", "-c", command};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t load = -1;
    ASSERT_EQ(posix_spawn(&load, "/bin/sh", nullptr, nullptr, argv.data(), environ), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (read_file(brokers).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string address = read_file(brokers);
    ASSERT_FALSE(address.empty()) << read_file(out);
    address.pop_back();  // the newline
    std::ofstream(dir_ / "bench.yaml", std::ios::app)
        << "ingest:\n  - { kind: kafka, brokers: \"" << address
        << "\", topic: signalbox-bench, group: smoke, rdkafka.fetch.wait.max.ms: 10 }\n";
    ServerProcess server(dir_ / "bench.yaml", port_, dir_ / "serve.log");
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_file(done).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(server.terminate(), 0) << server.log();
    EXPECT_EQ(wait_for_exit(load, std::chrono::seconds(30)), 0) << read_file(out);
    *output = read_file(out);
  }

  fs::path dir_;
  std::uint16_t port_ = 0;
};

TEST_F(BenchSmoke, GeneratorGivesTheHeavyTierItsEvents) {
  auto users = users_by_count();
  ASSERT_GE(users.size(), 40u);
  // At least --heavy-events each, less the few whose session ran past the end of history.
  EXPECT_GE(users[0].first, 1400);
  EXPECT_GE(users[1].first, 1400);
  EXPECT_LT(users[2].first, 1400);
}

TEST_F(BenchSmoke, LoadGeneratorAndRedisBaselineAgainstTheRealServers) {
  auto users = users_by_count();
  std::ofstream(dir_ / "heavy.txt") << users[0].second << "\n" << users[1].second << "\n";
  {
    std::ofstream light(dir_ / "light.txt");
    for (std::size_t i = 2; i < users.size(); ++i) light << users[i].second << "\n";
  }
  ServerProcess server(dir_ / "bench.yaml", port_, dir_ / "serve.log");

  // Ingest the whole file over HTTP: every event accepted, none lost; its first half as fast as
  // answered, the rest paced (--skip, --rate), as the load beside a freshness run. One
  // connection: with more, one stalled batch of this 90-day log may be committed after later
  // ones moved stream time past its retention horizon, and be rightly rejected.
  const std::string events_file = (dir_ / "data/events.ndjson").string();
  const std::size_t lines = event_lines();
  ASSERT_GT(lines, 3000u);
  Finished ingest =
      run(fmt::format("{} ingest --port {} --events {} --batch 50 --connections 1 --limit {}",
                      HTTP_LOAD_BINARY, port_, events_file, lines / 2));
  ASSERT_EQ(ingest.status, 0) << ingest.output;
  auto in = report(ingest.output, "ingest_http");
  EXPECT_EQ(in["events"], static_cast<double>(lines / 2));
  EXPECT_EQ(in["accepted"], in["events"]) << ingest.output;
  EXPECT_EQ(in["rejected"], 0) << ingest.output;
  EXPECT_GT(in["events_per_s"], 0);
  Finished paced = run(fmt::format(
      "{} ingest --port {} --events {} --batch 50 --connections 1 --skip {} --rate 3000",
      HTTP_LOAD_BINARY, port_, events_file, lines / 2));
  ASSERT_EQ(paced.status, 0) << paced.output;
  auto pc = report(paced.output, "ingest_http");
  EXPECT_EQ(pc["events"], static_cast<double>(lines - lines / 2));
  EXPECT_EQ(pc["accepted"], pc["events"]) << paced.output;
  EXPECT_EQ(pc["offered_events_per_s"], 3000);
  // The last batch waits for its turn: no faster than offered (a 50-event batch early at most).
  EXPECT_GE(pc["seconds"], (pc["events"] - 50) / 3000) << paced.output;
  // --until-file: once the file exists, nothing more is sent.
  std::ofstream(dir_ / "stop") << "stop\n";
  Finished stopped =
      run(fmt::format("{} ingest --port {} --events {} --until-file {}", HTTP_LOAD_BINARY, port_,
                      events_file, (dir_ / "stop").string()));
  ASSERT_EQ(stopped.status, 0) << stopped.output;
  auto st = report(stopped.output, "ingest_http");
  EXPECT_EQ(st["events"], 0) << stopped.output;
  EXPECT_EQ(st["stopped"], 1) << stopped.output;

  // Saturation: answers flow, none fail; latencies ordered.
  Finished saturation = run(fmt::format(
      "{} query --port {} --users {} --as-of {} --duration 1 --warmup 0.2 --connections 4",
      HTTP_LOAD_BINARY, port_, (dir_ / "heavy.txt").string(), kEndMs));
  ASSERT_EQ(saturation.status, 0) << saturation.output;
  auto sat = report(saturation.output, "query_saturation");
  EXPECT_GT(sat["rps"], 10);
  EXPECT_EQ(sat["errors"], 0);
  EXPECT_GT(sat["p50_us"], 0);
  EXPECT_LE(sat["p50_us"], sat["p99_us"]);
  EXPECT_LE(sat["p99_us"], sat["p999_us"]);

  // Fixed rate: the offered rate is what is achieved (the server has ample headroom at 100/s).
  Finished fixed = run(
      fmt::format("{} query --port {} --users {} --as-of {} --duration 1 --warmup 0.2 --rate 100 "
                  "--connections 8 --metrics {}",
                  HTTP_LOAD_BINARY, port_, (dir_ / "light.txt").string(), kEndMs,
                  (dir_ / "metrics.txt").string()));
  ASSERT_EQ(fixed.status, 0) << fixed.output;
  auto fx = report(fixed.output, "query_fixed");
  EXPECT_EQ(fx["offered_rps"], 100);
  EXPECT_NEAR(fx["rps"], 100, 15);
  EXPECT_NE(read_file(dir_ / "metrics.txt").find("query_fixed.p99_us "), std::string::npos);

  // Freshness: each posted event shows; a fresh user id each time.
  Finished fresh = run(fmt::format("{} freshness --port {} --samples 20 --as-of {} --ts {}",
                                   HTTP_LOAD_BINARY, port_, kEndMs, kEndMs - 60000));
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  auto fr = report(fresh.output, "freshness_http");
  EXPECT_EQ(fr["samples"], 20);
  EXPECT_GT(fr["p50_us"], 0);
  EXPECT_LE(fr["p50_us"], fr["p99_us"]);
  EXPECT_GE(fr["polls_per_sample"], 1);

  // The Redis baseline: load, then every signal of sampled users equals Signalbox's answer.
  std::uint16_t redis_port = free_port();
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(redis_port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t redis = -1;
  ASSERT_EQ(posix_spawnp(&redis, "redis-server", nullptr, nullptr, argv.data(), environ), 0);
  struct Stop {
    pid_t pid;
    ~Stop() {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  } stop{redis};
  Finished load;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until redis-server listens
    load = run(fmt::format("{} load --port {} --events {}", REDIS_BASELINE_BINARY, redis_port,
                           (dir_ / "data/events.ndjson").string()));
    if (load.status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(load.status, 0) << load.output;
  EXPECT_GT(report(load.output, "redis_load")["events"], 3000);
  for (const char* tier : {"heavy.txt", "light.txt"}) {
    Finished check = run(fmt::format(
        "{} check --port {} --users {} --pins {} --as-of {} --signalbox-port {} --sample 10",
        REDIS_BASELINE_BINARY, redis_port, (dir_ / tier).string(),
        (dir_ / "data/pins.tsv").string(), kEndMs, port_));
    ASSERT_EQ(check.status, 0) << check.output;
    EXPECT_EQ(report(check.output, "redis_check")["differing_answers"], 0);
  }
  Finished query = run(fmt::format(
      "{} query --port {} --users {} --pins {} --as-of {} --duration 1 --warmup 0.2 --threads 2",
      REDIS_BASELINE_BINARY, redis_port, (dir_ / "heavy.txt").string(),
      (dir_ / "data/pins.tsv").string(), kEndMs));
  ASSERT_EQ(query.status, 0) << query.output;
  EXPECT_GT(report(query.output, "redis_query")["rps"], 1);

  // --restamp (after the comparisons: it changes the store): the last events posted again
  // with an hour-old ts, every line still an event the server takes (as duplicates).
  Finished restamped = run(fmt::format(
      "{} ingest --port {} --events {} --batch 50 --connections 1 --skip {} --restamp {}",
      HTTP_LOAD_BINARY, port_, events_file, lines - 100, kEndMs - 3'600'000));
  ASSERT_EQ(restamped.status, 0) << restamped.output;
  auto rs = report(restamped.output, "ingest_http");
  EXPECT_EQ(rs["events"], 100);
  EXPECT_EQ(rs["accepted"], 100) << restamped.output;
  EXPECT_EQ(server.terminate(), 0);
}

TEST_F(BenchSmoke, KafkaFreshnessThroughAMockClusterServeConsumes) {
  std::string output;
  ASSERT_NO_FATAL_FAILURE(run_against_mock_cluster(
      fmt::format("kafka-freshness --samples 5 --as-of {} --ts {}", kEndMs, kEndMs - 60000),
      &output));
  auto fr = report(output, "freshness_kafka");
  EXPECT_EQ(fr["samples"], 5) << output;
  EXPECT_EQ(fr["gave_up"], 0) << output;
  EXPECT_GT(fr["p50_us"], 0);
  EXPECT_LE(fr["p50_us"], fr["p99_us"]);
}

// A sample still unseen after --give-up-ms ends the sampling and is reported, not a failure:
// through Kafka (a fetch, then a batch's linger) no sample shows within 1 ms.
TEST_F(BenchSmoke, KafkaFreshnessReportsASampleServeFellBehindOn) {
  std::string output;
  ASSERT_NO_FATAL_FAILURE(run_against_mock_cluster(
      fmt::format("kafka-freshness --samples 5 --give-up-ms 1 --as-of {} --ts {}", kEndMs,
                  kEndMs - 60000),
      &output));
  auto fr = report(output, "freshness_kafka");
  EXPECT_EQ(fr["gave_up"], 1) << output;
  // The first: the warm-up before it waited for the group, so none of the measured is exempt.
  EXPECT_EQ(fr["samples"], 1) << output;
  EXPECT_EQ(fr["samples_asked"], 5) << output;
  EXPECT_NE(output.find("not visible after 1 ms; sampling ends at 1 of 5 samples"),
            std::string::npos)
      << output;
}

// With a load beside the samples: a second producer sends the log at a given rate, and the
// report says what serve consumed meanwhile and that the load still ran when the samples ended.
// Its last 50 lines only: restamped, it starts over with new event ids. serve closes idle
// connections at once here, as it does after its idle_timeout in a long run: the counters are
// read before and after the samples all the same, and the samples' reads, 20 ms apart, each
// find their connection closed and ask again on a new one.
TEST_F(BenchSmoke, KafkaFreshnessUnderALoadReportsWhatServeConsumedMeanwhile) {
  const std::string events_file = (dir_ / "data/events.ndjson").string();
  const std::size_t lines = event_lines();
  std::string config = read_file(dir_ / "bench.yaml");
  const std::string address = fmt::format("http: 127.0.0.1:{}", port_);
  ASSERT_NE(config.find(address), std::string::npos) << config;
  config.replace(config.find(address), address.size(), address + ", idle_timeout: 10ms");
  std::ofstream(dir_ / "bench.yaml") << config;
  std::string output;
  ASSERT_NO_FATAL_FAILURE(run_against_mock_cluster(
      fmt::format("kafka-freshness --samples 5 --as-of {} --ts {} --load-events {} --load-skip {} "
                  "--load-rate 1000 --load-restamp {} --poll-gap-us 20000",
                  kEndMs, kEndMs - 60000, events_file, lines - 50, kEndMs - 60000),
      &output));
  auto fr = report(output, "freshness_kafka");
  EXPECT_EQ(fr["samples"], 5) << output;
  EXPECT_EQ(fr["load_offered_events_per_s"], 1000) << output;
  EXPECT_GT(fr["load_events_per_s"], 0) << output;
  // The log holds a few duplicates on purpose; a pass that reused the ids would make every
  // event of the passes after the first one (over a thousand here) a duplicate.
  EXPECT_LT(fr["load_duplicates"], 50) << output;
  EXPECT_EQ(fr["under_load"], 1) << output;
}

TEST_F(BenchSmoke, KafkaIngestCountsEveryProducedEventThroughServe) {
  std::string output;
  ASSERT_NO_FATAL_FAILURE(run_against_mock_cluster(
      fmt::format("kafka-ingest --events {} --limit 2000", (dir_ / "data/events.ndjson").string()),
      &output));
  auto in = report(output, "ingest_kafka");
  EXPECT_EQ(in["events"], 2000) << output;
  EXPECT_EQ(in["accepted"] + in["rejected"], 2000) << output;
  EXPECT_EQ(in["partitions"], 16) << output;  // the least: the events are well under 16 MiB
  EXPECT_GT(in["seconds"], 0) << output;
  EXPECT_GT(in["events_per_s"], 0) << output;
  EXPECT_LE(in["events_at_start"], 2000) << output;
}

TEST_F(BenchSmoke, EngineBenchFindsTheSameAnswersAsNaiveRecompute) {
  Finished bench =
      run(fmt::format("{} --data {} --config {} --work {} --metrics {} --heavy-reps 2",
                      ENGINE_BENCH_BINARY, (dir_ / "data").string(), (dir_ / "bench.yaml").string(),
                      (dir_ / "work").string(), (dir_ / "metrics.txt").string()));
  ASSERT_EQ(bench.status, 0) << bench.output;
  std::string metrics = read_file(dir_ / "metrics.txt");
  EXPECT_NE(metrics.find("inproc_heavy.mismatches 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("inproc_light.mismatches 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("memory.state_per_user_signal "), std::string::npos) << metrics;
  EXPECT_NE(bench.output.find("| raw store only"), std::string::npos) << bench.output;
}

TEST_F(BenchSmoke, QueryProfileLoadsTheStoreAndAnswersLikeTheApi) {
  Finished bench = run(fmt::format("{} --config {} --events {} --users light --queries 20 --show 1",
                                   QUERY_PROFILE_BINARY, (dir_ / "bench.yaml").string(),
                                   (dir_ / "data/events.ndjson").string()));
  ASSERT_EQ(bench.status, 0) << bench.output;
  EXPECT_NE(bench.output.find(R"("seen":true,"signals":{"category_counts":)"), std::string::npos)
      << bench.output;
  EXPECT_NE(bench.output.find("20 queries of "), std::string::npos) << bench.output;
}

// The metrics of signal_costs: every measured signal, with sane values.
std::map<std::string, double> metric_values(const std::string& text) {
  std::map<std::string, double> values;
  std::istringstream lines(text);
  std::string key;
  double value;
  while (lines >> key >> value) values[key] = value;
  return values;
}

TEST_F(BenchSmoke, SignalCostsMeasuresEverySignalAgainstCount) {
  Finished bench =
      run(fmt::format("{} --data {} --config {} --work {} --metrics {} --reps 2",
                      SIGNAL_COSTS_BINARY, (dir_ / "data").string(), (dir_ / "bench.yaml").string(),
                      (dir_ / "costs").string(), (dir_ / "metrics.txt").string()));
  ASSERT_EQ(bench.status, 0) << bench.output;
  auto m = metric_values(read_file(dir_ / "metrics.txt"));
  EXPECT_GE(m["signal_costs.users"], 40);
  for (const char* signal :
       {"count", "sequence_k100", "sequence_k1000", "quantile", "top_frequent"}) {
    const std::string key = fmt::format("signal_costs.{}.", signal);
    EXPECT_GT(m[key + "state_per_user"], 0) << signal;
    EXPECT_GT(m[key + "heavy_state_per_user"], 0) << signal;
    EXPECT_GT(m[key + "light_p50_us"], 0) << signal;
    EXPECT_LE(m[key + "heavy_p50_us"], m[key + "heavy_p99_us"]) << signal;
  }
  // A hundred events with their fields take more room than one number per tile.
  EXPECT_GT(m["signal_costs.sequence_k100.state_per_user"], m["signal_costs.count.state_per_user"]);
  EXPECT_NE(bench.output.find("| sequence_k1000 |"), std::string::npos) << bench.output;
  // Each signal's store is removed once measured.
  EXPECT_TRUE(fs::is_empty(dir_ / "costs"));
}

TEST_F(BenchSmoke, ScalingBenchMeasuresBothSweepsAndChecksAnswers) {
  Finished bench = run(
      fmt::format("{} --config {} --work {} --users 100,300 --events-per-user 5 --history 50,200 "
                  "--background-users 50 --queries 20 --metrics {} --out {}",
                  SCALING_BENCH_BINARY, (dir_ / "bench.yaml").string(), (dir_ / "scaling").string(),
                  (dir_ / "metrics.txt").string(), (dir_ / "scaling.md").string()));
  ASSERT_EQ(bench.status, 0) << bench.output;
  auto m = metric_values(read_file(dir_ / "metrics.txt"));
  // Every generated event is taken: the counts are exact.
  EXPECT_EQ(m["scaling.users.100.events"], 500);
  EXPECT_EQ(m["scaling.users.300.events"], 1500);
  EXPECT_EQ(m["scaling.history.50.events"], 50 * 5 + 50);
  EXPECT_EQ(m["scaling.history.200.events"], 50 * 5 + 200);
  for (const char* point : {"users.100.", "users.300.", "history.50.", "history.200."}) {
    const std::string key = std::string("scaling.") + point;
    EXPECT_GT(m[key + "events_per_s"], 0) << point;
    EXPECT_GT(m[key + "p50_us"], 0) << point;
    EXPECT_LE(m[key + "p50_us"], m[key + "p99_us"]) << point;
  }
  EXPECT_GT(m["scaling.users.300.state_per_user"], 0);
  EXPECT_GT(m["scaling.users.300.parts_read"], 0);
  // The history user's query reads more tiles (more days with events), and it holds more state.
  EXPECT_GT(m["scaling.history.200.tile_rows"], m["scaling.history.50.tile_rows"]);
  EXPECT_GT(m["scaling.history.200.user_state_bytes"], m["scaling.history.50.user_state_bytes"]);
  // 20 sampled users per users point, and the history user with 5 others per history point.
  EXPECT_EQ(m["scaling.checked_users"], 2 * 20 + 2 * 6);
  EXPECT_EQ(m["scaling.differing_answers"], 0);
  const std::string table = read_file(dir_ / "scaling.md");
  EXPECT_NE(table.find("| 300 | 1500 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 200 | 4.00x | 450 |"), std::string::npos) << table;
  // Each point's store and events are removed once measured.
  EXPECT_TRUE(fs::is_empty(dir_ / "scaling"));
}

}  // namespace
}  // namespace signalbox::testing
