// redis_baseline: the usual hand-built alternative to Signalbox, as a benchmark baseline
// (bench/run.sh). Every event of a user goes into one Redis sorted set scored by ts; a query
// fetches the user's events with ZRANGEBYSCORE and computes, in the client, the signals and
// views of examples/demo.yaml — hand-written per signal, as such services are — then builds
// the same JSON answer Signalbox sends. Content features (a pin's categories and embedding)
// are held in the client's memory from pins.tsv, which favours the baseline.
//
//   load   --port P --events FILE [--pipeline N]     pipelined ZADD of every event
//   query  --port P --users FILE --pins FILE --as-of MS --duration S [--threads T]
//          closed loop, one connection per thread; requests/s and p50/p99/p99.9
//   check  --port P --users FILE --pins FILE --as-of MS --signalbox-port P [--sample N]
//          compares the answers with Signalbox's GET /v1/users/{id}/signals, signal by signal
//
// The window rule is Signalbox's (docs/signals.md) for a retention of 7 days: windows up to
// 7 days are exact to the millisecond, longer ones start at a UTC day boundary.

#include <hiredis/hiredis.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "signalbox/common/beast.h"
#include "signalbox/common/time.h"
#include "signalbox/common/value.h"
#include "signalbox/event/decode.h"

namespace {

using signalbox::kDayMs;
using signalbox::kHourMs;
using signalbox::TimeMs;
using signalbox::Value;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "redis_baseline: {}\n", message);
  std::exit(2);
}

// The "--flag value" pairs after the mode. A plain value; not synchronised.
struct Args {
  std::map<std::string, std::string> values;
  bool has(const std::string& key) const { return values.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback = "") const {
    return has(key) ? values.at(key) : fallback;
  }
  std::string required(const std::string& key) const {
    if (!has(key)) fail(key + " is required");
    return values.at(key);
  }
  double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const std::string& text = values.at(key);
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
      fail(fmt::format("{}: not a number: \"{}\"", key, text));
    return v;
  }
};

void append_metrics(const Args& args, const std::string& label,
                    const std::vector<std::pair<std::string, double>>& kv) {
  std::string line = label + ":";
  std::string lines;
  for (const auto& [key, value] : kv) {
    line += fmt::format(" {}={:.10g}", key, value);
    lines += fmt::format("{}.{} {:.10g}\n", label, key, value);
  }
  fmt::print("{}\n", line);
  if (args.has("--metrics")) std::ofstream(args.get("--metrics"), std::ios::app) << lines;
}

// One hiredis connection, failing the program on any error. Not thread-safe: one per thread.
struct RedisContext {
  redisContext* c;
  explicit RedisContext(int port) : c(redisConnect("127.0.0.1", port)) {
    if (c == nullptr || c->err)
      fail(fmt::format("cannot connect to redis on port {}: {}", port, c ? c->errstr : "?"));
  }
  ~RedisContext() { redisFree(c); }
  redisReply* reply() {
    void* r = nullptr;
    if (redisGetReply(c, &r) != REDIS_OK || r == nullptr) fail(fmt::format("redis: {}", c->errstr));
    auto* reply = static_cast<redisReply*>(r);
    if (reply->type == REDIS_REPLY_ERROR) fail(fmt::format("redis: {}", reply->str));
    return reply;
  }
};

// --- load ------------------------------------------------------------------------------------

// A sorted-set member: the fields the signals need, separated by \x1f. Verbatim duplicates
// give the same member, so ZADD deduplicates them as Signalbox does.
std::string member_of(const signalbox::Event& e) {
  std::string price;
  for (const auto& [name, value] : e.attrs)
    if (name == "price" && std::holds_alternative<double>(value))
      price = fmt::format("{}", std::get<double>(value));
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", e.event_id, e.ts, e.action,
                     e.item_id.value_or(""), price);
}

