// `signalbox serve` with HTTP and gRPC end to end: the real binary on loopback ports, read
// through the C++ client library. Every signal and view answered over gRPC equals the HTTP
// answer; errors get the documented status codes; reflection lists the service; SIGTERM
// stops gRPC too.

#include <cmath>
#include <set>
#include <thread>

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "analytics_signals.h"
#include "reflection_subset.grpc.pb.h"
#include "server_process.h"
#include "signalbox/client.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

const std::vector<std::string> kWindows = {"1h", "1d", "3d", "10d", "40d"};

// A World served over HTTP and gRPC on free loopback ports; `customize` may add signals and
// views to its config first.
struct Served {
  explicit Served(std::size_t max_body_bytes = 16 * 1024 * 1024,
                  const std::function<void(World&)>& customize = {})
      : world(3 * kDayMs, kWindows), http_port(free_port()), grpc_port(free_port()) {
    if (customize) customize(world);
    std::string yaml = config_yaml(world.config, http_port, max_body_bytes);
    std::string http = fmt::format("http: 127.0.0.1:{},", http_port);
    std::size_t at = yaml.find(http);
    if (at == std::string::npos) throw std::runtime_error("unexpected config: " + yaml);
    yaml.insert(at + http.size(), fmt::format(" grpc: 127.0.0.1:{},", grpc_port));
    std::ofstream(world.config.file) << yaml;
    server =
        std::make_unique<ServerProcess>(world.config.file, http_port, world.dir() / "serve.log");
  }
  std::string grpc_target() const { return fmt::format("127.0.0.1:{}", grpc_port); }

  World world;
  std::uint16_t http_port;
  std::uint16_t grpc_port;
  std::unique_ptr<ServerProcess> server;
};

ClientEvent client_event(const Event& e) {
  ClientEvent out;
  out.user_id = e.user_id;
  out.ts = e.ts;
  out.action = e.action;
  out.event_id = e.event_id;
  out.item_id = e.item_id;
  out.query = e.query;
  for (const auto& [name, value] : e.attrs) out.attrs[name] = value;
  return out;
}

Value as_value(const SequenceField& field);

// A typed result as the JSON Value the HTTP API answers for it.
Value as_value(const SignalValue& v) {
  return std::visit(
      [](const auto& data) -> Value {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return Value();
        } else if constexpr (std::is_same_v<T, double>) {
          return Value(data);
        } else if constexpr (std::is_same_v<T, std::map<std::string, double>>) {
          Value::Object o;
          for (const auto& [key, number] : data) o.emplace_back(key, Value(number));
          return Value(std::move(o));
        } else if constexpr (std::is_same_v<T, std::vector<RecentValue>>) {
          Value::Array a;
          for (const RecentValue& r : data)
            a.emplace_back(Value::Object{{"value", Value(r.value)}, {"ts", Value(r.ts)}});
          return Value(std::move(a));
        } else if constexpr (std::is_same_v<T, std::vector<RankedEntry>>) {
          Value::Array a;
          for (const RankedEntry& r : data)
            a.emplace_back(Value::Object{{"key", Value(r.key)}, {"value", Value(r.value)}});
          return Value(std::move(a));
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          Value::Array a;
          for (double d : data) a.emplace_back(d);
          return Value(std::move(a));
        } else if constexpr (std::is_same_v<T, Sequence>) {
          Value::Array a;
          for (const auto& entry : data.entries) {
            Value::Object o;
            for (std::size_t i = 0; i < data.fields.size(); ++i)
              o.emplace_back(data.fields[i], as_value(entry.at(i)));
            a.emplace_back(std::move(o));
          }
          return Value(std::move(a));
        } else if constexpr (std::is_same_v<T, Label>) {
          return Value(data.text);
        } else {
          return parse_json(data.text);
        }
      },
      v.data());
}

// A sequence field as JSON answers it: a float of a vector as the shortest decimal that
// reads back as it.
Value as_value(const SequenceField& field) {
  return std::visit(
      [](const auto& data) -> Value {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return Value();
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return Value(Value::Array(data.begin(), data.end()));
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          Value::Array a;
          for (float x : data) a.emplace_back(std::strtod(fmt::format("{}", x).c_str(), nullptr));
          return Value(std::move(a));
        } else {
          return Value(data);
        }
      },
      field);
}

