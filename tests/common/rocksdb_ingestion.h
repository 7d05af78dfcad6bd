#pragma once

// Whether a RocksDB store ingested a table file (a bulk load, store/rocksdb/bulk_load.h), as
// its informational logs (LOG and the LOG.old.* an open keeps) record it: from outside the
// store, as a test of a `signalbox` process must ask.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace signalbox::testing {

inline bool rocksdb_ingested_a_file(const std::filesystem::path& store) {
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(store)) {
    if (!entry.path().filename().string().starts_with("LOG")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("\"ingest_finished\"") != std::string::npos) return true;
  }
  return false;
}

}  // namespace signalbox::testing