int run_load(const Args& args) {
  RedisContext redis(static_cast<int>(args.number("--port", 0)));
  std::ifstream in(args.required("--events"));
  if (!in) fail("cannot read " + args.get("--events"));
  const auto pipeline = static_cast<std::size_t>(args.number("--pipeline", 1000));
  signalbox::EventDecoder decoder;
  std::string line;
  signalbox::Rejection error;
  signalbox::Event event;
  std::size_t pending = 0, loaded = 0, rejected = 0;
  auto start = Clock::now();
  auto drain = [&] {
    for (; pending > 0; --pending) freeReplyObject(redis.reply());
  };
  while (std::getline(in, line)) {
    if (!decoder.decode(line, &event, &error)) {
      ++rejected;
      continue;
    }
    std::string key = fmt::format("u:{}", event.user_id);
    std::string score = fmt::format("{}", event.ts);
    std::string member = member_of(event);
    const char* argv[] = {"ZADD", key.c_str(), score.c_str(), member.c_str()};
    const std::size_t lens[] = {4, key.size(), score.size(), member.size()};
    redisAppendCommandArgv(redis.c, 4, argv, lens);
    ++loaded;
    if (++pending == pipeline) drain();
  }
  drain();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  redisReply* info = static_cast<redisReply*>(redisCommand(redis.c, "INFO memory"));
  double used = 0;
  if (info && info->type == REDIS_REPLY_STRING) {
    std::string_view text(info->str, info->len);
    auto at = text.find("used_memory:");
    if (at != std::string_view::npos) used = std::strtod(info->str + at + 12, nullptr);
  }
  if (info) freeReplyObject(info);
  append_metrics(args, args.get("--label", "redis_load"),
                 {{"events", static_cast<double>(loaded)},
                  {"rejected", static_cast<double>(rejected)},
                  {"seconds", seconds},
                  {"events_per_s", static_cast<double>(loaded) / seconds},
                  {"used_memory_bytes", used}});
  return 0;
}

// --- the hand-written signals of examples/demo.yaml ------------------------------------------

// A pin's content features from pins.tsv, held in the client as a hand-built service would.
struct Pin {
  std::vector<std::string> categories;
  std::vector<double> embedding;
};
using Pins = std::unordered_map<std::string, Pin>;

Pins load_pins(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read " + path);
  Pins pins;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    Pin pin;
    std::stringstream cats(line.substr(t1 + 1, t2 - t1 - 1)), dims(line.substr(t2 + 1));
    std::string part;
    while (std::getline(cats, part, '|'))
      if (!part.empty()) pin.categories.push_back(part);
    std::sort(pin.categories.begin(), pin.categories.end());
    pin.categories.erase(std::unique(pin.categories.begin(), pin.categories.end()),
                         pin.categories.end());
    while (std::getline(dims, part, ','))
      pin.embedding.push_back(static_cast<float>(std::stod(part)));
    pins.emplace(line.substr(0, t1), std::move(pin));
  }
  return pins;
}

// One event as stored in the sorted set; the views point into the Redis reply.
struct Stored {
  std::string_view event_id, action, item;
  TimeMs ts = 0;
  double price = 0;
  bool has_price = false;
};

Stored parse_member(std::string_view m) {
  Stored s;
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    auto sep = m.find('\x1f');
    parts[i] = m.substr(0, sep);
    m = sep == std::string_view::npos ? std::string_view() : m.substr(sep + 1);
  }
  s.event_id = parts[0];
  std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), s.ts);
  s.action = parts[2];
  s.item = parts[3];
  if (!parts[4].empty()) {
    s.has_price = true;
    s.price = std::strtod(std::string(parts[4]).c_str(), nullptr);
  }
  return s;
}

// The first ts inside window `length` as of `as_of` (docs/signals.md, retention 7 days).
TimeMs window_from(TimeMs as_of, TimeMs length) {
  return length <= 7 * kDayMs ? as_of - length + 1 : signalbox::floor_day(as_of - length);
}

