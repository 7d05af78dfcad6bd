#include "signalbox/serve/url.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

TEST(Url, DecodesPercentEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(url_decode("a%2Cb%2cc", false), "a,b,c");
  EXPECT_EQ(url_decode("a+b%20c", true), "a b c");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");  // a '+' alone is decoded too
  EXPECT_EQ(url_decode("recent_pins,category_counts", true), "recent_pins,category_counts");
  EXPECT_EQ(url_decode("%41%7a", false), "Az");
  EXPECT_EQ(url_decode("", false), "");
  EXPECT_EQ(url_decode("%", false), std::nullopt);
  EXPECT_EQ(url_decode("%4", false), std::nullopt);
  EXPECT_EQ(url_decode("ab%4", false), std::nullopt);
  EXPECT_EQ(url_decode("%zz", false), std::nullopt);
  EXPECT_EQ(url_decode("%00", false), std::string(1, '\0'));
}

TEST(Url, SplitsTargetsAndPaths) {
  Target t = split_target("/v1/users/42/signals?names=a,b&as_of=5");
  EXPECT_EQ(t.path, "/v1/users/42/signals");
  EXPECT_EQ(t.query, "names=a,b&as_of=5");
  EXPECT_EQ(split_target("/healthz").query, "");
  EXPECT_EQ(split_target("/a?b?c").query, "b?c");

  EXPECT_EQ(split_path("/v1/users/42/signals"),
            (std::vector<std::string>{"v1", "users", "42", "signals"}));
  EXPECT_EQ(split_path("/"), (std::vector<std::string>{""}));
  EXPECT_EQ(split_path("/v1/signals%3AbatchGet"),
            (std::vector<std::string>{"v1", "signals:batchGet"}));
  EXPECT_EQ(split_path("/a%2Fb/c"), (std::vector<std::string>{"a/b", "c"}));
  EXPECT_EQ(split_path("/a//b/"), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(split_path("/a%zz"), std::nullopt);
}

TEST(Url, ParsesQueryStrings) {
  std::string bad;
  auto params = parse_query("names=a%2Cb&&as_of=5&flag&x=a+b", &bad);
  ASSERT_TRUE(params);
  EXPECT_EQ(*params, (std::vector<QueryParam>{
                         {"names", "a,b"}, {"as_of", "5"}, {"flag", ""}, {"x", "a b"}}));
  EXPECT_EQ(parse_query("", &bad)->size(), 0u);
  EXPECT_EQ(parse_query("a=1&b=%g1", &bad), std::nullopt);
  EXPECT_EQ(bad, "b=%g1");
}

TEST(Url, ParsesIntegersStrictly) {
  EXPECT_EQ(parse_uint64("0"), 0u);
  EXPECT_EQ(parse_uint64("18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(parse_uint64("007"), 7u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.0", "18446744073709551616", "0x10", "1e3"})
    EXPECT_EQ(parse_uint64(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_int64("-5"), -5);
  EXPECT_EQ(parse_int64("9223372036854775807"), 9223372036854775807ll);
  for (const char* bad : {"", "-", "+5", "--5", "9223372036854775808", "5ms"})
    EXPECT_EQ(parse_int64(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace signalbox
