// A store written in another on-disk format is refused with a message saying what to do,
// never read as if it were the current one.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "signalbox/common/error.h"
#include "world.h"

namespace signalbox::testing {
namespace {

// Creates a RocksDB folder at `path` with Signalbox's column families whose format record
// says `format`.
void write_format(const std::filesystem::path& path, const std::string& format) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "events", "event_ids", "tiles"})
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path.string(), families, &handles, &db).ok());
  EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0], "meta/format", format).ok());
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
}

// The format record of the store at `path`.
std::string read_format(const std::filesystem::path& path) {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "events", "event_ids", "tiles"})
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  EXPECT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path.string(), families, &handles, &db)
          .ok());
  std::string format;
  if (db) {
    db->Get(rocksdb::ReadOptions(), handles[0], "meta/format", &format).PermitUncheckedError();
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  return format;
}

std::string open_error(const Config& config, bool read_only) {
  Engine::Options options;
  options.read_only = read_only;
  try {
    Engine engine(config, options);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}

TEST(StoreFormat, AStoreOfAnEarlierLayoutIsRefusedWithAWayOut) {
  for (std::string format : {"signalbox-rocksdb-1", "signalbox-rocksdb-2"}) {
    World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
    write_format(world.config.storage.path, format);
    for (bool read_only : {false, true}) {
      std::string message = open_error(world.config, read_only);
      EXPECT_NE(message.find("earlier version"), std::string::npos) << message;
      EXPECT_NE(message.find(format), std::string::npos) << message;
      EXPECT_NE(message.find("Replay the events into a new storage.path"), std::string::npos)
          << message;
    }
  }
}

// Format 3 is format 4 without the tile journal, format 4 format 5 without compact grouped
// totals: read as they are, marked 5 by a writable open (which older versions then refuse).
TEST(StoreFormat, AStoreOfAnUpgradableFormatOpensAndIsMarkedCurrent) {
  for (std::string format : {"signalbox-rocksdb-3", "signalbox-rocksdb-4"}) {
    World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
    write_format(world.config.storage.path, format);
    EXPECT_EQ(open_error(world.config, true), "");
    EXPECT_EQ(read_format(world.config.storage.path), format);
    EXPECT_EQ(open_error(world.config, false), "");
    EXPECT_EQ(read_format(world.config.storage.path), "signalbox-rocksdb-5");
  }
}

TEST(StoreFormat, AnUnknownFormatIsRefused) {
  // A later format too: this version would misread what it changed.
  for (std::string format : {"something-else", "signalbox-rocksdb-6"}) {
    World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
    write_format(world.config.storage.path, format);
    for (bool read_only : {false, true}) {
      std::string message = open_error(world.config, read_only);
      EXPECT_NE(message.find("\"" + format + "\""), std::string::npos) << message;
    }
  }
}

TEST(StoreFormat, AStoreOfThisVersionReopens) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"});
  { Engine engine(world.config); }
  EXPECT_EQ(open_error(world.config, false), "");
  EXPECT_EQ(open_error(world.config, true), "");
}

}  // namespace
}  // namespace signalbox::testing