Value counts_object(const std::map<std::string, double>& counts) {
  Value::Object o;
  for (const auto& [k, v] : counts)
    if (v != 0) o.emplace_back(k, Value(v));
  return Value(std::move(o));
}

// Every signal, then every view, of examples/demo.yaml, from the user's events (oldest first).
Value compute_signals(const std::vector<Stored>& events, const Pins& pins, TimeMs as_of) {
  struct Window {
    const char* name;
    TimeMs from;
  };
  auto windows = [&](std::initializer_list<std::pair<const char*, TimeMs>> list) {
    std::vector<Window> out;
    for (auto [name, length] : list) out.push_back({name, window_from(as_of, length)});
    return out;
  };
  const auto cc_windows = windows({{"1h", kHourMs},
                                   {"1d", kDayMs},
                                   {"7d", 7 * kDayMs},
                                   {"30d", 30 * kDayMs},
                                   {"90d", 90 * kDayMs}});
  const auto save_windows = windows({{"1d", kDayMs}, {"7d", 7 * kDayMs}, {"90d", 90 * kDayMs}});
  const auto distinct_windows = windows({{"1d", kDayMs}, {"30d", 30 * kDayMs}});
  const auto mean_windows = windows({{"1d", kDayMs}, {"7d", 7 * kDayMs}, {"90d", 90 * kDayMs}});
  const auto price_windows = windows({{"7d", 7 * kDayMs}, {"90d", 90 * kDayMs}});

  std::vector<std::map<std::string, double>> category_counts(cc_windows.size());
  std::vector<double> saves(save_windows.size()), purchases(price_windows.size());
  std::vector<std::set<std::string_view>> distinct(distinct_windows.size());
  std::vector<std::vector<double>> mean_sum(mean_windows.size());
  std::vector<double> mean_weight(mean_windows.size());
  std::map<std::string, double> affinity;
  struct Recent {
    std::string_view value, event_id;
    TimeMs ts;
  };
  std::unordered_map<std::string_view, Recent> newest;

  for (const Stored& e : events) {
    if (e.ts > as_of) continue;
    const Pin* pin = nullptr;
    if (!e.item.empty()) {
      auto it = pins.find(std::string(e.item));
      if (it != pins.end()) pin = &it->second;
      auto [at, inserted] = newest.try_emplace(e.item, Recent{e.item, e.event_id, e.ts});
      if (!inserted &&
          (e.ts > at->second.ts || (e.ts == at->second.ts && e.event_id > at->second.event_id)))
        at->second = Recent{e.item, e.event_id, e.ts};
    }
    for (std::size_t w = 0; w < cc_windows.size(); ++w)
      if (pin && e.ts >= cc_windows[w].from)
        for (const auto& c : pin->categories) category_counts[w][c] += 1;
    if (e.action == "save")
      for (std::size_t w = 0; w < save_windows.size(); ++w)
        saves[w] += e.ts >= save_windows[w].from;
    if (e.action == "purchase" && e.has_price)
      for (std::size_t w = 0; w < price_windows.size(); ++w)
        if (e.ts >= price_windows[w].from) purchases[w] += e.price;
    if (!e.item.empty())
      for (std::size_t w = 0; w < distinct_windows.size(); ++w)
        if (e.ts >= distinct_windows[w].from) distinct[w].insert(e.item);
    if (pin && !pin->embedding.empty())
      for (std::size_t w = 0; w < mean_windows.size(); ++w) {
        if (e.ts < mean_windows[w].from) continue;
        auto& sum = mean_sum[w];
        if (sum.empty()) sum.assign(pin->embedding.size(), 0.0);
        if (sum.size() != pin->embedding.size()) continue;
        for (std::size_t d = 0; d < sum.size(); ++d) sum[d] += pin->embedding[d];
        mean_weight[w] += 1;
      }
    double weight = e.action == "save" ? 3 : e.action == "click" ? 1 : 0;
    if (pin && weight != 0) {
      double decay =
          std::exp2(-static_cast<double>(as_of - e.ts) / static_cast<double>(7 * kDayMs));
      for (const auto& c : pin->categories) affinity[c] += weight * decay;
    }
  }

  Value::Object signals;
  Value::Object cc, sv, dp, pe, pv;
  for (std::size_t w = 0; w < cc_windows.size(); ++w)
    cc.emplace_back(cc_windows[w].name, counts_object(category_counts[w]));
  for (std::size_t w = 0; w < save_windows.size(); ++w)
    sv.emplace_back(save_windows[w].name, Value(saves[w]));
  for (std::size_t w = 0; w < distinct_windows.size(); ++w)
    dp.emplace_back(distinct_windows[w].name, Value(static_cast<double>(distinct[w].size())));
  for (std::size_t w = 0; w < mean_windows.size(); ++w) {
    if (mean_weight[w] == 0) {
      pe.emplace_back(mean_windows[w].name, Value());
      continue;
    }
    Value::Array mean;
    for (double x : mean_sum[w]) mean.emplace_back(x / mean_weight[w]);
    pe.emplace_back(mean_windows[w].name, Value(std::move(mean)));
  }
  for (std::size_t w = 0; w < price_windows.size(); ++w)
    pv.emplace_back(price_windows[w].name, Value(purchases[w]));

  std::vector<Recent> recent;
  for (const auto& [item, r] : newest) recent.push_back(r);
  std::sort(recent.begin(), recent.end(), [](const Recent& a, const Recent& b) {
    if (a.ts != b.ts) return a.ts > b.ts;
    if (a.event_id != b.event_id) return a.event_id > b.event_id;
    return a.value < b.value;
  });
  if (recent.size() > 50) recent.resize(50);
  Value::Array recent_list, session;
  for (std::size_t i = 0; i < recent.size(); ++i) {
    Value entry(
        Value::Object{{"value", Value(std::string(recent[i].value))}, {"ts", Value(recent[i].ts)}});
    recent_list.push_back(entry);
    if (i == 0 || recent[i - 1].ts - recent[i].ts <= 30 * signalbox::kMinuteMs) {
      if (session.size() == i) session.push_back(entry);
    }
  }

  signals.emplace_back("category_counts", Value(std::move(cc)));
  signals.emplace_back("saves", Value(std::move(sv)));
  signals.emplace_back("category_affinity", counts_object(affinity));
  signals.emplace_back("recent_pins", Value(std::move(recent_list)));
  signals.emplace_back("distinct_pins", Value(std::move(dp)));
  signals.emplace_back("pin_embedding", Value(std::move(pe)));
  signals.emplace_back("purchases_value", Value(std::move(pv)));

  // Views: top 5 of the 7-day counts, the 30-day mix, the newest session of recent pins.
  std::vector<std::pair<std::string, double>> top(category_counts[2].begin(),
                                                  category_counts[2].end());
  std::erase_if(top, [](const auto& kv) { return kv.second == 0; });
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (top.size() > 5) top.resize(5);
  Value::Array top_list;
  for (const auto& [k, v] : top)
    top_list.emplace_back(Value::Object{{"key", Value(k)}, {"value", Value(v)}});
  signals.emplace_back("top_categories_7d", Value(std::move(top_list)));
  double total = 0;
  for (const auto& [k, v] : category_counts[3]) total += v;
  Value::Object mix;
  if (total != 0)
    for (const auto& [k, v] : category_counts[3])
      if (v != 0) mix.emplace_back(k, Value(v / total));
  signals.emplace_back("category_mix_30d", Value(std::move(mix)));
  signals.emplace_back("last_session_pins", Value(std::move(session)));
  return Value(std::move(signals));
}

