// The gRPC front end's guards through the real binary: a request that is no protobuf is
// INVALID_ARGUMENT naming the problem, IngestEvents is bounded in events, it is UNIMPLEMENTED
// (HTTP's 404) when the config's ingest list leaves HTTP out, an as_of near 2^63 is "out of
// range" on gRPC and HTTP alike, and bearer tokens are UNAUTHENTICATED / PERMISSION_DENIED as
// HTTP's 401 / 403.

#include <stdlib.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "signalbox/v1/signalbox.grpc.pb.h"
#include "small_server.h"

namespace signalbox::testing {
namespace {

// A small server with HTTP and gRPC; `server_extra` goes into its `server` section,
// `sections` (whole YAML sections) at the end of its config.
struct Served {
  explicit Served(const std::string& server_extra, const std::string& sections = "")
      : http_port(free_port()), grpc_port(free_port()) {
    std::string extra = fmt::format("grpc: 127.0.0.1:{}", grpc_port);
    if (!server_extra.empty()) extra += ", " + server_extra;
    std::filesystem::path config = write_small_config(dir, http_port, extra);
    std::ofstream(config, std::ios::app) << sections;
    process = std::make_unique<ServerProcess>(config, http_port, dir.path() / "serve.log");
    channel = grpc::CreateChannel(fmt::format("127.0.0.1:{}", grpc_port),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Signalbox::NewStub(channel);
  }
  ScratchDir dir;
  std::uint16_t http_port;
  std::uint16_t grpc_port;
  std::unique_ptr<ServerProcess> process;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Signalbox::Stub> stub;
};

// Sends `bytes` as the request message of `method`, unchecked; returns the status.
grpc::Status raw_call(grpc::Channel& channel, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue queue;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  return status;
}

v1::IngestEventsRequest clicks(std::size_t count, std::uint64_t user) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  v1::IngestEventsRequest request;
  for (std::size_t i = 0; i < count; ++i) {
    v1::Event* e = request.add_events();
    e->set_user_id(user);
    e->set_ts(now - 1000);
    e->set_action("click");
    e->set_item_id(fmt::format("p{}", i));
  }
  return request;
}

TEST(GrpcGuards, MalformedMessagesAreInvalidArgument) {
  Served s("");
  // Field 1 as a length-delimited value longer than the message: no valid encoding.
  std::string bad("\x0a\x7f\x01\x02", 4);
  for (const char* method :
       {"/signalbox.v1.Signalbox/IngestEvents", "/signalbox.v1.Signalbox/GetSignals"}) {
    grpc::Status status = raw_call(*s.channel, method, bad);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_NE(status.error_message().find("not a valid protobuf"), std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find(method), std::string::npos) << status.error_message();
  }
  // The server still answers well-formed calls.
  grpc::ClientContext context;
  v1::ListSignalsRequest list;
  v1::ListSignalsResponse listed;
  EXPECT_TRUE(s.stub->ListSignals(&context, list, &listed).ok());
  EXPECT_EQ(s.process->terminate(), 0) << s.process->log();
}

TEST(GrpcGuards, EventsPerRequestAreBounded) {
  Served s("max_events_per_request: 50");
  {
    grpc::ClientContext context;
    v1::IngestEventsResponse response;
    grpc::Status status = s.stub->IngestEvents(&context, clicks(51, 9), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find("at most 50 events"), std::string::npos)
        << status.error_message();
  }
  grpc::ClientContext context;
  v1::IngestEventsResponse response;
  grpc::Status status = s.stub->IngestEvents(&context, clicks(50, 9), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 50u);
  EXPECT_EQ(s.process->terminate(), 0) << s.process->log();
}

// An ingest list naming other inputs but not {kind: http} turns event ingest off on both front
// ends, with one message saying so; queries are served as ever.
TEST(GrpcGuards, IngestListWithoutHttpTurnsHttpAndGrpcIngestOff) {
  // A Kafka input on a port nothing listens on: the consumer retries quietly meanwhile.
  const std::string kafka_only = "ingest:\n  - { kind: kafka, brokers: 127.0.0.1:9, topic: t }\n";
  const std::string message =
      "ingest over HTTP and gRPC is not configured: the config's ingest list has no {kind: http} "
      "entry (see docs/config.md#ingest)";
  Served off("", kafka_only);
  HttpClient http(off.http_port);
  HttpAnswer post = http.post("/v1/events", click_events(3, 9));
  EXPECT_EQ(post.status, 404u) << post.body;
  EXPECT_EQ(post.error(), message) << post.body;
  {
    grpc::ClientContext context;
    v1::IngestEventsResponse response;
    grpc::Status status = off.stub->IngestEvents(&context, clicks(3, 9), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_EQ(status.error_message(), message);
  }
  HttpAnswer get = http.get("/v1/users/9/signals");
  ASSERT_EQ(get.status, 200u) << get.body;
  EXPECT_NE(get.body.find(R"("clicks":{"1h":0,"1d":0})"), std::string::npos) << get.body;
  {
    grpc::ClientContext context;
    v1::ListSignalsResponse listed;
    EXPECT_TRUE(off.stub->ListSignals(&context, v1::ListSignalsRequest(), &listed).ok());
  }
  EXPECT_EQ(off.process->terminate(), 0) << off.process->log();

  // Listing {kind: http} beside it keeps both on.
  Served on("", kafka_only + "  - { kind: http }\n");
  HttpClient http_on(on.http_port);
  HttpAnswer taken = http_on.post("/v1/events", click_events(3, 9));
  EXPECT_EQ(taken.status, 200u) << taken.body;
  EXPECT_NE(taken.body.find(R"("accepted":3)"), std::string::npos) << taken.body;
  grpc::ClientContext context;
  v1::IngestEventsResponse response;
  grpc::Status status = on.stub->IngestEvents(&context, clicks(2, 9), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 2u);
  EXPECT_EQ(on.process->terminate(), 0) << on.process->log();
}

TEST(GrpcGuards, AsOfNearTwoToTheSixtyThreeIsOutOfRange) {
  Served s("");
  for (std::int64_t as_of :
       {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max() - 1000,
        std::int64_t{253402300800000}}) {
    grpc::ClientContext context;
    v1::GetSignalsRequest request;
    request.set_user_id(1);
    request.set_as_of(as_of);
    v1::UserSignals response;
    grpc::Status status = s.stub->GetSignals(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << as_of;
    EXPECT_NE(status.error_message().find("as_of: "), std::string::npos) << status.error_message();
    EXPECT_NE(status.error_message().find("out of range"), std::string::npos)
        << status.error_message();

    grpc::ClientContext batch_context;
    v1::BatchGetSignalsRequest batch;
    batch.add_user_ids(1);
    batch.set_as_of(as_of);
    v1::BatchGetSignalsResponse batch_response;
    status = s.stub->BatchGetSignals(&batch_context, batch, &batch_response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << as_of;
    EXPECT_NE(status.error_message().find("out of range"), std::string::npos)
        << status.error_message();
  }
  HttpClient http(s.http_port);
  for (std::string as_of : {"9223372036854775807", "9223372036854775808", "253402300800000"}) {
    // Over HTTP, epoch numbers past the year 5138 are read as microseconds written by mistake.
    HttpAnswer get = http.get("/v1/users/1/signals?as_of=" + as_of);
    EXPECT_EQ(get.status, 400u) << get.body;
    EXPECT_NE(get.error().find("is too large for milliseconds"), std::string::npos) << get.body;
    HttpAnswer batch =
        http.post("/v1/signals:batchGet", R"({"user_ids":[1],"as_of":)" + as_of + "}");
    EXPECT_EQ(batch.status, 400u) << batch.body;
    EXPECT_NE(batch.error().find("is too large for milliseconds"), std::string::npos) << batch.body;
  }
  // The last millisecond of the range, written in ISO 8601, is a time like any other.
  EXPECT_EQ(http.get("/v1/users/1/signals?as_of=9999-12-31T23:59:59.999Z").status, 200u);
  EXPECT_EQ(s.process->terminate(), 0) << s.process->log();
}

TEST(GrpcGuards, BearerTokens) {
  setenv("SIGNALBOX_TEST_GRPC_INGEST", "grpc-ingest-secret", 1);
  setenv("SIGNALBOX_TEST_GRPC_QUERY", "grpc-query-secret", 1);
  Served s(
      "auth: { ingest: env:SIGNALBOX_TEST_GRPC_INGEST, query: env:SIGNALBOX_TEST_GRPC_QUERY }");
  auto ingest = [&](const std::string& token) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::IngestEventsResponse response;
    return s.stub->IngestEvents(&context, clicks(3, 4), &response);
  };
  auto query = [&](const std::string& token) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::GetSignalsRequest request;
    request.set_user_id(4);
    v1::UserSignals response;
    return s.stub->GetSignals(&context, request, &response);
  };
  EXPECT_EQ(ingest("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ingest("wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ingest("grpc-query-secret").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(ingest("grpc-ingest-secret").ok());
  EXPECT_EQ(query("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(query("grpc-ingest-secret").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status ok = query("grpc-query-secret");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(s.process->terminate(), 0) << s.process->log();
  std::string log = s.process->log();
  EXPECT_EQ(log.find("grpc-ingest-secret"), std::string::npos);
  EXPECT_EQ(log.find("grpc-query-secret"), std::string::npos);
}

}  // namespace
}  // namespace signalbox::testing
