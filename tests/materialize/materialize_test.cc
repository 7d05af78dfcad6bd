#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "signalbox/common/error.h"
#include "signalbox/materialize/materializer.h"
#include "signalbox/materialize/source.h"
#include "signalbox/materialize/sources/table_source.h"

namespace signalbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;
using Floats = std::vector<float>;

// A folder of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("signalbox_materialize_") + info->test_suite_name() + "_" + info->name() +
             "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

SourceConfig table_config(const std::string& name, const std::filesystem::path& path,
                          const std::string& key = "item_id") {
  SourceConfig c;
  c.name = name;
  c.kind = "table";
  c.path = path;
  c.key = key;
  c.where = {"demo.yaml", 7};
  return c;
}

FeatureConfig feature(const std::string& name, const std::string& source, const std::string& key,
                      const std::string& field, FeatureType type = FeatureType::kStrings,
                      int line = 20) {
  FeatureConfig f;
  f.name = name;
  f.source = source;
  f.key = key;
  f.field = field;
  f.type = type;
  f.where = {"demo.yaml", line};
  return f;
}

Event event(std::uint64_t user, std::optional<std::string> item_id, std::string id = "e") {
  Event e;
  e.user_id = user;
  e.ts = 1'700'000'000'000;
  e.action = "click";
  e.event_id = std::move(id);
  e.item_id = std::move(item_id);
  return e;
}

std::string config_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return "";
}

// A source that answers from a map and records every call, for checking how the
// Materializer batches. A key answers each field with {"<field>:<value>"}.
class RecordingSource : public Source {
 public:
  struct Call {
    Strings keys;
    Strings fields;
  };

  explicit RecordingSource(std::map<std::string, std::string> rows) : rows_(std::move(rows)) {}

  void check_field(const FieldRequest&, const ConfigLocation&) const override {}

  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override {
    Call call;
    call.keys.assign(keys.begin(), keys.end());
    for (const auto& f : fields) call.fields.push_back(f.field);
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call);
    }
    std::vector<std::vector<FeatureValue>> out(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
      out[k].resize(fields.size());
      auto it = rows_.find(keys[k]);
      if (it == rows_.end()) continue;
      for (std::size_t f = 0; f < fields.size(); ++f) {
        // The value itself for field "value": lets one source chain into the next.
        if (fields[f].field == "value")
          out[k][f] = Strings{it->second};
        else
          out[k][f] = Strings{fields[f].field + ":" + it->second};
      }
    }
    return out;
  }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::map<std::string, std::string> rows_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
};

class ThrowingSource : public Source {
 public:
  void check_field(const FieldRequest&, const ConfigLocation&) const override {}
  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string>,
                                                std::span<const FieldRequest>) override {
    throw std::runtime_error("backend down");
  }
};

// Answers one row fewer than asked: a broken source, which must count as a failure.
class ShortSource : public Source {
 public:
  void check_field(const FieldRequest&, const ConfigLocation&) const override {}
  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override {
    return std::vector<std::vector<FeatureValue>>(
        keys.size() - 1, std::vector<FeatureValue>(fields.size(), Strings{"x"}));
  }
};

const char kPins[] =
    "item_id\tcategories\tembedding\tprice\n"
    "p1\tfood|travel\t0.5,1.5,-2\t3.25\n"
    "p2\t\t\t\n"
    "p3\tdiy_crafts\t1e-1, 2 ,3\t7\n";

std::vector<FieldRequest> all_fields() {
  return {{"categories", FeatureType::kStrings},
          {"embedding", FeatureType::kVector},
          {"price", FeatureType::kNumber}};
}

// --- TableSource -----------------------------------------------------------------------------