// One request of the baseline: fetch the user's events, compute, serialise the answer.
std::string answer(RedisContext& redis, std::uint64_t user, const Pins& pins, TimeMs as_of,
                   Value* signals_out) {
  std::string key = fmt::format("u:{}", user);
  std::string to = fmt::format("{}", as_of);
  const char* argv[] = {"ZRANGEBYSCORE", key.c_str(), "-inf", to.c_str()};
  const std::size_t lens[] = {13, key.size(), 4, to.size()};
  redisAppendCommandArgv(redis.c, 4, argv, lens);
  redisReply* reply = redis.reply();
  std::vector<Stored> events;
  events.reserve(reply->elements);
  for (std::size_t i = 0; i < reply->elements; ++i)
    events.push_back(
        parse_member(std::string_view(reply->element[i]->str, reply->element[i]->len)));
  Value signals = compute_signals(events, pins, as_of);
  Value out(Value::Object{{"user_id", Value(user)}, {"as_of", Value(as_of)}, {"signals", signals}});
  std::string json = out.to_json();
  freeReplyObject(reply);  // after computing: the parsed members point into it
  if (signals_out) *signals_out = std::move(signals);
  return json;
}

std::vector<std::uint64_t> read_users(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read " + path);
  std::vector<std::uint64_t> users;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) users.push_back(std::stoull(line));
  if (users.empty()) fail(path + " names no users");
  return users;
}

