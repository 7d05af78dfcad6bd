// The fasttext source with a tiny model trained at test time from data/queries.txt.

#include "signalbox/materialize/sources/fasttext_source.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "signalbox/common/error.h"
#include "signalbox/materialize/materializer.h"
#include "support.h"

namespace signalbox {
namespace {

using ::testing::HasSubstr;
using Strings = std::vector<std::string>;

SourceConfig fasttext_config(const std::filesystem::path& model) {
  SourceConfig c;
  c.name = "queries";
  c.kind = "fasttext";
  c.model = model;
  c.where = {"demo.yaml", 3};
  return c;
}

class FastTextSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::have_program("fasttext")) return;
    dir_ = new testing::TempDir("fasttext_source");
    model_ = testing::train_query_model(dir_->path(), error_).value_or("");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!testing::have_program("fasttext")) {
      GTEST_SKIP() << "the fasttext CLI is not installed (Debian package fasttext); it trains "
                      "the model these tests use";
    }
    ASSERT_FALSE(model_.empty()) << error_;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::filesystem::path model_;
  static inline std::string error_;
};

TEST_F(FastTextSourceTest, PredictsCategoriesWithoutThePrefix) {
  auto source = FastTextSource::load(fasttext_config(model_));
  source->check_field({"", FeatureType::kStrings, 2, 0.1}, {"demo.yaml", 20});

  auto labels = source->predict("easy pasta recipes", 3, 0.0);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].first, "food");
  EXPECT_GT(labels[0].second, 0.5f);
  EXPECT_GE(labels[0].second, labels[1].second);

  Strings keys = {"cheap flights to rome", "wireless headphones review", "  ", "vintage dress"};
  std::vector<FieldRequest> fields = {{"", FeatureType::kStrings, 1, 0.0},
                                      {"", FeatureType::kStrings, 6, 0.0},
                                      {"", FeatureType::kStrings, 6, 0.99}};
  auto rows = source->lookup(keys, fields);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], FeatureValue(Strings{"travel"}));
  EXPECT_EQ(rows[1][0], FeatureValue(Strings{"tech"}));
  EXPECT_EQ(rows[3][0], FeatureValue(Strings{"fashion"}));
  EXPECT_EQ(std::get<Strings>(rows[0][1]).size(), 6u);  // top 6 of 6 labels
  EXPECT_EQ(std::get<Strings>(rows[0][1])[0], "travel");
  EXPECT_TRUE(std::get<Strings>(rows[0][2]).empty());  // nothing is that sure
  EXPECT_EQ(rows[2][0], FeatureValue(Strings{}));      // a blank query has no category
}

TEST_F(FastTextSourceTest, ConcurrentLookupsAgree) {
  auto source = FastTextSource::load(fasttext_config(model_));
  Strings keys = {"easy pasta recipes", "beginner hiit workout", "cozy bedroom decor",
                  "cheap flights to rome", "gaming laptop deals"};
  std::vector<FieldRequest> fields = {{"", FeatureType::kStrings, 3, 0.05}};
  auto expected = source->lookup(keys, fields);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        if (source->lookup(keys, fields) != expected) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(FastTextSourceTest, MaterializerUsesTopAndMinProb) {
  Config config;
  config.sources.push_back(fasttext_config(model_));
  FeatureConfig f;
  f.name = "query.categories";
  f.source = "queries";
  f.key = "query";
  f.top = 2;
  f.min_prob = 0.3;
  f.where = {"demo.yaml", 20};
  config.features.push_back(f);
  Materializer m(config);

  Event e;
  e.user_id = 1;
  e.ts = 1'700'000'000'000;
  e.action = "search";
  e.event_id = "a";
  e.query = "quick chicken curry for dinner";
  Event none = e;
  none.event_id = "b";
  none.query.reset();
  auto out = m.materialize({e, none});
  ASSERT_TRUE(std::holds_alternative<Strings>(out[0].features[0]));
  const Strings& labels = std::get<Strings>(out[0].features[0]);
  ASSERT_FALSE(labels.empty());
  EXPECT_LE(labels.size(), 2u);
  EXPECT_EQ(labels[0], "food");
  EXPECT_EQ(out[1].features[0], FeatureValue());
}

TEST(FastTextSourceConfig, LoadErrorsNameTheModel) {
  testing::TempDir dir;
  auto missing = dir.path() / "none.bin";
  try {
    FastTextSource::load(fasttext_config(missing));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("demo.yaml:3: sources.queries.model:"));
    EXPECT_THAT(e.what(), HasSubstr("none.bin"));
  }
  auto junk = dir.write("junk.bin", "this is not a fastText model");
  try {
    FastTextSource::load(fasttext_config(junk));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sources.queries.model: cannot load"));
  }
}

}  // namespace
}  // namespace signalbox