TEST(TableSource, ParsesStringsVectorsAndNumbers) {
  TempDir dir;
  auto source = make_source(table_config("pins", dir.write("pins.tsv", kPins)));
  auto fields = all_fields();
  for (const auto& f : fields) source->check_field(f, {"demo.yaml", 20});

  Strings keys = {"p1", "p2", "p3", "nope"};
  auto rows = source->lookup(keys, fields);
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) ASSERT_EQ(row.size(), 3u);

  EXPECT_EQ(rows[0][0], FeatureValue(Strings{"food", "travel"}));
  EXPECT_EQ(rows[0][1], FeatureValue(Floats{0.5f, 1.5f, -2.0f}));
  EXPECT_EQ(rows[0][2], FeatureValue(3.25));

  // Empty cells: an empty list of strings, no vector, no number.
  EXPECT_EQ(rows[1][0], FeatureValue(Strings{}));
  EXPECT_EQ(rows[1][1], FeatureValue());
  EXPECT_EQ(rows[1][2], FeatureValue());

  EXPECT_EQ(rows[2][0], FeatureValue(Strings{"diy_crafts"}));
  EXPECT_EQ(rows[2][1], FeatureValue(Floats{0.1f, 2.0f, 3.0f}));
  EXPECT_EQ(rows[2][2], FeatureValue(7.0));

  // Unknown key: every feature empty.
  EXPECT_EQ(rows[3], std::vector<FeatureValue>(3));
}

TEST(TableSource, ToleratesCrlfBomBlankLinesAndSparseStrings) {
  TempDir dir;
  auto source = make_source(table_config(
      "pins", dir.write("pins.tsv", "\xef\xbb\xbfitem_id\tcats\r\np1\t|a||b|\r\n\r\np2\tc\r\n\n")));
  std::vector<FieldRequest> fields = {{"cats", FeatureType::kStrings}};
  source->check_field(fields[0], {});
  Strings keys = {"p1", "p2"};
  auto rows = source->lookup(keys, fields);
  EXPECT_EQ(rows[0][0], FeatureValue(Strings{"a", "b"}));
  EXPECT_EQ(rows[1][0], FeatureValue(Strings{"c"}));
  EXPECT_EQ(static_cast<TableSource&>(*source).rows(), 2u);
}

TEST(TableSource, KeyColumnNeedNotBeFirstAndCanBeReadAsAField) {
  TempDir dir;
  auto source = make_source(table_config("t", dir.write("t.tsv", "n\tid\n4\tx\n5\ty\n"), "id"));
  std::vector<FieldRequest> fields = {{"n", FeatureType::kNumber}, {"id", FeatureType::kStrings}};
  for (const auto& f : fields) source->check_field(f, {});
  Strings keys = {"y"};
  auto rows = source->lookup(keys, fields);
  EXPECT_EQ(rows[0][0], FeatureValue(5.0));
  EXPECT_EQ(rows[0][1], FeatureValue(Strings{"y"}));
}

TEST(TableSource, LoadErrorsNameTheConfigEntry) {
  TempDir dir;
  std::string missing =
      config_error([&] { make_source(table_config("pins", dir.path() / "no.tsv")); });
  EXPECT_THAT(missing, HasSubstr("demo.yaml:7: sources.pins.path:"));
  EXPECT_THAT(missing, HasSubstr("no.tsv"));

  std::string folder = config_error([&] { make_source(table_config("pins", dir.path())); });
  EXPECT_THAT(folder, HasSubstr("sources.pins.path:"));

  std::string empty =
      config_error([&] { make_source(table_config("pins", dir.write("e.tsv", ""))); });
  EXPECT_THAT(empty, HasSubstr("sources.pins.path:"));

  std::string no_key =
      config_error([&] { make_source(table_config("pins", dir.write("k.tsv", "id\tx\na\tb\n"))); });
  EXPECT_THAT(no_key, HasSubstr("demo.yaml:7: sources.pins.key:"));
  EXPECT_THAT(no_key, HasSubstr("\"item_id\""));
  EXPECT_THAT(no_key, HasSubstr("columns: id, x"));

  SourceConfig unknown = table_config("pins", dir.write("u.tsv", kPins));
  unknown.kind = "redis";
  EXPECT_THAT(
      config_error([&] { make_source(unknown); }),
      HasSubstr("demo.yaml:7: sources.pins.kind: unknown source kind \"redis\" (known: table)"));
}

