#include "signalbox/grpc/malformed_request.h"

#include <string>

#include <fmt/format.h>

namespace signalbox {

namespace {

using grpc::experimental::InterceptionHookPoints;

class MalformedRequest final : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequest(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method()),
        unary_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // A stream's end also reads as no message; only a unary call's missing message is a
    // failed parse.
    if (!unary_) {
      methods->Proceed();
      return;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // The handlers never answer INTERNAL without a message: this one is gRPC's own, for a
      // request that did not deserialize.
      bool unparsed =
          status.error_code() == grpc::StatusCode::INTERNAL && status.error_message().empty();
      if (malformed_ || unparsed) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("request: the message sent to {} is not a valid protobuf encoding of its "
                        "request type (it does not parse; see proto/signalbox/v1/signalbox.proto)",
                        method_)));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  bool unary_;
  bool malformed_ = false;
};

class MalformedRequestFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MalformedRequest(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
malformed_request_interceptor() {
  return std::make_unique<MalformedRequestFactory>();
}

}  // namespace signalbox
