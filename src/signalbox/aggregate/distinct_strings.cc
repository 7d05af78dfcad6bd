#include "signalbox/aggregate/distinct_strings.h"

#include <algorithm>
#include <cstring>

namespace signalbox {

DistinctStrings::DistinctStrings(const ValueRef& ref, const MaterializedEvent& e) {
  // Only `this` is captured: the callback fits std::function's inline storage.
  ref.for_each_string(e, [this](std::string_view s) { add(s); });
}

void DistinctStrings::add(std::string_view s) {
  const std::span<const std::string_view> seen = values();
  if (std::find(seen.begin(), seen.end(), s) != seen.end()) return;
  const std::string_view kept = keep(s);
  if (!spilled_ && count_ < kInlineValues) {
    inline_values_[count_++] = kept;
    return;
  }
  if (!spilled_) {
    more_.assign(inline_values_.begin(), inline_values_.end());
    spilled_ = true;
  }
  more_.push_back(kept);
  ++count_;
}

std::string_view DistinctStrings::keep(std::string_view s) {
  if (s.size() <= kInlineBytes - used_) {
    char* at = inline_bytes_.data() + used_;
    if (!s.empty()) std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return {at, s.size()};
  }
  return overflow_.emplace_front(s);
}

}  // namespace signalbox
