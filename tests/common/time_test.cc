// parse_time() and format_iso_time(): the ISO 8601 forms and epoch milliseconds that --as-of,
// the HTTP as_of and backfill query files accept, and the refusals with their hints.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "signalbox/common/time.h"

namespace signalbox {
namespace {

using ::testing::HasSubstr;

// Days from 1970-01-01 to a civil date, by the era arithmetic of H. Hinnant's
// "chrono-Compatible Low-Level Date Algorithms": a reference independent of std::chrono.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

TimeMs utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0, int ms = 0) {
  return days_from_civil(y, m, d) * kDayMs + h * kHourMs + min * kMinuteMs + s * kSecondMs + ms;
}

TimeMs parsed(std::string_view text) {
  std::string problem;
  std::optional<TimeMs> t = parse_time(text, &problem);
  EXPECT_TRUE(t) << text << ": " << problem;
  return t.value_or(-1);
}

std::string refusal(std::string_view text) {
  std::string problem;
  std::optional<TimeMs> t = parse_time(text, &problem);
  EXPECT_FALSE(t) << text << " was read as " << t.value_or(0);
  EXPECT_FALSE(problem.empty()) << text;
  return problem;
}

TEST(ParseTime, ReadsIsoDatesAndTimesInUtc) {
  // Python: datetime.fromisoformat("2026-11-30T12:00:00+00:00").timestamp() == 1796040000.
  EXPECT_EQ(parsed("2026-11-30T12:00:00Z"), 1796040000000);
  EXPECT_EQ(parsed("2026-11-30T12:00:00Z"), utc(2026, 11, 30, 12));
  EXPECT_EQ(parsed("2026-11-30"), utc(2026, 11, 30));
  EXPECT_EQ(parsed("2026-11-30T12:00Z"), utc(2026, 11, 30, 12));
  EXPECT_EQ(parsed("2026-11-30 12:00:00z"), utc(2026, 11, 30, 12));
  EXPECT_EQ(parsed("2026-11-30t08:09:10Z"), utc(2026, 11, 30, 8, 9, 10));
  EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parsed("2024-02-29T23:59:59.999Z"), utc(2024, 2, 29, 23, 59, 59, 999));
  EXPECT_EQ(parsed("9999-12-31T23:59:59.999Z"), kLatestTimeMs);
}

TEST(ParseTime, AppliesUtcOffsets) {
  // Python: datetime.fromisoformat("2026-11-30T12:00:00.123+01:00").timestamp() * 1000.
  EXPECT_EQ(parsed("2026-11-30T12:00:00.123+01:00"), 1796036400123);
  EXPECT_EQ(parsed("2026-11-30T12:00:00-05:30"), utc(2026, 11, 30, 17, 30));
  EXPECT_EQ(parsed("2026-11-30T12:00:00+0130"), utc(2026, 11, 30, 10, 30));
  EXPECT_EQ(parsed("2026-11-30T12:00:00+02"), utc(2026, 11, 30, 10));
  EXPECT_EQ(parsed("2026-11-30T12:00:00-00:00"), utc(2026, 11, 30, 12));
  // An offset crossing midnight and a year boundary.
  EXPECT_EQ(parsed("2027-01-01T00:30:00+01:00"), utc(2026, 12, 31, 23, 30));
}

TEST(ParseTime, KeepsMillisecondsOfAFractionAndTruncatesTheRest) {
  EXPECT_EQ(parsed("2026-11-30T12:00:00.1Z"), utc(2026, 11, 30, 12, 0, 0, 100));
  EXPECT_EQ(parsed("2026-11-30T12:00:00.12Z"), utc(2026, 11, 30, 12, 0, 0, 120));
  EXPECT_EQ(parsed("2026-11-30T12:00:00,5Z"), utc(2026, 11, 30, 12, 0, 0, 500));
  EXPECT_EQ(parsed("2026-11-30T12:00:00.123999999Z"), utc(2026, 11, 30, 12, 0, 0, 123));
  EXPECT_THAT(refusal("2026-11-30T12:00:00.1234567891Z"), HasSubstr("1 to 9 digits"));
  EXPECT_THAT(refusal("2026-11-30T12:00:00.Z"), HasSubstr("1 to 9 digits"));
}

TEST(ParseTime, ReadsEpochMilliseconds) {
  EXPECT_EQ(parsed("1796040000000"), 1796040000000);
  EXPECT_EQ(parsed("100000000000"), kEarliestPlainMs);
  EXPECT_EQ(parsed("99999999999999"), kLatestPlainMs - 1);
}

TEST(ParseTime, RefusesSecondsWithAHint) {
  std::string problem = refusal("1796040000");
  EXPECT_THAT(problem, HasSubstr("looks like seconds"));
  EXPECT_THAT(problem, HasSubstr("multiply by 1000"));
  EXPECT_THAT(problem, HasSubstr("1796040000000 is 2026-11-30T12:00:00.000Z"));
  EXPECT_THAT(refusal("99999999999"), HasSubstr("looks like seconds"));
  EXPECT_THAT(refusal("0"), HasSubstr("looks like seconds"));
}

