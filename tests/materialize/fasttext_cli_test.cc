// Query categories end to end through the real binary: a fastText model trained at test time
// from data/queries.txt, `signalbox replay` of search events, then `signalbox get` of a count
// grouped by the predicted categories. The expected categories come from the fasttext CLI's
// own `predict-prob`, so the test checks the wiring, not the model's quality.

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "support.h"

namespace signalbox::testing {
namespace {

constexpr std::int64_t kEnd = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kHour = 3600000;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult run(const std::string& command, const std::filesystem::path& dir) {
  auto out = dir / "stdout.txt";
  auto err = dir / "stderr.txt";
  int status = std::system(
      fmt::format("{} >{} 2>{}", command, shell_quote(out.string()), shell_quote(err.string()))
          .c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// Labels of each line of `queries` by `fasttext predict-prob` (top k, threshold p), without
// the __label__ prefix.
std::vector<std::vector<std::string>> predict_with_cli(const std::filesystem::path& model,
                                                       const std::vector<std::string>& queries,
                                                       int k, double p,
                                                       const std::filesystem::path& dir) {
  std::string text;
  for (const auto& q : queries) text += q + "\n";
  std::ofstream(dir / "queries.in", std::ios::binary) << text;
  CommandResult r =
      run(fmt::format("fasttext predict-prob {} {} {} {}", shell_quote(model.string()),
                      shell_quote((dir / "queries.in").string()), k, p),
          dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> labels;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> these;
    std::string label, prob;
    while (words >> label >> prob) these.push_back(label.substr(std::string("__label__").size()));
    labels.push_back(these);
  }
  return labels;
}

TEST(FastTextCli, QueryCategoriesEndToEnd) {
  if (!have_program("fasttext")) {
    GTEST_SKIP() << "the fasttext CLI is not installed (Debian package fasttext); it trains the "
                    "model this test uses";
  }
  TempDir dir;
  std::string error;
  auto model = train_query_model(dir.path(), error);
  ASSERT_TRUE(model) << error;

  dir.write("signalbox.yaml", R"(storage: { kind: rocksdb, path: store }
event_store: { retention: 7d }
sources:
  queries: { kind: fasttext, model: model.bin }
features:
  - { name: query.categories, source: queries, key: query, type: strings, top: 2, min_prob: 0.2 }
signals:
  - name: search_interests
    aggregator: count
    group_by: query.categories
    actions: { search: 1 }
    windows: [1d, 30d]
)");

  const std::vector<std::string> queries = {
      "easy pasta recipes",    "vegan curry for dinner", "cheap flights to rome",
      "beginner hiit workout", "vintage leather jacket", "easy pasta recipes",
      "cozy bedroom decor",    "gaming laptop review",   "homemade bread from scratch",
      "weekend trip to japan", "quick soup meal prep",   "wireless headphones deals"};
  std::string events;
  std::vector<std::int64_t> times;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::int64_t ts = kEnd - static_cast<std::int64_t>(i) * 5 * kHour;  // 0 to 55 hours back
    times.push_back(ts);
    events += fmt::format(R"({{"user_id": 42, "ts": {}, "action": "search", "query": "{}"}})", ts,
                          queries[i]) +
              "\n";
  }
  // Neither another user's searches nor this user's clicks count.
  events +=
      fmt::format(R"({{"user_id": 7, "ts": {}, "action": "search", "query": "tacos"}})", kEnd) +
      "\n";
  events += fmt::format(
                R"({{"user_id": 42, "ts": {}, "action": "click", "query": "easy pasta recipes"}})",
                kEnd) +
            "\n";
  dir.write("events.ndjson", events);

  std::string binary = shell_quote(SIGNALBOX_BINARY);
  std::string config = shell_quote((dir.path() / "signalbox.yaml").string());
  CommandResult replay = run(fmt::format("{} replay -q --config {} {}", binary, config,
                                         shell_quote((dir.path() / "events.ndjson").string())),
                             dir.path());
  ASSERT_EQ(replay.exit_code, 0) << replay.err;

  CommandResult get =
      run(fmt::format("{} get --config {} --user 42 --names search_interests --as-of {}", binary,
                      config, kEnd),
          dir.path());
  ASSERT_EQ(get.exit_code, 0) << get.err;

  auto predicted = predict_with_cli(*model, queries, 2, 0.2, dir.path());
  ASSERT_EQ(predicted.size(), queries.size());
  EXPECT_EQ(predicted[0].at(0), "food");                          // the model learned something
  std::map<std::string, std::map<std::string, double>> expected;  // window -> label -> count
  for (std::size_t i = 0; i < queries.size(); ++i) {
    for (const auto& label : predicted[i]) {
      if (kEnd - times[i] < 24 * kHour) expected["1d"][label] += 1;
      expected["30d"][label] += 1;
    }
  }

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(get.out).get(doc), simdjson::SUCCESS) << get.out;
  simdjson::dom::object signal;
  ASSERT_EQ(doc["signals"]["search_interests"].get_object().get(signal), simdjson::SUCCESS)
      << get.out;
  std::map<std::string, std::map<std::string, double>> got;
  for (auto [window, counts] : signal) {
    simdjson::dom::object map;
    ASSERT_EQ(counts.get_object().get(map), simdjson::SUCCESS) << get.out;
    for (auto [label, count] : map) {
      double n = 0;
      ASSERT_EQ(count.get_double().get(n), simdjson::SUCCESS) << get.out;
      got[std::string(window)][std::string(label)] = n;
    }
  }
  EXPECT_EQ(got, expected) << get.out;
  EXPECT_EQ(got["30d"]["food"], expected["30d"]["food"]);
  EXPECT_GE(got["30d"]["food"], 4);  // pasta twice, curry, bread, soup: at least most of them
}

}  // namespace
}  // namespace signalbox::testing
