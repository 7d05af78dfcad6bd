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

#include "config_error.h"
#include "signalbox/common/error.h"
#include "signalbox/materialize/materializer.h"
#include "signalbox/materialize/source.h"
#include "signalbox/materialize/sources/table_source.h"
#include "support.h"

namespace signalbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;
using Floats = std::vector<float>;

using testing::TempDir;

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

using testing::config_error;

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
  unknown.kind = "csv";
  std::string kind = config_error([&] { make_source(unknown); });
  EXPECT_THAT(kind, HasSubstr("demo.yaml:7: sources.pins.kind: unknown source kind \"csv\" "
                              "(known: "));
  for (const char* known : {"fasttext", "redis", "table"}) EXPECT_THAT(kind, HasSubstr(known));

  SourceConfig extra = table_config("pins", dir.write("x.tsv", kPins));
  extra.params["colour"] = {"red", {"demo.yaml", 9}};
  EXPECT_EQ(config_error([&] { make_source(extra); }),
            "demo.yaml:9: sources.pins.colour: unknown key for a table source (expected "
            "cache_bytes, cache_ttl, timeout, backoff, reload_interval, kind, path or key)");
  // A table takes no model, so a near miss of `model` is not suggested; `pth` is `path`.
  extra.params.clear();
  extra.params["pth"] = {"x.tsv", {"demo.yaml", 10}};
  EXPECT_EQ(config_error([&] { make_source(extra); }),
            "demo.yaml:10: sources.pins.pth: unknown key for a table source (did you mean "
            "path?)");
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
  bad_kind.sources[0].kind = "no_such_kind";
  EXPECT_THAT(config_error([&] { Materializer m(bad_kind); }),
              HasSubstr("sources.pins.kind: unknown source kind \"no_such_kind\""));
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

// --- Execution: concurrency, timeouts, backoff, cache, reloads ------------------------------

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// A source that sleeps `delay` per call and answers each key with {"<key>"} for every field
// ("?"-prefixed keys are unknown). Records each call's keys and when it ran.
class SlowSource : public Source {
 public:
  struct Call {
    Strings keys;
    Clock::time_point start, end;
  };

  explicit SlowSource(milliseconds delay, bool remote = false) : remote_(remote) {
    delay_ms = delay.count();
  }

  void check_field(const FieldRequest&, const ConfigLocation&) const override {}
  bool remote() const override { return remote_; }

  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override {
    Call call;
    call.keys.assign(keys.begin(), keys.end());
    call.start = Clock::now();
    std::this_thread::sleep_for(milliseconds(delay_ms.load()));
    call.end = Clock::now();
    {
      std::lock_guard lock(mu_);
      calls_.push_back(call);
    }
    if (fail.load()) throw std::runtime_error("backend down");
    std::vector<std::vector<FeatureValue>> out(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
      out[k].resize(fields.size());
      if (keys[k].starts_with("?")) continue;
      for (auto& v : out[k]) v = Strings{keys[k]};
    }
    return out;
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  std::atomic<bool> fail{false};
  std::atomic<long> delay_ms{0};

 private:
  bool remote_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
};

std::unique_ptr<SlowSource> slow_source(milliseconds delay, bool remote = false) {
  return std::make_unique<SlowSource>(delay, remote);
}

// A config entry for a prebuilt source: only its common parameters matter.
SourceConfig params_for(const std::string& name, std::map<std::string, std::string> params) {
  SourceConfig c;
  c.name = name;
  c.kind = "test";
  c.where = {"demo.yaml", 8};
  for (auto& [k, v] : params) c.params[k] = ConfigParam{v, {"demo.yaml", 9}};
  return c;
}

// A clock that moves only when told.
class ManualClock {
 public:
  ClockFn fn() const {
    auto t = t_;
    return [t] { return Clock::time_point(Clock::duration(t->load())); };
  }
  void advance(Clock::duration d) { t_->fetch_add(d.count()); }

