#pragma once

// A generated world for engine tests: a pin table, a config over it, and streams of events
// with the awkward parts of real traffic (skewed users, disorder, duplicates, late events).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reference.h"
#include "reference_sequence.h"
#include "reference_sketches.h"
#include "reference_statistics.h"
#include "reference_views.h"
#include "signalbox/engine/engine.h"

namespace signalbox::testing {

inline const std::vector<std::string> kCategories = {"food", "travel",  "diy",   "fashion",
                                                     "home", "garden",  "art",   "cars",
                                                     "pets", "fitness", "music", "kids"};

// A merger that keeps the newest operand: enough for a test that reads which states a tile
// holds, or that opens a store beside the engine without merging anything itself.
class LastOperandMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    return operands.empty() ? std::string() : std::string(operands.back());
  }
};

struct Pin {
  std::string id;
  std::vector<std::string> categories;
  std::vector<float> embedding;
};

class World {
 public:
  World(TimeMs retention, std::vector<std::string> count_windows, std::uint64_t seed = 7)
      : rng_(seed) {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("signalbox-test-{}-{}", ::getpid(), counter()++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write_pins();
    build_config(retention, std::move(count_windows));
  }
  ~World() { std::filesystem::remove_all(dir_); }

  Config config;
  std::vector<Pin> pins;
  std::map<std::string, const Pin*> pin_by_id;

  // One generated event per call: user by a skewed choice among `users`, time near `ts`.
  Event make_event(std::size_t users, TimeMs ts, std::size_t serial) {
    static const std::vector<std::pair<std::string, int>> actions = {
        {"click", 50}, {"closeup", 20}, {"save", 15}, {"search", 10}, {"purchase", 5}};
    Event e;
    std::uint64_t r = rng_() % 1000;
    // Users 0..2 are heavy: half the traffic.
    e.user_id = r < 500 ? 1000 + rng_() % 3 : 1000 + rng_() % users;
    e.ts = ts;
    int pick = static_cast<int>(rng_() % 100);
    for (const auto& [name, share] : actions) {
      if (pick < share) {
        e.action = name;
        break;
      }
      pick -= share;
    }
    e.event_id = fmt::format("e{}", serial);
    if (e.action == "search") {
      e.query = kCategories[rng_() % kCategories.size()] + " ideas";
    } else if (rng_() % 50 != 0) {  // a few events carry an unknown pin
      std::size_t p = static_cast<std::size_t>(
          std::pow(static_cast<double>(rng_() % 1000) / 1000.0, 2) * pins.size());
      e.item_id = pins[p].id;
    } else {
      e.item_id = "unknown-pin";
    }
    if (e.action == "purchase")
      e.attrs.emplace_back("price", static_cast<double>(rng_() % 10000) / 100.0);
    // On every event, from the serial rather than the generator, so that adding it changed
    // no other part of the generated streams.
    e.attrs.emplace_back("dwell", static_cast<double>((serial * 2654435761u) % 20000) / 10.0);
    if (rng_() % 3 == 0)
      e.attrs.emplace_back("surface", std::string(rng_() % 2 ? "home" : "search"));
    return e;
  }

  const SignalConfig* find_signal(const std::string& name) const {
    for (const SignalConfig& s : config.signals)
      if (s.name == name) return &s;
    return nullptr;
  }

  // What the references of ratios of two signals met so far (see expected()).
  mutable RatioCases cross_ratio_cases;

  std::mt19937_64& rng() { return rng_; }
  const std::filesystem::path& dir() const { return dir_; }

  RefEvent to_ref(const Event& e) const {
    RefEvent r;
    r.user = e.user_id;
    r.ts = e.ts;
    r.action = e.action;
    r.event_id = e.event_id;
    if (e.item_id) {
      r.item_id = *e.item_id;
      if (auto it = pin_by_id.find(*e.item_id); it != pin_by_id.end()) {
        r.categories = it->second->categories;
        r.embedding = it->second->embedding;
      }
    }
    r.query = e.query;
    for (const auto& [name, v] : e.attrs) {
      if (name == "price") r.price = std::get<double>(v);
      if (name == "surface") r.surface = std::get<std::string>(v);
      if (name == "dwell") r.dwell = std::get<double>(v);
    }
    return r;
  }

  // Generates `count` events of `users` (make_event) at times spread evenly over
  // [from, from + span) and ingests them into `engine` in batches of `batch_size`. Appends the
  // events to `log` when given; returns them as the reference sees them. An event refused is
  // a test failure (the rest are ingested all the same).
  std::vector<RefEvent> ingest_spread(Engine& engine, std::size_t users, std::size_t count,
                                      TimeMs from, TimeMs span, std::size_t batch_size,
                                      std::vector<Event>* log = nullptr) {
    std::vector<RefEvent> accepted;
    std::vector<Event> batch;
    for (std::size_t i = 0; i < count; ++i) {
      batch.push_back(make_event(
          users, from + static_cast<TimeMs>(i) * (span / static_cast<TimeMs>(count)), i));
      if (batch.size() < batch_size && i + 1 < count) continue;
      const IngestResult r = engine.ingest(batch);
      EXPECT_TRUE(r.rejected.empty()) << r.rejected.front().message;
      for (const Event& e : batch) {
        if (log) log->push_back(e);
        accepted.push_back(to_ref(e));
      }
      batch.clear();
    }
    return accepted;
  }

  // The whole expected answer of Engine::query(user, {}, as_of) for this world's config.
  Value expected(const std::vector<RefEvent>& all, std::uint64_t user, TimeMs as_of) const {
    std::vector<RefEvent> mine;
    for (const auto& e : all)
      if (e.user == user) mine.push_back(e);
    TimeMs retention = config.event_store.retention;
    auto windowed = [&](const SignalConfig& s, auto compute) {
      Value::Object o;
      for (const auto& w : s.windows) {
        auto es = select(
            mine, [&](const RefEvent& e) { return in_window(e.ts, as_of, w.length, retention); });
        o.emplace_back(w.text, compute(es));
      }
      return Value(std::move(o));
    };
    auto everything = select(mine, [&](const RefEvent& e) { return e.ts <= as_of; });
    // A custom signal may have windows or not.
    auto custom = [&](const SignalConfig& s, auto compute) {
      return s.windows.empty() ? compute(everything) : windowed(s, compute);
    };
    std::map<std::string, Value> results;
    for (const SignalConfig& s : config.signals) {
      std::map<std::string, double> actions;
      const std::map<std::string, double>* acts = nullptr;
      if (s.actions) {
        actions.insert(s.actions->begin(), s.actions->end());
        acts = &actions;
      }
      Value v;
      if (s.name == "category_counts" || s.name == "category_saves")
        v = windowed(s, [&](auto& es) { return ref_count_by_category(es, acts); });
      else if (s.name == "saves")
        v = windowed(s, [&](auto& es) { return ref_count(es, acts); });
      else if (s.name == "purchase_value")
        v = windowed(s, [&](auto& es) { return ref_sum_price(es, acts); });
      else if (s.name == "affinity")
        v = ref_decayed_by_category(everything, as_of, 2 * kDayMs, acts);
      else if (s.name == "recent_items")
        v = ref_last_k_items(everything, 5);
      else if (s.name == "distinct_items")
        v = windowed(s, [&](auto& es) { return ref_distinct_items(es); });
      else if (s.name == "taste")
        v = windowed(s, [&](auto& es) { return ref_mean_embedding(es, acts); });
      else if (s.name == "all_clicks")
        v = ref_count(everything, acts);
      else if (s.aggregator == "histogram")
        v = custom(s, [&](auto& es) {
          return ref_histogram(es, acts, std::stod(s.params.at("width").text));
        });
      else if (s.aggregator == "session_mean")
        v = custom(s, [&](auto& es) {
          return ref_session_mean(es, acts, *parse_duration(s.params.at("gap").text), as_of);
        });
      else if (is_numeric_summary(s.aggregator))
        v = custom(s, [&](auto& es) { return ref_numeric_summary(es, acts, s); });
      else if (s.aggregator == "sequence")
        v = custom(s, [&](auto& es) { return ref_sequence(es, acts, s); });
      else if (s.aggregator == "quantile")
        v = custom(s, [&](auto& es) { return ref_quantiles(ref_numbers(es, acts, s.value), s); });
      else if (s.aggregator == "top_frequent")
        v = custom(s, [&](auto& es) {
          return ref_top_frequent(ref_frequencies(es, acts, s.value),
                                  std::stoul(s.params.at("k").text));
        });
      else
        throw std::logic_error("no reference for " + s.name);
      results[s.name] = v;
    }
    Value::Object signals;
    for (const SignalConfig& s : config.signals) signals.emplace_back(s.name, results[s.name]);
    const auto& counts = results["category_counts"];
    signals.emplace_back("top3", ref_top_k(*counts.find(config.views[0].window), 3));
    signals.emplace_back("mix", ref_normalize(*counts.find(config.views[1].window)));
    signals.emplace_back("session", ref_last_session(results["recent_items"], 30 * kMinuteMs));
    // Views added by a test after the three above.
    for (std::size_t i = 3; i < config.views.size(); ++i) {
      const ViewConfig& v = config.views[i];
      if (v.transform == "session_profile") {
        signals.emplace_back(v.name,
                             ref_session_profile(results[v.signal], *find_signal(v.signal)));
      } else if (v.transform == "ratio") {
        const ConfigParam* other = view_param(v, "denominator_signal");
        signals.emplace_back(
            v.name, ref_ratio(results[v.signal], v, other ? &results[other->text] : nullptr,
                              other ? &cross_ratio_cases : nullptr));
      } else if (v.transform == "bucketize") {
        const Value& input =
            v.window.empty() ? results[v.signal] : *results[v.signal].find(v.window);
        signals.emplace_back(v.name, ref_bucketize(input, v));
      } else {
        throw std::logic_error("no reference for " + v.name);
      }
    }
    return Value(Value::Object{{"user_id", Value(user)},
                               {"as_of", Value(as_of)},
                               {"as_of_iso", Value(ref_iso_time(as_of))},
                               {"signals", Value(std::move(signals))}});
  }

  // expected() as the serving front ends answer it, with "seen": whether `all` holds any
  // event of the user, at any time (the streams of these tests stay within retention, so
  // the store still holds every event taken).
  Value served(const std::vector<RefEvent>& all, std::uint64_t user, TimeMs as_of) const {
    Value answer = expected(all, user, as_of);
    const bool seen =
        std::any_of(all.begin(), all.end(), [&](const RefEvent& e) { return e.user == user; });
    Value::Object& fields = answer.object();
    fields.insert(fields.begin() + 3, {"seen", Value(seen)});
    return answer;
  }

  // The quantile and top_frequent answers in `actual` (an Engine::query answer for `user`)
  // outside their exact regime: each is checked against its bound and, when within it,
  // replaced by the exact answer, so that diff() then compares everything else exactly.
  // Returns "" or the first answer out of bounds.
  std::string accept_sketch_answers(const std::vector<RefEvent>& all, std::uint64_t user,
                                    TimeMs as_of, Value& actual, SketchStats& stats) const {
    std::vector<RefEvent> mine;
    for (const auto& e : all)
      if (e.user == user && e.ts <= as_of) mine.push_back(e);
    Value* signals = const_cast<Value*>(actual.find("signals"));
    if (!signals) return "no signals in the answer";
    for (const SignalConfig& s : config.signals) {
      if (s.aggregator != "quantile" && s.aggregator != "top_frequent") continue;
      std::map<std::string, double> actions;
      const std::map<std::string, double>* acts = nullptr;
      if (s.actions) {
        actions.insert(s.actions->begin(), s.actions->end());
        acts = &actions;
      }
      Value* result = const_cast<Value*>(signals->find(s.name));
      if (!result) continue;  // not asked for
      std::vector<std::pair<std::optional<TimeMs>, Value*>> parts;
      if (s.windows.empty()) parts.emplace_back(std::nullopt, result);
      for (const auto& w : s.windows)
        parts.emplace_back(w.length, const_cast<Value*>(result->find(w.text)));
      for (auto& window_part : parts) {
        // Named, not a structured binding: the lambda below captures it (clang 14).
        const std::optional<TimeMs> length = window_part.first;
        Value* part = window_part.second;
        auto es = select(mine, [&](const RefEvent& e) {
          return !length || in_window(e.ts, as_of, *length, config.event_store.retention);
        });
        std::string problem;
        if (s.aggregator == "quantile") {
          std::vector<double> xs = ref_numbers(es, acts, s.value);
          if (xs.size() <= 100) {
            ++stats.exact_checks;
            continue;
          }
          ++stats.bound_checks;
          problem = check_quantiles(xs, s, *part, stats.worst_rank_error);
          if (problem.empty()) *part = ref_quantiles(xs, s);
        } else {
          auto counts = ref_frequencies(es, acts, s.value);
          const std::size_t k = std::stoul(s.params.at("k").text);
          const std::size_t capacity = std::stoul(s.params.at("capacity").text);
          if (counts.size() <= capacity) {
            ++stats.exact_checks;
            continue;
          }
          ++stats.bound_checks;
          problem = check_top_frequent(counts, k, capacity, *part);
          if (problem.empty()) *part = ref_top_frequent(counts, k);
        }
        if (!problem.empty()) return s.name + ": " + problem;
      }
    }
    return "";
  }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }

