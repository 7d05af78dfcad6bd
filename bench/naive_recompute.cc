#include "naive_recompute.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>

#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox::bench {

// The naive store holds no tiles worth merging (its engine's tiles are not read here).
class NaiveRecompute::KeepNewest final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    return operands.empty() ? std::string() : std::string(operands.back());
  }
};

NaiveRecompute::NaiveRecompute(const Config& config, const std::filesystem::path& store_path)
    : config_(config), materializer_(config), merger_(std::make_unique<KeepNewest>()) {
  store_ = open_rocksdb_store({store_path, true, false}, *merger_);
  for (const auto& s : config.signals)
    signals_.push_back(std::make_unique<Signal>(s, materializer_.feature_names()));
}

NaiveRecompute::~NaiveRecompute() = default;

Value NaiveRecompute::query(std::uint64_t user, TimeMs as_of) {
  auto snapshot = store_->snapshot();
  std::vector<MaterializedEvent> events;
  snapshot->scan_events(user, 0, as_of, [&](std::string_view bytes) {
    events.push_back(decode_event(bytes, materializer_.feature_names()));
  });
  Value::Object out;
  for (const auto& signal : signals_) {
    const Aggregator& a = signal->aggregator();
    auto fold = [&](TimeMs from) {
      auto state = a.make_state();
      for (const auto& e : events)
        if (e.event.ts >= from)
          if (auto w = signal->weight(e)) a.fold(*state, e, *w);
      return a.result(*state, as_of);
    };
    if (!signal->windowed()) {
      out.emplace_back(signal->name(), fold(std::numeric_limits<TimeMs>::min()));
      continue;
    }
    Value::Object windows;
    for (const auto& w : signal->windows()) {
      TimeMs from = w.length <= config_.event_store.retention ? as_of - w.length + 1
                                                              : floor_day(as_of - w.length);
      windows.emplace_back(w.text, fold(from));
    }
    out.emplace_back(signal->name(), Value(std::move(windows)));
  }
  return Value(std::move(out));
}

bool same_answer(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number())
    return std::abs(a.number() - b.number()) <=
           1e-9 * std::max({1.0, std::abs(a.number()), std::abs(b.number())});
  if (a.is_object() && b.is_object()) {
    if (a.object().size() != b.object().size()) return false;
    for (std::size_t i = 0; i < a.object().size(); ++i)
      if (a.object()[i].first != b.object()[i].first ||
          !same_answer(a.object()[i].second, b.object()[i].second))
        return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.array().size() != b.array().size()) return false;
    for (std::size_t i = 0; i < a.array().size(); ++i)
      if (!same_answer(a.array()[i], b.array()[i])) return false;
    return true;
  }
  return a == b;
}

std::size_t differing_signals(const Value& served, const Value& recomputed) {
  std::size_t differing = 0;
  const Value* signals = served.find("signals");
  for (const auto& [name, v] : recomputed.object()) {
    const Value* answer = signals ? signals->find(name) : nullptr;
    if (answer == nullptr || !same_answer(*answer, v)) ++differing;
  }
  return differing;
}

}  // namespace signalbox::bench