Value as_value(const UserSignals& user) {
  Value::Object signals;
  for (const SignalResult& s : user.signals) {
    if (!s.windowed) {
      signals.emplace_back(s.name, as_value(s.value));
      continue;
    }
    Value::Object windows;
    for (const auto& [window, v] : s.windows) windows.emplace_back(window, as_value(v));
    signals.emplace_back(s.name, Value(std::move(windows)));
  }
  Value::Object answer{{"user_id", Value(user.user_id)}, {"as_of", Value(user.as_of)}};
  if (user.seen) answer.emplace_back("seen", Value(*user.seen));
  answer.emplace_back("signals", Value(std::move(signals)));
  return Value(std::move(answer));
}

// An HTTP answer without its as_of_iso, which the gRPC answer has no field for (its as_of is
// the same instant in milliseconds).
Value without_iso(const Value& http_answer) {
  Value::Object out;
  for (const auto& [key, value] : http_answer.object())
    if (key != "as_of_iso") out.emplace_back(key, value);
  return Value(std::move(out));
}

// "" when equal: numbers by value (both sides carry the same double), objects and arrays in
// order; otherwise where they first differ.
std::string difference(const Value& a, const Value& b, const std::string& path = "") {
  if (a.is_number() || b.is_number()) {
    if (a.is_number() && b.is_number() && a.number() == b.number()) return "";
    return fmt::format("{}: {} vs {}", path, a.to_json(), b.to_json());
  }
  if (a.is_object() && b.is_object()) {
    if (a.object().size() != b.object().size())
      return fmt::format("{}: {} vs {}", path, a.to_json(), b.to_json());
    for (std::size_t i = 0; i < a.object().size(); ++i) {
      const auto& [ka, va] = a.object()[i];
      const auto& [kb, vb] = b.object()[i];
      if (ka != kb) return fmt::format("{}: key {} vs {}", path, ka, kb);
      if (std::string d = difference(va, vb, path + "." + ka); !d.empty()) return d;
    }
    return "";
  }
  if (a.is_array() && b.is_array()) {
    if (a.array().size() != b.array().size())
      return fmt::format("{}: {} vs {}", path, a.to_json(), b.to_json());
    for (std::size_t i = 0; i < a.array().size(); ++i)
      if (std::string d = difference(a.array()[i], b.array()[i], fmt::format("{}[{}]", path, i));
          !d.empty())
        return d;
    return "";
  }
  return a == b ? "" : fmt::format("{}: {} vs {}", path, a.to_json(), b.to_json());
}

// Counts the typed shapes met, so the comparison is known to have covered each.
struct Shapes {
  std::set<std::string> seen;
  void add(const SignalValue& v) {
    if (v.is_number()) seen.insert("number");
    if (v.is_map() && !v.map().empty()) seen.insert("map");
    if (v.is_recent() && !v.recent().empty()) seen.insert("recent");
    if (v.is_ranked() && !v.ranked().empty()) seen.insert("ranked");
    if (v.is_vector() && !v.vector().empty()) seen.insert("vector");
    if (v.is_null()) seen.insert("null");
    if (v.is_json()) seen.insert("json");
  }
  void add(const UserSignals& user) {
    for (const SignalResult& s : user.signals) {
      add(s.value);
      for (const auto& [window, v] : s.windows) add(v);
    }
  }
};

