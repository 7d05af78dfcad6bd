#pragma once

// JSON for the HTTP tests: answers parsed into Values (with simdjson, independent of the
// server's own writer) and events written as the wire format of SPEC §1.

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

#include "signalbox/common/value.h"
#include "signalbox/event/event.h"

namespace signalbox::testing {

inline Value to_value(simdjson::dom::element e) {
  simdjson::dom::array array;
  simdjson::dom::object object;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  std::string_view s;
  bool b = false;
  if (!e.get(array)) {
    Value::Array out;
    for (simdjson::dom::element item : array) out.push_back(to_value(item));
    return Value(std::move(out));
  }
  if (!e.get(object)) {
    Value::Object out;
    for (auto [key, item] : object) out.emplace_back(std::string(key), to_value(item));
    return Value(std::move(out));
  }
  if (e.is_int64() && !e.get(i)) return Value(i);
  if (e.is_uint64() && !e.get(u)) return Value(u);
  if (!e.get(d)) return Value(d);
  if (!e.get(s)) return Value(std::string(s));
  if (!e.get(b)) return Value(b);
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