int run_query(const Args& args) {
  const int port = static_cast<int>(args.number("--port", 0));
  const Pins pins = load_pins(args.required("--pins"));
  const auto users = read_users(args.required("--users"));
  const auto as_of = static_cast<TimeMs>(args.number("--as-of", 0));
  const double duration = args.number("--duration", 5);
  const double warmup = args.number("--warmup", std::min(1.0, duration / 5));
  const auto threads = static_cast<unsigned>(std::max(1.0, args.number("--threads", 4)));
  const auto record_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(warmup));
  const auto end = record_from + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(duration));
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<std::size_t> bytes{0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      RedisContext redis(port);
      for (std::size_t i = t * users.size() / threads;; i += 7919) {
        auto sent = Clock::now();
        if (sent >= end) break;
        bytes += answer(redis, users[i % users.size()], pins, as_of, nullptr).size();
        if (sent >= record_from)
          latencies[t].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  append_metrics(args, args.get("--label", "redis_query"),
                 {{"rps", static_cast<double>(all.size()) / duration},
                  {"p50_us", pct(0.5)},
                  {"p99_us", pct(0.99)},
                  {"p999_us", pct(0.999)},
                  {"requests", static_cast<double>(all.size())},
                  {"connections", threads}});
  return all.empty() ? 1 : 0;
}

// --- check -----------------------------------------------------------------------------------

Value from_json(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      Value::Object o;
      for (auto field : e.get_object())
        o.emplace_back(std::string(field.key), from_json(field.value));
      return Value(std::move(o));
    }
    case simdjson::dom::element_type::ARRAY: {
      Value::Array a;
      for (auto x : e.get_array()) a.push_back(from_json(x));
      return Value(std::move(a));
    }
    case simdjson::dom::element_type::STRING:
      return Value(std::string(std::string_view(e.get_string())));
    case simdjson::dom::element_type::INT64:
      return Value(static_cast<std::int64_t>(e.get_int64()));
    case simdjson::dom::element_type::UINT64:
      return Value(static_cast<std::uint64_t>(e.get_uint64()));
    case simdjson::dom::element_type::DOUBLE:
      return Value(static_cast<double>(e.get_double()));
    case simdjson::dom::element_type::BOOL:
      return Value(static_cast<bool>(e.get_bool()));
    default:
      return Value();
  }
}