TEST(GrpcEndToEnd, EverySignalAndViewMatchesHttp) {
  Served s;
  HttpClient http(s.http_port);
  ClientOptions options;
  options.max_events_per_call = 300;  // several IngestEvents calls
  options.max_users_per_call = 4;     // several BatchGetSignals calls
  Client client(s.grpc_target(), options);

  const std::size_t users = 20;
  std::vector<Event> events = generate(s.world, 4000, users, 6 * kMinuteMs, 3 * kHourMs, true);
  // The first half over HTTP (with invalid events), the second over gRPC: both feed the same
  // engine. The reference decides on its own what each call must reject.
  AcceptedEvents accepted(s.world);
  std::size_t half = events.size() / 2;
  const std::vector<std::string> first =
      with_invalid(s.world, {events.begin(), events.begin() + half}, 100);
  HttpAnswer posted = http.post("/v1/events", texts_body(first, false));
  ASSERT_EQ(accepted.record(first, posted), "");
  const std::size_t invalid = accepted.invalid_total;
  EXPECT_GT(invalid, 0u);
  // One IngestEvents call per 300 events (max_events_per_call), each a batch of its own.
  for (std::size_t at = half; at < events.size(); at += options.max_events_per_call) {
    std::vector<Event> call(
        events.begin() + at,
        events.begin() + std::min(events.size(), at + options.max_events_per_call));
    std::vector<ClientEvent> second;
    for (const Event& e : call) second.push_back(client_event(e));
    IngestSummary summary = client.ingest(second);
    ASSERT_EQ(summary.errors.size(), summary.rejected) << "fewer than 100 per call: all listed";
    ASSERT_EQ(accepted.record(as_texts(call), {summary.errors, summary.rejected, summary.accepted,
                                               summary.duplicates}),
              "");
  }
  EXPECT_GT(accepted.duplicates_total, 0u) << "the stream repeats events";
  EXPECT_GT(accepted.late_total, 0u) << "the stream holds events beyond the retention horizon";
  EXPECT_EQ(accepted.invalid_total, invalid)
      << "gRPC events are structured: only late ones are refused";

  TimeMs head = 0;
  for (const Event& e : events) head = std::max(head, e.ts);
  std::vector<std::uint64_t> sample;
  for (std::uint64_t u = 1000; u < 1000 + users; u += 2) sample.push_back(u);
  sample.push_back(999999);  // never seen: zeros and empty lists

  const std::vector<std::string> all_names = {
      "category_counts", "saves", "purchase_value", "affinity", "recent_items",
      "distinct_items",  "taste", "all_clicks",     "top3",     "mix",
      "session"};
  Shapes shapes;
  std::size_t checks = 0;
  for (TimeMs as_of : {head, head - 20 * kMinuteMs - 12345, head + 2 * kDayMs}) {
    std::vector<UserSignals> batch = client.get_signals(sample, {}, as_of);
    ASSERT_EQ(batch.size(), sample.size());
    HttpAnswer batch_http = http.post(
        "/v1/signals:batchGet",
        fmt::format(R"({{"user_ids": [{}], "as_of": {}}})", fmt::join(sample, ","), as_of));
    ASSERT_EQ(batch_http.status, 200) << batch_http.body;
    Value batch_json = batch_http.json();
    const Value::Array& batch_expected = batch_json.find("results")->array();
    for (std::size_t i = 0; i < sample.size(); ++i) {
      HttpAnswer answer = http.get(fmt::format("/v1/users/{}/signals?as_of={}", sample[i], as_of));
      ASSERT_EQ(answer.status, 200) << answer.body;
      EXPECT_EQ(diff(s.world.served(accepted.events(), sample[i], as_of), answer.json(), 1e-9), "")
          << "user " << sample[i];
      Value expected = without_iso(answer.json());
      UserSignals one = client.get_signals(sample[i], {}, as_of);
      std::set<std::string> names;
      for (const SignalResult& r : one.signals) names.insert(r.name);
      EXPECT_EQ(names, std::set<std::string>(all_names.begin(), all_names.end()));
      EXPECT_EQ(difference(as_value(one), expected), "") << "user " << sample[i];
      // Seen: some event of the user was sent (each user sends about a hundred, so some are
      // on time); 999999 sent none.
      const bool sent = std::any_of(events.begin(), events.end(),
                                    [&](const Event& e) { return e.user_id == sample[i]; });
      ASSERT_TRUE(one.seen.has_value()) << "the server reports seen";
      EXPECT_EQ(*one.seen, sent) << "user " << sample[i];
      ASSERT_TRUE(batch[i].seen.has_value());
      EXPECT_EQ(*batch[i].seen, sent) << "batch user " << sample[i];
      EXPECT_EQ(difference(as_value(batch[i]), without_iso(batch_expected[i])), "")
          << "batch user " << sample[i];
      shapes.add(one);
      for (const SignalResult& r : one.signals) {
        EXPECT_FALSE(r.value.is_json()) << r.name << ": a built-in answers a typed result";
        EXPECT_EQ(r.windowed, r.name == "category_counts" || r.name == "saves" ||
                                  r.name == "purchase_value" || r.name == "distinct_items" ||
                                  r.name == "taste")
            << r.name;
      }
      checks += 2;
    }
  }
  EXPECT_EQ(shapes.seen,
            (std::set<std::string>{"number", "map", "recent", "ranked", "vector", "null"}));
  EXPECT_GT(checks, 60u);

  // A subset of names, in the order asked, with a repeat answered once.
  std::vector<std::string> some = {"session", "top3", "saves", "top3"};
  UserSignals subset = client.get_signals(1000, some, head);
  ASSERT_EQ(subset.signals.size(), 3u);
  EXPECT_EQ(subset.signals[0].name, "session");
  EXPECT_EQ(subset.signals[1].name, "top3");
  EXPECT_EQ(subset.signals[2].name, "saves");
  HttpAnswer subset_http =
      http.get(fmt::format("/v1/users/1000/signals?as_of={}&names=session,top3,saves", head));
  EXPECT_EQ(difference(as_value(subset), without_iso(subset_http.json())), "");
  ASSERT_NE(subset.find("saves"), nullptr);
  ASSERT_NE(subset.find("saves")->window("1d"), nullptr);
  EXPECT_TRUE(subset.find("saves")->window("1d")->is_number());

  // Without as_of, one batched read spanning several calls is as of one time.
  std::vector<UserSignals> now = client.get_signals(sample);
  ASSERT_EQ(now.size(), sample.size());
  for (const UserSignals& u : now) EXPECT_EQ(u.as_of, now.front().as_of);
}

