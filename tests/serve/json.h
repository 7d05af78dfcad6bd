#pragma once

// JSON for the HTTP tests: answers parsed into Values (with simdjson, independent of the
// server's own writer) and events written as the wire format of docs/events.md.

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

#include "signalbox/common/value.h"
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

// Events as NDJSON (one per line) or as one JSON array.
inline std::string events_body(const std::vector<Event>& events, bool as_array) {
  std::string out = as_array ? "[" : "";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (as_array && i > 0) out += ',';
    out += event_json(events[i]);
    if (!as_array) out += '\n';
  }
  if (as_array) out += ']';
  return out;
}

}  // namespace signalbox::testing
