#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/common/result_writer.h"
#include "signalbox/common/value.h"
#include "signalbox/config/signal_definition.h"

namespace signalbox {

// Turns one signal result into a compact feature (top-k, normalised, sessionised). Views are
// cheap and do no I/O; many views may share one signal's state. Immutable and thread-safe.
class View {
 public:
  // What transform() receives.
  enum class Input {
    // The signal's result for the view's `window` (required of a windowed signal), or the
    // only result of a signal without windows.
    kWindow,
    // The signal's whole result: for a windowed signal the object of every window keyed as
    // written ({"1d": ..., "30d": ...}), for one without windows its only result. For views
    // that compare windows; such a view takes no `window` key.
    kAllWindows,
    // Nothing (a null value): the view reads only its operands(), its own signal among them
    // when it wants it, so that a query plans just those windows. Takes no `window` key.
    kOperands,
  };

  // One result a view reads of a signal, its own or another (see operands()).
  struct Operand {
    std::string signal;  // the signal's name
    std::string window;  // one of its windows as written; empty for a signal without windows
  };

  virtual ~View() = default;
  virtual Input input() const { return Input::kWindow; }
  virtual Value transform(const Value& input) const = 0;

  // The signal results the view reads besides `input`, usually of other signals; the query
  // plans and folds those windows too (even when the signals are not asked for) and hands
  // them to transform_with() in this order.
  virtual std::vector<Operand> operands() const { return {}; }
  // What the engine calls: `operands[i]` is the result of operands()[i] (nullptr when the
  // signal answered nothing for it). The default ignores them and calls transform().
  virtual Value transform_with(const Value& input,
                               const std::vector<const Value*>& operands) const {
    return transform(input);
  }
  // What the engine calls to write an answer: transform_with()'s result, written to `out`.
  // The default builds that Value and writes it; a view that writes its tokens itself spares
  // building it (the built-ins do). Must write what transform_with() returns.
  virtual void write_with(const Value& input, const std::vector<const Value*>& operands,
                          ResultWriter& out) const {
    out.value(transform_with(input, operands));
  }
};

// What a view factory gets: the view's config and the signal it reads, with helpers that read
// parameters and reject a config. Every helper that fails throws ConfigError at the view's
// location ("file:line: views[1].k: must be ...").
struct ViewContext {
  const ViewConfig& view;
  const Signal& signal;
  // Every configured signal, for views that read more than one; empty when only `signal`
  // is available.
  std::vector<const Signal*> signals = {};

  [[noreturn]] void reject(std::string_view key, std::string_view problem) const;
  // ConfigError unless the signal is grouped (has `group_by`).
  void require_grouped() const;
  // Parameter `key` of the view (see param_int in config.h).
  std::int64_t param_int(std::string_view key,
                         std::optional<std::int64_t> fallback = std::nullopt) const;
  double param_double(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  TimeMs param_duration(std::string_view key, std::optional<TimeMs> fallback = std::nullopt) const;
  // List parameter `key` (declared with ParamSpec::list): its items as written, nullopt when
  // absent and not `required`.
  std::optional<std::vector<std::string>> param_list(std::string_view key, bool required) const;
  // Parameter `key` naming one of the signal's windows as written (for a kAllWindows view);
  // a ConfigError listing the windows otherwise.
  const WindowConfig& param_window(std::string_view key) const;
  // The same, naming one of the windows of `of`.
  const WindowConfig& param_window(std::string_view key, const Signal& of) const;
  // Parameter `key` naming a configured signal; a ConfigError when it names none (with the
  // closest name).
  const Signal& param_signal(std::string_view key) const;
};

using ViewFactory = std::function<std::unique_ptr<View>(const ViewContext&)>;

// Registers a factory under `name` (the `transform:` of a view) with the parameters it reads
// (`{}` for none): a view naming it may write those and the keys every view takes
// (view_keys()), and anything else is refused before the factory runs; declaring one of
// those keys throws std::invalid_argument. A second
// registration of the same name replaces the first. Safe to call from any thread.
void register_view(const std::string& name, ViewFactory factory, ParamSpecs params);

// Builds the view a config entry names and checks its window against the signal: a kWindow
// view of a windowed signal needs one of its windows, and takes none otherwise; a
// kAllWindows view takes none. Throws ConfigError at the view's location, also for a
// parameter the transform does not declare (with the closest known key).
std::unique_ptr<View> make_view(const ViewContext& context);

std::vector<std::string> view_names();

// The parameters transform `name` declares; nullopt when no transform has that name.
std::optional<ParamSpecs> view_params(const std::string& name);

// The keys of every view, whatever its transform: name, signal, window, transform.
const std::vector<std::string>& view_keys();

}  // namespace signalbox