void strip_null_quantiles(const Config& config, Value::Object& signals);

// An HTTP answer as gRPC carries it: a quantile over no events (null in JSON) is left out of
// its map.
Value without_null_quantiles(const Config& config, Value answer) {
  for (auto& [key, member] : answer.object()) {
    if (key == "signals") strip_null_quantiles(config, member.object());
  }
  return answer;
}

void strip_null_quantiles(const Config& config, Value::Object& signals) {
  for (auto& member : signals) {
    const std::string& name = member.first;  // captured below: not a structured binding
    Value& result = member.second;
    auto signal = std::find_if(config.signals.begin(), config.signals.end(),
                               [&](const SignalConfig& c) { return c.name == name; });
    if (signal == config.signals.end() || signal->aggregator != "quantile") continue;
    std::vector<Value*> parts = {&result};
    if (!signal->windows.empty()) {
      parts.clear();
      for (auto& [window, part] : result.object()) parts.push_back(&part);
    }
    for (Value* part : parts) {
      Value::Object kept;
      for (auto& [q, v] : part->object())
        if (!v.is_null()) kept.emplace_back(q, v);
      *part = Value(std::move(kept));
    }
  }
}

// The statistics, sequence and sketch aggregators and the ratio and bucketize views: typed
// over gRPC (sequences field by field), equal to the HTTP answers.
TEST(GrpcEndToEnd, AnalyticsSignalsMatchHttp) {
  Served s(16 * 1024 * 1024, [](World& world) {
    add_numeric_summary_signals(world, {"1d", "10d"});
    add_sequence_signals(world, {"1h", "40d"});
    add_sketch_signals(world, {"1d", "40d"});
    add_analytics_views(world);
  });
  HttpClient http(s.http_port);
  Client client(s.grpc_target());
  const std::size_t users = 6;
  std::vector<Event> events = generate(s.world, 3000, users, 6 * kMinuteMs, 3 * kHourMs, true);
  HttpAnswer posted = http.post("/v1/events", events_body(events, false));
  ASSERT_EQ(posted.status, 200) << posted.body;
  TimeMs head = 0;
  for (const Event& e : events) head = std::max(head, e.ts);
  std::set<std::string> kinds;
  for (std::uint64_t user = 1000; user < 1000 + users; ++user) {
    HttpAnswer answer = http.get(fmt::format("/v1/users/{}/signals?as_of={}", user, head));
    ASSERT_EQ(answer.status, 200) << answer.body;
    UserSignals typed = client.get_signals(user, {}, head);
    EXPECT_EQ(difference(as_value(typed),
                         without_null_quantiles(s.world.config, without_iso(answer.json()))),
              "")
        << "user " << user;
    for (const SignalResult& r : typed.signals) {
      std::vector<const SignalValue*> values = {&r.value};
      for (const auto& [window, v] : r.windows) values.push_back(&v);
      for (const SignalValue* v : values) {
        EXPECT_FALSE(v->is_json()) << r.name << ": a built-in answers a typed result";
        if (v->is_sequence() && !v->sequence().entries.empty()) kinds.insert("sequence");
        if (v->is_label()) kinds.insert("label");
      }
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"sequence", "label"}));
  // A sequence's vectors arrive as float32 tensors' rows.
  UserSignals one = client.get_signals(1000, {"history"}, head);
  const SignalValue* window = one.find("history")->window("40d");
  ASSERT_NE(window, nullptr);
  ASSERT_TRUE(window->is_sequence());
  const Sequence& history = window->sequence();
  ASSERT_EQ(history.fields.at(4), "pin.embedding");
  std::size_t vectors = 0;
  for (const auto& entry : history.entries)
    if (const auto* v = std::get_if<std::vector<float>>(&entry.at(4))) vectors += v->size() == 4;
  EXPECT_GT(vectors, 0u);
}

