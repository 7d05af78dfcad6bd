#pragma once

// The readers of the config's sections, one per file beside this one, each checking its
// mapping against its schema table (internal to the config library).

#include <map>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/config/schema.h"
#include "signalbox/config/schema_catalog.h"
#include "signalbox/config/yaml_reader.h"

namespace signalbox {

template <class Target>
std::vector<KeyDescription> describe(const Schema<Target>& schema) {
  std::vector<KeyDescription> out;
  for (const SchemaKey<Target>& k : schema.keys)
    out.push_back({std::string(k.key), std::string(k.fallback), !k.required.empty()});
  return out;
}

// Names of signals and views (one namespace: queries name either) with the line of each.
using ClaimedNames = std::map<std::string, int, std::less<>>;

void read_server(const YamlReader& reader, const ConfigField& section, ServerConfig& out);
void read_log(const YamlReader& reader, const ConfigField& section, LogConfig& out);
void read_storage(const YamlReader& reader, const ConfigField& section, StorageConfig& out);
void read_event_store(const YamlReader& reader, const ConfigField& section, EventStoreConfig& out);
void read_ingest(const YamlReader& reader, const ConfigField& section,
                 std::vector<IngestConfig>& out);
void read_sources(const YamlReader& reader, const ConfigField& section,
                  std::vector<SourceConfig>& out);
void read_features(const YamlReader& reader, const ConfigField& section,
                   const std::vector<SourceConfig>& sources, std::vector<FeatureConfig>& out);
void read_signals(const YamlReader& reader, const ConfigField& section,
                  const std::vector<FeatureConfig>& features, ClaimedNames& names,
                  std::vector<SignalConfig>& out);
void read_views(const YamlReader& reader, const ConfigField& section,
                const std::vector<SignalConfig>& signals, ClaimedNames& names,
                std::vector<ViewConfig>& out);

// The tables, for the catalogue (schema_catalog.h).
std::vector<KeyDescription> server_keys();
std::vector<KeyDescription> server_auth_keys();
std::vector<KeyDescription> server_tls_keys();
std::vector<KeyDescription> log_keys();
std::vector<KeyDescription> storage_keys();
std::vector<KeyDescription> event_store_keys();
std::vector<KeyDescription> feature_keys();
std::vector<KeyDescription> signal_keys();
std::vector<KeyDescription> view_keys();

// The ingest kinds and the keys of each (ingest_kinds.cc). Checks the keys written for an
// entry of `kind` (besides `kind`), at `path` written at `where`.
std::vector<std::string> ingest_kinds();
std::vector<KeyDescription> ingest_kind_keys(std::string_view kind);
void check_ingest_kind_keys(std::string_view kind, const ConfigFields& fields,
                            std::string_view path, const ConfigLocation& where,
                            const ConfigContext& context);

// Claims `name` for a signal or view, refusing one already taken.
void claim_name(ClaimedNames& names, const std::string& name, const ConfigValue& value);

// A value reference (docs/config.md) in `value`: an event field or one of `features`; the
// message for one that is neither lists what it could name. With `earlier`, the features are
// those written before the one being read (a feature's key).
std::string value_reference(const ConfigValue& value, const std::vector<FeatureConfig>& features,
                            bool earlier = false);

// Whether `s` is an event field a reference may name (item_id, query, action, attrs.NAME).
bool is_event_field(std::string_view s);

}  // namespace signalbox
