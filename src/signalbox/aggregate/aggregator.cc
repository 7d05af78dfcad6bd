#include "signalbox/aggregate/aggregator.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/config/named_registry.h"

namespace signalbox {

// Defined in builtin_aggregators.cc: adds the built-ins of docs/signals.md through `add`.
void add_builtin_aggregators(
    const std::function<void(std::string, ParamSpecs, AggregatorFactory)>& add);

namespace {

// The built-ins go in when the registry is created, so that a later registration under the
// same name (static or from a plugin) always wins whatever the order of static
// initialisation. Never destroyed: a plugin's factory may be looked up during exit.
NamedRegistry<AggregatorFactory>& registry() {
  static auto* r = [] {
    auto* fresh = new NamedRegistry<AggregatorFactory>("aggregator", "signal", signal_keys());
    add_builtin_aggregators(
        [fresh](std::string name, ParamSpecs params, AggregatorFactory factory) {
          fresh->add(name, std::move(factory), std::move(params));
        });
    return fresh;
  }();
  return *r;
}

}  // namespace

void AggregatorContext::reject(std::string_view key, std::string_view problem) const {
  throw_config_error(signal.where, key, problem);
}

const ValueRef& AggregatorContext::require_value() const {
  if (!value) reject("value", fmt::format("required by aggregator {}", signal.aggregator));
  return *value;
}

void AggregatorContext::forbid_group_by() const {
  if (group_by)
    reject("group_by", fmt::format("not supported by aggregator {}", signal.aggregator));
}

void AggregatorContext::forbid_value() const {
  if (value) reject("value", fmt::format("not used by aggregator {}", signal.aggregator));
}

void AggregatorContext::forbid_windows() const {
  if (!signal.windows.empty())
    reject("windows", fmt::format("aggregator {} answers over all history; it takes no windows",
                                  signal.aggregator));
}

std::int64_t AggregatorContext::param_int(std::string_view key,
                                          std::optional<std::int64_t> fallback) const {
  return signalbox::param_int(signal.params, key, signal.where, fallback);
}

double AggregatorContext::param_double(std::string_view key, std::optional<double> fallback) const {
  return signalbox::param_double(signal.params, key, signal.where, fallback);
}

TimeMs AggregatorContext::param_duration(std::string_view key,
                                         std::optional<TimeMs> fallback) const {
  return signalbox::param_duration(signal.params, key, signal.where, fallback);
}

std::optional<std::vector<std::string>> AggregatorContext::param_list(std::string_view key,
                                                                      bool required) const {
  return signalbox::param_list(signal.params, key, signal.where, required);
}

void register_aggregator(const std::string& name, AggregatorFactory factory, ParamSpecs params) {
  registry().add(name, std::move(factory), std::move(params));
}

std::optional<ParamSpecs> aggregator_params(const std::string& name) {
  auto found = registry().find(name);
  if (!found) return std::nullopt;
  return found->params;
}

const std::vector<std::string>& signal_keys() {
  static const std::vector<std::string> kKeys = {"name",  "aggregator", "group_by",
                                                 "value", "actions",    "windows"};
  return kKeys;
}

std::vector<std::string> aggregator_names() { return registry().names(); }

std::unique_ptr<Aggregator> make_aggregator(const AggregatorContext& context) {
  const auto found = registry().find(context.signal.aggregator);
  if (!found) {
    throw_config_error(context.signal.where, "aggregator",
                       fmt::format("unknown aggregator \"{}\" (known: {})",
                                   context.signal.aggregator, fmt::join(aggregator_names(), ", ")));
  }
  check_params(context.signal.params, found->params,
               fmt::format("aggregator {}", context.signal.aggregator), signal_keys());
  return found->factory(context);
}

}  // namespace signalbox
