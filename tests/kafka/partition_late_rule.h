#pragma once

// The late-event rule for a Kafka topic as docs/kafka.md states it, applied by a test on its
// own (never taking the engine's word): each partition has a stream time of its own, the
// newest ts taken from it, and an event is too late only when its ts is at or before its own
// partition's stream time minus the late horizon; the newest events of another partition do
// not count. Identity is topic-wide: the first copy taken of each (user_id, event_id) counts,
// later ones are duplicates (a duplicate does not move stream time, docs/events.md).
//
// Two things the consumer decides that a test does not control are accounted for rather than
// guessed: where batch boundaries fall (an event is judged by the stream time before its
// batch, and a batch may hold up to `batch_messages` messages of a partition), and, when the
// partitions may change owner (a restart, a hand-over, a rebalance), that a newly assigned
// partition has no stream time until its first batch and is judged by the store's id horizon
// alone. That horizon never lies above stream time minus the late horizon (docs/events.md:
// ids are kept for the late horizon), and while one consumer owns every partition from the
// start it lies no higher than the slowest partition's stream time minus the late horizon.
// Stream time when a message is consumed depends on what of the other partitions was
// consumed before it: a test states how far, in messages produced after it, consumption may
// have run ahead of any message (`lead`; by default the whole topic).
// An event whose fate depends on any of these is `undecidable`: a test asserts there are none, so
// its expected answers never rest on a guess.
//
// Not thread-safe: one test thread feeds it.

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "world.h"

namespace signalbox::testing {

class PartitionLateRule {
 public:
  // Whether one consumer owns every partition for the whole test, every partition holding
  // messages when it starts (kStable), or not (kMoving: partitions may change owner, or be
  // assigned while empty and so settled without a stream time).
  enum class Ownership { kStable, kMoving };

  static constexpr std::size_t kWholeTopic = std::numeric_limits<std::size_t>::max();

  PartitionLateRule(TimeMs late_horizon, std::size_t batch_messages, Ownership ownership,
                    std::size_t lead = kWholeTopic)
      : late_horizon_(late_horizon),
        batch_messages_(batch_messages),
        ownership_(ownership),
        lead_(lead) {}

  enum class Outcome { kTaken, kDuplicate, kLate };

  // The next message of `partition` (in that partition's order); `event` when it holds a
  // valid event, else nullopt (a bad message: it moves nothing, but takes a place in a batch).
  std::optional<Outcome> take(const World& world, int partition,
                              const std::optional<Event>& event) {
    Partition& p = partitions_[partition];
    // The stream time before this message's batch lies between these two: the batch may
    // begin with this message, or with one up to batch_messages - 1 messages before it.
    const TimeMs newest = p.clocks.empty() ? kNone : p.clocks.back();
    const TimeMs oldest = ownership_ == Ownership::kMoving || p.clocks.size() < batch_messages_
                              ? kNone
                              : p.clocks[p.clocks.size() - batch_messages_];
    std::optional<Outcome> outcome;
    if (event) {
      const bool late = behind(event->ts, newest);
      const bool late_anyway = behind(event->ts, oldest);
      if (late != late_anyway) {
        undecided_.push_back(fmt::format(
            "partition {} message {}: ts {} is late by stream time {} but not by {}", partition,
            p.clocks.size(), event->ts, late ? newest : oldest, late ? oldest : newest));
      }
      if (!late) on_time_.emplace_back(heads_.size(), event->ts);
      if (late) {
        outcome = Outcome::kLate;
      } else if (!ids_.emplace(event->user_id, event->event_id).second) {
        outcome = Outcome::kDuplicate;
      } else {
        outcome = Outcome::kTaken;
        taken.push_back(world.to_ref(*event));
        p.newest = std::max(p.newest, event->ts);
        head_ = std::max(head_, event->ts);
      }
    }
    p.clocks.push_back(p.newest);
    heads_.push_back(head_);
    return outcome;
  }

  static constexpr TimeMs kNone = std::numeric_limits<TimeMs>::min();
  // The highest ts taken from any partition; kNone before any.
  TimeMs head() const { return head_; }
  // The events that count, each once.
  std::vector<RefEvent> taken;
  // Events whose fate depends on batching or on partition ownership, described. With
  // kMoving, an event on time by its partition could still be refused by the id horizon of a
  // process that took the partition over, if it is not above the topic's stream time when it
  // is consumed (at most that of the messages up to `lead` after it) minus the late horizon.
  std::vector<std::string> undecidable() const {
    std::vector<std::string> out = undecided_;
    if (ownership_ != Ownership::kMoving) return out;
    for (const auto& [index, ts] : on_time_) {
      const std::size_t through =
          heads_.size() - 1 - index > lead_ ? index + lead_ : heads_.size() - 1;
      if (behind(ts, heads_[through])) {
        out.push_back(
            fmt::format("message {} of the topic: ts {} is on time by its partition but at or "
                        "below the id horizon's bound {}",
                        index, ts, heads_[through] - late_horizon_));
      }
    }
    return out;
  }

 private:
  struct Partition {
    TimeMs newest = kNone;
    std::vector<TimeMs> clocks;  // clocks[i]: the stream time after message i
  };

  bool behind(TimeMs ts, TimeMs stream_time) const {
    return stream_time != kNone && ts <= stream_time - late_horizon_;
  }

  TimeMs late_horizon_;
  std::size_t batch_messages_;
  Ownership ownership_;
  TimeMs head_ = kNone;
  std::size_t lead_;
  std::vector<TimeMs> heads_;                            // heads_[i]: head() after message i
  std::vector<std::pair<std::size_t, TimeMs>> on_time_;  // (message index, ts) of events not late
  std::vector<std::string> undecided_;
  std::map<int, Partition> partitions_;
  std::set<std::pair<std::uint64_t, std::string>> ids_;
};

}  // namespace signalbox::testing
