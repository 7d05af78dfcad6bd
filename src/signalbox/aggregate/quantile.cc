// quantile: chosen quantiles of a numeric reference, from a mergeable KLL sketch. Exact
// (nearest rank) while the sketch holds every value; within its rank error beyond.

#include <cmath>

#include <fmt/format.h>

#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/aggregate/kll_sketch.h"
#include "signalbox/common/error.h"

namespace signalbox {

namespace {

constexpr std::size_t kMaxQuantiles = 100;

struct Quantile {
  std::string text;  // as written: the key in answers
  double q = 0;
};

// The nearest rank of q among n values: max(1, ceil(q × n)), where a product within a
// hair of an integer is that integer (0.7 × 10 is 7, whatever binary 0.7 rounds to).
std::uint64_t nearest_rank(double q, std::uint64_t n) {
  const double exact = q * static_cast<double>(n);
  const double r = std::ceil(exact - 1e-9 * std::max(1.0, exact));
  return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::max(r, 1.0)), 1, n);
}

class QuantileAggregator final : public WritingAggregatorOf<KllSketch> {
 public:
  QuantileAggregator(ValueRef value, std::vector<Quantile> quantiles)
      : value_(std::move(value)), quantiles_(std::move(quantiles)) {}

  void fold(KllSketch& s, const MaterializedEvent& e, double) const override {
    std::optional<double> x = value_.number(e);
    if (x && std::isfinite(*x)) s.add(*x);
  }
  void merge(KllSketch& into, const KllSketch& from) const override { into.merge(from); }
  void write_result(const KllSketch& s, TimeMs, ResultWriter& out) const override {
    out.begin_object(quantiles_.size());
    for (const Quantile& q : quantiles_) {
      out.key(q.text);
      if (s.count() == 0)
        out.null();
      else
        out.number(s.value_at_rank(nearest_rank(q.q, s.count())));
    }
    out.end_object();
  }
  void encode(const KllSketch& s, ByteWriter& out) const override { s.encode(out); }
  KllSketch decode(ByteReader& in) const override { return KllSketch::decode(in); }
  // The quantiles asked for do not change the state: signals differing only in them share it.
  std::string fingerprint() const override {
    return fmt::format("quantile(value={},k={})", value_.text(), KllSketch::kK);
  }

 private:
  ValueRef value_;
  std::vector<Quantile> quantiles_;
};

}  // namespace

void add_quantile_aggregator(const AddAggregator& add) {
  add("quantile",
      {{"quantiles", "the quantiles answered, each between 0 and 1 (a list, required)", true}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        const ValueRef& value = c.require_value();
        c.forbid_group_by();
        std::vector<std::string> written = *c.param_list("quantiles", true);
        if (written.empty()) c.reject("quantiles", "must list at least one quantile");
        if (written.size() > kMaxQuantiles)
          c.reject("quantiles", fmt::format("at most {} quantiles", kMaxQuantiles));
        std::vector<Quantile> quantiles;
        for (const std::string& text : written) {
          char* end = nullptr;
          double q = std::strtod(text.c_str(), &end);
          if (text.empty() || end != text.c_str() + text.size() || !(q >= 0 && q <= 1))
            c.reject("quantiles", fmt::format("\"{}\" is not a number between 0 and 1", text));
          if (std::count(written.begin(), written.end(), text) > 1)
            c.reject("quantiles", fmt::format("\"{}\" is listed twice", text));
          quantiles.push_back({text, q});
        }
        return std::make_unique<QuantileAggregator>(value, std::move(quantiles));
      });
}

}  // namespace signalbox
