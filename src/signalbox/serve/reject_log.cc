#include "signalbox/serve/reject_log.h"

#include <iterator>

#include <fmt/format.h>

#include "signalbox/common/logging.h"

namespace signalbox {

void RejectLog::note(IngestSource source, std::size_t events,
                     const std::vector<RejectedEvent>& rejected) {
  if (rejected.empty()) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  pending_rejected_ += rejected.size();
  pending_events_ += events;
  ++pending_batches_;
  for (const RejectedEvent& r : rejected) ++pending_reasons_[reject_reason_index(r.reason)];
  if (first_message_.empty()) first_message_ = rejected.front().message;
  if (logged_any_ && now - last_line_ < interval_) return;
  std::string reasons;
  for (RejectReason reason : kRejectReasons) {
    std::uint64_t n = pending_reasons_[reject_reason_index(reason)];
    if (n == 0) continue;
    fmt::format_to(std::back_inserter(reasons), "{}{}={}", reasons.empty() ? "" : ",",
                   reject_reason_label(reason), n);
  }
  // The example is the client's text: bounded so that one line stays one line of sane size.
  constexpr std::size_t kMaxExample = 300;
  if (first_message_.size() > kMaxExample) first_message_.resize(kMaxExample);
  log_event(spdlog::level::warn, "rejected events",
            {{"source", ingest_source_label(source)},
             {"rejected", pending_rejected_},
             {"events", pending_events_},
             {"batches", pending_batches_},
             {"reasons", reasons},
             {"example", first_message_}});
  logged_any_ = true;
  last_line_ = now;
  pending_rejected_ = pending_events_ = pending_batches_ = 0;
  pending_reasons_.fill(0);
  first_message_.clear();
}

}  // namespace signalbox
