#pragma once

// How the loader reads YAML into ConfigFields for the schema walker (internal to the config
// library: yaml-cpp is not part of its public interface).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "signalbox/config/schema.h"

namespace signalbox {

class YamlReader {
 public:
  // Reads nodes of the config file `file`; relative paths resolve against its folder.
  explicit YamlReader(const std::filesystem::path& file);
  // The same, for the file a walker's context names (a check reading a nested mapping).
  explicit YamlReader(ConfigContext context) : context_(std::move(context)) {}

  const ConfigContext& context() const { return context_; }

  ConfigLocation location(const YAML::Mark& mark) const;

  // yaml-cpp places an empty value on the next line and an alias at its anchor; the key's
  // line is where the user looks in both cases.
  ConfigLocation value_location(const YAML::Node& value, const ConfigLocation& key_where) const;

  // The entries of mapping `map` (at `path`, written at `where`) in file order, each holding
  // its node; a repeated key is refused (yaml-cpp would keep only the first value).
  ConfigFields fields(const YAML::Node& map, std::string_view path,
                      const ConfigLocation& where) const;

  // The mapping a field holds, as fields; `null` reads as empty.
  ConfigFields sub_fields(const ConfigField& field, std::string_view path) const;

  // The items of a list-valued field with their locations; `null` reads as empty. Refused
  // with "must be a list of <what>" otherwise.
  std::vector<std::pair<YAML::Node, ConfigLocation>> items(const ConfigField& field,
                                                           std::string_view path,
                                                           std::string_view what) const;

  // A single value, or "must be a string".
  static std::string text(const YAML::Node& n, const ConfigLocation& where, std::string_view path);

 private:
  ConfigContext context_;
  // The nodes fields() read, kept alive for the fields' node pointers.
  mutable std::vector<std::unique_ptr<YAML::Node>> nodes_;
};

// `path` and `key` joined as the loader names keys ("server" and "http": "server.http").
std::string child_path(std::string_view path, std::string_view key);
// The path of item `i` of the list at `path` ("signals[2]").
std::string index_path(std::string_view path, std::size_t i);

}  // namespace signalbox
