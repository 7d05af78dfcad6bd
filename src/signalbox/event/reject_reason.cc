#include "signalbox/event/reject_reason.h"

#include <stdexcept>

#include <fmt/format.h>

namespace signalbox {

namespace {

// In the order of the enum, which kRejectReasons follows.
constexpr std::array<RejectReasonInfo, kRejectReasonCount> kInfo = {{
    {"json", "json", "is not valid JSON, not a JSON object, or too large",
     RejectClass::kUndecodable},
    {"user_id", "user_id", "has user_id missing or not an unsigned 64-bit integer",
     RejectClass::kInvalid},
    {"ts", "ts", "has ts missing or not a non-negative integer of milliseconds",
     RejectClass::kInvalid},
    {"action", "action", "has action missing or not matching [a-z0-9_]{1,32}",
     RejectClass::kInvalid},
    {"event_id", "event_id", "has an event_id that is not a string of 1 to 128 bytes",
     RejectClass::kInvalid},
    {"item_id", "item_id", "has an item_id that is not a string of 1 to 256 bytes",
     RejectClass::kInvalid},
    {"query", "query", "has a query that is not a string of at most 1 KiB", RejectClass::kInvalid},
    {"attrs", "attrs", "has attrs that are not a flat object of at most 32 string or number values",
     RejectClass::kInvalid},
    {"late", "ts", "is more than event_store.late_horizon behind stream time", RejectClass::kLate},
    {"future", "ts", "has ts more than event_store.max_future_skew ahead of the wall clock",
     RejectClass::kInvalid},
    {"unknown_field", "", "has a field the event format does not define", RejectClass::kInvalid},
    {"other", "", "is a Kafka message holding no event: empty, or not a signalbox.v1.Event",
     RejectClass::kUndecodable},
}};

}  // namespace

const RejectReasonInfo& reject_reason_info(RejectReason reason) {
  std::size_t index = reject_reason_index(reason);
  if (index >= kInfo.size()) throw std::out_of_range("not a RejectReason");
  return kInfo[index];
}

std::string_view reject_reason_label(RejectReason reason) {
  return reject_reason_info(reason).label;
}

Rejection Rejection::of(RejectReason reason, std::string_view detail) {
  std::string_view field = reject_reason_info(reason).field;
  if (field.empty())
    throw std::logic_error(
        fmt::format("Rejection::of: {} messages name no field", reject_reason_label(reason)));
  std::string message;
  message.reserve(field.size() + 2 + detail.size());
  message += field;
  message += ": ";
  message += detail;
  return Rejection{reason, std::move(message)};
}

}  // namespace signalbox
