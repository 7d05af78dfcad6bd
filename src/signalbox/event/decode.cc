#include "signalbox/event/decode.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <simdjson.h>

namespace signalbox {

namespace {

using simdjson::dom::element_type;

// Keys and attribute names can be up to 64 KiB of anything: messages show a bounded prefix.
constexpr std::size_t kMaxShownNameBytes = 64;

std::string shown(std::string_view name) {
  if (name.size() <= kMaxShownNameBytes) return std::string(name);
  std::size_t n = kMaxShownNameBytes;
  // Do not cut a UTF-8 sequence in half.
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xc0) == 0x80) --n;
  std::string out(name.substr(0, n));
  out += "...";
  return out;
}

std::string json_problem(simdjson::error_code error) {
  switch (error) {
    case simdjson::EMPTY:
      return "empty document";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::TAPE_ERROR:
      return "malformed document (check braces, commas and quotes)";
    case simdjson::UNCLOSED_STRING:
      return "unclosed string";
    case simdjson::STRING_ERROR:
      return "invalid string escape";
    case simdjson::DEPTH_ERROR:
      return "nested too deeply";
    case simdjson::NUMBER_ERROR:
      return "invalid or out-of-range number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "invalid literal";
    default:
      return std::string(simdjson::error_message(error));
  }
}

