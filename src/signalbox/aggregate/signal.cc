#include "signalbox/aggregate/signal.h"

#include <algorithm>

#include <fmt/format.h>

#include "signalbox/common/hash.h"

namespace signalbox {

namespace {

std::optional<ValueRef> resolve(const SignalConfig& config, std::string_view key,
                                const std::string& text, const FeatureNames& features) {
  if (text.empty()) return std::nullopt;
  auto ref = ValueRef::parse(text, features);
  if (!ref) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < features.size(); ++i) names.push_back(features.name(i));
    throw_config_error(
        config.where, key,
        fmt::format("\"{}\" is neither an event field (item_id, query, action, attrs.NAME) nor "
                    "a configured feature ({})",
                    text,
                    names.empty() ? "none are configured"
                                  : fmt::format("configured: {}", fmt::join(names, ", "))));
  }
  return ref;
}

// What a signal folds when its aggregator does not say: everything written about it but its
// name, windows and actions (the actions join the identity below). Params are in a sorted
// map, so the order they are written in does not matter.
std::string default_fingerprint(const SignalConfig& config) {
  std::string out =
      fmt::format("{}(group_by={},value={}", config.aggregator, config.group_by, config.value);
  for (const auto& [key, param] : config.params) out += fmt::format(",{}={}", key, param.text);
  return out + ")";
}

}  // namespace

Signal::Signal(const SignalConfig& config, const FeatureNames& features) : config_(config) {
  AggregatorContext context{config_, features,
                            resolve(config_, "group_by", config_.group_by, features),
                            resolve(config_, "value", config_.value, features)};
  aggregator_ = make_aggregator(context);
  std::string identity = aggregator_->fingerprint();
  if (identity.empty()) identity = default_fingerprint(config_);
  if (config_.actions) {
    weights_.emplace();
    auto sorted = *config_.actions;
    std::sort(sorted.begin(), sorted.end());
    identity += "|actions=";
    for (const auto& [action, weight] : sorted) {
      (*weights_)[action] = weight;
      identity += fmt::format("{}:{},", action, weight);
    }
  }
  // A signal without windows keeps a base tile into which old day tiles are folded; a
  // windowed signal needs those day tiles as they are. So the two never share state.
  identity += windowed() ? "|windowed" : "|all-history";
  state_id_ = hash64(identity);
}

TimeMs Signal::longest_window() const {
  TimeMs longest = 0;
  for (const auto& w : config_.windows) longest = std::max(longest, w.length);
  return longest;
}

}  // namespace signalbox
