#pragma once

// Config by schema: each mapping of the config (a section, an entry of a list, the keys of one
// kind of ingest or source) is described by a static table of the keys it takes, and one walker
// checks a mapping against its table. The tables say, for every key, what its value must look
// like, whether it is required, its default and the check that stores it; the walker gives
// every mapping the same handling of unknown keys (with a suggestion), missing keys, type
// errors and defaults, all named "file:line: key: problem" (throw_config_error).
//
// Stateless; tables are immutable. Safe to use from any thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/time.h"
#include "signalbox/config/config.h"

namespace YAML {
class Node;
}

namespace signalbox {

// One `key: value` of a mapping as written, however it was read (a YAML mapping of the file,
// or the parameters of an entry already read).
struct ConfigField {
  std::string key;
  ConfigLocation where;        // of the key; its path is the mapping's path
  ConfigLocation value_where;  // of the value, for messages about it
  ConfigParam value;           // the value's text and shape (scalar, list of single values)
  // The value as read from YAML, when it was: mapping-valued keys are read by their check.
  // Only the loader sets it; null for fields built from parameters.
  const YAML::Node* node = nullptr;
};
using ConfigFields = std::vector<ConfigField>;

// What a key's value must be before its own check sees it. Each names its refusal.
enum class ValueType {
  kText,          // one value: "must be a string"
  kSingle,        // one value: "must be a single value"
  kNonEmptyText,  // one value, not empty: "must not be empty"
  kDuration,      // "<integer><unit>": "bad duration ..."; in ConfigValue::duration
  kCount,         // an integer >= 1: "must be a positive integer"; in ConfigValue::count
  kByteSize,      // bytes, plain or with a binary unit: "bad size ..."; in ConfigValue::bytes
  kEndpoint,      // host:port, port 1-65535: "bad address ..."
  kPath,          // a non-empty file name, made absolute against the config's folder (file)
  kAny,           // any shape: the check reads it
};

// What the walker knows of the file being read.
struct ConfigContext {
  std::string file;           // as named in messages
  std::filesystem::path dir;  // relative paths are resolved against it
};

// A key's value as its check sees it: the field, and the value read per the key's type.
struct ConfigValue {
  ConfigField field;
  std::string path;            // the key's full path ("server.http", "ingest[0].topic")
  ConfigLocation owner_where;  // where the mapping holding the key is
  const ConfigContext* context = nullptr;
  bool written = true;         // false when the value is the key's default
  std::string text;            // single values as written
  TimeMs duration = 0;         // kDuration
  std::int64_t count = 0;      // kCount
  std::uint64_t bytes = 0;     // kByteSize
  std::filesystem::path file;  // kPath

