#include "signalbox/materialize/source.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/config/source_keys.h"
#include "signalbox/materialize/sources/fasttext_source.h"
#include "signalbox/materialize/sources/redis_source.h"
#include "signalbox/materialize/sources/table_source.h"

namespace signalbox {

namespace {

struct Registered {
  SourceFactory factory;
  ParamSpecs params;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Registered, std::less<>> factories;
};

// Built-ins are registered on first use rather than by static registrar objects: the linker
// drops unreferenced objects of a static library, and with them their registrars.
Registry& registry() {
  static Registry* r = [] {
    auto* fresh = new Registry;  // never destroyed: plugins may register during exit
    fresh->factories["table"] = {[](const SourceConfig& c) { return TableSource::load(c); }, {}};
    fresh->factories["fasttext"] = {
        [](const SourceConfig& c) { return FastTextSource::load(c); }, {}};
    fresh->factories["redis"] = {
        [](const SourceConfig& c) { return RedisSource::create(c); },
        {{"address", "host:port of the Redis server (or nodes; one of them required)"},
         {"nodes", "the same as address"},
         {"key_prefix", "put before every key (default empty)"},
         {"db", "database number (default 0)"},
         {"password", "sent with AUTH on connect (default none)"},
         {"pool", "connections kept open between batches (default 4)"}}};
    return fresh;
  }();
  return *r;
}

bool is_kind(std::string_view kind) {
  return !kind.empty() && std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

void register_source_kind(const std::string& kind, SourceFactory factory, ParamSpecs params) {
  if (!is_kind(kind)) {
    throw std::invalid_argument(
        fmt::format("bad source kind \"{}\" (use characters a-z 0-9 _)", kind));
  }
  if (!factory) throw std::invalid_argument("register_source_kind: empty factory");
  const ParamSpecs& common = common_source_params();
  // Every key the loader reads for some source (source_keys.h: those of a kind it does not
  // know), whatever kind is being registered: a built-in kind may be replaced.
  const std::vector<std::string> entry_keys = source_entry_keys({});
  for (const ParamSpec& p : params) {
    bool taken = std::find(entry_keys.begin(), entry_keys.end(), p.name) != entry_keys.end() ||
                 std::any_of(common.begin(), common.end(),
                             [&](const ParamSpec& c) { return c.name == p.name; });
    if (taken) {
      throw std::invalid_argument(fmt::format(
          "source kind \"{}\" declares parameter \"{}\", which every source has", kind, p.name));
    }
  }
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[kind] = Registered{std::move(factory), std::move(params)};
}

std::optional<ParamSpecs> source_kind_params(const std::string& kind) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.factories.find(kind);
  if (it == r.factories.end()) return std::nullopt;
  return it->second.params;
}

std::vector<std::string> source_kinds() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> kinds;
  for (const auto& [kind, factory] : r.factories) kinds.push_back(kind);
  return kinds;
}

std::unique_ptr<Source> make_source(const SourceConfig& config) {
  Registered found;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(config.kind);
    if (it != r.factories.end()) found = it->second;
  }
  if (!found.factory) {
    throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                       fmt::format("unknown source kind \"{}\" (known: {})", config.kind,
                                   fmt::join(source_kinds(), ", ")));
  }
  ParamSpecs accepted = found.params;
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
      throw_config_error(param.where, full_key,
                         unknown_key_problem(key, expected,
                                             fmt::format("a {} source", config.kind)));
    }
    if (!param.scalar) throw_config_error(param.where, full_key, "must be a single value");
  }
  std::unique_ptr<Source> source = found.factory(config);
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