 private:
  std::shared_ptr<std::atomic<Clock::rep>> t_ =
      std::make_shared<std::atomic<Clock::rep>>(Clock::now().time_since_epoch().count());
};

const SourceStats& stats_of(const std::vector<SourceStats>& all, const std::string& name) {
  for (const auto& s : all) {
    if (s.source == name) return s;
  }
  throw std::out_of_range(name);
}

TEST(MaterializerExecution, SourcesOfOneStageRunConcurrently) {
  Config config;
  config.features.push_back(feature("a.v", "a", "item_id", "v"));
  config.features.push_back(feature("b.v", "b", "item_id", "v"));
  auto a = slow_source(milliseconds(300));
  auto b = slow_source(milliseconds(300));
  SlowSource* ra = a.get();
  SlowSource* rb = b.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["a"] = std::move(a);
  prebuilt["b"] = std::move(b);
  Materializer m(config, std::move(prebuilt));

  auto start = Clock::now();
  auto out = m.materialize({event(1, "x"), event(2, "y"), event(3, "x")});
  double took = elapsed_ms(start);
  EXPECT_GE(took, 290);
  EXPECT_LT(took, 520) << "two 300 ms sources of one stage should overlap, not add up";
  ASSERT_EQ(ra->calls().size(), 1u);
  ASSERT_EQ(rb->calls().size(), 1u);
  EXPECT_THAT(ra->calls()[0].keys, ElementsAre("x", "y"));
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"x"}));
  EXPECT_EQ(out[1].features[1], FeatureValue(Strings{"y"}));
  EXPECT_EQ(out[2].features[1], FeatureValue(Strings{"x"}));
}

TEST(MaterializerExecution, LaterStagesWaitForTheirDependencies) {
  Config config;
  config.features.push_back(feature("a.v", "a", "item_id", "v"));
  config.features.push_back(feature("b.v", "b", "item_id", "v"));
  config.features.push_back(feature("c.v", "c", "b.v", "v"));  // stage 1: keyed by b's output
  auto a = slow_source(milliseconds(50));
  auto b = slow_source(milliseconds(150));
  auto c = slow_source(milliseconds(10));
  SlowSource* rb = b.get();
  SlowSource* rc = c.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["a"] = std::move(a);
  prebuilt["b"] = std::move(b);
  prebuilt["c"] = std::move(c);
  Materializer m(config, std::move(prebuilt));

  auto out = m.materialize({event(1, "x"), event(2, "y")});
  ASSERT_EQ(rc->calls().size(), 1u);
  EXPECT_THAT(rc->calls()[0].keys, ElementsAre("x", "y"));
  EXPECT_GE(rc->calls()[0].start, rb->calls()[0].end);
  EXPECT_EQ(out[1].features[2], FeatureValue(Strings{"y"}));
}

TEST(MaterializerExecution, ASourcePastItsTimeoutIsAbandonedAndCounted) {
  Config config;
  config.sources.push_back(params_for("slow", {{"timeout", "50ms"}}));
  config.features.push_back(feature("slow.v", "slow", "item_id", "v"));
  config.features.push_back(feature("fast.v", "fast", "item_id", "v"));
  auto slow = slow_source(milliseconds(600));
  SlowSource* rs = slow.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["slow"] = std::move(slow);
  prebuilt["fast"] = slow_source(milliseconds(0));
  Materializer m(config, std::move(prebuilt));

  auto start = Clock::now();
  auto out = m.materialize({event(1, "x"), event(2, "y"), event(3, std::nullopt)});
  double took = elapsed_ms(start);
  EXPECT_GE(took, 45);
  EXPECT_LT(took, 300) << "the batch should go on at the 50 ms timeout";
  EXPECT_EQ(out[0].features[0], FeatureValue());
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"x"}));
  EXPECT_EQ(out[1].features[1], FeatureValue(Strings{"y"}));

  auto stats = m.stats();
  EXPECT_EQ(stats_of(stats, "slow").timeouts, 1u);
  EXPECT_EQ(stats_of(stats, "slow").failures, 0u);
  EXPECT_EQ(stats_of(stats, "slow").degraded_events, 2u);  // the event without a key lost nothing
  EXPECT_EQ(stats_of(stats, "fast").timeouts, 0u);
  EXPECT_EQ(stats_of(stats, "fast").degraded_events, 0u);

  // A second call is abandoned too; with two still running, the source is skipped outright.
  m.materialize({event(1, "x")});
  start = Clock::now();
  out = m.materialize({event(1, "x")});
  EXPECT_LT(elapsed_ms(start), 40);
  EXPECT_EQ(out[0].features[0], FeatureValue());
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"x"}));
  stats = m.stats();
  EXPECT_EQ(stats_of(stats, "slow").timeouts, 2u);
  EXPECT_EQ(stats_of(stats, "slow").skipped, 1u);
  EXPECT_EQ(stats_of(stats, "slow").lookups, 2u);
  EXPECT_EQ(stats_of(stats, "slow").degraded_events, 4u);

  // Once the abandoned calls are back, the source is asked again.
  for (int i = 0; i < 200 && rs->calls().size() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(20));
  rs->delay_ms = 0;
  out = m.materialize({event(1, "x")});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"x"}));
  EXPECT_EQ(stats_of(m.stats(), "slow").lookups, 3u);
}

