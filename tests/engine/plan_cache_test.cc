// PlanCache: the plans kept are handed out only for the (as_of, online state, complete_from)
// they were made for; any other key makes them again, and a failed make keeps nothing.

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "signalbox/engine/plan_cache.h"

namespace signalbox {
namespace {

OnlineState online_at(TimeMs stream_time) {
  OnlineState state;
  state.stream_time = stream_time;
  state.raw_after = stream_time - 1000;
  return state;
}

TEST(PlanCache, PlansAreReusedOnlyForTheKeyTheyWereMadeFor) {
  PlanCache cache;
  int made = 0;
  auto make = [&] {
    ++made;
    WindowedPlans plans;
    plans.hours = {{made, made}};
    return plans;
  };
  auto first = cache.get(100, online_at(50), 0, make);
  EXPECT_EQ(made, 1);
  EXPECT_TRUE(first->made_for(100, online_at(50), 0));
  EXPECT_EQ(cache.get(100, online_at(50), 0, make), first);
  EXPECT_EQ(made, 1);
  // Each part of the key alone makes them again.
  cache.get(101, online_at(50), 0, make);
  EXPECT_EQ(made, 2);
  cache.get(101, online_at(51), 0, make);
  EXPECT_EQ(made, 3);
  OnlineState expired = online_at(51);
  expired.hour_tiles_from = 7;
  cache.get(101, expired, 0, make);
  EXPECT_EQ(made, 4);
  auto last = cache.get(101, expired, 5, make);
  EXPECT_EQ(made, 5);
  EXPECT_EQ(last->hours.front().first, 5);
  // The plans handed out stay valid after others replaced them.
  EXPECT_EQ(first->hours.front().first, 1);
}

TEST(PlanCache, AFailedMakeKeepsNothingAndIsPassedOn) {
  PlanCache cache;
  int made = 0;
  auto make = [&] {
    ++made;
    return WindowedPlans();
  };
  auto kept = cache.get(100, online_at(50), 0, make);
  EXPECT_THROW(cache.get(200, online_at(50), 0,
                         []() -> WindowedPlans { throw std::runtime_error("too old"); }),
               std::runtime_error);
  EXPECT_EQ(cache.get(100, online_at(50), 0, make), kept);
  EXPECT_EQ(made, 1);
}

TEST(PlanCache, ThreadsAskingForDifferentTimesEachGetTheirOwn) {
  PlanCache cache;
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const TimeMs at = 1000 + (i + t) % 3;
        auto plans = cache.get(at, online_at(50), 0, [&] {
          WindowedPlans p;
          p.hours = {{at, at}};
          return p;
        });
        if (plans->as_of != at || plans->hours.front().first != at) ++wrong[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace signalbox
