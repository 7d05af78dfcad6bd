#pragma once

// References for quantile and top_frequent, which answer exactly only in their exact regime
// and within a documented bound beyond: exact answers from all raw values, and a check
// that an engine answer keeps the bound (which then stands in for the exact one, so that
// the rest of the answer is still compared exactly). Shares no code with the engine.

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "reference.h"
#include "reference_statistics.h"

namespace signalbox::testing {

// The nearest rank of a quantile written as a decimal ("0.99"): max(1, ceil(q × n)) in
// integer arithmetic, so no binary rounding is involved.
inline std::uint64_t ref_nearest_rank(const std::string& q, std::uint64_t n) {
  std::uint64_t numerator = 0, denominator = 1;
  bool fraction = false;
  for (char c : q) {
    if (c == '.') {
      fraction = true;
      continue;
    }
    if (c < '0' || c > '9') throw std::logic_error("quantile not a plain decimal: " + q);
    numerator = numerator * 10 + static_cast<std::uint64_t>(c - '0');
    if (fraction) denominator *= 10;
  }
  std::uint64_t rank = (numerator * n + denominator - 1) / denominator;
  return std::max<std::uint64_t>(rank, 1);
}

inline Value ref_quantiles(std::vector<double> xs, const SignalConfig& s) {
  std::sort(xs.begin(), xs.end());
  Value::Object out;
  for (const std::string& q : s.params.at("quantiles").items)
    out.emplace_back(q, xs.empty() ? Value() : Value(xs[ref_nearest_rank(q, xs.size()) - 1]));
  return Value(std::move(out));
}

// The values an event carries at `value` for top_frequent, each once.
inline std::set<std::string> ref_frequent_values(const RefEvent& e, const std::string& value) {
  if (value == "item_id")
    return e.item_id.empty() ? std::set<std::string>{} : std::set<std::string>{e.item_id};
  if (value == "pin.categories") return distinct_categories(e);
  throw std::logic_error("no reference values for " + value);
}

inline std::map<std::string, std::uint64_t> ref_frequencies(
    const std::vector<const RefEvent*>& es, const std::map<std::string, double>* actions,
    const std::string& value) {
  std::map<std::string, std::uint64_t> counts;
  for (const RefEvent* e : es)
    if (weight_of(*e, actions))
      for (const std::string& v : ref_frequent_values(*e, value)) ++counts[v];
  return counts;
}

inline Value ref_top_frequent(const std::map<std::string, std::uint64_t>& counts, std::size_t k) {
  std::vector<std::pair<std::string, std::uint64_t>> list(counts.begin(), counts.end());
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (list.size() > k) list.resize(k);
  Value::Array out;
  for (const auto& [key, count] : list)
    out.emplace_back(Value::Object{{"key", Value(key)}, {"value", Value(count)}});
  return Value(std::move(out));
}

// What the approximate answers of one check came to.
struct SketchStats {
  std::size_t exact_checks = 0;  // answers compared exactly (exact regime)
  std::size_t bound_checks = 0;  // answers checked against the bound
  double worst_rank_error = 0;   // quantile: the largest normalised rank error seen
};

// Checks a quantile answer over `xs` in the sketch regime (more than 100 values): each
// answer is one of the values and within 1 % of n of the nearest rank. Returns "" or the
// problem; `worst` keeps the largest error.
inline std::string check_quantiles(std::vector<double> xs, const SignalConfig& s,
                                   const Value& actual, double& worst) {
  std::sort(xs.begin(), xs.end());
  const double n = static_cast<double>(xs.size());
  for (const std::string& q : s.params.at("quantiles").items) {
    const Value* v = actual.find(q);
    if (!v || !v->is_number())
      return fmt::format("quantile {}: no number in {}", q, actual.to_json());
    const double x = v->number();
    const auto lo =
        static_cast<std::uint64_t>(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin()) + 1;
    const auto hi =
        static_cast<std::uint64_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
    if (hi < lo) return fmt::format("quantile {}: {} is none of the values", q, x);
    const std::uint64_t r = ref_nearest_rank(q, xs.size());
    const double off = r < lo   ? static_cast<double>(lo - r)
                       : r > hi ? static_cast<double>(r - hi)
                                : 0;
    worst = std::max(worst, off / n);
    if (off / n > 0.01)
      return fmt::format("quantile {} of {} values: rank error {} > 1 %", q, xs.size(), off / n);
  }
  return "";
}

// Checks a top_frequent answer in the sketch regime (more distinct values than counters):
// every estimate at most its true count and at least the true count − N / (capacity + 1),
// the list ordered, and no value missing whose lowest possible estimate beats the last one.
inline std::string check_top_frequent(const std::map<std::string, std::uint64_t>& counts,
                                      std::size_t k, std::size_t capacity, const Value& actual) {
  std::uint64_t total = 0;
  for (const auto& [v, c] : counts) total += c;
  const double bound = static_cast<double>(total) / static_cast<double>(capacity + 1);
  if (!actual.is_array() || actual.array().size() > k)
    return "not a list of at most k: " + actual.to_json();
  std::set<std::string> reported;
  double last = 0;
  std::string last_key;
  for (const Value& entry : actual.array()) {
    const std::string& key = entry.find("key")->string();
    const double est = entry.find("value")->number();
    auto it = counts.find(key);
    const double truth = it == counts.end() ? 0 : static_cast<double>(it->second);
    if (est > truth || truth - est > bound)
      return fmt::format("{}: estimate {} for a true count {} (bound {})", key, est, truth, bound);
    if (!reported.empty() && (est > last || (est == last && key <= last_key)))
      return "out of order: " + actual.to_json();
    reported.insert(key);
    last = est;
    last_key = key;
  }
  for (const auto& [v, c] : counts) {
    if (reported.count(v)) continue;
    const double lowest = static_cast<double>(c) - bound;
    if (actual.array().size() < k ? lowest > 0 : lowest > last)
      return fmt::format("{} (true count {}) is missing from {}", v, c, actual.to_json());
  }
  return "";
}

}  // namespace signalbox::testing
