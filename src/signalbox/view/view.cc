#include "signalbox/view/view.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/view/builtin_parts.h"

namespace signalbox {

namespace {

// The k largest entries of a map, value descending, key ascending on ties.
class TopK final : public View {
 public:
  explicit TopK(std::size_t k) : k_(k) {}
  Value transform(const Value& input) const override {
    const std::vector<Entry> kept = largest(input);
    Value::Array out;
    out.reserve(kept.size());
    for (const auto& [key, v] : kept)
      out.emplace_back(Value::Object{{"key", Value(std::string(key))}, {"value", Value(v)}});
    return Value(std::move(out));
  }
  void write_with(const Value& input, const std::vector<const Value*>&,
                  ResultWriter& out) const override {
    const std::vector<Entry> kept = largest(input);
    out.begin_array(kept.size());
    for (const auto& [key, v] : kept) {
      out.begin_object(2);
      out.key("key");
      out.string(key);
      out.key("value");
      out.number(v);
      out.end_object();
    }
    out.end_array();
  }

 private:
  using Entry = std::pair<std::string_view, double>;  // a key of the input, and its value

  // The k largest entries, in order; keys by reference, none copied.
  std::vector<Entry> largest(const Value& input) const {
    std::vector<Entry> entries;
    if (input.is_object()) {
      entries.reserve(input.object().size());
      for (const auto& [key, v] : input.object()) entries.emplace_back(key, v.number());
    }
    const std::size_t kept = std::min(k_, entries.size());
    std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(kept),
                      entries.end(), [](const Entry& a, const Entry& b) {
                        return a.second != b.second ? a.second > b.second : a.first < b.first;
                      });
    entries.resize(kept);
    return entries;
  }

  std::size_t k_;
};

// The map divided by its sum; an empty map (or one summing to zero) stays empty.
class Normalize final : public View {
 public:
  Value transform(const Value& input) const override {
    Value::Object out;
    const double total = sum(input);
    if (total == 0) return Value(std::move(out));
    for (const auto& [key, v] : input.object()) out.emplace_back(key, Value(v.number() / total));
    return Value(std::move(out));
  }
  void write_with(const Value& input, const std::vector<const Value*>&,
                  ResultWriter& out) const override {
    const double total = sum(input);
    out.begin_object(total == 0 ? 0 : input.object().size());
    if (total != 0) {
      for (const auto& [key, v] : input.object()) {
        out.key(key);
        out.number(v.number() / total);
      }
    }
    out.end_object();
  }

 private:
  // The sum of a map's values; 0 for anything else.
  static double sum(const Value& input) {
    double total = 0;
    if (input.is_object())
      for (const auto& [key, v] : input.object()) total += v.number();
    return total;
  }
};

// The newest run of a newest-first {value, ts} list whose consecutive entries are at most
// `gap` apart.
class LastSession final : public View {
 public:
  explicit LastSession(TimeMs gap) : gap_(gap) {}
  Value transform(const Value& input) const override {
    const std::size_t n = session_length(input);
    Value::Array out;
    if (n > 0)
      out.assign(input.array().begin(), input.array().begin() + static_cast<std::ptrdiff_t>(n));
    return Value(std::move(out));
  }
  void write_with(const Value& input, const std::vector<const Value*>&,
                  ResultWriter& out) const override {
    const std::size_t n = session_length(input);
    out.begin_array(n);
    for (std::size_t i = 0; i < n; ++i) input.array()[i].write_to(out);
    out.end_array();
  }

 private:
  // How many of the newest entries make the session.
  std::size_t session_length(const Value& input) const {
    if (!input.is_array()) return 0;
    const Value::Array& entries = input.array();
    double previous_ts = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const Value* ts = entries[i].find("ts");
      const double t = ts ? ts->number() : 0;
      if (i > 0 && previous_ts - t > static_cast<double>(gap_)) return i;
      previous_ts = t;
    }
    return entries.size();
  }

  TimeMs gap_;
};

using Registered = RegisteredView;

void add_builtin_views(std::map<std::string, Registered>& factories) {
  factories["top_k"] = {[](const ViewContext& c) -> std::unique_ptr<View> {
                          c.require_grouped();
                          std::int64_t k = c.param_int("k");
                          if (k < 1 || k > 10000) c.reject("k", "must be between 1 and 10000");
                          return std::make_unique<TopK>(static_cast<std::size_t>(k));
                        },
                        {{"k", "how many of the largest entries are kept, 1-10000 (required)"}}};
  factories["normalize"] = {[](const ViewContext& c) -> std::unique_ptr<View> {
                              c.require_grouped();
                              return std::make_unique<Normalize>();
                            },
                            {}};
  factories["last_session"] = {
      [](const ViewContext& c) -> std::unique_ptr<View> {
        if (c.signal.config().aggregator != "last_k")
          c.reject("signal", fmt::format("last_session needs a last_k signal; \"{}\" is {}",
                                         c.signal.name(), c.signal.config().aggregator));
        return std::make_unique<LastSession>(c.param_duration("gap"));
      },
      {{"gap", "the longest pause within a session (a duration, required)"}}};
  add_ratio_view(factories);
  add_bucketize_view(factories);
}

