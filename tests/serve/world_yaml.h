#pragma once

// Writes a test World's Config (a struct) as the YAML file `signalbox serve` reads, so the
// binary runs exactly the signals the reference computes.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "signalbox/config/config.h"

namespace signalbox::testing {

inline std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `config` as YAML without a server section: storage, event_store, sources (table kind),
// features, signals, views — what `replay`, `get` and `backfill` read.
inline std::string config_yaml(const Config& config) {
  std::string out;
  auto add = [&]<typename... Args>(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  };
  add("storage: {{ kind: rocksdb, path: {}", yaml_quoted(config.storage.path.string()));
  if (config.storage.write_behind != StorageConfig().write_behind)
    add(", write_behind: {}", config.storage.write_behind);
  add(" }}\n");
  add("event_store: {{ retention: {}ms, max_future_skew: {}ms", config.event_store.retention,
      config.event_store.max_future_skew);
  if (config.event_store.late_horizon)
    add(", late_horizon: {}ms", *config.event_store.late_horizon);
  if (config.event_store.bootstrap_rate != EventStoreConfig().bootstrap_rate)
    add(", bootstrap_rate: {}", config.event_store.bootstrap_rate);
  add(" }}\n");
  add("sources:\n");
  for (const SourceConfig& s : config.sources) {
    add("  {}: {{ kind: {}, path: {}, key: {} }}\n", s.name, s.kind, yaml_quoted(s.path.string()),
        s.key);
  }
  add("features:\n");
  for (const FeatureConfig& f : config.features) {
    std::string_view type = f.type == FeatureType::kStrings  ? "strings"
                            : f.type == FeatureType::kVector ? "vector"
                                                             : "number";
    add("  - {{ name: {}, source: {}, key: {}, field: {}, type: {} }}\n", f.name, f.source, f.key,
        f.field, type);
  }
  add("signals:\n");
  for (const SignalConfig& s : config.signals) {
    add("  - {{ name: {}, aggregator: {}", s.name, s.aggregator);
    if (!s.group_by.empty()) add(", group_by: {}", s.group_by);
    if (!s.value.empty()) add(", value: {}", s.value);
    if (s.actions) {
      add(", actions: {{");
      for (std::size_t i = 0; i < s.actions->size(); ++i)
        add("{} {}: {}", i ? "," : "", (*s.actions)[i].first, (*s.actions)[i].second);
      add(" }}");
    }
    if (!s.windows.empty()) {
      add(", windows: [");
      for (std::size_t i = 0; i < s.windows.size(); ++i)
        add("{}{}", i ? ", " : "", s.windows[i].text);
      add("]");
    }
    for (const auto& [key, param] : s.params) add(", {}: {}", key, param.text);
    add(" }}\n");
  }
  add("views:\n");
  for (const ViewConfig& v : config.views) {
    add("  - {{ name: {}, signal: {}", v.name, v.signal);
    if (!v.window.empty()) add(", window: {}", v.window);
    add(", transform: {}", v.transform);
    for (const auto& [key, param] : v.params) add(", {}: {}", key, param.text);
    add(" }}\n");
  }
  return out;
}

// `config` as the YAML `signalbox serve` reads: HTTP on 127.0.0.1:`port`, then the rest.
inline std::string config_yaml(const Config& config, std::uint16_t port,
                               std::size_t max_body_bytes) {
  return fmt::format("server: {{ http: 127.0.0.1:{}, max_body_bytes: {} }}\n", port,
                     max_body_bytes) +
         config_yaml(config);
}

// Writes config.file and returns its path.
inline std::filesystem::path write_config(const Config& config, std::uint16_t port,
                                          std::size_t max_body_bytes = 16 * 1024 * 1024) {
  std::ofstream(config.file) << config_yaml(config, port, max_body_bytes);
  return config.file;
}

}  // namespace signalbox::testing
