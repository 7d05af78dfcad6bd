#pragma once

// The Signalbox signal kit: what the author of a custom aggregator or view includes.
//
// A custom aggregator is a class that folds events into a mergeable state (AggregatorOf<S>:
// fold, merge, result, encode, decode) with a constructor taking the AggregatorContext; a
// custom view is a View with a constructor taking the ViewContext. One line registers either
// under the name a config uses, with the parameters it reads ({} for none):
//
//   SIGNALBOX_REGISTER_AGGREGATOR(histogram, Histogram,    // aggregator: histogram
//                                 {{"width", "bucket width (a number > 0)"}});
//   SIGNALBOX_REGISTER_VIEW(rising, Rising, {{"k", "entries kept"}});  // transform: rising
//
// A config that writes any other key for it is refused at load ("unknown key for aggregator
// histogram (did you mean width?)"), so a misspelt parameter never goes silently unused.
//
// Tiles, windows, storage, deduplication and serving then work for it with no more code.
// The same source builds either into the `signalbox` executable (signalbox_add_signals in
// cmake/SignalboxSignals.cmake) or into a plugin that a config loads (signalbox_add_plugin,
// which compiles with SIGNALBOX_PLUGIN defined). docs/write-your-first-signal.md walks
// through one.
//
// The classes themselves are declared in the headers included below, which are the one
// source of truth for them; this header adds registration and the plugin interface.

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/signal.h"
#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/common/time.h"
#include "signalbox/common/value.h"
#include "signalbox/config/signal_definition.h"
#include "signalbox/event/event.h"
#include "signalbox/event/value_ref.h"
#include "signalbox/view/view.h"

// The version of the plugin interface: this header and the headers it includes. It changes
// whenever a change to them would break a plugin built against the previous ones, and a
// plugin built for another version is refused when a config loads it.
#define SIGNALBOX_PLUGIN_ABI_VERSION 7

namespace signalbox {

// What a plugin's register function adds its aggregators and views to. The host refuses a
// name that is already registered (built in, or by another plugin) with a ConfigError
// naming the plugin. Valid only during the register call; not thread-safe.
// Each comes with the parameters it reads; one named like a key of every signal (or view)
// is refused too, as the loader would never pass it on.
class PluginRegistrar {
 public:
  virtual void add_aggregator(const std::string& name, AggregatorFactory factory,
                              ParamSpecs params) = 0;
  virtual void add_view(const std::string& name, ViewFactory factory, ParamSpecs params) = 0;

 protected:
  ~PluginRegistrar() = default;
};

// The symbols a plugin exports, with C linkage so that the host finds them by name:
//
//   std::uint32_t signalbox_plugin_abi_version();  // SIGNALBOX_PLUGIN_ABI_VERSION when built
//   void signalbox_plugin_register(signalbox::PluginRegistrar& registrar);
//
// Compiling with SIGNALBOX_PLUGIN defined makes this header define both; the host calls the
// second only after the first has returned its own version.
inline constexpr const char* kPluginAbiSymbol = "signalbox_plugin_abi_version";
inline constexpr const char* kPluginRegisterSymbol = "signalbox_plugin_register";
using PluginAbiFunction = std::uint32_t (*)();
using PluginRegisterFunction = void (*)(PluginRegistrar&);

namespace kit_detail {

template <class Class>
AggregatorFactory aggregator_factory() {
  static_assert(std::is_base_of_v<Aggregator, Class>, "an aggregator derives from Aggregator");
  return [](const AggregatorContext& context) -> std::unique_ptr<Aggregator> {
    return std::make_unique<Class>(context);
  };
}

template <class Class>
ViewFactory view_factory() {
  static_assert(std::is_base_of_v<View, Class>, "a view derives from View");
  return [](const ViewContext& context) -> std::unique_ptr<View> {
    return std::make_unique<Class>(context);
  };
}

// The parameter list of a registration macro: required, so that a class cannot be registered
// without saying what it reads.
inline ParamSpecs declared_params(ParamSpecs params) { return params; }
template <int kNone = 0>
ParamSpecs declared_params() {
  static_assert(kNone != 0,
                "SIGNALBOX_REGISTER_AGGREGATOR / _VIEW(name, Class, params): declare the "
                "parameters the class reads, e.g. {{\"width\", \"bucket width\"}}, or {} for none");
  return {};
}

}  // namespace kit_detail
}  // namespace signalbox

#ifdef SIGNALBOX_PLUGIN

