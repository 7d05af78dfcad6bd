// `histogram`: how the events of a window spread over buckets of a numeric value, e.g. the
// prices a user paid, { "0": 3, "10": 1, "20": 5 } with `width: 10`. The signal kit tutorial
// (docs/write-your-first-signal.md) builds it step by step.

#include <signalbox/signal_kit.h>

#include <cmath>
#include <map>

namespace {

using namespace signalbox;

using Buckets = std::map<std::int64_t, double>;  // bucket number -> Σ weight

class Histogram final : public AggregatorOf<Buckets> {
 public:
  explicit Histogram(const AggregatorContext& c)
      : value_(c.require_value()), width_(c.param_double("width")) {
    c.forbid_group_by();
    if (!(width_ > 0)) c.reject("width", "must be a number > 0");
  }

  void fold(Buckets& s, const MaterializedEvent& e, double weight) const override {
    if (std::optional<double> v = value_.number(e))
      s[static_cast<std::int64_t>(std::floor(*v / width_))] += weight;
  }
  void merge(Buckets& into, const Buckets& from) const override {
    for (const auto& [bucket, weight] : from) into[bucket] += weight;
  }
  Value result(const Buckets& s, TimeMs) const override {
    Value::Object out;  // keyed by each bucket's lower bound, in numeric order
    for (const auto& [bucket, weight] : s)
      if (weight != 0) out.emplace_back(Value(bucket * width_).to_json(), Value(weight));
    return Value(std::move(out));
  }
  void encode(const Buckets& s, ByteWriter& out) const override {
    out.varint(s.size());
    for (const auto& [bucket, weight] : s) {
      out.svarint(bucket);
      out.f64(weight);
    }
  }
  Buckets decode(ByteReader& in) const override {
    Buckets s;
    for (std::uint64_t n = in.count(9); n > 0; --n) {
      std::int64_t bucket = in.svarint();
      s[bucket] = in.f64();
    }
    return s;
  }

 private:
  ValueRef value_;
  double width_;
};

}  // namespace

SIGNALBOX_REGISTER_AGGREGATOR(histogram, Histogram, {{"width", "bucket width (a number > 0)"}});