TEST(MaterializerExecution, RemoteSourcesGetATimeoutAndACacheByDefault) {
  Config config;
  config.sources.push_back(params_for("nocache", {{"cache_bytes", "0"}, {"timeout", "none"}}));
  config.features.push_back(feature("remote.v", "remote", "item_id", "v"));
  config.features.push_back(feature("local.v", "local", "item_id", "v"));
  config.features.push_back(feature("nocache.v", "nocache", "item_id", "v"));
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["remote"] = slow_source(milliseconds(300), /*remote=*/true);
  prebuilt["local"] = slow_source(milliseconds(0));
  prebuilt["nocache"] = slow_source(milliseconds(100), /*remote=*/true);
  Materializer m(config, std::move(prebuilt));

  auto out = m.materialize({event(1, "x")});
  EXPECT_EQ(out[0].features[0], FeatureValue());              // past the 50 ms default
  EXPECT_EQ(out[0].features[2], FeatureValue(Strings{"x"}));  // no timeout at all
  auto stats = m.stats();
  EXPECT_EQ(stats_of(stats, "remote").timeouts, 1u);
  EXPECT_TRUE(stats_of(stats, "remote").cached);
  EXPECT_EQ(stats_of(stats, "remote").cache.capacity_bytes, 64u << 20);
  EXPECT_FALSE(stats_of(stats, "local").cached);
  EXPECT_FALSE(stats_of(stats, "nocache").cached);
  EXPECT_EQ(stats_of(stats, "nocache").timeouts, 0u);
}

TEST(MaterializerExecution, FailingSourceBacksOffThenIsTriedAgain) {
  ManualClock clock;
  Config config;
  config.sources.push_back(params_for("bad", {{"backoff", "2s"}}));
  config.features.push_back(feature("bad.v", "bad", "item_id", "v"));
  auto bad = slow_source(milliseconds(0));
  SlowSource* rb = bad.get();
  rb->fail = true;
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["bad"] = std::move(bad);
  MaterializerOptions options;
  options.clock = clock.fn();
  Materializer m(config, std::move(prebuilt), options);

  for (int i = 0; i < 3; ++i) m.materialize({event(1, "x")});
  EXPECT_EQ(rb->calls().size(), 3u);
  auto out = m.materialize({event(1, "x"), event(2, "y")});
  EXPECT_EQ(rb->calls().size(), 3u) << "skipped while backing off";
  EXPECT_EQ(out[0].features[0], FeatureValue());
  auto s = stats_of(m.stats(), "bad");
  EXPECT_EQ(s.failures, 3u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.degraded_events, 5u);
  EXPECT_TRUE(s.backing_off);

  clock.advance(std::chrono::milliseconds(2100));
  m.materialize({event(1, "x")});  // one try after the backoff; it fails: back off again
  EXPECT_EQ(rb->calls().size(), 4u);
  m.materialize({event(1, "x")});
  EXPECT_EQ(rb->calls().size(), 4u);

  rb->fail = false;
  clock.advance(std::chrono::milliseconds(2100));
  out = m.materialize({event(1, "x")});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"x"}));
  EXPECT_FALSE(stats_of(m.stats(), "bad").backing_off);
}

