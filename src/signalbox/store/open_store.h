#pragma once

#include <memory>

#include "signalbox/config/config.h"
#include "signalbox/store/store.h"

namespace signalbox {

// How a command uses the store it opens.
struct StoreAccess {
  // Reads only, beside a running server (`signalbox get`).
  bool read_only = false;
  // Writes large batches as a bulk load (RocksDB: RocksDbOptions::bulk_load), for a command
  // that runs no query while it writes (`signalbox replay`); Redis ignores it.
  bool bulk_load = false;
};

// Opens the store `config.storage` names: RocksDB in storage.path, or Redis on storage.nodes.
// A Redis password given as env:NAME or file:PATH is read here. Throws ConfigError when the
// password cannot be read, StorageError when the store does not open. `merger` must outlive
// the store.
std::unique_ptr<Store> open_store(const Config& config, const TileMerger& merger,
                                  StoreAccess access);

}  // namespace signalbox
