// top_frequent: the values of a (multi-valued) reference carried by the most counted events,
// from a bounded Misra–Gries summary (frequent_items.h): exact while the distinct values stay
// within the capacity, within N / (capacity + 1) of the true counts beyond.

#include <fmt/format.h>

#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/aggregate/distinct_strings.h"
#include "signalbox/aggregate/frequent_items.h"

namespace signalbox {

namespace {

constexpr std::int64_t kMaxTopK = 1000;
constexpr std::int64_t kMaxCapacity = 10000;

class TopFrequentAggregator final : public WritingAggregatorOf<FrequentItems> {
 public:
  TopFrequentAggregator(ValueRef value, std::size_t k, std::size_t capacity)
      : value_(std::move(value)), k_(k), capacity_(capacity) {}

  void fold(FrequentItems& s, const MaterializedEvent& e, double) const override {
    const DistinctStrings values(value_, e);
    for (std::string_view v : values.values()) s.add(v, 1, capacity_);
  }
  void merge(FrequentItems& into, const FrequentItems& from) const override {
    into.merge(from, capacity_);
  }
  void write_result(const FrequentItems& s, TimeMs, ResultWriter& out) const override {
    const auto top = s.top(k_);
    out.begin_array(top.size());
    for (const auto& [value, count] : top) {
      out.begin_object(2);
      out.key("key");
      out.string(value);
      out.key("value");
      out.unsigned_integer(count);
      out.end_object();
    }
    out.end_array();
  }
  void encode(const FrequentItems& s, ByteWriter& out) const override { s.encode(out); }
  FrequentItems decode(ByteReader& in) const override { return FrequentItems::decode(in); }
  // k only cuts the answer: signals differing only in k share state.
  std::string fingerprint() const override {
    return fmt::format("top_frequent(value={},capacity={})", value_.text(), capacity_);
  }

 private:
  ValueRef value_;
  std::size_t k_;
  std::size_t capacity_;
};

}  // namespace

void add_top_frequent_aggregator(const AddAggregator& add) {
  add("top_frequent",
      {{"k", fmt::format("how many of the most frequent values are answered, 1-{} (required)",
                         kMaxTopK)},
       {"capacity",
        fmt::format("counters kept, k-{} (default: the larger of 100 and 10 × k, at most {})",
                    kMaxCapacity, kMaxCapacity)}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        const ValueRef& value = c.require_value();
        c.forbid_group_by();
        std::int64_t k = c.param_int("k");
        if (k < 1 || k > kMaxTopK) c.reject("k", fmt::format("must be between 1 and {}", kMaxTopK));
        std::int64_t capacity =
            c.param_int("capacity", std::min(kMaxCapacity, std::max<std::int64_t>(100, 10 * k)));
        if (capacity < k || capacity > kMaxCapacity)
          c.reject("capacity", fmt::format("must be between k ({}) and {}", k, kMaxCapacity));
        return std::make_unique<TopFrequentAggregator>(value, static_cast<std::size_t>(k),
                                                       static_cast<std::size_t>(capacity));
      });
}

}  // namespace signalbox
