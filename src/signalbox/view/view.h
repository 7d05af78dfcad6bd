#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/common/value.h"
#include "signalbox/config/config.h"

namespace signalbox {

// Turns one signal result into a compact feature (top-k, normalised, sessionised). Views are
// cheap and do no I/O; many views may share one signal's state. Immutable and thread-safe.
class View {
 public:
  virtual ~View() = default;
  // `input` is the signal's result for the view's window (or its only result).
  virtual Value transform(const Value& input) const = 0;
};

struct ViewContext {
  const ViewConfig& view;
  const Signal& signal;
};

using ViewFactory = std::function<std::unique_ptr<View>(const ViewContext&)>;

// Registers a factory under `name` (the `transform:` of a view); a second registration of
// the same name replaces the first.
void register_view(const std::string& name, ViewFactory factory);

// Builds the view a config entry names, after checking that its window matches the signal:
// a windowed signal needs one of its windows, a signal without windows takes none. Throws
// ConfigError at the view's location.
std::unique_ptr<View> make_view(const ViewContext& context);

std::vector<std::string> view_names();

}  // namespace signalbox
