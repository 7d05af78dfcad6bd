// signalbox-demo-data: writes a deterministic, realistic-looking demo data set — a pin table
// (pins.tsv) and a month of user events (events.ndjson) — for trying Signalbox with
// examples/demo.yaml.
//
// Determinism: the same arguments give byte-identical files on every machine and library
// version. So the generator uses its own PRNG and distributions (std:: distributions differ
// between standard libraries), no libm function whose last bit may differ (only + - * / and
// sqrt, which IEEE 754 rounds exactly), and prints every fractional number from integers.

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "signalbox/common/time.h"
#include "signalbox/common/value.h"

namespace {

using signalbox::kDayMs;
using signalbox::kHourMs;
using signalbox::kMinuteMs;
using signalbox::kSecondMs;
using signalbox::TimeMs;

constexpr std::string_view kUsage = R"(usage: signalbox-demo-data [options]

Writes a deterministic demo data set for Signalbox into a folder:
  pins.tsv       item_id, categories ('|'-separated), embedding (8 comma-separated floats)
  events.ndjson  user events: clicks, closeups, saves, searches, purchases, with Zipf-skewed
                 users and pins, per-user tastes, sessions, ~1% verbatim duplicates and a
                 few events that arrive late

options:
  --out DIR      output folder, created if missing (default: .)
  --users N      number of users (default: 2000)
  --pins N       number of pins (default: 2000)
  --events N     approximate number of events, duplicates excluded (default: 200000)
  --days D       days of history, ending at --end-ms (default: 30)
  --end-ms T     end of the history, ms since the epoch (default: now, floored to the hour)
  --seed S       random seed (default: 42)
  --heavy-users N   a heavy tier: the N most active users get at least --heavy-events
                    events each, added to the --events total (default: 0, no tier)
  --heavy-events M  events of each heavy user, less the few of a session running past
                    the end of the history (default: 20000)
  -h, --help     this text

The same options give byte-identical files; pass --end-ms to pin the time as well.
For examples/demo.yaml: signalbox-demo-data --out examples/data
)";

// --- Deterministic randomness -------------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman & Vigna), seeded through splitmix64 as its authors recommend.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1), from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n) by multiply-shift; the bias (n / 2^64) is far below what matters here.
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return uniform() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// ln(x) for x > 0 from exactly rounded operations only (std::log may differ in the last bit
// between libm versions): frexp is exact, then 2·atanh((m-1)/(m+1)) as a series.
double det_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m · 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m *= 2;
    --e;
  }
  const double t = (m - 1) / (m + 1);  // |t| <= 0.172, so 20 terms are far past double precision
  const double t2 = t * t;
  double sum = 0;
  double term = t;
  for (int k = 1; k < 40; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2 * sum + e * 0.69314718055994530942;
}

// Exponentially distributed with the given mean.
double exponential(Rng& rng, double mean) { return -mean * det_log(1.0 - rng.uniform()); }

