#include "signalbox/common/serial_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace signalbox {
namespace {

TEST(SerialWorker, RunsTasksInTheOrderHandedOverOnOneThreadOtherThanTheCaller) {
  std::vector<int> order;  // written by the worker only
  std::set<std::thread::id> threads;
  std::vector<std::future<int>> results;
  {
    SerialWorker worker;
    for (int i = 0; i < 100; ++i) {
      results.push_back(worker.submit([&, i] {
        order.push_back(i);
        threads.insert(std::this_thread::get_id());
        return i * i;
      }));
    }
    for (int i = 0; i < 100; ++i) EXPECT_EQ(results[i].get(), i * i);
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
}

TEST(SerialWorker, ATaskThatThrowsFailsItsFutureAndTheWorkerGoesOn) {
  SerialWorker worker;
  std::future<int> failing = worker.submit([]() -> int { throw std::runtime_error("no disk"); });
  std::future<int> next = worker.submit([] { return 7; });
  try {
    failing.get();
    ADD_FAILURE() << "the exception did not reach the future";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "no disk");
  }
  EXPECT_EQ(next.get(), 7);
}

TEST(SerialWorker, TheDestructorRunsEveryTaskAlreadyHandedOver) {
  std::atomic<int> ran{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<std::future<void>> results;
  {
    SerialWorker worker;
    // The first task holds the thread until the others are queued behind it.
    results.push_back(worker.submit([released, &ran] {
      released.wait();
      ++ran;
    }));
    for (int i = 0; i < 10; ++i) results.push_back(worker.submit([&ran] { ++ran; }));
    release.set_value();
  }
  EXPECT_EQ(ran.load(), 11);
  for (auto& r : results) EXPECT_EQ(r.wait_for(std::chrono::seconds(0)), std::future_status::ready);
}

TEST(SerialWorker, TakesMoveOnlyTasks) {
  SerialWorker worker;
  auto owned = std::make_unique<int>(41);
  std::future<int> result = worker.submit([p = std::move(owned)] { return *p + 1; });
  EXPECT_EQ(result.get(), 42);
}

}  // namespace
}  // namespace signalbox
