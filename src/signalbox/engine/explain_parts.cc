#include "signalbox/engine/explain_parts.h"

#include <algorithm>
#include <tuple>

namespace signalbox {

namespace {

Value feature_value(const FeatureValue& value) {
  if (const auto* strings = std::get_if<std::vector<std::string>>(&value)) {
    Value::Array out;
    for (const std::string& s : *strings) out.emplace_back(s);
    return Value(std::move(out));
  }
  if (const auto* vector = std::get_if<std::vector<float>>(&value)) {
    Value::Array out;
    for (float x : *vector) out.emplace_back(static_cast<double>(x));
    return Value(std::move(out));
  }
  if (const auto* number = std::get_if<double>(&value)) return Value(*number);
  return Value();
}

bool newer(const MaterializedEvent& a, const MaterializedEvent& b) {
  return std::tie(a.event.ts, a.event.event_id) > std::tie(b.event.ts, b.event.event_id);
}

}  // namespace

Value explained_event(const MaterializedEvent& e, const FeatureNames& features, double weight,
                      const Value& value, bool decides) {
  Value::Object out;
  out.emplace_back("ts", Value(e.event.ts));
  out.emplace_back("event_id", Value(e.event.event_id));
  out.emplace_back("action", Value(e.event.action));
  if (e.event.item_id) out.emplace_back("item_id", Value(*e.event.item_id));
  if (e.event.query) out.emplace_back("query", Value(*e.event.query));
  if (!e.event.attrs.empty()) {
    Value::Object attrs;
    for (const auto& [name, value] : e.event.attrs) {
      if (const auto* s = std::get_if<std::string>(&value))
        attrs.emplace_back(name, Value(*s));
      else
        attrs.emplace_back(name, Value(std::get<double>(value)));
    }
    out.emplace_back("attrs", Value(std::move(attrs)));
  }
  Value::Object looked_up;
  for (std::size_t i = 0; i < e.features.size() && i < features.size(); ++i)
    if (!std::holds_alternative<std::monostate>(e.features[i]))
      looked_up.emplace_back(features.name(i), feature_value(e.features[i]));
  out.emplace_back("features", Value(std::move(looked_up)));
  out.emplace_back("weight", Value(weight));
  out.emplace_back("value", value);
  if (decides) out.emplace_back("decides", Value(true));
  return Value(std::move(out));
}

void WindowParts::on_tile(const StoredTile& tile, const State& state) {
  tiles_.push_back(
      {tile.kind, tile.start, tile.covered_through, signal_.aggregator().result(state, as_of_)});
}

void WindowParts::on_event(const MaterializedEvent& event, double weight) {
  std::unique_ptr<State> alone = signal_.aggregator().make_state();
  signal_.aggregator().fold(*alone, event, weight);
  events_.push_back({&event, weight, signal_.aggregator().result(*alone, as_of_)});
}

Value WindowParts::explanation(const WindowPlan& plan, std::optional<TimeMs> from,
                               const Value& value, const CombineRule& rule, std::size_t max_events,
                               const FeatureNames& features) const {
  Value::Array tiles;
  for (const TilePart& t : tiles_) {
    Value::Object o;
    o.emplace_back("kind", Value(tile_kind_name(t.kind)));
    const bool base = t.kind == TileKind::kBase;
    o.emplace_back("from", base ? Value() : Value(t.start));
    o.emplace_back("to",
                   base ? Value(t.covered_through) : Value(t.start + tile_length(t.kind) - 1));
    o.emplace_back("value", t.value);
    if (part_decides(rule, t.value, value)) o.emplace_back("decides", Value(true));
    tiles.emplace_back(std::move(o));
  }

  // Which events to list: under a selective rule those that decide first, then the newest.
  std::vector<std::size_t> order(events_.size());
  std::vector<bool> decides(events_.size());
  for (std::size_t i = 0; i < events_.size(); ++i) {
    order[i] = i;
    decides[i] = part_decides(rule, events_[i].value, value);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (decides[a] != decides[b]) return static_cast<bool>(decides[a]);
    return newer(*events_[a].event, *events_[b].event);
  });
  if (order.size() > max_events) order.resize(max_events);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return newer(*events_[a].event, *events_[b].event);
  });
  Value::Array events;
  for (std::size_t i : order) {
    events.push_back(explained_event(*events_[i].event, features, events_[i].weight,
                                     events_[i].value, decides[i]));
  }

  Value::Object out;
  out.emplace_back("window", plan.label.empty() ? Value() : Value(plan.label));
  out.emplace_back("from", from ? Value(*from) : Value());
  out.emplace_back("to", Value(as_of_));
  out.emplace_back("value", value);
  out.emplace_back("tiles", Value(std::move(tiles)));
  out.emplace_back("events", Value(std::move(events)));
  out.emplace_back("events_total", Value(static_cast<std::uint64_t>(events_.size())));
  out.emplace_back("truncated", Value(static_cast<std::uint64_t>(events_.size() - order.size())));
  return Value(std::move(out));
}

}  // namespace signalbox
