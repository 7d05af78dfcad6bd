// The aggregators of docs/signals.md: count, sum, decayed_count, last_k, distinct_count, mean; and
// the registration of every built-in family (builtin_parts.h).

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/aggregate/group_totals.h"
#include "signalbox/aggregate/hyperloglog.h"
#include "signalbox/common/hash.h"

namespace signalbox {

// An event adds its weight once to each distinct value, however often a multi-valued
// feature repeats it.
std::vector<std::string> distinct_strings(const ValueRef& ref, const MaterializedEvent& e) {
  std::vector<std::string> out;
  ref.for_each_string(e, [&](std::string_view s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.emplace_back(s);
  });
  return out;
}

namespace {

// A total, or one total per group: the state of count and sum.
struct Sums {
  double total = 0;
  GroupTotals groups;
};

Value groups_value(const GroupTotals& groups, double scale = 1) {
  Value::Object object;
  object.reserve(groups.entries().size());
  for (const auto& [key, v] : groups.entries())
    if (v != 0) object.emplace_back(key, Value(v * scale));
  return Value(std::move(object));
}

// Σ weight (count) or Σ weight × value (sum), optionally per group.
class SumsAggregator final : public AggregatorOf<Sums> {
 public:
  SumsAggregator(std::string name, std::optional<ValueRef> group_by, std::optional<ValueRef> value)
      : name_(std::move(name)), group_by_(std::move(group_by)), value_(std::move(value)) {}

  void fold(Sums& s, const MaterializedEvent& e, double weight) const override {
    double amount = weight;
    if (value_) {
      std::optional<double> v = value_->number(e);
      if (!v) return;
      amount *= *v;
    }
    if (!group_by_) {
      s.total += amount;
      return;
    }
    for (const std::string& key : distinct_strings(*group_by_, e)) s.groups.add(key, amount);
  }
  void merge(Sums& into, const Sums& from) const override {
    into.total += from.total;
    into.groups.add_all(from.groups, 1);
  }
  Value result(const Sums& s, TimeMs) const override {
    return group_by_ ? groups_value(s.groups) : Value(s.total);
  }
  void encode(const Sums& s, ByteWriter& out) const override {
    if (group_by_)
      s.groups.encode(out);
    else
      out.f64(s.total);
  }
  Sums decode(ByteReader& in) const override {
    Sums s;
    if (group_by_)
      s.groups = GroupTotals::decode(in);
    else
      s.total = in.f64();
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("{}(group_by={},value={})", name_, group_by_ ? group_by_->text() : "",
                       value_ ? value_->text() : "");
  }
  bool numeric() const override { return true; }

 private:
  std::string name_;
  std::optional<ValueRef> group_by_;
  std::optional<ValueRef> value_;
};

// Σ w × 2^((ts − ref) / half_life) with ref the newest ts folded, so every exponent stays
// <= 0 and nothing overflows however long the history; result() moves ref to as_of.
struct Decayed {
  TimeMs ref = std::numeric_limits<TimeMs>::min();
  double total = 0;
  GroupTotals groups;
};

class DecayedCountAggregator final : public AggregatorOf<Decayed> {
 public:
  DecayedCountAggregator(TimeMs half_life, std::optional<ValueRef> group_by)
      : half_life_(half_life), group_by_(std::move(group_by)) {}

  void fold(Decayed& s, const MaterializedEvent& e, double weight) const override {
    std::vector<std::string> keys;
    if (group_by_) {
      keys = distinct_strings(*group_by_, e);
      if (keys.empty()) return;
    }
    double factor = align(s, e.event.ts);
    double amount = weight * factor;
    if (group_by_) {
      for (const std::string& key : keys) s.groups.add(key, amount);
    } else {
      s.total += amount;
    }
  }
  void merge(Decayed& into, const Decayed& from) const override {
    if (from.ref == std::numeric_limits<TimeMs>::min()) return;
    double factor = align(into, from.ref);
    into.total += from.total * factor;
    into.groups.add_all(from.groups, factor);
  }
  Value result(const Decayed& s, TimeMs as_of) const override {
    double scale = s.ref == std::numeric_limits<TimeMs>::min() ? 0 : decay(as_of - s.ref);
    if (group_by_) return groups_value(s.groups, scale);
    return Value(s.total * scale);
  }
  void encode(const Decayed& s, ByteWriter& out) const override {
    out.svarint(s.ref);
    if (group_by_)
      s.groups.encode(out);
    else
      out.f64(s.total);
  }
  Decayed decode(ByteReader& in) const override {
    Decayed s;
    s.ref = in.svarint();
    if (group_by_)
      s.groups = GroupTotals::decode(in);
    else
      s.total = in.f64();
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("decayed_count(half_life={},group_by={})", half_life_,
                       group_by_ ? group_by_->text() : "");
  }
  bool numeric() const override { return true; }

