#include "signalbox/grpc/grpc_server.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

namespace signalbox {

GrpcServer::GrpcServer(Engine& engine, GrpcServerOptions options)
    : options_(std::move(options)),
      api_(engine, GrpcApiOptions{options_.max_batch_users, options_.ingest_metrics}) {}

GrpcServer::~GrpcServer() {
  stop();
  wait();
}

void GrpcServer::start() {
  std::lock_guard lock(mutex_);
  if (stopped_ || server_) return;
  if (options_.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&api_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<std::size_t>(options_.max_message_bytes, std::numeric_limits<int>::max())));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0)
    throw std::runtime_error(fmt::format("server.grpc: cannot listen on {}", options_.address));
  std::string host = options_.address.substr(0, options_.address.rfind(':'));
  local_address_ = fmt::format("{}:{}", host, port);
  server_ = std::move(server);
}

std::string GrpcServer::local_address() const { return local_address_; }

void GrpcServer::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  api_.stop_accepting();
  if (!server_) return;
  // The drain blocks, so it runs on a thread of its own. Handlers still running are waited
  // for here rather than by Shutdown(deadline) alone, which would also wait until the
  // deadline for idle client connections to go away. Once no handler runs, Shutdown() gets a
  // short grace for answers still being sent, then cancels what is left and closes the port.
  grpc::Server* server = server_.get();
  GrpcApi* api = &api_;
  auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  shutdown_thread_ = std::thread([server, api, deadline] {
    constexpr std::chrono::milliseconds kSendGrace(1000);
    api->wait_idle(deadline);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    server->Shutdown(std::chrono::system_clock::now() +
                     std::clamp(left, std::chrono::milliseconds(0), kSendGrace));
  });
}

void GrpcServer::wait() {
  std::unique_lock lock(mutex_);
  if (!shutdown_thread_.joinable()) return;
  std::thread shutdown = std::move(shutdown_thread_);
  lock.unlock();
  shutdown.join();
  server_->Wait();
}

}  // namespace signalbox
