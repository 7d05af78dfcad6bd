// The HTTP API's request parameters read alone: what each accepts, and that hostile input
// (deep nesting, invalid UTF-8, numbers out of range, megabytes of text) gets a refusal naming
// the parameter, with a message of bounded size. The fuzz target fuzz/http_request_fuzz.cc
// drives the same functions with arbitrary bytes.

#include "signalbox/serve/api_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace signalbox::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The message of the BadRequest `f` throws; fails the test when it throws none.
template <typename F>
std::string refusal(F f) {
  try {
    f();
  } catch (const BadRequest& e) {
    return e.what();
  }
  ADD_FAILURE() << "no BadRequest";
  return {};
}

std::string batch_refusal(const std::string& body) {
  return refusal([&] { parse_batch_request(body, 1000); });
}

TEST(SignalsRequest, ReadsUserNamesAndAsOf) {
  SignalsRequest r = parse_signals_request("42", "names=a,b&names=%62,,c&as_of=1700000000000");
  EXPECT_EQ(r.user_id, 42u);
  EXPECT_THAT(r.names, ElementsAre("a", "b", "c"));
  EXPECT_EQ(r.as_of, 1700000000000);
  // 1700000000000 ms is 2023-11-14T22:13:20Z.
  EXPECT_EQ(parse_signals_request("1", "as_of=2023-11-14T22:13:20Z").as_of, 1700000000000);
  EXPECT_EQ(parse_signals_request("1", "as_of=2023-11-14T23:13:20.5%2B01:00").as_of, 1700000000500);
  EXPECT_EQ(parse_signals_request("18446744073709551615", "").user_id, 18446744073709551615u);
  EXPECT_FALSE(parse_signals_request("0", "").as_of.has_value());
}

TEST(SignalsRequest, RefusesWhatIsNotAParameterValue) {
  EXPECT_EQ(refusal([] { parse_signals_request("18446744073709551616", ""); }),
            R"(user_id: "18446744073709551616" is not an unsigned 64-bit integer)");
  EXPECT_EQ(refusal([] { parse_signals_request("-1", ""); }),
            R"(user_id: "-1" is not an unsigned 64-bit integer)");
  EXPECT_THAT(refusal([] { parse_signals_request("1", "as_of=9223372036854775808"); }),
              StartsWith(R"(as_of: "9223372036854775808" is too large for milliseconds)"));
  EXPECT_THAT(refusal([] { parse_signals_request("1", "as_of=1700000000"); }),
              StartsWith(R"(as_of: "1700000000" looks like seconds since the epoch)"));
  EXPECT_THAT(refusal([] { parse_signals_request("1", "as_of=2023-11-14T22:13:20"); }),
              HasSubstr("no time zone"));
  EXPECT_EQ(refusal([] { parse_signals_request("1", "as_of=1700000000000&as_of=2023-11-14"); }),
            "as_of: given more than once");
  EXPECT_EQ(refusal([] { parse_signals_request("1", "names=a&x=%zz"); }),
            R"(query: bad percent-encoding in "x=%zz")");
  EXPECT_EQ(refusal([] { parse_signals_request("1", "limit=3"); }),
            R"(unknown query parameter "limit" (known: names, as_of))");
}

TEST(SignalsRequest, QuotesAtMostTwoHundredBytesOfAHugeValue) {
  const std::string huge(10 << 20, '7');
  std::string message = refusal([&] { parse_signals_request(huge, ""); });
  EXPECT_THAT(message, StartsWith("user_id: \"777"));
  EXPECT_THAT(message, HasSubstr("777\"... is not an unsigned 64-bit integer"));
  EXPECT_LT(message.size(), 300u);

  message = refusal([&] { parse_signals_request("1", huge + "=1"); });
  EXPECT_THAT(message, StartsWith("unknown query parameter \"777"));
  EXPECT_LT(message.size(), 300u);
}

TEST(SignalsRequest, InvalidUtf8IsQuotedAsReplacementCharacters) {
  std::string message = refusal([] { parse_signals_request("1", "%ff%fe=1"); });
  EXPECT_EQ(message, "unknown query parameter \"\xef\xbf\xbd\xef\xbf\xbd\" (known: names, as_of)");
}

