// Inputs built to hurt a decoder — megabytes of text, nesting thousands deep, numbers beyond
// every type, broken UTF-8 — each get a rejection that names the problem, in a message of
// bounded size, and never take the events around them down. fuzz/event_fuzz.cc explores the
// same decoder with arbitrary bytes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "pinned_clock.h"
#include "signalbox/event/decode.h"

namespace signalbox {
namespace {

using ::testing::StartsWith;

constexpr std::size_t kTenMb = 10 << 20;
// Long enough for any message of the decoder, far shorter than the inputs below.
constexpr std::size_t kMaxMessage = 300;

using testing::pinned_options;

struct Batch {
  std::vector<std::size_t> accepted;
  std::vector<std::pair<std::size_t, std::string>> errors;
};

Batch decode_batch(std::string_view body) {
  EventDecoder decoder(pinned_options());
  Batch batch;
  decoder.decode_batch(
      body, [&](std::size_t i, Event&&) { batch.accepted.push_back(i); },
      [&](std::size_t i, Rejection&& error) {
        batch.errors.emplace_back(i, std::move(error.message));
      });
  return batch;
}

std::string error_of(std::string_view json) {
  EventDecoder decoder(pinned_options());
  Event event;
  Rejection error;
  EXPECT_FALSE(decoder.decode(json, &event, &error));
  return error.message;
}

const std::string kGood = R"({"user_id":1,"ts":1000,"action":"click"})";

TEST(HostileInput, ATenMegabyteLineIsRejectedWithAShortMessage) {
  std::string line =
      R"({"user_id":1,"ts":1000,"action":"click","item_id":")" + std::string(kTenMb, 'x') + "\"}";
  std::string error = error_of(line);
  EXPECT_FALSE(error.empty());
  EXPECT_LT(error.size(), kMaxMessage) << error.substr(0, 1000);

  Batch batch = decode_batch(kGood + "\n" + line + "\n" + kGood + "\n");
  EXPECT_EQ(batch.accepted, (std::vector<std::size_t>{0, 2}));
  ASSERT_EQ(batch.errors.size(), 1u);
  EXPECT_EQ(batch.errors[0].first, 1u);
  EXPECT_LT(batch.errors[0].second.size(), kMaxMessage);
}

TEST(HostileInput, ATenMegabyteStringInAnArrayBodyIsRejectedWithAShortMessage) {
  std::string body = "[" + kGood + R"(,{"user_id":1,"ts":1000,"action":")" +
                     std::string(kTenMb, 'a') + "\"}," + kGood + "]";
  Batch batch = decode_batch(body);
  ASSERT_FALSE(batch.errors.empty());
  for (const auto& [index, error] : batch.errors) {
    EXPECT_FALSE(error.empty());
    EXPECT_LT(error.size(), kMaxMessage) << error.substr(0, 1000);
  }
}

TEST(HostileInput, DeepNestingIsRejected) {
  for (std::size_t depth : {2000u, 30000u}) {
    std::string line = R"({"user_id":1,"ts":1000,"action":"click","attrs":{"a":)" +
                       std::string(depth, '[') + std::string(depth, ']') + "}}";
    std::string error = error_of(line);
    EXPECT_FALSE(error.empty()) << depth;
    EXPECT_LT(error.size(), kMaxMessage);

    Batch batch = decode_batch(kGood + "\n" + line + "\n" + kGood);
    EXPECT_EQ(batch.accepted, (std::vector<std::size_t>{0, 2})) << depth;
    ASSERT_EQ(batch.errors.size(), 1u);
    EXPECT_EQ(batch.errors[0].first, 1u);
  }
  // An array body nested that deep is no list of events at all.
  Batch batch = decode_batch(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_TRUE(batch.accepted.empty());
  ASSERT_EQ(batch.errors.size(), 1u);
  EXPECT_LT(batch.errors[0].second.size(), kMaxMessage);
}

TEST(HostileInput, NumbersBeyondEveryTypeAreRejectedByField) {
  EXPECT_THAT(error_of(R"({"user_id":18446744073709551616,"ts":1000,"action":"click"})"),
              StartsWith("user_id: "));
  EXPECT_THAT(error_of(R"({"user_id":1,"ts":9223372036854775808,"action":"click"})"),
              StartsWith("ts: "));
  EXPECT_THAT(error_of(R"({"user_id":1,"ts":-9223372036854775809,"action":"click"})"),
              StartsWith("ts: "));
  std::string huge_digits(100000, '9');
  EXPECT_LT(error_of(R"({"user_id":)" + huge_digits + R"(,"ts":1000,"action":"click"})").size(),
            kMaxMessage);
}

TEST(HostileInput, InvalidUtf8IsRejectedWherever) {
  for (std::string bad : {std::string("\xc3\x28"), std::string("\xed\xa0\x80"),
                          std::string("\xf4\x90\x80\x80"), std::string("\xff")}) {
    EXPECT_FALSE(
        error_of(R"({"user_id":1,"ts":1000,"action":"click","item_id":")" + bad + "\"}").empty());
    EXPECT_FALSE(
        error_of(R"({"user_id":1,"ts":1000,"action":"click","attrs":{")" + bad + "\":1}}").empty());
  }
}

}  // namespace
}  // namespace signalbox
