#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "signalbox/event/event.h"
#include "signalbox/materialize/source.h"

namespace signalbox {

// One blocking Source::lookup() call given to a LookupRunner, and what came of it.
struct LookupCall {
  enum class Outcome { kPending, kAnswered, kFailed, kTimedOut };

  // Set by the caller. `source` and `fields` must outlive the runner (a timed-out call goes
  // on reading them); `keys` is taken over by the runner and given back once answered.
  Source* source = nullptr;
  std::vector<std::string> keys;
  std::span<const FieldRequest> fields;
  // Zero: wait as long as the call takes.
  std::chrono::steady_clock::duration timeout{0};
  // Runs on a pool thread when a call abandoned at its timeout finally returns.
  std::function<void()> on_late_return;

  // Set by the runner.
  Outcome outcome = Outcome::kPending;
  std::vector<std::vector<FeatureValue>> rows;  // kAnswered: what lookup() returned
  std::string error;                            // kFailed: what it threw
  std::chrono::microseconds took{0};            // kAnswered and kFailed
};

// Runs lookup calls off the caller's thread so that calls to different sources overlap and
// a call past its timeout can be abandoned. Calls run on a thread pool (a lookup blocks);
// an Asio coroutine on one event-loop thread waits for them, each against its own deadline
// on a steady_timer that the finishing call cancels. Threads start on first use.
//
// Safe for concurrent use. The destructor waits for calls still running, abandoned or not.
class LookupRunner {
 public:
  explicit LookupRunner(std::size_t threads);
  ~LookupRunner();
  LookupRunner(const LookupRunner&) = delete;
  LookupRunner& operator=(const LookupRunner&) = delete;

  // Starts every call at once and returns when each has answered, failed or passed its
  // timeout (measured from now), so the whole takes about as long as the slowest call or
  // timeout, not their sum.
  void run(std::span<const std::shared_ptr<LookupCall>> calls);

  // Makes `call` on the caller's thread, without a timeout.
  static void run_here(LookupCall& call);

  // Runs `task` on the pool, in the background.
  void post(std::function<void()> task);

 private:
  class Impl;
  void start();

  std::size_t threads_;
  std::once_flag started_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
