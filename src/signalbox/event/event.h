#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// Bounds of docs/events.md, shared by the decoder, the docs and the tests.
inline constexpr std::size_t kMaxActionBytes = 32;
inline constexpr std::size_t kMaxEventIdBytes = 128;
inline constexpr std::size_t kMaxItemIdBytes = 256;
inline constexpr std::size_t kMaxQueryBytes = 1024;
inline constexpr std::size_t kMaxAttrs = 32;
// Not fixed by the contract, but bounded all the same: attribute names and string values.
inline constexpr std::size_t kMaxAttrNameBytes = 64;
inline constexpr std::size_t kMaxAttrValueBytes = 1024;
// The largest magnitude of a number attribute. Aggregators add numbers up (times an action
// weight, bounded the same in the config), and a sum that overflowed to infinity would stay
// infinite (or become NaN) in every tile it reached; under this bound, sums of 1e100 such
// products stay finite, so every stored state is.
inline constexpr double kMaxAttrNumber = 1e100;
// One event's JSON text; longer lines are rejected before parsing.
inline constexpr std::size_t kMaxEventJsonBytes = 64 * 1024;

// An attribute value: a string or a number.
using AttrValue = std::variant<std::string, double>;

// One user event as it arrives (docs/events.md), validated. `event_id` is always set: when the
// input has none it is derived from the other fields (derive_event_id).
struct Event {
  std::uint64_t user_id = 0;
  TimeMs ts = 0;
  std::string action;
  std::string event_id;
  std::optional<std::string> item_id;
  std::optional<std::string> query;
  std::vector<std::pair<std::string, AttrValue>> attrs;  // in input order, names unique

  friend bool operator==(const Event&, const Event&) = default;
};

// "h" followed by 16 hex digits of a hash over user_id, ts, action, item_id, query and attrs
// (attrs in name order), so the same event sent twice without an id gets the same id.
std::string derive_event_id(const Event& event);

// The value of one looked-up feature: empty (key absent or unknown), a list of strings, a
// vector of floats, or a number.
using FeatureValue =
    std::variant<std::monostate, std::vector<std::string>, std::vector<float>, double>;

// An event plus its features, looked up once at ingest. `features[i]` belongs to the i-th
// feature of the config (FeatureSet order).
struct MaterializedEvent {
  Event event;
  std::vector<FeatureValue> features;

  friend bool operator==(const MaterializedEvent&, const MaterializedEvent&) = default;
};

// The names of the configured features, in config order: the index space of
// MaterializedEvent::features. Stored events carry feature names, not indexes, so a config
// that adds, drops or reorders features still reads old events correctly.
class FeatureNames {
 public:
  FeatureNames() = default;
  explicit FeatureNames(std::vector<std::string> names) : names_(std::move(names)) {}
  std::size_t size() const { return names_.size(); }
  const std::string& name(std::size_t i) const { return names_[i]; }
  // Index of `name`, or nullopt when not configured.
  std::optional<std::size_t> index(std::string_view name) const;

 private:
  std::vector<std::string> names_;
};

// Binary encoding of a materialized event for the event store. Compact (varints, no field
// names but feature names) and versioned by its first byte.
void encode_event(const MaterializedEvent& event, const FeatureNames& names, std::string& out);

// Decodes what encode_event wrote. Features whose name is not in `names` are dropped;
// configured features absent from the record are empty. Throws CorruptionError on bytes
// that encode_event cannot have written.
MaterializedEvent decode_event(std::string_view bytes, const FeatureNames& names);

}  // namespace signalbox
