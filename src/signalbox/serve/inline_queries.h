#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "signalbox/serve/request_costs.h"

namespace signalbox {

// Whether the HTTP server answers a GET of one user's signals on its I/O thread rather than
// in the query pool, which costs two thread hops, the pool's queue and two wake-ups (tens of
// microseconds, as much as a light user's query itself). Answering inline stalls every other
// connection of that I/O thread for as long as the query runs, so a request runs inline only
// when all of these hold:
//
//  * its path (the user) was answered before and that answer took at most `budget`
//    (RequestCosts): a user never seen, or seen to be slow, goes to the pool, where its cost
//    is measured without holding anyone up;
//  * the query pool is idle (nothing queued or running): while it works the server is
//    loaded, a query run inline would jump its queue, and the pool's threads use the other
//    cores while the I/O thread does its queries one at a time; in benchmarks on 2 cores,
//    inlining while only the queue was empty lost 10-15 % of the saturated throughput;
//  * the I/O threads spent at most kShare of their recent time answering inline (a leaky
//    bucket `kDepth` budgets deep): under a load that keeps an I/O thread busy, more queries
//    run inline than it can frame, and the cores the pool would use stay idle, so the excess
//    goes to the pool.
//
// Every answer measured (inline or in the pool) updates the path's cost, so a user that
// became heavy moves to the pool after one inline answer over the budget, and one that was
// slow only on a busy machine comes back. A zero budget turns inlining off. Thread-safe and
// lock-free.
class InlineQueries {
 public:
  // Share of the I/O threads' time inline answers may take, and how many budgets of it a
  // burst may take at once before the bucket refuses.
  static constexpr double kShare = 0.5;
  static constexpr int kDepth = 4;

  InlineQueries(std::chrono::microseconds budget, unsigned io_threads)
      : budget_(budget), rate_(kShare * io_threads) {}
  InlineQueries(const InlineQueries&) = delete;
  InlineQueries& operator=(const InlineQueries&) = delete;

  bool enabled() const { return budget_.count() > 0; }
  // Whether a request of `path` runs inline now, `in_pool` requests being queued or run in
  // the query pool.
  bool runs_inline(std::string_view path, std::size_t in_pool) const;
  // Records what answering `path` cost, started at `start`; `ran_inline` charges it to the I/O
  // threads' share.
  void record(std::string_view path, std::chrono::steady_clock::time_point start,
              std::chrono::nanoseconds cost, bool ran_inline);

 private:
  const std::chrono::microseconds budget_;
  const double rate_;  // I/O thread time inline answers may take per second of wall time
  RequestCosts costs_;
  // The bucket: the steady-clock time (ns since its epoch) until which the inline answers so
  // far, spread at `rate_`, keep the I/O threads busy. Inline runs while it is less than
  // kDepth budgets ahead of now.
  std::atomic<std::int64_t> busy_until_ns_{0};
};

}  // namespace signalbox
