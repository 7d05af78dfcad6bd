// RocksDbOptions: out-of-range fields are refused by name, and each tuning field reaches the
// RocksDB options the store opens with, read back from the OPTIONS file RocksDB writes into
// the data folder.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "signalbox/common/error.h"
#include "signalbox/common/time.h"
#include "signalbox/store/open_store.h"
#include "signalbox/store/rocksdb/rocksdb_options.h"
#include "signalbox/store/rocksdb/rocksdb_store.h"

namespace signalbox::testing {
namespace {

class NoMerger final : public TileMerger {
 public:
  std::string merge(std::uint64_t, std::span<const std::string_view> operands) const override {
    return std::string(operands.back());
  }
};

// The message of the ConfigError that validate_rocksdb_options throws, or "" when none.
std::string refusal(const RocksDbOptions& options) {
  try {
    validate_rocksdb_options(options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RocksDbOptions, DefaultsAreValid) {
  RocksDbOptions options;
  options.path = "/tmp/x";
  EXPECT_EQ(refusal(options), "");
}

TEST(RocksDbOptions, OutOfRangeFieldsAreRefusedByName) {
  const RocksDbOptions defaults;
  auto with = [&](auto change) {
    RocksDbOptions o = defaults;
    change(o);
    return refusal(o);
  };
  EXPECT_NE(with([](RocksDbOptions& o) { o.bloom_bits_per_key = -1; }).find("bloom_bits_per_key"),
            std::string::npos);
  EXPECT_NE(with([](RocksDbOptions& o) {
              o.write_buffer_bytes = 1000;
            }).find("write_buffer_bytes = 1000"),
            std::string::npos);
  EXPECT_NE(with([](RocksDbOptions& o) { o.background_jobs = 0; }).find("background_jobs"),
            std::string::npos);
  EXPECT_NE(with([](RocksDbOptions& o) { o.info_log_files_kept = 0; }).find("info_log_files_kept"),
            std::string::npos);
  EXPECT_NE(with([](RocksDbOptions& o) {
              o.event_id_memtable_bloom_ratio = 0.5;
            }).find("event_id_memtable_bloom_ratio"),
            std::string::npos);
  EXPECT_NE(with([](RocksDbOptions& o) {
              o.compression = static_cast<RocksDbCompression>(9);
            }).find("compression"),
            std::string::npos);
  // Edges of the ranges are accepted.
  EXPECT_EQ(with([](RocksDbOptions& o) {
              o.bloom_bits_per_key = 0;
              o.write_buffer_bytes = 64 << 10;
              o.background_jobs = 1;
              o.info_log_files_kept = 1;
              o.event_id_memtable_bloom_ratio = 0.25;
              o.block_cache_bytes = 0;
              o.tile_max_successive_merges = 8;
            }),
            "");
}

// section -> option -> value, of the newest OPTIONS file in `dir`.
using OptionsFile = std::map<std::string, std::map<std::string, std::string>>;

OptionsFile read_options_file(const std::filesystem::path& dir) {
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("OPTIONS-") && !name.ends_with(".dbtmp") &&
        (newest.empty() ||
         std::stoull(name.substr(8)) > std::stoull(newest.filename().string().substr(8))))
      newest = entry.path();
  }
  OptionsFile out;
  if (newest.empty()) {
    ADD_FAILURE() << "no OPTIONS file in " << dir;
    return out;
  }
  std::ifstream in(newest);
  std::string line, section;
  while (std::getline(in, line)) {
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    if (line.front() == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos) out[section][line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

class RocksDbTuningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("signalbox-rocksdb-options-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  OptionsFile open_with(RocksDbOptions options) {
    options.path = dir_;
    {
      auto store = open_rocksdb_store(options, merger_);
      CommitBatch batch;
      batch.events.push_back(StoredEvent{1, 1704067200000, "a", "body", true});
      batch.high_water = 1704067200000;
      store->commit(batch);
      EXPECT_EQ(store->high_water(), 1704067200000);
    }
    return read_options_file(dir_);
  }

  NoMerger merger_;
  std::filesystem::path dir_;
};

TEST_F(RocksDbTuningTest, DefaultsReachRocksDb) {
  OptionsFile file = open_with(RocksDbOptions{});
  EXPECT_EQ(file["DBOptions"]["paranoid_checks"], "true");
  EXPECT_EQ(file["DBOptions"]["max_background_jobs"], "2");
  EXPECT_EQ(file["DBOptions"]["keep_log_file_num"], "4");
  for (const char* family : {"events", "event_ids", "tiles"}) {
    const std::string cf = std::string("CFOptions \"") + family + "\"";
    EXPECT_EQ(file[cf]["compression"], "kLZ4Compression") << family;
    EXPECT_EQ(file[cf]["compression_per_level"].substr(0, 15), "kNoCompression:") << family;
  }
  for (const char* family : {"default", "events", "event_ids", "tiles"}) {
    const std::string cf = std::string("CFOptions \"") + family + "\"";
    EXPECT_EQ(file[cf]["write_buffer_size"], std::to_string(16 << 20)) << family;
  }
  for (const char* family : {"events", "event_ids", "tiles"}) {
    const std::string cf = std::string("CFOptions \"") + family + "\"";
    EXPECT_EQ(file[cf]["memtable_insert_with_hint_prefix_extractor"], "rocksdb.FixedPrefix.8")
        << family;
    const std::string table = std::string("TableOptions/BlockBasedTable \"") + family + "\"";
    EXPECT_NE(file[table]["filter_policy"].find("bloomfilter:10"), std::string::npos) << family;
    EXPECT_EQ(file[table]["no_block_cache"], "false") << family;
  }
  EXPECT_EQ(file["CFOptions \"tiles\""]["max_successive_merges"], "0");
  EXPECT_EQ(file["CFOptions \"tiles\""]["merge_operator"], "signalbox.TileMerge2");
  EXPECT_EQ(file["CFOptions \"event_ids\""]["memtable_prefix_bloom_size_ratio"], "0.050000");
  EXPECT_EQ(file["CFOptions \"event_ids\""]["memtable_whole_key_filtering"], "true");
}

// Zstandard below level 0: the option reaches every family's levels, and what a compaction
// wrote compressed is read back after a reopen.
TEST_F(RocksDbTuningTest, ZstdCompressesTheFilesBelowLevelZeroAndTheyReadBack) {
  RocksDbOptions options;
  options.compression = RocksDbCompression::kZstd;
  options.path = dir_;
  constexpr int kEvents = 2000;
  {
    auto store = open_rocksdb_store(options, merger_);
    CommitBatch batch;
    for (int i = 0; i < kEvents; ++i)
      batch.events.push_back(StoredEvent{1 + static_cast<std::uint64_t>(i % 7), 1704067200000 + i,
                                         "e" + std::to_string(i),
                                         "body of event " + std::to_string(i), true});
    batch.high_water = 1704067200000 + kEvents;
    store->commit(batch);
    RetentionPolicy keep_all;
    keep_all.retention = 365 * kDayMs;
    keep_all.late_horizon = 365 * kDayMs;
    store->expire(keep_all, {.fold_base = false, .compact_tiles = true, .compact = true});
  }
  OptionsFile file = read_options_file(dir_);
  for (const char* family : {"events", "event_ids", "tiles"}) {
    const std::string cf = std::string("CFOptions \"") + family + "\"";
    EXPECT_EQ(file[cf]["compression"], "kZSTD") << family;
    EXPECT_EQ(file[cf]["compression_per_level"].substr(0, 21), "kNoCompression:kZSTD:") << family;
  }
  auto store = open_rocksdb_store(options, merger_);
  std::size_t read = 0;
  for (std::uint64_t user = 1; user <= 7; ++user)
    store->snapshot()->scan_events(user, 0, kLatestTimeMs, [&](std::string_view body) {
      EXPECT_TRUE(body.starts_with("body of event ")) << body;
      ++read;
    });
  EXPECT_EQ(read, static_cast<std::size_t>(kEvents));
}

TEST_F(RocksDbTuningTest, EachTuningFieldReachesRocksDb) {
  RocksDbOptions options;
  options.block_cache_bytes = 0;
  options.bloom_bits_per_key = 0;
  options.write_buffer_bytes = 8 << 20;
  options.compression = RocksDbCompression::kNone;
  options.background_jobs = 3;
  options.info_log_files_kept = 2;
  options.paranoid_checks = false;
  options.tile_max_successive_merges = 3;
  options.event_id_memtable_bloom_ratio = 0;
  options.memtable_insert_hints = false;
  OptionsFile file = open_with(options);
  EXPECT_EQ(file["DBOptions"]["paranoid_checks"], "false");
  EXPECT_EQ(file["DBOptions"]["max_background_jobs"], "3");
  EXPECT_EQ(file["DBOptions"]["keep_log_file_num"], "2");
  for (const char* family : {"events", "event_ids", "tiles"})
    EXPECT_EQ(file[std::string("CFOptions \"") + family + "\""]["compression"], "kNoCompression")
        << family;
  for (const char* family : {"default", "events", "event_ids", "tiles"})
    EXPECT_EQ(file[std::string("CFOptions \"") + family + "\""]["write_buffer_size"],
              std::to_string(8 << 20));
  for (const char* family : {"events", "event_ids", "tiles"}) {
    const std::string cf = std::string("CFOptions \"") + family + "\"";
    EXPECT_EQ(file[cf]["memtable_insert_with_hint_prefix_extractor"], "nullptr") << family;
    const std::string table = std::string("TableOptions/BlockBasedTable \"") + family + "\"";
    EXPECT_EQ(file[table]["filter_policy"], "nullptr") << family;
    EXPECT_EQ(file[table]["no_block_cache"], "true") << family;
  }
  EXPECT_EQ(file["CFOptions \"tiles\""]["max_successive_merges"], "3");
  EXPECT_EQ(file["CFOptions \"event_ids\""]["memtable_prefix_bloom_size_ratio"], "0.000000");
}

// The config's storage keys reach RocksDB through open_store(), the one place that maps them.
TEST_F(RocksDbTuningTest, TheConfigsMemoryKeysReachRocksDb) {
  Config config;
  config.storage.path = dir_;
  config.storage.block_cache = 0;
  config.storage.write_buffer = 8 << 20;
  { auto store = open_store(config, merger_, {}); }
  OptionsFile file = read_options_file(dir_);
  for (const char* family : {"default", "events", "event_ids", "tiles"})
    EXPECT_EQ(file[std::string("CFOptions \"") + family + "\""]["write_buffer_size"],
              std::to_string(8 << 20))
        << family;
  for (const char* family : {"events", "event_ids", "tiles"})
    EXPECT_EQ(
        file[std::string("TableOptions/BlockBasedTable \"") + family + "\""]["no_block_cache"],
        "true")
        << family;
}

// storage.write_behind_tile_updates reaches the store: a tile updated that many times is
// merged into the stored tiles (on a thread of the store's own, written by a later commit),
// leaving nothing unflushed; one update fewer leaves it gathered however many commits follow.
TEST_F(RocksDbTuningTest, TheConfigsWriteBehindTileUpdatesReachTheStore) {
  // The unflushed bytes after `commits` commits of one tile update each, then commits of none
  // (at most `settle` of them, 1 ms apart) until nothing is left unflushed.
  auto unflushed_after = [&](std::size_t updates, int commits, int settle) {
    std::filesystem::remove_all(dir_);
    Config config;
    config.storage.path = dir_;
    config.storage.write_behind_tile_updates = updates;
    auto store = open_store(config, merger_, {});
    CommitBatch update;
    update.tiles.push_back(
        TileDelta{TileKey{1, TileKind::kHour, 1704067200000}, {StateDelta{7, "x"}}});
    update.high_water = 1704067200000;
    for (int i = 0; i < commits; ++i) store->commit(update);
    CommitBatch none;
    none.high_water = update.high_water;
    for (int i = 0; i < settle && store->stats().unflushed_tile_bytes > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      store->commit(none);
    }
    return store->stats().unflushed_tile_bytes;
  };
  EXPECT_GT(unflushed_after(3, 2, 0), 0u) << "nothing gathered: the case tests nothing";
  EXPECT_EQ(unflushed_after(3, 3, 5000), 0u);
  EXPECT_GT(unflushed_after(16, 3, 50), 0u);
  EXPECT_EQ(unflushed_after(1, 1, 5000), 0u);
}

TEST_F(RocksDbTuningTest, AStoreWithOptionsOutOfRangeDoesNotOpen) {
  RocksDbOptions options;
  options.path = dir_;
  options.background_jobs = 0;
  NoMerger merger;
  try {
    open_rocksdb_store(options, merger);
    FAIL() << "opened with background_jobs = 0";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("background_jobs"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_))
      << "the folder was created before the options were checked";
}

}  // namespace
}  // namespace signalbox::testing
