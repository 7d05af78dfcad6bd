// sequence: the newest k counted events, newest first, each with the fields its config names
// (event fields, attributes and materialized features, strings and vectors included), for
// sequence models that read a user's recent history as a tensor.

#include <algorithm>
#include <cstdlib>
#include <variant>

#include <fmt/format.h>

#include "signalbox/aggregate/builtin_parts.h"

namespace signalbox {

namespace {

constexpr std::int64_t kMaxSequenceLength = 1000;

// One field of one event as stored: absent, the ts, a number, a string, a list of strings
// (a `strings` feature) or a vector (a `vector` feature).
using FieldValue = std::variant<std::monostate, std::int64_t, double, std::string,
                                std::vector<std::string>, std::vector<float>>;

// What a field written in config reads from an event.
struct FieldRef {
  enum class Kind { kTs, kEventId, kAction, kItemId, kQuery, kAttr, kFeature };
  Kind kind = Kind::kTs;
  std::string attr;         // kAttr
  std::size_t feature = 0;  // kFeature

  FieldValue read(const MaterializedEvent& e) const {
    switch (kind) {
      case Kind::kTs:
        return e.event.ts;
      case Kind::kEventId:
        return e.event.event_id;
      case Kind::kAction:
        return e.event.action;
      case Kind::kItemId:
        return e.event.item_id ? FieldValue(*e.event.item_id) : FieldValue();
      case Kind::kQuery:
        return e.event.query ? FieldValue(*e.event.query) : FieldValue();
      case Kind::kAttr:
        for (const auto& [name, value] : e.event.attrs) {
          if (name != attr) continue;
          if (const auto* s = std::get_if<std::string>(&value)) return *s;
          return std::get<double>(value);
        }
        return {};
      case Kind::kFeature: {
        if (feature >= e.features.size()) return {};
        const FeatureValue& value = e.features[feature];
        if (const auto* strings = std::get_if<std::vector<std::string>>(&value)) return *strings;
        if (const auto* vector = std::get_if<std::vector<float>>(&value)) return *vector;
        if (const auto* number = std::get_if<double>(&value)) return *number;
        return {};
      }
    }
    return {};
  }
};

std::optional<FieldRef> parse_field(std::string_view text, const FeatureNames& features) {
  using Kind = FieldRef::Kind;
  static const std::pair<std::string_view, Kind> kEventFields[] = {{"ts", Kind::kTs},
                                                                   {"event_id", Kind::kEventId},
                                                                   {"action", Kind::kAction},
                                                                   {"item_id", Kind::kItemId},
                                                                   {"query", Kind::kQuery}};
  for (const auto& [name, kind] : kEventFields)
    if (text == name) return FieldRef{kind, {}, 0};
  constexpr std::string_view kAttrs = "attrs.";
  if (text.starts_with(kAttrs) && text.size() > kAttrs.size())
    return FieldRef{Kind::kAttr, std::string(text.substr(kAttrs.size())), 0};
  if (auto index = features.index(text)) return FieldRef{Kind::kFeature, {}, *index};
  return std::nullopt;
}

struct Entry {
  TimeMs ts = 0;
  std::string event_id;
  std::vector<FieldValue> fields;  // in config order
};

// Newest first, ties on ts broken by event_id descending, as last_k orders them.
bool newer_entry(const Entry& a, const Entry& b) {
  if (a.ts != b.ts) return a.ts > b.ts;
  return a.event_id > b.event_id;
}

struct Sequence {
  std::vector<Entry> entries;  // newest first, at most k
};

// A float as the shortest decimal that reads back as it (0.1f answers 0.1, not
// 0.10000000149011612), so JSON shows the number as the source wrote it and a client parsing
// it to float32 gets the same float.
double shortest_double(float x) {
  char buffer[32];
  auto end = fmt::format_to_n(buffer, sizeof buffer - 1, "{}", x).out;
  *end = '\0';
  return std::strtod(buffer, nullptr);
}

void write_field(const FieldValue& v, ResultWriter& out) {
  struct Visit {
    ResultWriter& out;
    void operator()(std::monostate) const { out.null(); }
    void operator()(std::int64_t i) const { out.integer(i); }
    void operator()(double d) const { out.number(d); }
    void operator()(const std::string& s) const { out.string(s); }
    void operator()(const std::vector<std::string>& list) const {
      out.begin_array(list.size());
      for (const std::string& s : list) out.string(s);
      out.end_array();
    }
    void operator()(const std::vector<float>& vector) const {
      out.begin_array(vector.size());
      for (float x : vector) out.number(shortest_double(x));
      out.end_array();
    }
  };
  std::visit(Visit{out}, v);
}

void encode_field(const FieldValue& v, ByteWriter& out) {
  out.byte(static_cast<std::uint8_t>(v.index()));
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out.svarint(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    out.f64(*d);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out.str(*s);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    out.varint(list->size());
    for (const std::string& item : *list) out.str(item);
  } else if (const auto* vector = std::get_if<std::vector<float>>(&v)) {
    out.varint(vector->size());
    for (float x : *vector) out.f32(x);
  }
}

FieldValue decode_field(ByteReader& in) {
  switch (in.byte()) {
    case 0:
      return {};
    case 1:
      return in.svarint();
    case 2:
      return in.f64();
    case 3:
      return std::string(in.str());
    case 4: {
      std::vector<std::string> list(in.count(1));
      for (auto& item : list) item = std::string(in.str());
      return list;
    }
    case 5: {
      std::vector<float> vector(in.count(sizeof(float)));
      for (float& x : vector) x = in.f32();
      return vector;
    }
    default:
      throw CorruptionError("sequence: unknown field kind");
  }
}

class SequenceAggregator final : public WritingAggregatorOf<Sequence> {
 public:
  SequenceAggregator(std::size_t k, std::vector<std::string> names, std::vector<FieldRef> fields)
      : k_(k), names_(std::move(names)), fields_(std::move(fields)) {}