 private:
  double decay(TimeMs age) const {
    return std::exp2(-static_cast<double>(age) / static_cast<double>(half_life_));
  }
  // Makes `ts` comparable with s.ref: moves s.ref forward to ts when ts is newer (scaling what
  // is there down) and returns the factor for an amount at `ts`.
  double align(Decayed& s, TimeMs ts) const {
    if (s.ref == std::numeric_limits<TimeMs>::min()) {
      s.ref = ts;
      return 1;
    }
    if (ts <= s.ref) return decay(s.ref - ts);
    double down = decay(ts - s.ref);
    s.total *= down;
    s.groups.scale(down);
    s.ref = ts;
    return 1;
  }

  TimeMs half_life_;
  std::optional<ValueRef> group_by_;
};

// The k most recent distinct values, newest first, each with the ts (and event id, for
// ordering ties) of its newest occurrence.
struct Recent {
  struct Entry {
    std::string value;
    TimeMs ts;
    std::string event_id;
  };
  std::vector<Entry> entries;  // newest first
};

bool newer(const Recent::Entry& a, const Recent::Entry& b) {
  if (a.ts != b.ts) return a.ts > b.ts;
  if (a.event_id != b.event_id) return a.event_id > b.event_id;
  return a.value < b.value;
}

class LastKAggregator final : public AggregatorOf<Recent> {
 public:
  LastKAggregator(std::size_t k, ValueRef value) : k_(k), value_(std::move(value)) {}

  void fold(Recent& s, const MaterializedEvent& e, double) const override {
    value_.for_each_string(e, [&](std::string_view v) {
      add(s, Recent::Entry{std::string(v), e.event.ts, e.event.event_id});
    });
  }
  // Both lists are newest first and hold each value once, so the answer is one pass taking
  // the newer head each step and skipping values already taken: O(k) per merge where adding
  // entry by entry was O(k^2) string compares and shifts (a query merges ~100 tiles).
  void merge(Recent& into, const Recent& from) const override {
    if (from.entries.empty()) return;
    if (into.entries.empty()) {
      into.entries.assign(from.entries.begin(),
                          from.entries.begin() + std::min(k_, from.entries.size()));
      return;
    }
    const std::size_t limit = std::min(k_, into.entries.size() + from.entries.size());
    std::vector<Recent::Entry> merged;
    merged.reserve(limit);  // in full, so that the views in `taken` never dangle
    std::unordered_set<std::string_view> taken;
    taken.reserve(limit * 2);
    auto a = into.entries.begin(), a_end = into.entries.end();
    auto b = from.entries.begin(), b_end = from.entries.end();
    while (merged.size() < limit && (a != a_end || b != b_end)) {
      const bool take_a = b == b_end || (a != a_end && !newer(*b, *a));
      const Recent::Entry& next = take_a ? *a : *b;
      if (!taken.contains(next.value)) {
        if (take_a) {
          merged.push_back(std::move(*a));
        } else {
          merged.push_back(*b);
        }
        taken.insert(merged.back().value);
      }
      if (take_a) {
        ++a;
      } else {
        ++b;
      }
    }
    into.entries = std::move(merged);
  }
  Value result(const Recent& s, TimeMs) const override {
    Value::Array list;
    for (const auto& entry : s.entries)
      list.emplace_back(Value::Object{{"value", Value(entry.value)}, {"ts", Value(entry.ts)}});
    return Value(std::move(list));
  }
  void encode(const Recent& s, ByteWriter& out) const override {
    out.varint(s.entries.size());
    for (const auto& entry : s.entries) {
      out.str(entry.value);
      out.svarint(entry.ts);
      out.str(entry.event_id);
    }
  }
  Recent decode(ByteReader& in) const override {
    Recent s;
    std::uint64_t n = in.count(3);
    s.entries.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      Recent::Entry entry;
      entry.value = std::string(in.str());
      entry.ts = in.svarint();
      entry.event_id = std::string(in.str());
      s.entries.push_back(std::move(entry));
    }
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("last_k(k={},value={})", k_, value_.text());
  }

