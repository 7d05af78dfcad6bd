#include "signalbox/event/event.h"

#include <algorithm>
#include <array>
#include <bit>

#include <fmt/format.h>

#include "signalbox/common/bytes.h"
#include "signalbox/common/hash.h"

namespace signalbox {

namespace {

// Bumped only together with a migration: derived ids are stored, so changing this
// serialization would make re-sent events look new.
constexpr std::uint8_t kEventIdFormat = 1;

enum IdAttrTag : std::uint8_t { kIdAttrString = 0, kIdAttrNumber = 1 };

void append_attr_value(ByteWriter& w, const AttrValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    w.byte(kIdAttrString);
    w.str(*s);
  } else {
    double d = std::get<double>(value);
    // 0 and -0 compare equal, so they must hash equal too.
    if (d == 0) d = 0;
    w.byte(kIdAttrNumber);
    // Big-endian bit pattern: the id must not depend on the machine's byte order.
    w.fixed64_be(std::bit_cast<std::uint64_t>(d));
  }
}

}  // namespace

std::string derive_event_id(const Event& event) {
  // Every field is length-prefixed or presence-marked, so no two different events serialize
  // to the same bytes (e.g. item_id "ab" + query "c" vs item_id "a" + query "bc").
  thread_local std::string buffer;
  buffer.clear();
  ByteWriter w(buffer);
  w.byte(kEventIdFormat);
  w.varint(event.user_id);
  w.svarint(event.ts);
  w.str(event.action);
  w.byte(event.item_id.has_value());
  if (event.item_id) w.str(*event.item_id);
  w.byte(event.query.has_value());
  if (event.query) w.str(*event.query);
  w.varint(event.attrs.size());

  using Attr = std::pair<std::string, AttrValue>;
  // Names are unique in a decoded event; the value only breaks ties in hand-made ones, so the
  // id never depends on input order.
  auto by_name = [](const Attr* a, const Attr* b) { return *a < *b; };
  if (event.attrs.size() <= kMaxAttrs) {
    // The common, validated case: sort pointers on the stack, no allocation.
    std::array<const Attr*, kMaxAttrs> sorted;
    std::size_t n = event.attrs.size();
    for (std::size_t i = 0; i < n; ++i) sorted[i] = &event.attrs[i];
    std::sort(sorted.begin(), sorted.begin() + n, by_name);
    for (std::size_t i = 0; i < n; ++i) {
      w.str(sorted[i]->first);
      append_attr_value(w, sorted[i]->second);
    }
  } else {
    std::vector<const Attr*> sorted;
    sorted.reserve(event.attrs.size());
    for (const Attr& a : event.attrs) sorted.push_back(&a);
    std::sort(sorted.begin(), sorted.end(), by_name);
    for (const Attr* a : sorted) {
      w.str(a->first);
      append_attr_value(w, a->second);
    }
  }
  return fmt::format("h{:016x}", hash64(buffer));
}

std::optional<std::size_t> FeatureNames::index(std::string_view name) const {
  // A config has a handful of features: a linear scan beats hashing the name.
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  return std::nullopt;
}

}  // namespace signalbox
