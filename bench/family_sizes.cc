#include "family_sizes.h"

#include <stdexcept>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

namespace signalbox::bench {

namespace fs = std::filesystem;

FamilySizes family_sizes(const fs::path& path, const std::vector<std::uint64_t>& users) {
  std::vector<std::string> names;
  rocksdb::Options options;
  if (!rocksdb::DB::ListColumnFamilies(options, path.string(), &names).ok())
    throw std::runtime_error("cannot list column families");
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(options, path.string(), families, &handles, &raw).ok())
    throw std::runtime_error("cannot open " + path.string() + " read-only");
  FamilySizes sizes;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    std::uint64_t bytes = 0;
    raw->GetIntProperty(handles[i], "rocksdb.total-sst-files-size", &bytes);
    sizes.family_bytes[names[i]] = bytes;
    if (names[i] != "tiles") continue;
    for (std::uint64_t user : users) {
      auto be = [](std::uint64_t v) {
        std::string key(8, '\0');
        for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(v >> (56 - 8 * b));
        return key;
      };
      std::string from = be(user), to = be(user + 1);
      rocksdb::Range range(from, to);
      std::uint64_t user_bytes = 0;
      raw->GetApproximateSizes(rocksdb::SizeApproximationOptions(), handles[i], &range, 1,
                               &user_bytes);
      sizes.user_tile_bytes[user] = user_bytes;
    }
  }
  for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
  delete raw;
  return sizes;
}

std::uintmax_t folder_bytes(const fs::path& path) {
  std::uintmax_t bytes = 0;
  for (auto& f : fs::recursive_directory_iterator(path))
    if (f.is_regular_file()) bytes += f.file_size();
  return bytes;
}

}  // namespace signalbox::bench
