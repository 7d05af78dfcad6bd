#pragma once

#include <string_view>

#include <fmt/format.h>
#include <rocksdb/status.h>

#include "signalbox/common/error.h"

namespace signalbox {

// Throws StorageError("rocksdb: <what>: <RocksDB's text>") unless `status` is ok: the one
// form in which the RocksDB store reports a failed call.
inline void check_rocksdb(const rocksdb::Status& status, std::string_view what) {
  if (!status.ok()) throw StorageError(fmt::format("rocksdb: {}: {}", what, status.ToString()));
}

}  // namespace signalbox
