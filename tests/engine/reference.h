#pragma once

// A brute-force reference for the window rule (docs/signals.md) and the built-in aggregators and
// views (docs/signals.md): it recomputes every answer from all raw events, sharing no code with the
// engine's tiles, planner or aggregators.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "signalbox/common/value.h"
#include "signalbox/config/config.h"
#include "signalbox/event/event.h"

namespace signalbox::testing {

// `t` (>= 0) as ISO 8601 UTC with milliseconds, by H. Hinnant's civil-from-days arithmetic
// rather than std::chrono: the answer's as_of_iso.
inline std::string ref_iso_time(TimeMs t) {
  const std::int64_t z = t / 86400000 + 719468;
  const std::int64_t era = z / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2);
  const std::int64_t ms = t % 86400000;
  char out[96];  // room for any int64 fields, so the compiler sees no truncation
  std::snprintf(out, sizeof out, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return out;
}

// One accepted event as the reference sees it: the fields its signals read.
struct RefEvent {
  std::uint64_t user = 0;
  TimeMs ts = 0;
  std::string action;
  std::string event_id;
  std::string item_id;                  // empty when absent
  std::vector<std::string> categories;  // the pin's categories (empty when unknown)
  std::vector<float> embedding;         // the pin's embedding (empty when unknown)
  std::optional<double> price;
  std::optional<std::string> query;
  std::optional<std::string> surface;  // the string attribute attrs.surface
  std::optional<double> dwell;         // attrs.dwell, on every generated event
};

inline bool in_window(TimeMs ts, TimeMs as_of, std::optional<TimeMs> window, TimeMs retention) {
  if (ts > as_of) return false;
  if (!window) return true;
  if (*window <= retention) return as_of - *window < ts;
  TimeMs start = as_of - *window;
  TimeMs day = 86400000;
  TimeMs floor = (start / day) * day - ((start % day != 0 && start < 0) ? day : 0);
  return floor <= ts;
}

inline std::optional<double> weight_of(const RefEvent& e,
                                       const std::map<std::string, double>* actions) {
  if (!actions) return 1.0;
  auto it = actions->find(e.action);
  if (it == actions->end()) return std::nullopt;
  return it->second;
}

template <class Pred>
std::vector<const RefEvent*> select(const std::vector<RefEvent>& events, Pred pred) {
  std::vector<const RefEvent*> out;
  for (const auto& e : events)
    if (pred(e)) out.push_back(&e);
  return out;
}

inline Value map_value(const std::map<std::string, double>& m) {
  Value::Object o;
  for (const auto& [k, v] : m)
    if (v != 0) o.emplace_back(k, Value(v));
  return Value(std::move(o));
}

inline std::set<std::string> distinct_categories(const RefEvent& e) {
  return std::set<std::string>(e.categories.begin(), e.categories.end());
}

inline Value ref_count_by_category(const std::vector<const RefEvent*>& es,
                                   const std::map<std::string, double>* actions) {
  std::map<std::string, double> m;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions))
      for (const auto& c : distinct_categories(*e)) m[c] += *w;
  return map_value(m);
}

inline Value ref_count(const std::vector<const RefEvent*>& es,
                       const std::map<std::string, double>* actions) {
  double total = 0;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions)) total += *w;
  return Value(total);
}

inline Value ref_sum_price(const std::vector<const RefEvent*>& es,
                           const std::map<std::string, double>* actions) {
  double total = 0;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions); w && e->price) total += *w * *e->price;
  return Value(total);
}

inline Value ref_decayed_by_category(const std::vector<const RefEvent*>& es, TimeMs as_of,
                                     TimeMs half_life,
                                     const std::map<std::string, double>* actions) {
  std::map<std::string, double> m;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions))
      for (const auto& c : distinct_categories(*e))
        m[c] +=
            *w * std::exp2(-static_cast<double>(as_of - e->ts) / static_cast<double>(half_life));
  return map_value(m);
}