Rejection json_error(simdjson::error_code error) {
  return Rejection::of(RejectReason::kJson, json_problem(error));
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool valid_action(std::string_view action) {
  if (action.empty() || action.size() > kMaxActionBytes) return false;
  for (char c : action)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// The top-level fields; bits of a seen-mask.
enum Field : unsigned {
  kUserId = 1 << 0,
  kTs = 1 << 1,
  kAction = 1 << 2,
  kEventId = 1 << 3,
  kItemId = 1 << 4,
  kQuery = 1 << 5,
  kAttrs = 1 << 6,
};

unsigned field_of(std::string_view key) {
  if (key == "user_id") return kUserId;
  if (key == "ts") return kTs;
  if (key == "action") return kAction;
  if (key == "event_id") return kEventId;
  if (key == "item_id") return kItemId;
  if (key == "query") return kQuery;
  if (key == "attrs") return kAttrs;
  return 0;
}

// The reason of a rule broken by field `which` (one of Field).
RejectReason reason_of(unsigned which) {
  switch (which) {
    case kUserId:
      return RejectReason::kUserId;
    case kTs:
      return RejectReason::kTs;
    case kAction:
      return RejectReason::kAction;
    case kEventId:
      return RejectReason::kEventId;
    case kItemId:
      return RejectReason::kItemId;
    case kQuery:
      return RejectReason::kQuery;
    default:
      return RejectReason::kAttrs;
  }
}

// "<key>: unknown field", the key being the client's text, bounded.
Rejection unknown_field(std::string_view key) {
  return Rejection{RejectReason::kUnknownField, shown(key) + ": unknown field"};
}

// "attrs.<name>: <detail>": a rule broken by one attribute.
Rejection attr_rejection(std::string_view name, std::string_view detail) {
  return Rejection{
      RejectReason::kAttrs,
      fmt::format("{}.{}: {}", reject_reason_info(RejectReason::kAttrs).field, name, detail)};
}

// Finds the end of the JSON value starting at body[pos], which is not blank, without
// validating it: only strings and bracket nesting are tracked, enough to cut an array into
// its elements so one bad element is reported on its own. Returns false when the value
// runs past the end or closes a bracket it did not open. `stack` is scratch space.
bool skip_value(std::string_view body, std::size_t& pos, std::string& stack) {
  const std::size_t n = body.size();
  stack.clear();
  while (pos < n) {
    char c = body[pos];
    if (c == '"') {
      ++pos;
      for (;;) {
        const void* quote = std::memchr(body.data() + pos, '"', n - pos);
        if (!quote) {
          pos = n;
          return false;
        }
        std::size_t q = static_cast<const char*>(quote) - body.data();
        // The quote is escaped when preceded by an odd number of backslashes.
        std::size_t backslashes = 0;
        while (q - backslashes > pos && body[q - backslashes - 1] == '\\') ++backslashes;
        pos = q + 1;
        if (backslashes % 2 == 0) break;
      }
      if (stack.empty()) return true;
    } else if (c == '{' || c == '[') {
      stack.push_back(c == '{' ? '}' : ']');
      ++pos;
    } else if (c == '}' || c == ']') {
      if (stack.empty() || stack.back() != c) return false;
      stack.pop_back();
      ++pos;
      if (stack.empty()) return true;
    } else if (stack.empty()) {
      // A bare scalar: it ends where the array's punctuation or blank space starts.
      if (c == ',' || c == ':') return false;
      while (pos < n && !is_blank(body[pos]) && body[pos] != ',' && body[pos] != ']' &&
             body[pos] != '}')
        ++pos;
      return true;
    } else {
      ++pos;
    }
  }
  return false;
}

}  // namespace

struct EventDecoder::Impl {
  explicit Impl(DecodeOptions opts) : options(std::move(opts)) {
    if (!options.now) options.now = wall_clock_ms;
    // Sized once for the largest event we accept, so decoding never allocates in simdjson.
    if (parser.allocate(kMaxEventJsonBytes) != simdjson::SUCCESS) throw std::bad_alloc();
  }

  // Latest ts accepted right now, saturating instead of overflowing on a huge skew.
  TimeMs ts_limit() const {
    TimeMs limit;
    if (__builtin_add_overflow(options.now(), options.max_future_skew, &limit))
      return options.max_future_skew > 0 ? std::numeric_limits<TimeMs>::max()
                                         : std::numeric_limits<TimeMs>::min();
    return limit;
  }

  bool decode(std::string_view json, TimeMs max_ts, Event* event, Rejection* error);
  bool decode_fields(simdjson::dom::object object, TimeMs max_ts, Event* event, Rejection* error);
  bool decode_attrs(simdjson::dom::element value, Event* event, Rejection* error);
  Rejection diagnose_number_error(std::size_t len);

  DecodeOptions options;
  simdjson::dom::parser parser{kMaxEventJsonBytes};
  // Only needed to name the field of a number simdjson's DOM refused; made on first use.
  std::unique_ptr<simdjson::ondemand::parser> number_parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the input: events are copied here first.
  std::unique_ptr<char[]> padded{new char[kMaxEventJsonBytes + simdjson::SIMDJSON_PADDING]};
  std::string bracket_stack;
};

bool EventDecoder::Impl::decode(std::string_view json, TimeMs max_ts, Event* event,
                                Rejection* error) {
  if (json.size() > kMaxEventJsonBytes) {
    *error = Rejection::of(RejectReason::kJson,
                           fmt::format("event larger than {} bytes", kMaxEventJsonBytes));
    return false;
  }
  std::memcpy(padded.get(), json.data(), json.size());
  std::memset(padded.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  simdjson::dom::element root;
  auto parse_error = parser.parse(padded.get(), json.size(), false).get(root);
  if (parse_error == simdjson::NUMBER_ERROR) {
    *error = diagnose_number_error(json.size());
    return false;
  }
  if (parse_error) {
    *error = json_error(parse_error);
    return false;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    *error = Rejection::of(RejectReason::kJson, "event must be an object");
    return false;
  }
  return decode_fields(object, max_ts, event, error);
}

bool EventDecoder::Impl::decode_fields(simdjson::dom::object object, TimeMs max_ts, Event* event,
                                       Rejection* error) {
  event->item_id.reset();
  event->query.reset();
  event->attrs.clear();
  bool has_event_id = false;
  unsigned seen = 0;
  for (const simdjson::dom::key_value_pair& field : object) {
    std::string_view key = field.key;
    simdjson::dom::element value = field.value;
    unsigned which = field_of(key);
    if (which == 0) {
      *error = unknown_field(key);
      return false;
    }
    if (seen & which) {
      *error = Rejection::of(reason_of(which), "duplicate field");
      return false;
    }
    seen |= which;
    element_type type = value.type();
    // null is how many producers spell an absent optional field.
    // It still counts as seen, so a second spelling of the field is a duplicate.
    if (type == element_type::NULL_VALUE && (which & (kEventId | kItemId | kQuery | kAttrs)))
      continue;
    switch (which) {
      case kUserId:
        if (type == element_type::UINT64) {
          event->user_id = value.get_uint64().value_unsafe();
        } else if (type == element_type::INT64 && value.get_int64().value_unsafe() >= 0) {
          event->user_id = static_cast<std::uint64_t>(value.get_int64().value_unsafe());
        } else {
          *error = Rejection::of(RejectReason::kUserId, "must be an unsigned 64-bit integer");
          return false;
        }
        break;
      case kTs: {
        TimeMs ts;
        if (type == element_type::INT64) {
          ts = value.get_int64().value_unsafe();
        } else if (type == element_type::UINT64) {
          ts = std::numeric_limits<TimeMs>::max();  // above any limit
        } else {
          *error =
              Rejection::of(RejectReason::kTs, "must be an integer (milliseconds since the epoch)");
          return false;
        }
        if (ts < 0) {
          *error = Rejection::of(RejectReason::kTs, "must not be negative");
          return false;
        }
        if (ts > max_ts) {
          *error = Rejection::of(RejectReason::kFuture, fmt::format("more than {} ms in the future",
                                                                    options.max_future_skew));
          return false;
        }
        event->ts = ts;
        break;
      }
      case kAction: {
        std::string_view s;
        if (value.get_string().get(s)) {
          *error = Rejection::of(RejectReason::kAction, "must be a string");
          return false;
        }
        if (!valid_action(s)) {
          *error = Rejection::of(RejectReason::kAction, "must match [a-z0-9_]{1,32}");
          return false;
        }
        event->action.assign(s);
        break;
      }
      case kEventId: {
        std::string_view s;
        if (value.get_string().get(s)) {
          *error = Rejection::of(RejectReason::kEventId, "must be a string");
          return false;
        }
        if (s.empty()) {
          *error = Rejection::of(RejectReason::kEventId, "must not be empty");
          return false;
        }
        if (s.size() > kMaxEventIdBytes) {
          *error = Rejection::of(RejectReason::kEventId,
                                 fmt::format("longer than {} bytes", kMaxEventIdBytes));
          return false;
        }
        event->event_id.assign(s);
        has_event_id = true;
        break;
      }
      case kItemId: {
        std::string_view s;
        if (value.get_string().get(s)) {
          *error = Rejection::of(RejectReason::kItemId, "must be a string");
          return false;
        }
        if (s.empty()) {
          *error = Rejection::of(RejectReason::kItemId, "must not be empty");
          return false;
        }
        if (s.size() > kMaxItemIdBytes) {
          *error = Rejection::of(RejectReason::kItemId,
                                 fmt::format("longer than {} bytes", kMaxItemIdBytes));
          return false;
        }
        event->item_id.emplace(s);
        break;
      }
      case kQuery: {
        std::string_view s;
        if (value.get_string().get(s)) {
          *error = Rejection::of(RejectReason::kQuery, "must be a string");
          return false;
        }
        if (s.size() > kMaxQueryBytes) {
          *error = Rejection::of(RejectReason::kQuery,
                                 fmt::format("longer than {} bytes", kMaxQueryBytes));
          return false;
        }
        event->query.emplace(s);
        break;
      }
      case kAttrs:
        if (!decode_attrs(value, event, error)) return false;
        break;
    }
  }
  if (!(seen & kUserId)) {
    *error = Rejection::of(RejectReason::kUserId, "required");
    return false;
  }
  if (!(seen & kTs)) {
    *error = Rejection::of(RejectReason::kTs, "required");
    return false;
  }
  if (!(seen & kAction)) {
    *error = Rejection::of(RejectReason::kAction, "required");
    return false;
  }
  if (!has_event_id) event->event_id = derive_event_id(*event);
  return true;
}

bool EventDecoder::Impl::decode_attrs(simdjson::dom::element value, Event* event,
                                      Rejection* error) {
  simdjson::dom::object attrs;
  if (value.get_object().get(attrs)) {
    *error = Rejection::of(RejectReason::kAttrs, "must be an object");
    return false;
  }
  // size() is read from the parsed tape; one allocation instead of one per doubling.
  event->attrs.reserve(std::min<std::size_t>(attrs.size(), kMaxAttrs + 1));
  for (const simdjson::dom::key_value_pair& attr : attrs) {
    std::string_view name = attr.key;
    if (event->attrs.size() == kMaxAttrs) {
      *error = Rejection::of(RejectReason::kAttrs, fmt::format("more than {} entries", kMaxAttrs));
      return false;
    }
    if (name.empty()) {
      *error = Rejection::of(RejectReason::kAttrs, "empty attribute name");
      return false;
    }
    if (name.size() > kMaxAttrNameBytes) {
      *error =
          attr_rejection(shown(name), fmt::format("name longer than {} bytes", kMaxAttrNameBytes));
      return false;
    }
    // At most 32 entries: a linear scan is cheaper than any set.
    for (const auto& [seen_name, unused] : event->attrs) {
      if (seen_name == name) {
        *error = attr_rejection(name, "duplicate name");
        return false;
      }
    }
    simdjson::dom::element v = attr.value;
    switch (v.type()) {
      case element_type::STRING: {
        std::string_view s = v.get_string().value_unsafe();
        if (s.size() > kMaxAttrValueBytes) {
          *error =
              attr_rejection(name, fmt::format("value longer than {} bytes", kMaxAttrValueBytes));
          return false;
        }
        event->attrs.emplace_back(std::string(name), std::string(s));
        break;
      }
      case element_type::INT64:
        event->attrs.emplace_back(std::string(name),
                                  static_cast<double>(v.get_int64().value_unsafe()));
        break;
      case element_type::UINT64:
        event->attrs.emplace_back(std::string(name),
                                  static_cast<double>(v.get_uint64().value_unsafe()));
        break;
      case element_type::DOUBLE: {
        const double d = v.get_double().value_unsafe();
        if (!(std::abs(d) <= kMaxAttrNumber)) {
          *error =
              attr_rejection(name, fmt::format("{} is out of range (at most {:g} in magnitude, so "
                                               "that sums of it stay finite)",
                                               d, kMaxAttrNumber));
          return false;
        }
        event->attrs.emplace_back(std::string(name), d);
        break;
      }
      default:
        *error = attr_rejection(name, "value must be a string or number");
        return false;
    }
  }
  return true;
}

// simdjson's DOM refuses a whole document for one number it cannot represent (an integer
// beyond 64 bits, 1e400). On-Demand parses numbers only when asked, which lets us name the
// field at fault. Only runs for documents already known to be bad.
Rejection EventDecoder::Impl::diagnose_number_error(std::size_t len) {
  const Rejection generic = json_error(simdjson::NUMBER_ERROR);
  auto is_bad_number = [](simdjson::ondemand::value& v) {
    simdjson::ondemand::json_type type;
    if (v.type().get(type) || type != simdjson::ondemand::json_type::number) return false;
    simdjson::ondemand::number number;
    return v.get_number().get(number) != simdjson::SUCCESS;
  };
  if (!number_parser) number_parser = std::make_unique<simdjson::ondemand::parser>();
  simdjson::ondemand::document doc;
  if (number_parser->iterate(padded.get(), len, len + simdjson::SIMDJSON_PADDING).get(doc))
    return generic;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return generic;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return generic;
    // The key's view dies with the next field: keep a copy for the message.
    std::string name(key);
    unsigned which = field_of(name);
    if (which == 0) return unknown_field(name);
    simdjson::ondemand::value& value = field.value();
    if (which == kAttrs) {
      simdjson::ondemand::object attrs;
      if (value.get_object().get(attrs)) continue;
      for (auto attr_result : attrs) {
        simdjson::ondemand::field attr;
        std::string_view attr_key;
        if (std::move(attr_result).get(attr) || attr.unescaped_key().get(attr_key)) return generic;
        std::string attr_name(attr_key);
        if (is_bad_number(attr.value()))
          return attr_rejection(shown(attr_name), "number out of range");
      }
      continue;
    }
    if (!is_bad_number(value)) continue;
    switch (which) {
      case kUserId:
        return Rejection::of(RejectReason::kUserId, "must be an unsigned 64-bit integer");
      case kTs:
        return Rejection::of(RejectReason::kTs,
                             "must be an integer (milliseconds since the epoch)");
      default:
        return Rejection::of(reason_of(which), "must be a string");
    }
  }
  return generic;
}

EventDecoder::EventDecoder(DecodeOptions options) : impl_(new Impl(std::move(options))) {}

EventDecoder::~EventDecoder() { delete impl_; }

bool EventDecoder::decode(std::string_view json, Event* event, Rejection* error) {
  return impl_->decode(json, impl_->ts_limit(), event, error);
}

void EventDecoder::decode_batch(std::string_view body,
                                const std::function<void(std::size_t, Event&&)>& on_event,
                                const std::function<void(std::size_t, Rejection&&)>& on_error) {
  // One clock reading per batch: every event of a request is judged against the same now.
  const TimeMs max_ts = impl_->ts_limit();
  Event event;
  Rejection error;
  auto decode_one = [&](std::size_t index, std::string_view json) {
    if (impl_->decode(json, max_ts, &event, &error)) {
      on_event(index, std::move(event));
    } else {
      on_error(index, std::move(error));
    }
    // Both may have been moved from: start the next event from a known state.
    event = Event();
    error = Rejection();
  };

  const std::size_t n = body.size();
  std::size_t pos = 0;
  while (pos < n && is_blank(body[pos])) ++pos;
  if (pos == n) return;

  if (body[pos] != '[') {
    // NDJSON: every line stands alone, so a bad line never affects another.
    std::size_t index = 0;
    while (pos < n) {
      const void* newline = std::memchr(body.data() + pos, '\n', n - pos);
      std::size_t end = newline ? static_cast<const char*>(newline) - body.data() : n;
      std::string_view line = body.substr(pos, end - pos);
      pos = end + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      bool blank = true;
      for (char c : line) {
        if (!is_blank(c)) {
          blank = false;
          break;
        }
      }
      if (!blank) decode_one(index++, line);
    }
    return;
  }

  // A JSON array. Elements are cut out and decoded one by one, so a bad event costs only
  // itself; a break in the array's own structure ends the batch at that index.
  ++pos;
  auto skip_blanks = [&] {
    while (pos < n && is_blank(body[pos])) ++pos;
  };
  skip_blanks();
  std::size_t index = 0;
  if (pos < n && body[pos] == ']') {
    ++pos;
  } else {
    for (;; ++index) {
      skip_blanks();
      if (pos == n) {
        on_error(index, Rejection::of(RejectReason::kJson, "truncated array"));
        return;
      }
      std::size_t start = pos;
      if (!skip_value(body, pos, impl_->bracket_stack)) {
        on_error(index, Rejection::of(RejectReason::kJson,
                                      pos >= n ? "truncated array" : "malformed array"));
        return;
      }
      decode_one(index, body.substr(start, pos - start));
      skip_blanks();
      if (pos == n) {
        on_error(index + 1, Rejection::of(RejectReason::kJson, "truncated array (missing ']')"));
        return;
      }
      if (body[pos] == ']') {
        ++pos;
        ++index;
        break;
      }
      if (body[pos] != ',') {
        on_error(index + 1,
                 Rejection::of(RejectReason::kJson, "expected ',' or ']' after an array element"));
        return;
      }
      ++pos;
    }
  }
  skip_blanks();
  if (pos != n)
    on_error(index, Rejection::of(RejectReason::kJson, "unexpected text after the array"));
}

}  // namespace signalbox