// In a plugin, registrations wait in a list until the host has checked the ABI version and
// calls signalbox_plugin_register. The list is hidden so that each plugin keeps its own,
// even though the executable's symbols are visible to it.
namespace signalbox {
namespace kit_plugin __attribute__((visibility("hidden"))) {

  struct Pending {
    std::string name;
    AggregatorFactory aggregator;  // one of the two is set
    ViewFactory view;
    ParamSpecs params;
  };

  inline std::vector<Pending>& pending() {
    static std::vector<Pending> list;
    return list;
  }

  struct AggregatorRegistration {
    AggregatorRegistration(const char* name, AggregatorFactory factory, ParamSpecs params) {
      pending().push_back(Pending{name, std::move(factory), nullptr, std::move(params)});
    }
  };

  struct ViewRegistration {
    ViewRegistration(const char* name, ViewFactory factory, ParamSpecs params) {
      pending().push_back(Pending{name, nullptr, std::move(factory), std::move(params)});
    }
  };

}  // namespace )
}  // namespace signalbox

// Inline, so that every source file of a plugin may include this header; `used` makes each
// emit the definition, which the linker keeps once.
extern "C" __attribute__((visibility("default"), used)) inline std::uint32_t
signalbox_plugin_abi_version() {
#ifdef SIGNALBOX_PLUGIN_CLAIMED_ABI_VERSION  // for testing a host's version check only
  return SIGNALBOX_PLUGIN_CLAIMED_ABI_VERSION;
#else
  return SIGNALBOX_PLUGIN_ABI_VERSION;
#endif
}

extern "C" __attribute__((visibility("default"), used)) inline void signalbox_plugin_register(
    signalbox::PluginRegistrar& registrar) {
  for (const auto& p : signalbox::kit_plugin::pending()) {
    if (p.aggregator) {
      registrar.add_aggregator(p.name, p.aggregator, p.params);
    } else {
      registrar.add_view(p.name, p.view, p.params);
    }
  }
}

#define SIGNALBOX_KIT_AGGREGATOR_REGISTRATION ::signalbox::kit_plugin::AggregatorRegistration
#define SIGNALBOX_KIT_VIEW_REGISTRATION ::signalbox::kit_plugin::ViewRegistration

#else  // built into the executable

namespace signalbox::kit_builtin {

// Registers at static initialisation, before main() reads any config.
struct AggregatorRegistration {
  AggregatorRegistration(const char* name, AggregatorFactory factory, ParamSpecs params) {
    register_aggregator(name, std::move(factory), std::move(params));
  }
};

struct ViewRegistration {
  ViewRegistration(const char* name, ViewFactory factory, ParamSpecs params) {
    register_view(name, std::move(factory), std::move(params));
  }
};

}  // namespace signalbox::kit_builtin

#define SIGNALBOX_KIT_AGGREGATOR_REGISTRATION ::signalbox::kit_builtin::AggregatorRegistration
#define SIGNALBOX_KIT_VIEW_REGISTRATION ::signalbox::kit_builtin::ViewRegistration

#endif  // SIGNALBOX_PLUGIN

// Registers aggregator class `Class` under `name` (an identifier, the `aggregator:` of a
// signal). `Class` derives from Aggregator (usually AggregatorOf<S>) and is constructible
// from `const signalbox::AggregatorContext&`; the constructor reads the signal's parameters
// and throws ConfigError (through the context's helpers) when they are wrong. The third
// argument lists those parameters, {{"key", "what it means"}, ...}, or {} for none: a
// signal may write them besides the keys of every signal (name, aggregator, group_by, value,
// actions, windows), and nothing else. Use at namespace scope, once per name.
#define SIGNALBOX_REGISTER_AGGREGATOR(name, Class, ...)                               \
  static const SIGNALBOX_KIT_AGGREGATOR_REGISTRATION signalbox_kit_aggregator_##name( \
      #name, ::signalbox::kit_detail::aggregator_factory<Class>(),                    \
      ::signalbox::kit_detail::declared_params(__VA_ARGS__))

// Registers view class `Class` under `name` (an identifier, the `transform:` of a view).
// `Class` derives from View and is constructible from `const signalbox::ViewContext&`. The
// third argument lists the parameters it reads, as for an aggregator; a view may write them
// besides name, signal, window and transform.
#define SIGNALBOX_REGISTER_VIEW(name, Class, ...)                         \
  static const SIGNALBOX_KIT_VIEW_REGISTRATION signalbox_kit_view_##name( \
      #name, ::signalbox::kit_detail::view_factory<Class>(),              \
      ::signalbox::kit_detail::declared_params(__VA_ARGS__))
