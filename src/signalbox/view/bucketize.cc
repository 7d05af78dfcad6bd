// bucketize: a number (or each number of a grouped result) into the bucket its configured
// boundaries put it in: the count of boundaries at or below it, or that bucket's label.

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "signalbox/view/builtin_parts.h"

namespace signalbox {

namespace {

constexpr std::size_t kMaxBoundaries = 1000;

class Bucketize final : public View {
 public:
  Bucketize(std::vector<double> boundaries, std::vector<std::string> labels)
      : boundaries_(std::move(boundaries)), labels_(std::move(labels)) {}

  Value transform(const Value& input) const override {
    if (input.is_number()) return bucket(input.number());
    if (!input.is_object()) return Value();
    Value::Object out;
    for (const auto& [key, v] : input.object())
      if (v.is_number()) out.emplace_back(key, bucket(v.number()));
    return Value(std::move(out));
  }

 private:
  Value bucket(double x) const {
    if (std::isnan(x)) return Value();
    const auto index = static_cast<std::size_t>(
        std::upper_bound(boundaries_.begin(), boundaries_.end(), x) - boundaries_.begin());
    if (!labels_.empty()) return Value(labels_[index]);
    return Value(static_cast<std::uint64_t>(index));
  }

  std::vector<double> boundaries_;   // strictly ascending
  std::vector<std::string> labels_;  // empty, or one per bucket
};

}  // namespace

void add_bucketize_view(std::map<std::string, RegisteredView>& factories) {
  factories["bucketize"] = {
      [](const ViewContext& c) -> std::unique_ptr<View> {
        std::vector<std::string> written = *c.param_list("boundaries", true);
        if (written.empty()) c.reject("boundaries", "must list at least one boundary");
        if (written.size() > kMaxBoundaries)
          c.reject("boundaries", fmt::format("at most {} boundaries", kMaxBoundaries));
        std::vector<double> boundaries;
        for (const std::string& text : written) {
          char* end = nullptr;
          double b = std::strtod(text.c_str(), &end);
          if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(b))
            c.reject("boundaries", fmt::format("\"{}\" is not a finite number", text));
          if (!boundaries.empty() && b <= boundaries.back())
            c.reject("boundaries", fmt::format("must be strictly ascending (\"{}\" follows {})",
                                               text, boundaries.back()));
          boundaries.push_back(b);
        }
        std::vector<std::string> labels =
            c.param_list("labels", false).value_or(std::vector<std::string>{});
        if (!labels.empty() && labels.size() != boundaries.size() + 1)
          c.reject("labels", fmt::format("must name each of the {} buckets ({} boundaries + 1); "
                                         "{} given",
                                         boundaries.size() + 1, boundaries.size(), labels.size()));
        return std::make_unique<Bucketize>(std::move(boundaries), std::move(labels));
      },
      {{"boundaries", "bucket boundaries, strictly ascending (a list, required)", true},
       {"labels", "a label per bucket, one more than the boundaries (a list; default: the index)",
        true}}};
}

}  // namespace signalbox
