// `signalbox check` refuses a key that nothing reads - a misspelt parameter of an aggregator,
// view or source would otherwise change the numbers silently - naming the file, the line, the
// key and the closest key it could have meant, and exits 2. The same holds for a fixture's
// replacement sources under `signalbox test`.

#include <gtest/gtest.h>

#include <fstream>

#include "../cli/run.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

class UnknownKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           fmt::format("signalbox-unknown-keys-{}-{}", ::getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  RunResult check(const std::string& file) {
    return run(signalbox("check --config " + shell_quote(file)), dir_);
  }
  // What `check` prints for a config error at `where` (file:line: key: problem).
  static std::string refusal(const std::string& where) {
    return "signalbox: config error: " + where + "\n";
  }

  fs::path dir_;
};

// A pin table for the configs that have a source.
constexpr const char* kPins = "item_id\tcategories\np1\tart\np2\tfood\n";

TEST_F(UnknownKeysTest, AMisspeltActionsOfACountIsRefused) {
  // `action:` for `actions:` would count every event instead of the purchases.
  std::string file = write("action.yaml",
                           "signals:\n"
                           "  - { name: views, aggregator: count, windows: [1d] }\n"
                           "  - { name: saves, aggregator: count, actions: { save: 1 } }\n"
                           "  - { name: purchases, aggregator: count, action: purchase, "
                           "windows: [7d] }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":4: signals[2].action: unknown key for aggregator count (did "
                                  "you mean actions?)"));
  EXPECT_EQ(r.out, "");

  // Written as the mapping `actions` takes, it is the same mistake.
  file = write("action-map.yaml",
               "signals:\n"
               "  - name: purchases\n"
               "    aggregator: count\n"
               "    action:\n"
               "      purchase: 1\n");
  r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":4: signals[0].action: unknown key for aggregator count (did "
                                  "you mean actions?)"));
}

TEST_F(UnknownKeysTest, AMisspeltGroupByIsRefused) {
  std::string file = write("groupby.yaml",
                           "signals:\n"
                           "  - name: by_color\n"
                           "    aggregator: count\n"
                           "    groupby: attrs.color\n"
                           "    windows: [1d]\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":4: signals[0].groupby: unknown key for aggregator count (did "
                                  "you mean group_by?)"));
}

TEST_F(UnknownKeysTest, AMisspeltParameterOfAViewIsRefused) {
  std::string file =
      write("kk.yaml",
            "signals:\n"
            "  - { name: by_color, aggregator: count, group_by: attrs.color, "
            "windows: [1d] }\n"
            "views:\n"
            "  - { name: top, signal: by_color, window: 1d, transform: top_k, k: 3 }\n"
            "  - { name: top5, signal: by_color, window: 1d, transform: top_k, kk: 5 }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            refusal(file + ":5: views[1].kk: unknown key for transform top_k (did you mean k?)"));
}

TEST_F(UnknownKeysTest, AMisspeltParameterOfASourceIsRefused) {
  write("pins.tsv", kPins);
  std::string file = write("source.yaml",
                           "sources:\n"
                           "  pins:\n"
                           "    kind: table\n"
                           "    path: pins.tsv\n"
                           "    key: item_id\n"
                           "    reload_intervall: 1m\n"
                           "features:\n"
                           "  - { name: pin.categories, source: pins, key: item_id, field: "
                           "categories }\n"
                           "signals:\n"
                           "  - { name: c, aggregator: count, group_by: pin.categories }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":6: sources.pins.reload_intervall: unknown key for a table "
                                  "source (did you mean reload_interval?)"));
}

TEST_F(UnknownKeysTest, WithNothingCloseTheAcceptedKeysAreListed) {
  std::string file =
      write("colour.yaml",
            "signals:\n"
            "  - { name: a, aggregator: decayed_count, half_life: 7d, colour: red }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":2: signals[0].colour: unknown key for aggregator decayed_count "
                                  "(expected half_life, name, aggregator, group_by, value, actions "
                                  "or windows)"));

  file = write("view.yaml",
               "signals:\n"
               "  - { name: s, aggregator: count, group_by: attrs.color }\n"
               "views:\n"
               "  - { name: v, signal: s, transform: normalize, k: 5 }\n");
  r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":4: views[0].k: unknown key for transform normalize (expected "
                                  "name, signal, window or transform)"));
}

