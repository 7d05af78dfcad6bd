// libFuzzer target for protobuf events (gRPC IngestEvents, Kafka `format: protobuf`): any bytes
// either fail to parse as a message or become JSON lines that the event decoder judges one by
// one, exactly one verdict per event, with no crash, hang or over-allocation.
//
// Run: proto_event_fuzz -max_len=65536 -timeout=10 [corpus_dir]

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "signalbox/event/decode.h"
#include "signalbox/event_proto/event_json.h"
#include "signalbox/v1/signalbox.pb.h"

namespace {

signalbox::EventDecoder& decoder() {
  static signalbox::EventDecoder* decoder = [] {
    signalbox::DecodeOptions options;
    options.now = [] { return signalbox::TimeMs{1'700'000'000'000}; };
    return new signalbox::EventDecoder(options);
  }();
  return *decoder;
}

// Every event of `body` (one JSON line each) gets exactly one verdict, in order.
void judge(const std::string& body, std::size_t events) {
  std::size_t next = 0;
  auto check_index = [&](std::size_t index) {
    if (index != next) std::abort();
    ++next;
  };
  decoder().decode_batch(
      body,
      [&](std::size_t index, signalbox::Event&& event) {
        check_index(index);
        if (event.event_id.empty() || event.action.empty()) std::abort();
      },
      [&](std::size_t index, signalbox::Rejection&& error) {
        check_index(index);
        if (error.message.empty()) std::abort();
      });
  if (next != events) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  signalbox::v1::IngestEventsRequest request;
  if (request.ParseFromArray(data, static_cast<int>(size))) {
    judge(signalbox::events_ndjson(request.events()),
          static_cast<std::size_t>(request.events_size()));
  }
  // A Kafka message is one bare Event.
  signalbox::v1::Event event;
  if (event.ParseFromArray(data, static_cast<int>(size))) {
    std::string line;
    signalbox::append_event_json(event, line);
    judge(line, 1);
  }
  return 0;
}
