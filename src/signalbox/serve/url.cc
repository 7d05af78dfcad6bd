#include "signalbox/serve/url.h"

#include <charconv>

namespace signalbox {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
  // Most paths and parameters are plain: copied whole rather than byte by byte. Each byte
  // looked for with its own find (memchr, many bytes a step): find_first_of searches its set
  // with a call per byte of `text`, and one loop testing both goes a byte at a time.
  const bool plain = text.find('%') == std::string_view::npos &&
                     (!plus_is_space || text.find('+') == std::string_view::npos);
  if (plain) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_digit(text[i + 1]);
      int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Target split_target(std::string_view target) {
  std::size_t question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

PathSegments::PathSegments(std::string_view path) {
  if (path.starts_with('/')) path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    const bool plain = raw.find('%') == std::string_view::npos;
    if (size_ < kStored) {
      if (plain) {
        segments_[size_] = raw;
      } else if (std::optional<std::string> decoded = url_decode(raw, false)) {
        decoded_[size_] = std::move(*decoded);
        segments_[size_] = decoded_[size_];
      } else {
        well_formed_ = false;
      }
    } else if (!plain && !url_decode(raw, false)) {
      well_formed_ = false;
    }
    ++size_;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

std::optional<std::vector<QueryParam>> parse_query(std::string_view query, std::string* bad) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    std::optional<std::string> name = url_decode(piece.substr(0, eq), true);
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::string() : url_decode(piece.substr(eq + 1), true);
    if (!name || !value) {
      *bad = std::string(piece);
      return std::nullopt;
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t value = 0;
  std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  if (digits.empty() || digits[0] < '0' || digits[0] > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace signalbox
