// The files of `signalbox init`. The config's signals are checked by the fixture against
// hand-computed values; the sample events are generated here so that the project has data
// near the time it was made (short windows are then not all zero).

#include "signalbox/cli/starter_project.h"

#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace signalbox {

namespace {

constexpr char kConfig[] =
    R"(# A starter Signalbox config, written by `signalbox init`. Try, from this folder:
#
#   signalbox check  --config signalbox.yaml                   # validate it
#   signalbox test   signalbox.test.yaml                       # its signals on a tiny stream
#   signalbox replay --config signalbox.yaml events.ndjson     # load the sample events
#   signalbox get    --config signalbox.yaml --user 1          # one user's signals
#   signalbox serve  --config signalbox.yaml                   # HTTP API and explorer page
#
# Relative paths are relative to this file's folder. Every key: docs/config.md; every
# aggregator and view: docs/signals.md.

server: { http: 127.0.0.1:8080 }

# Where events and state are kept. `kind: redis` (with `nodes:`) shares one store between
# servers; see docs/scale-out.md.
storage: { kind: rocksdb, path: store }

# Raw events are kept this long; windows up to this length are exact at any time.
event_store: { retention: 7d }

signals:
  # How often the user clicked, in three windows: {"1h": n, "1d": n, "7d": n}.
  - { name: clicks, aggregator: count, actions: { click: 1 }, windows: [1h, 1d, 7d] }
  # Engagement weighted by action: a save counts three clicks, a purchase five.
  - { name: engagement, aggregator: count, actions: { click: 1, save: 3, purchase: 5 }, windows: [1d, 7d] }
  # Events per category (an attribute of each event), for the top_categories view below.
  - { name: category_counts, aggregator: count, group_by: attrs.category, windows: [1d, 7d] }
  # Interest that fades: each event's weight halves every 3 days. No windows: all history.
  - { name: category_affinity, aggregator: decayed_count, group_by: attrs.category, half_life: 3d }
  # The 20 most recent distinct items, newest first, with when each was last seen.
  - { name: recent_items, aggregator: last_k, value: item_id, k: 20 }
  - { name: distinct_items, aggregator: distinct_count, value: item_id, windows: [1d, 7d] }
  # Money spent: the sum of attrs.price over purchases.
  - { name: spend, aggregator: sum, value: attrs.price, actions: { purchase: 1 }, windows: [7d] }
  # The cheapest and dearest purchase, from the custom aggregator of plugin/: build the plugin
  # (README.md), uncomment `plugins:` at the end, then this line.
  # - { name: price_range, aggregator: value_range, value: attrs.price, actions: { purchase: 1 }, windows: [7d] }

views:
  # Transforms of one signal's result, computed at query time.
  - { name: top_categories_7d, signal: category_counts, window: 7d, transform: top_k, k: 3 }
  - { name: last_session_items, signal: recent_items, transform: last_session, gap: 30m }

# Plugins add aggregators and views; this one is built from plugin/ (see README.md).
# plugins: [plugin/build/value_range.so]
)";

constexpr char kFixture[] =
    R"(# A `signalbox test` fixture for signalbox.yaml: a tiny stream whose answers can be worked
# out by hand. Run it with `signalbox test signalbox.test.yaml`; docs/testing-signals.md
# describes the format. Add a check whenever you change a signal.
config: signalbox.yaml

events:
  - { user_id: 1, ts: "2026-02-27T09:00:00Z", action: click, item_id: b1, attrs: { category: hats } }
  - { user_id: 1, ts: "2026-03-01T09:00:00Z", action: click, item_id: a1, attrs: { category: shoes } }
  - { user_id: 1, ts: "2026-03-01T09:10:00Z", action: click, item_id: a2, attrs: { category: shoes } }
  - { user_id: 1, ts: "2026-03-01T09:12:00Z", action: save, item_id: a2, attrs: { category: shoes } }
  - { user_id: 1, ts: "2026-03-01T09:20:00Z", action: purchase, item_id: a2, attrs: { category: shoes, price: 30 } }

