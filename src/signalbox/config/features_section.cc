// The `features` section (docs/config.md#features): a list of lookups of a source.

#include <array>
#include <optional>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

// The entry being read: what its checks need besides the feature itself.
struct FeatureEntry {
  FeatureConfig& feature;
  const std::vector<SourceConfig>& sources;
  const std::vector<FeatureConfig>& earlier;  // the features written before it
  const SourceConfig* source = nullptr;
  // Keys whose rules depend on the source's kind, checked once every key is read.
  std::optional<ConfigValue> field, type, top, min_prob;
};

const std::array<SchemaKey<FeatureEntry>, 7> kFeatureKeys = {{
    {"name",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, FeatureEntry& out) {
       if (!is_config_name(v.text)) v.fail(bad_name_problem(v.text));
       if (is_event_field(v.text) || v.text.starts_with("attrs.")) {
         v.fail(
             fmt::format("{} is an event field; choose another name", quote_config_text(v.text)));
       }
       for (const FeatureConfig& f : out.earlier) {
         if (f.name == v.text) {
           v.fail(fmt::format("duplicate feature {} (first at line {})", quote_config_text(v.text),
                              f.where.line));
         }
       }
       out.feature.name = v.text;
     }},
    {"source",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, FeatureEntry& out) {
       std::vector<std::string> names;
       for (const SourceConfig& s : out.sources) {
         if (s.name == v.text) out.source = &s;
         names.push_back(s.name);
       }
       if (!out.source) {
         std::string known =
             names.empty() ? "no sources are defined" : "defined: " + join_with_commas(names);
         v.fail(fmt::format("unknown source {} ({})", quote_config_text(v.text), known));
       }
       out.feature.source = v.text;
     }},
    // Keys may chain through features defined above, which also rules out cycles.
    {"key",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, FeatureEntry& out) {
       out.feature.key = value_reference(v, out.earlier, true);
     }},
    {"field",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, FeatureEntry& out) { out.field = v; }},
    {"type",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, FeatureEntry& out) { out.type = v; }},
    {"top", ValueType::kAny, {}, {}, [](const ConfigValue& v, FeatureEntry& out) { out.top = v; }},
    {"min_prob",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, FeatureEntry& out) { out.min_prob = v; }},
}};
const Schema<FeatureEntry> kFeatureSchema{kFeatureKeys};

std::string text_of(const ConfigValue& v) {
  if (!v.field.value.scalar) v.fail("must be a string");
  return v.text;
}

// The rules of the keys that depend on the source's kind.
void check_kind_keys(FeatureEntry& entry, const ConfigLocation& where, std::string_view path) {
  FeatureConfig& feature = entry.feature;
  const SourceConfig& source = *entry.source;
  bool fasttext = source.kind == "fasttext";
  if (entry.field) {
    if (fasttext) entry.field->fail_at_key("not used by a fasttext source");
    feature.field = text_of(*entry.field);
    if (feature.field.empty()) entry.field->fail("must not be empty");
  } else if (!fasttext) {
    throw_config_error(where, child_path(path, "field"),
                       fmt::format("required for a {} source", source.kind));
  }
  if (entry.type) {
    std::string type = text_of(*entry.type);
    if (type == "strings") {
      feature.type = FeatureType::kStrings;
    } else if (type == "vector") {
      feature.type = FeatureType::kVector;
    } else if (type == "number") {
      feature.type = FeatureType::kNumber;
    } else {
      entry.type->fail(
          fmt::format("unknown type {} (use strings, vector or number)", quote_config_text(type)));
    }
    if (fasttext && feature.type != FeatureType::kStrings) {
      entry.type->fail("a fasttext source gives strings");
    }
  }
  if (entry.top) {
    if (!fasttext) entry.top->fail_at_key("only for a fasttext source");
    auto n = parse_config_int(text_of(*entry.top));
    if (!n || *n < 0 || *n > 1000000) entry.top->fail("must be an integer >= 0");
    feature.top = static_cast<int>(*n);
  }
  if (entry.min_prob) {
    if (!fasttext) entry.min_prob->fail_at_key("only for a fasttext source");
    auto p = parse_config_double(text_of(*entry.min_prob));
    if (!p || *p < 0 || *p > 1) entry.min_prob->fail("must be a number from 0 to 1");
    feature.min_prob = *p;
  }
}

}  // namespace

void read_features(const YamlReader& reader, const ConfigField& section,
                   const std::vector<SourceConfig>& sources, std::vector<FeatureConfig>& out) {
  std::size_t i = 0;
  for (const auto& [node, where] : reader.items(section, "features", "mappings")) {
    std::string path = index_path("features", i++);
    FeatureConfig feature;
    feature.where = where;
    feature.where.path = path;
    FeatureEntry entry{feature, sources, out};
    apply_schema(kFeatureSchema, reader.fields(node, path, where), path, where, reader.context(),
                 entry);
    check_kind_keys(entry, where, path);
    out.push_back(std::move(feature));
  }
}

std::vector<KeyDescription> feature_keys() { return describe(kFeatureSchema); }

}  // namespace signalbox
