#include "signalbox/materialize/source.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/config/named_registry.h"
#include "signalbox/config/source_keys.h"
#include "signalbox/materialize/sources/fasttext_source.h"
#include "signalbox/materialize/sources/redis_source.h"
#include "signalbox/materialize/sources/table_source.h"

namespace signalbox {

namespace {

// The keys of every source, which no kind may declare as a parameter.
std::vector<std::string> reserved_source_keys() {
  // Every key the loader reads for some source (source_keys.h: those of a kind it does not
  // know): a built-in kind may be replaced.
  std::vector<std::string> keys = source_entry_keys({});
  for (const ParamSpec& p : common_source_params()) keys.push_back(p.name);
  return keys;
}

// Built-ins are registered on first use rather than by static registrar objects: the linker
// drops unreferenced objects of a static library, and with them their registrars.
NamedRegistry<SourceFactory>& registry() {
  static auto* r = [] {
    // Never destroyed: plugins may register during exit.
    auto* fresh = new NamedRegistry<SourceFactory>("source kind", "source", reserved_source_keys());
    fresh->add("table", [](const SourceConfig& c) { return TableSource::load(c); }, {});
    fresh->add("fasttext", [](const SourceConfig& c) { return FastTextSource::load(c); }, {});
    fresh->add("redis", [](const SourceConfig& c) { return RedisSource::create(c); },
               {{"address", "host:port of the Redis server (or nodes; one of them required)"},
                {"nodes", "the same as address"},
                {"key_prefix", "put before every key (default empty)"},
                {"db", "database number (default 0)"},
                {"password", "sent with AUTH on connect (default none)"},
                {"pool", "connections kept open between batches (default 4)"}});
    return fresh;
  }();
  return *r;
}

}  // namespace

void register_source_kind(const std::string& kind, SourceFactory factory, ParamSpecs params) {
  registry().add(kind, std::move(factory), std::move(params));
}

std::optional<ParamSpecs> source_kind_params(const std::string& kind) {
  auto found = registry().find(kind);
  if (!found) return std::nullopt;
  return found->params;
}

std::vector<std::string> source_kinds() { return registry().names(); }

std::unique_ptr<Source> make_source(const SourceConfig& config) {
  const auto found = registry().find(config.kind);
  if (!found) {
    throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                       fmt::format("unknown source kind \"{}\" (known: {})", config.kind,
                                   fmt::join(source_kinds(), ", ")));
  }
  ParamSpecs accepted = found->params;
  const ParamSpecs& common = common_source_params();
  accepted.insert(accepted.end(), common.begin(), common.end());
  for (const auto& entry : config.params) {
    // Named, not a structured binding: the lambda below captures it (clang 14).
    const std::string& key = entry.first;
    const ConfigParam& param = entry.second;
    bool known = std::any_of(accepted.begin(), accepted.end(),
                             [&](const ParamSpec& s) { return s.name == key; });
    // Named here rather than by the parameter's location, which a source built in code may
    // not have filled in.
    std::string full_key = fmt::format("sources.{}.{}", config.name, key);
    if (!known) {
      std::vector<std::string> expected;
      for (const ParamSpec& s : accepted) expected.push_back(s.name);
      std::vector<std::string> entry = source_entry_keys(config.kind);
      expected.insert(expected.end(), entry.begin(), entry.end());
      throw_config_error(
          param.where, full_key,
          unknown_key_problem(key, expected, fmt::format("a {} source", config.kind)));
    }
    if (!param.scalar) throw_config_error(param.where, full_key, "must be a single value");
  }
  std::unique_ptr<Source> source = found->factory(config);
  if (!source) {
    throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                       fmt::format("the factory of kind \"{}\" built no source", config.kind));
  }
  return source;
}

const ParamSpecs& common_source_params() {
  static const ParamSpecs kParams = {
      {"cache_bytes", "size of the feature cache in front of the source (0: none)"},
      {"cache_ttl", "how long a cached answer is used (none: until evicted)"},
      {"timeout", "how long one batched call may take before it is abandoned"},
      {"backoff", "how long a failing source is skipped"},
      {"reload_interval", "how often the source checks whether its data changed"}};
  return kParams;
}

std::string source_param(const SourceConfig& config, std::string_view key,
                         std::string_view fallback) {
  auto it = config.params.find(key);
  return it == config.params.end() ? std::string(fallback) : it->second.text;
}

TimeMs source_duration(const SourceConfig& config, std::string_view key, TimeMs fallback) {
  auto it = config.params.find(key);
  if (it == config.params.end()) return fallback;
  if (it->second.text == "none") return 0;
  std::optional<TimeMs> d = parse_duration(it->second.text);
  if (!d) {
    throw_config_error(it->second.where, fmt::format("sources.{}.{}", config.name, key),
                       fmt::format("bad duration \"{}\" (use <integer><unit>, unit ms, s, m, h "
                                   "or d, or none)",
                                   it->second.text));
  }
  return *d;
}

}  // namespace signalbox