 private:
  // Keeps s.entries newest first and at most k long with O(k) work per entry, so folding a
  // long run of events never sorts.
  void add(Recent& s, Recent::Entry entry) const {
    auto& list = s.entries;
    auto same = std::find_if(list.begin(), list.end(),
                             [&](const Recent::Entry& e) { return e.value == entry.value; });
    if (same != list.end()) {
      if (!newer(entry, *same)) return;
      list.erase(same);
    }
    auto at = std::lower_bound(list.begin(), list.end(), entry, newer);
    if (static_cast<std::size_t>(at - list.begin()) >= k_) return;
    list.insert(at, std::move(entry));
    if (list.size() > k_) list.pop_back();
  }

  std::size_t k_;
  ValueRef value_;
};

// Exact while at most kExactLimit distinct hashes; a HyperLogLog sketch beyond. `exact` is a
// sorted vector rather than a tree: it is encoded in order anyway, so decoding is a copy and
// merging two tiles one linear pass, and at most kExactLimit long, so an insert is cheap.
struct Distinct {
  std::vector<std::uint64_t> exact;
  std::unique_ptr<HyperLogLog> sketch;

  Distinct() = default;
  Distinct(const Distinct& other)
      : exact(other.exact),
        sketch(other.sketch ? std::make_unique<HyperLogLog>(*other.sketch) : nullptr) {}
  Distinct& operator=(const Distinct& other) {
    exact = other.exact;
    sketch = other.sketch ? std::make_unique<HyperLogLog>(*other.sketch) : nullptr;
    return *this;
  }
  Distinct(Distinct&&) = default;
  Distinct& operator=(Distinct&&) = default;
};

constexpr std::size_t kExactLimit = 1000;

class DistinctCountAggregator final : public AggregatorOf<Distinct> {
 public:
  explicit DistinctCountAggregator(ValueRef value) : value_(std::move(value)) {}

  void fold(Distinct& s, const MaterializedEvent& e, double weight) const override {
    value_.for_each_string(e, [&](std::string_view v) { add(s, hash64(v)); });
  }
  void merge(Distinct& into, const Distinct& from) const override {
    if (from.sketch) {
      to_sketch(into);
      into.sketch->merge(*from.sketch);
      return;
    }
    if (from.exact.empty()) return;
    if (into.sketch) {
      for (std::uint64_t h : from.exact) into.sketch->add(h);
      return;
    }
    std::vector<std::uint64_t> both;
    both.reserve(into.exact.size() + from.exact.size());
    std::set_union(into.exact.begin(), into.exact.end(), from.exact.begin(), from.exact.end(),
                   std::back_inserter(both));
    into.exact = std::move(both);
    if (into.exact.size() > kExactLimit) to_sketch(into);
  }
  Value result(const Distinct& s, TimeMs) const override {
    if (s.sketch) return Value(std::round(s.sketch->estimate()));
    return Value(static_cast<std::uint64_t>(s.exact.size()));
  }
  void encode(const Distinct& s, ByteWriter& out) const override {
    if (s.sketch) {
      out.byte(1);
      for (std::uint8_t r : s.sketch->registers()) out.byte(r);
      return;
    }
    out.byte(0);
    out.varint(s.exact.size());
    for (std::uint64_t h : s.exact) out.fixed64_be(h);
  }
  Distinct decode(ByteReader& in) const override {
    Distinct s;
    if (in.byte() == 1) {
      s.sketch = std::make_unique<HyperLogLog>();
      for (auto& r : s.sketch->registers()) r = in.byte();
      return s;
    }
    std::uint64_t n = in.count(8);
    s.exact.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) s.exact.push_back(in.fixed64_be());
    // Written in order by encode(); anything else is not a state this aggregator wrote.
    for (std::size_t i = 1; i < s.exact.size(); ++i)
      if (s.exact[i - 1] >= s.exact[i])
        throw CorruptionError("distinct_count: hashes out of order");
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("distinct_count(value={})", value_.text());
  }
  bool numeric() const override { return true; }

