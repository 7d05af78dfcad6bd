#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "signalbox/event/event.h"

namespace signalbox {

// A reference to a value of a materialized event, as written in config (`group_by`, `value`,
// a feature's `key`): an event field (`item_id`, `query`, `action`, `attrs.NAME`) or a
// feature name. Resolved once against the feature names; cheap to apply per event.
class ValueRef {
 public:
  enum class Kind { kItemId, kQuery, kAction, kAttr, kFeature };

  // Parses `text`. Returns nullopt when it names neither a field nor one of `features`.
  static std::optional<ValueRef> parse(std::string_view text, const FeatureNames& features);

  Kind kind() const { return kind_; }
  const std::string& text() const { return text_; }

  // Calls fn for each string the event carries here: one for a present field or attribute
  // (numbers in shortest form), each string of a `strings` feature; none when absent.
  void for_each_string(const MaterializedEvent& e,
                       const std::function<void(std::string_view)>& fn) const;
  // The number carried here (a numeric attribute or `number` feature), or nullopt.
  std::optional<double> number(const MaterializedEvent& e) const;
  // The vector carried here (a `vector` feature), or an empty span.
  std::span<const float> vector(const MaterializedEvent& e) const;

 private:
  Kind kind_ = Kind::kItemId;
  std::string text_;
  std::string attr_;         // for kAttr
  std::size_t feature_ = 0;  // for kFeature
};

}  // namespace signalbox