checks:
  - user: 1
    as_of: "2026-03-01T12:00:00Z"
    expect:
      clicks: { 1h: 0, 1d: 2, 7d: 3 }                 # nothing in the last hour
      engagement: { 1d: 10, 7d: 11 }                  # 2 clicks + 1 save x 3 + 1 purchase x 5, + 1
      category_counts.7d: { hats: 1, shoes: 4 }
      top_categories_7d.0: { key: shoes, value: 4 }
      recent_items.0.value: a2                        # newest first, each item once
      recent_items.1.value: a1
      distinct_items: { 1d: 2, 7d: 3 }
      spend.7d: 30
      last_session_items.1.value: a1                  # a2 and a1, 20 minutes apart; b1 is days before

  - user: 2                                           # never seen: zeros and empty lists
    as_of: "2026-03-01T12:00:00Z"
    expect:
      clicks: { 1h: 0, 1d: 0, 7d: 0 }
      recent_items: []
)";

constexpr char kPluginSource[] =
    R"(// `value_range`: the smallest and largest value of a window and how many events had one,
// {"min": 4.99, "max": 105, "events": 5}; null bounds when none did. A skeleton to start a
// custom aggregator from: docs/write-your-first-signal.md explains each part.

#include <signalbox/signal_kit.h>

#include <algorithm>
#include <limits>

namespace {

using namespace signalbox;

struct Range {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::uint64_t events = 0;
};

class ValueRange final : public AggregatorOf<Range> {
 public:
  explicit ValueRange(const AggregatorContext& c) : value_(c.require_value()) { c.forbid_group_by(); }

  void fold(Range& s, const MaterializedEvent& e, double) const override {
    if (std::optional<double> v = value_.number(e)) {
      s.min = std::min(s.min, *v);
      s.max = std::max(s.max, *v);
      ++s.events;
    }
  }
  void merge(Range& into, const Range& from) const override {
    into.min = std::min(into.min, from.min);
    into.max = std::max(into.max, from.max);
    into.events += from.events;
  }
  Value result(const Range& s, TimeMs) const override {
    if (s.events == 0) return Value(Value::Object{{"min", Value()}, {"max", Value()}, {"events", Value(0)}});
    return Value(Value::Object{{"min", Value(s.min)}, {"max", Value(s.max)}, {"events", Value(s.events)}});
  }
  void encode(const Range& s, ByteWriter& out) const override {
    out.f64(s.min);
    out.f64(s.max);
    out.varint(s.events);
  }
  Range decode(ByteReader& in) const override {
    Range s;
    s.min = in.f64();
    s.max = in.f64();
    s.events = in.varint();
    return s;
  }

 private:
  ValueRef value_;
};

}  // namespace

SIGNALBOX_REGISTER_AGGREGATOR(value_range, ValueRange, {});
)";

// The plugin's CMakeLists.txt: `{}` is the Signalbox tree `signalbox init` came from.
constexpr char kPluginCMake[] =
    R"(# Builds value_range.so, a plugin a config loads with `plugins: [plugin/build/value_range.so]`:
#
#   cmake -S plugin -B plugin/build && cmake --build plugin/build
#
# It is compiled against the headers of the Signalbox that will load it (a plugin built for
# another plugin ABI version is refused at load). They are found through Signalbox's
# cmake/SignalboxSignals.cmake, looked for in -DSIGNALBOX_DIR=..., then $SIGNALBOX_DIR, then
# the Signalbox tree this project was made from, then the usual install prefixes.

cmake_minimum_required(VERSION 3.25)
project(starter_plugin LANGUAGES CXX)

set(SIGNALBOX_DIR "" CACHE PATH "A Signalbox source tree or install prefix")
find_file(SIGNALBOX_SIGNALS_CMAKE SignalboxSignals.cmake
          HINTS "${{SIGNALBOX_DIR}}" "$ENV{{SIGNALBOX_DIR}}" "{}"
          PATH_SUFFIXES cmake share/signalbox/cmake lib/cmake/signalbox
          NO_CACHE)