// The built-ins go in when the registry is created, so that a later registration under the
// same name always wins whatever the order of static initialisation. Never destroyed: a
// plugin's factory may be looked up during exit.
NamedRegistry<ViewFactory>& registry() {
  static auto* r = [] {
    auto* fresh = new NamedRegistry<ViewFactory>("view transform", "view", view_keys());
    std::map<std::string, Registered> builtins;
    add_builtin_views(builtins);
    for (auto& [name, entry] : builtins)
      fresh->add(name, std::move(entry.factory), std::move(entry.params));
    return fresh;
  }();
  return *r;
}

}  // namespace

void ViewContext::reject(std::string_view key, std::string_view problem) const {
  throw_config_error(view.where, key, problem);
}

void ViewContext::require_grouped() const {
  if (signal.config().group_by.empty())
    reject("signal", fmt::format("{} needs a grouped signal (with group_by); \"{}\" has none",
                                 view.transform, signal.name()));
}

std::int64_t ViewContext::param_int(std::string_view key,
                                    std::optional<std::int64_t> fallback) const {
  return signalbox::param_int(view.params, key, view.where, fallback);
}

double ViewContext::param_double(std::string_view key, std::optional<double> fallback) const {
  return signalbox::param_double(view.params, key, view.where, fallback);
}

TimeMs ViewContext::param_duration(std::string_view key, std::optional<TimeMs> fallback) const {
  return signalbox::param_duration(view.params, key, view.where, fallback);
}

std::optional<std::vector<std::string>> ViewContext::param_list(std::string_view key,
                                                                bool required) const {
  return signalbox::param_list(view.params, key, view.where, required);
}

const WindowConfig& ViewContext::param_window(std::string_view key) const {
  return param_window(key, signal);
}

const WindowConfig& ViewContext::param_window(std::string_view key, const Signal& of) const {
  auto it = view.params.find(key);
  std::vector<std::string> written;
  for (const WindowConfig& w : of.windows()) {
    if (it != view.params.end() && w.text == it->second.text) return w;
    written.push_back(w.text);
  }
  if (it == view.params.end())
    reject(key, fmt::format("required (one of the windows of signal \"{}\")", of.name()));
  if (written.empty())
    throw_config_error(it->second.where, key,
                       fmt::format("signal \"{}\" has no windows", of.name()));
  throw_config_error(it->second.where, key,
                     fmt::format("signal \"{}\" has no window \"{}\" (it has {})", of.name(),
                                 it->second.text, fmt::join(written, ", ")));
}

const Signal& ViewContext::param_signal(std::string_view key) const {
  auto it = view.params.find(key);
  if (it == view.params.end()) reject(key, "required (the name of a signal)");
  std::vector<std::string> names;
  for (const Signal* s : signals) {
    if (s->name() == it->second.text) return *s;
    names.push_back(s->name());
  }
  std::string closest = closest_match(it->second.text, names);
  throw_config_error(it->second.where, key,
                     closest.empty() ? fmt::format("unknown signal \"{}\"", it->second.text)
                                     : fmt::format("unknown signal \"{}\" (did you mean {}?)",
                                                   it->second.text, closest));
}

void register_view(const std::string& name, ViewFactory factory, ParamSpecs params) {
  registry().add(name, std::move(factory), std::move(params));
}

std::optional<ParamSpecs> view_params(const std::string& name) {
  auto found = registry().find(name);
  if (!found) return std::nullopt;
  return found->params;
}

const std::vector<std::string>& view_keys() {
  static const std::vector<std::string> kKeys = {"name", "signal", "window", "transform"};
  return kKeys;
}

std::vector<std::string> view_names() { return registry().names(); }

std::unique_ptr<View> make_view(const ViewContext& c) {
  const auto found = registry().find(c.view.transform);
  if (!found)
    c.reject("transform", fmt::format("unknown transform \"{}\" (known: {})", c.view.transform,
                                      fmt::join(view_names(), ", ")));
  check_params(c.view.params, found->params, fmt::format("transform {}", c.view.transform),
               view_keys());
  std::unique_ptr<View> view = found->factory(c);
  const auto& windows = c.signal.windows();
  if (view->input() != View::Input::kWindow) {
    if (!c.view.window.empty())
      c.reject("window", fmt::format("not used by transform {}: it names the windows it reads "
                                     "with its own parameters",
                                     c.view.transform));
  } else if (c.signal.windowed()) {
    if (c.view.window.empty()) {
      std::vector<std::string> written;
      for (const auto& w : windows) written.push_back(w.text);
      c.reject("window", fmt::format("required: signal \"{}\" has windows ({})", c.signal.name(),
                                     fmt::join(written, ", ")));
    }
    bool known = std::any_of(windows.begin(), windows.end(),
                             [&](const WindowConfig& w) { return w.text == c.view.window; });
    if (!known)
      c.reject("window",
               fmt::format("signal \"{}\" has no window \"{}\"", c.signal.name(), c.view.window));
  } else if (!c.view.window.empty()) {
    c.reject("window", fmt::format("signal \"{}\" has no windows", c.signal.name()));
  }
  return view;
}

}  // namespace signalbox
