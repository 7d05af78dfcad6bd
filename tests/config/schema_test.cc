// The schema walker (config/schema.h) on its own: unknown, misspelt and missing keys, type
// errors, defaults, checks, parameters kept for a kind, prefix keys.

#include "signalbox/config/schema.h"

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "signalbox/common/error.h"

namespace signalbox::testing {
namespace {

struct Thing {
  std::string name;
  std::int64_t count = 0;
  TimeMs every = 0;
  std::string color;
  bool color_written = false;
  std::filesystem::path file;
  std::vector<std::string> extras;
};

const std::array<SchemaKey<Thing>, 6> kThingKeys = {{
    {"name",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, Thing& out) {
       if (v.text == "bad") v.fail("must not be bad");
       out.name = v.text;
     }},
    {"count",
     ValueType::kCount,
     {},
     "3",
     [](const ConfigValue& v, Thing& out) { out.count = v.count; }},
    {"every",
     ValueType::kDuration,
     {},
     "1m",
     [](const ConfigValue& v, Thing& out) { out.every = v.duration; }},
    {"color",
     ValueType::kSingle,
     {},
     "blue",
     [](const ConfigValue& v, Thing& out) {
       out.color = v.text;
       out.color_written = v.written;
     }},
    {"file", ValueType::kPath, {}, {}, [](const ConfigValue& v, Thing& out) { out.file = v.file; }},
    {"extra.",
     ValueType::kSingle,
     {},
     {},
     [](const ConfigValue& v, Thing& out) { out.extras.push_back(v.field.key); }},
}};
const Schema<Thing> kThingSchema{kThingKeys, "test thing"};

const ConfigContext kContext{"f.yaml", "/etc/sb"};
const ConfigLocation kOwner{"f.yaml", 1, "thing"};

// A field `key: value` written on `line`; a value in brackets is a list.
ConfigField field(const std::string& key, const std::string& value, int line) {
  ConfigLocation where{"f.yaml", line, "thing"};
  ConfigParam param{value, where};
  if (value.starts_with("[")) {
    param.scalar = false;
    param.list = true;
    param.items = {value.substr(1, value.size() - 2)};
  }
  return ConfigField{key, where, where, param, nullptr};
}

std::string error_of(const ConfigFields& fields, ConfigFields* rest = nullptr) {
  Thing thing;
  try {
    apply_schema(kThingSchema, fields, "thing", kOwner, kContext, thing, rest);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(SchemaWalker, AnUnknownKeyIsRefusedWithTheClosestKnownOne) {
  EXPECT_EQ(error_of({field("name", "n", 2), field("colr", "red", 3)}),
            "f.yaml:3: thing.colr: unknown key for test thing (did you mean color?)");
  EXPECT_EQ(error_of({field("name", "n", 2), field("shape", "round", 3)}),
            "f.yaml:3: thing.shape: unknown key for test thing (expected name, count, every, "
            "color or file)");
}

TEST(SchemaWalker, AFarUnknownKeyGetsTheSchemasOwnProblem) {
  constexpr std::array<std::string_view, 1> kAlso = {"kind"};
  const Schema<Thing> schema{kThingKeys, "test thing", kAlso, "unknown key (use name or count)"};
  Thing thing;
  auto error = [&](const ConfigFields& fields) -> std::string {
    try {
      apply_schema(schema, fields, "thing", kOwner, kContext, thing);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error({field("name", "n", 2), field("shape", "x", 4)}),
            "f.yaml:4: thing.shape: unknown key (use name or count)");
  // The keys taken out before are suggested too.
  EXPECT_EQ(error({field("name", "n", 2), field("kimd", "x", 4)}),
            "f.yaml:4: thing.kimd: unknown key for test thing (did you mean kind?)");
}

TEST(SchemaWalker, AMissingRequiredKeyIsNamedAtTheMapping) {
  EXPECT_EQ(error_of({field("count", "2", 2)}), "f.yaml:1: thing.name: required");
  // ... unless an unknown key looks like it, misspelt.
  EXPECT_EQ(error_of({field("nmae", "n", 2)}),
            "f.yaml:2: thing.nmae: unknown key (did you mean name?)");
}

TEST(SchemaWalker, AValueOfTheWrongTypeIsRefusedNamingTheKey) {
  EXPECT_EQ(error_of({field("name", "n", 2), field("count", "x", 3)}),
            "f.yaml:3: thing.count: must be a positive integer");
  EXPECT_EQ(error_of({field("name", "n", 2), field("count", "0", 3)}),
            "f.yaml:3: thing.count: must be a positive integer");
  EXPECT_EQ(
      error_of({field("name", "n", 2), field("every", "5", 3)}),
      "f.yaml:3: thing.every: bad duration \"5\" (use <integer><unit>, unit ms, s, m, h or d)");
  EXPECT_EQ(error_of({field("name", "[a]", 2)}), "f.yaml:2: thing.name: must be a string");
  EXPECT_EQ(error_of({field("name", "n", 2), field("color", "[a]", 3)}),
            "f.yaml:3: thing.color: must be a single value");
  EXPECT_EQ(error_of({field("name", "n", 2), field("file", "", 3)}),
            "f.yaml:3: thing.file: must not be empty");
}

TEST(SchemaWalker, ValuesAreCheckedInFileOrderBeforeMissingKeys) {
  EXPECT_EQ(error_of({field("count", "x", 2)}),
            "f.yaml:2: thing.count: must be a positive integer");
}

TEST(SchemaWalker, AFailingCheckNamesTheKey) {
  EXPECT_EQ(error_of({field("name", "bad", 2)}), "f.yaml:2: thing.name: must not be bad");
}

TEST(SchemaWalker, DefaultsApplyToAbsentKeysAndWrittenValuesToTheRest) {
  Thing thing;
  apply_schema(kThingSchema,
               {field("name", "n", 2), field("every", "2s", 3), field("file", "a/../b", 4)},
               "thing", kOwner, kContext, thing);
  EXPECT_EQ(thing.name, "n");
  EXPECT_EQ(thing.every, 2000);
  EXPECT_EQ(thing.count, 3);
  EXPECT_EQ(thing.color, "blue");
  EXPECT_FALSE(thing.color_written);
  EXPECT_EQ(thing.file, std::filesystem::path("/etc/sb/b"));
}

TEST(SchemaWalker, PrefixKeysTakeAnyLongerKey) {
  Thing thing;
  apply_schema(kThingSchema, {field("name", "n", 2), field("extra.a.b", "1", 3)}, "thing", kOwner,
               kContext, thing);
  EXPECT_EQ(thing.extras, std::vector<std::string>{"extra.a.b"});
  EXPECT_EQ(error_of({field("name", "n", 2), field("extra.", "1", 3)})
                .rfind("f.yaml:3: thing.extra.: unknown key for test thing", 0),
            0u);
}

TEST(SchemaWalker, UnknownKeysAreKeptWhenTheCallerTakesThem) {
  ConfigFields rest;
  EXPECT_EQ(error_of({field("name", "n", 2), field("k", "5", 3)}, &rest), "");
  ASSERT_EQ(rest.size(), 1u);
  ConfigParams params = params_of(rest);
  EXPECT_EQ(params.at("k").text, "5");
  EXPECT_EQ(params.at("k").where.line, 3);
  EXPECT_EQ(params.at("k").where.path, "thing");
  // A misspelt required key is still named as such.
  rest.clear();
  EXPECT_EQ(error_of({field("nam", "n", 2)}, &rest),
            "f.yaml:2: thing.nam: unknown key (did you mean name?)");
}

TEST(SchemaWalker, ParametersReadAsFields) {
  ConfigParams params;
  params.emplace("name", ConfigParam{"n", ConfigLocation{"f.yaml", 7, "thing"}});
  params.emplace("count", ConfigParam{"x", ConfigLocation{"f.yaml", 8, "thing"}});
  EXPECT_EQ(error_of(fields_of(params)), "f.yaml:8: thing.count: must be a positive integer");
}

}  // namespace
}  // namespace signalbox::testing
