// Stored event record, format version 1:
//
//   byte     version (1)
//   varint   user_id
//   svarint  ts
//   str      action
//   str      event_id
//   byte     presence flags: kHasItemId | kHasQuery
//   str      item_id           (when kHasItemId)
//   str      query             (when kHasQuery)
//   varint   attribute count, then per attribute:
//              str name, byte tag (kAttrString | kAttrNumber), str or f64 value
//   varint   feature count, then per non-empty feature:
//              str name, byte tag (kFeatureStrings | kFeatureVector | kFeatureNumber),
//              strings: varint count, str each; vector: varint count, f32 each; number: f64
//
// Features are stored by name, and empty features are not stored at all, so a config that
// adds, drops or reorders features reads old records correctly.

#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/common/bytes.h"
#include "signalbox/common/error.h"
#include "signalbox/event/event.h"

namespace signalbox {

namespace {

constexpr std::uint8_t kFormatVersion = 1;

constexpr std::uint8_t kHasItemId = 1 << 0;
constexpr std::uint8_t kHasQuery = 1 << 1;

constexpr std::uint8_t kAttrString = 0;
constexpr std::uint8_t kAttrNumber = 1;

constexpr std::uint8_t kFeatureStrings = 1;
constexpr std::uint8_t kFeatureVector = 2;
constexpr std::uint8_t kFeatureNumber = 3;

// Smallest encodings, which bound how much a corrupt count can make decode reserve.
constexpr std::size_t kMinAttrBytes = 3;     // empty name, tag, empty string
constexpr std::size_t kMinFeatureBytes = 3;  // empty name, tag, zero count

void encode_feature(ByteWriter& w, const std::string& name, const FeatureValue& value) {
  if (const auto* strings = std::get_if<std::vector<std::string>>(&value)) {
    w.str(name);
    w.byte(kFeatureStrings);
    w.varint(strings->size());
    for (const std::string& s : *strings) w.str(s);
  } else if (const auto* vec = std::get_if<std::vector<float>>(&value)) {
    w.str(name);
    w.byte(kFeatureVector);
    w.varint(vec->size());
    for (float f : *vec) w.f32(f);
  } else if (const auto* number = std::get_if<double>(&value)) {
    w.str(name);
    w.byte(kFeatureNumber);
    w.f64(*number);
  }
}

FeatureValue decode_feature_value(ByteReader& r, std::uint8_t tag) {
  switch (tag) {
    case kFeatureStrings: {
      std::uint64_t n = r.count(1);
      std::vector<std::string> strings;
      strings.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) strings.emplace_back(r.str());
      return strings;
    }
    case kFeatureVector: {
      std::uint64_t n = r.count(sizeof(float));
      std::vector<float> vec;
      vec.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) vec.push_back(r.f32());
      return vec;
    }
    case kFeatureNumber:
      return r.f64();
    default:
      throw CorruptionError(fmt::format("event record: unknown feature tag {}", tag));
  }
}

}  // namespace

void encode_event(const MaterializedEvent& event, const FeatureNames& names, std::string& out) {
  if (event.features.size() > names.size())
    throw std::invalid_argument("encode_event: more features than feature names");
  const Event& e = event.event;
  ByteWriter w(out);
  w.byte(kFormatVersion);
  w.varint(e.user_id);
  w.svarint(e.ts);
  w.str(e.action);
  w.str(e.event_id);
  w.byte((e.item_id ? kHasItemId : 0) | (e.query ? kHasQuery : 0));
  if (e.item_id) w.str(*e.item_id);
  if (e.query) w.str(*e.query);

  w.varint(e.attrs.size());
  for (const auto& [name, value] : e.attrs) {
    w.str(name);
    if (const auto* s = std::get_if<std::string>(&value)) {
      w.byte(kAttrString);
      w.str(*s);
    } else {
      w.byte(kAttrNumber);
      w.f64(std::get<double>(value));
    }
  }

  std::size_t stored = 0;
  for (const FeatureValue& f : event.features)
    if (!std::holds_alternative<std::monostate>(f)) ++stored;
  w.varint(stored);
  for (std::size_t i = 0; i < event.features.size(); ++i)
    encode_feature(w, names.name(i), event.features[i]);
}

MaterializedEvent decode_event(std::string_view bytes, const FeatureNames& names) {
  ByteReader r(bytes);
  std::uint8_t version = r.byte();
  if (version != kFormatVersion)
    throw CorruptionError(fmt::format("event record: unsupported format version {}", version));

  MaterializedEvent out;
  Event& e = out.event;
  e.user_id = r.varint();
  e.ts = r.svarint();
  e.action = r.str();
  e.event_id = r.str();
  std::uint8_t flags = r.byte();
  if (flags & ~(kHasItemId | kHasQuery))
    throw CorruptionError(fmt::format("event record: unknown flags {:#x}", flags));
  if (flags & kHasItemId) e.item_id = std::string(r.str());
  if (flags & kHasQuery) e.query = std::string(r.str());

  std::uint64_t attr_count = r.count(kMinAttrBytes);
  e.attrs.reserve(attr_count);
  for (std::uint64_t i = 0; i < attr_count; ++i) {
    std::string name(r.str());
    std::uint8_t tag = r.byte();
    if (tag == kAttrString) {
      e.attrs.emplace_back(std::move(name), std::string(r.str()));
    } else if (tag == kAttrNumber) {
      e.attrs.emplace_back(std::move(name), r.f64());
    } else {
      throw CorruptionError(fmt::format("event record: unknown attribute tag {}", tag));
    }
  }

  out.features.resize(names.size());
  std::uint64_t feature_count = r.count(kMinFeatureBytes);
  for (std::uint64_t i = 0; i < feature_count; ++i) {
    std::string_view name = r.str();
    std::uint8_t tag = r.byte();
    // Decoded even when dropped: that both skips its bytes and checks them.
    FeatureValue value = decode_feature_value(r, tag);
    if (auto index = names.index(name)) out.features[*index] = std::move(value);
  }
  if (!r.done()) throw CorruptionError("event record: trailing bytes");
  return out;
}

}  // namespace signalbox
