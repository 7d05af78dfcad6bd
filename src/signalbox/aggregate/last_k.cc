// last_k: the k most recent distinct values of a reference, newest first, each with the ts
// (and event id, for ordering ties) of its newest occurrence (docs/signals.md).

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "signalbox/aggregate/aggregator.h"
#include "signalbox/aggregate/builtin_parts.h"
#include "signalbox/common/hash.h"

namespace signalbox {
namespace {

// One occurrence of a value, as far as ordering goes.
struct Occurrence {
  TimeMs ts;
  std::string_view event_id;
  std::string_view value;
};

// The newer of two occurrences has the larger ts, then the larger event id, then (two values
// of one event) the smaller value: a total order, so any fold and merge order ends the same.
bool newer(const Occurrence& a, const Occurrence& b) {
  if (a.ts != b.ts) return a.ts > b.ts;
  if (a.event_id != b.event_id) return a.event_id > b.event_id;
  return a.value < b.value;
}

// The newest occurrence of at least the k most recent distinct values (each value once).
//
// Replays deliver events mostly oldest first, so nearly every folded event is the newest yet:
// a folded state is kept oldest first, where that is an append, and it may grow to 2k entries
// before the oldest are dropped all at once. A decoded or merged state is newest first (as
// stored) and at most k long, so neither needs reversing. Either way only the newest k count
// (Newest below); the older ones of a folded state are never among them again, since entries
// only ever move towards the newest.
//
// The entries' values and event ids are slices of one buffer, `text`: decoding, merging and
// folding append bytes to it instead of allocating two strings per entry, and an entry is a
// few integers, moved as such.
struct Recent {
  struct Entry {
    TimeMs ts = 0;
    // hash64(value), so that finding a value among the others is mostly one compare each.
    std::uint64_t hash = 0;
    std::uint32_t value_at = 0, value_size = 0;  // in text
    std::uint32_t id_at = 0, id_size = 0;
  };
  std::string text;
  std::vector<Entry> entries;
  // Bytes of text that no entry refers to any more (dropped or replaced), until compact().
  std::size_t unused = 0;
  bool oldest_first = true;

  std::string_view value(const Entry& e) const { return {text.data() + e.value_at, e.value_size}; }
  std::string_view event_id(const Entry& e) const { return {text.data() + e.id_at, e.id_size}; }
  Occurrence occurrence(const Entry& e) const { return {e.ts, event_id(e), value(e)}; }

  // Appends `bytes` to text; where they start.
  std::uint32_t put(std::string_view bytes) {
    const auto at = static_cast<std::uint32_t>(text.size());
    text.append(bytes);
    return at;
  }
  // An entry of `into` with e's value and event id, from `e` of this state.
  Entry copy_to(Recent& into, const Entry& e) const {
    Entry copy = e;
    copy.value_at = into.put(value(e));
    copy.id_at = into.put(event_id(e));
    return copy;
  }
  // Rewrites text with only the bytes the entries refer to.
  void compact() {
    Recent fresh;
    fresh.text.reserve(text.size() - unused);
    for (Entry& e : entries) e = copy_to(fresh, e);
    text = std::move(fresh.text);
    unused = 0;
  }
};

std::uint32_t size32(std::string_view bytes) { return static_cast<std::uint32_t>(bytes.size()); }

// The newest min(k, size) entries of a state, newest first, whichever order it is held in.
class Newest {
 public:
  Newest(const Recent& s, std::size_t k) : s_(s), size_(std::min(k, s.entries.size())) {}

  std::size_t size() const { return size_; }
  // The i-th newest entry.
  const Recent::Entry& operator[](std::size_t i) const {
    return s_.oldest_first ? s_.entries[s_.entries.size() - 1 - i] : s_.entries[i];
  }

