#include "signalbox/materialize/source.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/materialize/sources/fasttext_source.h"
#include "signalbox/materialize/sources/redis_source.h"
#include "signalbox/materialize/sources/table_source.h"

namespace signalbox {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, SourceFactory, std::less<>> factories;
};

// Built-ins are registered on first use rather than by static registrar objects: the linker
// drops unreferenced objects of a static library, and with them their registrars.
Registry& registry() {
  static Registry* r = [] {
    auto* fresh = new Registry;  // never destroyed: plugins may register during exit
    fresh->factories["table"] = [](const SourceConfig& c) { return TableSource::load(c); };
    fresh->factories["fasttext"] = [](const SourceConfig& c) { return FastTextSource::load(c); };
    fresh->factories["redis"] = [](const SourceConfig& c) { return RedisSource::create(c); };
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

void register_source_kind(const std::string& kind, SourceFactory factory) {
  if (!is_kind(kind)) {
    throw std::invalid_argument(
        fmt::format("bad source kind \"{}\" (use characters a-z 0-9 _)", kind));
  }
  if (!factory) throw std::invalid_argument("register_source_kind: empty factory");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[kind] = std::move(factory);
}

std::vector<std::string> source_kinds() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> kinds;
  for (const auto& [kind, factory] : r.factories) kinds.push_back(kind);
  return kinds;
}

std::unique_ptr<Source> make_source(const SourceConfig& config) {
  SourceFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(config.kind);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                       fmt::format("unknown source kind \"{}\" (known: {})", config.kind,
                                   fmt::join(source_kinds(), ", ")));
  }
  std::unique_ptr<Source> source = factory(config);
  if (!source) {
    throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                       fmt::format("the factory of kind \"{}\" built no source", config.kind));
  }
  return source;
}

const std::vector<std::string>& common_source_params() {
  static const std::vector<std::string> kParams = {"cache_bytes", "cache_ttl", "timeout",
                                                   "backoff", "reload_interval"};
  return kParams;
}

void check_source_params(const SourceConfig& config,
                         std::initializer_list<std::string_view> own) {
  const auto& common = common_source_params();
  for (const auto& [key, param] : config.params) {
    bool known = std::find(own.begin(), own.end(), key) != own.end() ||
                 std::find(common.begin(), common.end(), key) != common.end();
    if (known) continue;
    std::vector<std::string> expected(own.begin(), own.end());
    expected.insert(expected.end(), common.begin(), common.end());
    throw_config_error(param.where, fmt::format("sources.{}.{}", config.name, key),
                       fmt::format("unknown key for a {} source (expected {})", config.kind,
                                   fmt::join(expected, ", ")));
  }
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
