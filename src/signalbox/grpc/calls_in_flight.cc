#include "signalbox/grpc/calls_in_flight.h"

namespace signalbox {

// One per call: gRPC creates it when the call is matched to a handler and deletes it with the
// call, after the answer's last operation completed.
class CountedCall final : public grpc::experimental::Interceptor {
 public:
  CountedCall(CallsInFlight& calls, bool counted) : calls_(counted ? &calls : nullptr) {
    if (calls_) calls_->begin();
  }
  ~CountedCall() override {
    if (calls_) calls_->end();
  }
  CountedCall(const CountedCall&) = delete;
  CountedCall& operator=(const CountedCall&) = delete;

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallsInFlight* calls_;
};

namespace {

class CountedCallFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountedCallFactory(CallsInFlight& calls) : calls_(calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountedCall(calls_, info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY);
  }

 private:
  CallsInFlight& calls_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallsInFlight::interceptor() {
  return std::make_unique<CountedCallFactory>(*this);
}

void CallsInFlight::begin() {
  MutexLock lock(mutex_);
  ++count_;
}

void CallsInFlight::end() {
  MutexLock lock(mutex_);
  if (--count_ == 0) idle_.notify_all();
}

bool CallsInFlight::wait_idle(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(mutex_);
  while (count_ > 0) {
    if (idle_.wait_until(mutex_, deadline) == std::cv_status::timeout) return count_ == 0;
  }
  return true;
}

}  // namespace signalbox
