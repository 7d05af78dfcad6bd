// BatchHandover (ingest/batch_handover.h): order, the bound on what waits, and the two ways
// of ending it. The concurrent case runs under TSan too (scripts/sanitize.sh).
#include "signalbox/ingest/batch_handover.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace signalbox {
namespace {

using namespace std::chrono_literals;

TEST(BatchHandover, ConcurrentProducerAndConsumerKeepOrder) {
  BatchHandover<int> handover(2);
  std::vector<int> taken;
  std::thread consumer([&] {
    while (std::optional<int> item = handover.pop()) taken.push_back(*item);
  });
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(handover.push(i));
  handover.finish();
  consumer.join();
  ASSERT_EQ(taken.size(), 20000u);
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(taken[i], i);
}

TEST(BatchHandover, AProducerAheadWaitsForRoom) {
  BatchHandover<int> handover(2);
  ASSERT_TRUE(handover.push(1));
  ASSERT_TRUE(handover.push(2));
  std::atomic<bool> pushed = false;
  std::thread producer([&] {
    EXPECT_TRUE(handover.push(3));
    pushed = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(pushed) << "a third item went in while two waited";
  EXPECT_EQ(handover.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed);
  EXPECT_EQ(handover.pop(), 2);
  EXPECT_EQ(handover.pop(), 3);
}

TEST(BatchHandover, FinishLetsTheConsumerTakeWhatIsQueuedThenEnds) {
  BatchHandover<int> handover(4);
  ASSERT_TRUE(handover.push(1));
  ASSERT_TRUE(handover.push(2));
  handover.finish();
  EXPECT_EQ(handover.pop(), 1);
  EXPECT_EQ(handover.pop(), 2);
  EXPECT_EQ(handover.pop(), std::nullopt);
}

TEST(BatchHandover, CancelReleasesAWaitingProducerAndDropsTheQueue) {
  BatchHandover<int> handover(1);
  ASSERT_TRUE(handover.push(1));
  std::atomic<int> pushed = -1;
  std::thread producer([&] { pushed = handover.push(2) ? 1 : 0; });
  std::this_thread::sleep_for(50ms);
  handover.cancel();
  producer.join();
  EXPECT_EQ(pushed, 0);
  EXPECT_EQ(handover.pop(), std::nullopt) << "a cancelled handover still gave out an item";
  EXPECT_FALSE(handover.push(3));
}

TEST(BatchHandover, CancelReleasesAWaitingConsumer) {
  BatchHandover<int> handover(1);
  std::optional<int> taken = 7;
  std::thread consumer([&] { taken = handover.pop(); });
  std::this_thread::sleep_for(50ms);
  handover.cancel();
  consumer.join();
  EXPECT_EQ(taken, std::nullopt);
}

}  // namespace
}  // namespace signalbox
