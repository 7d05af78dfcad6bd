// The configs of min/max/avg/stddev, sequence, quantile, top_frequent, ratio and bucketize
// as the loader reads them from YAML (list parameters included): what is accepted, and a
// clear error naming the key for what is not.

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "built_views.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/error.h"
#include "signalbox/config/config.h"
#include "signalbox/view/view.h"

namespace signalbox {
namespace {

const FeatureNames kFeatures({"pin.categories", "pin.embedding"});

// Builds every signal and view of `yaml` (a `signals:` and maybe a `views:` section);
// returns "" or the first error.
std::string build(const std::string& yaml) {
  try {
    build_views(yaml, "cfg.yaml", kFeatures);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AnalyticsConfig, TheDocumentedFormsAreAccepted) {
  EXPECT_EQ(build(R"(sources:
  pins: { kind: table, path: pins.tsv, key: item_id }
features:
  - { name: pin.categories, source: pins, key: item_id, field: categories, type: strings }
  - { name: pin.embedding, source: pins, key: item_id, field: embedding, type: vector }
signals:
  - { name: a, aggregator: min, value: attrs.price, windows: [1d] }
  - { name: b, aggregator: max, value: attrs.price, group_by: pin.categories }
  - { name: c, aggregator: avg, value: attrs.price, actions: { purchase: 1 }, windows: [1h, 30d] }
  - { name: d, aggregator: stddev, value: attrs.price, group_by: action, windows: [7d] }
  - { name: e, aggregator: sequence, k: 100, fields: [ts, action, item_id, pin.categories, pin.embedding, attrs.price] }
  - { name: f, aggregator: quantile, value: attrs.dwell, quantiles: [0.5, 0.9, 0.99], windows: [1d, 7d] }
  - { name: g, aggregator: top_frequent, value: pin.categories, k: 5, windows: [7d] }
  - { name: h, aggregator: top_frequent, value: item_id, k: 5, capacity: 50 }
  - { name: counts, aggregator: count, group_by: pin.categories, windows: [1d, 30d] }
views:
  - { name: rising, signal: counts, transform: ratio, numerator: 1d, denominator: 30d, share: true }
  - { name: level, signal: a, window: 1d, transform: bucketize, boundaries: [10, 100], labels: [low, mid, high] }
  - { name: levels, signal: counts, window: 1d, transform: bucketize, boundaries: [1, 5] }
)"),
            "");
}

TEST(AnalyticsConfig, AListParameterKeepsItsItemsAndReadsAsAList) {
  Config config = parse_config(
      "signals:\n  - { name: s, aggregator: quantile, value: attrs.x, quantiles: [0.5, \"0.9\", 1] "
      "}\n",
      "cfg.yaml");
  const ConfigParam& quantiles = config.signals[0].params.at("quantiles");
  EXPECT_TRUE(quantiles.list);
  EXPECT_FALSE(quantiles.scalar);
  EXPECT_EQ(quantiles.items, (std::vector<std::string>{"0.5", "0.9", "1"}));
  // The text stands for the list where parameters are compared or described as text.
  EXPECT_EQ(quantiles.text, "[0.5, 0.9, 1]");
}

// Signals that differ only in what a parameter does not change share state; any change to
// what is folded starts a state of its own.
TEST(AnalyticsConfig, StateIsSharedExactlyWhereTheStateIsTheSame) {
  Config config = parse_config(R"(signals:
  - { name: a, aggregator: min, value: attrs.price, windows: [1d] }
  - { name: b, aggregator: stddev, value: attrs.price, windows: [7d] }
  - { name: c, aggregator: min, value: attrs.dwell, windows: [1d] }
  - { name: d, aggregator: quantile, value: attrs.price, quantiles: [0.5], windows: [1d] }
  - { name: e, aggregator: quantile, value: attrs.price, quantiles: [0.9, 0.99], windows: [1d] }
  - { name: f, aggregator: sequence, k: 5, fields: [ts, action], windows: [1d] }
  - { name: g, aggregator: sequence, k: 5, fields: [ts, item_id], windows: [1d] }
  - { name: h, aggregator: top_frequent, value: item_id, k: 3, capacity: 50, windows: [1d] }
  - { name: i, aggregator: top_frequent, value: item_id, k: 7, capacity: 50, windows: [1d] }
  - { name: j, aggregator: top_frequent, value: item_id, k: 7, capacity: 60, windows: [1d] }
)",
                               "cfg.yaml");
  std::map<std::string, std::uint64_t> id;
  for (const SignalConfig& s : config.signals) id[s.name] = Signal(s, kFeatures).state_id();
  EXPECT_EQ(id["a"], id["b"]);
  EXPECT_NE(id["a"], id["c"]);
  EXPECT_EQ(id["d"], id["e"]);
  EXPECT_NE(id["f"], id["g"]);
  EXPECT_EQ(id["h"], id["i"]);
  EXPECT_NE(id["i"], id["j"]);
}

TEST(AnalyticsConfig, BadParametersAreRefusedNamingTheKey) {
  auto signal = [](const std::string& body) {
    return build("signals:\n  - { name: s, " + body + " }\n");
  };
  EXPECT_EQ(signal("aggregator: min"), "cfg.yaml:2: signals[0].value: required by aggregator min");
  EXPECT_EQ(signal("aggregator: sequence, k: 1001, fields: [ts]"),
            "cfg.yaml:2: signals[0].k: must be between 1 and 1000 (got 1001)");
  EXPECT_EQ(signal("aggregator: sequence, k: 10"), "cfg.yaml:2: signals[0].fields: required");
  EXPECT_EQ(signal("aggregator: sequence, k: 10, fields: ts"),
            "cfg.yaml:2: signals[0].fields: must be a list of single values");
  EXPECT_EQ(
      signal("aggregator: sequence, k: 10, fields: [ts, pin.colour]"),
      "cfg.yaml:2: signals[0].fields: \"pin.colour\" is neither an event field (ts, event_id, "
      "action, item_id, query, attrs.NAME) nor a configured feature (configured: "
      "pin.categories, pin.embedding)");
  EXPECT_EQ(signal("aggregator: sequence, k: 10, fields: [ts, [action]]"),
            "cfg.yaml:2: signals[0].fields: must be a list of single values");
  EXPECT_EQ(signal("aggregator: sequence, k: 10, fields: [ts, ts]"),
            "cfg.yaml:2: signals[0].fields: \"ts\" is listed twice");
  EXPECT_EQ(signal("aggregator: quantile, value: attrs.x, quantiles: [0.5, 1.5]"),
            "cfg.yaml:2: signals[0].quantiles: \"1.5\" is not a number between 0 and 1");
  EXPECT_EQ(signal("aggregator: quantile, value: attrs.x, quantiles: []"),
            "cfg.yaml:2: signals[0].quantiles: must list at least one quantile");
  EXPECT_EQ(signal("aggregator: quantile, value: attrs.x, quantile: [0.5]"),
            "cfg.yaml:2: signals[0].quantile: unknown key for aggregator quantile (did you mean "
            "quantiles?)");
  EXPECT_EQ(signal("aggregator: top_frequent, value: item_id, k: 10, capacity: 5"),
            "cfg.yaml:2: signals[0].capacity: must be between k (10) and 10000");
  EXPECT_EQ(signal("aggregator: top_frequent, value: item_id, k: [10]"),
            "cfg.yaml:2: signals[0].k: must be a single value");
}

TEST(AnalyticsConfig, BadViewsAreRefusedNamingTheKey) {
  const std::string signals =
      "signals:\n  - { name: counts, aggregator: count, group_by: action, windows: [1d, 30d] }\n"
      "  - { name: total, aggregator: count, windows: [1d] }\nviews:\n";
  EXPECT_EQ(
      build(signals +
            "  - { name: v, signal: counts, transform: ratio, numerator: 1d, denominator: 7d }\n"),
      "cfg.yaml:5: views[0].denominator: signal \"counts\" has no window \"7d\" (it has 1d, 30d)");
  EXPECT_EQ(build(signals + "  - { name: v, signal: total, transform: ratio, numerator: 1d, "
                            "denominator: 1d, share: true }\n"),
            "cfg.yaml:5: views[0].signal: ratio needs a grouped signal (with group_by); \"total\" "
            "has none");
  EXPECT_EQ(build(signals + "  - { name: v, signal: counts, transform: ratio, numerator: 1d, "
                            "denominator: 30d, share: yes }\n"),
            "cfg.yaml:5: views[0].share: must be true or false");
  EXPECT_EQ(
      build(
          signals +
          "  - { name: v, signal: total, window: 1d, transform: bucketize, boundaries: [5, 1] }\n"),
      "cfg.yaml:5: views[0].boundaries: must be strictly ascending (\"1\" follows 5)");
  EXPECT_EQ(
      build(signals + "  - { name: v, signal: total, window: 1d, transform: bucketize, boundaries: "
                      "[1, 5], labels: [a, b] }\n"),
      "cfg.yaml:5: views[0].labels: must name each of the 3 buckets (2 boundaries + 1); 2 given");
}

// A ratio of two signals: the other signal is named by denominator_signal, and each side's
// window is required exactly when its signal has windows.
TEST(AnalyticsConfig, ARatioOfTwoSignalsIsAcceptedInEachForm) {
  const std::string signals =
      "signals:\n  - { name: counts, aggregator: count, group_by: action, windows: [1d, 30d] }\n"
      "  - { name: affinity, aggregator: decayed_count, half_life: 7d, group_by: action }\n"
      "  - { name: clicks, aggregator: count, actions: { click: 1 }, windows: [7d] }\n"
      "  - { name: price, aggregator: avg, value: attrs.price }\nviews:\n";
  EXPECT_EQ(build(signals + "  - { name: v, signal: counts, transform: ratio, numerator: 1d, "
                            "denominator_signal: affinity, share: true }\n"),
            "");
  EXPECT_EQ(build(signals +
                  "  - { name: v, signal: affinity, transform: ratio, denominator_signal: counts, "
                  "denominator: 30d }\n"),
            "");
  EXPECT_EQ(
      build(signals + "  - { name: v, signal: price, transform: ratio, denominator_signal: clicks, "
                      "denominator: 7d }\n"),
      "");
}

TEST(AnalyticsConfig, BadRatiosOfTwoSignalsAreRefusedNamingTheKey) {
  const std::string signals =
      "signals:\n  - { name: counts, aggregator: count, group_by: action, windows: [1d, 30d] }\n"
      "  - { name: total, aggregator: count, windows: [1d] }\n"
      "  - { name: recent, aggregator: last_k, value: item_id, k: 5 }\n"
      "  - { name: ever, aggregator: count }\nviews:\n";
  auto view = [&](const std::string& body) {
    return build(signals + "  - { name: v, transform: ratio, " + body + " }\n");
  };
  EXPECT_EQ(
      view("signal: total, numerator: 1d, denominator_signal: totl, denominator: 1d"),
      "cfg.yaml:7: views[0].denominator_signal: unknown signal \"totl\" (did you mean total?)");
  EXPECT_EQ(view("signal: total, numerator: 1d, denominator_signl: ever"),
            "cfg.yaml:7: views[0].denominator_signl: unknown key for transform ratio (did you mean "
            "denominator_signal?)");
  EXPECT_EQ(
      view("signal: total, numerator: 1d, denominator_signal: recent"),
      "cfg.yaml:7: views[0].denominator_signal: ratio needs a numeric signal; \"recent\" (last_k) "
      "is not one");
  EXPECT_EQ(
      view("signal: recent, denominator_signal: ever"),
      "cfg.yaml:7: views[0].signal: ratio needs a numeric signal; \"recent\" (last_k) is not one");
  EXPECT_EQ(view("signal: counts, numerator: 1d, denominator_signal: total, denominator: 1d"),
            "cfg.yaml:7: views[0].denominator_signal: signal \"counts\" is grouped by action but "
            "\"total\" is not grouped: a ratio divides like by like");
  EXPECT_EQ(view("signal: total, numerator: 1d, denominator_signal: ever, denominator: 1d"),
            "cfg.yaml:7: views[0].denominator: signal \"ever\" has no windows");
  EXPECT_EQ(view("signal: ever, denominator_signal: total"),
            "cfg.yaml:7: views[0].denominator: required (one of the windows of signal \"total\")");
  EXPECT_EQ(view("signal: ever, denominator_signal: total, denominator: 7d"),
            "cfg.yaml:7: views[0].denominator: signal \"total\" has no window \"7d\" (it has 1d)");
  EXPECT_EQ(view("signal: total, numerator: 1d, denominator_signal: ever, share: true"),
            "cfg.yaml:7: views[0].signal: ratio needs a grouped signal (with group_by); \"total\" "
            "has none");
}

}  // namespace
}  // namespace signalbox
