#include "signalbox/serve/request_costs.h"

#include <algorithm>
#include <functional>

namespace signalbox {

namespace {

// The slot (low bits of the hash) and the fingerprint (the high 44 bits, with the top bit set
// so that a recorded entry is never 0, the empty slot) of a path.
struct Place {
  std::size_t slot;
  std::uint64_t fingerprint;
};

Place place_of(std::string_view path, std::size_t slots, unsigned cost_bits) {
  std::uint64_t hash = std::hash<std::string_view>{}(path);
  return {static_cast<std::size_t>(hash & (slots - 1)),
          ((hash >> cost_bits) | (std::uint64_t{1} << (63 - cost_bits))) << cost_bits};
}

}  // namespace

std::optional<std::chrono::microseconds> RequestCosts::last(std::string_view path) const {
  Place place = place_of(path, kSlots, kCostBits);
  std::uint64_t entry = slots_[place.slot].load(std::memory_order_relaxed);
  if ((entry & ~kCostMask) != place.fingerprint) return std::nullopt;
  return std::chrono::microseconds(entry & kCostMask);
}

void RequestCosts::record(std::string_view path, std::chrono::nanoseconds cost) {
  Place place = place_of(path, kSlots, kCostBits);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(cost).count();
  std::uint64_t saturated =
      static_cast<std::uint64_t>(std::clamp<std::int64_t>(micros, 0, kCostMask));
  slots_[place.slot].store(place.fingerprint | saturated, std::memory_order_relaxed);
}

}  // namespace signalbox
