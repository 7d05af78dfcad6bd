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
struct Recent {
  struct Entry {
    std::string value;
    TimeMs ts = 0;
    std::string event_id;
    // hash64(value), so that finding a value among the others is mostly one compare each.
    std::uint64_t hash = 0;

    Occurrence occurrence() const { return {ts, event_id, value}; }
  };
  std::vector<Entry> entries;
  bool oldest_first = true;
};

// The newest min(k, size) entries of a state (Recent or const Recent), newest first, whichever
// order it is held in.
template <class State>
class Newest {
 public:
  Newest(State& s, std::size_t k) : s_(s), size_(std::min(k, s.entries.size())) {}

  std::size_t size() const { return size_; }
  // The i-th newest entry.
  auto& operator[](std::size_t i) const {
    return s_.oldest_first ? s_.entries[s_.entries.size() - 1 - i] : s_.entries[i];
  }

 private:
  State& s_;
  std::size_t size_;
};

// The values a merge has taken so far, to skip a value's older occurrence in the other list:
// an open-addressing table of positions in `taken`, probed by the entries' hashes. Scanning
// `taken` instead measured slower even for k = 50, and a std::unordered_set per merge (hashing
// every string again, a node per value) made the whole merge 3.6 times as costly.
class TakenValues {
 public:
  TakenValues(const std::vector<Recent::Entry>& taken, std::size_t limit)
      : taken_(taken), slots_(std::bit_ceil(2 * limit), 0), mask_(slots_.size() - 1) {}

  // True when `e`'s value is new, and then `e` must be the next one appended to `taken`.
  bool add(const Recent::Entry& e) {
    for (std::size_t i = e.hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == 0) {
        slots_[i] = static_cast<std::uint32_t>(taken_.size() + 1);
        return true;
      }
      const Recent::Entry& t = taken_[slots_[i] - 1];
      if (t.hash == e.hash && t.value == e.value) return false;
    }
  }

 private:
  const std::vector<Recent::Entry>& taken_;
  std::vector<std::uint32_t> slots_;  // position in taken_ + 1; 0 for a free slot
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
    std::vector<Recent::Entry> merged;
    const Newest a(into, k_);
    if (a.size() == 0) {
      merged.reserve(b.size());
      for (std::size_t i = 0; i < b.size(); ++i) merged.push_back(b[i]);
    } else {
      const std::size_t limit = std::min(k_, a.size() + b.size());
      merged.reserve(limit);
      TakenValues taken(merged, limit);
      std::size_t i = 0, j = 0;
      while (merged.size() < limit && (i < a.size() || j < b.size())) {
        const bool take_a =
            j == b.size() || (i < a.size() && !newer(b[j].occurrence(), a[i].occurrence()));
        if (take_a) {
          // into's own entry, about to be replaced: moved, not copied.
          Recent::Entry& next = a[i++];
          if (taken.add(next)) merged.push_back(std::move(next));
        } else {
          const Recent::Entry& next = b[j++];
          if (taken.add(next)) merged.push_back(next);
        }
      }
    }
    into.entries = std::move(merged);
    into.oldest_first = false;
  }
  Value result(const Recent& s, TimeMs) const override {
    const Newest newest(s, k_);
    Value::Array list;
    list.reserve(newest.size());
    for (std::size_t i = 0; i < newest.size(); ++i)
      list.emplace_back(
          Value::Object{{"value", Value(newest[i].value)}, {"ts", Value(newest[i].ts)}});
    return Value(std::move(list));
  }
  // A count, then per entry newest first: str(value), svarint(ts), str(event_id).
  void encode(const Recent& s, ByteWriter& out) const override {
    const Newest newest(s, k_);
    out.varint(newest.size());
    for (std::size_t i = 0; i < newest.size(); ++i) {
      out.str(newest[i].value);
      out.svarint(newest[i].ts);
      out.str(newest[i].event_id);
    }
  }
  Recent decode(ByteReader& in) const override {
    Recent s;
    s.oldest_first = false;
    std::uint64_t n = in.count(3);
    s.entries.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      Recent::Entry entry;
      entry.value = std::string(in.str());
      entry.ts = in.svarint();
      entry.event_id = std::string(in.str());
      entry.hash = hash64(entry.value);
      s.entries.push_back(std::move(entry));
    }
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("last_k(k={},value={})", k_, value_.text());
  }

 private:
  // Keeps `o` when its value is among the k newest, without building a string otherwise.
  void add(Recent& s, const Occurrence& o) const {
    auto& list = s.entries;
    if (!s.oldest_first) {
      std::reverse(list.begin(), list.end());
      s.oldest_first = true;
    }
    // Not newer than the oldest of the newest k: whatever else, not among them.
    if (list.size() >= k_ && !newer(o, list[list.size() - k_].occurrence())) return;
    const std::uint64_t hash = hash64(o.value);
    auto same = std::find_if(list.begin(), list.end(), [&](const Recent::Entry& e) {
      return e.hash == hash && e.value == o.value;
    });
    if (same != list.end() && !newer(o, same->occurrence())) return;
    // Oldest first: the new entry goes after every entry older than it, mostly at the end.
    auto at = list.empty() || newer(o, list.back().occurrence())
                  ? list.end()
                  : std::partition_point(list.begin(), list.end(), [&](const Recent::Entry& e) {
                      return newer(o, e.occurrence());
                    });
    if (same != list.end()) {
      // The value's older entry gives way: those between it and the new place move down one.
      auto slot = std::move(same + 1, at, same);
      slot->value.assign(o.value);
      slot->ts = o.ts;
      slot->event_id.assign(o.event_id);
      slot->hash = hash;
      return;
    }
    list.insert(at, Recent::Entry{std::string(o.value), o.ts, std::string(o.event_id), hash});
    if (list.size() >= 2 * k_) list.erase(list.begin(), list.end() - static_cast<std::ptrdiff_t>(k_));
  }

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
