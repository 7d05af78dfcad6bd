#pragma once

// Brute-force reference for `sequence`: every counted event sorted newest first (ts, then
// event_id, descending), the first k kept, each read field by field. Shares no code with the
// engine.

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "reference.h"

namespace signalbox::testing {

// A float of the pin table as the decimal it was written as.
inline double written_float(float x) { return std::strtod(fmt::format("{}", x).c_str(), nullptr); }

inline Value ref_sequence_field(const RefEvent& e, const std::string& field) {
  auto optional_string = [](const std::optional<std::string>& s) {
    return s ? Value(*s) : Value();
  };
  if (field == "ts") return Value(e.ts);
  if (field == "event_id") return Value(e.event_id);
  if (field == "action") return Value(e.action);
  if (field == "item_id") return e.item_id.empty() ? Value() : Value(e.item_id);
  if (field == "query") return optional_string(e.query);
  if (field == "attrs.price") return e.price ? Value(*e.price) : Value();
  if (field == "attrs.surface") return optional_string(e.surface);
  if (field == "attrs.dwell") return e.dwell ? Value(*e.dwell) : Value();
  // A feature is absent for an event without a known pin.
  if (field == "pin.categories") {
    if (e.categories.empty()) return Value();
    return Value(Value::Array(e.categories.begin(), e.categories.end()));
  }
  if (field == "pin.embedding") {
    if (e.embedding.empty()) return Value();
    Value::Array out;
    for (float x : e.embedding) out.emplace_back(written_float(x));
    return Value(std::move(out));
  }
  throw std::logic_error("no reference for sequence field " + field);
}

inline Value ref_sequence(const std::vector<const RefEvent*>& es,
                          const std::map<std::string, double>* actions, const SignalConfig& s) {
  std::vector<const RefEvent*> counted;
  for (const RefEvent* e : es)
    if (weight_of(*e, actions)) counted.push_back(e);
  std::sort(counted.begin(), counted.end(), [](const RefEvent* a, const RefEvent* b) {
    return std::tie(a->ts, a->event_id) > std::tie(b->ts, b->event_id);
  });
  std::size_t k = std::stoul(s.params.at("k").text);
  if (counted.size() > k) counted.resize(k);
  const std::vector<std::string>& fields = s.params.at("fields").items;
  Value::Array out;
  for (const RefEvent* e : counted) {
    Value::Object entry;
    for (const std::string& field : fields)
      entry.emplace_back(field, ref_sequence_field(*e, field));
    out.emplace_back(std::move(entry));
  }
  return Value(std::move(out));
}

}  // namespace signalbox::testing
