#include "signalbox/config/yaml_reader.h"

#include <map>
#include <memory>
#include <system_error>

#include <fmt/format.h>

namespace signalbox {

namespace fs = std::filesystem;

std::string child_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string index_path(std::string_view path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

YamlReader::YamlReader(const fs::path& file) {
  context_.file = file.string();
  std::error_code ec;
  fs::path abs = file.empty() ? fs::current_path(ec) / "config" : fs::absolute(file, ec);
  context_.dir = abs.parent_path();
}

ConfigLocation YamlReader::location(const YAML::Mark& mark) const {
  return ConfigLocation{context_.file, mark.is_null() || mark.line < 0 ? 0 : mark.line + 1};
}

ConfigLocation YamlReader::value_location(const YAML::Node& value,
                                          const ConfigLocation& key_where) const {
  if (!value.IsDefined() || value.IsNull()) return key_where;
  ConfigLocation at = location(value.Mark());
  if (at.line == 0 || at.line < key_where.line) return key_where;
  return at;
}

ConfigFields YamlReader::fields(const YAML::Node& map, std::string_view path,
                                const ConfigLocation& where) const {
  if (!map.IsMap()) throw_config_error(where, path, "must be a mapping");
  ConfigFields out;
  std::map<std::string, int, std::less<>> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    ConfigLocation key_where = location(it->first.Mark());
    if (key_where.line == 0) key_where = where;
    if (!it->first.IsScalar()) throw_config_error(key_where, path, "keys must be strings");
    std::string key = it->first.Scalar();
    auto [prev, inserted] = seen.emplace(key, key_where.line);
    if (!inserted) {
      throw_config_error(key_where, child_path(path, key),
                         fmt::format("duplicate key (first at line {})", prev->second));
    }
    const YAML::Node value = it->second;
    ConfigField field;
    field.key = key;
    field.where = key_where;
    field.where.path = std::string(path);
    field.value_where = value_location(value, key_where);
    // Kept whatever its shape: a list of single values with its items (so that a kind's list
    // parameter reads it), anything else by its shape alone.
    bool scalar = value.IsScalar();
    field.value = ConfigParam{scalar ? value.Scalar() : std::string(), field.where, scalar};
    if (value.IsSequence()) {
      field.value.list = true;
      for (const YAML::Node& item : value) {
        if (!item.IsScalar()) {
          field.value.list = false;
          field.value.items.clear();
          break;
        }
        field.value.items.push_back(item.Scalar());
      }
      if (field.value.list)
        field.value.text = fmt::format("[{}]", fmt::join(field.value.items, ", "));
    }
    nodes_.push_back(std::make_unique<YAML::Node>(value));
    field.node = nodes_.back().get();
    out.push_back(std::move(field));
  }
  return out;
}

ConfigFields YamlReader::sub_fields(const ConfigField& field, std::string_view path) const {
  if (!field.node || field.node->IsNull()) return {};
  return fields(*field.node, path, field.value_where);
}

std::vector<std::pair<YAML::Node, ConfigLocation>> YamlReader::items(const ConfigField& field,
                                                                     std::string_view path,
                                                                     std::string_view what) const {
  if (!field.node || field.node->IsNull()) return {};
  if (!field.node->IsSequence()) {
    throw_config_error(field.value_where, path, fmt::format("must be a list of {}", what));
  }
  std::vector<std::pair<YAML::Node, ConfigLocation>> out;
  for (const YAML::Node& n : *field.node) out.emplace_back(n, value_location(n, field.value_where));
  return out;
}

std::string YamlReader::text(const YAML::Node& n, const ConfigLocation& where,
                             std::string_view path) {
  if (!n.IsScalar()) throw_config_error(where, path, "must be a string");
  return n.Scalar();
}

}  // namespace signalbox