TEST(TableSource, RowErrorsNameTheTsvLine) {
  TempDir dir;
  auto path = dir.write("cells.tsv", "item_id\ta\np1\tx\np2\n");
  std::string cells = config_error([&] { make_source(table_config("pins", path)); });
  EXPECT_THAT(cells, HasSubstr(path.string() + ":3:"));
  EXPECT_THAT(cells, HasSubstr("1 cells where the header has 2"));

  path = dir.write("dup.tsv", "item_id\ta\np1\tx\np2\ty\np1\tz\n");
  std::string dup = config_error([&] { make_source(table_config("pins", path)); });
  EXPECT_THAT(dup, HasSubstr(path.string() + ":4:"));
  EXPECT_THAT(dup, HasSubstr("duplicate key \"p1\" (first on line 2)"));

  path = dir.write("emptykey.tsv", "item_id\ta\n\tx\n");
  EXPECT_THAT(config_error([&] { make_source(table_config("pins", path)); }),
              HasSubstr(path.string() + ":2:"));

  path = dir.write("header.tsv", "item_id\ta\ta\n");
  EXPECT_THAT(config_error([&] { make_source(table_config("pins", path)); }),
              HasSubstr("column \"a\" appears twice"));
}

TEST(TableSource, FieldErrorsNameTheTsvLineOrTheFeature) {
  TempDir dir;
  auto path = dir.write("pins.tsv",
                        "item_id\temb\tprice\tcats\n"
                        "p1\t1,2\t1\ta\n"
                        "p2\t\t\tb\n"
                        "p3\t1,2,3\tcheap\tc\n"
                        "p4\t1,x\t2\td\n");
  auto source = make_source(table_config("pins", path));
  ConfigLocation where{"demo.yaml", 21};

  std::string length = config_error([&] {
    source->check_field({"emb", FeatureType::kVector}, where);
  });
  EXPECT_THAT(length, HasSubstr(path.string() + ":4: emb:"));
  EXPECT_THAT(length, HasSubstr("3 values where line 2 has 2"));
  EXPECT_THAT(length, HasSubstr("demo.yaml:21"));

  std::string number = config_error([&] {
    source->check_field({"price", FeatureType::kNumber}, where);
  });
  EXPECT_THAT(number, HasSubstr(path.string() + ":4: price:"));
  EXPECT_THAT(number, HasSubstr("\"cheap\""));

  std::string strings_as_vector = config_error([&] {
    source->check_field({"cats", FeatureType::kVector}, where);
  });
  EXPECT_THAT(strings_as_vector, HasSubstr(path.string() + ":2: cats:"));

  std::string column = config_error([&] {
    source->check_field({"colour", FeatureType::kStrings}, where);
  });
  EXPECT_THAT(column, HasSubstr("demo.yaml:21: field:"));
  EXPECT_THAT(column, HasSubstr("no column \"colour\""));

  // Any column reads as strings.
  source->check_field({"emb", FeatureType::kStrings}, where);
  source->check_field({"price", FeatureType::kStrings}, where);

  // A field check_field refused is a lookup failure, not a crash.
  Strings keys = {"p1"};
  std::vector<FieldRequest> bad = {{"emb", FeatureType::kVector}};
  EXPECT_THROW(source->lookup(keys, bad), std::invalid_argument);

  auto bad_float = dir.write("f.tsv", "item_id\temb\np1\t1,nan\n");
  auto nan_source = make_source(table_config("pins", bad_float));
  EXPECT_THAT(config_error([&] {
                nan_source->check_field({"emb", FeatureType::kVector}, where);
              }),
              HasSubstr(bad_float.string() + ":2: emb:"));
}

// --- Materializer -----------------------------------------------------------------------------