  // Throws ConfigError "<value's file:line>: <path>: <problem>".
  [[noreturn]] void fail(std::string_view problem) const;
  // The same, at the key rather than at its value.
  [[noreturn]] void fail_at_key(std::string_view problem) const;
};

// One row of a schema table.
template <class Target>
struct SchemaKey {
  // The key; when it ends with '.', a prefix: any longer key starting with it ("rdkafka.").
  std::string_view key;
  ValueType type = ValueType::kText;
  // The problem when the key is absent ("required", "required for kind kafka"); empty when
  // it is optional.
  std::string_view required = {};
  // The default as written in docs/config.md, read (type and check) when the key is absent;
  // empty when absence means "none" or is worked out elsewhere.
  std::string_view fallback = {};
  // Checks the value beyond its type and stores it in the target; may throw via fail().
  void (*apply)(const ConfigValue& value, Target& out) = nullptr;
};

// The keys of one mapping.
template <class Target>
struct Schema {
  std::span<const SchemaKey<Target>> keys;
  // Whose keys they are, named in the unknown-key message ("ingest kind kafka"); empty: none.
  std::string_view owner = {};
  // Keys of the entry that were taken out before this schema is applied ("kind") but which a
  // misspelling may be close to.
  std::span<const std::string_view> also_known = {};
  // The whole problem for an unknown key close to no known one; empty: unknown_key_problem's
  // "unknown key[ for owner] (expected a, b or c)".
  std::string_view far_problem = {};
};

// The walker's type-independent part, declared for apply_schema below.
namespace schema_detail {
struct Row {
  std::string_view key;
  ValueType type;
  std::string_view required;
  std::string_view fallback;
};
inline constexpr std::size_t kRest = static_cast<std::size_t>(-1);
// For each field, the row it is written for, or kRest for an unknown key kept in `rest` (when
// `rest` is given). Throws for an unknown key otherwise, and for any unknown key that looks like
// the misspelling of an absent required one.
std::vector<std::size_t> match(std::span<const Row> rows, const ConfigFields& fields,
                               std::string_view owner, std::span<const std::string_view> also_known,
                               std::string_view far_problem, std::string_view path,
                               ConfigFields* rest);
// The field's value read per the row's type (throws a type error).
ConfigValue read(const Row& row, const ConfigField& field, std::string_view path,
                 const ConfigLocation& owner_where, const ConfigContext& context);
// The row's default as a value, as if written at `owner_where`.
ConfigValue read_fallback(const Row& row, std::string_view path, const ConfigLocation& owner_where,
                          const ConfigContext& context);
[[noreturn]] void absent(const Row& row, std::string_view path, const ConfigLocation& owner_where);
}  // namespace schema_detail

// Checks the mapping `fields`, whose path is `path` ("server", "ingest[0]") and which is written
// at `owner_where`, against `schema` and stores its values in `out`, in this order:
//   1. unknown keys, in file order: refused with the closest known key ("did you mean"), or
//      kept in `rest` when it is given (keys a kind declares elsewhere). Either way an
//      unknown key that looks like the misspelling of an absent required key is refused as
//      "unknown key (did you mean <required>?)", which is the likelier mistake;
//   2. the values written, in file order: type, then the row's apply();
//   3. absent required keys: the row's `required` problem at the mapping;
//   4. absent keys with a default: the default, read as if written.
// Throws ConfigError at the first problem.
template <class Target>
void apply_schema(const Schema<Target>& schema, const ConfigFields& fields, std::string_view path,
                  const ConfigLocation& owner_where, const ConfigContext& context, Target& out,
                  ConfigFields* rest = nullptr) {
  std::vector<schema_detail::Row> rows;
  rows.reserve(schema.keys.size());
  for (const SchemaKey<Target>& k : schema.keys)
    rows.push_back({k.key, k.type, k.required, k.fallback});
  std::vector<std::size_t> matched = schema_detail::match(
      rows, fields, schema.owner, schema.also_known, schema.far_problem, path, rest);
  std::vector<bool> seen(rows.size(), false);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (matched[i] == schema_detail::kRest) continue;
    seen[matched[i]] = true;
    ConfigValue value =
        schema_detail::read(rows[matched[i]], fields[i], path, owner_where, context);
    if (schema.keys[matched[i]].apply) schema.keys[matched[i]].apply(value, out);
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (!seen[r] && !rows[r].required.empty()) schema_detail::absent(rows[r], path, owner_where);
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (seen[r] || rows[r].fallback.empty() || !schema.keys[r].apply) continue;
    schema.keys[r].apply(schema_detail::read_fallback(rows[r], path, owner_where, context), out);
  }
}

// The keys a schema takes, in table order (prefix keys as written, "rdkafka.").
template <class Target>
std::vector<std::string> schema_keys(const Schema<Target>& schema) {
  std::vector<std::string> keys;
  for (const SchemaKey<Target>& k : schema.keys) keys.emplace_back(k.key);
  return keys;
}

// The parameters of an entry as fields, for a schema of a kind's keys.
ConfigFields fields_of(const ConfigParams& params);

// The fields a schema did not take, as parameters (each where its key is written, with the
// mapping's path).
ConfigParams params_of(const ConfigFields& fields);

// --- Shared by the checks of the tables -----------------------------------------------------

// `s` in double quotes, with quotes, backslashes and control characters escaped, for echoing a
// written value in a one-line message.
std::string quote_config_text(std::string_view s);

// "a, b or c".
std::string join_with_or(const std::vector<std::string>& items);

// "a, b, c".
std::string join_with_commas(const std::vector<std::string>& items);

// A whole text as an integer or finite number; nullopt for anything else ("5x", "").
std::optional<std::int64_t> parse_config_int(std::string_view s);
std::optional<double> parse_config_double(std::string_view s);

// A name of signals, views, features and sources: 1-64 characters A-Z a-z 0-9 _ . -.
bool is_config_name(std::string_view s);
std::string bad_name_problem(std::string_view s);

// "env:NAME" or "file:PATH" in `value`, else fails: never the `what` ("token") itself.
std::string secret_reference(const ConfigValue& value, std::string_view what);

}  // namespace signalbox
