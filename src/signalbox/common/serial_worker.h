#pragma once

// One long-lived thread that runs the tasks handed to it one at a time, in the order they
// were handed over, each task's result (or exception) delivered through a std::future.
//
// Why not std::async: a std::async task gets a thread of its own, created and ended for that
// one task. With mimalloc as the process's allocator a thread's end hands its heap's pages
// back, which for a thread that stored a batch of events cost about 4 M instructions
// (callgrind; 13 % of a Kafka consumer's instructions when each batch had its own thread,
// docs/performance.md), besides the kernel's work of creating and ending the thread. A
// worker that lives as long as its owner pays for one thread once.
//
// Thread-safety: submit() may be called from any thread. The destructor must not race with
// submit(); it runs every task already handed over, then joins the thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include "signalbox/common/mutex.h"
#include "signalbox/common/thread_annotations.h"

namespace signalbox {

class SerialWorker {
 public:
  // Starts the thread; std::system_error when none can be had.
  SerialWorker();
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // Hands `task` (callable with no arguments) to the thread, after the tasks handed over
  // before it. The future holds its result, or the exception it threw.
  template <class Task>
  std::future<std::invoke_result_t<Task>> submit(Task task) {
    using Result = std::invoke_result_t<Task>;
    // std::function needs a copyable callable: the task lives behind a shared_ptr.
    auto packaged = std::make_shared<std::packaged_task<Result()>>(std::move(task));
    std::future<Result> result = packaged->get_future();
    enqueue([packaged] { (*packaged)(); });
    return result;
  }

 private:
  void enqueue(std::function<void()> task);
  void run();

  Mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::function<void()>> tasks_ SIGNALBOX_GUARDED_BY(mutex_);
  bool stopping_ SIGNALBOX_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace signalbox
