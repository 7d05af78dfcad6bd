#include "signalbox/config/schema_catalog.h"

#include "signalbox/config/sections.h"
#include "signalbox/config/source_keys.h"

namespace signalbox {

std::vector<SchemaTableDescription> config_schema_tables() {
  std::vector<SchemaTableDescription> tables = {
      {"server", server_keys()},         {"server.auth", server_auth_keys()},
      {"server.tls", server_tls_keys()}, {"log", log_keys()},
      {"storage", storage_keys()},       {"event_store", event_store_keys()}};
  for (const std::string& kind : ingest_kinds()) {
    tables.push_back({"ingest kind " + kind, ingest_kind_keys(kind)});
  }
  for (std::string_view kind : {"table", "fasttext", "redis"}) {
    SchemaTableDescription table{"source kind " + std::string(kind), {}};
    for (const std::string& key : source_entry_keys(kind)) {
      if (key != "kind") table.keys.push_back({key, "", true});
    }
    tables.push_back(std::move(table));
  }
  tables.push_back({"features", feature_keys()});
  tables.push_back({"signals", signal_keys()});
  tables.push_back({"views", view_keys()});
  return tables;
}

}  // namespace signalbox
