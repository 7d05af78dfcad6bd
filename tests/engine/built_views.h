#pragma once

// The signals and views of a config's YAML, built as the engine builds them, for tests of
// views on their own.

#include <memory>
#include <string>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/config/config.h"
#include "signalbox/view/view.h"

namespace signalbox {

struct BuiltViews {
  std::vector<std::unique_ptr<Signal>> signals;  // the views read them
  std::vector<std::unique_ptr<View>> views;      // in the config's order
  std::vector<std::string> names;                // of the views, by the same index
};

// Every signal and view of `yaml` (read as file `file`), with `features` defined. Throws
// ConfigError for what the loader or a registry refuses.
inline BuiltViews build_views(const std::string& yaml, const std::string& file,
                              const FeatureNames& features) {
  const Config config = parse_config(yaml, file);
  BuiltViews built;
  std::vector<const Signal*> all;
  for (const SignalConfig& s : config.signals) {
    built.signals.push_back(std::make_unique<Signal>(s, features));
    all.push_back(built.signals.back().get());
  }
  for (const ViewConfig& v : config.views)
    for (const auto& s : built.signals)
      if (s->name() == v.signal) {
        built.views.push_back(make_view(ViewContext{v, *s, all}));
        built.names.push_back(v.name);
      }
  return built;
}

}  // namespace signalbox
