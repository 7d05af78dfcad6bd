// libFuzzer target for the two decoders that see untrusted bytes: the JSON event decoder (request
// bodies, files, Kafka) and the stored-record codec (a corrupt store). Neither may crash, hang or
// over-allocate; the codec may only fail with CorruptionError, and whatever it accepts must
// encode back to a record that decodes to the same event.
//
// Run: event_fuzz -max_len=70000 -timeout=10 [corpus_dir]

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signalbox/common/error.h"
#include "signalbox/event/decode.h"
#include "signalbox/event/event.h"

namespace {

using signalbox::TimeMs;

void fuzz_json(std::string_view input) {
  static signalbox::EventDecoder* decoder = [] {
    signalbox::DecodeOptions options;
    options.now = [] { return TimeMs{1'700'000'000'000}; };
    return new signalbox::EventDecoder(options);
  }();
  std::size_t last_index = 0;
  bool any = false;
  auto check_index = [&](std::size_t index) {
    // Indexes are strictly increasing: each event is reported exactly once.
    if (any && index <= last_index) std::abort();
    last_index = index;
    any = true;
  };
  decoder->decode_batch(
      input,
      [&](std::size_t index, signalbox::Event&& event) {
        check_index(index);
        if (event.event_id.empty() || event.action.empty()) std::abort();
      },
      [&](std::size_t index, signalbox::Rejection&& error) {
        check_index(index);
        if (error.message.empty()) std::abort();
      });

  signalbox::Event event;
  signalbox::Rejection error;
  if (!decoder->decode(input, &event, &error) && error.message.empty()) std::abort();
}

void fuzz_record(std::string_view input) {
  static const signalbox::FeatureNames names({"a", "b", "c"});
  signalbox::MaterializedEvent event;
  try {
    event = signalbox::decode_event(input, names);
  } catch (const signalbox::CorruptionError&) {
    return;
  }
  std::string encoded;
  signalbox::encode_event(event, names, encoded);
  if (!(signalbox::decode_event(encoded, names) == event)) {
    // NaN compares unequal to itself; anything else is a real mismatch.
    std::string again;
    signalbox::encode_event(signalbox::decode_event(encoded, names), names, again);
    if (again != encoded) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz_json(input);
  fuzz_record(input);
  return 0;
}