  void write_pins() {
    std::ofstream out(dir_ / "pins.tsv");
    out << "item_id\tcategories\tembedding\n";
    for (int i = 0; i < 300; ++i) {
      Pin p;
      p.id = fmt::format("pin{}", i);
      std::size_t n = 1 + rng_() % 3;
      for (std::size_t k = 0; k < n; ++k)
        p.categories.push_back(kCategories[rng_() % kCategories.size()]);
      for (int d = 0; d < 4; ++d)
        p.embedding.push_back(static_cast<float>(static_cast<int>(rng_() % 2001) - 1000) / 1000.0f);
      out << p.id << '\t' << fmt::format("{}", fmt::join(p.categories, "|")) << '\t'
          << fmt::format("{}", fmt::join(p.embedding, ",")) << '\n';
      pins.push_back(std::move(p));
    }
    for (const auto& p : pins) pin_by_id[p.id] = &p;
  }

  static std::vector<WindowConfig> windows(const std::vector<std::string>& texts) {
    std::vector<WindowConfig> out;
    for (const auto& t : texts) out.push_back({t, *parse_duration(t)});
    return out;
  }

  void build_config(TimeMs retention, std::vector<std::string> count_windows) {
    config.file = dir_ / "test.yaml";
    config.storage.path = dir_ / "store";
    config.event_store.retention = retention;
    config.sources.push_back(
        SourceConfig{"pins", "table", dir_ / "pins.tsv", "item_id", {}, {}, {}});
    config.features.push_back(FeatureConfig{
        "pin.categories", "pins", "item_id", "categories", FeatureType::kStrings, 0, 0, {}});
    config.features.push_back(FeatureConfig{
        "pin.embedding", "pins", "item_id", "embedding", FeatureType::kVector, 0, 0, {}});
    std::string longest = count_windows.back();
    std::string retention_text = fmt::format("{}h", retention / kHourMs);
    auto signal = [&](std::string name, std::string aggregator, std::string group_by,
                      std::string value,
                      std::optional<std::vector<std::pair<std::string, double>>> actions,
                      std::vector<std::string> w, ConfigParams params = {}) {
      SignalConfig s;
      s.name = std::move(name);
      s.aggregator = std::move(aggregator);
      s.group_by = std::move(group_by);
      s.value = std::move(value);
      s.actions = std::move(actions);
      s.windows = windows(w);
      s.params = std::move(params);
      config.signals.push_back(std::move(s));
    };
    signal("category_counts", "count", "pin.categories", "", std::nullopt, count_windows);
    signal("saves", "count", "", "", std::vector<std::pair<std::string, double>>{{"save", 1}},
           {"1d", longest});
    signal("purchase_value", "sum", "", "attrs.price",
           std::vector<std::pair<std::string, double>>{{"purchase", 1}}, {retention_text, longest});
    signal("affinity", "decayed_count", "pin.categories", "",
           std::vector<std::pair<std::string, double>>{{"save", 3}, {"click", 1}}, {},
           {{"half_life", {"2d", {}}}});
    signal("recent_items", "last_k", "", "item_id", std::nullopt, {}, {{"k", {"5", {}}}});
    signal("distinct_items", "distinct_count", "", "item_id", std::nullopt, {"1d", longest});
    signal("taste", "mean", "", "pin.embedding",
           std::vector<std::pair<std::string, double>>{{"save", 2}, {"click", 1}}, {"1d", longest});
    signal("all_clicks", "count", "", "", std::vector<std::pair<std::string, double>>{{"click", 1}},
           {});
    config.views.push_back(ViewConfig{"top3",
                                      "category_counts",
                                      count_windows[count_windows.size() - 2],
                                      "top_k",
                                      {{"k", {"3", {}}}},
                                      {}});
    config.views.push_back(
        ViewConfig{"mix", "category_counts", count_windows[2], "normalize", {}, {}});
    config.views.push_back(
        ViewConfig{"session", "recent_items", "", "last_session", {{"gap", {"30m", {}}}}, {}});
  }

  std::filesystem::path dir_;
  std::mt19937_64 rng_;
};

}  // namespace signalbox::testing