inline Value ref_last_k_items(const std::vector<const RefEvent*>& es, std::size_t k) {
  struct Newest {
    TimeMs ts;
    std::string event_id;
  };
  std::map<std::string, Newest> newest;
  for (const RefEvent* e : es) {
    if (e->item_id.empty()) continue;
    auto it = newest.find(e->item_id);
    if (it == newest.end() ||
        std::tie(e->ts, e->event_id) > std::tie(it->second.ts, it->second.event_id))
      newest[e->item_id] = {e->ts, e->event_id};
  }
  std::vector<std::pair<std::string, Newest>> list(newest.begin(), newest.end());
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.ts, a.second.event_id) > std::tie(b.second.ts, b.second.event_id);
  });
  if (list.size() > k) list.resize(k);
  Value::Array out;
  for (const auto& [item, n] : list)
    out.emplace_back(Value::Object{{"value", Value(item)}, {"ts", Value(n.ts)}});
  return Value(std::move(out));
}

inline Value ref_distinct_items(const std::vector<const RefEvent*>& es) {
  std::set<std::string> items;
  for (const RefEvent* e : es)
    if (!e->item_id.empty()) items.insert(e->item_id);
  return Value(static_cast<double>(items.size()));
}

inline Value ref_mean_embedding(const std::vector<const RefEvent*>& es,
                                const std::map<std::string, double>* actions) {
  std::vector<double> sums;
  double weight = 0;
  for (const RefEvent* e : es) {
    auto w = weight_of(*e, actions);
    if (!w || e->embedding.empty()) continue;
    if (sums.empty()) sums.assign(e->embedding.size(), 0);
    for (std::size_t i = 0; i < sums.size(); ++i) sums[i] += *w * e->embedding[i];
    weight += *w;
  }
  if (sums.empty() || weight == 0) return Value();
  Value::Array out;
  for (double s : sums) out.emplace_back(s / weight);
  return Value(std::move(out));
}

inline Value ref_top_k(const Value& map, std::size_t k) {
  std::vector<std::pair<std::string, double>> entries;
  for (const auto& [key, v] : map.object()) entries.emplace_back(key, v.number());
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (entries.size() > k) entries.resize(k);
  Value::Array out;
  for (const auto& [key, v] : entries)
    out.emplace_back(Value::Object{{"key", Value(key)}, {"value", Value(v)}});
  return Value(std::move(out));
}

inline Value ref_normalize(const Value& map) {
  double total = 0;
  for (const auto& [key, v] : map.object()) total += v.number();
  Value::Object out;
  if (total == 0) return Value(std::move(out));
  for (const auto& [key, v] : map.object()) out.emplace_back(key, Value(v.number() / total));
  return Value(std::move(out));
}

inline Value ref_last_session(const Value& list, TimeMs gap) {
  Value::Array out;
  double previous = 0;
  for (const Value& entry : list.array()) {
    double ts = entry.find("ts")->number();
    if (!out.empty() && previous - ts > static_cast<double>(gap)) break;
    out.push_back(entry);
    previous = ts;
  }
  return Value(std::move(out));
}

// The tutorial's `histogram` (examples/plugin/histogram.cc): Σ weight per bucket
// floor(price / width), keyed by the bucket's lower bound in numeric order, zeros left out.
inline Value ref_histogram(const std::vector<const RefEvent*>& es,
                           const std::map<std::string, double>* actions, double width) {
  std::map<std::int64_t, double> buckets;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions); w && e->price)
      buckets[static_cast<std::int64_t>(std::floor(*e->price / width))] += *w;
  Value::Object out;
  for (const auto& [bucket, total] : buckets)
    if (total != 0)
      out.emplace_back(Value(static_cast<double>(bucket) * width).to_json(), Value(total));
  return Value(std::move(out));
}

