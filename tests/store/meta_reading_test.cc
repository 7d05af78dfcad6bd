// MetaReading: a reading of stream time and the horizons serves for the reuse time after it
// was read, never goes down, and takes this process's own writes at once.

#include "signalbox/store/redis/meta_reading.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

using namespace std::chrono_literals;
using Clock = MetaReading::Clock;

TEST(MetaReading, AReadingServesForTheReuseTimeAfterItWasRead) {
  MetaReading reading(1ms);
  const Clock::time_point t0 = Clock::now();
  EXPECT_FALSE(reading.recent(t0)) << "nothing read yet";
  reading.keep({100, 10}, t0);
  ASSERT_TRUE(reading.recent(t0 + 1ms));
  EXPECT_EQ(reading.recent(t0 + 1ms)->high_water, 100);
  EXPECT_EQ(reading.recent(t0 + 1ms)->expired_through, 10);
  EXPECT_FALSE(reading.recent(t0 + 1ms + 1ns)) << "past the reuse time";
}

TEST(MetaReading, WritesOfThisProcessRaiseItWithoutMakingItNewer) {
  MetaReading reading(1ms);
  const Clock::time_point t0 = Clock::now();
  reading.keep({100, 10}, t0);
  reading.raise({150, kBeginningOfTime});
  reading.raise({kBeginningOfTime, 20});
  reading.raise({120, 15});  // lower than kept: no change
  ASSERT_TRUE(reading.recent(t0));
  EXPECT_EQ(reading.recent(t0)->high_water, 150);
  EXPECT_EQ(reading.recent(t0)->expired_through, 20);
  EXPECT_FALSE(reading.recent(t0 + 2ms)) << "a raise is no new reading";
}

TEST(MetaReading, AnOlderReadingNeverLowersWhatIsKept) {
  MetaReading reading(1ms);
  const Clock::time_point t0 = Clock::now();
  reading.keep({200, 30}, t0 + 1ms);  // read later, kept first
  reading.keep({100, 10}, t0);
  ASSERT_TRUE(reading.recent(t0 + 2ms));
  EXPECT_EQ(reading.recent(t0 + 2ms)->high_water, 200);
  EXPECT_EQ(reading.recent(t0 + 2ms)->expired_through, 30);
}

}  // namespace
}  // namespace signalbox