TEST(GrpcEndToEnd, ListSignalsMatchesHttp) {
  Served s;
  HttpClient http(s.http_port);
  Client client(s.grpc_target());
  SignalCatalog catalog = client.list_signals();
  Value expected = http.get("/v1/signals").json();
  const Value::Array& signals = expected.find("signals")->array();
  const Value::Array& views = expected.find("views")->array();
  ASSERT_EQ(catalog.signals.size(), signals.size());
  ASSERT_EQ(catalog.views.size(), views.size());
  auto text = [](const Value& o, const char* key) {
    const Value* v = o.find(key);
    return v ? v->string() : std::string();
  };
  auto params = [](const Value& o) {
    std::map<std::string, std::string> out;
    if (const Value* p = o.find("params"))
      for (const auto& [key, value] : p->object()) out[key] = value.string();
    return out;
  };
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const SignalInfo& got = catalog.signals[i];
    const Value& want = signals[i];
    EXPECT_EQ(got.name, text(want, "name"));
    EXPECT_EQ(got.aggregator, text(want, "aggregator"));
    EXPECT_EQ(got.group_by, text(want, "group_by"));
    EXPECT_EQ(got.value, text(want, "value"));
    std::vector<std::pair<std::string, double>> actions;
    if (const Value* a = want.find("actions"))
      for (const auto& [action, weight] : a->object())
        actions.emplace_back(action, weight.number());
    EXPECT_EQ(got.actions, actions) << got.name;
    std::vector<std::string> windows;
    if (const Value* w = want.find("windows"))
      for (const Value& window : w->array()) windows.push_back(window.string());
    EXPECT_EQ(got.windows, windows) << got.name;
    EXPECT_EQ(got.params, params(want)) << got.name;
  }
  for (std::size_t i = 0; i < views.size(); ++i) {
    const ViewInfo& got = catalog.views[i];
    EXPECT_EQ(got.name, text(views[i], "name"));
    EXPECT_EQ(got.signal, text(views[i], "signal"));
    EXPECT_EQ(got.window, text(views[i], "window"));
    EXPECT_EQ(got.transform, text(views[i], "transform"));
    EXPECT_EQ(got.params, params(views[i])) << got.name;
  }
  EXPECT_EQ(catalog.signals.front().name, "category_counts");
  EXPECT_EQ(catalog.views.back().transform, "last_session");
}