TEST(Materializer, MaterializesFromATable) {
  TempDir dir;
  Config config;
  config.sources.push_back(table_config("pins", dir.write("pins.tsv", kPins)));
  config.features.push_back(feature("pin.categories", "pins", "item_id", "categories"));
  config.features.push_back(
      feature("pin.embedding", "pins", "item_id", "embedding", FeatureType::kVector));
  config.features.push_back(feature("pin.price", "pins", "item_id", "price", FeatureType::kNumber));
  Materializer m(config);

  ASSERT_EQ(m.feature_names().size(), 3u);
  EXPECT_EQ(m.feature_names().name(0), "pin.categories");
  EXPECT_EQ(m.feature_names().name(2), "pin.price");

  std::vector<Event> events = {event(1, "p1", "a"), event(2, "unknown", "b"),
                               event(3, std::nullopt, "c"), event(4, "p3", "d")};
  std::vector<Event> copy = events;
  auto out = m.materialize(std::move(events));
  ASSERT_EQ(out.size(), 4u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].event, copy[i]);
    ASSERT_EQ(out[i].features.size(), 3u);
  }
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"food", "travel"}));
  EXPECT_EQ(out[0].features[1], FeatureValue(Floats{0.5f, 1.5f, -2.0f}));
  EXPECT_EQ(out[0].features[2], FeatureValue(3.25));
  EXPECT_EQ(out[1].features, std::vector<FeatureValue>(3));  // unknown key
  EXPECT_EQ(out[2].features, std::vector<FeatureValue>(3));  // no item_id
  EXPECT_EQ(out[3].features[0], FeatureValue(Strings{"diy_crafts"}));

  EXPECT_EQ(m.lookups().at("pins"), 1u);
  EXPECT_EQ(m.failures().at("pins"), 0u);
  EXPECT_TRUE(m.materialize({}).empty());
  EXPECT_EQ(m.lookups().at("pins"), 1u);
}

TEST(Materializer, OneLookupPerSourcePerBatchWithDeduplicatedKeys) {
  Config config;
  config.features.push_back(feature("pin.a", "pins", "item_id", "a"));
  config.features.push_back(feature("pin.b", "pins", "item_id", "b"));
  config.features.push_back(feature("attr.c", "pins", "attrs.other", "c"));
  auto pins = std::make_unique<RecordingSource>(
      std::map<std::string, std::string>{{"x", "1"}, {"y", "2"}, {"z", "3"}});
  RecordingSource* recorder = pins.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["pins"] = std::move(pins);
  Materializer m(config, std::move(prebuilt));

  std::vector<Event> events = {event(1, "x"), event(2, "y"), event(1, "x"), event(3, std::nullopt),
                               event(4, "q")};
  events[3].attrs.push_back({"other", std::string("z")});
  events[4].attrs.push_back({"other", std::string("x")});
  auto out = m.materialize(std::move(events));

  auto calls = recorder->calls();
  ASSERT_EQ(calls.size(), 1u);
  // Keys in order of first appearance, each once, across all features of the source.
  EXPECT_THAT(calls[0].keys, ElementsAre("x", "y", "q", "z"));
  EXPECT_THAT(calls[0].fields, ElementsAre("a", "b", "c"));

  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"a:1"}));
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"b:1"}));
  EXPECT_EQ(out[0].features[2], FeatureValue());
  EXPECT_EQ(out[2].features[1], FeatureValue(Strings{"b:1"}));
  EXPECT_EQ(out[3].features[0], FeatureValue());
  EXPECT_EQ(out[3].features[2], FeatureValue(Strings{"c:3"}));
  EXPECT_EQ(out[4].features[0], FeatureValue());  // "q" is unknown
  EXPECT_EQ(out[4].features[2], FeatureValue(Strings{"c:1"}));
  EXPECT_EQ(m.lookups().at("pins"), 1u);

  // A batch where nobody carries a key costs no call.
  m.materialize({event(5, std::nullopt)});
  EXPECT_EQ(recorder->calls().size(), 1u);
  m.materialize({event(5, "z")});
  EXPECT_EQ(m.lookups().at("pins"), 2u);
}

