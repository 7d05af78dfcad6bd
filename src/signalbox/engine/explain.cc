// Engine::explain: the parts one value is made of. It asks the query planner for the windows'
// covers through the same read_cover() a query uses and folds each window through the same
// fold_window(), watching what is merged; so the parts listed are exactly those a query folds
// and the value is the one it answers.

#include <fmt/format.h>

#include "signalbox/common/error.h"
#include "signalbox/engine/engine.h"
#include "signalbox/engine/explain_combine.h"
#include "signalbox/engine/explain_parts.h"
#include "signalbox/engine/query_inputs.h"
#include "signalbox/engine/window_fold.h"

namespace signalbox {

namespace {

std::string window_list(const std::vector<WindowConfig>& windows) {
  std::vector<std::string> texts;
  for (const WindowConfig& w : windows) texts.push_back(w.text);
  return fmt::format("{}", fmt::join(texts, ", "));
}

// Narrows `request` (a whole signal's) to the window written `window`.
void narrow_to_window(SignalRequest& request, const std::vector<WindowConfig>& windows,
                      const std::string& window) {
  if (windows.empty()) {
    throw QueryError(
        fmt::format("window: signal \"{}\" has no windows (ask without window)", request.name));
  }
  for (const WindowConfig& w : windows) {
    if (w.text != window) continue;
    request.windows = {w};
    return;
  }
  throw QueryError(fmt::format("window: signal \"{}\" has no window \"{}\" (its windows: {})",
                               request.name, window, window_list(windows)));
}

}  // namespace

Value Engine::explain_signal(std::size_t s, const SignalRequest& request, const QueryInputs& inputs,
                             const ExplainOptions& options, Value::Array& explained) const {
  const Signal& signal = *signals_[s];
  const TimeMs at = inputs.as_of;
  const CombineRule rule = combine_rule(signal.config().aggregator);
  const FeatureNames& features = materializer_->feature_names();
  DecodedTiles tiles(signal.aggregator(), inputs.tiles.at(signal.state_id()));
  Value::Object windows;
  Value single;
  for (const WindowPlan& plan : *inputs.plans[s]) {
    WindowParts parts(signal, at);
    const std::unique_ptr<State> state = fold_window(signal, plan, tiles, inputs.events, &parts);
    Value result = signal.aggregator().result(*state, at);
    std::optional<TimeMs> from;
    for (const WindowConfig& w : request.windows)
      if (w.text == plan.label) from = window_start(w.length, at, config_.event_store.retention);
    Value entry = parts.explanation(plan, from, result, rule, options.max_events, features);
    Value::Object& fields = entry.object();
    fields.insert(fields.begin(), {"signal", Value(signal.name())});
    fields.insert(fields.begin() + 1, {"combine", Value(rule.name)});
    explained.push_back(std::move(entry));
    if (plan.label.empty())
      single = std::move(result);
    else
      windows.emplace_back(plan.label, std::move(result));
  }
  return signal.windowed() ? Value(std::move(windows)) : std::move(single);
}

Value Engine::explain(std::uint64_t user_id, const std::string& name,
                      const std::optional<std::string>& window, std::optional<TimeMs> as_of,
                      ExplainOptions options) {
  counters_.queries++;
  const std::vector<std::string> names = {name};
  const std::vector<NameRef> refs = name_refs(names);
  const NameRef& ref = refs.front();
  std::vector<SignalRequest> requests = requests_for(refs);
  const std::size_t s = ref.view ? view_signal_[ref.index] : ref.index;
  const Signal& signal = *signals_[s];
  if (window && ref.view) {
    throw QueryError(
        fmt::format("window: \"{}\" is a view; it reads the windows of its signal \"{}\" itself "
                    "(ask without window)",
                    name, signal.name()));
  }
  if (window) narrow_to_window(requests[s], signal.windows(), *window);

  const QueryInputs inputs = read_cover(user_id, requests, as_of);
  const TimeMs at = inputs.as_of;
  // Every signal the name reads: the signal itself, or each signal a view reads (a ratio of two
  // signals reads both); each window entry names its signal.
  Value::Array explained;
  std::vector<Value> signal_results(signals_.size());
  for (std::size_t r = 0; r < signals_.size(); ++r) {
    if (requests[r].name.empty()) continue;
    signal_results[r] = explain_signal(r, requests[r], inputs, options, explained);
  }

  Value::Object out;
  out.emplace_back("user_id", Value(user_id));
  out.emplace_back("as_of", Value(at));
  out.emplace_back("as_of_iso", Value(format_iso_time(at)));
  out.emplace_back("name", Value(name));
  if (ref.view) {
    const ViewConfig& vc = config_.views[ref.index];
    out.emplace_back("kind", Value("view"));
    out.emplace_back("transform", Value(vc.transform));
    out.emplace_back("signal", Value(signal.name()));
    // The view's value exactly as a query computes it, from the same signal results.
    out.emplace_back("value", view_result(ref.index, signal_results));
  } else {
    Value& signal_result = signal_results[s];
    out.emplace_back("kind", Value("signal"));
    out.emplace_back("signal", Value(signal.name()));
    if (window) out.emplace_back("window", Value(*window));
    const Value* one = window ? signal_result.find(*window) : nullptr;
    out.emplace_back("value", one ? *one : signal_result);
  }
  const CombineRule rule = combine_rule(signal.config().aggregator);
  out.emplace_back("aggregator", Value(signal.config().aggregator));
  out.emplace_back("combine", Value(rule.name));
  out.emplace_back("combine_rule", Value(rule.text));
  out.emplace_back("additive", Value(rule.additive));
  out.emplace_back("windows", Value(std::move(explained)));
  return Value(std::move(out));
}

}  // namespace signalbox