 private:
  static void to_sketch(Distinct& s) {
    if (s.sketch) return;
    s.sketch = std::make_unique<HyperLogLog>();
    for (std::uint64_t h : s.exact) s.sketch->add(h);
    s.exact.clear();
  }
  static void add(Distinct& s, std::uint64_t h) {
    if (s.sketch) {
      s.sketch->add(h);
      return;
    }
    auto at = std::lower_bound(s.exact.begin(), s.exact.end(), h);
    if (at != s.exact.end() && *at == h) return;
    s.exact.insert(at, h);
    if (s.exact.size() > kExactLimit) to_sketch(s);
  }

  ValueRef value_;
};

// Σ w and Σ w × v for the weighted element-wise mean of a vector feature.
struct VectorSum {
  double weight = 0;
  std::vector<double> sums;
  bool any = false;
};

class MeanAggregator final : public AggregatorOf<VectorSum> {
 public:
  explicit MeanAggregator(ValueRef value) : value_(std::move(value)) {}

  void fold(VectorSum& s, const MaterializedEvent& e, double weight) const override {
    std::span<const float> v = value_.vector(e);
    if (v.empty()) return;
    if (!s.any) s.sums.assign(v.size(), 0.0);
    if (s.sums.size() != v.size()) return;  // a vector of another length cannot be averaged in
    s.any = true;
    s.weight += weight;
    for (std::size_t i = 0; i < v.size(); ++i) s.sums[i] += weight * static_cast<double>(v[i]);
  }
  void merge(VectorSum& into, const VectorSum& from) const override {
    if (!from.any) return;
    if (!into.any) {
      into = from;
      return;
    }
    if (into.sums.size() != from.sums.size()) return;
    into.weight += from.weight;
    for (std::size_t i = 0; i < into.sums.size(); ++i) into.sums[i] += from.sums[i];
  }
  Value result(const VectorSum& s, TimeMs) const override {
    if (!s.any || s.weight == 0) return Value();
    Value::Array mean;
    mean.reserve(s.sums.size());
    for (double x : s.sums) mean.emplace_back(x / s.weight);
    return Value(std::move(mean));
  }
  void encode(const VectorSum& s, ByteWriter& out) const override {
    out.byte(s.any ? 1 : 0);
    if (!s.any) return;
    out.f64(s.weight);
    out.varint(s.sums.size());
    for (double x : s.sums) out.f64(x);
  }
  VectorSum decode(ByteReader& in) const override {
    VectorSum s;
    s.any = in.byte() != 0;
    if (!s.any) return s;
    s.weight = in.f64();
    std::uint64_t n = in.count(8);
    s.sums.resize(n);
    for (auto& x : s.sums) x = in.f64();
    return s;
  }
  std::string fingerprint() const override { return fmt::format("mean(value={})", value_.text()); }

 private:
  ValueRef value_;
};

}  // namespace

void add_builtin_aggregators(const AddAggregator& add) {
  add("count", {}, [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
    c.forbid_value();
    return std::make_unique<SumsAggregator>("count", c.group_by, std::nullopt);
  });
  add("sum", {}, [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
    c.require_value();
    return std::make_unique<SumsAggregator>("sum", c.group_by, c.value);
  });
  add("decayed_count",
      {{"half_life", "the age at which an event counts half (a duration, required)"}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        c.forbid_value();
        if (!c.signal.windows.empty())
          c.reject("windows", "decayed_count has no windows (it decays instead)");
        return std::make_unique<DecayedCountAggregator>(c.param_duration("half_life"), c.group_by);
      });
  add("last_k", {{"k", "how many of the newest values are kept, 1-10000 (required)"}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        const ValueRef& value = c.require_value();
        c.forbid_group_by();
        std::int64_t k = c.param_int("k");
        if (k < 1 || k > 10000) c.reject("k", "must be between 1 and 10000");
        return std::make_unique<LastKAggregator>(static_cast<std::size_t>(k), value);
      });
  add("distinct_count", {}, [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
    const ValueRef& value = c.require_value();
    c.forbid_group_by();
    return std::make_unique<DistinctCountAggregator>(value);
  });
  add("mean", {}, [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
    const ValueRef& value = c.require_value();
    c.forbid_group_by();
    if (value.kind() != ValueRef::Kind::kFeature) c.reject("value", "mean needs a vector feature");
    return std::make_unique<MeanAggregator>(value);
  });
  add_numeric_summary_aggregators(add);
  add_sequence_aggregator(add);
  add_quantile_aggregator(add);
  add_top_frequent_aggregator(add);
}

}  // namespace signalbox