TEST_F(UnknownKeysTest, AReferenceNamingNothingListsTheFeatures) {
  write("pins.tsv", kPins);
  const std::string head =
      "sources: { pins: { kind: table, path: pins.tsv, key: item_id } }\n"
      "features:\n"
      "  - { name: pin.categories, source: pins, key: item_id, field: categories }\n"
      "signals:\n";
  std::string file =
      write("ref.yaml", head + "  - { name: c, aggregator: count, group_by: categories }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":5: signals[0].group_by: unknown reference \"categories\" (use "
                                  "item_id, query, action, attrs.NAME or a feature: "
                                  "pin.categories)"));

  file = write("near.yaml", head + "  - { name: c, aggregator: count, group_by: pin.category }\n");
  r = check(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, refusal(file + ":5: signals[0].group_by: unknown reference \"pin.category\" "
                                  "(did you mean pin.categories?)"));
}

TEST_F(UnknownKeysTest, WhatEachKindDeclaresPasses) {
  write("pins.tsv", kPins);
  std::string file = write(
      "good.yaml",
      "sources:\n"
      "  pins: { kind: table, path: pins.tsv, key: item_id, reload_interval: 1m, timeout: none }\n"
      "features:\n"
      "  - { name: pin.categories, source: pins, key: item_id, field: categories }\n"
      "signals:\n"
      "  - { name: c, aggregator: count, group_by: pin.categories, actions: { buy: 1 }, windows: "
      "[1d] }\n"
      "  - { name: d, aggregator: decayed_count, half_life: 7d }\n"
      "  - { name: r, aggregator: last_k, value: item_id, k: 5 }\n"
      "views:\n"
      "  - { name: top, signal: c, window: 1d, transform: top_k, k: 3 }\n"
      "  - { name: session, signal: r, transform: last_session, gap: 30m }\n");
  RunResult r = check(file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(UnknownKeysTest, AFixturesReplacementSourceIsCheckedToo) {
  write("pins.tsv", kPins);
  write("config.yaml",
        "sources: { pins: { kind: table, path: pins.tsv, key: item_id } }\n"
        "features:\n"
        "  - { name: pin.categories, source: pins, key: item_id, field: categories }\n"
        "signals:\n"
        "  - { name: c, aggregator: count, group_by: pin.categories }\n");
  std::string fixture = write("bad.test.yaml",
                              "config: config.yaml\n"
                              "sources:\n"
                              "  pins:\n"
                              "    kind: table\n"
                              "    path: pins.tsv\n"
                              "    key: item_id\n"
                              "    cache_byte: 0\n"
                              "checks:\n"
                              "  - { user: 1, as_of: 5, expect: { c: {} } }\n");
  RunResult r = run(signalbox("test " + shell_quote(fixture)), dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "signalbox test: " + fixture + ": config error: " + fixture +
                       ":7: sources.pins.cache_byte: unknown key for a table source (did you mean "
                       "cache_bytes?)\n");

  // A key the kind does not use, as in a config.
  fixture = write("model.test.yaml",
                  "config: config.yaml\n"
                  "sources:\n"
                  "  pins: { kind: table, path: pins.tsv, key: item_id, model: m.bin }\n"
                  "checks:\n"
                  "  - { user: 1, as_of: 5, expect: { c: {} } }\n");
  r = run(signalbox("test " + shell_quote(fixture)), dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "signalbox test: bad fixture: " + fixture +
                       ":3: sources.pins.model: not used by a table source\n");

  // The fixture's own keys get a suggestion as well.
  fixture = write("keys.test.yaml",
                  "config: config.yaml\n"
                  "check:\n"
                  "  - { user: 1, as_of: 5, expect: { c: {} } }\n");
  r = run(signalbox("test " + shell_quote(fixture)), dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "signalbox test: bad fixture: " + fixture +
                       ":2: check: unknown key (did you mean checks?)\n");
}

}  // namespace
}  // namespace signalbox::testing
