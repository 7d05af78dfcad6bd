// InlineQueries and RequestCosts alone: which requests the HTTP server may answer on its I/O
// thread, from the costs it measured.

#include <gtest/gtest.h>

#include "signalbox/serve/inline_queries.h"
#include "signalbox/serve/request_costs.h"

namespace signalbox::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(RequestCosts, RemembersTheLastCostOfEachPathAndSaturates) {
  RequestCosts costs;
  EXPECT_FALSE(costs.last("/v1/users/1/signals"));
  costs.record("/v1/users/1/signals", 250us);
  costs.record("/v1/users/2/signals", 3ms);
  EXPECT_EQ(costs.last("/v1/users/1/signals"), 250us);
  EXPECT_EQ(costs.last("/v1/users/2/signals"), 3ms);
  costs.record("/v1/users/1/signals", 40us);
  EXPECT_EQ(costs.last("/v1/users/1/signals"), 40us);
  costs.record("/v1/users/3/signals", 1h);
  EXPECT_GT(*costs.last("/v1/users/3/signals"), 1s);
  EXPECT_FALSE(costs.last("/v1/users/4/signals"));
}

TEST(InlineQueriesPolicy, OnlyPathsKnownToBeCheapRunInlineAndOnlyWhileThePoolIsIdle) {
  InlineQueries policy(1ms, 1);
  const std::string cheap = "/v1/users/1/signals", slow = "/v1/users/2/signals";
  EXPECT_FALSE(policy.runs_inline(cheap, 0)) << "never answered: its cost is unknown";
  policy.record(cheap, Clock::now(), 100us, false);
  policy.record(slow, Clock::now(), 5ms, false);
  EXPECT_TRUE(policy.runs_inline(cheap, 0));
  EXPECT_FALSE(policy.runs_inline(slow, 0));
  EXPECT_FALSE(policy.runs_inline(cheap, 1)) << "the query pool is busy";
  EXPECT_FALSE(policy.runs_inline("", 0));
  // A cheap path that turned slow leaves; a slow one measured cheap again comes back.
  policy.record(cheap, Clock::now(), 2ms, false);
  policy.record(slow, Clock::now(), 300us, false);
  EXPECT_FALSE(policy.runs_inline(cheap, 0));
  EXPECT_TRUE(policy.runs_inline(slow, 0));
}

TEST(InlineQueriesPolicy, InlineAnswersTakeAtMostAShareOfTheIoThreadsTime) {
  InlineQueries policy(1ms, 1);
  const std::string path = "/v1/users/1/signals";
  auto now = Clock::now();
  policy.record(path, now, 500us, false);
  ASSERT_TRUE(policy.runs_inline(path, 0));
  // Inline answers back to back for far longer than the bucket holds: it refuses, and lets
  // inline answers in again once the I/O thread had time to itself.
  for (int i = 0; i < 40; ++i) policy.record(path, now + i * 500us, 500us, true);
  EXPECT_FALSE(policy.runs_inline(path, 0));
  InlineQueries spread(1ms, 1);
  spread.record(path, now, 500us, false);
  for (int i = 0; i < 40; ++i) spread.record(path, now - 1s + i * 5ms, 500us, true);
  EXPECT_TRUE(spread.runs_inline(path, 0)) << "a tenth of the time, long ago, is no load";
}

TEST(InlineQueriesPolicy, AZeroBudgetTurnsInliningOff) {
  InlineQueries policy(0us, 1);
  EXPECT_FALSE(policy.enabled());
  policy.record("/v1/users/1/signals", Clock::now(), 1us, false);
  EXPECT_FALSE(policy.runs_inline("/v1/users/1/signals", 0));
}

}  // namespace
}  // namespace signalbox::testing
