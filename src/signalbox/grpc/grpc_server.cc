#include "signalbox/grpc/grpc_server.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "signalbox/grpc/malformed_request.h"

namespace signalbox {

namespace {

std::string read_pem(const std::filesystem::path& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty())
    throw std::runtime_error(fmt::format("{}: cannot read {}", key, path.string()));
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> credentials(const GrpcServerOptions& options) {
  if (!options.tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({read_pem(options.tls->key, "server.tls.key"),
                                    read_pem(options.tls->cert, "server.tls.cert")});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

GrpcServerOptions grpc_server_options(const Config& config) {
  GrpcServerOptions options;
  options.address = config.server.grpc.value_or(options.address);
  options.max_message_bytes = config.server.max_body_bytes;
  options.max_events_per_request = config.server.max_events_per_request;
  options.drain_timeout = std::chrono::milliseconds(config.server.shutdown_timeout);
  options.tls = config.server.tls;
  options.ingest = ingests_over_http(config);
  return options;
}

GrpcServer::GrpcServer(Engine& engine, GrpcServerOptions options)
    : options_(std::move(options)),
      api_(engine, GrpcApiOptions{options_.max_batch_users, options_.metrics,
                                  options_.max_events_per_request, options_.admission,
                                  options_.access, options_.ingest}) {}

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
  builder.AddListeningPort(options_.address, credentials(options_), &port);
  builder.RegisterService(&api_);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(calls_in_flight_.interceptor());
  interceptors.push_back(malformed_request_interceptor());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
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
  // The drain blocks, so it runs on a thread of its own. Calls still held (running, or their
  // answers still being sent) are waited for here rather than by Shutdown(deadline) alone,
  // which would also wait until the deadline for idle client connections to go away. Once none
  // is held, Shutdown() gets a short grace for a call that arrived meanwhile, then cancels what
  // is left and closes the port.
  grpc::Server* server = server_.get();
  CallsInFlight* calls = &calls_in_flight_;
  auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  shutdown_thread_ = std::thread([server, calls, deadline] {
    constexpr std::chrono::milliseconds kArrivalGrace(1000);
    calls->wait_idle(deadline);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    server->Shutdown(std::chrono::system_clock::now() +
                     std::clamp(left, std::chrono::milliseconds(0), kArrivalGrace));
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