 private:
  const Recent& s_;
  std::size_t size_;
};

// The values a merge has taken so far, to skip a value's older occurrence in the other list:
// an open-addressing table of positions in `taken`, probed by the entries' hashes. Scanning
// `taken` instead measured slower even for k = 50, and a std::unordered_set per merge (hashing
// every string again, a node per value) made the whole merge 3.6 times as costly.
class TakenValues {
 public:
  TakenValues(const Recent& taken, std::size_t limit)
      : taken_(taken), slots_(std::bit_ceil(2 * limit), 0), mask_(slots_.size() - 1) {}

  // True when `value` (hashing to `hash`) is new, and then its entry must be the next one
  // appended to `taken`.
  bool add(std::uint64_t hash, std::string_view value) {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == 0) {
        slots_[i] = static_cast<std::uint32_t>(taken_.entries.size() + 1);
        return true;
      }
      const Recent::Entry& t = taken_.entries[slots_[i] - 1];
      if (t.hash == hash && taken_.value(t) == value) return false;
    }
  }

 private:
  const Recent& taken_;
  std::vector<std::uint32_t> slots_;  // position in taken_.entries + 1; 0 for a free slot
  std::size_t mask_;
};

class LastKAggregator final : public AggregatorOf<Recent> {
 public:
  LastKAggregator(std::size_t k, ValueRef value) : k_(k), value_(std::move(value)) {}

  void fold(Recent& s, const MaterializedEvent& e, double) const override {
    value_.for_each_string(e, [&](std::string_view v) {
      add(s, Occurrence{e.event.ts, e.event.event_id, v});
    });
  }
  // Both lists are newest first (as Newest reads them) and hold each value once, so the
  // answer is one pass taking the newer head each step and skipping values already taken.
  void merge(Recent& into, const Recent& from) const override {
    const Newest b(from, k_);
    if (b.size() == 0) return;
    const Newest a(into, k_);
    Recent merged;
    merged.oldest_first = false;
    if (a.size() == 0) {
      merged.entries.reserve(b.size());
      merged.text.reserve(from.text.size() - from.unused);
      for (std::size_t j = 0; j < b.size(); ++j)
        merged.entries.push_back(from.copy_to(merged, b[j]));
    } else {
      const std::size_t limit = std::min(k_, a.size() + b.size());
      merged.entries.reserve(limit);
      merged.text.reserve(into.text.size() - into.unused + from.text.size() - from.unused);
      TakenValues taken(merged, limit);
      std::size_t i = 0, j = 0;
      while (merged.entries.size() < limit && (i < a.size() || j < b.size())) {
        const bool take_a =
            j == b.size() || (i < a.size() && !newer(from.occurrence(b[j]), into.occurrence(a[i])));
        const Recent& source = take_a ? into : from;
        const Recent::Entry& next = take_a ? a[i++] : b[j++];
        if (taken.add(next.hash, source.value(next)))
          merged.entries.push_back(source.copy_to(merged, next));
      }
    }
    into = std::move(merged);
  }
  // Built directly as well as written: a view reads this result as a Value, and building
  // it through a ValueBuilder costs two thirds more (docs/performance.md).
  Value result(const Recent& s, TimeMs) const override {
    const Newest newest(s, k_);
    Value::Array list;
    list.reserve(newest.size());
    for (std::size_t i = 0; i < newest.size(); ++i) {
      // Built in place: an initializer list would copy each pair (its elements are const).
      Value::Object entry;
      entry.reserve(2);
      entry.emplace_back("value", Value(std::string(s.value(newest[i]))));
      entry.emplace_back("ts", Value(newest[i].ts));
      list.emplace_back(std::move(entry));
    }
    return Value(std::move(list));
  }
  void write_result(const Recent& s, TimeMs, ResultWriter& out) const override {
    const Newest newest(s, k_);
    out.begin_array(newest.size());
    for (std::size_t i = 0; i < newest.size(); ++i) {
      out.begin_object(2);
      out.key("value");
      out.string(s.value(newest[i]));
      out.key("ts");
      out.integer(newest[i].ts);
      out.end_object();
    }
    out.end_array();
  }
  // A count, then per entry newest first: str(value), svarint(ts), str(event_id).
  void encode(const Recent& s, ByteWriter& out) const override {
    const Newest newest(s, k_);
    out.varint(newest.size());
    for (std::size_t i = 0; i < newest.size(); ++i) {
      out.str(s.value(newest[i]));
      out.svarint(newest[i].ts);
      out.str(s.event_id(newest[i]));
    }
  }
  Recent decode(ByteReader& in) const override {
    Recent s;
    s.oldest_first = false;
    std::uint64_t n = in.count(3);
    s.entries.reserve(n);
    s.text.reserve(in.remaining());
    for (std::uint64_t i = 0; i < n; ++i) {
      Recent::Entry entry;
      std::string_view value = in.str();
      entry.hash = hash64(value);
      entry.value_size = size32(value);
      entry.value_at = s.put(value);
      entry.ts = in.svarint();
      std::string_view event_id = in.str();
      entry.id_size = size32(event_id);
      entry.id_at = s.put(event_id);
      s.entries.push_back(entry);
    }
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("last_k(k={},value={})", k_, value_.text());
  }

