#pragma once

// Brute-force references for min, max, avg, stddev: every value collected, then computed the
// textbook way (two passes for the standard deviation). Shares no code with the engine.

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference.h"

namespace signalbox::testing {

inline bool is_numeric_summary(const std::string& aggregator) {
  return aggregator == "min" || aggregator == "max" || aggregator == "avg" ||
         aggregator == "stddev";
}

// The numbers `value` names for the counted events (attrs.price or attrs.dwell).
inline std::vector<double> ref_numbers(const std::vector<const RefEvent*>& es,
                                       const std::map<std::string, double>* actions,
                                       const std::string& value) {
  if (value != "attrs.price" && value != "attrs.dwell")
    throw std::logic_error("no reference values for " + value);
  std::vector<double> out;
  for (const RefEvent* e : es) {
    const std::optional<double>& x = value == "attrs.price" ? e->price : e->dwell;
    if (weight_of(*e, actions) && x) out.push_back(*x);
  }
  return out;
}

inline Value ref_statistic(const std::vector<double>& xs, const std::string& aggregator) {
  if (xs.empty()) return Value();
  if (aggregator == "min") return Value(*std::min_element(xs.begin(), xs.end()));
  if (aggregator == "max") return Value(*std::max_element(xs.begin(), xs.end()));
  double sum = 0;
  for (double x : xs) sum += x;
  const double mean = sum / static_cast<double>(xs.size());
  if (aggregator == "avg") return Value(mean);
  double squares = 0;
  for (double x : xs) squares += (x - mean) * (x - mean);
  return Value(std::sqrt(squares / static_cast<double>(xs.size())));
}

// Grouped by the pin's categories (each distinct category of an event gets its value once),
// or over all counted events.
inline Value ref_numeric_summary(const std::vector<const RefEvent*>& es,
                                 const std::map<std::string, double>* actions,
                                 const SignalConfig& s) {
  if (s.group_by.empty()) return ref_statistic(ref_numbers(es, actions, s.value), s.aggregator);
  if (s.group_by != "pin.categories")
    throw std::logic_error("no reference groups for " + s.group_by);
  std::map<std::string, std::vector<const RefEvent*>> groups;
  for (const RefEvent* e : es)
    for (const auto& c : distinct_categories(*e)) groups[c].push_back(e);
  Value::Object out;
  for (const auto& [key, members] : groups) {
    Value v = ref_statistic(ref_numbers(members, actions, s.value), s.aggregator);
    if (!v.is_null()) out.emplace_back(key, v);
  }
  return Value(std::move(out));
}

}  // namespace signalbox::testing
