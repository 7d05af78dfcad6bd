// ratio: a signal's result in one window divided by its result in another, per group key
// for a grouped signal — with `share: true` each window is first divided by its own sum, so
// that a short window's share over a long window's share says which keys are rising.

#include <fmt/format.h>

#include "signalbox/view/builtin_parts.h"

namespace signalbox {

namespace {

class Ratio final : public View {
 public:
  Ratio(std::string numerator, std::string denominator, bool share)
      : numerator_(std::move(numerator)), denominator_(std::move(denominator)), share_(share) {}

  Input input() const override { return Input::kAllWindows; }

  Value transform(const Value& input) const override {
    const Value* top = input.find(numerator_);
    const Value* bottom = input.find(denominator_);
    if (!top || !bottom) return Value();
    if (top->is_number() && bottom->is_number()) return divide(top->number(), bottom->number());
    if (top->is_null() || bottom->is_null()) return Value();
    if (!top->is_object() || !bottom->is_object()) return Value();
    const double top_sum = share_ ? sum(*top) : 1, bottom_sum = share_ ? sum(*bottom) : 1;
    Value::Object out;
    if (top_sum == 0 || bottom_sum == 0) return Value(std::move(out));
    for (const auto& [key, v] : top->object()) {
      const Value* under = bottom->find(key);
      if (!under || !v.is_number() || !under->is_number() || under->number() == 0) continue;
      out.emplace_back(key, Value((v.number() / top_sum) / (under->number() / bottom_sum)));
    }
    return Value(std::move(out));
  }

 private:
  // A share of a single number is 1 (or undefined), so `share` only applies to groups.
  Value divide(double top, double bottom) const {
    if (bottom == 0) return Value();
    return Value(top / bottom);
  }
  static double sum(const Value& object) {
    double total = 0;
    for (const auto& [key, v] : object.object()) total += v.number();
    return total;
  }

  std::string numerator_;
  std::string denominator_;
  bool share_;
};

bool param_bool(const ViewContext& c, std::string_view key) {
  auto it = c.view.params.find(key);
  if (it == c.view.params.end()) return false;
  if (it->second.text == "true") return true;
  if (it->second.text == "false") return false;
  throw_config_error(it->second.where, key, "must be true or false");
}

}  // namespace

void add_ratio_view(std::map<std::string, RegisteredView>& factories) {
  factories["ratio"] = {
      [](const ViewContext& c) -> std::unique_ptr<View> {
        const WindowConfig& numerator = c.param_window("numerator");
        const WindowConfig& denominator = c.param_window("denominator");
        bool share = param_bool(c, "share");
        if (share) c.require_grouped();
        return std::make_unique<Ratio>(numerator.text, denominator.text, share);
      },
      {{"numerator", "the signal's window divided (as written, required)"},
       {"denominator", "the signal's window it is divided by (as written, required)"},
       {"share", "true: divide each window by its sum first (grouped signals; default false)"}}};
}

}  // namespace signalbox
