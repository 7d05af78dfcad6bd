#pragma once

#include <hiredis/hiredis.h>

#include "signalbox/store/redis/redis_cluster.h"

namespace signalbox {

// The functions through which hiredis's reader builds each reply (redisReader::fn), building
// a RedisValue tree directly. hiredis's own functions build redisReply objects, which the
// client then copied into RedisValues: every element and every string allocated and copied
// twice, about 7 000 instructions of a light user's query on Redis (docs/performance.md).
// A reply's root is a RedisValue made with new; its elements live inside it, each in the slot
// its array made for it. The reader frees a root it has not handed out with freeObject.
// Stateless: one table for every connection.
redisReplyObjectFunctions* redis_value_functions();

// Takes the root that redisGetReply() gave from a reader using redis_value_functions().
RedisValue take_reply(void* reply);

}  // namespace signalbox
