#pragma once

#include <memory>

#include "signalbox/config/config.h"
#include "signalbox/store/store.h"

namespace signalbox {

// Opens the store `config.storage` names: RocksDB in storage.path (read-only beside a running
// server with `read_only`), or Redis on storage.nodes. A Redis password given as env:NAME or
// file:PATH is read here. Throws ConfigError when the password cannot be read, StorageError
// when the store does not open. `merger` must outlive the store.
std::unique_ptr<Store> open_store(const Config& config, const TileMerger& merger, bool read_only);

}  // namespace signalbox
