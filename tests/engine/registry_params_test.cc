// The aggregator and view registries keep the parameters each kind declares, and building a
// signal or view refuses any other key before the kind's factory sees the config.

#include <gtest/gtest.h>

#include <stdexcept>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/error.h"
#include "signalbox/view/view.h"

namespace signalbox {
namespace {

// A signal of `aggregator` with `params`, each written on its own line from line 3.
SignalConfig signal_config(const std::string& aggregator,
                           const std::vector<std::pair<std::string, std::string>>& params) {
  SignalConfig c;
  c.name = "s";
  c.aggregator = aggregator;
  c.where = {"cfg.yaml", 2, "signals[0]"};
  int line = 3;
  for (const auto& [key, text] : params)
    c.params[key] = ConfigParam{text, {"cfg.yaml", line++, "signals[0]"}};
  return c;
}

std::string build_error(const SignalConfig& config) {
  try {
    Signal signal(config, FeatureNames());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// Counts its factory's calls: a refused key must stop the build before the factory runs.
int factory_calls = 0;

class Constant final : public AggregatorOf<int> {
 public:
  void fold(int&, const MaterializedEvent&, double) const override {}
  void merge(int&, const int&) const override {}
  Value result(const int&, TimeMs) const override { return Value(1.0); }
  void encode(const int&, ByteWriter&) const override {}
  int decode(ByteReader&) const override { return 0; }
};

TEST(RegistryParams, EveryBuiltInDeclaresItsParametersWithAMeaning) {
  for (const std::string& name : aggregator_names()) {
    std::optional<ParamSpecs> params = aggregator_params(name);
    ASSERT_TRUE(params) << name;
    for (const ParamSpec& p : *params) EXPECT_FALSE(p.meaning.empty()) << name << "." << p.name;
  }
  for (const std::string& name : view_names()) {
    std::optional<ParamSpecs> params = view_params(name);
    ASSERT_TRUE(params) << name;
    for (const ParamSpec& p : *params) EXPECT_FALSE(p.meaning.empty()) << name << "." << p.name;
  }
  ASSERT_TRUE(aggregator_params("last_k"));
  ASSERT_EQ(aggregator_params("last_k")->size(), 1u);
  EXPECT_EQ(aggregator_params("last_k")->at(0).name, "k");
  EXPECT_EQ(aggregator_params("decayed_count")->at(0).name, "half_life");
  EXPECT_TRUE(aggregator_params("count")->empty());
  EXPECT_EQ(view_params("top_k")->at(0).name, "k");
  EXPECT_EQ(view_params("last_session")->at(0).name, "gap");
  EXPECT_FALSE(aggregator_params("no_such_aggregator"));
  EXPECT_FALSE(view_params("no_such_view"));
}

TEST(RegistryParams, AnUndeclaredKeyIsRefusedBeforeTheFactoryRuns) {
  register_aggregator("test_constant",
                      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
                        ++factory_calls;
                        c.param_int("limit", 5);
                        return std::make_unique<Constant>();
                      },
                      {{"limit", "an optional bound"}});

  factory_calls = 0;
  EXPECT_EQ(build_error(signal_config("test_constant", {})), "(no error)");
  EXPECT_EQ(build_error(signal_config("test_constant", {{"limit", "3"}})), "(no error)");
  EXPECT_EQ(factory_calls, 2);

  // An optional parameter misspelt would silently take its default.
  EXPECT_EQ(build_error(signal_config("test_constant", {{"limt", "3"}})),
            "cfg.yaml:3: signals[0].limt: unknown key for aggregator test_constant (did you mean "
            "limit?)");
  EXPECT_EQ(build_error(signal_config("test_constant", {{"limit", "3"}, {"windws", "1d"}})),
            "cfg.yaml:4: signals[0].windws: unknown key for aggregator test_constant (did you "
            "mean windows?)");
  EXPECT_EQ(build_error(signal_config("test_constant", {{"colour", "red"}})),
            "cfg.yaml:3: signals[0].colour: unknown key for aggregator test_constant (expected "
            "limit, name, aggregator, group_by, value, actions or windows)");
  EXPECT_EQ(factory_calls, 2);

  // The built-ins the same way.
  EXPECT_EQ(build_error(signal_config("count", {{"action", "purchase"}})),
            "cfg.yaml:3: signals[0].action: unknown key for aggregator count (did you mean "
            "actions?)");
  EXPECT_EQ(build_error(signal_config("decayed_count", {{"half_life", "7d"}, {"k", "5"}})),
            "cfg.yaml:4: signals[0].k: unknown key for aggregator decayed_count (expected "
            "half_life, name, aggregator, group_by, value, actions or windows)");
  // An unknown aggregator is named as such, whatever its parameters.
  EXPECT_NE(build_error(signal_config("no_such", {{"x", "1"}}))
                .find("signals[0].aggregator: unknown aggregator \"no_such\""),
            std::string::npos);
}

TEST(RegistryParams, AParameterNamedLikeAKeyOfEveryEntryCannotBeDeclared) {
  auto factory = [](const AggregatorContext&) -> std::unique_ptr<Aggregator> {
    return std::make_unique<Constant>();
  };
  for (const char* taken : {"name", "aggregator", "group_by", "value", "actions", "windows"}) {
    EXPECT_THROW(register_aggregator("test_taken", factory, {{taken, "x"}}), std::invalid_argument)
        << taken;
  }
  EXPECT_FALSE(aggregator_params("test_taken"));
  auto view_factory = [](const ViewContext&) -> std::unique_ptr<View> { return nullptr; };
  for (const char* taken : {"name", "signal", "window", "transform"}) {
    EXPECT_THROW(register_view("test_taken", view_factory, {{taken, "x"}}), std::invalid_argument)
        << taken;
  }
  EXPECT_FALSE(view_params("test_taken"));
}

}  // namespace
}  // namespace signalbox
