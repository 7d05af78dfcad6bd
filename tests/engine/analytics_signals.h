#pragma once

// Signals of the statistics, sequence and sketch built-ins added to a test World, with
// windows shorter and longer than its retention, grouped and not, filtered by actions and
// not, and some without windows; World::expected() knows their references.

#include "world.h"

namespace signalbox::testing {

inline void add_signal(World& world, std::string name, std::string aggregator, std::string value,
                       std::string group_by,
                       std::optional<std::vector<std::pair<std::string, double>>> actions,
                       std::vector<std::string> windows, ConfigParams params = {}) {
  SignalConfig s;
  s.name = std::move(name);
  s.aggregator = std::move(aggregator);
  s.value = std::move(value);
  s.group_by = std::move(group_by);
  s.actions = std::move(actions);
  for (const auto& w : windows) s.windows.push_back({w, *parse_duration(w)});
  s.params = std::move(params);
  world.config.signals.push_back(std::move(s));
}

inline void add_numeric_summary_signals(World& world, const std::vector<std::string>& windows) {
  using Actions = std::vector<std::pair<std::string, double>>;
  add_signal(world, "price_min", "min", "attrs.price", "", std::nullopt, windows);
  add_signal(world, "price_max", "max", "attrs.price", "pin.categories", std::nullopt, windows);
  add_signal(world, "price_avg", "avg", "attrs.price", "", Actions{{"purchase", 2}}, windows);
  add_signal(world, "price_stddev", "stddev", "attrs.price", "", std::nullopt, windows);
  add_signal(world, "price_stddev_by_category", "stddev", "attrs.price", "pin.categories",
             std::nullopt, windows);
  add_signal(world, "price_avg_ever", "avg", "attrs.price", "pin.categories", std::nullopt, {});
}

// A list parameter as the config loader keeps it.
inline ConfigParam list_param(std::vector<std::string> items) {
  ConfigParam p;
  p.scalar = false;
  p.list = true;
  p.text = fmt::format("[{}]", fmt::join(items, ", "));
  p.items = std::move(items);
  return p;
}

inline void add_sequence_signals(World& world, const std::vector<std::string>& windows) {
  using Actions = std::vector<std::pair<std::string, double>>;
  add_signal(world, "history", "sequence", "", "", std::nullopt, windows,
             {{"k", {"7", {}}},
              {"fields", list_param({"ts", "action", "item_id", "pin.categories", "pin.embedding",
                                     "attrs.price", "attrs.surface", "query", "event_id"})}});
  add_signal(world, "saved_history", "sequence", "", "", Actions{{"save", 1}, {"purchase", 0}},
             windows, {{"k", {"3", {}}}, {"fields", list_param({"item_id", "ts"})}});
  add_signal(world, "long_history", "sequence", "", "", std::nullopt, {},
             {{"k", {"40", {}}}, {"fields", list_param({"action", "pin.categories"})}});
}

inline void add_sketch_signals(World& world, const std::vector<std::string>& windows) {
  using Actions = std::vector<std::pair<std::string, double>>;
  add_signal(world, "dwell_quantiles", "quantile", "attrs.dwell", "", std::nullopt, windows,
             {{"quantiles", list_param({"0", "0.01", "0.25", "0.5", "0.7", "0.9", "0.99", "1"})}});
  add_signal(world, "price_median", "quantile", "attrs.price", "", Actions{{"purchase", 1}},
             windows, {{"quantiles", list_param({"0.5"})}});
  add_signal(world, "dwell_quantiles_ever", "quantile", "attrs.dwell", "",
             Actions{{"click", 1}, {"save", 2}}, {},
             {{"quantiles", list_param({"0.1", "0.5", "0.95"})}});
  // Few counters for the pins a user sees (the sketch regime); more than the categories (exact).
  add_signal(world, "frequent_items", "top_frequent", "item_id", "", std::nullopt, windows,
             {{"k", {"5", {}}}, {"capacity", {"20", {}}}});
  add_signal(world, "frequent_categories", "top_frequent", "pin.categories", "",
             Actions{{"save", 1}}, windows, {{"k", {"3", {}}}, {"capacity", {"12", {}}}});
  add_signal(world, "frequent_items_ever", "top_frequent", "item_id", "", std::nullopt, {},
             {{"k", {"10", {}}}, {"capacity", {"40", {}}}});
}

// Views over the World's own signals: a short-term share over a long-term share per category,
// a plain ratio of two counts, and buckets of a count and of a grouped count; and ratios of
// two signals: windowed over a signal without windows and the reverse, grouped and not, with
// group keys on one side only (saves are a subset of all events; `affinity` counts saves and
// clicks over all history) and zero denominators (a day without saves).
inline void add_analytics_views(World& world) {
  const std::vector<WindowConfig> category_windows = world.config.signals[0].windows;
  const std::string short_window = category_windows[0].text,
                    long_window = category_windows.back().text;
  add_signal(world, "category_saves", "count", "", "pin.categories",
             std::vector<std::pair<std::string, double>>{{"save", 1}},
             {category_windows[1].text, long_window});
  const auto& w = world.config.signals[0].windows;  // category_counts
  auto view = [&](std::string name, std::string signal, std::string window, std::string transform,
                  ConfigParams params) {
    world.config.views.push_back(ViewConfig{std::move(name),
                                            std::move(signal),
                                            std::move(window),
                                            std::move(transform),
                                            std::move(params),
                                            {}});
  };
  view("rising_categories", "category_counts", "", "ratio",
       {{"numerator", {w[1].text, {}}},
        {"denominator", {w.back().text, {}}},
        {"share", {"true", {}}}});
  view("category_growth", "category_counts", "", "ratio",
       {{"numerator", {w[0].text, {}}}, {"denominator", {w[2].text, {}}}});
  view("saves_ratio", "saves", "", "ratio",
       {{"numerator", {"1d", {}}}, {"denominator", {world.config.signals[1].windows[1].text, {}}}});
  view("saves_level", "saves", "1d", "bucketize",
       {{"boundaries", list_param({"1", "3", "10"})},
        {"labels", list_param({"none", "few", "some", "many"})}});
  view("category_levels", "category_counts", w[2].text, "bucketize",
       {{"boundaries", list_param({"0.5", "2", "8.5", "30"})}});
  view("category_share_over_affinity", "category_counts", "", "ratio",
       {{"numerator", {w[1].text, {}}},
        {"denominator_signal", {"affinity", {}}},
        {"share", {"true", {}}}});
  view("clicks_over_recent_saves", "all_clicks", "", "ratio",
       {{"denominator_signal", {"saves", {}}}, {"denominator", {"1d", {}}}});
  view("category_save_rate", "category_saves", "", "ratio",
       {{"numerator", {long_window, {}}},
        {"denominator_signal", {"category_counts", {}}},
        {"denominator", {long_window, {}}}});
  view("category_reach_over_saves", "category_counts", "", "ratio",
       {{"numerator", {short_window, {}}},
        {"denominator_signal", {"category_saves", {}}},
        {"denominator", {w[1].text, {}}}});
}

}  // namespace signalbox::testing
