#include "signalbox/store/rocksdb/unfolded_days.h"

#include <algorithm>

namespace signalbox {

void UnfoldedDays::note(std::uint64_t user, TimeMs day_start) {
  if (overflowed_) return;
  auto [at, added] = first_day_.try_emplace(user, day_start);
  if (!added) {
    at->second = std::min(at->second, day_start);
    return;
  }
  if (first_day_.size() <= max_users_) return;
  // Too many to hold: forget them all, and let the next fold scan.
  overflowed_ = true;
  complete_ = false;
  first_day_ = {};
}

void UnfoldedDays::wrote(std::uint64_t user, TimeMs day_start) {
  // Not complete and not scanning: the next fold scans every tile, this one included.
  if (complete_ || scanning_) note(user, day_start);
}

std::optional<TimeMs> UnfoldedDays::first_day(std::uint64_t user) const {
  auto at = first_day_.find(user);
  if (at == first_day_.end()) return std::nullopt;
  return at->second;
}

std::vector<std::pair<std::uint64_t, TimeMs>> UnfoldedDays::due(TimeMs keep_from) const {
  std::vector<std::pair<std::uint64_t, TimeMs>> out;
  for (const auto& [user, first] : first_day_)
    if (first < keep_from) out.emplace_back(user, first);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::uint64_t, TimeMs>> UnfoldedDays::noted() const {
  std::vector<std::pair<std::uint64_t, TimeMs>> out(first_day_.begin(), first_day_.end());
  std::sort(out.begin(), out.end());
  return out;
}

void UnfoldedDays::load(std::span<const std::pair<std::uint64_t, TimeMs>> noted) {
  start_scan();
  for (const auto& [user, day] : noted) note(user, day);
  finish_scan();
}

void UnfoldedDays::folded(std::uint64_t user, std::optional<TimeMs> first_left) {
  if (!first_left) {
    first_day_.erase(user);
    return;
  }
  if (scanning_) {
    note(user, *first_left);
    return;
  }
  first_day_[user] = *first_left;
}

void UnfoldedDays::forget() {
  first_day_ = {};
  complete_ = false;
  overflowed_ = false;
  scanning_ = false;
}

void UnfoldedDays::start_scan() {
  forget();
  scanning_ = true;
}

void UnfoldedDays::finish_scan() {
  scanning_ = false;
  complete_ = !overflowed_;
}

}  // namespace signalbox
