// Opening a RocksDB store whose MANIFEST lost its latest records (truncated) refuses with a
// clear error instead of answering from an older state, and deletes no table file: RocksDB on
// its own opens such a store without complaint and deletes the table files it no longer
// lists.

#include <gtest/gtest.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>

#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kT0 = 1704067200000;  // 2024-01-01T00:00:00Z

class CountMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    long long total = 0;
    for (std::string_view op : operands) {
      long long v = 0;
      std::from_chars(op.data(), op.data() + op.size(), v);
      total += v;
    }
    return std::to_string(total);
  }
};

CommitBatch events_of(std::uint64_t user, int count) {
  CommitBatch batch;
  for (int i = 0; i < count; ++i) {
    TimeMs ts = kT0 + i * 1000;
    batch.events.push_back(StoredEvent{user, ts, "e" + std::to_string(i), "body", true});
    batch.high_water = std::max(batch.high_water, ts);
  }
  batch.tiles.push_back(
      TileDelta{TileKey{user, TileKind::kDay, kT0}, {StateDelta{1, std::to_string(count)}}});
  return batch;
}

std::map<std::string, std::uintmax_t> table_files(const fs::path& dir) {
  std::map<std::string, std::uintmax_t> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".sst")
      files[entry.path().filename().string()] = entry.file_size();
  return files;
}

fs::path manifest(const fs::path& dir) {
  std::ifstream current(dir / "CURRENT");
  std::string name;
  std::getline(current, name);
  return dir / name;
}

class RocksDbOpen : public ::testing::Test {
 protected:
  RocksDbOpen() {
    dir_ = fs::temp_directory_path() / ("signalbox-open-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  ~RocksDbOpen() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open() {
    RocksDbOptions options{dir_, false, false};
    options.event_id_level0_files = event_id_level0_files_;
    return open_rocksdb_store(options, merger_);
  }

  fs::path dir_;
  int event_id_level0_files_ = RocksDbOptions{}.event_id_level0_files;
  CountMerger merger_;
};

TEST_F(RocksDbOpen, ReopensWhatItWrote) {
  {
    auto store = open();
    store->commit(events_of(1, 50));
    store->flush();
    store->commit(events_of(2, 50));  // in the write-ahead log only
  }
  auto store = open();
  std::vector<std::pair<std::uint64_t, std::string>> ids = {{1, "e49"}, {2, "e49"}, {3, "e0"}};
  EXPECT_EQ(store->contains(ids), (std::vector<bool>{true, true, false}));
}

TEST_F(RocksDbOpen, ATruncatedManifestIsRefusedAndNoTableFileIsDeleted) {
  // RocksDB's default: with two, the ids family compacts its two flushed files at once, and the
  // truncated MANIFEST then lists a file that compaction deleted, which RocksDB refuses itself
  // before the listing of the files is checked. This test is about a file the MANIFEST lost.
  event_id_level0_files_ = 4;
  std::uintmax_t manifest_size = 0;
  {
    auto store = open();
    store->commit(events_of(1, 200));
    store->flush();
    manifest_size = fs::file_size(manifest(dir_));
    store->commit(events_of(2, 200));
    store->flush();  // user 2's events are now in a table file only the MANIFEST's tail lists
  }
  const auto before = table_files(dir_);
  ASSERT_GE(before.size(), 2u);
  fs::resize_file(manifest(dir_), manifest_size);

  try {
    open();
    FAIL() << "a store whose MANIFEST lost the listing of a table file opened";
  } catch (const StorageError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("the MANIFEST does not list table file"), std::string::npos) << message;
    EXPECT_NE(message.find(" of user 2 at ts "), std::string::npos)
        << message;  // an event or its id
    EXPECT_NE(message.find("Refusing to open"), std::string::npos) << message;
  }
  const auto after = table_files(dir_);
  for (const auto& [name, size] : before) {
    ASSERT_TRUE(after.count(name)) << name << " was deleted";
    EXPECT_EQ(after.at(name), size) << name;
  }
  // And a second attempt refuses the same way: nothing was repaired by deleting.
  EXPECT_THROW(open(), StorageError);
  EXPECT_EQ(table_files(dir_).size(), after.size());
}

TEST_F(RocksDbOpen, AManifestCutInsideARecordIsRefusedToo) {
  {
    auto store = open();
    for (std::uint64_t user = 1; user <= 4; ++user) {
      store->commit(events_of(user, 100));
      store->flush();
    }
  }
  const auto before = table_files(dir_);
  fs::resize_file(manifest(dir_), fs::file_size(manifest(dir_)) / 2);
  try {
    open();
    FAIL() << "a store with half its MANIFEST opened";
  } catch (const StorageError& e) {
    std::string message = e.what();
    EXPECT_TRUE(message.find("MANIFEST") != std::string::npos ||
                message.find("damaged") != std::string::npos)
        << message;
    EXPECT_NE(message.find("backup"), std::string::npos) << message;
  }
  const auto after = table_files(dir_);
  for (const auto& [name, size] : before) EXPECT_TRUE(after.count(name)) << name << " was deleted";
}

}  // namespace
}  // namespace signalbox::testing
