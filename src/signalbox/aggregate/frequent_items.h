#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/bytes.h"

namespace signalbox {

// Bounded counts of strings for heavy hitters: a Misra–Gries summary, the mergeable form of
// space-saving (Agarwal et al., "Mergeable Summaries", 2012). At most `capacity` counters;
// when one more would be needed, the (capacity+1)-th largest count is subtracted from every
// counter and those left at zero or below are dropped. Merging adds counters and reduces
// the same way. With N the total of all counts added:
//   true count − N / (capacity + 1) <= estimate(v) <= true count,
// so every value whose true count exceeds N / (capacity + 1) keeps a counter. While the
// distinct values never exceed the capacity, nothing is subtracted and estimates are exact.
// Plain value type; not synchronised.
class FrequentItems {
 public:
  void add(std::string_view value, std::uint64_t count, std::size_t capacity);
  void merge(const FrequentItems& other, std::size_t capacity);

  // The N of the bound above.
  std::uint64_t total() const { return total_; }
  // The counters, by value.
  const std::map<std::string, std::uint64_t, std::less<>>& counters() const { return counters_; }
  // The `k` largest counters, count descending then value ascending.
  std::vector<std::pair<std::string, std::uint64_t>> top(std::size_t k) const;

  void encode(ByteWriter& out) const;
  // Throws CorruptionError for bytes encode() cannot have written.
  static FrequentItems decode(ByteReader& in);

 private:
  void reduce(std::size_t capacity);

  std::uint64_t total_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> counters_;
};

}  // namespace signalbox