// Samples index i with probability weight[i] / Σ weight, by binary search over the CDF.
class Discrete {
 public:
  Discrete() = default;
  explicit Discrete(const std::vector<double>& weights) {
    cdf_.reserve(weights.size());
    double sum = 0;
    for (double w : weights) cdf_.push_back(sum += w);
  }
  std::size_t sample(Rng& rng) const {
    double u = rng.uniform() * cdf_.back();
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }
  std::size_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

// Zipf-like weights 1 / (rank + offset): exponent 1 keeps them to plain division. The offset
// flattens the head so the top item is popular, not absurdly so.
std::vector<double> zipf_weights(std::size_t n, double offset) {
  std::vector<double> w(n);
  for (std::size_t r = 0; r < n; ++r) w[r] = 1.0 / (static_cast<double>(r) + offset);
  return w;
}

template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// --- The world: categories, words, pins -----------------------------------------------------

struct Category {
  const char* name;
  std::vector<const char*> words;  // search phrases about it
};

// In rough order of popularity; the order feeds the category Zipf weights.
const std::vector<Category>& categories() {
  static const std::vector<Category> kCategories = {
      {"food",
       {"pasta recipes", "vegan dinner", "meal prep", "sourdough bread", "chocolate cake",
        "healthy snacks", "air fryer recipes", "smoothie bowl"}},
      {"home_decor",
       {"living room ideas", "boho bedroom", "wall art", "cozy reading nook",
        "small apartment decor", "scandinavian interior", "rug"}},
      {"fashion",
       {"fall outfits", "capsule wardrobe", "street style", "summer dress", "white sneakers outfit",
        "vintage jacket"}},
      {"diy_crafts",
       {"diy gifts", "macrame", "paper flowers", "resin art", "upcycled furniture",
        "crochet pattern", "candle making"}},
      {"travel",
       {"italy itinerary", "beach vacation", "japan travel", "road trip", "packing list",
        "hidden gems europe", "weekend getaway"}},
      {"beauty",
       {"natural makeup", "skincare routine", "nail art", "curly hair care", "eyeliner tutorial"}},
      {"weddings",
       {"wedding dress", "rustic wedding", "bridal bouquet", "wedding cake", "bridesmaid dresses"}},
      {"fitness", {"home workout", "yoga poses", "hiit routine", "running plan", "glute workout"}},
      {"gardening",
       {"vegetable garden", "succulents", "raised garden bed", "indoor plants",
        "flower garden layout"}},
      {"parenting",
       {"toddler activities", "nursery ideas", "lunch box ideas", "baby shower", "kids crafts"}},
      {"art",
       {"watercolor painting", "sketchbook", "abstract art", "portrait drawing", "acrylic pour"}},
      {"quotes", {"motivational quotes", "life quotes", "love quotes", "funny quotes"}},
      {"hair", {"braided hairstyles", "short haircuts", "balayage", "updo"}},
      {"photography",
       {"photo poses", "film photography", "portrait lighting", "phone photography"}},
      {"pets", {"puppy training", "cat toys", "dog treats recipe", "aquarium"}},
      {"health", {"gut health", "sleep routine", "meditation", "healthy habits"}},
      {"architecture", {"modern house", "tiny house", "brutalism", "japanese architecture"}},
      {"education", {"study tips", "classroom decor", "homeschool", "note taking"}},
      {"technology", {"desk setup", "gaming room", "smart home", "iphone wallpaper"}},
      {"humor", {"funny memes", "cat memes", "relatable jokes"}},
      {"outdoors", {"camping hacks", "hiking trails", "van life", "national parks"}},
      {"cars", {"classic cars", "jdm", "car interior", "motorcycle"}},
      {"music", {"guitar chords", "vinyl collection", "concert outfit"}},
      {"tattoos", {"minimalist tattoo", "fine line tattoo", "sleeve tattoo"}},
  };
  return kCategories;
}

const char* kModifiers[] = {"easy", "best",      "cheap", "simple",
                            "cute", "aesthetic", "small", "quick"};
const char* kSuffixes[] = {"ideas", "for beginners", "inspiration", "tutorial", "on a budget"};

constexpr int kDim = 8;

struct Pin {
  std::string id;
  std::vector<int> categories;  // 1-3, primary first
  int price_dollars = 0;        // sold at <price_dollars>.99
};

struct World {
  std::vector<Pin> pins;
  std::vector<std::string> pin_rows;            // pins.tsv body, in id order
  Discrete category_pick;                       // category popularity
  Discrete pin_pick;                            // global pin popularity, over popular_pins
  std::vector<int> popular_pins;                // pin indexes, most popular first
  std::vector<std::vector<int>> category_pins;  // per category, most popular first
  std::vector<Discrete> category_pin_pick;
};

// Prints round(x · 10^4) / 10^4 with exactly four decimals, from integers.
void append_fixed4(std::string& out, double x) {
  std::int64_t q = std::llround(x * 10000);
  if (q < 0) {
    out.push_back('-');
    q = -q;
  }
  fmt::format_to(std::back_inserter(out), "{}.{:04d}", q / 10000, q % 10000);
}

World make_world(Rng& rng, int n_pins) {
  World world;
  const auto& cats = categories();
  const std::size_t n_cats = cats.size();
  world.category_pick = Discrete(zipf_weights(n_cats, 2.0));

  // Each category has a direction in embedding space; a pin sits near its categories' mix.
  std::vector<std::array<double, kDim>> centroid(n_cats);
  for (auto& c : centroid) {
    for (double& x : c) x = rng.uniform() * 2 - 1;
  }

  world.pins.resize(n_pins);
  world.pin_rows.resize(n_pins);
  for (int i = 0; i < n_pins; ++i) {
    Pin& pin = world.pins[i];
    pin.id = fmt::format("p{}", i + 1);
    int n_cat = 1 + static_cast<int>(rng.chance(0.45)) + static_cast<int>(rng.chance(0.2));
    while (static_cast<int>(pin.categories.size()) < n_cat) {
      int c = static_cast<int>(world.category_pick.sample(rng));
      if (std::find(pin.categories.begin(), pin.categories.end(), c) == pin.categories.end()) {
        pin.categories.push_back(c);
      }
    }
    // Mostly cheap things, a long tail of expensive ones.
    double u = rng.uniform();
    pin.price_dollars = 4 + static_cast<int>(295 * u * u * u);

    std::array<double, kDim> v{};
    for (std::size_t k = 0; k < pin.categories.size(); ++k) {
      double w = k == 0 ? 1.0 : 0.5;
      for (int d = 0; d < kDim; ++d) v[d] += w * centroid[pin.categories[k]][d];
    }
    double norm2 = 0;
    for (double& x : v) {
      x += (rng.uniform() - 0.5) * 0.6;
      norm2 += x * x;
    }
    double norm = std::sqrt(norm2);
    std::string& row = world.pin_rows[i];
    row = pin.id;
    row.push_back('\t');
    for (std::size_t k = 0; k < pin.categories.size(); ++k) {
      if (k) row.push_back('|');
      row += cats[pin.categories[k]].name;
    }
    row.push_back('\t');
    for (int d = 0; d < kDim; ++d) {
      if (d) row.push_back(',');
      append_fixed4(row, norm > 0 ? v[d] / norm : 0.0);
    }
    row.push_back('\n');
  }

  // Popularity is unrelated to the id, as in real data.
  world.popular_pins.resize(n_pins);
  for (int i = 0; i < n_pins; ++i) world.popular_pins[i] = i;
  shuffle(world.popular_pins, rng);
  world.pin_pick = Discrete(zipf_weights(n_pins, 5.0));
  world.category_pins.resize(n_cats);
  for (int p : world.popular_pins) {
    for (int c : world.pins[p].categories) world.category_pins[c].push_back(p);
  }
  for (const auto& list : world.category_pins) {
    world.category_pin_pick.emplace_back(zipf_weights(std::max<std::size_t>(list.size(), 1), 3.0));
  }
  return world;
}

// --- Users, sessions, events ----------------------------------------------------------------

enum Action : std::uint8_t { kClick, kCloseup, kSave, kSearch, kPurchase };
const char* kActionNames[] = {"click", "closeup", "save", "search", "purchase"};
enum Surface : std::uint8_t { kNoSurface, kHome, kSearchSurface, kBoard };
const char* kSurfaceNames[] = {"", "home", "search", "board"};

struct Record {
  TimeMs ts = 0;
  TimeMs emit = 0;        // when it reaches the log: ts, or later for late ones and retries
  std::uint64_t seq = 0;  // creation order; tie-breaker so sorting is deterministic
  std::uint64_t user_id = 0;
  std::int32_t pin = -1;    // -1 for searches
  std::int32_t query = -1;  // index into queries
  std::int32_t price = -1;  // whole dollars (the price is <price>.99); -1: none
  Action action = kClick;
  Surface surface = kNoSurface;
  bool duplicate = false;
};

struct Options {
  std::string out = ".";
  std::int64_t users = 2000;
  std::int64_t pins = 2000;
  std::int64_t events = 200000;
  std::int64_t days = 30;
  std::int64_t end_ms = -1;
  std::uint64_t seed = 42;
  std::int64_t heavy_users = 0;
  std::int64_t heavy_events = 20000;
};

// Events per hour of the day (UTC), evening-heavy like a consumer app.
constexpr double kHourWeights[24] = {3, 2, 1, 1, 1, 1, 2, 3, 4,  4,  4, 5,
                                     6, 5, 5, 5, 6, 7, 8, 9, 10, 10, 8, 5};

class Generator {
 public:
  Generator(const Options& options, Rng& rng, const World& world)
      : o_(options),
        rng_(rng),
        world_(world),
        hour_pick_(std::vector<double>(std::begin(kHourWeights), std::end(kHourWeights))) {}

