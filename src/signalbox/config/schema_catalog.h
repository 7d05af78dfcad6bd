#pragma once

// The schema tables of the config, by name, for what must agree with them (docs/config.md is
// checked against them by a test).

#include <string>
#include <vector>

namespace signalbox {

// One key of a schema table: as written (a prefix ends with '.'), and its default as
// docs/config.md writes it (empty for none).
struct KeyDescription {
  std::string key;
  std::string fallback;
  bool required = false;
};

struct SchemaTableDescription {
  // "server", "server.auth", "server.tls", "log", "storage", "event_store", "features",
  // "signals", "views" (their fixed keys; the rest are parameters), "ingest kind http",
  // "ingest kind kafka", "source kind table", "source kind fasttext", "source kind redis"
  // (the file keys the loader reads; parameters are the kind's, see source.h).
  std::string name;
  std::vector<KeyDescription> keys;
};

// Every table, in the order of docs/config.md.
std::vector<SchemaTableDescription> config_schema_tables();

}  // namespace signalbox