TEST(ParseTime, RefusesMicrosecondsAndNanosecondsWithAHint) {
  EXPECT_THAT(refusal("1796040000000000"), HasSubstr("microseconds"));
  EXPECT_THAT(refusal("1796040000000000000"), HasSubstr("divide by 1000"));
  EXPECT_THAT(refusal("100000000000000"), HasSubstr("microseconds"));
  EXPECT_THAT(refusal("99999999999999999999999"), HasSubstr("too large"));
}

TEST(ParseTime, RefusesDatesThatDoNotExist) {
  EXPECT_EQ(refusal("2026-02-30"), "is not a calendar date: 2026-02 has 28 days");
  EXPECT_EQ(refusal("2023-02-29T00:00:00Z"), "is not a calendar date: 2023-02 has 28 days");
  EXPECT_EQ(refusal("2026-04-31"), "is not a calendar date: 2026-04 has 30 days");
  EXPECT_THAT(refusal("2026-13-01"), HasSubstr("no month 13"));
  EXPECT_THAT(refusal("2026-00-10"), HasSubstr("no month 00"));
  EXPECT_THAT(refusal("2026-11-00"), HasSubstr("not a calendar date"));
  EXPECT_THAT(refusal("2026-11-30T24:00:00Z"), HasSubstr("no time of day 24:00:00"));
  EXPECT_THAT(refusal("2026-11-30T12:60Z"), HasSubstr("no time of day"));
  EXPECT_THAT(refusal("2026-12-31T23:59:60Z"), HasSubstr("leap seconds"));
  EXPECT_THAT(refusal("2026-11-30T12:00:00+24:00"), HasSubstr("no UTC offset +24:00"));
}

TEST(ParseTime, RefusesATimeOfDayWithoutZone) {
  EXPECT_THAT(refusal("2026-11-30T12:00:00"), HasSubstr("no time zone: add Z"));
  EXPECT_THAT(refusal("2026-11-30T12:00"), HasSubstr("no time zone"));
}

TEST(ParseTime, RefusesTimesOutsideItsRange) {
  EXPECT_THAT(refusal("1969-12-31T23:59:59Z"), HasSubstr("before the Unix epoch"));
  EXPECT_THAT(refusal("1970-01-01T00:30:00+01:00"), HasSubstr("before the Unix epoch"));
  EXPECT_THAT(refusal("9999-12-31T23:30:00-01:00"), HasSubstr("after 9999-12-31"));
}

TEST(ParseTime, RefusesOtherSpellings) {
  for (std::string_view bad : {"",
                               "now",
                               "yesterday",
                               "-1796040000000",
                               "+1796040000000",
                               "1.79604e12",
                               " 2026-11-30",
                               "2026-11-30 ",
                               "2026-1-30",
                               "26-11-30",
                               "2026/11/30",
                               "20261130T120000Z",
                               "2026-11-30T",
                               "2026-11-30T12",
                               "2026-11-30T12:00:00ZZ",
                               "2026-11-30T12:00:00+01:",
                               "2026-11-30T1:00Z",
                               "2026-11-30T12:00:00 UTC",
                               "0x1A",
                               "2026-11-30T12:00.5Z"}) {
    refusal(bad);
  }
  EXPECT_THAT(refusal("now"), HasSubstr("ISO 8601 (2026-11-30T12:00:00Z"));
}

TEST(FormatIsoTime, WritesUtcWithMilliseconds) {
  EXPECT_EQ(format_iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso_time(1796036400123), "2026-11-30T11:00:00.123Z");
  EXPECT_EQ(format_iso_time(kLatestTimeMs), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso_time(-1), "1969-12-31T23:59:59.999Z");
  // Past the four-digit years (no answer has one; written as fmt writes them).
  EXPECT_EQ(format_iso_time(kLatestTimeMs + 1), "10000-01-01T00:00:00.000Z");
}

TEST(FormatIsoTime, AgreesWithTheCivilReferenceAndParsesBack) {
  std::mt19937_64 random(20261130);
  std::uniform_int_distribution<int> year(1970, 9999), month(1, 12), day(1, 28), hour(0, 23),
      minute(0, 59), ms(0, 999);
  for (int i = 0; i < 2000; ++i) {
    const int y = year(random), mo = month(random), d = day(random), h = hour(random),
              mi = minute(random), s = minute(random), m = ms(random);
    const TimeMs t = utc(y, static_cast<unsigned>(mo), static_cast<unsigned>(d), h, mi, s, m);
    const std::string iso = format_iso_time(t);
    char expected[96];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi,
                  s, m);
    ASSERT_EQ(iso, expected);
    ASSERT_EQ(parsed(iso), t) << iso;
  }
}

}  // namespace
}  // namespace signalbox