TEST(Materializer, DependentFeaturesRunInStages) {
  // pin -> board -> topic, and the topic's label from the pins source again.
  Config config;
  config.features.push_back(feature("pin.board", "pins", "item_id", "value"));
  config.features.push_back(feature("pin.title", "pins", "item_id", "title"));
  config.features.push_back(feature("board.topic", "boards", "pin.board", "value"));
  config.features.push_back(feature("topic.label", "pins", "board.topic", "label"));
  auto pins = std::make_unique<RecordingSource>(std::map<std::string, std::string>{
      {"p1", "b1"}, {"p2", "b2"}, {"p3", "b1"}, {"t1", "Cooking"}});
  auto boards = std::make_unique<RecordingSource>(
      std::map<std::string, std::string>{{"b1", "t1"}, {"b2", "t2"}});
  RecordingSource* pin_rec = pins.get();
  RecordingSource* board_rec = boards.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["pins"] = std::move(pins);
  prebuilt["boards"] = std::move(boards);
  Materializer m(config, std::move(prebuilt));

  auto out = m.materialize({event(1, "p1"), event(2, "p2"), event(3, "p3"), event(4, "p9")});

  auto pin_calls = pin_rec->calls();
  ASSERT_EQ(pin_calls.size(), 2u);
  EXPECT_THAT(pin_calls[0].keys, ElementsAre("p1", "p2", "p3", "p9"));
  EXPECT_THAT(pin_calls[0].fields, ElementsAre("value", "title"));
  EXPECT_THAT(pin_calls[1].keys, ElementsAre("t1", "t2"));
  EXPECT_THAT(pin_calls[1].fields, ElementsAre("label"));
  auto board_calls = board_rec->calls();
  ASSERT_EQ(board_calls.size(), 1u);
  EXPECT_THAT(board_calls[0].keys, ElementsAre("b1", "b2"));

  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"b1"}));
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"title:b1"}));
  EXPECT_EQ(out[0].features[2], FeatureValue(Strings{"t1"}));
  EXPECT_EQ(out[0].features[3], FeatureValue(Strings{"label:Cooking"}));
  EXPECT_EQ(out[1].features[2], FeatureValue(Strings{"t2"}));
  EXPECT_EQ(out[1].features[3], FeatureValue());  // t2 has no row
  EXPECT_EQ(out[3].features, std::vector<FeatureValue>(4));
  EXPECT_EQ(m.lookups().at("pins"), 2u);
  EXPECT_EQ(m.lookups().at("boards"), 1u);
}

TEST(Materializer, MultiValuedKeyUsesItsFirstValue) {
  TempDir dir;
  Config config;
  config.sources.push_back(table_config("pins", dir.write("pins.tsv", kPins)));
  config.features.push_back(feature("pin.categories", "pins", "item_id", "categories"));
  config.features.push_back(feature("category.info", "cats", "pin.categories", "info"));
  auto cats = std::make_unique<RecordingSource>(
      std::map<std::string, std::string>{{"food", "yum"}, {"travel", "far"}});
  RecordingSource* rec = cats.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["cats"] = std::move(cats);
  Materializer m(config, std::move(prebuilt));

  auto out = m.materialize({event(1, "p1"), event(2, "p2")});
  ASSERT_EQ(rec->calls().size(), 1u);
  EXPECT_THAT(rec->calls()[0].keys, ElementsAre("food"));
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"info:yum"}));
  EXPECT_EQ(out[1].features[1], FeatureValue());  // p2 has no categories
}

