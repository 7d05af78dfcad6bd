#include "signalbox/view/view.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace signalbox {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, ViewFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

[[noreturn]] void reject(const ViewContext& c, std::string_view key, std::string_view why) {
  throw_config_error(c.view.where, key, why);
}

void require_grouped(const ViewContext& c) {
  if (c.signal.config().group_by.empty())
    reject(c, "signal",
           fmt::format("{} needs a grouped signal (with group_by); \"{}\" has none",
                       c.view.transform, c.signal.name()));
}

// The k largest entries of a map, value descending, key ascending on ties.
class TopK final : public View {
 public:
  explicit TopK(std::size_t k) : k_(k) {}
  Value transform(const Value& input) const override {
    std::vector<std::pair<std::string, double>> entries;
    if (input.is_object())
      for (const auto& [key, v] : input.object()) entries.emplace_back(key, v.number());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (entries.size() > k_) entries.resize(k_);
    Value::Array out;
    for (auto& [key, v] : entries)
      out.emplace_back(Value::Object{{"key", Value(std::move(key))}, {"value", Value(v)}});
    return Value(std::move(out));
  }

 private:
  std::size_t k_;
};

// The map divided by its sum; an empty map (or one summing to zero) stays empty.
class Normalize final : public View {
 public:
  Value transform(const Value& input) const override {
    Value::Object out;
    if (!input.is_object()) return Value(std::move(out));
    double total = 0;
    for (const auto& [key, v] : input.object()) total += v.number();
    if (total == 0) return Value(std::move(out));
    for (const auto& [key, v] : input.object()) out.emplace_back(key, Value(v.number() / total));
    return Value(std::move(out));
  }
};

// The newest run of a newest-first {value, ts} list whose consecutive entries are at most
// `gap` apart.
class LastSession final : public View {
 public:
  explicit LastSession(TimeMs gap) : gap_(gap) {}
  Value transform(const Value& input) const override {
    Value::Array out;
    if (!input.is_array()) return Value(std::move(out));
    double previous_ts = 0;
    for (const Value& entry : input.array()) {
      const Value* ts = entry.find("ts");
      double t = ts ? ts->number() : 0;
      if (!out.empty() && previous_ts - t > static_cast<double>(gap_)) break;
      out.push_back(entry);
      previous_ts = t;
    }
    return Value(std::move(out));
  }

 private:
  TimeMs gap_;
};

void register_builtin_views() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_view("top_k", [](const ViewContext& c) -> std::unique_ptr<View> {
      require_grouped(c);
      std::int64_t k = param_int(c.view.params, "k", c.view.where);
      if (k < 1 || k > 10000) reject(c, "k", "must be between 1 and 10000");
      return std::make_unique<TopK>(static_cast<std::size_t>(k));
    });
    register_view("normalize", [](const ViewContext& c) -> std::unique_ptr<View> {
      require_grouped(c);
      return std::make_unique<Normalize>();
    });
    register_view("last_session", [](const ViewContext& c) -> std::unique_ptr<View> {
      if (c.signal.config().aggregator != "last_k")
        reject(c, "signal",
               fmt::format("last_session needs a last_k signal; \"{}\" is {}", c.signal.name(),
                           c.signal.config().aggregator));
      return std::make_unique<LastSession>(param_duration(c.view.params, "gap", c.view.where));
    });
  });
}

}  // namespace

void register_view(const std::string& name, ViewFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> view_names() {
  register_builtin_views();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

std::unique_ptr<View> make_view(const ViewContext& c) {
  register_builtin_views();
  const auto& windows = c.signal.windows();
  if (c.signal.windowed()) {
    if (c.view.window.empty()) {
      std::vector<std::string> written;
      for (const auto& w : windows) written.push_back(w.text);
      reject(c, "window",
             fmt::format("required: signal \"{}\" has windows ({})", c.signal.name(),
                         fmt::join(written, ", ")));
    }
    bool known = std::any_of(windows.begin(), windows.end(),
                             [&](const WindowConfig& w) { return w.text == c.view.window; });
    if (!known)
      reject(c, "window",
             fmt::format("signal \"{}\" has no window \"{}\"", c.signal.name(), c.view.window));
  } else if (!c.view.window.empty()) {
    reject(c, "window", fmt::format("signal \"{}\" has no windows", c.signal.name()));
  }
  ViewFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(c.view.transform);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory)
    reject(c, "transform",
           fmt::format("unknown transform \"{}\" (known: {})", c.view.transform,
                       fmt::join(view_names(), ", ")));
  return factory(c);
}

}  // namespace signalbox
