#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "signalbox/common/value.h"
#include "signalbox/config/config.h"
#include "signalbox/v1/signalbox.pb.h"

namespace signalbox {

// Turns the JSON-shaped answers of Engine::query() and Engine::describe() into the typed
// messages of the gRPC API. Which shape a name answers is taken from the config (a signal's
// aggregator and windows, a view's transform) rather than guessed from the value alone: an
// empty list or a grouped count without windows would otherwise be ambiguous. Immutable after
// construction, so thread-safe.
class ResultTranslator {
 public:
  explicit ResultTranslator(const Config& config);

  // `answer` is what Engine::query returned for `user_id`: {"user_id", "as_of", "signals":
  // {name: result}}. (The id is passed on its own: the Value holds it as a number.)
  void user_signals(std::uint64_t user_id, const Value& answer, v1::UserSignals* out) const;

  // `described` is what Engine::describe returned.
  static void list_signals(const Value& described, v1::ListSignalsResponse* out);

  // The shape a result is expected to have; kAuto for custom aggregators and views, whose
  // result is typed when it has one of the API's shapes and sent as JSON text otherwise.
  enum class Shape {
    kAuto,
    kNumberOrMap,
    kRecent,
    kRanked,
    kVector,
    kSequence,
    kQuantiles,
    kLabel
  };

  // Fills `out` with `value` read as `shape`; `fields` are a sequence signal's fields as
  // written (for kSequence). Public for tests.
  static void result(const Value& value, Shape shape, v1::Result* out,
                     const std::vector<std::string>& fields = {});

 private:
  struct Kind {
    bool windowed = false;
    Shape shape = Shape::kAuto;
    std::vector<std::string> fields;  // kSequence
  };
  std::unordered_map<std::string, Kind> kinds_;
};

}  // namespace signalbox
