// min, max, avg and stddev of a numeric reference: one mergeable summary (count, mean, M2,
// min, max) per group, answered four ways. The four share one fingerprint, so signals of
// the same value, group_by and actions share stored state whichever statistic they answer.

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/aggregate/distinct_strings.h"

namespace signalbox {

namespace {

// Count, mean and sum of squared deviations from the mean (Welford; Chan et al.'s pairwise
// update to merge), which stays accurate where Σx² − (Σx)²/n would cancel.
struct Summary {
  std::uint64_t n = 0;
  double mean = 0;
  double m2 = 0;
  double min = 0;
  double max = 0;

  void add(double x) {
    if (n == 0) min = max = x;
    min = std::min(min, x);
    max = std::max(max, x);
    ++n;
    double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  void merge(const Summary& other) {
    if (other.n == 0) return;
    if (n == 0) {
      *this = other;
      return;
    }
    const double na = static_cast<double>(n), nb = static_cast<double>(other.n);
    const double total = na + nb;
    const double delta = other.mean - mean;
    mean += delta * nb / total;
    m2 += other.m2 + delta * delta * na * nb / total;
    min = std::min(min, other.min);
    max = std::max(max, other.max);
    n += other.n;
  }
};

struct Summaries {
  Summary total;
  std::map<std::string, Summary, std::less<>> groups;
};

enum class Statistic { kMin, kMax, kAvg, kStddev };

class NumericSummaryAggregator final : public WritingAggregatorOf<Summaries> {
 public:
  NumericSummaryAggregator(Statistic statistic, ValueRef value, std::optional<ValueRef> group_by)
      : statistic_(statistic), value_(std::move(value)), group_by_(std::move(group_by)) {}

  void fold(Summaries& s, const MaterializedEvent& e, double) const override {
    std::optional<double> x = value_.number(e);
    if (!x || !std::isfinite(*x)) return;
    if (!group_by_) {
      s.total.add(*x);
      return;
    }
    const DistinctStrings keys(*group_by_, e);
    for (std::string_view key : keys.values()) {
      auto group = s.groups.find(key);
      if (group == s.groups.end()) group = s.groups.emplace(std::string(key), Summary()).first;
      group->second.add(*x);
    }
  }
  void merge(Summaries& into, const Summaries& from) const override {
    into.total.merge(from.total);
    for (const auto& [key, summary] : from.groups) into.groups[key].merge(summary);
  }
  void write_result(const Summaries& s, TimeMs, ResultWriter& out) const override {
    if (!group_by_) return write_answer(s.total, out);
    out.begin_object(s.groups.size());
    for (const auto& [key, summary] : s.groups) {
      if (summary.n == 0) continue;
      out.key(key);
      write_answer(summary, out);
    }
    out.end_object();
  }
  void encode(const Summaries& s, ByteWriter& out) const override {
    if (!group_by_) return encode_summary(s.total, out);
    out.varint(s.groups.size());
    for (const auto& [key, summary] : s.groups) {
      out.str(key);
      encode_summary(summary, out);
    }
  }
  Summaries decode(ByteReader& in) const override {
    Summaries s;
    if (!group_by_) {
      s.total = decode_summary(in);
      return s;
    }
    std::uint64_t n = in.count(2);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string key(in.str());
      s.groups[key] = decode_summary(in);
    }
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("numeric_summary(group_by={},value={})", group_by_ ? group_by_->text() : "",
                       value_.text());
  }
  bool numeric() const override { return true; }

 private:
  void write_answer(const Summary& s, ResultWriter& out) const {
    if (s.n == 0) return out.null();
    switch (statistic_) {
      case Statistic::kMin:
        return out.number(s.min);
      case Statistic::kMax:
        return out.number(s.max);
      case Statistic::kAvg:
        return out.number(s.mean);
      case Statistic::kStddev:
        return out.number(std::sqrt(std::max(0.0, s.m2 / static_cast<double>(s.n))));
    }
    out.null();
  }
  static void encode_summary(const Summary& s, ByteWriter& out) {
    out.varint(s.n);
    if (s.n == 0) return;
    out.f64(s.mean);
    out.f64(s.m2);
    out.f64(s.min);
    out.f64(s.max);
  }
  static Summary decode_summary(ByteReader& in) {
    Summary s;
    s.n = in.varint();
    if (s.n == 0) return s;
    s.mean = in.f64();
    s.m2 = in.f64();
    s.min = in.f64();
    s.max = in.f64();
    return s;
  }

  Statistic statistic_;
  ValueRef value_;
  std::optional<ValueRef> group_by_;
};

}  // namespace

void add_numeric_summary_aggregators(const AddAggregator& add) {
  const std::pair<const char*, Statistic> statistics[] = {{"min", Statistic::kMin},
                                                          {"max", Statistic::kMax},
                                                          {"avg", Statistic::kAvg},
                                                          {"stddev", Statistic::kStddev}};
  for (const auto& [name, statistic] : statistics) {
    const Statistic which = statistic;
    add(name, {}, [which](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
      const ValueRef& value = c.require_value();
      return std::make_unique<NumericSummaryAggregator>(which, value, c.group_by);
    });
  }
}

}  // namespace signalbox