TEST(Materializer, FailingSourceLeavesItsFeaturesEmptyAndCounts) {
  Config config;
  config.features.push_back(feature("bad.a", "bad", "item_id", "a"));
  config.features.push_back(feature("good.a", "good", "item_id", "a"));
  config.features.push_back(feature("bad.b", "bad", "item_id", "b"));
  config.features.push_back(feature("short.a", "short", "item_id", "a"));
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["bad"] = std::make_unique<ThrowingSource>();
  prebuilt["good"] =
      std::make_unique<RecordingSource>(std::map<std::string, std::string>{{"x", "1"}});
  prebuilt["short"] = std::make_unique<ShortSource>();
  Materializer m(config, std::move(prebuilt));

  std::vector<MaterializedEvent> out;
  ASSERT_NO_THROW(out = m.materialize({event(1, "x"), event(2, "y")}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].features[0], FeatureValue());
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"a:1"}));
  EXPECT_EQ(out[0].features[2], FeatureValue());
  EXPECT_EQ(out[0].features[3], FeatureValue());
  EXPECT_EQ(out[0].event.item_id, "x");

  m.materialize({event(3, "x")});
  EXPECT_EQ(m.failures().at("bad"), 2u);
  EXPECT_EQ(m.failures().at("short"), 2u);
  EXPECT_EQ(m.failures().at("good"), 0u);
  EXPECT_EQ(m.lookups().at("bad"), 2u);
  EXPECT_EQ(m.lookups().at("good"), 2u);
}

TEST(Materializer, ConfigErrorsNameTheFeature) {
  TempDir dir;
  Config base;
  base.sources.push_back(table_config("pins", dir.write("pins.tsv", kPins)));

  Config later = base;
  later.features.push_back(feature("a", "pins", "b", "categories", FeatureType::kStrings, 30));
  later.features.push_back(
      feature("b", "pins", "item_id", "categories", FeatureType::kStrings, 31));
  std::string later_msg = config_error([&] { Materializer m(later); });
  EXPECT_THAT(later_msg, HasSubstr("demo.yaml:30: features[0].key:"));
  EXPECT_THAT(later_msg, HasSubstr("earlier"));

  Config self = base;
  self.features.push_back(feature("a", "pins", "a", "categories", FeatureType::kStrings, 30));
  EXPECT_THAT(config_error([&] { Materializer m(self); }), HasSubstr("features[0].key:"));

  Config unknown_ref = base;
  unknown_ref.features.push_back(feature("a", "pins", "nothing", "categories"));
  EXPECT_THAT(config_error([&] { Materializer m(unknown_ref); }), HasSubstr("features[0].key:"));

  Config vector_key = base;
  vector_key.features.push_back(feature("e", "pins", "item_id", "embedding", FeatureType::kVector));
  vector_key.features.push_back(feature("f", "pins", "e", "categories", FeatureType::kStrings, 33));
  EXPECT_THAT(config_error([&] { Materializer m(vector_key); }),
              HasSubstr("demo.yaml:33: features[1].key:"));

  Config unknown_source = base;
  unknown_source.features.push_back(
      feature("a", "boards", "item_id", "x", FeatureType::kStrings, 40));
  EXPECT_THAT(config_error([&] { Materializer m(unknown_source); }),
              HasSubstr("demo.yaml:40: features[0].source: unknown source \"boards\""));

  Config bad_field = base;
  bad_field.features.push_back(
      feature("a", "pins", "item_id", "colour", FeatureType::kStrings, 41));
  EXPECT_THAT(config_error([&] { Materializer m(bad_field); }), HasSubstr("demo.yaml:41:"));

  Config bad_kind = base;
  bad_kind.sources[0].kind = "fasttext";
  EXPECT_THAT(config_error([&] { Materializer m(bad_kind); }),
              HasSubstr("sources.pins.kind: unknown source kind \"fasttext\""));
}

TEST(Materializer, ConcurrentBatches) {
  TempDir dir;
  Config config;
  config.sources.push_back(table_config("pins", dir.write("pins.tsv", kPins)));
  config.features.push_back(feature("pin.categories", "pins", "item_id", "categories"));
  Materializer m(config);

  constexpr int kThreads = 4;
  constexpr int kBatches = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        auto out = m.materialize({event(t, "p1"), event(t, "p3"), event(t, "p1")});
        if (out[0].features[0] != FeatureValue(Strings{"food", "travel"}) ||
            out[1].features[0] != FeatureValue(Strings{"diy_crafts"}) ||
            out[2].features[0] != out[0].features[0]) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(m.lookups().at("pins"), std::uint64_t{kThreads * kBatches});
}

}  // namespace
}  // namespace signalbox
