// ProcessRunner driving fake services: the order of starts, the stop reaching every service,
// a start that throws, wait() returning only once every service stopped, signals and the
// periodic jobs.

#include "signalbox/process/process_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace signalbox::testing {
namespace {

using namespace std::chrono_literals;

// What the services were asked, in the order asked, across threads.
class Journal {
 public:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // The lines that end in `what` (" start", " stop", ...), in order.
  std::vector<std::string> only(const std::string& what) const {
    std::vector<std::string> out;
    for (const std::string& line : lines()) {
      if (line.size() > what.size() &&
          line.compare(line.size() - what.size(), what.size(), what) == 0)
        out.push_back(line);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Keeps the Service contract: wait() blocks until stop() (or, with `busy`, until stop_now():
// work in flight that only an immediate stop cuts short), and returns at once when the
// service never started.
class FakeService : public Service {
 public:
  FakeService(std::string name, Journal& journal) : name_(std::move(name)), journal_(journal) {}

  bool fail_start = false;
  bool busy = false;

  void start() override {
    journal_.add(name_ + " start");
    if (fail_start) throw std::runtime_error(name_ + ": cannot start");
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  void stop() override {
    journal_.add(name_ + " stop");
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }
  void stop_now() override {
    journal_.add(name_ + " stop_now");
    std::lock_guard lock(mutex_);
    stopped_ = stopped_now_ = true;
    changed_.notify_all();
  }
  void wait() override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !started_ || (busy ? stopped_now_ : stopped_); });
    lock.unlock();
    journal_.add(name_ + " wait");
  }
  bool stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  std::string name_;
  Journal& journal_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool started_ = false;
  bool stopped_ = false;
  bool stopped_now_ = false;
};

ProcessRunnerOptions quiet() {
  ProcessRunnerOptions options;
  options.name = "process_test";
  options.handle_signals = false;
  return options;
}

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

using Lines = std::vector<std::string>;

TEST(ProcessRunner, StartsInOrderAndStopsAndWaitsForEveryService) {
  Journal journal;
  FakeService http("http", journal), grpc("grpc", journal), kafka("kafka", journal);
  ProcessRunner runner(quiet());
  runner.add(http);
  runner.add(grpc);
  runner.add(kafka);
  runner.start();
  EXPECT_EQ(journal.lines(), (Lines{"http start", "grpc start", "kafka start"}));
  std::thread stopper([&] { runner.stop(); });
  runner.wait();
  stopper.join();
  EXPECT_EQ(journal.lines(),
            (Lines{"http start", "grpc start", "kafka start", "http stop", "grpc stop",
                   "kafka stop", "http wait", "grpc wait", "kafka wait"}));
  EXPECT_TRUE(journal.only(" stop_now").empty());
}

TEST(ProcessRunner, AFailingStartStopsTheServicesStartedBeforeIt) {
  Journal journal;
  FakeService http("http", journal), grpc("grpc", journal), kafka("kafka", journal);
  grpc.fail_start = true;
  ProcessRunner runner(quiet());
  runner.add(http);
  runner.add(grpc);
  runner.add(kafka);
  try {
    runner.start();
    FAIL() << "expected the start to throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "grpc: cannot start");
  }
  EXPECT_EQ(journal.only(" start"), (Lines{"http start", "grpc start"}));
  EXPECT_TRUE(http.stopped());
  EXPECT_EQ(journal.only(" wait"), (Lines{"http wait", "grpc wait", "kafka wait"}));
  // Waited for already: a later wait() and the destructor return at once.
  runner.wait();
}

TEST(ProcessRunner, WaitReturnsOnlyOnceEveryServiceStopped) {
  Journal journal;
  FakeService http("http", journal), kafka("kafka", journal);
  kafka.busy = true;  // its wait() ends only on stop_now()
  ProcessRunner runner(quiet());
  runner.add(http);
  runner.add(kafka);
  runner.start();
  auto waited = std::async(std::launch::async, [&] { runner.wait(); });
  EXPECT_EQ(waited.wait_for(100ms), std::future_status::timeout) << "wait() before a stop";
  runner.stop();
  ASSERT_TRUE(eventually([&] { return journal.only(" wait") == Lines{"http wait"}; }));
  EXPECT_EQ(waited.wait_for(100ms), std::future_status::timeout) << "kafka is still busy";
  runner.stop_now();
  EXPECT_EQ(waited.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(journal.only(" wait"), (Lines{"http wait", "kafka wait"}));
  EXPECT_EQ(journal.only(" stop_now"), (Lines{"http stop_now", "kafka stop_now"}));
}

TEST(ProcessRunner, SigtermStopsEveryServiceAndASecondOneStopsThemNow) {
  Journal journal;
  FakeService http("http", journal), kafka("kafka", journal);
  kafka.busy = true;
  ProcessRunnerOptions options = quiet();
  options.handle_signals = true;
  ProcessRunner runner(options);
  runner.add(http);
  runner.add(kafka);
  runner.start();
  auto waited = std::async(std::launch::async, [&] { runner.wait(); });
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(eventually([&] { return journal.only(" stop").size() == 2; }));
  EXPECT_EQ(journal.only(" stop"), (Lines{"http stop", "kafka stop"}));
  EXPECT_EQ(waited.wait_for(100ms), std::future_status::timeout) << "kafka is still busy";
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_EQ(waited.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(journal.only(" stop_now"), (Lines{"http stop_now", "kafka stop_now"}));
}

TEST(ProcessRunner, ASignalBeforeStartStartsNothing) {
  Journal journal;
  FakeService http("http", journal);
  ProcessRunnerOptions options = quiet();
  options.handle_signals = true;
  ProcessRunner runner(options);
  runner.add(http);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(eventually([&] { return http.stopped(); }));
  runner.start();
  runner.wait();
  EXPECT_EQ(journal.lines(), (Lines{"http stop", "http wait"}));
}

TEST(ProcessRunner, SighupRunsTheReloadJob) {
  std::atomic<int> reloads{0};
  ProcessRunnerOptions options = quiet();
  options.handle_signals = true;
  options.on_reload = [&reloads] { ++reloads; };
  ProcessRunner runner(options);
  runner.start();
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] { return reloads.load() == 1; }));
  runner.stop();
  runner.wait();
}

TEST(ProcessRunner, PeriodicJobsRunUntilTheStopAndSurviveThrowing) {
  Journal journal;
  FakeService http("http", journal);
  std::atomic<int> runs{0};
  ProcessRunner runner(quiet());
  runner.add(http);
  runner.every(1ms, "a job that throws", [&runs] {
    ++runs;
    throw std::runtime_error("expected");
  });
  runner.every(0ms, "a job that never runs", [] { FAIL() << "a zero interval runs nothing"; });
  runner.start();
  EXPECT_TRUE(eventually([&] { return runs.load() >= 3; }));
  runner.stop();
  runner.wait();
  int after_wait = runs.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(runs.load(), after_wait);
}

TEST(ProcessRunner, DestroyingAStartedRunnerStopsAndWaitsForItsServices) {
  Journal journal;
  FakeService http("http", journal);
  {
    ProcessRunner runner(quiet());
    runner.add(http);
    runner.start();
  }
  EXPECT_EQ(journal.lines(), (Lines{"http start", "http stop", "http wait"}));
}

}  // namespace
}  // namespace signalbox::testing
