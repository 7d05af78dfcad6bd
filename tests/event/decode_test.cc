#include "signalbox/event/decode.h"
#include "pinned_clock.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signalbox {
namespace {

using ::testing::StartsWith;

using testing::pinned_options;
constexpr TimeMs kNow = testing::kPinnedNow;

// A valid event with `extra` members appended to the required ones.
std::string with(std::string_view extra) {
  std::string json = R"({"user_id":1,"ts":1000,"action":"click")";
  if (!extra.empty()) json += ",";
  json += extra;
  json += "}";
  return json;
}

std::string json_string(std::string_view s) { return "\"" + std::string(s) + "\""; }

class DecodeTest : public ::testing::Test {
 protected:
  // The error message for `json`, or "" when it decodes. Every message must start as its
  // reason says (reject_reason.h): with the reason's field, or, for an unknown field, end so.
  std::string error_of(std::string_view json) {
    Event event;
    Rejection error;
    bool ok = decoder_.decode(json, &event, &error);
    EXPECT_EQ(ok, error.message.empty()) << json;
    last_reason_ = error.reason;
    if (ok) return "";
    std::string_view field = reject_reason_info(error.reason).field;
    if (error.reason == RejectReason::kUnknownField) {
      EXPECT_THAT(error.message, ::testing::EndsWith(": unknown field")) << json;
    } else {
      EXPECT_FALSE(field.empty()) << error.message;
      std::string_view after =
          std::string_view(error.message).substr(std::min(field.size(), error.message.size()));
      EXPECT_TRUE(error.message.starts_with(field) &&
                  (after.starts_with(": ") || after.starts_with(".")))
          << error.message << " has reason " << reject_reason_label(error.reason);
    }
    return error.message;
  }
  // The reason of the last error_of() that failed.
  RejectReason reason_of(std::string_view json) {
    EXPECT_NE(error_of(json), "") << json;
    return last_reason_;
  }

  Event decoded(std::string_view json) {
    Event event;
    Rejection error;
    EXPECT_TRUE(decoder_.decode(json, &event, &error)) << json << " -> " << error.message;
    return event;
  }

  RejectReason last_reason_ = RejectReason::kJson;

