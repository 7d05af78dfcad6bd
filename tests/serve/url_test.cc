#include "signalbox/serve/url.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace signalbox {
namespace {

// The segments of `path`, copied out, or nullopt when it is not well formed.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
  const PathSegments segments(path);
  if (!segments.well_formed()) return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < std::min(segments.size(), PathSegments::kStored); ++i)
    out.emplace_back(segments[i]);
  return out;
}

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

  EXPECT_EQ(segments_of("/v1/users/42/signals"),
            (std::vector<std::string>{"v1", "users", "42", "signals"}));
  EXPECT_EQ(segments_of("/"), (std::vector<std::string>{""}));
  EXPECT_EQ(segments_of("/v1/signals%3AbatchGet"),
            (std::vector<std::string>{"v1", "signals:batchGet"}));
  EXPECT_EQ(segments_of("/a%2Fb/c"), (std::vector<std::string>{"a/b", "c"}));
  EXPECT_EQ(segments_of("/a//b/"), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(segments_of("/a%zz"), std::nullopt);
  // Escaped segments among plain ones, up to the last one kept.
  EXPECT_EQ(segments_of("/%41/b/%43%44/d/e/%46"),
            (std::vector<std::string>{"A", "b", "CD", "d", "e", "F"}));
}

TEST(Url, CountsThePathSegmentsBeyondThoseKept) {
  const PathSegments many("/a/b/c/d/e/f/g/h");
  EXPECT_TRUE(many.well_formed());
  EXPECT_EQ(many.size(), 8u);
  EXPECT_EQ(many[PathSegments::kStored - 1], "f");
  EXPECT_FALSE(PathSegments("/a/b/c/d/e/f/g/%zz").well_formed())
      << "a bad escape past the segments kept is still found";
  EXPECT_TRUE(PathSegments("/a/b/c/d/e/f/g/%41").well_formed());
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