TEST(MaterializerExecution, CacheServesRepeatsAndMissesOnlyWhatItLacks) {
  ManualClock clock;
  Config config;
  config.sources.push_back(params_for("remote", {{"cache_ttl", "10m"}, {"timeout", "5s"}}));
  config.features.push_back(feature("remote.a", "remote", "item_id", "a"));
  config.features.push_back(feature("remote.b", "remote", "item_id", "b"));
  auto remote = slow_source(milliseconds(0), /*remote=*/true);
  SlowSource* rr = remote.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["remote"] = std::move(remote);
  MaterializerOptions options;
  options.clock = clock.fn();
  Materializer m(config, std::move(prebuilt), options);

  m.materialize({event(1, "x"), event(2, "y"), event(3, "?unknown")});
  ASSERT_EQ(rr->calls().size(), 1u);
  EXPECT_THAT(rr->calls()[0].keys, ElementsAre("x", "y", "?unknown"));

  // Only the new key is asked for; unknown keys are cached as unknown.
  auto out = m.materialize({event(1, "y"), event(2, "z"), event(3, "?unknown"), event(4, "x")});
  ASSERT_EQ(rr->calls().size(), 2u);
  EXPECT_THAT(rr->calls()[1].keys, ElementsAre("z"));
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"y"}));
  EXPECT_EQ(out[0].features[1], FeatureValue(Strings{"y"}));
  EXPECT_EQ(out[1].features[1], FeatureValue(Strings{"z"}));
  EXPECT_EQ(out[2].features[0], FeatureValue());
  EXPECT_EQ(out[3].features[0], FeatureValue(Strings{"x"}));

  m.materialize({event(1, "x"), event(2, "y"), event(3, "z")});
  EXPECT_EQ(rr->calls().size(), 2u);
  auto s = stats_of(m.stats(), "remote");
  EXPECT_EQ(s.cache.hits, 3u + 3u);
  EXPECT_EQ(s.cache.misses, 3u + 1u);
  EXPECT_EQ(s.cache.entries, 4u);
  EXPECT_EQ(s.lookups, 2u);
  EXPECT_EQ(s.keys, 4u);

  // Past the TTL every entry is asked for again.
  clock.advance(std::chrono::minutes(10) + std::chrono::seconds(1));
  m.materialize({event(1, "x"), event(2, "y")});
  ASSERT_EQ(rr->calls().size(), 3u);
  EXPECT_THAT(rr->calls()[2].keys, ElementsAre("x", "y"));
  s = stats_of(m.stats(), "remote");
  EXPECT_EQ(s.cache.expirations, 2u);
}

TEST(MaterializerExecution, StagesAskingOtherFieldsOfOneSourceHaveTheirOwnEntries) {
  Config config;
  config.sources.push_back(params_for("remote", {{"timeout", "5s"}}));
  config.features.push_back(feature("remote.a", "remote", "item_id", "a"));
  config.features.push_back(feature("remote.b", "remote", "item_id", "b"));
  config.features.push_back(feature("remote.c", "remote", "remote.a", "c"));  // stage 1
  auto remote = slow_source(milliseconds(0), /*remote=*/true);
  SlowSource* rr = remote.get();
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["remote"] = std::move(remote);
  Materializer m(config, std::move(prebuilt));

  for (int round = 0; round < 2; ++round) {
    auto out = m.materialize({event(1, "x"), event(2, "y")});
    EXPECT_EQ(out[0].features,
              (std::vector<FeatureValue>{Strings{"x"}, Strings{"x"}, Strings{"x"}}));
    EXPECT_EQ(out[1].features[2], FeatureValue(Strings{"y"}));
  }
  // Stage 0 asked (a, b) of x and y, stage 1 asked (c) of the same keys: four entries.
  ASSERT_EQ(rr->calls().size(), 2u);
  auto s = stats_of(m.stats(), "remote");
  EXPECT_EQ(s.cache.entries, 4u);
  EXPECT_EQ(s.cache.hits, 4u);
}

