// `rising`: of a grouped signal with a short and a long window, the groups whose share of the
// short window rose most against their share of the long window - what a user is newly into.
//
//   - { name: rising_search_interests, signal: search_interests, transform: rising,
//       short: 1d, long: 30d, k: 3 }
//
// With share_W(c) = count_W(c) / Σ count_W, the answer lists the `k` groups (default 5) with
// the largest rise = share_short(c) - share_long(c) > 0, rise descending then key ascending,
// as [{"key", "rise", "short", "long"}] (the two shares). It reads two windows of one signal,
// so it declares View::Input::kAllWindows and takes no `window` key.

#include <signalbox/signal_kit.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace signalbox;

// Each key's share of a grouped result ({} for anything else or a zero sum).
std::map<std::string, double> shares(const Value* counts) {
  std::map<std::string, double> out;
  if (!counts || !counts->is_object()) return out;
  double total = 0;
  for (const auto& [key, v] : counts->object()) total += v.number();
  if (total == 0) return out;
  for (const auto& [key, v] : counts->object()) out[key] = v.number() / total;
  return out;
}

class Rising final : public View {
 public:
  explicit Rising(const ViewContext& c) {
    c.require_grouped();
    const WindowConfig& short_window = c.param_window("short");
    const WindowConfig& long_window = c.param_window("long");
    if (short_window.length >= long_window.length)
      c.reject("short", "must be a shorter window than `long`");
    std::int64_t k = c.param_int("k", 5);
    if (k < 1 || k > 10000) c.reject("k", "must be between 1 and 10000");
    short_ = short_window.text;
    long_ = long_window.text;
    k_ = static_cast<std::size_t>(k);
  }

  Input input() const override { return Input::kAllWindows; }

  Value transform(const Value& windows) const override {
    std::map<std::string, double> now = shares(windows.find(short_));
    std::map<std::string, double> before = shares(windows.find(long_));
    struct Entry {
      std::string key;
      double rise, short_share, long_share;
    };
    std::vector<Entry> rising;
    for (const auto& [key, share] : now) {
      auto it = before.find(key);
      double long_share = it == before.end() ? 0 : it->second;
      if (share > long_share) rising.push_back(Entry{key, share - long_share, share, long_share});
    }
    std::sort(rising.begin(), rising.end(), [](const Entry& a, const Entry& b) {
      return a.rise != b.rise ? a.rise > b.rise : a.key < b.key;
    });
    if (rising.size() > k_) rising.resize(k_);
    Value::Array out;
    for (Entry& e : rising)
      out.emplace_back(Value::Object{{"key", Value(std::move(e.key))},
                                     {"rise", Value(e.rise)},
                                     {"short", Value(e.short_share)},
                                     {"long", Value(e.long_share)}});
    return Value(std::move(out));
  }

 private:
  std::string short_;
  std::string long_;
  std::size_t k_ = 5;
};

}  // namespace

SIGNALBOX_REGISTER_VIEW(rising, Rising,
                        {{"short", "the shorter of the two windows compared"},
                         {"long", "the longer of the two windows compared"},
                         {"k", "how many groups are listed, 1-10000 (default 5)"}});
