// The `sources` section (docs/config.md#sources): a mapping of source name to its kind, the
// file keys that kind uses (source_keys.h) and its parameters.

#include "signalbox/config/sources_section.h"

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>

#include "signalbox/config/sections.h"
#include "signalbox/config/source_keys.h"

namespace signalbox {

namespace {

bool is_source_kind_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The file keys of each built-in kind, all required; a registered kind may use any.
struct BuiltinSourceKind {
  std::string_view kind;
  std::vector<std::string> file_keys;
};
const std::vector<BuiltinSourceKind>& builtin_source_kinds() {
  static const std::vector<BuiltinSourceKind> kinds = {
      {"table", {"path", "key"}}, {"fasttext", {"model"}}, {"redis", {}}};
  return kinds;
}
const std::vector<std::string> kSourceFileKeys = {"path", "key", "model"};

const std::array<SchemaKey<SourceConfig>, 1> kSourceEntryKeys = {{
    {"kind",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, SourceConfig& out) {
       // Any kind but the built-ins is registered in code (a plugin, the embedding program);
       // whether it exists is known only when the sources are built, which rejects an
       // unknown one.
       if (!is_source_kind_name(v.text)) {
         v.fail(
             fmt::format("bad kind {} (use table, fasttext, redis or a registered kind of "
                         "characters a-z 0-9 _)",
                         quote_config_text(v.text)));
       }
       out.kind = v.text;
     }},
}};
const Schema<SourceConfig> kSourceEntrySchema{kSourceEntryKeys};

const std::array<SchemaKey<SourceConfig>, 3> kSourceFileKeySchema = {{
    {"path",
     ValueType::kPath,
     {},
     {},
     [](const ConfigValue& v, SourceConfig& out) { out.path = v.file; }},
    {"key",
     ValueType::kNonEmptyText,
     {},
     {},
     [](const ConfigValue& v, SourceConfig& out) { out.key = v.text; }},
    {"model",
     ValueType::kPath,
     {},
     {},
     [](const ConfigValue& v, SourceConfig& out) { out.model = v.file; }},
}};
const Schema<SourceConfig> kSourceFileSchema{kSourceFileKeySchema};

SourceConfig read_source(const YamlReader& reader, const ConfigField& s) {
  std::string path = child_path("sources", s.key);
  if (!is_config_name(s.key)) throw_config_error(s.where, path, bad_name_problem(s.key));
  SourceConfig source;
  source.name = s.key;
  source.where = s.value_where;
  source.where.path = path;
  ConfigFields rest;
  apply_schema(kSourceEntrySchema, reader.sub_fields(s, path), path, source.where, reader.context(),
               source, &rest);
  ConfigFields file_keys;
  ConfigFields params;
  for (ConfigField& f : rest) {
    bool file_key =
        std::find(kSourceFileKeys.begin(), kSourceFileKeys.end(), f.key) != kSourceFileKeys.end();
    (file_key ? file_keys : params).push_back(std::move(f));
  }
  std::vector<std::string> uses = source_entry_keys(source.kind);
  if (is_builtin_source_kind(source.kind)) {
    // Each kind reads only some of the file keys; one given to the wrong kind is a mistake the
    // user should hear about rather than a value silently unused.
    for (const std::string& k : uses) {
      if (k == "kind") continue;
      bool given = std::any_of(file_keys.begin(), file_keys.end(),
                               [&](const ConfigField& f) { return f.key == k; });
      if (!given) {
        throw_config_error(source.where, child_path(path, k),
                           fmt::format("required for a {} source", source.kind));
      }
    }
    for (const std::string& k : kSourceFileKeys) {
      auto f = std::find_if(file_keys.begin(), file_keys.end(),
                            [&](const ConfigField& field) { return field.key == k; });
      if (f != file_keys.end() && std::find(uses.begin(), uses.end(), k) == uses.end()) {
        throw_config_error(f->where, child_path(path, k),
                           fmt::format("not used by a {} source", source.kind));
      }
    }
  }
  apply_schema(kSourceFileSchema, file_keys, path, source.where, reader.context(), source);
  source.params = params_of(params);
  return source;
}

}  // namespace

bool is_builtin_source_kind(std::string_view kind) {
  const auto& kinds = builtin_source_kinds();
  return std::any_of(kinds.begin(), kinds.end(),
                     [&](const BuiltinSourceKind& k) { return k.kind == kind; });
}

std::vector<std::string> source_entry_keys(std::string_view kind) {
  std::vector<std::string> keys = {"kind"};
  for (const BuiltinSourceKind& k : builtin_source_kinds()) {
    if (k.kind == kind) {
      keys.insert(keys.end(), k.file_keys.begin(), k.file_keys.end());
      return keys;
    }
  }
  keys.insert(keys.end(), kSourceFileKeys.begin(), kSourceFileKeys.end());
  return keys;
}

void read_sources(const YamlReader& reader, const ConfigField& section,
                  std::vector<SourceConfig>& out) {
  for (const ConfigField& s : reader.sub_fields(section, "sources"))
    out.push_back(read_source(reader, s));
}

std::vector<SourceConfig> read_sources_mapping(const YAML::Node& sources,
                                               const std::filesystem::path& file) {
  YamlReader reader(file);
  ConfigField section;
  section.key = "sources";
  section.where = reader.location(sources.Mark());
  section.value_where = section.where;
  section.node = &sources;
  std::vector<SourceConfig> out;
  read_sources(reader, section, out);
  return out;
}

}  // namespace signalbox
