#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/config/signal_definition.h"

namespace signalbox {

// One configured signal: an aggregator, the actions it counts with their weights, and the
// windows it answers. Immutable; safe to share between threads.
class Signal {
 public:
  // Throws ConfigError (file:line: key: problem) for an unknown aggregator, a value reference
  // that names nothing, or parameters the aggregator rejects.
  Signal(const SignalConfig& config, const FeatureNames& features);

  const std::string& name() const { return config_.name; }
  const SignalConfig& config() const { return config_; }
  const Aggregator& aggregator() const { return *aggregator_; }
  const std::vector<WindowConfig>& windows() const { return config_.windows; }
  bool windowed() const { return !config_.windows.empty(); }
  TimeMs longest_window() const;

  // The weight `event` counts with, or nullopt when its action is not listed.
  std::optional<double> weight(const MaterializedEvent& event) const {
    if (!weights_) return 1.0;
    auto it = weights_->find(event.event.action);
    if (it == weights_->end()) return std::nullopt;
    return it->second;
  }

  // Identifies the state this signal folds (aggregator fingerprint and action weights, not
  // the name or windows): signals with equal ids share stored state.
  std::uint64_t state_id() const { return state_id_; }

 private:
  SignalConfig config_;
  std::unique_ptr<Aggregator> aggregator_;
  std::optional<std::unordered_map<std::string, double>> weights_;
  std::uint64_t state_id_ = 0;
};

}  // namespace signalbox
