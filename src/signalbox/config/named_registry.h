#pragma once

// NamedRegistry<Factory>: the one kind of process-wide table by which a config's names reach
// code: aggregators (aggregate/aggregator.cc), view transforms (view/view.cc) and source kinds
// (materialize/source.cc). Each entry is a factory and the parameters it reads; the config
// loader refuses any other key (check_params). Thread-safe: plugins register while other
// threads may look names up.

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "signalbox/common/mutex.h"
#include "signalbox/config/config.h"

namespace signalbox {

template <class Factory>
class NamedRegistry {
 public:
  struct Entry {
    Factory factory;
    ParamSpecs params;
  };

  // `what` is an entry in messages ("aggregator"); `owner` what each entry configures
  // ("signal"), whose own `reserved_keys` no entry may declare as a parameter: the loader
  // would never pass such a key on.
  NamedRegistry(std::string what, std::string owner, std::vector<std::string> reserved_keys)
      : what_(std::move(what)), owner_(std::move(owner)), reserved_(std::move(reserved_keys)) {}
  NamedRegistry(const NamedRegistry&) = delete;
  NamedRegistry& operator=(const NamedRegistry&) = delete;

  // Adds `name`, replacing an entry of that name. Throws std::invalid_argument for a name
  // that is not [a-z0-9_]+, an empty factory, or a parameter named like a reserved key.
  void add(const std::string& name, Factory factory, ParamSpecs params) {
    if (!valid_name(name))
      throw std::invalid_argument(
          fmt::format("bad {} \"{}\" (use characters a-z 0-9 _)", what_, name));
    if (!factory) throw std::invalid_argument(fmt::format("{} \"{}\": empty factory", what_, name));
    for (const ParamSpec& p : params) {
      if (std::find(reserved_.begin(), reserved_.end(), p.name) != reserved_.end()) {
        throw std::invalid_argument(
            fmt::format("{} \"{}\" declares parameter \"{}\", which every {} has", what_, name,
                        p.name, owner_));
      }
    }
    MutexLock lock(mutex_);
    entries_[name] = Entry{std::move(factory), std::move(params)};
  }

  std::optional<Entry> find(std::string_view name) const {
    MutexLock lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  // Every name, in order.
  std::vector<std::string> names() const {
    MutexLock lock(mutex_);
    std::vector<std::string> names;
    for (const auto& entry : entries_) names.push_back(entry.first);
    return names;
  }

  static bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

 private:
  const std::string what_;
  const std::string owner_;
  const std::vector<std::string> reserved_;
  mutable Mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
