#include "signalbox/engine/plugins.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <signalbox/signal_kit.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

// Collects what a plugin registers, so that its names can be checked as a whole before any
// of them is taken.
class CollectingRegistrar final : public PluginRegistrar {
 public:
  template <class Factory>
  struct Entry {
    std::string name;
    Factory factory;
    ParamSpecs params;
  };

  void add_aggregator(const std::string& name, AggregatorFactory factory,
                      ParamSpecs params) override {
    aggregators.push_back({name, std::move(factory), std::move(params)});
  }
  void add_view(const std::string& name, ViewFactory factory, ParamSpecs params) override {
    views.push_back({name, std::move(factory), std::move(params)});
  }

  std::vector<Entry<AggregatorFactory>> aggregators;
  std::vector<Entry<ViewFactory>> views;
};

std::mutex& loaded_mutex() {
  static std::mutex m;
  return m;
}

std::set<std::string>& loaded_paths() {
  static auto* paths = new std::set<std::string>;  // never destroyed, like the registries
  return *paths;
}

std::string dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown error";
}

// Loads `path` (canonical), naming it as the config wrote it (`written`) in messages.
void load_one(const std::filesystem::path& path, const std::filesystem::path& written,
              const ConfigLocation& where) {
  auto refuse = [&](std::string_view problem) {
    throw_config_error(where, where.path, fmt::format("plugin {}: {}", written.string(), problem));
  };

  // A refused library is not closed either: its static constructors have run, and a library
  // built without SIGNALBOX_PLUGIN may have registered something that points into it.
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) refuse(fmt::format("cannot load: {}", dl_error()));

  auto abi = reinterpret_cast<PluginAbiFunction>(dlsym(handle, kPluginAbiSymbol));
  if (!abi)
    refuse(
        fmt::format("not a Signalbox plugin: it exports no {} (build it with "
                    "signalbox_add_plugin from cmake/SignalboxSignals.cmake)",
                    kPluginAbiSymbol));
  std::uint32_t theirs = abi();
  if (theirs != SIGNALBOX_PLUGIN_ABI_VERSION)
    refuse(
        fmt::format("built for plugin ABI version {}, but this signalbox has plugin ABI "
                    "version {}; rebuild the plugin against this Signalbox's headers",
                    theirs, SIGNALBOX_PLUGIN_ABI_VERSION));
  auto register_fn = reinterpret_cast<PluginRegisterFunction>(dlsym(handle, kPluginRegisterSymbol));
  if (!register_fn)
    refuse(fmt::format("not a Signalbox plugin: it exports no {}", kPluginRegisterSymbol));

  CollectingRegistrar registrar;
  try {
    register_fn(registrar);
  } catch (const std::exception& e) {
    refuse(fmt::format("its register function failed: {}", e.what()));
  }
  // A plugin may not take a name that is already in use: silently replacing `count` for
  // every signal of the config would be a surprise nobody wants.
  std::vector<std::string> aggregators = aggregator_names();
  std::vector<std::string> views = view_names();
  std::set<std::string> seen_aggregators, seen_views;
  for (const auto& [name, factory, params] : registrar.aggregators) {
    if (std::find(aggregators.begin(), aggregators.end(), name) != aggregators.end())
      refuse(fmt::format("registers aggregator \"{}\", which is already defined", name));
    if (!seen_aggregators.insert(name).second)
      refuse(fmt::format("registers aggregator \"{}\" twice", name));
  }
  for (const auto& [name, factory, params] : registrar.views) {
    if (std::find(views.begin(), views.end(), name) != views.end())
      refuse(fmt::format("registers view transform \"{}\", which is already defined", name));
    if (!seen_views.insert(name).second)
      refuse(fmt::format("registers view transform \"{}\" twice", name));
  }
  // The loader takes these keys before any parameter, so such a parameter could never be set.
  auto check_declared = [&](std::string_view what, const std::string& name,
                            const ParamSpecs& params, const std::vector<std::string>& taken) {
    for (const ParamSpec& p : params)
      if (std::find(taken.begin(), taken.end(), p.name) != taken.end())
        refuse(fmt::format("{} \"{}\" declares parameter \"{}\", which is a key of every {}", what,
                           name, p.name, what == "aggregator" ? "signal" : "view"));
  };
  for (const auto& [name, factory, params] : registrar.aggregators)
    check_declared("aggregator", name, params, signal_keys());
  for (const auto& [name, factory, params] : registrar.views)
    check_declared("view transform", name, params, view_keys());
  for (auto& [name, factory, params] : registrar.aggregators)
    register_aggregator(name, std::move(factory), std::move(params));
  for (auto& [name, factory, params] : registrar.views)
    register_view(name, std::move(factory), std::move(params));
}

}  // namespace

void load_plugins(const Config& config) {
  std::lock_guard lock(loaded_mutex());
  for (std::size_t i = 0; i < config.plugins.size(); ++i) {
    ConfigLocation where = i < config.plugin_locations.size()
                               ? config.plugin_locations[i]
                               : ConfigLocation{config.file.string(), 0, {}};
    if (where.path.empty()) where.path = fmt::format("plugins[{}]", i);
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(config.plugins[i], ec);
    if (ec) canonical = config.plugins[i];
    if (loaded_paths().count(canonical.string())) continue;
    load_one(canonical, config.plugins[i], where);
    loaded_paths().insert(canonical.string());
  }
}

}  // namespace signalbox