// Calls `f`, which must throw RpcError; returns it.
template <typename F>
RpcError rpc_error(F&& f) {
  try {
    f();
  } catch (const RpcError& e) {
    return e;
  }
  ADD_FAILURE() << "no RpcError thrown";
  return RpcError(StatusCode::kOk, "");
}

TEST(GrpcEndToEnd, BadEventsAreListedWithTheSameMessagesAsHttp) {
  Served s;
  HttpClient http(s.http_port);
  Client client(s.grpc_target());
  const TimeMs ts = kStart;
  auto good = [&](std::string id) {
    ClientEvent e;
    e.user_id = 7;
    e.ts = ts;
    e.action = "click";
    e.event_id = std::move(id);
    e.item_id = "p1";
    return e;
  };
  std::vector<ClientEvent> events;
  std::vector<std::string> json;  // the same events as JSON, for HTTP
  events.push_back(good("g1"));
  json.push_back(
      R"({"user_id":7,"ts":1704067200000,"action":"click","event_id":"h1","item_id":"p1"})");
  ClientEvent bad_action = good("b1");
  bad_action.action = "Click!";
  events.push_back(bad_action);
  json.push_back(
      R"({"user_id":7,"ts":1704067200000,"action":"Click!","event_id":"hb1","item_id":"p1"})");
  ClientEvent no_ts = good("b2");
  no_ts.ts.reset();
  events.push_back(no_ts);
  json.push_back(R"({"user_id":7,"action":"click","event_id":"hb2","item_id":"p1"})");
  ClientEvent no_user = good("b3");
  no_user.user_id.reset();
  events.push_back(no_user);
  json.push_back(R"({"ts":1704067200000,"action":"click","event_id":"hb3","item_id":"p1"})");
  ClientEvent long_item = good("b4");
  long_item.item_id = std::string(300, 'x');
  events.push_back(long_item);
  json.push_back(fmt::format(
      R"({{"user_id":7,"ts":1704067200000,"action":"click","event_id":"hb4","item_id":"{}"}})",
      std::string(300, 'x')));
  ClientEvent empty_id = good("");
  events.push_back(empty_id);
  json.push_back(
      R"({"user_id":7,"ts":1704067200000,"action":"click","event_id":"","item_id":"p1"})");
  ClientEvent many_attrs = good("b6");
  std::string attrs_json;
  for (int i = 0; i < 33; ++i) {
    many_attrs.attrs[fmt::format("a{:02}", i)] = static_cast<double>(i);
    attrs_json += fmt::format("{}\"a{:02}\":{}", i ? "," : "", i, i);
  }
  events.push_back(many_attrs);
  json.push_back(fmt::format(
      R"({{"user_id":7,"ts":1704067200000,"action":"click","event_id":"hb6","attrs":{{{}}}}})",
      attrs_json));
  ClientEvent future = good("b7");
  future.ts = wall_clock_ms() + 2 * kHourMs;
  events.push_back(future);
  json.push_back(fmt::format(R"({{"user_id":7,"ts":{},"action":"click","event_id":"hb7"}})",
                             wall_clock_ms() + 2 * kHourMs));
  events.push_back(good("g2"));
  json.push_back(
      R"({"user_id":7,"ts":1704067200000,"action":"click","event_id":"h2","item_id":"p1"})");

  IngestSummary summary = client.ingest(events);
  EXPECT_EQ(summary.accepted, 2u);
  EXPECT_EQ(summary.rejected, events.size() - 2);
  HttpAnswer answer = http.post("/v1/events", fmt::format("{}", fmt::join(json, "\n")));
  ASSERT_EQ(answer.status, 200) << answer.body;
  Value answer_json = answer.json();
  const Value::Array& http_errors = answer_json.find("errors")->array();
  ASSERT_EQ(summary.errors.size(), http_errors.size());
  for (std::size_t i = 0; i < http_errors.size(); ++i) {
    EXPECT_EQ(summary.errors[i].first, http_errors[i].find("index")->number());
    EXPECT_EQ(summary.errors[i].second, http_errors[i].find("error")->string());
  }
  std::vector<std::string> fields;
  for (const auto& [index, error] : summary.errors)
    fields.push_back(error.substr(0, error.find(':')));
  EXPECT_EQ(fields, (std::vector<std::string>{"action", "ts", "user_id", "item_id", "event_id",
                                              "attrs", "ts"}));

  // The two good events were taken: the user's all-history click count says 2 over gRPC and
  // HTTP's 2 more make 4.
  UserSignals user = client.get_signals(7, {"all_clicks"}, ts);
  ASSERT_EQ(user.signals.size(), 1u);
  EXPECT_EQ(user.signals[0].value.number(), 4);
}

