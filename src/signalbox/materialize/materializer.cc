#include "signalbox/materialize/materializer.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

struct Materializer::SourceState {
  std::string name;
  std::unique_ptr<Source> source;
  std::atomic<std::uint64_t> lookups{0};
  std::atomic<std::uint64_t> failures{0};
};

struct Materializer::Feature {
  std::size_t source = 0;  // index into sources_
  ValueRef key;
  FieldRequest request;
  int stage = 0;
};

// The features of one source that can share a lookup: same stage, so none keys on another.
struct Materializer::Step {
  std::size_t source = 0;
  std::vector<std::size_t> features;  // indexes into features_, in config order
  std::vector<FieldRequest> fields;   // fields[j] serves features[j]
};

namespace {

// Lets the per-batch key index be probed with a string_view, without a copy per event.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

const char* type_name(FeatureType type) {
  switch (type) {
    case FeatureType::kStrings:
      return "strings";
    case FeatureType::kVector:
      return "vector";
    case FeatureType::kNumber:
      return "number";
  }
  return "?";
}

}  // namespace

Materializer::Materializer(const Config& config) : Materializer(config, {}) {}

Materializer::Materializer(const Config& config,
                           std::map<std::string, std::unique_ptr<Source>> prebuilt) {
  std::map<std::string, std::size_t, std::less<>> source_index;
  auto add_source = [&](const std::string& name, std::unique_ptr<Source> source) {
    auto state = std::make_unique<SourceState>();
    state->name = name;
    state->source = std::move(source);
    source_index[name] = sources_.size();
    sources_.push_back(std::move(state));
  };
  // Every configured source is built, used or not, so a broken one fails at start-up.
  for (const SourceConfig& sc : config.sources) {
    auto it = prebuilt.find(sc.name);
    if (it != prebuilt.end()) {
      add_source(sc.name, std::move(it->second));
      prebuilt.erase(it);
    } else {
      add_source(sc.name, make_source(sc));
    }
  }
  for (auto& [name, source] : prebuilt) add_source(name, std::move(source));

  std::vector<std::string> all_names;
  for (const FeatureConfig& fc : config.features) all_names.push_back(fc.name);
  names_ = FeatureNames(all_names);

  std::vector<std::string> earlier;
  features_.reserve(config.features.size());
  for (std::size_t i = 0; i < config.features.size(); ++i) {
    const FeatureConfig& fc = config.features[i];
    auto src = source_index.find(fc.source);
    if (src == source_index.end()) {
      throw_config_error(fc.where, fmt::format("features[{}].source", i),
                         fmt::format("unknown source \"{}\"", fc.source));
    }
    Feature feature;
    feature.source = src->second;

    // Only earlier features are visible, which rules out cycles and makes config order a
    // valid evaluation order.
    const std::string key_key = fmt::format("features[{}].key", i);
    std::optional<ValueRef> key = ValueRef::parse(fc.key, FeatureNames(earlier));
    if (!key) {
      auto later = std::find(all_names.begin() + i, all_names.end(), fc.key);
      if (later != all_names.end()) {
        throw_config_error(fc.where, key_key,
                           fmt::format("feature \"{}\" is not defined before this one; a key may "
                                       "only use earlier features",
                                       fc.key));
      }
      throw_config_error(fc.where, key_key,
                         fmt::format("\"{}\" is neither an event field (item_id, query, action, "
                                     "attrs.NAME) nor an earlier feature",
                                     fc.key));
    }
    if (key->kind() == ValueRef::Kind::kFeature) {
      std::optional<std::size_t> dep = names_.index(key->text());
      if (!dep || *dep >= i) throw_config_error(fc.where, key_key, "cannot resolve this feature");
      const Feature& dependency = features_[*dep];
      if (dependency.request.type != FeatureType::kStrings) {
        throw_config_error(fc.where, key_key,
                           fmt::format("feature \"{}\" is a {}; a key needs strings", fc.key,
                                       type_name(dependency.request.type)));
      }
      feature.stage = dependency.stage + 1;
    }
    feature.key = std::move(*key);
    feature.request = FieldRequest{fc.field, fc.type, fc.top, fc.min_prob};
    sources_[feature.source]->source->check_field(feature.request, fc.where);
    features_.push_back(std::move(feature));
    earlier.push_back(fc.name);
  }

  int stages = 0;
  for (const Feature& f : features_) stages = std::max(stages, f.stage + 1);
  for (int stage = 0; stage < stages; ++stage) {
    std::size_t first_step = steps_.size();
    for (std::size_t i = 0; i < features_.size(); ++i) {
      const Feature& f = features_[i];
      if (f.stage != stage) continue;
      auto step = std::find_if(steps_.begin() + first_step, steps_.end(),
                               [&](const Step& s) { return s.source == f.source; });
      if (step == steps_.end()) {
        steps_.push_back(Step{f.source, {}, {}});
        step = steps_.end() - 1;
      }
      step->features.push_back(i);
      step->fields.push_back(f.request);
    }
  }
}

