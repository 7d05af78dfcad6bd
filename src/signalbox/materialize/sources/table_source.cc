#include "signalbox/materialize/sources/table_source.h"
#include "signalbox/materialize/field_text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

void split(std::string_view s, char sep, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

void TableSource::Data::parse(const SourceConfig& config) {
  const std::string path_key = fmt::format("sources.{}.path", config.name);
  const std::string key_key = fmt::format("sources.{}.key", config.name);
  if (config.path.empty())
    throw_config_error(config.where, path_key, "required for a table source");
  if (config.key.empty()) throw_config_error(config.where, key_key, "required for a table source");
  file_ = config.path.string();

  std::error_code ec;
  if (std::filesystem::is_directory(config.path, ec)) {
    throw_config_error(config.where, path_key,
                       fmt::format("\"{}\" is a folder, not a TSV file", file_));
  }
  std::ifstream in(config.path, std::ios::binary);
  if (!in) {
    throw_config_error(config.where, path_key,
                       fmt::format("cannot open \"{}\": {}", file_, std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    throw_config_error(config.where, path_key, fmt::format("cannot read \"{}\"", file_));
  }
  text_ = std::move(buffer).str();

  std::string_view text(text_);
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);  // a UTF-8 BOM from spreadsheets

  std::size_t key_column = 0;
  std::vector<int> lines;  // per row, its line in the file
  std::vector<std::string_view> cells;
  int line_no = 0;
  bool have_header = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // blank lines, such as a trailing one, carry no row
    split(line, '\t', cells);
    ConfigLocation here{file_, line_no};

    if (!have_header) {
      have_header = true;
      bool found = false;
      std::string names;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (cells[c].empty())
          throw_config_error(here, "header", fmt::format("column {} has no name", c + 1));
        for (std::size_t d = 0; d < c; ++d) {
          if (cells[d] == cells[c]) {
            throw_config_error(here, "header",
                               fmt::format("column \"{}\" appears twice", cells[c]));
          }
        }
        if (cells[c] == config.key) {
          key_column = c;
          found = true;
        }
        names += (c ? ", " : "") + std::string(cells[c]);
      }
      if (!found) {
        throw_config_error(
            config.where, key_key,
            fmt::format("no column \"{}\" in \"{}\" (columns: {})", config.key, file_, names));
      }
      columns_.resize(cells.size());
      for (std::size_t c = 0; c < cells.size(); ++c) columns_[c].name = std::string(cells[c]);
      continue;
    }

    if (cells.size() != columns_.size()) {
      throw_config_error(
          here, "row",
          fmt::format("{} cells where the header has {}", cells.size(), columns_.size()));
    }
    std::string_view key = cells[key_column];
    if (key.empty()) throw_config_error(here, config.key, "empty key");
    auto [it, inserted] = key_to_row_.emplace(key, static_cast<std::uint32_t>(lines.size()));
    if (!inserted) {
      throw_config_error(
          here, config.key,
          fmt::format("duplicate key \"{}\" (first on line {})", key, lines[it->second]));
    }
    lines.push_back(line_no);
    for (std::size_t c = 0; c < cells.size(); ++c) columns_[c].cells.push_back(cells[c]);
  }
  if (!have_header)
    throw_config_error(config.where, path_key, fmt::format("\"{}\" is empty", file_));

  for (Column& column : columns_) {
    read_vectors(column, lines);
    read_numbers(column, lines);
  }
}

void TableSource::Data::read_vectors(Column& column, const std::vector<int>& lines) {
  std::vector<std::string_view> parts;
  int dim_line = 0;
  std::uint32_t slots = 0;
  column.vector_slot.reserve(column.cells.size());
  for (std::size_t r = 0; r < column.cells.size(); ++r) {
    std::string_view cell = column.cells[r];
    if (trim_spaces(cell).empty()) {
      column.vector_slot.push_back(kNoVector);
      continue;
    }
    split(cell, ',', parts);
    if (dim_line == 0) {
      column.dim = parts.size();
      dim_line = lines[r];
    } else if (parts.size() != column.dim) {
      column.vector_failure = {lines[r], fmt::format("{} values where line {} has {}", parts.size(),
                                                     dim_line, column.dim)};
      break;
    }
    for (std::string_view part : parts) {
      float f;
      if (!parse_finite(part, f)) {
        column.vector_failure = {lines[r], fmt::format("\"{}\" is not a finite float", part)};
        break;
      }
      column.vectors.push_back(f);
    }
    if (column.vector_failure.line != 0) break;
    column.vector_slot.push_back(slots++);
  }
  if (column.vector_failure.line != 0) {
    column.vector_slot = {};
    column.vectors = {};
  }
}

