#include "signalbox/aggregate/group_totals.h"

#include <algorithm>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

bool key_less(const GroupTotals::Entry& a, const GroupTotals::Entry& b) {
  return a.first < b.first;
}

}  // namespace

void GroupTotals::add(std::string_view key, double amount) {
  auto at = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, std::string_view k) { return e.first < k; });
  if (at != entries_.end() && at->first == key) {
    at->second += amount;
    return;
  }
  entries_.emplace(at, std::string(key), 0.0 + amount);  // as += on a new 0: -0 becomes +0
}

// Keys already present are updated in one walk over both sorted lists; keys new to this state
// are appended and put in place by one merge of the two sorted runs at the end, so the usual
// case (a tile whose keys the running total already has) neither allocates nor shifts.
void GroupTotals::add_all(const GroupTotals& from, double factor) {
  const std::size_t old_size = entries_.size();
  std::size_t at = 0;
  for (const auto& [key, v] : from.entries_) {
    while (at < old_size && entries_[at].first < key) ++at;
    if (at < old_size && entries_[at].first == key)
      entries_[at].second += v * factor;
    else
      entries_.emplace_back(key, 0.0 + v * factor);
  }
  if (entries_.size() > old_size)
    std::inplace_merge(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(old_size),
                       entries_.end(), key_less);
}

void GroupTotals::scale(double factor) {
  for (auto& entry : entries_) entry.second *= factor;
}

void GroupTotals::encode(ByteWriter& out) const {
  out.varint(entries_.size());
  for (const auto& [key, v] : entries_) {
    out.str(key);
    out.f64(v);
  }
}

GroupTotals GroupTotals::decode(ByteReader& in) {
  GroupTotals groups;
  const std::uint64_t n = in.count(9);
  groups.entries_.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view key = in.str();
    if (!groups.entries_.empty() && !(groups.entries_.back().first < key))
      throw CorruptionError("group keys of a stored state are not in ascending order");
    groups.entries_.emplace_back(std::string(key), in.f64());
  }
  return groups;
}

}  // namespace signalbox
