#pragma once

// What a Kafka topic's messages must come to, decided by the tests on their own from
// docs/kafka.md and docs/events.md: each message judged by the event rules (event_rules.h),
// the valid events then by the per-partition late rule and topic-wide identity
// (partition_late_rule.h). A test feeds it every message it produces, in the order produced
// (each partition's order decides; across partitions it only bounds stream time), then asserts the
// consumer's counts (compare_counts), the dead letters (each skipped message, blamed on the
// same field) and the signals of `taken()`. Never takes the engine's word.
//
// Not thread-safe: one test thread feeds it.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "event_rules.h"
#include "partition_late_rule.h"
#include "reference_intake.h"
#include "signalbox/common/time.h"
#include "world.h"

namespace signalbox::testing {

class ReferenceTopic {
 public:
  // `batch_messages`, `ownership` and `lead` as for PartitionLateRule.
  ReferenceTopic(const World& world, std::size_t batch_messages,
                 PartitionLateRule::Ownership ownership,
                 std::size_t lead = PartitionLateRule::kWholeTopic)
      : world_(world),
        rule_(reference_late_horizon(world.config), batch_messages, ownership, lead) {}

  // What the consumer must have made of the messages, by the documented reasons.
  struct Counts {
    std::uint64_t messages = 0, accepted = 0, duplicates = 0, undecodable = 0, invalid = 0,
                  late = 0;
  };

  // The next message of `partition`, a JSON event text. Messages of different partitions are
  // taken in the order produced.
  void take_text(int partition, const std::string& text) {
    take_judged(partition, text.empty() ? JudgedEvent{std::nullopt, "empty message"}
                                        : judge_event(text, wall_clock_ms(),
                                                      world_.config.event_store.max_future_skew));
  }

  // The next message of `partition`, judged by the caller (a protobuf message read by the
  // test's own rules); fault `json`, `protobuf` or `empty message` makes it undecodable.
  void take_judged(int partition, JudgedEvent judged) {
    const std::int64_t offset = next_offset_[partition]++;
    ++counts_.messages;
    std::optional<PartitionLateRule::Outcome> outcome = rule_.take(world_, partition, judged.event);
    if (!outcome) {
      (is_undecodable(judged.fault) ? counts_.undecodable : counts_.invalid) += 1;
      rejected[{partition, offset}] = judged.fault;
      return;
    }
    switch (*outcome) {
      case PartitionLateRule::Outcome::kLate:
        ++counts_.late;
        rejected[{partition, offset}] = "ts";
        return;
      case PartitionLateRule::Outcome::kDuplicate:
        ++counts_.duplicates;
        [[fallthrough]];
      case PartitionLateRule::Outcome::kTaken:
        ++counts_.accepted;
        return;
    }
  }

  static bool is_undecodable(const std::string& fault) {
    return fault == "json" || fault == "protobuf" || fault == "empty message";
  }

  const Counts& counts() const { return counts_; }
  // The events that count, each once.
  const std::vector<RefEvent>& taken() const { return rule_.taken; }
  // The highest ts taken (the topic's stream time).
  TimeMs head() const { return rule_.head(); }
  // Events whose fate depends on batching or partition ownership (see PartitionLateRule):
  // a test asserts there are none before it trusts its expectations.
  std::vector<std::string> undecidable() const { return rule_.undecidable(); }

  // Every message to be skipped, (partition, offset) -> the field at fault (`ts` when late).
  std::map<std::pair<int, std::int64_t>, std::string> rejected;

 private:
  const World& world_;
  PartitionLateRule rule_;
  Counts counts_;
  std::map<int, std::int64_t> next_offset_;  // the offset the next message of a partition gets
};

// "" when `got` (a consumer's counters, or their sums) equals the reference's, else what differs.
inline std::string compare_counts(const ReferenceTopic::Counts& want,
                                  const ReferenceTopic::Counts& got) {
  std::string out;
  auto one = [&](const char* name, std::uint64_t w, std::uint64_t g) {
    if (w != g) out += fmt::format("{}: the reference {}, the consumer {}; ", name, w, g);
  };
  one("messages", want.messages, got.messages);
  one("accepted", want.accepted, got.accepted);
  one("duplicates", want.duplicates, got.duplicates);
  one("undecodable", want.undecodable, got.undecodable);
  one("invalid", want.invalid, got.invalid);
  one("late", want.late, got.late);
  return out;
}

}  // namespace signalbox::testing
