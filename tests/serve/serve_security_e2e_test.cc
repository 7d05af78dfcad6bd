// Access control and TLS of `signalbox serve` through the real binary: bearer tokens by kind of
// request (401 without, 403 with one of another kind, /healthz open), tokens kept out of config
// files and logs, and HTTPS (and gRPC over TLS) with a certificate the client verifies.

#include <stdlib.h>

#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "https_client.h"
#include "signalbox/v1/signalbox.grpc.pb.h"
#include "small_server.h"

namespace signalbox::testing {
namespace {

using namespace std::chrono_literals;

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

TEST(ServeSecurity, BearerTokensByKindOfRequest) {
  ScratchDir dir;
  setenv("SIGNALBOX_TEST_INGEST_TOKEN", "ingest-secret-1", 1);
  setenv("SIGNALBOX_TEST_METRICS_TOKEN", "metrics-secret-3", 1);
  std::ofstream(dir.path() / "query.token") << "query-secret-2\n";
  std::uint16_t port = free_port();
  ServerProcess server(
      write_small_config(
          dir, port,
          fmt::format("auth: {{ ingest: env:SIGNALBOX_TEST_INGEST_TOKEN, "
                      "query: \"file:{}\", metrics: env:SIGNALBOX_TEST_METRICS_TOKEN }}",
                      (dir.path() / "query.token").string())),
      port, dir.path() / "serve.log");
  HttpClient client(port);
  std::string events = click_events(3, 5);
  auto post = [&](const Headers& headers) {
    return client.send(Method::kPost, "/v1/events", events, headers);
  };
  auto get = [&](const std::string& target, const Headers& headers) {
    return client.send(Method::kGet, target, "", headers);
  };

  HttpAnswer none = post({});
  EXPECT_EQ(none.status, 401u) << none.body;
  EXPECT_EQ(none.www_authenticate.rfind("Bearer", 0), 0u) << none.www_authenticate;
  EXPECT_NE(none.error().find("ingest"), std::string::npos) << none.body;
  HttpAnswer wrong = post(bearer("nope"));
  EXPECT_EQ(wrong.status, 401u) << wrong.body;
  EXPECT_NE(wrong.www_authenticate.find("invalid_token"), std::string::npos);
  EXPECT_EQ(post({{"Authorization", "Basic aW5nZXN0LXNlY3JldC0x"}}).status, 401u);
  HttpAnswer query_token = post(bearer("query-secret-2"));
  EXPECT_EQ(query_token.status, 403u) << query_token.body;
  EXPECT_NE(query_token.error().find("may not ingest"), std::string::npos) << query_token.body;
  HttpAnswer ingested = post(bearer("ingest-secret-1"));
  ASSERT_EQ(ingested.status, 200u) << ingested.body;
  EXPECT_EQ(ingested.json().find("accepted")->number(), 3.0);

  EXPECT_EQ(get("/v1/users/5/signals", {}).status, 401u);
  HttpAnswer ingest_token = get("/v1/users/5/signals", bearer("ingest-secret-1"));
  EXPECT_EQ(ingest_token.status, 403u) << ingest_token.body;
  EXPECT_NE(ingest_token.error().find("may not query"), std::string::npos) << ingest_token.body;
  HttpAnswer answered = get("/v1/users/5/signals?names=clicks", bearer("query-secret-2"));
  ASSERT_EQ(answered.status, 200u) << answered.body;
  EXPECT_NE(answered.body.find("\"1h\":3"), std::string::npos) << answered.body;
  EXPECT_EQ(client
                .send(Method::kPost, "/v1/signals:batchGet", R"({"user_ids":[5]})",
                      bearer("query-secret-2"))
                .status,
            200u);
  EXPECT_EQ(client.send(Method::kPost, "/v1/signals:batchGet", R"({"user_ids":[5]})", {}).status,
            401u);
  EXPECT_EQ(get("/v1/users/5/explain?signal=clicks", {}).status, 401u);
  EXPECT_EQ(get("/v1/users/5/explain?signal=clicks", bearer("ingest-secret-1")).status, 403u);
  EXPECT_EQ(get("/v1/users/5/explain?signal=clicks", bearer("query-secret-2")).status, 200u);
  EXPECT_EQ(get("/v1/signals", bearer("metrics-secret-3")).status, 403u);
  EXPECT_EQ(get("/metrics", {}).status, 401u);
  EXPECT_EQ(get("/metrics", bearer("query-secret-2")).status, 403u);
  EXPECT_EQ(get("/metrics", bearer("metrics-secret-3")).status, 200u);
  EXPECT_EQ(get("/healthz", {}).status, 200u);
  // With a token, a write from another origin is the token holder's choice.
  Headers cross = bearer("ingest-secret-1");
  cross.emplace_back("Origin", "http://dashboard.example");
  EXPECT_EQ(post(cross).status, 200u);

  EXPECT_EQ(server.terminate(), 0) << server.log();
  std::string log = server.log();
  for (const char* secret : {"ingest-secret-1", "query-secret-2", "metrics-secret-3"})
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in the log:\n" << log;
}

TEST(ServeSecurity, TokensAreNeverWrittenInTheConfig) {
  ScratchDir dir;
  std::uint16_t port = free_port();
  std::filesystem::path config = write_small_config(dir, port, "auth: { query: hunter2 }");
  std::string output;
  EXPECT_EQ(run_signalbox({"serve", "--config", config.string()}, dir.path() / "out.log", &output),
            2)
      << output;
  EXPECT_NE(output.find("server.auth.query"), std::string::npos) << output;
  EXPECT_NE(output.find("env:NAME or file:PATH"), std::string::npos) << output;
  EXPECT_EQ(output.find("hunter2"), std::string::npos) << output;

  unsetenv("SIGNALBOX_TEST_UNSET_TOKEN");
  config = write_small_config(dir, port, "auth: { ingest: env:SIGNALBOX_TEST_UNSET_TOKEN }");
  EXPECT_EQ(run_signalbox({"serve", "--config", config.string()}, dir.path() / "out.log", &output),
            2)
      << output;
  EXPECT_NE(output.find("SIGNALBOX_TEST_UNSET_TOKEN is not set"), std::string::npos) << output;
}

TEST(ServeSecurity, HttpsAndGrpcOverTls) {
  ScratchDir dir;
  write_self_signed(dir.path());
  std::string ca = (dir.path() / "cert.pem").string();
  std::uint16_t port = free_port();
  std::uint16_t grpc_port = free_port();
  ServerProcess server(
      write_small_config(
          dir, port,
          fmt::format("grpc: 127.0.0.1:{}, tls: {{ cert: cert.pem, key: key.pem }}", grpc_port)),
      port, dir.path() / "serve.log", [&](std::uint16_t p) {
        return https_request(p, ca, Method::kGet, "/healthz").status == 200;
      });

  HttpAnswer ingested = https_request(port, ca, Method::kPost, "/v1/events", click_events(2, 6));
  ASSERT_EQ(ingested.status, 200u) << ingested.body;
  HttpAnswer answered = https_request(port, ca, Method::kGet, "/v1/users/6/signals?names=clicks");
  ASSERT_EQ(answered.status, 200u) << answered.body;
  EXPECT_NE(answered.body.find("\"1h\":2"), std::string::npos) << answered.body;
  // Plain HTTP to the TLS port gets no answer.
  HttpClient plain(port);
  EXPECT_ANY_THROW(plain.get("/healthz"));
  // A client that does not trust the certificate fails the handshake.
  ScratchDir other;
  write_self_signed(other.path());
  EXPECT_ANY_THROW(
      https_request(port, (other.path() / "cert.pem").string(), Method::kGet, "/healthz"));

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read_file(dir.path() / "cert.pem");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", grpc_port),
                                           grpc::SslCredentials(ssl), args);
  auto stub = v1::Signalbox::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::GetSignalsRequest request;
  request.set_user_id(6);
  v1::UserSignals response;
  grpc::Status status = stub->GetSignals(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.user_id(), 6u);
  // Plaintext gRPC to the TLS port fails.
  auto insecure = v1::Signalbox::NewStub(grpc::CreateChannel(fmt::format("127.0.0.1:{}", grpc_port),
                                                             grpc::InsecureChannelCredentials()));
  grpc::ClientContext plain_context;
  plain_context.set_deadline(std::chrono::system_clock::now() + 3s);
  v1::UserSignals plain_response;
  EXPECT_FALSE(insecure->GetSignals(&plain_context, request, &plain_response).ok());
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

// Past server.max_connections an HTTPS connection gets its handshake too: a liveness probe is
// answered 200 and any other request 503, as over plain HTTP (ServeGuards' test of it).
TEST(ServeSecurity, AnHttpsLivenessProbeIsAnsweredWhileConnectionsAreExhausted) {
  ScratchDir dir;
  write_self_signed(dir.path());
  std::string ca = (dir.path() / "cert.pem").string();
  std::uint16_t port = free_port();
  ServerProcess server(
      write_small_config(dir, port, "max_connections: 2, tls: { cert: cert.pem, key: key.pem }"),
      port, dir.path() / "serve.log", [&](std::uint16_t p) {
        return https_request(p, ca, Method::kGet, "/healthz").status == 200;
      });
  // Two connections that never start their handshake hold the bound (for request_timeout).
  // The server counts a connection until it has seen it closed, so on a busy machine its
  // start's probe may still count when they arrive: the second is then over the bound, and
  // closed after its second to handshake, which frees the bound mid-check. Such a round (the
  // bound no longer holding after the probes) is run again.
  for (int round = 0;; ++round) {
    ASSERT_LT(round, 5) << "the two connections never held the bound through the probes";
    RawConnection first(port), second(port);
    // The server accepts them in its own time: a query is refused once it has.
    HttpAnswer refused;
    for (int attempt = 0; attempt < 100; ++attempt) {
      refused = https_request(port, ca, Method::kGet, "/v1/users/6/signals");
      if (refused.status == 503u) break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(refused.status, 503u) << refused.body;
    EXPECT_NE(refused.body.find("server.max_connections"), std::string::npos) << refused.body;
    std::vector<unsigned> probes;
    for (int i = 0; i < 3; ++i)
      probes.push_back(https_request(port, ca, Method::kGet, "/healthz").status);
    if (https_request(port, ca, Method::kGet, "/v1/users/6/signals").status != 503u) {
      std::this_thread::sleep_for(1500ms);  // past the over-bound connection's second
      continue;
    }
    EXPECT_EQ(probes, (std::vector<unsigned>{200, 200, 200}));
    break;
  }
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

}  // namespace
}  // namespace signalbox::testing
