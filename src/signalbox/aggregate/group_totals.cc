#include "signalbox/aggregate/group_totals.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

constexpr std::string_view kWholeTotalsMarker("\x80\x00", 2);

// Whether `v` reads back bit for bit from a varint: -0 and fractions do not.
bool whole(double v) { return v >= 0 && v <= 0x1p53 && v == std::trunc(v) && !std::signbit(v); }

// Reads past kWholeTotalsMarker when the bytes begin with it; else reads nothing.
bool skip_marker(ByteReader& in) {
  ByteReader probe = in;
  if (probe.remaining() < kWholeTotalsMarker.size()) return false;
  for (char c : kWholeTotalsMarker)
    if (probe.byte() != static_cast<std::uint8_t>(c)) return false;
  in = probe;
  return true;
}

// a.compare(b), in the same order (bytes unsigned), decided by the first byte where that
// differs: group keys (categories, item ids) mostly differ there, and a merge's walk compares
// every key of one list with the other's, a call of memcmp each otherwise.
int key_order(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0])
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
  return a.compare(b);
}

}  // namespace

void GroupTotals::add(std::string_view key, double amount) {
  auto at = std::lower_bound(
      entries_.begin(), entries_.end(), key,
      [](const Entry& e, std::string_view k) { return key_order(e.first, k) < 0; });
  if (at != entries_.end() && at->first == key) {
    at->second += amount;
    return;
  }
  entries_.emplace(at, std::string(key), 0.0 + amount);  // as += on a new 0: -0 becomes +0
}

// Keys already present are updated in one walk over both sorted lists, which also counts the
// keys new to this state; those are then put in place by one merge from the back into the room
// made for them at the end, so the usual case (a tile whose keys the running total already
// has) neither allocates nor moves an entry, and the other moves each entry once.
void GroupTotals::add_all(const GroupTotals& from, double factor) {
  const std::size_t old_size = entries_.size();
  std::size_t fresh = 0;
  std::size_t at = 0;
  for (const auto& [key, v] : from.entries_) {
    int order = 1;  // of entries_[at] against key; past the end: after it
    while (at < old_size && (order = key_order(entries_[at].first, key)) < 0) ++at;
    if (at < old_size && order == 0)
      entries_[at].second += v * factor;
    else
      ++fresh;
  }
  if (fresh == 0) return;
  entries_.resize(old_size + fresh);
  // From the back: the larger of the old entries' last and the next new key of `from`.
  std::size_t out = entries_.size();
  std::size_t old_left = old_size;
  // Until every new key is placed: the old entries before the first of them stay where they
  // are (and moving one onto itself would empty it).
  for (std::size_t f = from.entries_.size(); out > old_left;) {
    const auto& [key, v] = from.entries_[--f];
    while (old_left > 0 && key < entries_[old_left - 1].first)
      entries_[--out] = std::move(entries_[--old_left]);
    if (old_left > 0 && entries_[old_left - 1].first == key) {
      // Present before (updated above): it goes across with the old entries.
      entries_[--out] = std::move(entries_[--old_left]);
      continue;
    }
    entries_[--out] = Entry(key, 0.0 + v * factor);  // as += on a new 0: -0 becomes +0
  }
}

void GroupTotals::scale(double factor) {
  for (auto& entry : entries_) entry.second *= factor;
}

void GroupTotals::encode(ByteWriter& out) const {
  // An empty state keeps the first encoding: one byte.
  const bool whole_totals =
      !entries_.empty() &&
      std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) { return whole(e.second); });
  if (whole_totals) out.raw(kWholeTotalsMarker);
  out.varint(entries_.size());
  for (const auto& [key, v] : entries_) {
    out.str(key);
    if (whole_totals)
      out.varint(static_cast<std::uint64_t>(v));
    else
      out.f64(v);
  }
}

GroupTotals GroupTotals::decode(ByteReader& in) {
  GroupTotals groups;
  const bool whole_totals = skip_marker(in);
  const std::uint64_t n = in.count(whole_totals ? 2 : 9);
  groups.entries_.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view key = in.str();
    if (!groups.entries_.empty() && key_order(groups.entries_.back().first, key) >= 0)
      throw CorruptionError("group keys of a stored state are not in ascending order");
    // The key built in place (a pair of a built string would move it once more).
    const double total = whole_totals ? static_cast<double>(in.varint()) : in.f64();
    groups.entries_.emplace_back(std::piecewise_construct, std::forward_as_tuple(key),
                                 std::forward_as_tuple(total));
  }
  return groups;
}

}  // namespace signalbox
