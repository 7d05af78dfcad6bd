// The `ingest` section (docs/config.md#ingest): a list of entries, each a kind and the keys
// of that kind (ingest_kinds.cc).

#include <array>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

const std::array<SchemaKey<IngestConfig>, 1> kIngestEntryKeys = {{
    {"kind",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, IngestConfig& out) {
       std::vector<std::string> kinds = ingest_kinds();
       if (std::find(kinds.begin(), kinds.end(), v.text) == kinds.end()) {
         v.fail(fmt::format("unknown kind {} (use {})", quote_config_text(v.text),
                            join_with_or(kinds)));
       }
       out.kind = v.text;
     }},
}};
const Schema<IngestConfig> kIngestEntrySchema{kIngestEntryKeys};

}  // namespace

void read_ingest(const YamlReader& reader, const ConfigField& section,
                 std::vector<IngestConfig>& out) {
  std::size_t i = 0;
  for (const auto& [node, where] : reader.items(section, "ingest", "mappings")) {
    std::string path = index_path("ingest", i++);
    IngestConfig ingest;
    ingest.where = where;
    ingest.where.path = path;
    ConfigFields kind_keys;
    apply_schema(kIngestEntrySchema, reader.fields(node, path, where), path, where,
                 reader.context(), ingest, &kind_keys);
    check_ingest_kind_keys(ingest.kind, kind_keys, path, where, reader.context());
    ingest.params = params_of(kind_keys);
    out.push_back(std::move(ingest));
  }
}

}  // namespace signalbox