// Equal within `tolerance` relative (numbers), recursively.
bool same(const Value& a, const Value& b, double tolerance) {
  if (a.is_number() && b.is_number())
    return std::abs(a.number() - b.number()) <=
           tolerance * std::max({1.0, std::abs(a.number()), std::abs(b.number())});
  if (a.is_object() && b.is_object()) {
    if (a.object().size() != b.object().size()) return false;
    for (std::size_t i = 0; i < a.object().size(); ++i)
      if (a.object()[i].first != b.object()[i].first ||
          !same(a.object()[i].second, b.object()[i].second, tolerance))
        return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.array().size() != b.array().size()) return false;
    for (std::size_t i = 0; i < a.array().size(); ++i)
      if (!same(a.array()[i], b.array()[i], tolerance)) return false;
    return true;
  }
  return a == b;
}

int run_check(const Args& args) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  RedisContext redis(static_cast<int>(args.number("--port", 0)));
  const Pins pins = load_pins(args.required("--pins"));
  auto users = read_users(args.required("--users"));
  const auto as_of = static_cast<TimeMs>(args.number("--as-of", 0));
  const auto sample = static_cast<std::size_t>(args.number("--sample", 50));
  if (users.size() > sample) users.resize(sample);
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.connect(
      asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(),
                              static_cast<unsigned short>(args.number("--signalbox-port", 0))));
  boost::beast::flat_buffer buffer;
  simdjson::dom::parser parser;
  // Exact: counts, sums, top-k, recent lists. Distinct counts: exact up to 1000 in Signalbox,
  // a HyperLogLog estimate above (checked within 3 %). Decayed counts, means, mixes: 1e-6.
  const std::map<std::string, double> tolerance = {
      {"category_counts", 1e-9},   {"saves", 1e-9},         {"purchases_value", 1e-9},
      {"top_categories_7d", 1e-9}, {"recent_pins", 0},      {"last_session_pins", 0},
      {"category_affinity", 1e-6}, {"pin_embedding", 1e-6}, {"category_mix_30d", 1e-6},
      {"distinct_pins", 0.03}};
  std::map<std::string, std::size_t> differ;
  std::size_t compared = 0;
  for (std::uint64_t user : users) {
    http::request<http::empty_body> request(
        http::verb::get, fmt::format("/v1/users/{}/signals?as_of={}", user, as_of), 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result_int() != 200)
      fail(fmt::format("signalbox answered {}: {}", response.result_int(), response.body()));
    Value theirs = from_json(parser.parse(response.body()).value());
    Value ours;
    answer(redis, user, pins, as_of, &ours);
    const Value* their_signals = theirs.find("signals");
    if (!their_signals) fail("signalbox's answer has no \"signals\": " + response.body());
    for (const auto& [name, value] : ours.object()) {
      const Value* other = their_signals->find(name);
      if (!other || !same(value, *other, tolerance.at(name))) {
        if (differ[name]++ == 0)
          fmt::print(
              stderr,
              "redis_baseline: user {} signal {} differs:\n  redis:     {}\n  signalbox: {}\n",
              user, name, value.to_json().substr(0, 600),
              other ? other->to_json().substr(0, 600) : "(missing)");
      }
    }
    ++compared;
  }
  std::vector<std::pair<std::string, double>> kv = {{"users", static_cast<double>(compared)}};
  std::size_t total = 0;
  for (const auto& [name, n] : differ) total += n;
  kv.emplace_back("differing_answers", static_cast<double>(total));
  append_metrics(args, args.get("--label", "redis_check"), kv);
  return total ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help") {
    fmt::print(
        "usage: redis_baseline load|query|check [options] (see the comment at the top of "
        "bench/redis_baseline.cc)\n");
    return argc < 2 ? 2 : 0;
  }
  Args args;
  for (int i = 2; i + 1 < argc; i += 2) args.values[argv[i]] = argv[i + 1];
  if (argc % 2 != 0) fail(fmt::format("{} needs a value", argv[argc - 1]));
  std::string mode = argv[1];
  try {
    if (mode == "load") return run_load(args);
    if (mode == "query") return run_query(args);
    if (mode == "check") return run_check(args);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  fail("unknown mode " + mode);
}
