#pragma once

// On-disk sizes of a RocksDB store, for the benchmarks' state and raw-event rows.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace signalbox::bench {

// On-disk (compressed SST) bytes of each column family of a RocksDB store, and of each given
// user's tiles (keys start with the user id, big-endian).
struct FamilySizes {
  std::map<std::string, std::uint64_t> family_bytes;
  std::map<std::uint64_t, std::uint64_t> user_tile_bytes;
};

// Reads the sizes of the store at `path`, opened read-only, so it may run while an engine has
// the store open read-only too. Throws std::runtime_error when it cannot be opened.
FamilySizes family_sizes(const std::filesystem::path& path,
                         const std::vector<std::uint64_t>& users);

// Bytes of every regular file under `path`.
std::uintmax_t folder_bytes(const std::filesystem::path& path);

}  // namespace signalbox::bench
