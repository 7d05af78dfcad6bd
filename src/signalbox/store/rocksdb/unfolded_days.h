#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// Which users hold day tiles that expire()'s fold into the base tile has not visited yet, and
// from which day. A fold runs every week of stream time while ingesting and on every expiry
// run of `serve`, and the store keeps each user's day tiles for the longest window (90 days in
// the demo): scanning them all made a replay's folds a quarter of its writing thread's work.
// With this index a fold visits only the day tiles written since the fold before.
//
// The store notes the day tile of every tile value it commits (wrote()); a fold asks which users
// are due before the day it folds through (due()) and, having folded one, tells where that
// user's first day tile left starts (folded()). An index that does not know (a store just
// opened, or more users noted than `max_users`) is not complete(): the fold then scans every
// user's tiles between start_scan() and finish_scan(), noting what it leaves with folded(),
// and the index is complete afterwards (unless it overflowed during the scan). A clean close
// keeps a complete index in the store and the next open load()s it. A scan may be
// spread over several calls with commits in between (a fold in slices): their writes are noted
// as they come, whether the scan has passed their user or not.
//
// Not synchronised: the store calls it from its writer only (commits and expiry, which do not
// overlap).
class UnfoldedDays {
 public:
  // At most `max_users` users are noted (about 50 bytes each); 0: never complete.
  explicit UnfoldedDays(std::size_t max_users) : max_users_(max_users) {}

  // A commit wrote a value to `user`'s day tile starting at `day_start`.
  void wrote(std::uint64_t user, TimeMs day_start);
  bool complete() const { return complete_; }
  // The start of `user`'s first unvisited day tile, if the index notes one.
  std::optional<TimeMs> first_day(std::uint64_t user) const;
  // The users with an unvisited day tile before `keep_from`, ascending (the tiles' key order),
  // each with the start of its first one. Only when complete().
  std::vector<std::pair<std::uint64_t, TimeMs>> due(TimeMs keep_from) const;
  // `user` was folded: `first_left` is the start of its first day tile from the fold's day
  // on, if it has one.
  void folded(std::uint64_t user, std::optional<TimeMs> first_left);
  // Forgets every user, to be filled by a scan of every user's tiles.
  void start_scan();
  // Forgets every user: not complete until the next scan (a fold that failed midway leaves
  // the index unsure of what it folded).
  void forget();
  void finish_scan();

  // Every user noted, ascending, with its first unvisited day: what a clean close keeps
  // (key_layout.h) so that the fold after the next open need not scan. Only when complete().
  std::vector<std::pair<std::uint64_t, TimeMs>> noted() const;
  // Knows exactly `noted` (kept by a clean close, nothing written since): complete, as after a
  // scan, unless there are more than `max_users`. Only before any other call.
  void load(std::span<const std::pair<std::uint64_t, TimeMs>> noted);

 private:
  void note(std::uint64_t user, TimeMs day_start);

  const std::size_t max_users_;
  bool complete_ = false;
  bool scanning_ = false;
  bool overflowed_ = false;
  std::unordered_map<std::uint64_t, TimeMs> first_day_;
};

}  // namespace signalbox