TEST(MaterializerExecution, CacheStaysWithinItsBytes) {
  Config config;
  config.sources.push_back(params_for("remote", {{"cache_bytes", "4KiB"}, {"timeout", "5s"}}));
  config.features.push_back(feature("remote.a", "remote", "item_id", "a"));
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["remote"] = slow_source(milliseconds(0), /*remote=*/true);
  Materializer m(config, std::move(prebuilt));
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<Event> events;
    for (int i = 0; i < 20; ++i) {
      events.push_back(event(1, "key-" + std::to_string(batch * 20 + i)));
    }
    m.materialize(std::move(events));
  }
  auto s = stats_of(m.stats(), "remote");
  EXPECT_EQ(s.cache.capacity_bytes, 4096u);
  EXPECT_LE(s.cache.bytes, 4096u);
  EXPECT_GT(s.cache.evictions, 100u);
  EXPECT_EQ(s.cache.evictions + s.cache.entries, 200u);
}

TEST(MaterializerExecution, BadCommonParametersNameTheSourceKey) {
  auto build = [](std::map<std::string, std::string> params) {
    Config config;
    config.sources.push_back(params_for("s", std::move(params)));
    std::map<std::string, std::unique_ptr<Source>> prebuilt;
    prebuilt["s"] = slow_source(milliseconds(0));
    Materializer m(config, std::move(prebuilt));
  };
  EXPECT_THAT(config_error([&] {
                build({{"timeout", "fast"}});
              }),
              HasSubstr("demo.yaml:9: sources.s.timeout: bad duration \"fast\""));
  EXPECT_THAT(config_error([&] {
                build({{"cache_bytes", "lots"}});
              }),
              HasSubstr("demo.yaml:9: sources.s.cache_bytes: bad size \"lots\""));
  EXPECT_THAT(config_error([&] {
                build({{"cache_bytes", "64MB"}});
              }),
              HasSubstr("sources.s.cache_bytes"));
  EXPECT_NO_THROW(build({{"cache_bytes", "64MiB"}, {"cache_ttl", "none"}, {"backoff", "none"}}));
}

TEST(MaterializerExecution, ConcurrentBatchesThroughTheAsyncPath) {
  Config config;
  config.sources.push_back(params_for("r1", {{"cache_bytes", "1MiB"}, {"timeout", "10s"}}));
  config.sources.push_back(params_for("r2", {{"cache_bytes", "0"}, {"timeout", "10s"}}));
  config.features.push_back(feature("r1.v", "r1", "item_id", "v"));
  config.features.push_back(feature("r2.v", "r2", "r1.v", "v"));
  std::map<std::string, std::unique_ptr<Source>> prebuilt;
  prebuilt["r1"] = slow_source(milliseconds(1), true);
  prebuilt["r2"] = slow_source(milliseconds(1), true);
  Materializer m(config, std::move(prebuilt));

  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 40; ++b) {
        std::string k1 = "k" + std::to_string((t * 7 + b) % 13), k2 = "k" + std::to_string(b);
        auto out = m.materialize({event(t, k1), event(t, k2), event(t, std::nullopt)});
        if (out[0].features[0] != FeatureValue(Strings{k1}) ||
            out[0].features[1] != FeatureValue(Strings{k1}) ||
            out[1].features[1] != FeatureValue(Strings{k2}) ||
            out[2].features != std::vector<FeatureValue>(2)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  auto stats = m.stats();
  EXPECT_EQ(stats_of(stats, "r2").lookups, 160u);
  EXPECT_EQ(stats_of(stats, "r1").timeouts + stats_of(stats, "r2").timeouts, 0u);
}

// --- Table reloads ----------------------------------------------------------------------------

// Rewrites `path` and moves its modification time on, so that the change shows even within
// the file system's timestamp granularity.
void rewrite(const std::filesystem::path& path, const std::string& text, int seconds_later) {
  auto before = std::filesystem::last_write_time(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  std::filesystem::last_write_time(path, before + std::chrono::seconds(seconds_later));
}

TEST(TableReload, ChangedFileIsReadAgainAtTheNextCheck) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.write("pins.tsv", "item_id\tcategories\np1\tfood\n");
  Config config;
  config.sources.push_back(table_config("pins", path));
  config.sources[0].params["reload_interval"] = {"5s", {"demo.yaml", 8}};
  config.features.push_back(feature("pin.categories", "pins", "item_id", "categories"));
  MaterializerOptions options;
  options.clock = clock.fn();
  Materializer m(config, {}, options);
  EXPECT_EQ(m.materialize({event(1, "p1")})[0].features[0], FeatureValue(Strings{"food"}));

  rewrite(path, "item_id\tcategories\np1\ttravel|art\np2\tdiy\n", 10);
  // Not yet due: the old table still answers.
  EXPECT_EQ(m.materialize({event(1, "p1")})[0].features[0], FeatureValue(Strings{"food"}));

  clock.advance(std::chrono::seconds(6));
  m.materialize({event(1, "p1")});  // due: the check runs in the background
  for (int i = 0; i < 500 && stats_of(m.stats(), "pins").reloads == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(stats_of(m.stats(), "pins").reloads, 1u);
  auto out = m.materialize({event(1, "p1"), event(2, "p2")});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"travel", "art"}));
  EXPECT_EQ(out[1].features[0], FeatureValue(Strings{"diy"}));

  // An unchanged file is not read again.
  clock.advance(std::chrono::seconds(6));
  m.materialize({event(1, "p1")});
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(stats_of(m.stats(), "pins").reloads, 1u);
  EXPECT_EQ(stats_of(m.stats(), "pins").reload_failures, 0u);
}