  // Generates every user's events; returns them in creation order.
  std::vector<Record> run(std::vector<std::pair<std::uint64_t, std::int64_t>>& per_user) {
    const std::size_t n_users = static_cast<std::size_t>(o_.users);
    // Distinct 7-digit ids that look like real ones.
    std::vector<std::uint64_t> ids;
    std::unordered_set<std::uint64_t> taken;
    while (ids.size() < n_users) {
      std::uint64_t id = 1000000 + rng_.below(9000000);
      if (taken.insert(id).second) ids.push_back(id);
    }
    // Activity rank is independent of the id.
    std::vector<std::size_t> rank(n_users);
    for (std::size_t i = 0; i < n_users; ++i) rank[i] = i;
    shuffle(rank, rng_);
    std::vector<double> weights = zipf_weights(n_users, 3.0);
    double total_weight = 0;
    for (double w : weights) total_weight += w;

    for (std::size_t u = 0; u < n_users; ++u) {
      double expected = static_cast<double>(o_.events) * weights[rank[u]] / total_weight;
      auto n = static_cast<std::int64_t>(expected);
      if (rng_.chance(expected - static_cast<double>(n))) ++n;
      n = std::max<std::int64_t>(n, 1);
      if (static_cast<std::int64_t>(rank[u]) < o_.heavy_users) n = std::max(n, o_.heavy_events);
      std::size_t before = records_.size();
      user_events(ids[u], n);
      per_user.emplace_back(ids[u], static_cast<std::int64_t>(records_.size() - before));
    }
    return std::move(records_);
  }

