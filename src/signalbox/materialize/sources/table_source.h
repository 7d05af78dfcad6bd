#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "signalbox/common/mutex.h"
#include "signalbox/config/config.h"
#include "signalbox/materialize/source.h"

namespace signalbox {

// A source read from a TSV file with a header row (docs/config.md, `kind: table`). The `key`
// column holds the lookup key; any other column can be served as `strings` (values split
// on '|', an empty cell an empty list), `vector` (comma-separated floats, one length per
// column) or `number` (a double).
//
// The whole file is held in memory as an immutable snapshot. reload() reads the file again
// when its modification time or size changed and swaps the snapshot in only if the new
// file parses and still serves every field check_field() accepted; otherwise the old one
// stays. Lookups take the current snapshot once per call, so they never lock against a
// reload, and concurrent lookup() and reload() calls are safe.
class TableSource : public Source {
 public:
  // Reads and indexes the file. Throws ConfigError: at `config.where` when the file or
  // the key column is missing or a parameter is unknown; at the TSV's own file and line
  // when a row is malformed (wrong number of cells, an empty or duplicate key).
  static std::unique_ptr<TableSource> load(const SourceConfig& config);
  TableSource(const TableSource&) = delete;
  TableSource& operator=(const TableSource&) = delete;

  // Throws ConfigError when the column is missing or, for `vector` and `number`, when some
  // cell of it does not parse (naming the TSV file and line).
  void check_field(const FieldRequest& request, const ConfigLocation& where) const override;

  // Throws std::invalid_argument for a field check_field() would have refused.
  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override;

  // Reads the file again if its modification time or size changed since the last attempt
  // (always when `force`). Returns true when a new snapshot was taken. Throws ConfigError
  // (keeping the old snapshot) when the file is gone, malformed, or lacks a column a
  // feature uses; a file that failed is not read again until it changes.
  bool reload(bool force) override;

  std::size_t rows() const;

 private:
  // Why one typed reading of a column fails; line 0 when it does not.
  struct Failure {
    int line = 0;
    std::string reason;
  };

  // One column, with each typed reading computed at load so lookups never parse. A failed
  // reading is reported only if a feature asks for it: most columns are one type only.
  struct Column {
    std::string name;
    std::vector<std::string_view> cells;  // per row, into Data::text_

    Failure vector_failure;
    std::size_t dim = 0;
    std::vector<std::uint32_t> vector_slot;  // per row: kNoVector or the index into vectors
    std::vector<float> vectors;              // slot s at [s * dim, (s + 1) * dim)

    Failure number_failure;
    std::vector<double> numbers;  // per row; NaN for an empty cell
  };
  static constexpr std::uint32_t kNoVector = 0xffffffff;

  // One reading of the file; never changed once built.
  struct Data {
    void parse(const SourceConfig& config);
    void read_vectors(Column& column, const std::vector<int>& lines);
    void read_numbers(Column& column, const std::vector<int>& lines);
    const Column* find_column(std::string_view name) const;
    void check_field(const FieldRequest& request, const ConfigLocation& where) const;

    std::string file_;  // the TSV's path, for messages
    std::string text_;  // the whole file; cells and keys are views into it
    std::vector<Column> columns_;
    std::unordered_map<std::string_view, std::uint32_t> key_to_row_;
  };

  // What identifies one version of the file without reading it.
  struct Stamp {
    std::filesystem::file_time_type mtime;
    std::uintmax_t size = 0;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  };

  explicit TableSource(SourceConfig config) : config_(std::move(config)) {}
  std::shared_ptr<const Data> snapshot() const;
  std::optional<Stamp> stamp() const;

  const SourceConfig config_;

  mutable Mutex mutex_;  // guards data_ and checked_
  std::shared_ptr<const Data> data_ SIGNALBOX_GUARDED_BY(mutex_);
  mutable std::vector<std::pair<FieldRequest, ConfigLocation>> checked_
      SIGNALBOX_GUARDED_BY(mutex_);  // fields served

  Mutex reload_mutex_;  // one reload at a time; guards what follows
  std::optional<Stamp> attempted_
      SIGNALBOX_GUARDED_BY(reload_mutex_);  // of the last read, good or bad; nullopt: read again
  bool attempted_missing_ SIGNALBOX_GUARDED_BY(reload_mutex_) =
      false;  // the last check found no file (reported once)
};

}  // namespace signalbox
