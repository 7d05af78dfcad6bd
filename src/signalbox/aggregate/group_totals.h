#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/common/bytes.h"

namespace signalbox {

// One running total per group key: the grouped state of count, sum and decayed_count.
//
// A sorted vector of (key, total) rather than a tree: a heavy user's query decodes and merges
// about a hundred tiles of these, and a tree pays a node allocation per key per tile where the
// vector pays one allocation per tile (short keys stay inside the std::string), decodes by
// appending (tiles store their keys in order) and merges by one linear walk. Inserting a new
// key shifts the entries after it, which is cheap at the tens to hundreds of groups a tile holds.
//
// Plain value type; not synchronised.
class GroupTotals {
 public:
  using Entry = std::pair<std::string, double>;

  // total[key] += amount.
  void add(std::string_view key, double amount);
  // total[key] += v × factor for every (key, v) of `from`.
  void add_all(const GroupTotals& from, double factor);
  // Multiplies every total by `factor`.
  void scale(double factor);

  bool empty() const { return entries_.empty(); }
  // Ascending by key, each key once.
  const std::vector<Entry>& entries() const { return entries_; }

  // Two encodings, both read by decode(). When there are totals and every one is a whole
  // number in [0, 2^53] (the usual count), the compact one: the bytes 0x80 0x00, a count, then
  // (key, varint) pairs in key order; a day's total per category is one byte instead of eight.
  // Otherwise the first one: a count, then (key, f64) pairs in key order, the bytes the tree-based
  // state wrote. 0x80 0x00 is a zero as no canonical varint writes it, so no count of the first
  // encoding begins so, and stores written before read back unchanged.
  void encode(ByteWriter& out) const;
  // Throws CorruptionError for bytes encode() did not write (keys out of order or repeated,
  // counts past the end).
  static GroupTotals decode(ByteReader& in);

  friend bool operator==(const GroupTotals&, const GroupTotals&) = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace signalbox