  const std::vector<std::string>& queries() const { return queries_; }

 private:
  void user_events(std::uint64_t user_id, std::int64_t n) {
    const auto& cats = categories();
    // Taste: 2-4 categories, the first clearly preferred.
    std::vector<int> taste;
    std::size_t n_taste = 2 + rng_.below(3);
    while (taste.size() < n_taste) {
      int c = static_cast<int>(world_.category_pick.sample(rng_));
      if (std::find(taste.begin(), taste.end(), c) == taste.end()) taste.push_back(c);
    }
    Discrete taste_pick(zipf_weights(taste.size(), 1.0));

    // Heavy users have longer sessions as well as more of them.
    double mean_len =
        std::clamp(static_cast<double>(n) / (static_cast<double>(o_.days) * 1.5), 3.0, 25.0);
    const TimeMs start = o_.end_ms - o_.days * kDayMs;
    std::vector<int> history;  // pins this user touched, for coming back to them
    std::int64_t made = 0;
    while (made < n) {
      // A session: a start time on a random day at a likely hour, a topic, a surface.
      TimeMs t = start + rng_.between(0, o_.days - 1) * kDayMs +
                 static_cast<TimeMs>(hour_pick_.sample(rng_)) * kHourMs +
                 rng_.between(0, kHourMs - 1);
      int topic = rng_.chance(0.9) ? taste[taste_pick.sample(rng_)]
                                   : static_cast<int>(rng_.below(cats.size()));
      Surface surface = rng_.chance(0.2) ? kBoard : kHome;
      std::int64_t len = 1;
      while (rng_.chance(1.0 - 1.0 / mean_len) && len < 200) ++len;
      len = std::min(len, n - made);
      int last_pin = -1;
      bool attrs = rng_.chance(0.8);  // some clients never send attrs
      for (std::int64_t k = 0; k < len; ++k, ++made) {
        if (k > 0) {
          // Minutes apart at most: a 30-minute gap ends a session.
          t += std::min<TimeMs>(2 * kSecondMs + static_cast<TimeMs>(exponential(rng_, 50'000)),
                                20 * kMinuteMs);
        }
        Action action = pick_action(k == 0, last_pin >= 0);
        Record r;
        r.ts = t;
        r.user_id = user_id;
        r.action = action;
        if (action == kSearch) {
          if (k > 0 && rng_.chance(0.3)) topic = taste[taste_pick.sample(rng_)];
          r.query = make_query(topic);
          surface = kSearchSurface;
        } else {
          r.pin = pick_pin(action, topic, last_pin, history);
          last_pin = r.pin;
          if (history.size() < 64)
            history.push_back(r.pin);
          else
            history[rng_.below(history.size())] = r.pin;
          if (attrs || action == kPurchase) r.surface = surface;
          if (action == kPurchase) r.price = world_.pins[r.pin].price_dollars;
        }
        if (t < o_.end_ms) add(r);
      }
    }
  }

  Action pick_action(bool first, bool has_pin) {
    if (first && rng_.chance(0.25)) return kSearch;
    if (!has_pin) return first ? kClick : (rng_.chance(0.1) ? kSearch : kClick);
    double u = rng_.uniform();
    if (u < 0.44) return kClick;
    if (u < 0.72) return kCloseup;
    if (u < 0.89) return kSave;
    if (u < 0.975) return kSearch;
    return kPurchase;
  }

  int pick_pin(Action action, int topic, int last_pin, const std::vector<int>& history) {
    // Closeups and purchases are mostly of what was just clicked.
    if (last_pin >= 0 && action == kPurchase && rng_.chance(0.8)) return last_pin;
    if (last_pin >= 0 && action == kCloseup && rng_.chance(0.6)) return last_pin;
    if (!history.empty() && rng_.chance(0.12)) return history[rng_.below(history.size())];
    const auto& list = world_.category_pins[topic];
    if (!list.empty() && rng_.chance(0.8))
      return list[world_.category_pin_pick[topic].sample(rng_)];
    return world_.popular_pins[world_.pin_pick.sample(rng_)];
  }

  int make_query(int topic) {
    const auto& words = categories()[topic].words;
    std::string q = words[rng_.below(words.size())];
    double u = rng_.uniform();
    if (u < 0.3)
      q = std::string(kModifiers[rng_.below(std::size(kModifiers))]) + " " + q;
    else if (u < 0.55)
      q += std::string(" ") + kSuffixes[rng_.below(std::size(kSuffixes))];
    queries_.push_back(std::move(q));
    return static_cast<int>(queries_.size() - 1);
  }

  void add(Record r) {
    r.seq = seq_++;
    r.emit = r.ts;
    // A few events arrive late: a phone back online, a slow partition.
    if (rng_.chance(0.003)) r.emit += rng_.between(2 * kSecondMs, 10 * kMinuteMs);
    records_.push_back(r);
    // About 1% are sent twice, verbatim: a client retry shortly after.
    if (rng_.chance(0.01)) {
      Record dup = r;
      dup.duplicate = true;
      dup.emit = r.emit + rng_.between(100, 30 * kSecondMs);
      dup.seq = seq_++;
      records_.push_back(dup);
    }
  }

  const Options& o_;
  Rng& rng_;
  const World& world_;
  Discrete hour_pick_;
  std::vector<Record> records_;
  std::vector<std::string> queries_;
  std::uint64_t seq_ = 0;
};

// --- Command line and output ------------------------------------------------------------------

[[noreturn]] void usage_error(const std::string& message) {
  fmt::print(stderr, "signalbox-demo-data: {} (see --help)\n", message);
  std::exit(2);
}

std::int64_t parse_int(std::string_view flag, std::string_view text, std::int64_t min) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min) {
    usage_error(fmt::format("{} needs an integer >= {}, got \"{}\"", flag, min, text));
  }
  return v;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      fmt::print("{}", kUsage);
      std::exit(0);
    }
    std::string_view flag = arg;
    std::string_view value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg.starts_with("--")) {
      if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", arg));
      value = argv[++i];
    } else {
      usage_error(fmt::format("unexpected argument \"{}\"", arg));
    }
    if (flag == "--out")
      o.out = std::string(value);
    else if (flag == "--users")
      o.users = parse_int(flag, value, 1);
    else if (flag == "--pins")
      o.pins = parse_int(flag, value, 1);
    else if (flag == "--events")
      o.events = parse_int(flag, value, 1);
    else if (flag == "--days")
      o.days = parse_int(flag, value, 1);
    else if (flag == "--end-ms")
      o.end_ms = parse_int(flag, value, 0);
    else if (flag == "--heavy-users")
      o.heavy_users = parse_int(flag, value, 0);
    else if (flag == "--heavy-events")
      o.heavy_events = parse_int(flag, value, 1);
    else if (flag == "--seed")
      o.seed = static_cast<std::uint64_t>(parse_int(flag, value, 0));
    else
      usage_error(fmt::format("unknown option \"{}\"", flag));
  }
  if (o.out.empty()) usage_error("--out needs a folder");
  if (o.users > 1'000'000) usage_error("--users is at most 1000000");  // ids have 7 digits
  if (o.heavy_users > o.users) usage_error("--heavy-users is at most --users");
  if (o.pins > 10'000'000) usage_error("--pins is at most 10000000");
  if (o.days > 36500) usage_error("--days is at most 36500");
  if (o.end_ms < 0) o.end_ms = signalbox::floor_hour(signalbox::wall_clock_ms());
  if (o.end_ms < o.days * kDayMs) usage_error("--end-ms is earlier than --days after the epoch");
  return o;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f != nullptr && std::fclose(f) != 0) ok = false;
  if (!ok) {
    fmt::print(stderr, "signalbox-demo-data: cannot write {}: {}\n", path.string(),
               std::strerror(errno));
    std::exit(1);
  }
}