void TableSource::Data::read_numbers(Column& column, const std::vector<int>& lines) {
  column.numbers.reserve(column.cells.size());
  for (std::size_t r = 0; r < column.cells.size(); ++r) {
    std::string_view cell = column.cells[r];
    double d;
    if (trim_spaces(cell).empty()) {
      column.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (parse_finite(cell, d)) {
      column.numbers.push_back(d);
    } else {
      column.number_failure = {lines[r], fmt::format("\"{}\" is not a finite number", cell)};
      column.numbers = {};
      return;
    }
  }
}

const TableSource::Column* TableSource::Data::find_column(std::string_view name) const {
  for (const Column& column : columns_) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

void TableSource::Data::check_field(const FieldRequest& request,
                                    const ConfigLocation& where) const {
  const Column* column = find_column(request.field);
  if (column == nullptr) {
    std::string names;
    for (std::size_t c = 0; c < columns_.size(); ++c) names += (c ? ", " : "") + columns_[c].name;
    throw_config_error(
        where, "field",
        fmt::format("no column \"{}\" in \"{}\" (columns: {})", request.field, file_, names));
  }
  const Failure* failure = nullptr;
  if (request.type == FeatureType::kVector) failure = &column->vector_failure;
  if (request.type == FeatureType::kNumber) failure = &column->number_failure;
  if (failure != nullptr && failure->line != 0) {
    // The TSV's line is what needs fixing; the feature's line says who asked.
    throw_config_error(
        ConfigLocation{file_, failure->line}, column->name,
        fmt::format("not a {} column: {} (read as a {} by {}:{})", feature_type_name(request.type),
                    failure->reason, feature_type_name(request.type), where.file, where.line));
  }
}

void TableSource::check_field(const FieldRequest& request, const ConfigLocation& where) const {
  MutexLock lock(mutex_);
  data_->check_field(request, where);
  checked_.emplace_back(request, where);
}

std::shared_ptr<const TableSource::Data> TableSource::snapshot() const {
  MutexLock lock(mutex_);
  return data_;
}

std::size_t TableSource::rows() const { return snapshot()->key_to_row_.size(); }

std::optional<TableSource::Stamp> TableSource::stamp() const {
  std::error_code ec;
  Stamp s;
  s.mtime = std::filesystem::last_write_time(config_.path, ec);
  if (ec) return std::nullopt;
  s.size = std::filesystem::file_size(config_.path, ec);
  if (ec) return std::nullopt;
  return s;
}

std::unique_ptr<TableSource> TableSource::load(const SourceConfig& config) {
  std::unique_ptr<TableSource> source(new TableSource(config));
  // Uncontended (no one else has the source yet): for the members the mutexes guard.
  MutexLock reload_lock(source->reload_mutex_);
  source->attempted_ = source->stamp();
  auto data = std::make_shared<Data>();
  data->parse(config);
  MutexLock lock(source->mutex_);
  source->data_ = std::move(data);
  return source;
}

bool TableSource::reload(bool force) {
  MutexLock reload_lock(reload_mutex_);
  std::optional<Stamp> before = stamp();
  if (!before) {
    // Reported once, not at every check, until the file is back.
    if (!force && attempted_missing_) return false;
    attempted_missing_ = true;
    attempted_.reset();
    throw_config_error(config_.where, fmt::format("sources.{}.path", config_.name),
                       fmt::format("cannot read \"{}\"; still serving the table read before",
                                   config_.path.string()));
  }
  attempted_missing_ = false;
  if (!force && attempted_ == before) return false;
  attempted_ = before;

  auto fresh = std::make_shared<Data>();
  fresh->parse(config_);
  // A file still being written may parse cleanly yet be cut short; it is read again at
  // the next check, once it has stopped changing.
  if (stamp() != before) {
    attempted_.reset();
    return false;
  }
  MutexLock lock(mutex_);
  for (const auto& [request, where] : checked_) fresh->check_field(request, where);
  data_ = std::move(fresh);
  return true;
}

std::vector<std::vector<FeatureValue>> TableSource::lookup(std::span<const std::string> keys,
                                                           std::span<const FieldRequest> fields) {
  std::shared_ptr<const Data> data = snapshot();
  std::vector<const Column*> columns;
  columns.reserve(fields.size());
  for (const FieldRequest& request : fields) {
    const Column* column = data->find_column(request.field);
    bool ok = column != nullptr;
    if (ok && request.type == FeatureType::kVector) ok = column->vector_failure.line == 0;
    if (ok && request.type == FeatureType::kNumber) ok = column->number_failure.line == 0;
    if (!ok) {
      throw std::invalid_argument(fmt::format("table \"{}\" cannot serve field \"{}\" as {}",
                                              data->file_, request.field,
                                              feature_type_name(request.type)));
    }
    columns.push_back(column);
  }

  std::vector<std::vector<FeatureValue>> result(keys.size());
  std::vector<std::string_view> parts;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::vector<FeatureValue>& values = result[k];
    values.resize(fields.size());
    auto it = data->key_to_row_.find(std::string_view(keys[k]));
    if (it == data->key_to_row_.end()) continue;
    std::uint32_t row = it->second;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      const Column& column = *columns[f];
      switch (fields[f].type) {
        case FeatureType::kStrings: {
          std::vector<std::string> strings;
          split(column.cells[row], '|', parts);
          for (std::string_view part : parts) {
            if (!part.empty()) strings.emplace_back(part);
          }
          values[f] = std::move(strings);
          break;
        }
        case FeatureType::kVector: {
          std::uint32_t slot = column.vector_slot[row];
          if (slot != kNoVector) {
            const float* begin = column.vectors.data() + std::size_t{slot} * column.dim;
            values[f] = std::vector<float>(begin, begin + column.dim);
          }
          break;
        }
        case FeatureType::kNumber: {
          double d = column.numbers[row];
          if (!std::isnan(d)) values[f] = d;
          break;
        }
      }
    }
  }
  return result;
}

}  // namespace signalbox
