#include "signalbox/aggregate/aggregator.h"

#include <map>
#include <mutex>

#include <fmt/format.h>

namespace signalbox {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, AggregatorFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_builtin_aggregators();

void register_aggregator(const std::string& name, AggregatorFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> aggregator_names() {
  register_builtin_aggregators();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

std::unique_ptr<Aggregator> make_aggregator(const AggregatorContext& context) {
  register_builtin_aggregators();
  AggregatorFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(context.signal.aggregator);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    throw_config_error(context.signal.where, "aggregator",
                       fmt::format("unknown aggregator \"{}\" (known: {})",
                                   context.signal.aggregator,
                                   fmt::join(aggregator_names(), ", ")));
  }
  return factory(context);
}

}  // namespace signalbox