Materializer::~Materializer() = default;

std::vector<MaterializedEvent> Materializer::materialize(std::vector<Event>&& events) {
  std::vector<MaterializedEvent> out;
  out.reserve(events.size());
  for (Event& e : events) {
    out.push_back(MaterializedEvent{std::move(e), std::vector<FeatureValue>(names_.size())});
  }
  events.clear();
  if (out.empty()) return out;

  constexpr std::uint32_t kNoKey = 0xffffffff;
  std::vector<std::string> keys;
  std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>> key_index;
  std::vector<std::uint32_t> slots;  // [j * events + e]: index into keys, or kNoKey
  for (const Step& step : steps_) {
    keys.clear();
    key_index.clear();
    slots.assign(step.features.size() * out.size(), kNoKey);
    for (std::size_t j = 0; j < step.features.size(); ++j) {
      const ValueRef& key = features_[step.features[j]].key;
      for (std::size_t e = 0; e < out.size(); ++e) {
        std::uint32_t* slot = &slots[j * out.size() + e];
        bool seen = false;
        key.for_each_string(out[e], [&](std::string_view value) {
          // A multi-valued key (a feature with several strings) is looked up by its first.
          if (seen) return;
          seen = true;
          auto it = key_index.find(value);
          if (it == key_index.end()) {
            auto next = static_cast<std::uint32_t>(keys.size());
            it = key_index.emplace(std::string(value), next).first;
            keys.emplace_back(value);
          }
          *slot = it->second;
        });
      }
    }
    if (keys.empty()) continue;

    SourceState& state = *sources_[step.source];
    state.lookups.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::vector<FeatureValue>> found;
    try {
      found = state.source->lookup(keys, step.fields);
      // A source answering the wrong shape is as broken as one that throws.
      bool ok = found.size() == keys.size();
      for (std::size_t k = 0; ok && k < found.size(); ++k) {
        ok = found[k].size() == step.fields.size();
      }
      if (!ok) throw std::logic_error("lookup answered the wrong shape");
    } catch (...) {
      // The event is still worth storing without these features: signals that do not use
      // them stay right, and dropping events would lose data the contract says we keep.
      state.failures.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    for (std::size_t j = 0; j < step.features.size(); ++j) {
      std::size_t feature = step.features[j];
      for (std::size_t e = 0; e < out.size(); ++e) {
        std::uint32_t slot = slots[j * out.size() + e];
        if (slot != kNoKey) out[e].features[feature] = found[slot][j];
      }
    }
  }
  return out;
}

std::map<std::string, std::uint64_t> Materializer::failures() const {
  std::map<std::string, std::uint64_t> result;
  for (const auto& s : sources_) result[s->name] = s->failures.load(std::memory_order_relaxed);
  return result;
}

std::map<std::string, std::uint64_t> Materializer::lookups() const {
  std::map<std::string, std::uint64_t> result;
  for (const auto& s : sources_) result[s->name] = s->lookups.load(std::memory_order_relaxed);
  return result;
}

}  // namespace signalbox
