#include "signalbox/serve/api_request.h"

#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

#include "signalbox/common/value.h"
#include "signalbox/serve/api_refusals.h"
#include "signalbox/serve/url.h"

namespace signalbox {

namespace {

// Client text quoted in an error message: a 10 MB value makes a short message all the same.
constexpr std::size_t kMaxQuoted = 200;

std::string client_text(std::string_view text) {
  std::string out;
  append_json_string(out, text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

// A JSON value of the body as the client wrote it (minified), shortened like client_text().
std::string shown(simdjson::dom::element e) {
  std::string text = simdjson::minify(e);
  if (text.size() > kMaxQuoted) {
    text.resize(kMaxQuoted);
    text += "...";
  }
  return text;
}

std::uint64_t parse_user_id(std::string_view text) {
  std::optional<std::uint64_t> id = parse_uint64(text);
  if (!id) {
    throw BadRequest(
        fmt::format("user_id: {} is not an unsigned 64-bit integer", client_text(text)));
  }
  return *id;
}

// A '+' written as such in a URL query decodes to a space, which turns the offset of
// "2026-11-30T12:00:00+01:00" into something no parser reads: say so when that is the fix.
std::string plus_hint(std::string_view text) {
  std::size_t space = text.rfind(' ');
  if (space == std::string_view::npos) return "";
  std::string with_plus(text);
  with_plus[space] = '+';
  std::string ignored;
  if (!parse_time(with_plus, &ignored)) return "";
  return " (a '+' in a URL query means a space: write the offset's '+' as %2B)";
}

// `shown` is the value as the client wrote it, already quoted for a message.
// A time parameter named `param` (as_of, from, to), read as parse_time() reads it.
TimeMs parse_time_param(std::string_view param, std::string_view text, std::string_view shown) {
  std::string problem;
  std::optional<TimeMs> t = parse_time(text, &problem);
  if (!t) throw BadRequest(fmt::format("{}: {} {}{}", param, shown, problem, plus_hint(text)));
  return *t;
}

TimeMs parse_as_of(std::string_view text, std::string_view shown) {
  return parse_time_param("as_of", text, shown);
}

// Adds the comma-separated names of `csv` to `names`, skipping empty ones and repeats.
void add_names(std::string_view csv, std::vector<std::string>& names,
               std::unordered_set<std::string>& seen) {
  while (!csv.empty()) {
    std::size_t comma = csv.find(',');
    std::string name(csv.substr(0, comma));
    csv = comma == std::string_view::npos ? std::string_view() : csv.substr(comma + 1);
    if (!name.empty() && seen.insert(name).second) names.push_back(std::move(name));
  }
}

constexpr std::string_view kBatchShape =
    R"(a JSON object {"user_ids": [...], "names": [...], "as_of": T})";

std::uint64_t batch_user_id(simdjson::dom::element e, std::size_t i) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::UINT64:
      return e.get_uint64().value_unsafe();
    case element_type::INT64: {
      std::int64_t v = e.get_int64().value_unsafe();
      if (v >= 0) return static_cast<std::uint64_t>(v);
      break;
    }
    case element_type::STRING: {
      std::string_view text = e.get_string().value_unsafe();
      if (std::optional<std::uint64_t> v = parse_uint64(text)) return *v;
      break;
    }
    default:
      break;
  }
  throw BadRequest(fmt::format("user_ids[{}]: {} is not an unsigned 64-bit integer", i, shown(e)));
}

}  // namespace

void check_as_of(TimeMs as_of) {
  if (as_of < 0 || as_of > kMaxAsOf) {
    throw BadRequest(fmt::format(
        "as_of: {} is out of range (milliseconds since the Unix epoch, from 0 to {}: the end of "
        "the year 9999)",
        as_of, kMaxAsOf));
  }
}

SignalsRequest parse_signals_request(std::string_view user_text, std::string_view query) {
  SignalsRequest request;
  request.user_id = parse_user_id(user_text);
  std::string bad;
  std::optional<std::vector<QueryParam>> params = parse_query(query, &bad);
  if (!params) throw BadRequest(fmt::format("query: bad percent-encoding in {}", client_text(bad)));
  std::unordered_set<std::string> seen;
  for (const auto& [name, value] : *params) {
    if (name == "names") {
      add_names(value, request.names, seen);
    } else if (name == "as_of") {
      if (request.as_of) throw BadRequest("as_of: given more than once");
      request.as_of = parse_as_of(value, client_text(value));
    } else {
      throw BadRequest(
          fmt::format("unknown query parameter {} (known: names, as_of)", client_text(name)));
    }
  }
  return request;
}

ExplainRequest parse_explain_request(std::string_view user_text, std::string_view query) {
  ExplainRequest request;
  request.user_id = parse_user_id(user_text);
  std::string bad;
  std::optional<std::vector<QueryParam>> params = parse_query(query, &bad);
  if (!params) throw BadRequest(fmt::format("query: bad percent-encoding in {}", client_text(bad)));
  bool has_signal = false, has_max_events = false;
  auto once = [](bool& seen, std::string_view name) {
    if (seen) throw BadRequest(fmt::format("{}: given more than once", name));
    seen = true;
  };
  for (const auto& [name, value] : *params) {
    if (name == "signal") {
      once(has_signal, "signal");
      request.name = value;
    } else if (name == "window") {
      if (request.window) throw BadRequest("window: given more than once");
      request.window = value;
    } else if (name == "as_of") {
      if (request.as_of) throw BadRequest("as_of: given more than once");
      request.as_of = parse_as_of(value, client_text(value));
    } else if (name == "max_events") {
      once(has_max_events, "max_events");
      std::optional<std::uint64_t> n = parse_uint64(value);
      if (!n || *n > kMaxExplainEvents) {
        throw BadRequest(fmt::format("max_events: {} is not a whole number from 0 to {}",
                                     client_text(value), kMaxExplainEvents));
      }
      request.max_events = static_cast<std::size_t>(*n);
    } else {
      throw BadRequest(
          fmt::format("unknown query parameter {} (known: signal, window, as_of, max_events)",
                      client_text(name)));
    }
  }
  if (request.name.empty()) throw BadRequest("signal: required (the name of a signal or view)");
  return request;
}

ReachRequest parse_reach_request(std::string_view user_text, std::string_view query) {
  ReachRequest request;
  request.user_id = parse_user_id(user_text);
  std::string bad;
  std::optional<std::vector<QueryParam>> params = parse_query(query, &bad);
  if (!params) throw BadRequest(fmt::format("query: bad percent-encoding in {}", client_text(bad)));
  std::unordered_set<std::string> seen;
  std::optional<TimeMs> from, to;
  for (const auto& [name, value] : *params) {
    if (name == "names") {
      add_names(value, request.names, seen);
    } else if (name == "from" || name == "to") {
      std::optional<TimeMs>& slot = name == "from" ? from : to;
      if (slot) throw BadRequest(fmt::format("{}: given more than once", name));
      slot = parse_time_param(name, value, client_text(value));
    } else {
      throw BadRequest(
          fmt::format("unknown query parameter {} (known: names, from, to)", client_text(name)));
    }
  }
  if (!from) throw BadRequest("from: required (the earliest as_of to consider)");
  if (!to) throw BadRequest("to: required (the latest as_of to consider)");
  check_as_of(*from);
  check_as_of(*to);
  if (*from > *to) throw BadRequest(fmt::format("from: {} is after to ({})", *from, *to));
  request.from = *from;
  request.to = *to;
  return request;
}

BatchRequest parse_batch_request(std::string_view body, std::size_t max_users) {
  // One parser per thread: it keeps its buffers between requests.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root)) {
    throw BadRequest(fmt::format("body: not valid JSON ({}); expected {}",
                                 simdjson::error_message(error), kBatchShape));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object))
    throw BadRequest(fmt::format("body: expected {}", kBatchShape));
  BatchRequest batch;
  bool has_user_ids = false;
  std::unordered_set<std::string> seen_names;
  for (auto [key, value] : object) {
    if (key == "user_ids") {
      simdjson::dom::array ids;
      if (value.get_array().get(ids)) throw BadRequest("user_ids: must be an array of user ids");
      if (ids.size() > max_users) {
        throw BadRequest(too_many_users_message(max_users, ids.size()));
      }
      has_user_ids = true;
      batch.user_ids.clear();
      std::size_t i = 0;
      for (simdjson::dom::element id : ids) batch.user_ids.push_back(batch_user_id(id, i++));
    } else if (key == "names") {
      simdjson::dom::array names;
      if (value.get_array().get(names)) throw BadRequest("names: must be an array of strings");
      batch.names.clear();
      seen_names.clear();
      std::size_t i = 0;
      for (simdjson::dom::element name : names) {
        std::string_view text;
        if (name.get_string().get(text))
          throw BadRequest(fmt::format("names[{}]: {} is not a string", i, shown(name)));
        if (seen_names.emplace(text).second) batch.names.emplace_back(text);
        ++i;
      }
    } else if (key == "as_of") {
      // A number in milliseconds, or a string in any form parse_time() reads.
      std::string_view text;
      if (value.is_null()) {
        batch.as_of.reset();
      } else if (!value.get_string().get(text)) {
        batch.as_of = parse_as_of(text, shown(value));
      } else {
        batch.as_of = parse_as_of(simdjson::minify(value), shown(value));
      }
    } else {
      throw BadRequest(
          fmt::format("body: unknown field {} (known: user_ids, names, as_of)", client_text(key)));
    }
  }
  if (!has_user_ids) throw BadRequest("user_ids: required (an array of user ids)");
  return batch;
}

}  // namespace signalbox