TEST(TableReload, FailedReloadKeepsTheOldTable) {
  TempDir dir;
  auto path = dir.write("pins.tsv", "item_id\tcategories\tprice\np1\tfood\t3\n");
  Config config;
  config.sources.push_back(table_config("pins", path));
  config.features.push_back(feature("pin.categories", "pins", "item_id", "categories"));
  config.features.push_back(feature("pin.price", "pins", "item_id", "price", FeatureType::kNumber));
  Materializer m(config);
  auto check_old = [&] {
    auto out = m.materialize({event(1, "p1")});
    EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"food"}));
    EXPECT_EQ(out[0].features[1], FeatureValue(3.0));
  };

  rewrite(path, "item_id\tcategories\tprice\np1\tart\t1\np1\tdup\t2\n", 10);
  std::vector<std::string> errors = m.reload_sources();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("pins: "));
  EXPECT_THAT(errors[0], HasSubstr("duplicate key \"p1\""));
  check_old();

  // A column a feature reads must still be there, and of its type.
  rewrite(path, "item_id\tcategories\np1\tart\n", 20);
  errors = m.reload_sources();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("no column \"price\""));
  rewrite(path, "item_id\tcategories\tprice\np1\tart\tcheap\n", 30);
  errors = m.reload_sources();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("\"cheap\""));
  check_old();

  std::filesystem::remove(path);
  errors = m.reload_sources();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("cannot read"));
  check_old();
  EXPECT_EQ(stats_of(m.stats(), "pins").reload_failures, 4u);
  EXPECT_EQ(stats_of(m.stats(), "pins").reloads, 0u);

  std::ofstream(path, std::ios::binary) << "item_id\tcategories\tprice\np1\tart\t1.5\n";
  EXPECT_TRUE(m.reload_sources().empty());
  auto out = m.materialize({event(1, "p1")});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"art"}));
  EXPECT_EQ(out[0].features[1], FeatureValue(1.5));
  EXPECT_EQ(stats_of(m.stats(), "pins").reloads, 1u);
}

