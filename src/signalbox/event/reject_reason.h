#pragma once

// Why an event was not taken at ingest, as a type. The decoder and the engine say why with
// each rejection; everything that sorts rejections (the `reason` label of /metrics, the
// rejected-events log line, Kafka's undecodable / invalid / late counts) reads the reason,
// never the message, so rewording a message cannot move a count. The messages themselves are
// for people and the API answers them unchanged.
//
// Every call status (HTTP 4xx, gRPC codes) belongs to a whole request and none depends on a
// reason: a request with bad events still answers 200 / OK listing them (docs/http-api.md).
//
// Everything here is immutable: safe to use from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace signalbox {

enum class RejectReason : std::uint8_t {
  kJson,          // not valid JSON, not a JSON object, or too large
  kUserId,        // user_id missing or breaking its rule
  kTs,            // ts missing or not a non-negative integer
  kAction,        // action missing or breaking its rule
  kEventId,       // event_id breaking its rule
  kItemId,        // item_id breaking its rule
  kQuery,         // query breaking its rule
  kAttrs,         // attrs, or one attribute, breaking its rule
  kLate,          // more than the late horizon behind stream time (the engine's check)
  kFuture,        // ts more than max_future_skew ahead of the wall clock
  kUnknownField,  // a field the event format does not define
  kOther,         // a Kafka message holding no event at all: empty, or not a signalbox.v1.Event
};

inline constexpr std::size_t kRejectReasonCount = 12;

// Every reason, in the order /metrics lists them.
inline constexpr std::array<RejectReason, kRejectReasonCount> kRejectReasons = {
    RejectReason::kJson,   RejectReason::kUserId,       RejectReason::kTs,
    RejectReason::kAction, RejectReason::kEventId,      RejectReason::kItemId,
    RejectReason::kQuery,  RejectReason::kAttrs,        RejectReason::kLate,
    RejectReason::kFuture, RejectReason::kUnknownField, RejectReason::kOther};

// The three kinds of rejection that counters outside /metrics' `reason` label tell apart
// (signalbox_events_rejected_total, signalbox_kafka_messages_rejected_total).
enum class RejectClass : std::uint8_t {
  kUndecodable,  // no event could be read at all
  kInvalid,      // an event was read, but a field breaks a rule
  kLate,         // a valid event, too late to be deduplicated
};

// What one reason maps to, fixed here and nowhere else.
struct RejectReasonInfo {
  // The `reason` label of signalbox_events_rejected_by_reason_total and of the log line:
  // stable, dashboards and alerts match on it.
  std::string_view label;
  // The text each message of this reason starts with, before ": " (or, for attrs, before
  // ".NAME: "): the field at fault. Empty where the message starts with the client's own text
  // (kUnknownField: the unknown field's name) or varies (kOther).
  std::string_view field;
  // One line for people: what an event rejected for this reason is.
  std::string_view meaning;
  RejectClass kind;
};

// The mapping of `reason`. Returns a reference to a static table entry.
const RejectReasonInfo& reject_reason_info(RejectReason reason);

// reject_reason_info(reason).label.
std::string_view reject_reason_label(RejectReason reason);

// Position of `reason` in kRejectReasons: an index for arrays of counters.
inline std::size_t reject_reason_index(RejectReason reason) {
  return static_cast<std::size_t>(reason);
}

// One rejection: why, and the message for people, which starts with the field at fault
// ("ts: must be an integer (milliseconds since the epoch)").
struct Rejection {
  RejectReason reason = RejectReason::kJson;
  std::string message;

  // A rejection whose message is "<field of reason>: <detail>". Throws std::logic_error for
  // a reason whose messages name no field (kUnknownField, kOther).
  static Rejection of(RejectReason reason, std::string_view detail);
};

// One event of a batch not taken: its index, counting from 0 over the batch, why, and the
// message for people (as Rejection).
struct RejectedEvent {
  std::size_t index = 0;
  RejectReason reason = RejectReason::kJson;
  std::string message;
};

}  // namespace signalbox