TEST(BatchRequest, ReadsUserIdsNamesAndAsOf) {
  BatchRequest b = parse_batch_request(
      R"({"names": ["x", "y", "x"], "user_ids": [1, "18446744073709551615", 3], )"
      R"("as_of": 1700000000000})",
      1000);
  EXPECT_THAT(b.user_ids, ElementsAre(1u, 18446744073709551615u, 3u));
  EXPECT_THAT(b.names, ElementsAre("x", "y"));
  EXPECT_EQ(b.as_of, 1700000000000);
  EXPECT_EQ(parse_batch_request(R"({"user_ids": [], "as_of": "2023-11-14T22:13:20Z"})", 1000).as_of,
            1700000000000);
  EXPECT_EQ(parse_batch_request(R"({"user_ids": [], "as_of": "1700000000000"})", 1000).as_of,
            1700000000000);
  EXPECT_FALSE(parse_batch_request(R"({"user_ids": [], "as_of": null})", 1000).as_of);
}

TEST(BatchRequest, RefusesNumbersOutOfRange) {
  EXPECT_THAT(batch_refusal(R"({"user_ids": [18446744073709551616]})"),
              StartsWith("body: not valid JSON ("));
  EXPECT_EQ(batch_refusal(R"({"user_ids": [-1]})"),
            "user_ids[0]: -1 is not an unsigned 64-bit integer");
  EXPECT_EQ(batch_refusal(R"({"user_ids": [1.5]})"),
            "user_ids[0]: 1.5 is not an unsigned 64-bit integer");
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": 1e300})"),
              StartsWith("as_of: 1e+300 is not a time: write ISO 8601"));
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": 1700000000000.5})"),
              StartsWith("as_of: 1700000000000.5 is not a time"));
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": 18446744073709551615})"),
              StartsWith("as_of: 18446744073709551615 is too large for milliseconds"));
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": 1700000000})"),
              StartsWith("as_of: 1700000000 looks like seconds"));
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": "2023-02-29"})"),
              StartsWith(R"(as_of: "2023-02-29" is not a calendar date)"));
  EXPECT_THAT(batch_refusal(R"({"user_ids": [], "as_of": [1]})"),
              StartsWith("as_of: [1] is not a time"));
}

TEST(BatchRequest, RefusesDeepNestingAsInvalidJson) {
  const std::string deep =
      R"({"user_ids": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THAT(batch_refusal(deep), StartsWith("body: not valid JSON ("));
}

TEST(BatchRequest, RefusesInvalidUtf8AsInvalidJson) {
  EXPECT_THAT(batch_refusal("{\"user_ids\": [], \"names\": [\"\xc3\x28\"]}"),
              StartsWith("body: not valid JSON ("));
}

TEST(BatchRequest, QuotesAtMostTwoHundredBytesOfAHugeValue) {
  const std::string huge(10 << 20, 'x');
  std::string message = batch_refusal(R"({"user_ids": [")" + huge + R"("]})");
  EXPECT_THAT(message, StartsWith("user_ids[0]: \"xxx"));
  EXPECT_THAT(message, HasSubstr("... is not an unsigned 64-bit integer"));
  EXPECT_LT(message.size(), 300u);

  message = batch_refusal(R"({"user_ids": [], "names": [[")" + huge + R"("]]})");
  EXPECT_THAT(message, StartsWith("names[0]: [\"xxx"));
  EXPECT_LT(message.size(), 300u);

  message = batch_refusal(R"({")" + huge + R"(": 1})");
  EXPECT_THAT(message, StartsWith("body: unknown field \"xxx"));
  EXPECT_LT(message.size(), 300u);
}

TEST(BatchRequest, RefusesMoreUsersThanAllowedBeforeReadingThem) {
  std::string ids;
  for (int i = 0; i < 1001; ++i) ids += (i ? ",\"x\"" : "\"x\"");
  EXPECT_EQ(batch_refusal(R"({"user_ids": [)" + ids + "]}"),
            "user_ids: at most 1000 user ids per request, got 1001");
}

}  // namespace
}  // namespace signalbox::testing