if(NOT SIGNALBOX_SIGNALS_CMAKE)
  message(FATAL_ERROR "Signalbox's cmake/SignalboxSignals.cmake was not found; pass "
                      "-DSIGNALBOX_DIR=/path/to/signalbox (its source tree) or set SIGNALBOX_DIR")
endif()
include("${{SIGNALBOX_SIGNALS_CMAKE}}")

signalbox_add_plugin(value_range SOURCES value_range.cc)
)";

constexpr char kReadme[] = R"(# A Signalbox project

Written by `signalbox init`. From this folder:

```sh
signalbox check  --config signalbox.yaml               # the config is valid
signalbox test   signalbox.test.yaml                   # its signals on a tiny stream, checked
signalbox replay --config signalbox.yaml events.ndjson # load the sample events into store/
signalbox get    --config signalbox.yaml --user 1      # one user's signals, as JSON
signalbox serve  --config signalbox.yaml               # then open http://127.0.0.1:8080/
```

| file | what |
|---|---|
| `signalbox.yaml` | the config: signals and views, commented |
| `events.ndjson` | sample events of 12 users over the 3 days before `init` ran |
| `signalbox.test.yaml` | a fixture: events, and the values the signals must answer |
| `plugin/` | a custom aggregator (`value_range`) built as a plugin |

To use the plugin: `cmake -S plugin -B plugin/build && cmake --build plugin/build`, then
uncomment the `plugins:` line at the end of `signalbox.yaml` and the `price_range` signal.
)";

constexpr std::array<const char*, 6> kCategories = {"shoes",  "hats",   "food",
                                                    "travel", "garden", "music"};
constexpr std::size_t kUsers = 12;
constexpr std::size_t kItems = 40;
constexpr std::size_t kEvents = 600;
constexpr TimeMs kSpan = 3 * kDayMs;

// A small deterministic generator (SplitMix64), so the same `now` gives the same events.
class Random {
 public:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_ = 0x5167'6e61'6c62'6f78;
};

// Clicks mostly, some saves and few purchases; user 1 the busiest; items keep a category.
std::string sample_events(TimeMs now) {
  Random random;
  std::string out;
  const TimeMs start = now - kSpan;
  for (std::size_t i = 0; i < kEvents; ++i) {
    const TimeMs ts = start + static_cast<TimeMs>(i) * kSpan / static_cast<TimeMs>(kEvents) +
                      static_cast<TimeMs>(random.below(kMinuteMs));
    const std::uint64_t user = random.below(4) == 0 ? 1 : 1 + random.below(kUsers);
    const std::uint64_t item = random.below(kItems);
    const std::uint64_t roll = random.below(100);
    const char* action = roll < 75 ? "click" : roll < 93 ? "save" : "purchase";
    std::string attrs = fmt::format(R"("category":"{}")", kCategories[item % kCategories.size()]);
    if (roll >= 93) attrs += fmt::format(R"(,"price":{}.{:02})", 5 + item * 3, random.below(100));
    fmt::format_to(
        std::back_inserter(out),
        R"({{"user_id":{},"ts":{},"action":"{}","item_id":"item-{}","event_id":"sample-{}","attrs":{{{}}}}})"
        "\n",
        user, ts, action, item, i, attrs);
  }
  return out;
}

}  // namespace

std::vector<StarterFile> starter_project(TimeMs now, const std::string& signalbox_dir) {
  return {
      {"signalbox.yaml", kConfig},
      {"events.ndjson", sample_events(now)},
      {"signalbox.test.yaml", kFixture},
      {"plugin/value_range.cc", kPluginSource},
      {"plugin/CMakeLists.txt", fmt::format(kPluginCMake, signalbox_dir)},
      {"README.md", kReadme},
      {".gitignore", "store/\nplugin/build/\n"},
  };
}

}  // namespace signalbox