 private:
  // Keeps `o` when its value is among the k newest, without copying a byte otherwise.
  void add(Recent& s, const Occurrence& o) const {
    auto& list = s.entries;
    if (!s.oldest_first) {
      std::reverse(list.begin(), list.end());
      s.oldest_first = true;
    }
    // Not newer than the oldest of the newest k: whatever else, not among them.
    if (list.size() >= k_ && !newer(o, s.occurrence(list[list.size() - k_]))) return;
    const std::uint64_t hash = hash64(o.value);
    auto same = std::find_if(list.begin(), list.end(), [&](const Recent::Entry& e) {
      return e.hash == hash && s.value(e) == o.value;
    });
    if (same != list.end() && !newer(o, s.occurrence(*same))) return;
    // Oldest first: the new entry goes after every entry older than it, mostly at the end.
    auto at = list.empty() || newer(o, s.occurrence(list.back()))
                  ? list.end()
                  : std::partition_point(list.begin(), list.end(), [&](const Recent::Entry& e) {
                      return newer(o, s.occurrence(e));
                    });
    Recent::Entry entry{o.ts, hash, 0, size32(o.value), 0, size32(o.event_id)};
    if (same != list.end()) {
      // The value's older entry gives way (its value bytes serve the new one), and those
      // between it and the new place move down by one.
      entry.value_at = same->value_at;
      entry.id_at = s.put(o.event_id);
      s.unused += same->id_size;
      *std::move(same + 1, at, same) = entry;
    } else {
      entry.value_at = s.put(o.value);
      entry.id_at = s.put(o.event_id);
      list.insert(at, entry);
      if (list.size() >= 2 * k_) {
        const auto keep = list.end() - static_cast<std::ptrdiff_t>(k_);
        for (auto e = list.begin(); e != keep; ++e) s.unused += e->value_size + e->id_size;
        list.erase(list.begin(), keep);
      }
    }
    // Dropped bytes are reclaimed once they are the larger part, so text stays within twice
    // what the entries hold (plus a little) however many events a state folds.
    if (s.unused > kCompactAbove && 2 * s.unused > s.text.size()) s.compact();
  }

  static constexpr std::size_t kCompactAbove = 4096;

  std::size_t k_;
  ValueRef value_;
};

}  // namespace

void add_last_k_aggregator(const AddAggregator& add) {
  add("last_k", {{"k", "how many of the newest values are kept, 1-10000 (required)"}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        const ValueRef& value = c.require_value();
        c.forbid_group_by();
        std::int64_t k = c.param_int("k");
        if (k < 1 || k > 10000) c.reject("k", "must be between 1 and 10000");
        return std::make_unique<LastKAggregator>(static_cast<std::size_t>(k), value);
      });
}

}  // namespace signalbox