TEST(TableReload, ABrokenFileIsReportedOnceUntilItChanges) {
  TempDir dir;
  auto path = dir.write("pins.tsv", "item_id\tcategories\np1\tfood\n");
  auto source = TableSource::load(table_config("pins", path));
  source->check_field({"categories", FeatureType::kStrings}, {"demo.yaml", 20});
  EXPECT_FALSE(source->reload(false));  // unchanged

  rewrite(path, "item_id\tcategories\np1\n", 10);
  EXPECT_THROW(source->reload(false), ConfigError);
  EXPECT_FALSE(source->reload(false));  // already reported
  EXPECT_THROW(source->reload(true), ConfigError);
  rewrite(path, "item_id\tcategories\np1\tart\n", 20);
  EXPECT_TRUE(source->reload(false));
  Strings keys = {"p1"};
  std::vector<FieldRequest> fields = {{"categories", FeatureType::kStrings}};
  EXPECT_EQ(source->lookup(keys, fields)[0][0], FeatureValue(Strings{"art"}));
}

// --- Registry ---------------------------------------------------------------------------------

TEST(SourceRegistry, CustomKindsAreBuiltByName) {
  register_source_kind(
      "test_echo",
      [](const SourceConfig& c) -> std::unique_ptr<Source> {
        return std::make_unique<RecordingSource>(
            std::map<std::string, std::string>{{"x", source_param(c, "suffix", "!")}});
      },
      {{"suffix", "put after every value"}});
  EXPECT_EQ(source_kind_params("test_echo")->at(0).name, "suffix");
  EXPECT_FALSE(source_kind_params("no_such_kind"));
  auto kinds = source_kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "test_echo"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "table"), kinds.end());

  Config config;
  config.sources.push_back(params_for("echo", {{"suffix", "?"}}));
  config.sources[0].kind = "test_echo";
  config.features.push_back(feature("echo.v", "echo", "item_id", "v"));
  Materializer m(config);
  EXPECT_EQ(m.materialize({event(1, "x")})[0].features[0], FeatureValue(Strings{"v:?"}));

  config.sources[0].params["colour"] = {"red", {"demo.yaml", 12}};
  EXPECT_EQ(config_error([&] { Materializer bad(config); }),
            "demo.yaml:12: sources.echo.colour: unknown key for a test_echo source (expected "
            "suffix, cache_bytes, cache_ttl, timeout, backoff, reload_interval, kind, path, key "
            "or model)");
  // A misspelling of its own parameter, of a common one and of a key of every source.
  config.sources[0].params.erase("colour");
  config.sources[0].params["sufix"] = {"?", {"demo.yaml", 13}};
  EXPECT_EQ(config_error([&] { Materializer bad(config); }),
            "demo.yaml:13: sources.echo.sufix: unknown key for a test_echo source (did you mean "
            "suffix?)");
  config.sources[0].params.erase("sufix");
  config.sources[0].params["time_out"] = {"1s", {"demo.yaml", 14}};
  EXPECT_EQ(config_error([&] { Materializer bad(config); }),
            "demo.yaml:14: sources.echo.time_out: unknown key for a test_echo source (did you "
            "mean timeout?)");
  config.sources[0].params.erase("time_out");
  config.sources[0].params["modle"] = {"m.bin", {"demo.yaml", 15}};
  EXPECT_EQ(config_error([&] { Materializer bad(config); }),
            "demo.yaml:15: sources.echo.modle: unknown key for a test_echo source (did you "
            "mean model?)");
  // A declared parameter written as a list.
  config.sources[0].params.erase("modle");
  config.sources[0].params["suffix"] = {"", {"demo.yaml", 16}, false};
  EXPECT_EQ(config_error([&] { Materializer bad(config); }),
            "demo.yaml:16: sources.echo.suffix: must be a single value");

  EXPECT_THROW(register_source_kind("Bad-Kind", [](const SourceConfig&) { return nullptr; }, {}),
               std::invalid_argument);
  EXPECT_THROW(register_source_kind("ok", nullptr, {}), std::invalid_argument);
  // The loader takes these keys itself, so a parameter of that name could never be set.
  for (const char* taken : {"kind", "path", "key", "model", "timeout"}) {
    EXPECT_THROW(
        register_source_kind("ok", [](const SourceConfig&) { return nullptr; }, {{taken, "x"}}),
        std::invalid_argument)
        << taken;
  }
}

}  // namespace
}  // namespace signalbox
