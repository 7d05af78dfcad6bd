#pragma once

#include <array>
#include <cstddef>
#include <forward_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/event/event.h"
#include "signalbox/event/value_ref.h"

namespace signalbox {

// The distinct strings an event carries at a reference, in the order first carried: an event
// adds its weight once to each distinct value, however often a multi-valued feature repeats
// it. Folding a grouped signal asks for them at every event, so they are copied into room
// held here (a few categories fit: no allocation) rather than into a string each. Every view
// stays valid as long as this object, a number's text too (the reference gives it only for
// the length of its call). Neither copyable nor movable, since the views point into it. Not
// thread-safe: one per fold.
class DistinctStrings {
 public:
  DistinctStrings(const ValueRef& ref, const MaterializedEvent& e);
  DistinctStrings(const DistinctStrings&) = delete;
  DistinctStrings& operator=(const DistinctStrings&) = delete;

  std::span<const std::string_view> values() const {
    return spilled_ ? std::span<const std::string_view>(more_)
                    : std::span<const std::string_view>(inline_values_.data(), count_);
  }

 private:
  static constexpr std::size_t kInlineValues = 8;
  static constexpr std::size_t kInlineBytes = 192;

  void add(std::string_view s);
  // A copy of `s` that stays where it is for the life of this object.
  std::string_view keep(std::string_view s);

  std::size_t count_ = 0;
  bool spilled_ = false;  // past kInlineValues: every value is in more_
  std::array<std::string_view, kInlineValues> inline_values_;
  std::vector<std::string_view> more_;
  std::size_t used_ = 0;  // bytes of inline_bytes_ taken
  std::array<char, kInlineBytes> inline_bytes_;
  std::forward_list<std::string> overflow_;  // copies that did not fit, each its own
};

}  // namespace signalbox
