// `refuses_before`: a count that refuses to answer as of a time before its parameter `from`
// (ms), as a signal whose data is known to start at some time would. Loaded as a plugin by the
// backfill CLI test, so that a backfill through the real binary has queries refused.

#include <signalbox/signal_kit.h>

#include <string>

#include "signalbox/common/error.h"

namespace {

using namespace signalbox;

class RefusesBefore final : public AggregatorOf<double> {
 public:
  explicit RefusesBefore(const AggregatorContext& c) : from_(c.param_int("from")) {}

  void fold(double& count, const MaterializedEvent&, double weight) const override {
    count += weight;
  }
  void merge(double& into, const double& from) const override { into += from; }
  Value result(const double& count, TimeMs as_of) const override {
    if (as_of < from_)
      throw QueryError("as_of: " + std::to_string(as_of) + " is before " + std::to_string(from_) +
                       ", where this signal's data starts");
    return Value(count);
  }
  void encode(const double& count, ByteWriter& out) const override { out.f64(count); }
  double decode(ByteReader& in) const override { return in.f64(); }

 private:
  TimeMs from_;
};

}  // namespace

SIGNALBOX_REGISTER_AGGREGATOR(refuses_before, RefusesBefore,
                              {{"from", "the earliest as_of answered, in ms since the epoch"}});
