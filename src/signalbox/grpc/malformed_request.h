#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>

namespace signalbox {

// A server interceptor factory that makes a unary call's request message that does not parse
// an INVALID_ARGUMENT naming the method and the problem (streaming calls, such as reflection,
// pass untouched). gRPC's own answer to that is INTERNAL with
// an empty message, which reads as a server bug and tells the client nothing. Thread-safe.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
malformed_request_interceptor();

}  // namespace signalbox
