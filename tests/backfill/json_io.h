#pragma once

// Text formats for the backfill tests: answers parsed into Values (with simdjson, independent
// of the engine's writer), events written as NDJSON (SPEC §1), and a test World's config
// written as the YAML the binary reads.

#include <fmt/format.h>
#include <simdjson.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "signalbox/common/value.h"
#include "signalbox/config/config.h"
#include "signalbox/event/event.h"

namespace signalbox::testing {

inline Value to_value(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      Value::Array out;
      for (simdjson::dom::element item : array) out.push_back(to_value(item));
      return Value(std::move(out));
    }
    case element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      Value::Object out;
      for (simdjson::dom::key_value_pair field : object)
        out.emplace_back(std::string(field.key), to_value(field.value));
      return Value(std::move(out));
    }
    case element_type::INT64:
      return Value(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return Value(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return Value(e.get_double().value_unsafe());
    case element_type::STRING:
      return Value(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return Value(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return Value();
  }
  return Value();
}

// Parses `text`; throws std::runtime_error quoting it when it is not JSON.
inline Value parse_json(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(simdjson::padded_string(text)).get(root))
    throw std::runtime_error(
        fmt::format("not JSON ({}): {}", simdjson::error_message(error), text));
  return to_value(root);
}

inline std::string event_json(const Event& e) {
  std::string out = fmt::format(R"({{"user_id":{},"ts":{},"action":)", e.user_id, e.ts);
  append_json_string(out, e.action);
  out += R"(,"event_id":)";
  append_json_string(out, e.event_id);
  if (e.item_id) {
    out += R"(,"item_id":)";
    append_json_string(out, *e.item_id);
  }
  if (e.query) {
    out += R"(,"query":)";
    append_json_string(out, *e.query);
  }
  if (!e.attrs.empty()) {
    out += R"(,"attrs":{)";
    for (std::size_t i = 0; i < e.attrs.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, e.attrs[i].first);
      out += ':';
      if (const auto* s = std::get_if<std::string>(&e.attrs[i].second))
        append_json_string(out, *s);
      else
        out += fmt::format("{}", std::get<double>(e.attrs[i].second));
    }
    out += '}';
  }
  out += '}';
  return out;
}

inline std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `config` as YAML: the sections a backfill reads (storage, event_store, sources, features,
// signals, views), for table sources.
inline std::string config_yaml(const Config& config) {
  std::string out;
  auto add = [&](std::string_view format, const auto&... args) {
    fmt::format_to(std::back_inserter(out), fmt::runtime(format), args...);
  };
  add("storage: {{ kind: rocksdb, path: {} }}\n", yaml_quoted(config.storage.path.string()));
  add("event_store: {{ retention: {}ms, max_future_skew: {}ms }}\n", config.event_store.retention,
      config.event_store.max_future_skew);
  add("sources:\n");
  for (const SourceConfig& s : config.sources)
    add("  {}: {{ kind: {}, path: {}, key: {} }}\n", s.name, s.kind, yaml_quoted(s.path.string()),
        s.key);
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

}  // namespace signalbox::testing
