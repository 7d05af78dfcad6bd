// InlineQueries, RequestCosts and ThreadLoad alone: which requests the HTTP server may answer
// on its I/O thread, from the costs and the load it measured.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "signalbox/serve/inline_queries.h"
#include "signalbox/serve/request_costs.h"
#include "signalbox/serve/thread_load.h"

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
  InlineQueries policy(1ms);
  const std::string cheap = "/v1/users/1/signals", slow = "/v1/users/2/signals";
  EXPECT_FALSE(policy.runs_inline(cheap, 0, 0)) << "never answered: its cost is unknown";
  policy.record(cheap, 100us);
  policy.record(slow, 5ms);
  EXPECT_TRUE(policy.runs_inline(cheap, 0, 0));
  EXPECT_FALSE(policy.runs_inline(slow, 0, 0));
  EXPECT_FALSE(policy.runs_inline(cheap, 1, 0)) << "the query pool is busy";
  EXPECT_FALSE(policy.runs_inline("", 0, 0));
  // A cheap path that turned slow leaves; a slow one measured cheap again comes back.
  policy.record(cheap, 2ms);
  policy.record(slow, 300us);
  EXPECT_FALSE(policy.runs_inline(cheap, 0, 0));
  EXPECT_TRUE(policy.runs_inline(slow, 0, 0));
}

TEST(InlineQueriesPolicy, AnIoThreadBusyPastTheMarkSendsEveryQueryToThePool) {
  InlineQueries policy(1ms);
  const std::string path = "/v1/users/1/signals";
  policy.record(path, 50us);
  EXPECT_TRUE(policy.runs_inline(path, 0, 0));
  EXPECT_TRUE(policy.runs_inline(path, 0, InlineQueries::kMaxLoad - 0.01));
  EXPECT_FALSE(policy.runs_inline(path, 0, InlineQueries::kMaxLoad));
  EXPECT_FALSE(policy.runs_inline(path, 0, 1));
}

TEST(InlineQueriesPolicy, AZeroBudgetTurnsInliningOff) {
  InlineQueries policy(0us);
  EXPECT_FALSE(policy.enabled());
  policy.record("/v1/users/1/signals", 1us);
  EXPECT_FALSE(policy.runs_inline("/v1/users/1/signals", 0, 0));
}

TEST(ThreadLoad, TheShareOfEachCompleteWindowTheThreadRan) {
  ThreadLoad load(10ms);
  EXPECT_EQ(load.share_at(0ms, 0ms), 0) << "no window completed yet";
  EXPECT_EQ(load.share_at(5ms, 5ms), 0) << "the first window is not over";
  EXPECT_DOUBLE_EQ(load.share_at(10ms, 6ms), 0.6);
  EXPECT_DOUBLE_EQ(load.share_at(15ms, 11ms), 0.6) << "the next window is not over";
  EXPECT_DOUBLE_EQ(load.share_at(30ms, 11ms), 0.25) << "ran 5 ms of the 20 since";
  EXPECT_DOUBLE_EQ(load.share_at(40ms, 21ms), 1);
  EXPECT_DOUBLE_EQ(load.share_at(50ms, 40ms), 1) << "a clock's skew is no more than all";
}

TEST(ThreadLoad, TimeSpentBlockedInsideItsWorkCountsAsBusy) {
  ThreadLoad load(10ms);
  load.share_at(0ms, 0ms);
  load.add_waited(5ms);  // a query that waited on the network
  EXPECT_DOUBLE_EQ(load.share_at(10ms, 2ms), 0.7) << "2 ms running and 5 ms blocked of 10";
  EXPECT_DOUBLE_EQ(load.share_at(20ms, 3ms), 0.1) << "the next window starts without it";
  load.add_waited(30ms);
  EXPECT_DOUBLE_EQ(load.share_at(30ms, 3ms), 1);
}

TEST(ThreadLoad, MeasuresTheCallingThreadsOwnRunningTime) {
  ThreadLoad load(5ms);
  load.share();
  // Spinning: running whenever it has a core. On a machine as busy as a parallel test run
  // it may get a small share of some windows (12 % seen), so the best of forty is asked for.
  auto spin_until = Clock::now() + 200ms;
  double busiest = 0;
  while (Clock::now() < spin_until) busiest = std::max(busiest, load.share());
  EXPECT_GT(busiest, 0.3);
  // Asleep for twenty windows: the window that ends at the next call covers the sleep and at
  // most one window of spinning before it.
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(load.share(), 0.1);
}

}  // namespace
}  // namespace signalbox::testing
