#include "signalbox/store/rocksdb/rocksdb_options.h"

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

void validate_rocksdb_options(const RocksDbOptions& options) {
  auto refuse = [](std::string_view field, std::string_view value, std::string_view range) {
    throw ConfigError(fmt::format("rocksdb option {} = {}: must be {}", field, value, range));
  };
  if (!(options.bloom_bits_per_key >= 0))
    refuse("bloom_bits_per_key", fmt::format("{}", options.bloom_bits_per_key), "0 or more");
  if (options.write_buffer_bytes < (std::size_t{64} << 10))
    refuse("write_buffer_bytes", fmt::format("{}", options.write_buffer_bytes),
           "at least 65536 (64 KiB)");
  if (options.compression != RocksDbCompression::kNone &&
      options.compression != RocksDbCompression::kLz4 &&
      options.compression != RocksDbCompression::kZstd)
    refuse("compression", fmt::format("{}", static_cast<int>(options.compression)),
           "kNone, kLz4 or kZstd");
  if (options.background_jobs < 1)
    refuse("background_jobs", fmt::format("{}", options.background_jobs), "at least 1");
  if (options.info_log_files_kept < 1)
    refuse("info_log_files_kept", fmt::format("{}", options.info_log_files_kept), "at least 1");
  if (options.unflushed_values_per_tile < 1)
    refuse("unflushed_values_per_tile", fmt::format("{}", options.unflushed_values_per_tile),
           "at least 1");
  if (options.bulk_load_min_events < 1)
    refuse("bulk_load_min_events", fmt::format("{}", options.bulk_load_min_events), "at least 1");
  if (!(options.event_id_memtable_bloom_ratio >= 0 &&
        options.event_id_memtable_bloom_ratio <= 0.25))
    refuse("event_id_memtable_bloom_ratio",
           fmt::format("{}", options.event_id_memtable_bloom_ratio), "between 0 and 0.25");
}

}  // namespace signalbox
