#include "signalbox/store/redis/redis_reply_builder.h"

#include <memory>
#include <new>
#include <utility>

namespace signalbox {

namespace {

// `value` at its place: the slot its parent array made for it, or a new root. Null (hiredis's
// out-of-memory) when it cannot be made: these are called from C, and must not throw.
void* place(const redisReadTask* task, RedisValue&& value) noexcept {
  try {
    if (task->parent != nullptr) {
      auto* parent = static_cast<RedisValue*>(task->parent->obj);
      RedisValue& slot = parent->elements[static_cast<std::size_t>(task->idx)];
      slot = std::move(value);
      return &slot;
    }
    return new RedisValue(std::move(value));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  RedisValue v;
  v.type = task->type == REDIS_REPLY_ERROR    ? RedisValue::Type::kError
           : task->type == REDIS_REPLY_STATUS ? RedisValue::Type::kStatus
                                              : RedisValue::Type::kString;
  try {
    v.str.assign(str, len);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  return place(task, std::move(v));
}

void* create_array(const redisReadTask* task, int elements) {
  RedisValue v;
  v.type = RedisValue::Type::kArray;
  try {
    // Sized once: the elements are placed into these slots as they are read.
    v.elements.resize(elements > 0 ? static_cast<std::size_t>(elements) : 0);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  return place(task, std::move(v));
}

void* create_integer(const redisReadTask* task, long long value) {
  RedisValue v;
  v.type = RedisValue::Type::kInteger;
  v.integer = value;
  return place(task, std::move(v));
}

void* create_nil(const redisReadTask* task) { return place(task, RedisValue()); }

// Only ever called on a root (the reader frees the reply it holds, never its elements).
void free_object(void* reply) { delete static_cast<RedisValue*>(reply); }

redisReplyObjectFunctions kFunctions = {create_string, create_array, create_integer, create_nil,
                                        free_object};

}  // namespace

redisReplyObjectFunctions* redis_value_functions() { return &kFunctions; }

RedisValue take_reply(void* reply) {
  std::unique_ptr<RedisValue> root(static_cast<RedisValue*>(reply));
  return std::move(*root);
}

}  // namespace signalbox
