#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "signalbox/common/mutex.h"
#include "signalbox/common/thread_annotations.h"

namespace signalbox {

// Counts the unary calls a gRPC server holds, from the moment a call is matched to a handler
// until its answer has been handed to the transport and the call is destroyed, so that a drain
// waits for answers still being sent, not only for handlers still running. Counting in the
// handler alone ends too early: a large answer (a batch of a thousand users) can still be on
// its way when the handler returns, and a shutdown that cancels it then resets the client's
// connection. Streaming calls (reflection) are not counted: they may stay open for as long as
// the client likes.
//
// interceptor() is registered with the server builder once; the counter must outlive the
// server it counts for. Thread-safe.
class CallsInFlight {
 public:
  CallsInFlight() = default;
  CallsInFlight(const CallsInFlight&) = delete;
  CallsInFlight& operator=(const CallsInFlight&) = delete;

  // The factory to add to the server's interceptors; each call it sees holds one count.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> interceptor();

  // Waits until no counted call is left or `deadline` passed; true when none is.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

 private:
  friend class CountedCall;
  void begin();
  void end();

  Mutex mutex_;
  std::condition_variable_any idle_;  // notified when count_ drops to zero
  int count_ SIGNALBOX_GUARDED_BY(mutex_) = 0;
};

}  // namespace signalbox
