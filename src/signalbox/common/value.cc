#include "signalbox/common/value.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "signalbox/common/json_writer.h"

namespace signalbox {

double Value::number() const {
  if (auto* d = std::get_if<double>(&data_)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  if (auto* u = std::get_if<std::uint64_t>(&data_)) return static_cast<double>(*u);
  return 0;
}

const Value* Value::find(std::string_view key) const {
  auto* obj = std::get_if<Object>(&data_);
  if (!obj) return nullptr;
  for (const auto& [k, v] : *obj)
    if (k == key) return &v;
  return nullptr;
}

std::string Value::to_json() const {
  std::string out;
  // Most answers are a few hundred bytes to a few KiB: start past the first doublings.
  out.reserve(512);
  append_json(out);
  return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0)
    n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0)
    n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// How many leading bytes of `s` need no escaping.
std::size_t plain_prefix(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && kPlainJsonByte[static_cast<unsigned char>(s[n])]) ++n;
  return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  std::size_t i = plain_prefix(s);
  if (i == s.size()) {
    // Needs no escaping (the common case: names, groups, ids): grown once for the quotes
    // and the bytes, where appending piece by piece would cost a call each.
    const std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    *p = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.push_back('"');
  out.append(s.data(), i);
  while (i < s.size()) {
    // Runs of bytes that need no escaping (nearly all of them) are copied whole.
    if (std::size_t plain = plain_prefix(s.substr(i))) {
      out.append(s.data() + i, plain);
      i += plain;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

void Value::append_json(std::string& out) const {
  JsonWriter writer(out);
  write_json(writer);
}

void Value::write_json(JsonWriter& out) const {
  // A local class: it may read data_ as this member function may.
  struct Render {
    static void value(const Value& v, JsonWriter& out) {
      switch (v.data_.index()) {
        case 0:
          return out.null();
        case 1:
          return out.boolean(std::get<bool>(v.data_));
        case 2:
          return out.number(*std::get_if<double>(&v.data_));
        case 3:
          return out.integer(*std::get_if<std::int64_t>(&v.data_));
        case 4:
          return out.integer(*std::get_if<std::uint64_t>(&v.data_));
        case 5:
          return out.quoted(0, *std::get_if<std::string>(&v.data_), 0);
        case 6: {
          const Array& a = *std::get_if<Array>(&v.data_);
          out.put('[');
          for (std::size_t i = 0; i < a.size(); ++i) {
            if (i) out.put(',');
            value(a[i], out);
          }
          return out.put(']');
        }
        default: {
          const Object& o = *std::get_if<Object>(&v.data_);
          out.put('{');
          for (std::size_t i = 0; i < o.size(); ++i) {
            out.quoted(i ? ',' : 0, o[i].first, ':');
            value(o[i].second, out);
          }
          return out.put('}');
        }
      }
    }
  };
  Render::value(*this, out);
}

}  // namespace signalbox
