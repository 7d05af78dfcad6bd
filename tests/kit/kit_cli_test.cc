// The signal kit end to end through the `signalbox` binary: `signalbox test` on the examples'
// fixtures (with a fastText model trained here for search interests), a deliberately wrong
// expected value and bad fixtures, views that read several windows, and the tutorial's
// `histogram` built as a plugin out of tree - by a cmake run of its own - then loaded,
// and once more claiming another plugin ABI version or declaring a parameter it could never
// be given, which must be refused.

#include <gtest/gtest.h>

#include <fstream>

#include "../cli/run.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = SIGNALBOX_SOURCE_DIR;

class KitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("signalbox-kit-{}-{}", ::getpid(), counter_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  void copy_example(const std::string& folder, const std::vector<std::string>& files) {
    for (const std::string& f : files)
      fs::copy_file(kSource / "examples" / folder / f, dir_ / f,
                    fs::copy_options::overwrite_existing);
  }
  // Runs `signalbox args` in this test's folder, so that relative paths are the folder's.
  RunResult cli(const std::string& args) {
    return run(fmt::format("cd {} && {}", shell_quote(dir_.string()), signalbox(args)), dir_);
  }
  RunResult test(const fs::path& fixture) { return cli("test " + shell_quote(fixture.string())); }

  // Builds examples/plugin out of tree into `build` (a folder of this test), with extra
  // cmake arguments and, when given, `source` in place of histogram.cc; returns the build's
  // output on failure.
  RunResult build_plugin(const std::string& build, const std::string& extra = "",
                         const std::string& source = "") {
    copy_example("plugin",
                 {"CMakeLists.txt", "histogram.cc", "histogram.yaml", "histogram.test.yaml"});
    if (!source.empty()) write("histogram.cc", source);
    const std::string cmake = shell_quote(SIGNALBOX_CMAKE);
    const std::string out = shell_quote((dir_ / build).string());
    RunResult r =
        run(fmt::format("{} -S {} -B {} -G {} -DCMAKE_CXX_COMPILER={} -DSIGNALBOX_DIR={} {}", cmake,
                        shell_quote(dir_.string()), out, shell_quote(SIGNALBOX_GENERATOR),
                        shell_quote(SIGNALBOX_CXX_COMPILER), shell_quote(kSource.string()), extra),
            dir_);
    if (r.exit_code != 0) return r;
    return run(fmt::format("{} --build {}", cmake, out), dir_);
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

std::string replace(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST_F(KitTest, TheEngagementFixturePasses) {
  RunResult r = test(kSource / "examples/engagement/engagement.test.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok "), std::string::npos) << r.out;
}

TEST_F(KitTest, TheSearchInterestsFixturePassesWithAModelTrainedFromTheShippedQueries) {
  copy_example("search-interests", {"search_interests.yaml", "search_interests.test.yaml"});
  fs::create_directories(dir_ / "data");
  RunResult train = run(
      fmt::format("fasttext supervised -input {} -output {} -dim 16 -bucket 100000 -epoch 25 "
                  "-minCount 1 -thread 1",
                  shell_quote((kSource / "examples/search-interests/queries.train.txt").string()),
                  shell_quote((dir_ / "data/query_interests").string())),
      dir_);
  ASSERT_EQ(train.exit_code, 0) << "the fasttext CLI (Debian package fasttext) trains the model: "
                                << train.err;
  RunResult r = test(dir_ / "search_interests.test.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok "), std::string::npos) << r.out;
}

TEST_F(KitTest, AWrongExpectedValueFailsWithADiffNamingSignalUserAndAsOf) {
  copy_example("engagement", {"engagement.yaml", "test-pins.tsv"});
  std::string fixture = read_file(kSource / "examples/engagement/engagement.test.yaml");
  fixture = replace(fixture, "taste.1d.events: 5", "taste.1d.events: 6");
  fixture = replace(fixture, "taste_profile.session: null", "taste_profile.session: [0, 1]");
  fs::path path = write("wrong.test.yaml", fixture);

  RunResult r = test(path);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  " + path.string() + " (2 of 12 checks differ)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("checks[0]: signal \"taste\", user 7, as_of 1772364600000 "
                       "(2026-03-01T11:30:00.000Z):\n"
                       "    taste.1d.events: expected 6, got 5"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("checks[2]: view \"taste_profile\", user 7, as_of 1772368260000 "
                       "(2026-03-01T12:31:00.000Z):\n"
                       "    taste_profile.session: expected [0,1], got null"),
            std::string::npos)
      << r.out;
  // The line is the expectation's, for an editor to jump to.
  EXPECT_NE(r.out.find(path.string() + ":29: checks[0]"), std::string::npos) << r.out;
}

TEST_F(KitTest, BadFixturesExitTwoNamingTheProblem) {
  copy_example("engagement", {"engagement.yaml", "test-pins.tsv"});
  const std::string head =
      "config: engagement.yaml\nsources: { pins: { kind: table, path: test-pins.tsv, key: item_id "
      "} }\n";
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"checks:\n  - { user: 1, as_of: 5, expect: { nope: 1 } }\n",
       "checks[0].expect: \"nope\" names no signal or view"},
      {"events:\n  - { user_id: 1, ts: 5, action: \"Bad Action\" }\n"
       "checks:\n  - { user: 1, as_of: 5, expect: { taste: 1 } }\n",
       "bad.test.yaml:4: events[0]: rejected: action:"},
      {"checks:\n  - { user: -1, as_of: 5, expect: { taste: 1 } }\n",
       "checks[0].user: must be an unsigned 64-bit integer"},
      {"checks:\n  - { user: 1, as_of: yesterday, expect: { taste: 1 } }\n",
       "checks[0].as_of: \"yesterday\" is not a time"},
      {"checks:\n  - { user: 1, as_of: 5, expect: { \"taste..1d\": 1 } }\n", "bad path"},
      {"checks: [\n", "yaml:"},
      {"check:\n  - { user: 1, as_of: 5, expect: { taste: 1 } }\n", "check: unknown key"},
  };
  for (const Case& c : cases) {
    fs::path path = write("bad.test.yaml", head + c.body);
    RunResult r = test(path);
    EXPECT_EQ(r.exit_code, 2) << c.body << r.out << r.err;
    EXPECT_NE(r.err.find("bad fixture: " + path.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.message << "\n" << r.err;
  }

  fs::path no_config =
      write("none.test.yaml",
            "config: missing.yaml\nchecks:\n  - { user: 1, as_of: 5, expect: { a: 1 } }\n");
  RunResult r = test(no_config);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.yaml: cannot read"), std::string::npos) << r.err;
}

TEST_F(KitTest, AViewOfSeveralWindowsTakesNoWindowAndNamesItsWindowsByParameter) {
  const std::string config =
      "storage: { path: store }\n"
      "signals:\n"
      "  - { name: s, aggregator: count, group_by: attrs.topic, windows: [1d, 30d] }\n"
      "views:\n";
  write("ok.yaml",
        config + "  - { name: v, signal: s, transform: rising, short: 1d, long: 30d }\n");
  RunResult ok = cli("check --config ok.yaml");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  write(
      "window.yaml",
      config + "  - { name: v, signal: s, window: 1d, transform: rising, short: 1d, long: 30d }\n");
  RunResult window = cli("check --config window.yaml");
  EXPECT_EQ(window.exit_code, 2);
  EXPECT_NE(window.err.find("window.yaml:5: views[0].window: not used by transform rising"),
            std::string::npos)
      << window.err;

  write("unknown.yaml",
        config + "  - { name: v, signal: s, transform: rising, short: 7d, long: 30d }\n");
  RunResult unknown = cli("check --config unknown.yaml");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("views[0].short: signal \"s\" has no window \"7d\" (it has 1d, 30d)"),
            std::string::npos)
      << unknown.err;

  // A custom view's parameters are the ones it declared: `lon` would otherwise be ignored and
  // `long` reported missing.
  write("misspelt.yaml",
        config + "  - { name: v, signal: s, transform: rising, short: 1d, lon: 30d }\n");
  RunResult misspelt = cli("check --config misspelt.yaml");
  EXPECT_EQ(misspelt.exit_code, 2);
  EXPECT_EQ(misspelt.err,
            "signalbox: config error: misspelt.yaml:5: views[0].lon: unknown key for transform "
            "rising (did you mean long?)\n");
}

