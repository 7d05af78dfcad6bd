#include "signalbox/aggregate/frequent_items.h"

#include <algorithm>

#include "signalbox/common/error.h"

namespace signalbox {

void FrequentItems::add(std::string_view value, std::uint64_t count, std::size_t capacity) {
  total_ += count;
  auto it = counters_.find(value);
  if (it != counters_.end()) {
    it->second += count;
    return;
  }
  counters_.emplace(std::string(value), count);
  if (counters_.size() > capacity) reduce(capacity);
}

void FrequentItems::merge(const FrequentItems& other, std::size_t capacity) {
  total_ += other.total_;
  for (const auto& [value, count] : other.counters_) counters_[value] += count;
  if (counters_.size() > capacity) reduce(capacity);
}

void FrequentItems::reduce(std::size_t capacity) {
  std::vector<std::uint64_t> counts;
  counts.reserve(counters_.size());
  for (const auto& [value, count] : counters_) counts.push_back(count);
  std::nth_element(counts.begin(), counts.begin() + static_cast<long>(capacity), counts.end(),
                   std::greater<>());
  const std::uint64_t cut = counts[capacity];
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (it->second <= cut) {
      it = counters_.erase(it);
    } else {
      it->second -= cut;
      ++it;
    }
  }
}

std::vector<std::pair<std::string, std::uint64_t>> FrequentItems::top(std::size_t k) const {
  std::vector<std::pair<std::string, std::uint64_t>> out(counters_.begin(), counters_.end());
  auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (out.size() > k) {
    std::partial_sort(out.begin(), out.begin() + static_cast<long>(k), out.end(), order);
    out.resize(k);
  } else {
    std::sort(out.begin(), out.end(), order);
  }
  return out;
}

void FrequentItems::encode(ByteWriter& out) const {
  out.varint(total_);
  out.varint(counters_.size());
  for (const auto& [value, count] : counters_) {
    out.str(value);
    out.varint(count);
  }
}

FrequentItems FrequentItems::decode(ByteReader& in) {
  FrequentItems s;
  s.total_ = in.varint();
  std::uint64_t n = in.count(2);
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string value(in.str());
    std::uint64_t count = in.varint();
    if (count == 0 || !s.counters_.emplace(std::move(value), count).second)
      throw CorruptionError("top_frequent: a zero or repeated counter");
    sum += count;
  }
  if (sum > s.total_) throw CorruptionError("top_frequent: counters exceed the total");
  return s;
}

}  // namespace signalbox
