#pragma once

// The event rules of docs/events.md, stated by the tests on their own: whether one event's
// JSON text is a valid event, and if not, which field is at fault. It shares no code with the
// server's decoder (it reads the text with simdjson's DOM, checks each documented rule here,
// and derives a missing event_id from the event's content in a way of its own), so an engine
// that refused a valid event, or took an invalid one, disagrees with it.
//
// Header-only; stateless, so safe from any thread.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

#include "signalbox/common/time.h"
#include "signalbox/event/event.h"

namespace signalbox::testing {

// One event's text, judged: `event` when valid, else `fault`, the field the documented
// message starts with (`ts`, `attrs.price`, `json` for text that is no JSON object).
struct JudgedEvent {
  std::optional<Event> event;
  std::string fault;
};

// The field at fault of a rejection message as the docs show it: the text before the first
// ": " (`attrs.color: value must be a string or number` -> `attrs.color`).
inline std::string fault_of(std::string_view message) {
  return std::string(message.substr(0, std::min(message.find(": "), message.size())));
}

namespace event_rules {

// The limits as docs/events.md states them (not the decoder's constants).
inline constexpr std::size_t kMaxTextBytes = 64 * 1024;
inline constexpr std::size_t kMaxAction = 32, kMaxEventId = 128, kMaxItemId = 256, kMaxQuery = 1024;
inline constexpr std::size_t kMaxAttrs = 32, kMaxAttrName = 64, kMaxAttrString = 1024;
inline constexpr double kMaxAttrMagnitude = 1e100;

inline bool is_action(std::string_view s) {
  if (s.empty() || s.size() > kMaxAction) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A string of `min`..`max` bytes, or nullopt.
inline std::optional<std::string> bounded_string(simdjson::dom::element v, std::size_t min,
                                                 std::size_t max) {
  if (!v.is_string()) return std::nullopt;
  std::string_view s = v.get_string().value_unsafe();
  if (s.size() < min || s.size() > max) return std::nullopt;
  return std::string(s);
}

inline std::optional<double> number(simdjson::dom::element v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64().value_unsafe());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64().value_unsafe());
  if (v.is_double()) return v.get_double().value_unsafe();
  return std::nullopt;
}

// "" when the attrs object is valid (and copied into `out`), else the field at fault.
inline std::string read_attrs(simdjson::dom::element v, Event& out) {
  if (!v.is_object()) return "attrs";
  simdjson::dom::object attrs = v.get_object().value_unsafe();
  if (attrs.size() > kMaxAttrs) return "attrs";
  for (simdjson::dom::key_value_pair attr : attrs) {
    const std::string name(attr.key);
    if (name.empty() || name.size() > kMaxAttrName) return name.empty() ? "attrs" : "attrs." + name;
    for (const auto& [seen, value] : out.attrs)
      if (seen == name) return "attrs." + name;
    if (auto s = bounded_string(attr.value, 0, kMaxAttrString)) {
      out.attrs.emplace_back(name, *s);
    } else if (auto n = number(attr.value); n && std::abs(*n) <= kMaxAttrMagnitude) {
      out.attrs.emplace_back(name, *n);
    } else {
      return "attrs." + name;
    }
  }
  return "";
}

// "" when field `key` = `v` is valid (and copied into `out`), else the field at fault.
inline std::string read_field(std::string_view key, simdjson::dom::element v, TimeMs latest_ts,
                              Event& out) {
  const bool absent = v.is_null();
  if (key == "user_id") {
    if (v.is_uint64())
      out.user_id = v.get_uint64().value_unsafe();
    else if (v.is_int64() && v.get_int64().value_unsafe() >= 0)
      out.user_id = static_cast<std::uint64_t>(v.get_int64().value_unsafe());
    else
      return "user_id";
  } else if (key == "ts") {
    if (!v.is_int64() || v.get_int64().value_unsafe() < 0 ||
        v.get_int64().value_unsafe() > latest_ts)
      return "ts";
    out.ts = v.get_int64().value_unsafe();
  } else if (key == "action") {
    auto s = bounded_string(v, 1, kMaxAction);
    if (!s || !is_action(*s)) return "action";
    out.action = *s;
  } else if (key == "event_id") {
    if (absent) return "";
    auto s = bounded_string(v, 1, kMaxEventId);
    if (!s) return "event_id";
    out.event_id = *s;
  } else if (key == "item_id") {
    if (absent) return "";
    out.item_id = bounded_string(v, 1, kMaxItemId);
    if (!out.item_id) return "item_id";
  } else if (key == "query") {
    if (absent) return "";
    out.query = bounded_string(v, 0, kMaxQuery);
    if (!out.query) return "query";
  } else if (key == "attrs") {
    return absent ? "" : read_attrs(v, out);
  } else {
    return std::string(key);  // unknown field
  }
  return "";
}

// The identity of an event sent without event_id: its content, written out, so that two
// copies of it have the same one (docs/events.md: derived from user_id, ts, action, item_id,
// query and attrs in name order). Not the engine's hash: only equality matters here.
inline std::string content_id(const Event& e) {
  auto attrs = e.attrs;
  std::sort(attrs.begin(), attrs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string id = fmt::format("content:{}|{}|{}|{}|{}", e.user_id, e.ts, e.action,
                               e.item_id ? "i" + *e.item_id : "-", e.query ? "q" + *e.query : "-");
  for (const auto& [name, value] : attrs) {
    if (const auto* s = std::get_if<std::string>(&value))
      id += fmt::format("|{}=s{}", name, *s);
    else
      id += fmt::format("|{}=n{}", name, std::get<double>(value));
  }
  return id;
}

}  // namespace event_rules

// Judges one event's JSON text by the rules of docs/events.md; `now` is the wall clock (a ts
// may be at most `max_future_skew` ahead of it). When several rules are broken, the fault
// named is one of them; tests that compare it with the engine's break one rule per event.
inline JudgedEvent judge_event(std::string_view text, TimeMs now, TimeMs max_future_skew) {
  using namespace event_rules;
  if (text.size() > kMaxTextBytes) return {std::nullopt, "json"};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(text)).get(root) || !root.is_object())
    return {std::nullopt, "json"};
  Event e;
  std::vector<std::string> seen;
  simdjson::dom::object fields = root.get_object().value_unsafe();
  for (simdjson::dom::key_value_pair field : fields) {
    const std::string key(field.key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return {std::nullopt, key};  // given twice
    seen.push_back(key);
    if (std::string fault = read_field(key, field.value, now + max_future_skew, e); !fault.empty())
      return {std::nullopt, fault};
  }
  for (const char* required : {"user_id", "ts", "action"})
    if (std::find(seen.begin(), seen.end(), required) == seen.end())
      return {std::nullopt, required};
  if (e.event_id.empty()) e.event_id = content_id(e);
  return {std::move(e), ""};
}

}  // namespace signalbox::testing