  EventDecoder decoder_{pinned_options()};
};

TEST_F(DecodeTest, MinimalEvent) {
  Event e = decoded(R"({"user_id":7,"ts":1000,"action":"click"})");
  EXPECT_EQ(e.user_id, 7u);
  EXPECT_EQ(e.ts, 1000);
  EXPECT_EQ(e.action, "click");
  EXPECT_FALSE(e.item_id.has_value());
  EXPECT_FALSE(e.query.has_value());
  EXPECT_TRUE(e.attrs.empty());
  EXPECT_EQ(e.event_id, derive_event_id(e));
}

TEST_F(DecodeTest, FullEvent) {
  Event e = decoded(R"( {"event_id":"e-1","user_id":18446744073709551615,"ts":0,
      "action":"save_2","item_id":"pin:\u00e9","query":"red \"shoes\"",
      "attrs":{"color":"red","n":3,"x":-2.5,"big":18446744073709551615}} )");
  EXPECT_EQ(e.user_id, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(e.ts, 0);
  EXPECT_EQ(e.action, "save_2");
  EXPECT_EQ(e.event_id, "e-1");
  EXPECT_EQ(e.item_id, "pin:\xc3\xa9");
  EXPECT_EQ(e.query, "red \"shoes\"");
  ASSERT_EQ(e.attrs.size(), 4u);
  EXPECT_EQ(e.attrs[0], (std::pair<std::string, AttrValue>("color", std::string("red"))));
  EXPECT_EQ(e.attrs[1], (std::pair<std::string, AttrValue>("n", 3.0)));
  EXPECT_EQ(e.attrs[2], (std::pair<std::string, AttrValue>("x", -2.5)));
  EXPECT_EQ(e.attrs[3].second, AttrValue(18446744073709551615.0));
}

TEST_F(DecodeTest, EscapedKeysAreTheirUnescapedNames) {
  EXPECT_EQ(decoded(R"({"user\u005fid":5,"ts":1,"action":"a"})").user_id, 5u);
}

TEST_F(DecodeTest, ReusedEventIsReset) {
  Event event;
  Rejection error;
  ASSERT_TRUE(
      decoder_.decode(with(R"("item_id":"x","query":"q","attrs":{"a":1})"), &event, &error));
  ASSERT_TRUE(decoder_.decode(with(""), &event, &error)) << error.message;
  EXPECT_FALSE(event.item_id.has_value());
  EXPECT_FALSE(event.query.has_value());
  EXPECT_TRUE(event.attrs.empty());
  EXPECT_EQ(event.event_id, derive_event_id(event));
}

TEST_F(DecodeTest, UserId) {
  EXPECT_EQ(decoded(R"({"user_id":0,"ts":1,"action":"a"})").user_id, 0u);
  EXPECT_EQ(error_of(R"({"ts":1,"action":"a"})"), "user_id: required");
  for (const char* bad :
       {"-1", "1.5", "1.0", "1e3", "\"1\"", "null", "true", "[1]", "{}", "-9223372036854775809",
        "18446744073709551616", "99999999999999999999999999"}) {
    EXPECT_EQ(error_of(std::string(R"({"ts":1,"action":"a","user_id":)") + bad + "}"),
              "user_id: must be an unsigned 64-bit integer")
        << bad;
  }
}

TEST_F(DecodeTest, Ts) {
  EXPECT_EQ(error_of(R"({"user_id":1,"action":"a"})"), "ts: required");
  for (const char* bad : {"1.5", "1e3", "\"1000\"", "null", "false", "1e400"})
    EXPECT_THAT(error_of(std::string(R"({"user_id":1,"action":"a","ts":)") + bad + "}"),
                StartsWith("ts: must be an integer"))
        << bad;
  EXPECT_EQ(error_of(R"({"user_id":1,"action":"a","ts":-1})"), "ts: must not be negative");
  EXPECT_EQ(decoded(R"({"user_id":1,"action":"a","ts":0})").ts, 0);

  const TimeMs limit = kNow + kHourMs;
  auto event_at = [](std::uint64_t ts) {
    return R"({"user_id":1,"action":"a","ts":)" + std::to_string(ts) + "}";
  };
  EXPECT_EQ(decoded(event_at(limit)).ts, limit);
  EXPECT_EQ(error_of(event_at(limit + 1)), "ts: more than 3600000 ms in the future");
  EXPECT_THAT(error_of(event_at(std::numeric_limits<std::int64_t>::max())), StartsWith("ts: "));
  EXPECT_THAT(error_of(event_at(std::numeric_limits<std::uint64_t>::max())), StartsWith("ts: "));
}

TEST_F(DecodeTest, TsUsesTheConfiguredSkewAndClock) {
  DecodeOptions options;
  TimeMs now = 5000;
  options.now = [&] { return now; };
  options.max_future_skew = 10;
  EventDecoder decoder(options);
  Event event;
  Rejection error;
  EXPECT_TRUE(decoder.decode(R"({"user_id":1,"action":"a","ts":5010})", &event, &error));
  EXPECT_FALSE(decoder.decode(R"({"user_id":1,"action":"a","ts":5011})", &event, &error));
  EXPECT_EQ(error.message, "ts: more than 10 ms in the future");
  EXPECT_EQ(error.reason, RejectReason::kFuture);
  now = 6000;
  error = Rejection();
  EXPECT_TRUE(decoder.decode(R"({"user_id":1,"action":"a","ts":5011})", &event, &error));

  // A skew so large that now + skew overflows accepts every ts.
  options.max_future_skew = std::numeric_limits<TimeMs>::max();
  EventDecoder lenient(options);
  EXPECT_TRUE(
      lenient.decode(R"({"user_id":1,"action":"a","ts":9223372036854775807})", &event, &error))
      << error.message;
}

TEST_F(DecodeTest, TsDefaultsToTheWallClock) {
  EventDecoder decoder;
  Event event;
  Rejection error;
  TimeMs now = wall_clock_ms();
  EXPECT_TRUE(decoder.decode(
      R"({"user_id":1,"action":"a","ts":)" + std::to_string(now + kHourMs - 60'000) + "}", &event,
      &error));
  EXPECT_FALSE(decoder.decode(
      R"({"user_id":1,"action":"a","ts":)" + std::to_string(now + kHourMs + 60'000) + "}", &event,
      &error));
}

TEST_F(DecodeTest, Action) {
  EXPECT_EQ(error_of(R"({"user_id":1,"ts":1})"), "action: required");
  EXPECT_EQ(decoded(R"({"user_id":1,"ts":1,"action":"closeup_2"})").action, "closeup_2");
  EXPECT_EQ(decoded(R"({"user_id":1,"ts":1,"action":")" + std::string(32, 'a') + "\"}").action,
            std::string(32, 'a'));
  for (std::string bad :
       {std::string(""), std::string(33, 'a'), std::string("Click"), std::string("a-b"),
        std::string("a b"), std::string("caf\xc3\xa9"), std::string("a\\u0000")}) {
    EXPECT_EQ(error_of(R"({"user_id":1,"ts":1,"action":")" + bad + "\"}"),
              "action: must match [a-z0-9_]{1,32}")
        << bad;
  }
  EXPECT_EQ(error_of(R"({"user_id":1,"ts":1,"action":1})"), "action: must be a string");
  EXPECT_EQ(error_of(R"({"user_id":1,"ts":1,"action":null})"), "action: must be a string");
}

TEST_F(DecodeTest, EventId) {
  EXPECT_EQ(decoded(with(R"("event_id":"x")")).event_id, "x");
  std::string longest(128, 'e');
  EXPECT_EQ(decoded(with(R"("event_id":)" + json_string(longest))).event_id, longest);
  EXPECT_EQ(error_of(with(R"("event_id":)" + json_string(std::string(129, 'e')))),
            "event_id: longer than 128 bytes");
  EXPECT_EQ(error_of(with(R"("event_id":"")")), "event_id: must not be empty");
  EXPECT_EQ(error_of(with(R"("event_id":12)")), "event_id: must be a string");
  Event derived = decoded(with(R"("event_id":null)"));
  EXPECT_EQ(derived.event_id, derive_event_id(derived));
}

TEST_F(DecodeTest, DerivedIdDependsOnContentNotSpelling) {
  Event a = decoded(R"({"user_id":1,"ts":1000,"action":"click","attrs":{"a":1,"b":"x"}})");
  Event b = decoded(R"({"attrs":{"b":"x","a":1.0},"action":"click","ts":1000,"user_id":1})");
  Event c = decoded(R"({"user_id":1,"ts":1000,"action":"click","attrs":{"a":2,"b":"x"}})");
  Event d = decoded(R"({"user_id":2,"ts":1000,"action":"click","attrs":{"a":1,"b":"x"}})");
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_NE(a.event_id, c.event_id);
  EXPECT_NE(a.event_id, d.event_id);
  EXPECT_EQ(a.event_id.size(), 17u);
}

TEST_F(DecodeTest, ItemId) {
  EXPECT_EQ(decoded(with(R"("item_id":"p")")).item_id, "p");
  std::string longest(256, 'i');
  EXPECT_EQ(decoded(with(R"("item_id":)" + json_string(longest))).item_id, longest);
  EXPECT_EQ(error_of(with(R"("item_id":)" + json_string(std::string(257, 'i')))),
            "item_id: longer than 256 bytes");
  EXPECT_EQ(error_of(with(R"("item_id":"")")), "item_id: must not be empty");
  EXPECT_EQ(error_of(with(R"("item_id":5)")), "item_id: must be a string");
  EXPECT_FALSE(decoded(with(R"("item_id":null)")).item_id.has_value());
  // Multi-byte characters count in bytes: 128 two-byte characters are 256 bytes.
  std::string accents;
  for (int i = 0; i < 128; ++i) accents += "\xc3\xa9";
  EXPECT_EQ(decoded(with(R"("item_id":)" + json_string(accents))).item_id, accents);
  EXPECT_EQ(error_of(with(R"("item_id":)" + json_string(accents + "x"))),
            "item_id: longer than 256 bytes");
}

TEST_F(DecodeTest, Query) {
  EXPECT_EQ(decoded(with(R"("query":"")")).query, "");
  std::string longest(1024, 'q');
  EXPECT_EQ(decoded(with(R"("query":)" + json_string(longest))).query, longest);
  EXPECT_EQ(error_of(with(R"("query":)" + json_string(std::string(1025, 'q')))),
            "query: longer than 1024 bytes");
  EXPECT_EQ(error_of(with(R"("query":["a"])")), "query: must be a string");
  EXPECT_FALSE(decoded(with(R"("query":null)")).query.has_value());
}

std::string attrs_json(int n) {
  std::string json = R"("attrs":{)";
  for (int i = 0; i < n; ++i) {
    if (i) json += ",";
    json += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
  }
  return json + "}";
}

TEST_F(DecodeTest, AttrsCount) {
  EXPECT_TRUE(decoded(with(R"("attrs":{})")).attrs.empty());
  EXPECT_TRUE(decoded(with(R"("attrs":null)")).attrs.empty());
  Event e = decoded(with(attrs_json(32)));
  ASSERT_EQ(e.attrs.size(), 32u);
  EXPECT_EQ(e.attrs[31].first, "k31");  // input order
  EXPECT_EQ(error_of(with(attrs_json(33))), "attrs: more than 32 entries");
}

TEST_F(DecodeTest, AttrsShape) {
  EXPECT_EQ(error_of(with(R"("attrs":[])")), "attrs: must be an object");
  EXPECT_EQ(error_of(with(R"("attrs":"a=b")")), "attrs: must be an object");
  for (const char* bad : {"{}", "[]", "[1]", "true", "null", R"({"a":1})"}) {
    EXPECT_EQ(error_of(with(std::string(R"("attrs":{"ok":1,"color":)") + bad + "}")),
              "attrs.color: value must be a string or number")
        << bad;
  }
}

TEST_F(DecodeTest, AttrNames) {
  EXPECT_THAT(error_of(with(R"("attrs":{"":1})")), StartsWith("attrs: "));
  std::string longest(64, 'n');
  EXPECT_EQ(decoded(with(R"("attrs":{)" + json_string(longest) + ":1}")).attrs[0].first, longest);
  std::string too_long(65, 'n');
  EXPECT_THAT(error_of(with(R"("attrs":{)" + json_string(too_long) + ":1}")),
              StartsWith("attrs." + longest + "...: name longer than 64 bytes"));
  EXPECT_EQ(error_of(with(R"("attrs":{"a":1,"b":2,"a":"x"})")), "attrs.a: duplicate name");
}

TEST_F(DecodeTest, AttrValues) {
  std::string longest(1024, 'v');
  Event e = decoded(with(R"("attrs":{"s":)" + json_string(longest) + R"(,"e":"","z":-0})"));
  EXPECT_EQ(e.attrs[0].second, AttrValue(longest));
  EXPECT_EQ(e.attrs[1].second, AttrValue(std::string()));
  EXPECT_EQ(e.attrs[2].second, AttrValue(0.0));
  EXPECT_EQ(error_of(with(R"("attrs":{"s":)" + json_string(longest + "v") + "}")),
            "attrs.s: value longer than 1024 bytes");
  EXPECT_EQ(error_of(with(R"("attrs":{"n":1e999})")), "attrs.n: number out of range");
  EXPECT_EQ(error_of(with(R"("attrs":{"n":123456789012345678901234567890})")),
            "attrs.n: number out of range");
}

// Two of the largest doubles already add up to infinity, which a sum would then keep for
// good: numbers are bounded so that sums of them stay finite.
TEST_F(DecodeTest, AttrNumbersAreBoundedSoSumsStayFinite) {
  EXPECT_EQ(
      error_of(with(R"("attrs":{"price":1.7e308})")),
      "attrs.price: 1.7e+308 is out of range (at most 1e+100 in magnitude, so that sums of it "
      "stay finite)");
  EXPECT_EQ(
      error_of(with(R"("attrs":{"price":-1.7e308})")),
      "attrs.price: -1.7e+308 is out of range (at most 1e+100 in magnitude, so that sums of it "
      "stay finite)");
  EXPECT_THAT(error_of(with(R"("attrs":{"price":1e101})")),
              StartsWith("attrs.price: 1e+101 is out of range"));
  EXPECT_EQ(decoded(with(R"("attrs":{"a":1e100,"b":-1e100})")).attrs[0].second, AttrValue(1e100));
  EXPECT_EQ(decoded(with(R"("attrs":{"a":18446744073709551615})")).attrs[0].second,
            AttrValue(18446744073709551615.0));
  // The sum of a billion of the largest accepted values times the largest weight is finite.
  EXPECT_TRUE(std::isfinite(1e9 * kMaxAttrNumber * 1e100));
}

TEST_F(DecodeTest, UnknownAndDuplicateFields) {
  EXPECT_EQ(error_of(R"({"userid":1,"ts":1,"action":"a"})"), "userid: unknown field");
  EXPECT_EQ(error_of(with(R"("attributes":{})")), "attributes: unknown field");
  EXPECT_EQ(error_of(with(R"("User_Id":1)")), "User_Id: unknown field");
  EXPECT_EQ(error_of(with(R"("user_id":2)")), "user_id: duplicate field");
  EXPECT_EQ(error_of(with(R"("item_id":"a","item_id":"b")")), "item_id: duplicate field");
  EXPECT_EQ(error_of(with(R"("item_id":null,"item_id":"b")")), "item_id: duplicate field");
  // An absurd key is shown shortened.
  std::string key(10'000, 'k');
  std::string error = error_of(with(json_string(key) + ":1"));
  EXPECT_EQ(error, std::string(64, 'k') + "...: unknown field");
  // Number trouble in an unknown field still names the field.
  EXPECT_EQ(error_of(with(R"("extra":1e999)")), "extra: unknown field");
}

TEST_F(DecodeTest, FirstProblemInFieldOrderWins) {
  EXPECT_EQ(error_of(R"({"action":"BAD","user_id":-1})"), "action: must match [a-z0-9_]{1,32}");
  EXPECT_EQ(error_of(R"({"item_id":""})"), "item_id: must not be empty");
  EXPECT_EQ(error_of(R"({})"), "user_id: required");
}

TEST_F(DecodeTest, MalformedJson) {
  for (const char* bad : {"", "   ", "{", "}", R"({"user_id":1,)", R"({"user_id":1 "ts":2})",
                          "{} {}", R"({"user_id":1,"ts":1000,"action":"click"} x)", "nul",
                          R"({"a":tru})", "{'a':1}", "\"unterminated"}) {
    EXPECT_THAT(error_of(bad), StartsWith("json: ")) << bad;
  }
  EXPECT_THAT(error_of("{\"user_id\":1,\"ts\":1,\"action\":\"a\",\"query\":\"\xff\"}"),
              StartsWith("json: "));
  EXPECT_THAT(error_of(with(R"("query":"\ud800")")), StartsWith("json: "));
  EXPECT_THAT(error_of(with(R"("query":"tab	inside")")), StartsWith("json: "));
}

TEST_F(DecodeTest, MustBeAnObject) {
  for (const char* bad : {"[]", "[{}]", "1", "\"x\"", "null", "true"})
    EXPECT_EQ(error_of(bad), "json: event must be an object") << bad;
}

TEST_F(DecodeTest, SizeLimit) {
  // Padded with blank space to exactly the limit: accepted; one byte more: rejected.
  std::string json = with("");
  json.insert(json.size() - 1, std::string(kMaxEventJsonBytes - json.size(), ' '));
  ASSERT_EQ(json.size(), kMaxEventJsonBytes);
  EXPECT_EQ(error_of(json), "");
  json.insert(json.size() - 1, " ");
  EXPECT_EQ(error_of(json), "json: event larger than 65536 bytes");
}

TEST_F(DecodeTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep =
      with(R"("attrs":{"a":)" + std::string(5000, '[') + std::string(5000, ']') + "}");
  EXPECT_FALSE(error_of(deep).empty());
}

// Each rule broken gives its own reason, which is what metrics count: never read from the text.
TEST_F(DecodeTest, EachBrokenRuleHasItsReason) {
  const std::vector<std::pair<std::string, RejectReason>> cases = {
      {"{not json", RejectReason::kJson},
      {"[1]", RejectReason::kJson},
      {R"({"ts":1,"action":"a"})", RejectReason::kUserId},
      {R"({"user_id":-1,"ts":1,"action":"a"})", RejectReason::kUserId},
      {R"({"user_id":1,"ts":99999999999999999999999,"action":"a"})", RejectReason::kTs},
      {R"({"user_id":1,"action":"a"})", RejectReason::kTs},
      {R"({"user_id":1,"ts":1,"ts":2,"action":"a"})", RejectReason::kTs},
      {R"({"user_id":1,"ts":1,"action":"Click"})", RejectReason::kAction},
      {R"({"user_id":1,"ts":1,"action":"a","event_id":""})", RejectReason::kEventId},
      {R"({"user_id":1,"ts":1,"action":"a","item_id":5})", RejectReason::kItemId},
      {R"({"user_id":1,"ts":1,"action":"a","query":1e999})", RejectReason::kQuery},
      {R"({"user_id":1,"ts":1,"action":"a","query":["q"]})", RejectReason::kQuery},
      {R"({"user_id":1,"ts":1,"action":"a","attrs":[]})", RejectReason::kAttrs},
      {R"({"user_id":1,"ts":1,"action":"a","attrs":{"x":[1]}})", RejectReason::kAttrs},
      {R"({"user_id":1,"ts":1,"action":"a","attrs":{"x":1e999}})", RejectReason::kAttrs},
      {R"({"user_id":1,"ts":)" + std::to_string(kNow + kHourMs + 1) + R"(,"action":"a"})",
       RejectReason::kFuture},
      {R"({"user_id":1,"ts":1,"action":"a","ts_ms":1})", RejectReason::kUnknownField},
      {R"({"user_id":1,"ts":1,"action":"a","zz":1e999})", RejectReason::kUnknownField},
  };
  for (const auto& [json, reason] : cases)
    EXPECT_EQ(reject_reason_label(reason_of(json)), reject_reason_label(reason)) << json;
}

}  // namespace
}  // namespace signalbox