TEST_F(KitTest, APluginBuiltOutOfTreeLoadsAndPassesItsFixture) {
  RunResult build = build_plugin("build");
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  ASSERT_TRUE(fs::exists(dir_ / "build/histogram.so"));

  RunResult check = cli("check --config histogram.yaml");
  EXPECT_EQ(check.exit_code, 0) << check.err;
  RunResult r = test(dir_ / "histogram.test.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // The same through replay and get, from another working folder: the path is the config's.
  write("events.ndjson",
        "{\"user_id\":3,\"ts\":1772352000000,\"action\":\"purchase\",\"attrs\":{\"price\":12.5}}\n"
        "{\"user_id\":3,\"ts\":1772352060000,\"action\":\"purchase\",\"attrs\":{\"price\":14}}\n");
  RunResult replay =
      run(fmt::format("cd / && {}",
                      signalbox(fmt::format("replay -q --config {} {}",
                                            shell_quote((dir_ / "histogram.yaml").string()),
                                            shell_quote((dir_ / "events.ndjson").string())))),
          dir_);
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  RunResult get = cli("get --config histogram.yaml --user 3 --as-of 1772352060000");
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out,
            "{\"user_id\":3,\"as_of\":1772352060000,\"as_of_iso\":\"2026-03-01T08:01:00.000Z\","
            "\"signals\":{\"price_histogram\":"
            "{\"1d\":{\"10\":2},\"30d\":{\"10\":2}}}}\n");

  // A misspelt parameter of the plugin's aggregator is refused, naming the one it declared;
  // unchecked, the signal would not even build (width is required), but for an optional
  // parameter it would silently take the default.
  write("widht.yaml", replace(read_file(dir_ / "histogram.yaml"), "width: 10", "widht: 10"));
  RunResult widht = cli("check --config widht.yaml");
  EXPECT_EQ(widht.exit_code, 2);
  EXPECT_EQ(widht.err,
            "signalbox: config error: widht.yaml:10: signals[0].widht: unknown key for aggregator "
            "histogram (did you mean width?)\n");

  // A second plugin may not take a name that is already defined.
  fs::copy_file(dir_ / "build/histogram.so", dir_ / "build/histogram-again.so");
  write("twice.yaml", replace(read_file(dir_ / "histogram.yaml"), "plugins: [build/histogram.so]",
                              "plugins: [build/histogram.so, build/histogram-again.so]"));
  RunResult twice = cli("check --config twice.yaml");
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("plugins[1]: plugin " + (dir_ / "build/histogram-again.so").string() +
                           ": registers aggregator \"histogram\", which is already defined"),
            std::string::npos)
      << twice.err;
}

