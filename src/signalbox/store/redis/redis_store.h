#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "signalbox/store/redis/redis_cluster.h"
#include "signalbox/store/store.h"

namespace signalbox {

struct RedisStoreOptions {
  RedisClusterOptions cluster;
  // Starts every key, so that several deployments can share one Redis.
  std::string key_prefix = "signalbox";
  // How long stream time and the horizons read for one snapshot serve the snapshots taken
  // after it (a snapshot of a moment later may show them lower than {p}:meta holds by then,
  // never lower than this process's own commits and expiries set them).
  std::chrono::milliseconds horizons_reuse{1};
};

// The shared store on Redis, a single server or a Redis Cluster (see redis_cluster.h), for
// several serving processes on one state. Every key of one user carries the hash tag
// {prefix:user}, so one user's events, ids and tiles live on one node and change together
// in one Lua script:
//   {p:u}:e  sorted set of the raw events, score ts, member time_be(ts) + event_id
//   {p:u}:b  hash member -> encoded event
//   {p:u}:i  sorted set of the ids kept for deduplication, score ts, member 64-bit id hash
//   {p:u}:t  hash of tiles: field kind + time_be(start) -> merged value; field
//            kind + time_be(start) + ":" + seq -> an operand appended by a commit;
//            #seq, #ops (operand counters), #expired (how far the user has been expired)
//   {p:u}:c  sorted set of the user's recent commits, member the commit's 128-bit random
//            token, score the server's time (ms); entries and the key expire after a minute
//            (and 30 timeouts) without commits
//   {p}:meta (hash: stream time, horizons, format, event count), {p}:counted (the recent
//   changes of the event count by token, kept as {p:u}:c), {p}:users (users with raw
//   events), {p}:known (every user stored, for expiry)
// A commit checks the user's ids and writes its events, ids and tile operands in one script,
// or nothing when another writer stored one of the ids first; the commit then throws
// StorageError after writing the other users (a retry of the batch counts every event once).
// A user's script that RedisCluster sends again after its first send was written (the reply
// was lost or late) finds its commit's token and answers as the first send did, writing
// nothing: a slow reply does not fail the commit, and nothing is counted twice. The event
// count is changed afterwards, in {p}:meta's slot, by a script that records the commit's
// token in {p}:counted and does nothing when it finds it there: sent again, it counts once.
// Tile operands are merged by readers through `merger` and compacted now and then with a
// compare-and-set script. Stream time and the horizons live in {p}:meta, raised with a
// max() script, so every process on the store shares them. A snapshot reads them, or takes
// those read for another one at most `horizons_reuse` before, then each user's data in one
// script; a user of many raw events has its tiles read first and then each range of events
// asked for, each read checked to be of the same moment as the first (SnapshotMoved).
//
// Thread-safety as Store requires; several processes may commit at once. Throws
// StorageError when Redis cannot be reached or answers an error. `merger` must outlive the
// store. flush() is a no-op: durability is the Redis servers' (appendonly) concern.
std::unique_ptr<Store> open_redis_store(const RedisStoreOptions& options, const TileMerger& merger);

}  // namespace signalbox
