#include "signalbox/engine/engine.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/plugins.h"
#include "signalbox/store/open_store.h"

namespace signalbox {

namespace {

Value params_value(const ConfigParams& params) {
  Value::Object out;
  for (const auto& [key, param] : params) out.emplace_back(key, Value(param.text));
  return Value(std::move(out));
}

}  // namespace

// Merges stored tile states through the aggregator that owns each state id.
class Engine::Merger final : public TileMerger {
 public:
  explicit Merger(const std::vector<const Signal*>& owners) {
    for (const Signal* s : owners) owners_[s->state_id()] = &s->aggregator();
  }

  std::string merge(std::uint64_t state_id,
                    std::span<const std::string_view> operands) const override {
    auto it = owners_.find(state_id);
    if (it == owners_.end() || operands.empty())
      return operands.empty() ? std::string() : std::string(operands.back());
    const Aggregator& aggregator = *it->second;
    std::unique_ptr<State> total = aggregator.decode(operands[0]);
    for (std::size_t i = 1; i < operands.size(); ++i)
      aggregator.merge(*total, *aggregator.decode(operands[i]));
    std::string out;
    aggregator.encode(*total, out);
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, const Aggregator*> owners_;
};

Engine::Engine(const Config& config, Options options)
    : config_(config),
      options_(options),
      fold_slice_users_(options.fold_slice_users.value_or(config.storage.fold_slice_users)) {
  // First: a plugin may define the aggregators and views the signals below name.
  load_plugins(config_);
  materializer_ = std::make_unique<Materializer>(config_);
  const FeatureNames& features = materializer_->feature_names();
  std::unordered_map<std::uint64_t, const Signal*> owners;
  // Raw events are kept for the retention plus the allowed clock skew, so that a window as long
  // as the retention still answers exactly at the wall clock when producers' clocks run ahead.
  retention_.retention = config_.event_store.retention + config_.event_store.max_future_skew;
  retention_.late_horizon = signalbox::late_horizon(config_);
  late_horizon_ = options.late_horizon.value_or(retention_.late_horizon);
  if (const std::size_t bytes = options.span_cache_bytes.value_or(config_.storage.span_cache))
    span_cache_ = std::make_unique<SpanCache>(bytes);
  if (late_horizon_ < 0 || late_horizon_ > retention_.late_horizon) {
    throw std::invalid_argument(fmt::format(
        "late horizon {} ms: must be from 0 to the config's {} ms, for which ids are kept",
        late_horizon_, retention_.late_horizon));
  }
  for (const SignalConfig& sc : config_.signals) {
    if (signal_index_.count(sc.name))
      throw_config_error(sc.where, "name", fmt::format("signal \"{}\" defined twice", sc.name));
    auto signal = std::make_unique<Signal>(sc, features);
    signal_index_[sc.name] = signals_.size();
    if (!owners.count(signal->state_id())) {
      owners[signal->state_id()] = signal.get();
      state_owners_.push_back(signal.get());
    }
    StatePolicy& policy = retention_.states[signal->state_id()];
    policy.longest_window = std::max(policy.longest_window, signal->longest_window());
    TimeMs exact = policy.exact_window.value_or(0);
    for (const WindowConfig& w : signal->windows())
      if (w.length <= config_.event_store.retention) exact = std::max(exact, w.length);
    policy.exact_window = exact;
    policy.keep_base = policy.keep_base || !signal->windowed();
    signals_.push_back(std::move(signal));
  }
  std::vector<const Signal*> all_signals;
  for (const auto& signal : signals_) all_signals.push_back(signal.get());
  for (const ViewConfig& vc : config_.views) {
    auto it = signal_index_.find(vc.signal);
    if (it == signal_index_.end())
      throw_config_error(vc.where, "signal", fmt::format("no signal named \"{}\"", vc.signal));
    if (signal_index_.count(vc.name) || view_index_.count(vc.name))
      throw_config_error(vc.where, "name", fmt::format("name \"{}\" is already used", vc.name));
    views_.push_back(make_view(ViewContext{vc, *signals_[it->second], all_signals}));
    view_signal_.push_back(it->second);
    view_operands_.push_back(operand_indexes(vc, *views_.back()));
    view_index_[vc.name] = views_.size() - 1;
  }
  // By state id: the order a tile stores its states in.
  std::sort(state_owners_.begin(), state_owners_.end(),
            [](const Signal* a, const Signal* b) { return a->state_id() < b->state_id(); });
  merger_ = std::make_unique<Merger>(state_owners_);
  std::unordered_map<std::uint64_t, std::size_t> owner_of;
  for (std::size_t o = 0; o < state_owners_.size(); ++o) owner_of[state_owners_[o]->state_id()] = o;
  for (const auto& signal : signals_) signal_owner_.push_back(owner_of.at(signal->state_id()));
  records_.assign(state_owners_.size(), StateRecord());
  complete_since_ = std::make_unique<std::atomic<TimeMs>[]>(state_owners_.size());
  bootstrapping_ = std::make_unique<std::atomic<bool>[]>(state_owners_.size());
  for (const auto& s : signals_) all_names_.push_back(s->name());
  for (const auto& v : config_.views) all_names_.push_back(v.name);
  all_name_refs_ = name_refs(all_names_);
  all_requests_ = requests_for(all_name_refs_);
  if (!options_.open_store) return;
  store_ = open_store(config_, *merger_,
                      {.read_only = options_.read_only, .bulk_load = options_.bulk_load});
  if (options_.wrap_store) store_ = options_.wrap_store(std::move(store_));
  decode_options_.max_future_skew = config_.event_store.max_future_skew;
  MutexLock lock(write_mutex_);  // uncontended: for the members it guards
  last_expiry_ = last_fold_ = store_->high_water();
  open_registry();
}

Engine::~Engine() = default;

std::vector<std::pair<std::size_t, std::string>> Engine::operand_indexes(const ViewConfig& vc,
                                                                         const View& view) const {
  std::vector<std::pair<std::size_t, std::string>> out;
  for (const View::Operand& operand : view.operands()) {
    auto it = signal_index_.find(operand.signal);
    if (it == signal_index_.end())
      throw_config_error(vc.where, "transform",
                         fmt::format("{} reads signal \"{}\", which is not configured",
                                     vc.transform, operand.signal));
    const auto& windows = signals_[it->second]->windows();
    bool known = operand.window.empty()
                     ? windows.empty()
                     : std::any_of(windows.begin(), windows.end(),
                                   [&](const WindowConfig& w) { return w.text == operand.window; });
    if (!known)
      throw_config_error(
          vc.where, "transform",
          fmt::format("{} reads window \"{}\" of signal \"{}\", which it does not have",
                      vc.transform, operand.window, operand.signal));
    out.emplace_back(it->second, operand.window);
  }
  return out;
}

std::vector<std::string> Engine::names() const { return all_names_; }

void Engine::maybe_expire(TimeMs high_water) {
  // Called with write_mutex_ held. Moving the horizon is cheap; folding visits every user
  // active since the last fold, so it waits for a week of stream time, and goes a slice of
  // users per commit. A running bootstrap holds expiry: it reads raw events that compactions
  // would otherwise drop from under it.
  if (high_water == kBeginningOfTime || bootstrap_pending()) return;
  if (last_expiry_ != kBeginningOfTime && high_water - last_expiry_ < kDayMs) {
    store_->continue_fold(fold_slice_users_);
    return;
  }
  bool fold = last_fold_ == kBeginningOfTime || high_water - last_fold_ >= 7 * kDayMs;
  store_->expire(retention_, {.ids_hold = ids_hold(),
                              .fold_base = fold,
                              .fold_slice_users = fold_slice_users_,
                              .compact = false});
  last_expiry_ = high_water;
  if (fold) last_fold_ = high_water;
}

void Engine::expire(ExpireOptions options) {
  {
    MutexLock lock(write_mutex_);
    if (bootstrap_pending()) return;  // see maybe_expire
    store_->expire(retention_, {.ids_hold = ids_hold(),
                                .fold_base = true,
                                .fold_slice_users = fold_slice_users_,
                                .compact_tiles = options.compact_tiles,
                                .compact = options.compact});
    last_expiry_ = last_fold_ = store_->high_water();
  }
  // The rest of the fold, if the store left some (it folds at once when compacting), a slice
  // at a time: commits waiting for the lock go in between.
  while (true) {
    MutexLock lock(write_mutex_);
    if (bootstrap_pending() || !store_->continue_fold(fold_slice_users_)) break;
  }
}
std::vector<std::uint64_t> Engine::sample_users(std::size_t limit) {
  std::vector<std::uint64_t> out = recent_users_.newest(limit);
  std::unordered_set<std::uint64_t> seen(out.begin(), out.end());
  // Asks for enough stored users to fill the answer even if every recent one is among them.
  for (std::uint64_t user : store_->snapshot()->users(0, limit + out.size())) {
    if (out.size() >= limit) break;
    if (seen.insert(user).second) out.push_back(user);
  }
  return out;
}

Value Engine::describe() const {
  Value::Array signals;
  for (const auto& s : signals_) {
    const SignalConfig& c = s->config();
    Value::Object o{{"name", Value(c.name)}, {"aggregator", Value(c.aggregator)}};
    if (!c.group_by.empty()) o.emplace_back("group_by", Value(c.group_by));
    if (!c.value.empty()) o.emplace_back("value", Value(c.value));
    if (c.actions) {
      Value::Object actions;
      for (const auto& [action, weight] : *c.actions) actions.emplace_back(action, Value(weight));
      o.emplace_back("actions", Value(std::move(actions)));
    }
    if (!c.windows.empty()) {
      Value::Array windows;
      for (const auto& w : c.windows) windows.emplace_back(w.text);
      o.emplace_back("windows", Value(std::move(windows)));
    }
    if (!c.params.empty()) o.emplace_back("params", params_value(c.params));
    if (store_) {
      const std::size_t owner = signal_owner_[signal_index_.at(c.name)];
      o.emplace_back("complete_since", Value(complete_since_[owner].load()));
      if (complete_since_[owner].load() > 0)
        o.emplace_back("complete_since_iso", Value(format_iso_time(complete_since_[owner].load())));
      o.emplace_back("bootstrapping", Value(bootstrapping_[owner].load()));
    }
    signals.emplace_back(std::move(o));
  }
  Value::Array views;
  for (const ViewConfig& c : config_.views) {
    Value::Object o{{"name", Value(c.name)}, {"signal", Value(c.signal)}};
    if (!c.window.empty()) o.emplace_back("window", Value(c.window));
    o.emplace_back("transform", Value(c.transform));
    if (!c.params.empty()) o.emplace_back("params", params_value(c.params));
    views.emplace_back(std::move(o));
  }
  return Value(
      Value::Object{{"signals", Value(std::move(signals))}, {"views", Value(std::move(views))}});
}

}  // namespace signalbox
