#pragma once

#include <chrono>
#include <cstddef>
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
//  * the I/O thread was busy less than kMaxLoad of its last ThreadLoad window (kLoadWindow),
//    framing, reading and writing included, and on a store read over the network the time
//    its inline answers spent blocked on it (a Redis round trip; HttpServerOptions::
//    inline_answers_block), which its CPU clock does not show: an I/O
//    thread that answers every query it frames runs nearly all the time at half the rate the server
//    saturates at, and then a burst of requests, or a moment without a core, queues every
//    connection behind it (p99 of tens of milliseconds at that rate, docs/performance.md). Past the
//    mark the queries go to the pool, whose threads take the other cores. Below it an I/O thread's
//    queue stays short: at 3 000 requests/s, a fifth of the saturation rate on 2 cores, answering
//    every light user inline kept it 43 % busy (sending on loopback costs it as much as the query).
//
// Every answer measured (inline or in the pool) updates the path's cost, so a user that
// became heavy moves to the pool after one inline answer over the budget, and one that was
// slow only on a busy machine comes back. A zero budget turns inlining off. Thread-safe and
// lock-free; the load is each I/O thread's own, measured by the caller.
class InlineQueries {
 public:
  static constexpr double kMaxLoad = 0.7;
  static constexpr std::chrono::milliseconds kLoadWindow{10};

  explicit InlineQueries(std::chrono::microseconds budget);
  InlineQueries(const InlineQueries&) = delete;
  InlineQueries& operator=(const InlineQueries&) = delete;

  bool enabled() const { return budget_.count() > 0; }
  // Whether a request of `path` runs inline now, `in_pool` requests being queued or run in
  // the query pool and the calling I/O thread having run `io_load` (ThreadLoad::share) of its
  // last window.
  bool runs_inline(std::string_view path, std::size_t in_pool, double io_load) const;
  // Records what answering `path` cost.
  void record(std::string_view path, std::chrono::nanoseconds cost);

 private:
  const std::chrono::microseconds budget_;
  RequestCosts costs_;
};

}  // namespace signalbox