  void fold(Sequence& s, const MaterializedEvent& e, double) const override {
    Entry entry{e.event.ts, e.event.event_id, {}};
    auto& list = s.entries;
    auto at = std::lower_bound(list.begin(), list.end(), entry, newer_entry);
    if (static_cast<std::size_t>(at - list.begin()) >= k_) return;
    entry.fields.reserve(fields_.size());
    for (const FieldRef& field : fields_) entry.fields.push_back(field.read(e));
    list.insert(at, std::move(entry));
    if (list.size() > k_) list.pop_back();
  }
  void merge(Sequence& into, const Sequence& from) const override {
    if (from.entries.empty()) return;
    std::vector<Entry> merged;
    merged.reserve(std::min(k_, into.entries.size() + from.entries.size()));
    auto a = into.entries.begin(), a_end = into.entries.end();
    auto b = from.entries.begin(), b_end = from.entries.end();
    while (merged.size() < k_ && (a != a_end || b != b_end)) {
      if (b == b_end || (a != a_end && !newer_entry(*b, *a))) {
        merged.push_back(std::move(*a++));
      } else {
        merged.push_back(*b++);
      }
    }
    into.entries = std::move(merged);
  }
  void write_result(const Sequence& s, TimeMs, ResultWriter& out) const override {
    out.begin_array(s.entries.size());
    for (const Entry& entry : s.entries) {
      out.begin_object(names_.size());
      for (std::size_t i = 0; i < names_.size(); ++i) {
        out.key(names_[i]);
        write_field(entry.fields[i], out);
      }
      out.end_object();
    }
    out.end_array();
  }
  void encode(const Sequence& s, ByteWriter& out) const override {
    out.varint(s.entries.size());
    for (const Entry& entry : s.entries) {
      out.svarint(entry.ts);
      out.str(entry.event_id);
      for (const FieldValue& field : entry.fields) encode_field(field, out);
    }
  }
  Sequence decode(ByteReader& in) const override {
    Sequence s;
    std::uint64_t n = in.count(2 + fields_.size());
    s.entries.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      Entry entry;
      entry.ts = in.svarint();
      entry.event_id = std::string(in.str());
      for (std::size_t f = 0; f < fields_.size(); ++f) entry.fields.push_back(decode_field(in));
      if (!s.entries.empty() && !newer_entry(s.entries.back(), entry))
        throw CorruptionError("sequence: entries out of order");
      s.entries.push_back(std::move(entry));
    }
    return s;
  }
  std::string fingerprint() const override {
    return fmt::format("sequence(k={},fields=[{}])", k_, fmt::join(names_, ","));
  }

 private:
  std::size_t k_;
  std::vector<std::string> names_;
  std::vector<FieldRef> fields_;
};

}  // namespace

void add_sequence_aggregator(const AddAggregator& add) {
  add("sequence",
      {{"k",
        fmt::format("how many of the newest events are kept, 1-{} (required)", kMaxSequenceLength)},
       {"fields",
        "the fields of each event: ts, event_id, action, item_id, query, attrs.NAME or a "
        "feature (a list, required)",
        true}},
      [](const AggregatorContext& c) -> std::unique_ptr<Aggregator> {
        c.forbid_value();
        c.forbid_group_by();
        std::int64_t k = c.param_int("k");
        if (k < 1 || k > kMaxSequenceLength)
          c.reject("k", fmt::format("must be between 1 and {} (got {})", kMaxSequenceLength, k));
        std::vector<std::string> names = *c.param_list("fields", true);
        if (names.empty()) c.reject("fields", "must name at least one field");
        std::vector<FieldRef> fields;
        for (const std::string& name : names) {
          if (std::count(names.begin(), names.end(), name) > 1)
            c.reject("fields", fmt::format("\"{}\" is listed twice", name));
          auto field = parse_field(name, c.features);
          if (!field) {
            std::vector<std::string> known;
            for (std::size_t i = 0; i < c.features.size(); ++i) known.push_back(c.features.name(i));
            c.reject(
                "fields",
                fmt::format("\"{}\" is neither an event field (ts, event_id, action, item_id, "
                            "query, attrs.NAME) nor a configured feature ({})",
                            name,
                            known.empty() ? "none are configured"
                                          : fmt::format("configured: {}", fmt::join(known, ", "))));
          }
          fields.push_back(std::move(*field));
        }
        return std::make_unique<SequenceAggregator>(static_cast<std::size_t>(k), std::move(names),
                                                    std::move(fields));
      });
}

}  // namespace signalbox