TEST_F(KitTest, APluginDeclaringAKeyOfEverySignalIsRefused) {
  // The loader takes `value` itself, so the aggregator could never be given its parameter.
  const std::string source = R"(#include <signalbox/signal_kit.h>
namespace {
using namespace signalbox;
class Zero final : public AggregatorOf<int> {
 public:
  explicit Zero(const AggregatorContext&) {}
  void fold(int&, const MaterializedEvent&, double) const override {}
  void merge(int&, const int&) const override {}
  Value result(const int&, TimeMs) const override { return Value(0.0); }
  void encode(const int&, ByteWriter&) const override {}
  int decode(ByteReader&) const override { return 0; }
};
}  // namespace
SIGNALBOX_REGISTER_AGGREGATOR(zero, Zero, {{"value", "clashes with a key of every signal"}});
)";
  RunResult build = build_plugin("build-taken", "", source);
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  write("taken.yaml",
        "signals:\n  - { name: s, aggregator: count }\nplugins: [build-taken/histogram.so]\n");
  RunResult r = cli("check --config taken.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.err, "signalbox: config error: taken.yaml:3: plugins[0]: plugin " +
                       (dir_ / "build-taken/histogram.so").string() +
                       ": aggregator \"zero\" declares parameter \"value\", which is a key of "
                       "every signal\n");
}

// A plugin whose aggregator writes its results token by token (WritingAggregatorOf, whose
// result() builds them with the executable's ValueBuilder) and whose view writes its own: both
// load and answer as the tutorial's plain aggregator does. The tutorial's histogram.cc, its
// result() turned into write_result(), with a view added.
TEST_F(KitTest, APluginThatWritesItsResultsLoadsAndAnswers) {
  std::string source = read_file(kSource / "examples/plugin/histogram.cc");
  source = replace(source, "public AggregatorOf<Buckets>", "public WritingAggregatorOf<Buckets>");
  source =
      replace(source, R"(  Value result(const Buckets& s, TimeMs) const override {
    Value::Object out;  // keyed by each bucket's lower bound, in numeric order
    for (const auto& [bucket, weight] : s)
      if (weight != 0) out.emplace_back(Value(bucket * width_).to_json(), Value(weight));
    return Value(std::move(out));
  })",
              R"(  void write_result(const Buckets& s, TimeMs, ResultWriter& out) const override {
    out.begin_object(s.size());
    for (const auto& [bucket, weight] : s) {
      if (weight == 0) continue;
      out.key(Value(bucket * width_).to_json());
      out.number(weight);
    }
    out.end_object();
  })");
  source += R"(