void append_event(std::string& out, const Record& r, const World& world,
                  const std::vector<std::string>& queries) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"event_id\":\"e{}\",\"user_id\":{},\"ts\":{},\"action\":\"{}\"", r.seq,
                 r.user_id, r.ts, kActionNames[r.action]);
  if (r.pin >= 0) fmt::format_to(it, ",\"item_id\":\"{}\"", world.pins[r.pin].id);
  if (r.query >= 0) {
    out += ",\"query\":";
    signalbox::append_json_string(out, queries[r.query]);
  }
  if (r.surface != kNoSurface || r.price >= 0) {
    out += ",\"attrs\":{";
    if (r.surface != kNoSurface) fmt::format_to(it, "\"surface\":\"{}\"", kSurfaceNames[r.surface]);
    if (r.price >= 0) {
      fmt::format_to(it, "{}\"price\":{}.99", r.surface != kNoSurface ? "," : "", r.price);
    }
    out += "}";
  }
  out += "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  Rng rng(o.seed);
  World world = make_world(rng, static_cast<int>(o.pins));
  Generator generator(o, rng, world);
  std::vector<std::pair<std::uint64_t, std::int64_t>> per_user;
  std::vector<Record> records = generator.run(per_user);

  // A duplicate keeps its original's id: it is the same event sent again.
  std::vector<std::uint64_t> number(records.size());
  {
    std::vector<std::size_t> order(records.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(records[a].ts, records[a].seq) < std::tie(records[b].ts, records[b].seq);
    });
    // Ids follow event time, so "e1" is the oldest event.
    std::uint64_t next = 1;
    for (std::size_t i : order) {
      if (!records[i].duplicate) number[i] = next++;
    }
    // A duplicate directly follows its original in creation order.
    for (std::size_t i = 1; i < records.size(); ++i) {
      if (records[i].duplicate) number[i] = number[i - 1];
    }
  }
  for (std::size_t i = 0; i < records.size(); ++i) records[i].seq = number[i];
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.emit, a.seq, a.duplicate) < std::tie(b.emit, b.seq, b.duplicate);
  });

  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) {
    fmt::print(stderr, "signalbox-demo-data: cannot create {}: {}\n", o.out, ec.message());
    return 1;
  }
  std::string pins = "item_id\tcategories\tembedding\n";
  for (const std::string& row : world.pin_rows) pins += row;
  write_file(std::filesystem::path(o.out) / "pins.tsv", pins);

  std::string events;
  events.reserve(records.size() * 120);
  std::size_t duplicates = 0;
  std::size_t late = 0;
  for (const Record& r : records) {
    append_event(events, r, world, generator.queries());
    duplicates += r.duplicate;
    late += !r.duplicate && r.emit != r.ts;
  }
  write_file(std::filesystem::path(o.out) / "events.ndjson", events);

  std::sort(per_user.begin(), per_user.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second, a.first) < std::tie(a.second, b.first);
  });
  std::string heavy;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, per_user.size()); ++i) {
    heavy += fmt::format("{}{} ({} events)", i ? ", " : "", per_user[i].first, per_user[i].second);
  }
  fmt::print(stderr,
             "wrote {} pins and {} events ({} duplicates, {} late) of {} users over {} days "
             "ending at {} to {}\nheaviest users: {}\n",
             world.pins.size(), records.size(), duplicates, late, per_user.size(), o.days, o.end_ms,
             o.out, heavy);
  return 0;
}
