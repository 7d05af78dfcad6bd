// The aggregators of docs/signals.md: count, sum, decayed_count, distinct_count, mean; and
// the registration of every built-in family (builtin_parts.h).

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/aggregate/distinct_strings.h"
#include "signalbox/aggregate/group_totals.h"
#include "signalbox/aggregate/hyperloglog.h"
#include "signalbox/common/hash.h"

namespace signalbox {

namespace {

// A total, or one total per group: the state of count and sum.
struct Sums {
  double total = 0;
  GroupTotals groups;
};

// Built directly as well as written (write_groups): a view reads a grouped count as a Value,
// and building it through a ValueBuilder costs more (docs/performance.md).
Value groups_value(const GroupTotals& groups, double scale = 1) {
  Value::Object object;
  object.reserve(groups.entries().size());
  for (const auto& [key, v] : groups.entries())
    if (v != 0) object.emplace_back(key, Value(v * scale));
  return Value(std::move(object));
}

void write_groups(const GroupTotals& groups, double scale, ResultWriter& out) {
  out.begin_object(groups.entries().size());
  for (const auto& [key, v] : groups.entries()) {
    if (v == 0) continue;
    out.key(key);
    out.number(v * scale);
  }
  out.end_object();
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
    const DistinctStrings keys(*group_by_, e);
    for (std::string_view key : keys.values()) s.groups.add(key, amount);
  }
  void merge(Sums& into, const Sums& from) const override {
    into.total += from.total;
    into.groups.add_all(from.groups, 1);
  }
  Value result(const Sums& s, TimeMs) const override {
    return group_by_ ? groups_value(s.groups) : Value(s.total);
  }
  void write_result(const Sums& s, TimeMs, ResultWriter& out) const override {
    if (group_by_)
      write_groups(s.groups, 1, out);
    else
      out.number(s.total);
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

class DecayedCountAggregator final : public WritingAggregatorOf<Decayed> {
 public:
  DecayedCountAggregator(TimeMs half_life, std::optional<ValueRef> group_by)
      : half_life_(half_life), group_by_(std::move(group_by)) {}

  void fold(Decayed& s, const MaterializedEvent& e, double weight) const override {
    if (!group_by_) {
      s.total += weight * align(s, e.event.ts);
      return;
    }
    const DistinctStrings keys(*group_by_, e);
    if (keys.values().empty()) return;
    const double amount = weight * align(s, e.event.ts);
    for (std::string_view key : keys.values()) s.groups.add(key, amount);
  }
  void merge(Decayed& into, const Decayed& from) const override {
    if (from.ref == std::numeric_limits<TimeMs>::min()) return;
    double factor = align(into, from.ref);
    into.total += from.total * factor;
    into.groups.add_all(from.groups, factor);
  }
  void write_result(const Decayed& s, TimeMs as_of, ResultWriter& out) const override {
    double scale = s.ref == std::numeric_limits<TimeMs>::min() ? 0 : decay(as_of - s.ref);
    if (group_by_)
      write_groups(s.groups, scale, out);
    else
      out.number(s.total * scale);
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
// A merge puts each of the values it adds in place (a search and a memmove of what follows)
// when the set it adds to holds at least this many times as many; else it writes the union
// anew. An insert's memmove moves 8-byte values a vector register at a time, where the union
// compares, branches on and appends every value: on a heavy user's queries 8 did best of 4, 8,
// 16 and 64 (docs/performance.md).
constexpr std::size_t kFewInsertsPerHash = 8;

class DistinctCountAggregator final : public WritingAggregatorOf<Distinct> {
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
    if (from.exact.size() * kFewInsertsPerHash <= into.exact.size()) {
      // A few values into many (an hour tile onto a window's days): each put in place, which
      // moves the larger part of the set with a memmove instead of comparing it all.
      for (std::uint64_t h : from.exact) {
        auto at = std::lower_bound(into.exact.begin(), into.exact.end(), h);
        if (at == into.exact.end() || *at != h) into.exact.insert(at, h);
      }
    } else {
      std::vector<std::uint64_t> both;
      both.reserve(into.exact.size() + from.exact.size());
      std::set_union(into.exact.begin(), into.exact.end(), from.exact.begin(), from.exact.end(),
                     std::back_inserter(both));
      into.exact = std::move(both);
    }
    if (into.exact.size() > kExactLimit) to_sketch(into);
  }
  void write_result(const Distinct& s, TimeMs, ResultWriter& out) const override {
    if (s.sketch)
      out.number(std::round(s.sketch->estimate()));
    else
      out.unsigned_integer(s.exact.size());
  }
  void encode(const Distinct& s, ByteWriter& out) const override {
    if (s.sketch) {
      out.byte(1);
      out.raw(s.sketch->register_bytes());
      return;
    }
    out.byte(0);
    out.varint(s.exact.size());
    for (std::uint64_t h : s.exact) out.fixed64_be(h);
  }
  Distinct decode(ByteReader& in) const override {
    Distinct s;
    if (in.byte() == 1) {
      // The registers are the rest of the state, one byte each.
      std::optional<HyperLogLog> sketch = HyperLogLog::from_registers(in.rest());
      if (!sketch)
        throw CorruptionError(
            "distinct_count: a sketch of the wrong size or with a register "
            "past the largest rank");
      s.sketch = std::make_unique<HyperLogLog>(std::move(*sketch));
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

class MeanAggregator final : public WritingAggregatorOf<VectorSum> {
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
  void write_result(const VectorSum& s, TimeMs, ResultWriter& out) const override {
    if (!s.any || s.weight == 0) return out.null();
    out.begin_array(s.sums.size());
    for (double x : s.sums) out.number(x / s.weight);
    out.end_array();
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
  add_last_k_aggregator(add);
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