namespace {
// The largest bucket's weight.
class Largest final : public signalbox::View {
 public:
  explicit Largest(const signalbox::ViewContext&) {}
  signalbox::Value transform(const signalbox::Value& input) const override {
    double largest = 0;
    if (input.is_object())
      for (const auto& [bucket, weight] : input.object())
        if (weight.number() > largest) largest = weight.number();
    return signalbox::Value(largest);
  }
  void write_with(const signalbox::Value& input, const std::vector<const signalbox::Value*>&,
                  signalbox::ResultWriter& out) const override {
    out.number(transform(input).number());
  }
};
}  // namespace
SIGNALBOX_REGISTER_VIEW(largest, Largest, {});
)";
  RunResult build = build_plugin("build-writing", "", source);
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  write("writing.yaml",
        replace(read_file(dir_ / "histogram.yaml"), "plugins: [build/histogram.so]",
                "views:\n  - { name: most, signal: price_histogram, window: 30d, transform: "
                "largest }\nplugins: [build-writing/histogram.so]"));
  write("events.ndjson",
        "{\"user_id\":3,\"ts\":1772352000000,\"action\":\"purchase\",\"attrs\":{\"price\":12.5}}\n"
        "{\"user_id\":3,\"ts\":1772352060000,\"action\":\"purchase\",\"attrs\":{\"price\":14}}\n"
        "{\"user_id\":3,\"ts\":1772352070000,\"action\":\"purchase\",\"attrs\":{\"price\":3}}\n");
  RunResult replay = cli("replay -q --config writing.yaml events.ndjson");
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  RunResult get = cli("get --config writing.yaml --user 3 --as-of 1772352070000");
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out,
            "{\"user_id\":3,\"as_of\":1772352070000,\"as_of_iso\":\"2026-03-01T08:01:10.000Z\","
            "\"signals\":{\"price_histogram\":"
            "{\"1d\":{\"0\":1,\"10\":2},\"30d\":{\"0\":1,\"10\":2}},\"most\":2}}\n");
}

// The plugin ABI version include/signalbox/signal_kit.abi records (plugin_abi_test checks it
// against signal_kit.h's).
std::string recorded_abi_version() {
  std::ifstream in(std::string(SIGNALBOX_SOURCE_DIR) + "/include/signalbox/signal_kit.abi");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("version ", 0) == 0) return line.substr(8);
  ADD_FAILURE() << "include/signalbox/signal_kit.abi names no version";
  return {};
}

TEST_F(KitTest, APluginOfAnotherAbiVersionIsRefusedNamingBothVersions) {
  RunResult build =
      build_plugin("build-old", "-DCMAKE_CXX_FLAGS=-DSIGNALBOX_PLUGIN_CLAIMED_ABI_VERSION=999");
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  std::string config =
      replace(read_file(dir_ / "histogram.yaml"), "build/histogram.so", "build-old/histogram.so");
  write("old.yaml", config);
  RunResult r = cli("check --config old.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("signalbox: config error: old.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("plugins[0]: plugin " + (dir_ / "build-old/histogram.so").string() +
                       ": built for plugin ABI version 999, but this signalbox has plugin ABI "
                       "version " +
                       recorded_abi_version() + "; rebuild the plugin"),
            std::string::npos)
      << r.err;
  RunResult get = cli("get --config old.yaml --user 1");
  EXPECT_EQ(get.exit_code, 2) << get.err;
}

TEST_F(KitTest, WhatIsNotAPluginIsRefused) {
  write("missing.yaml", "signals:\n  - { name: s, aggregator: count }\nplugins: [nowhere/x.so]\n");
  RunResult missing = cli("check --config missing.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.yaml:3: plugins[0]: plugin " +
                             (dir_ / "nowhere/x.so").string() + ": cannot load:"),
            std::string::npos)
      << missing.err;

  // A shared library of no Signalbox kind: libz, which every build here links.
  write("libz.yaml",
        "signals:\n  - { name: s, aggregator: count }\n"
        "plugins: [/usr/lib/x86_64-linux-gnu/libz.so.1]\n");
  if (fs::exists("/usr/lib/x86_64-linux-gnu/libz.so.1")) {
    RunResult r = cli("check --config libz.yaml");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not a Signalbox plugin: it exports no signalbox_plugin_abi_version"),
              std::string::npos)
        << r.err;
  }

  // A file that is no shared library at all.
  write("text.yaml", "signals:\n  - { name: s, aggregator: count }\nplugins: [not-a-library.so]\n");
  write("not-a-library.so", "hello");
  RunResult text = cli("check --config text.yaml");
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.err.find("cannot load:"), std::string::npos) << text.err;
}

}  // namespace
}  // namespace signalbox::testing