TEST(GrpcEndToEnd, StatusCodes) {
  Served s(256 * 1024);  // max_body_bytes: also the gRPC message limit
  HttpClient http(s.http_port);
  ClientOptions options;
  options.max_users_per_call = 5000;  // let one call carry more than the server takes
  options.max_events_per_call = 10000;
  Client client(s.grpc_target(), options);

  // Unknown signal: INVALID_ARGUMENT with the engine's message, HTTP's 400 with the same.
  RpcError unknown = rpc_error([&] { client.get_signals(1, {"nope"}, kStart); });
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  HttpAnswer unknown_http =
      http.get(fmt::format("/v1/users/1/signals?as_of={}&names=nope", kStart));
  EXPECT_EQ(unknown_http.status, 400);
  EXPECT_EQ(unknown.message(), unknown_http.error());
  EXPECT_NE(unknown.message().find("\"nope\""), std::string::npos) << unknown.message();

  RpcError bad_as_of = rpc_error([&] { client.get_signals(1, {}, -5); });
  EXPECT_EQ(bad_as_of.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_as_of.message().rfind("as_of:", 0), 0u) << bad_as_of.message();
  RpcError bad_batch_as_of =
      rpc_error([&] { client.get_signals(std::vector<std::uint64_t>{1}, {}, -5); });
  EXPECT_EQ(bad_batch_as_of.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_batch_as_of.message().rfind("as_of:", 0), 0u) << bad_batch_as_of.message();

  // Over the batch limit: INVALID_ARGUMENT (HTTP's 400), naming the limit.
  std::vector<std::uint64_t> many(1001);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = i;
  RpcError too_many = rpc_error([&] { client.get_signals(many, {}, kStart); });
  EXPECT_EQ(too_many.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.message(), "user_ids: at most 1000 user ids per request, got 1001");
  // At the limit it answers.
  many.pop_back();
  EXPECT_EQ(client.get_signals(many, {"saves"}, kStart).size(), 1000u);

  // A message over max_body_bytes: RESOURCE_EXHAUSTED, and none of its events taken.
  std::vector<ClientEvent> big;
  for (int i = 0; i < 400; ++i) {
    ClientEvent e;
    e.user_id = 55;
    e.ts = kStart;
    e.action = "search";
    e.event_id = fmt::format("big{}", i);
    e.query = std::string(1000, 'q');
    big.push_back(std::move(e));
  }
  RpcError too_big = rpc_error([&] { client.ingest(big); });
  EXPECT_EQ(too_big.code(), StatusCode::kResourceExhausted) << too_big.what();

  // A deadline already passed: DEADLINE_EXCEEDED, nothing ingested.
  std::vector<ClientEvent> small(big.begin(), big.begin() + 10);
  for (ClientEvent& e : small) {
    e.query.reset();
    e.action = "click";
  }
  RpcError expired =
      rpc_error([&] { client.ingest(small, CallOptions{std::chrono::milliseconds(-1000)}); });
  EXPECT_EQ(expired.code(), StatusCode::kDeadlineExceeded);
  // A deadline that passes while a long batch runs: DEADLINE_EXCEEDED.
  RpcError late = rpc_error(
      [&] { client.get_signals(many, {}, kStart, CallOptions{std::chrono::milliseconds(1)}); });
  EXPECT_EQ(late.code(), StatusCode::kDeadlineExceeded);
  auto clicks = [&] {
    Value v =
        http.get(fmt::format("/v1/users/55/signals?as_of={}&names=all_clicks", kStart)).json();
    return v.find("signals")->find("all_clicks")->number();
  };
  EXPECT_EQ(clicks(), 0) << "refused calls took no events";
  // With time to spare, the same events are taken.
  EXPECT_EQ(client.ingest(small).accepted, small.size());
  EXPECT_EQ(clicks(), 10);

  // The calls show in /metrics by method and code.
  std::string metrics = http.get("/metrics").body;
  EXPECT_NE(metrics.find(
                R"(signalbox_grpc_requests_total{method="GetSignals",code="INVALID_ARGUMENT"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          R"(signalbox_grpc_requests_total{method="BatchGetSignals",code="INVALID_ARGUMENT"} 2)"),
      std::string::npos);
  EXPECT_NE(metrics.find(R"(signalbox_grpc_requests_total{method="IngestEvents",code="OK"} 1)"),
            std::string::npos)
      << metrics.substr(metrics.find("signalbox_grpc_requests_total"), 1500);
  EXPECT_NE(metrics.find(R"(signalbox_grpc_request_duration_seconds_count{method="GetSignals"} 2)"),
            std::string::npos);

  // After SIGTERM: the process exits 0 and calls fail UNAVAILABLE.
  EXPECT_EQ(s.server->terminate(), 0) << s.server->log();
  RpcError stopped = rpc_error([&] { client.get_signals(1, {}, kStart); });
  EXPECT_EQ(stopped.code(), StatusCode::kUnavailable) << stopped.what();
}

TEST(GrpcEndToEnd, AddressIsLoggedAndCallsInFlightFinishOnStop) {
  Served s;
  // The server answers HTTP (which the fixture waits for) a moment before it logs its gRPC
  // address.
  const std::string listening = fmt::format("listening on grpc://127.0.0.1:{}", s.grpc_port);
  for (int i = 0; i < 100 && s.server->log().find(listening) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(s.server->log().find(listening), std::string::npos) << s.server->log();
  Client client(s.grpc_target());
  std::vector<ClientEvent> events;
  for (const Event& e : generate(s.world, 3000, 200, kMinuteMs, kHourMs, false))
    events.push_back(client_event(e));
  ASSERT_GT(client.ingest(events).accepted, 0u);

  // A batch long enough to be running when SIGTERM comes: it still gets its whole answer.
  std::vector<std::uint64_t> users;
  for (std::uint64_t u = 0; u < 1000; ++u) users.push_back(1000 + u % 200);
  ClientOptions one_call;
  one_call.max_users_per_call = 1000;
  Client batch_client(s.grpc_target(), one_call);
  batch_client.list_signals();  // connected, so the batch starts at once
  std::size_t answered = 0;
  std::string failure;
  std::thread batch([&] {
    try {
      answered = batch_client.get_signals(users, {}, kStart + 3000 * kMinuteMs).size();
    } catch (const RpcError& e) {
      failure = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  s.server->send_signal(SIGTERM);
  batch.join();
  EXPECT_EQ(failure, "") << s.server->log();
  EXPECT_EQ(answered, users.size());
  EXPECT_EQ(s.server->wait(std::chrono::seconds(60)), 0);
  RpcError after = rpc_error([&] { client.list_signals(); });
  EXPECT_EQ(after.code(), StatusCode::kUnavailable) << after.what();
}

TEST(GrpcEndToEnd, ReflectionListsTheService) {
  Served s;
  auto channel = grpc::CreateChannel(s.grpc_target(), grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);

  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> services;
  for (const auto& service : response.list_services_response().service())
    services.insert(service.name());
  EXPECT_TRUE(services.count("signalbox.v1.Signalbox"))
      << fmt::format("{}", fmt::join(services, ", "));

  // The descriptor a tool like grpcurl needs to build requests.
  request.set_file_containing_symbol("signalbox.v1.Signalbox");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "signalbox/v1/signalbox.proto");
  ASSERT_EQ(file.service_size(), 1);
  std::vector<std::string> methods;
  for (const auto& m : file.service(0).method()) methods.push_back(m.name());
  EXPECT_EQ(methods, (std::vector<std::string>{"IngestEvents", "GetSignals", "BatchGetSignals",
                                               "ListSignals"}));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace signalbox::testing