// The engagement example's `session_mean` (examples/engagement/session_mean.cc), by sorting
// all counted events and cutting them where consecutive ones are more than `gap` apart.
inline Value ref_session_mean(const std::vector<const RefEvent*>& es,
                              const std::map<std::string, double>* actions, TimeMs gap,
                              TimeMs as_of) {
  std::vector<std::pair<const RefEvent*, double>> counted;
  for (const RefEvent* e : es)
    if (auto w = weight_of(*e, actions); w && !e->embedding.empty()) counted.emplace_back(e, *w);
  if (counted.empty())
    return Value(Value::Object{{"mean", Value()}, {"events", Value(0)}, {"session", Value()}});
  std::stable_sort(counted.begin(), counted.end(),
                   [](const auto& a, const auto& b) { return a.first->ts < b.first->ts; });
  auto mean = [](const std::vector<std::pair<const RefEvent*, double>>& part) {
    std::vector<double> sums(part.front().first->embedding.size(), 0.0);
    double weight = 0;
    for (const auto& [e, w] : part) {
      for (std::size_t i = 0; i < sums.size(); ++i) sums[i] += w * e->embedding[i];
      weight += w;
    }
    if (weight == 0) return Value();
    Value::Array out;
    for (double x : sums) out.emplace_back(x / weight);
    return Value(std::move(out));
  };
  std::size_t newest = counted.size() - 1;  // where the newest session starts
  while (newest > 0 && counted[newest].first->ts - counted[newest - 1].first->ts <= gap) --newest;
  std::vector<std::pair<const RefEvent*, double>> session(
      counted.begin() + static_cast<long>(newest), counted.end());
  TimeMs end = counted.back().first->ts;
  Value session_value(Value::Object{{"mean", mean(session)},
                                    {"start", Value(session.front().first->ts)},
                                    {"end", Value(end)},
                                    {"events", Value(static_cast<std::uint64_t>(session.size()))},
                                    {"current", Value(as_of - end <= gap)}});
  return Value(Value::Object{{"mean", mean(counted)},
                             {"events", Value(static_cast<std::uint64_t>(counted.size()))},
                             {"session", std::move(session_value)}});
}

// The engagement example's `session_profile` view of a session_mean result.
inline Value ref_session_profile(const Value& result, const SignalConfig& signal) {
  const Value* longest = &result;
  TimeMs longest_length = -1;
  for (const auto& w : signal.windows) {
    if (w.length > longest_length) {
      longest_length = w.length;
      longest = result.find(w.text);
    }
  }
  const Value* session = longest->find("session");
  Value::Object out;
  out.emplace_back("session", !session->is_null() && *session->find("current") == Value(true)
                                  ? *session->find("mean")
                                  : Value());
  if (signal.windows.empty()) out.emplace_back("all", *result.find("mean"));
  for (const auto& w : signal.windows) out.emplace_back(w.text, *result.find(w.text)->find("mean"));
  return Value(std::move(out));
}

// Compares two answers: same shape, same keys in the same order, strings equal, numbers equal
// within `relative` (absolute for numbers near zero). Returns "" or a description of the
// first difference.
inline std::string diff(const Value& expected, const Value& actual, double relative,
                        const std::string& path = "") {
  if (expected.is_number() && actual.is_number()) {
    double e = expected.number(), a = actual.number();
    double tolerance = relative * std::max(1.0, std::max(std::abs(e), std::abs(a)));
    if (std::abs(e - a) > tolerance)
      return path + ": expected " + expected.to_json() + ", got " + actual.to_json();
    return "";
  }
  if (expected.is_object() && actual.is_object()) {
    const auto& eo = expected.object();
    const auto& ao = actual.object();
    if (eo.size() != ao.size())
      return path + ": expected " + expected.to_json() + ", got " + actual.to_json();
    for (std::size_t i = 0; i < eo.size(); ++i) {
      if (eo[i].first != ao[i].first)
        return path + ": expected key " + eo[i].first + ", got " + ao[i].first + " in " +
               actual.to_json();
      std::string d = diff(eo[i].second, ao[i].second, relative, path + "." + eo[i].first);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (expected.is_array() && actual.is_array()) {
    const auto& ea = expected.array();
    const auto& aa = actual.array();
    if (ea.size() != aa.size())
      return path + ": expected " + expected.to_json() + ", got " + actual.to_json();
    for (std::size_t i = 0; i < ea.size(); ++i) {
      std::string d = diff(ea[i], aa[i], relative, path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  if (expected == actual) return "";
  return path + ": expected " + expected.to_json() + ", got " + actual.to_json();
}

}  // namespace signalbox::testing
