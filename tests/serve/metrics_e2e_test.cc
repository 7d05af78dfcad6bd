// GET /metrics of the real `signalbox serve` after a known workload: each counter exact, the
// histogram counts, the process metrics, and the whole text valid Prometheus exposition.

#include <unistd.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "server_process.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A folder of its own under the system temp folder, removed at the end.
struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("signalbox-metrics-{}-{}", getpid(), now_ms());
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// A scrape, parsed and checked as Prometheus text exposition format 0.0.4: every sample's
// family has HELP and TYPE before it, names and labels are well formed, values are numbers.
struct Scrape {
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram
  std::map<std::string, double> samples;     // "name{labels}" as written -> value
  std::vector<std::string> problems;

  explicit Scrape(const std::string& text) {
    static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex kSample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+))");
    std::set<std::string> helped;
    std::set<std::string> families_seen;
    std::istringstream lines(text);
    std::string line;
    std::string current;  // the family whose samples may follow
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      if (line.rfind("# HELP ", 0) == 0) {
        std::string rest = line.substr(7);
        std::string name = rest.substr(0, rest.find(' '));
        if (!std::regex_match(name, kName)) problems.push_back("bad HELP name: " + line);
        if (!helped.insert(name).second) problems.push_back("HELP twice: " + line);
        continue;
      }
      if (line.rfind("# TYPE ", 0) == 0) {
        std::istringstream parts(line.substr(7));
        std::string name, type;
        parts >> name >> type;
        if (!helped.count(name)) problems.push_back("TYPE without HELP before it: " + line);
        if (type != "counter" && type != "gauge" && type != "histogram")
          problems.push_back("unexpected type: " + line);
        if (!types.emplace(name, type).second) problems.push_back("TYPE twice: " + line);
        if (!families_seen.insert(name).second) problems.push_back("family split: " + line);
        current = name;
        continue;
      }
      if (line[0] == '#') continue;
      std::smatch m;
      if (!std::regex_match(line, m, kSample)) {
        problems.push_back("malformed sample: " + line);
        continue;
      }
      std::string name = m[1];
      std::string family = name;
      if (types.count(name) == 0) {
        for (std::string suffix : {"_bucket", "_sum", "_count"}) {
          if (name.size() > suffix.size() &&
              name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
              types.count(name.substr(0, name.size() - suffix.size())) &&
              types[name.substr(0, name.size() - suffix.size())] == "histogram")
            family = name.substr(0, name.size() - suffix.size());
        }
      }
      if (!types.count(family))
        problems.push_back("sample without HELP/TYPE: " + line);
      else if (family != current)
        problems.push_back("sample outside its family: " + line);
      if (types[family] == "counter" && name.size() > 6 &&
          name.compare(name.size() - 6, 6, "_total") != 0)
        problems.push_back("counter not named _total: " + line);
      std::string value_text = m[4];
      char* end = nullptr;
      double value = std::strtod(value_text.c_str(), &end);
      if (value_text != "+Inf" && value_text != "-Inf" && value_text != "NaN" && *end != '\0')
        problems.push_back("value not a number: " + line);
      std::string key = m[2].matched ? name + m[2].str() : name;
      if (!samples.emplace(key, value).second) problems.push_back("sample twice: " + line);
    }
  }

  // The value of the sample written exactly as `key` (name and labels); fails when absent.
  double operator[](const std::string& key) const {
    auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << key;
      return std::nan("");
    }
    return it->second;
  }
};

std::string event(std::uint64_t user, std::int64_t ts, std::string_view id) {
  return fmt::format(R"({{"user_id":{},"ts":{},"action":"click","event_id":"{}","item_id":"i{}"}})",
                     user, ts, id, user % 3);
}

class MetricsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    config_ = dir_.path / "signalbox.yaml";
    std::ofstream(config_) << fmt::format(
        "server: {{ http: 127.0.0.1:{} }}\n"
        "storage: {{ kind: rocksdb, path: {} }}\n"
        "event_store: {{ retention: 1d, max_future_skew: 1h }}\n"
        "signals:\n"
        "  - {{ name: clicks, aggregator: count, windows: [1h, 1d] }}\n"
        "  - {{ name: items, aggregator: count, group_by: item_id, windows: [1d] }}\n",
        port_, (dir_.path / "data").string());
    server_ = std::make_unique<ServerProcess>(config_, port_, dir_.path / "serve.log");
  }

  TempDir dir_;
  std::uint16_t port_ = 0;
  fs::path config_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(MetricsEndToEnd, CountsAKnownWorkloadExactly) {
  HttpClient client(port_);
  const std::int64_t now = now_ms();

  // 40 new events over 5 users, in two POSTs.
  constexpr int kNew = 40;
  std::string first, second;
  for (int i = 0; i < kNew; ++i)
    (i < 25 ? first : second) += event(i % 5, now - 60'000 * i, fmt::format("e{}", i)) + "\n";
  ASSERT_EQ(client.post("/v1/events", first).status, 200u);
  ASSERT_EQ(client.post("/v1/events", second).status, 200u);

  // 6 duplicates (5 already stored, 1 repeated within the POST), 9 rejects for known reasons,
  // and 2 more new events, all in one POST.
  std::string mixed;
  for (int i = 0; i < 5; ++i) mixed += event(i % 5, now - 60'000 * i, fmt::format("e{}", i)) + "\n";
  mixed += event(7, now - 1000, "n1") + "\n";
  mixed += event(7, now - 1000, "n1") + "\n";  // duplicate within the POST
  mixed += event(8, now - 2000, "n2") + "\n";
  mixed += R"({"user_id":1,"action":"click","event_id":"x1"})"
           "\n";  // ts: required
  mixed += R"({"user_id":1,"ts":5,"action":"click","event_id":"x2","colour":"red"})"
           "\n";
  mixed += R"({"user_id":"abc","ts":5,"action":"click","event_id":"x3"})"
           "\n";  // user_id
  mixed += R"({"user_id":1,"ts":5,"action":"Click!","event_id":"x4"})"
           "\n";  // action
  mixed += R"({"user_id":1,"ts":5,"action":"click","event_id":"x5","attrs":{"a":[1]}})"
           "\n";
  mixed += "{not json\n";                                // json
  mixed += event(1, now + 3 * 3'600'000, "x6") + "\n";   // future
  mixed += event(1, now - 3 * 86'400'000, "x7") + "\n";  // late
  mixed += event(2, now - 5 * 86'400'000, "x8") + "\n";  // late
  HttpAnswer answer = client.post("/v1/events", mixed);
  ASSERT_EQ(answer.status, 200u);
  Value result = answer.json();
  ASSERT_EQ(result.find("accepted")->number(), 8) << answer.body;
  ASSERT_EQ(result.find("duplicates")->number(), 6) << answer.body;
  ASSERT_EQ(result.find("rejected")->number(), 9) << answer.body;

  // Queries: 4 GET signals, 3 batchGet, 1 refused (unknown signal), and error routes.
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(client.get(fmt::format("/v1/users/{}/signals", i)).status, 200u);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.post("/v1/signals:batchGet", R"({"user_ids":[1,2,3]})").status, 200u);
  EXPECT_EQ(client.get("/v1/users/1/signals?names=nope").status, 400u);
  EXPECT_EQ(client.get("/no/such/route").status, 404u);
  EXPECT_EQ(client.get("/v1/events").status, 405u);
  EXPECT_EQ(client.get("/healthz").status, 200u);

  HttpAnswer scrape_answer = client.get("/metrics");
  ASSERT_EQ(scrape_answer.status, 200u);
  EXPECT_EQ(scrape_answer.content_type, "text/plain; version=0.0.4; charset=utf-8");
  Scrape m(scrape_answer.body);
  EXPECT_TRUE(m.problems.empty()) << ::testing::PrintToString(m.problems) << "\n"
                                  << scrape_answer.body;

  // Events by source and outcome, and the reasons of the rejects.
  EXPECT_EQ(m[R"(signalbox_events_total{source="http",outcome="accepted"})"], kNew + 2);
  EXPECT_EQ(m[R"(signalbox_events_total{source="http",outcome="duplicate"})"], 6);
  EXPECT_EQ(m[R"(signalbox_events_total{source="http",outcome="rejected"})"], 9);
  std::map<std::string, double> reasons = {{"ts", 1},      {"unknown_field", 1}, {"user_id", 1},
                                           {"action", 1},  {"attrs", 1},         {"json", 1},
                                           {"future", 1},  {"late", 2},          {"event_id", 0},
                                           {"item_id", 0}, {"query", 0},         {"other", 0}};
  for (const auto& [reason, count] : reasons) {
    EXPECT_EQ(
        m[fmt::format(R"(signalbox_events_rejected_by_reason_total{{source="http",reason="{}"}})",
                      reason)],
        count)
        << reason;
  }
  // The engine-wide counters agree.
  EXPECT_EQ(m["signalbox_events_accepted_total"], kNew + 2 + 6);
  EXPECT_EQ(m["signalbox_events_duplicate_total"], 6);
  EXPECT_EQ(m[R"(signalbox_events_rejected_total{reason="invalid"})"], 7);
  EXPECT_EQ(m[R"(signalbox_events_rejected_total{reason="late"})"], 2);
  // One user query per GET (the refused one too) and one per user of each batchGet.
  EXPECT_EQ(m["signalbox_queries_total"], 4 + 1 + 3 * 3);

  // Requests by route and code.
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/v1/events",code="200"})"], 3);
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/v1/users/{user_id}/signals",code="200"})"],
            4);
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/v1/users/{user_id}/signals",code="400"})"],
            1);
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/v1/signals:batchGet",code="200"})"], 3);
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="unmatched",code="404"})"], 1);
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/v1/events",code="405"})"], 1);
  // ServerProcess's readiness probe stops at its first 200, then ours.
  EXPECT_EQ(m[R"(signalbox_http_requests_total{route="/healthz",code="200"})"], 2);

  // Histograms: one observation per answered query request, per POST, per POST with events.
  EXPECT_EQ(m[R"(signalbox_query_duration_seconds_count{route="/v1/users/{user_id}/signals"})"], 4);
  EXPECT_EQ(
      m[R"(signalbox_query_duration_seconds_bucket{route="/v1/users/{user_id}/signals",le="+Inf"})"],
      4);
  EXPECT_EQ(m[R"(signalbox_query_duration_seconds_count{route="/v1/signals:batchGet"})"], 3);
  EXPECT_EQ(m["signalbox_ingest_duration_seconds_count"], 3);
  EXPECT_EQ(m[R"(signalbox_ingest_freshness_seconds_count{source="http"})"], 3);
  EXPECT_GT(m[R"(signalbox_ingest_freshness_seconds_sum{source="http"})"], 0);
  EXPECT_GE(m[R"(signalbox_ingest_freshness_seconds_sum{source="http"})"],
            m["signalbox_ingest_duration_seconds_sum"])
      << "freshness includes the ingest itself";

  // Store and process.
  EXPECT_DOUBLE_EQ(m["signalbox_stream_time_seconds"], static_cast<double>(now) / 1000.0);
  EXPECT_GT(m["signalbox_store_events"], 0);
  EXPECT_GT(m["process_resident_memory_bytes"], 1e6);
  EXPECT_GT(m["process_virtual_memory_bytes"], m["process_resident_memory_bytes"]);
  EXPECT_GT(m["process_open_fds"], 3);
  EXPECT_GT(m["process_max_fds"], m["process_open_fds"]);
  EXPECT_GE(m["process_cpu_seconds_total"], 0);
  double start = m["process_start_time_seconds"];
  EXPECT_LE(start, static_cast<double>(now) / 1000 + 1);
  EXPECT_GE(start, static_cast<double>(now) / 1000 - 120);
  std::string build_info = R"(signalbox_build_info{version=")" SIGNALBOX_VERSION R"(",compiler=")";
  auto info = m.samples.lower_bound(build_info);
  ASSERT_NE(info, m.samples.end());
  EXPECT_EQ(info->first.substr(0, build_info.size()), build_info);
  EXPECT_EQ(info->second, 1);
  EXPECT_EQ(m.types["signalbox_build_info"], "gauge");
  EXPECT_EQ(m.types["signalbox_events_total"], "counter");
  EXPECT_EQ(m.types["signalbox_ingest_freshness_seconds"], "histogram");

  EXPECT_EQ(server_->terminate(), 0) << server_->log();
}

}  // namespace
}  // namespace signalbox::testing
