#include "signalbox/config/schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "signalbox/common/byte_size.h"

namespace signalbox {

void ConfigValue::fail(std::string_view problem) const {
  throw_config_error(field.value_where, path, problem);
}

void ConfigValue::fail_at_key(std::string_view problem) const {
  throw_config_error(field.where, path, problem);
}

namespace schema_detail {
namespace {

std::string key_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

bool matches(std::string_view row_key, std::string_view key) {
  if (row_key.ends_with('.')) return key.size() > row_key.size() && key.starts_with(row_key);
  return row_key == key;
}

}  // namespace

std::vector<std::size_t> match(std::span<const Row> rows, const ConfigFields& fields,
                               std::string_view owner, std::span<const std::string_view> also_known,
                               std::string_view far_problem, std::string_view path,
                               ConfigFields* rest) {
  std::vector<std::string> known;
  for (const Row& row : rows)
    if (!row.key.ends_with('.')) known.emplace_back(row.key);
  for (std::string_view k : also_known) known.emplace_back(k);
  // Required keys not written: an unknown key close to one of them is most likely it, misspelt.
  std::vector<std::string> absent_required;
  for (const Row& row : rows) {
    if (row.required.empty()) continue;
    bool written = std::any_of(fields.begin(), fields.end(),
                               [&](const ConfigField& f) { return matches(row.key, f.key); });
    if (!written) absent_required.emplace_back(row.key);
  }
  std::vector<std::size_t> out;
  out.reserve(fields.size());
  for (const ConfigField& field : fields) {
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const Row& r) { return matches(r.key, field.key); });
    if (row != rows.end()) {
      out.push_back(static_cast<std::size_t>(row - rows.begin()));
      continue;
    }
    std::string full = key_path(path, field.key);
    std::string misspelt = closest_match(field.key, absent_required);
    if (!misspelt.empty()) {
      throw_config_error(field.where, full,
                         fmt::format("unknown key (did you mean {}?)", misspelt));
    }
    if (rest) {
      rest->push_back(field);
      out.push_back(kRest);
      continue;
    }
    if (!far_problem.empty() && closest_match(field.key, known).empty()) {
      throw_config_error(field.where, full, far_problem);
    }
    throw_config_error(field.where, full, unknown_key_problem(field.key, known, owner));
  }
  return out;
}

ConfigValue read(const Row& row, const ConfigField& field, std::string_view path,
                 const ConfigLocation& owner_where, const ConfigContext& context) {
  ConfigValue v{field, key_path(path, field.key), owner_where, &context};
  const ConfigParam& p = field.value;
  if (row.type == ValueType::kAny) {
    v.text = p.text;
    return v;
  }
  if (!p.scalar)
    v.fail(row.type == ValueType::kSingle ? "must be a single value" : "must be a string");
  v.text = p.text;
  switch (row.type) {
    case ValueType::kText:
    case ValueType::kSingle:
    case ValueType::kAny:
      break;
    case ValueType::kNonEmptyText:
      if (v.text.empty()) v.fail("must not be empty");
      break;
    case ValueType::kDuration: {
      auto d = parse_duration(v.text);
      if (!d) {
        v.fail(fmt::format("bad duration {} (use <integer><unit>, unit ms, s, m, h or d)",
                           quote_config_text(v.text)));
      }
      v.duration = *d;
      break;
    }
    case ValueType::kCount: {
      auto n = parse_config_int(v.text);
      if (!n || *n <= 0) v.fail("must be a positive integer");
      v.count = *n;
      break;
    }
    case ValueType::kByteSize: {
      auto n = parse_byte_size(v.text);
      if (!n) {
        v.fail(
            fmt::format("bad size {} (use a positive number of bytes, or with a unit B, KiB, "
                        "MiB or GiB, e.g. 64MiB)",
                        quote_config_text(v.text)));
      }
      v.bytes = *n;
      break;
    }
    case ValueType::kEndpoint:
      if (!is_endpoint(v.text)) {
        v.fail(
            fmt::format("bad address {} (use host:port, port 1-65535)", quote_config_text(v.text)));
      }
      break;
    case ValueType::kPath:
      if (v.text.empty()) v.fail("must not be empty");
      v.file = (context.dir / std::filesystem::path(v.text)).lexically_normal();
      break;
  }
  return v;
}

ConfigValue read_fallback(const Row& row, std::string_view path, const ConfigLocation& owner_where,
                          const ConfigContext& context) {
  ConfigField field;
  field.key = std::string(row.key);
  field.where = owner_where;
  field.value_where = owner_where;
  field.value = ConfigParam{std::string(row.fallback), owner_where};
  ConfigValue v = read(row, field, path, owner_where, context);
  v.written = false;
  return v;
}

void absent(const Row& row, std::string_view path, const ConfigLocation& owner_where) {
  throw_config_error(owner_where, key_path(path, row.key), row.required);
}

}  // namespace schema_detail

ConfigFields fields_of(const ConfigParams& params) {
  ConfigFields fields;
  for (const auto& [key, param] : params) {
    fields.push_back(ConfigField{key, param.where, param.where, param, nullptr});
  }
  return fields;
}

ConfigParams params_of(const ConfigFields& fields) {
  ConfigParams params;
  for (const ConfigField& f : fields) {
    ConfigParam param = f.value;
    param.where = f.where;
    params.emplace(f.key, std::move(param));
  }
  return params;
}

std::string quote_config_text(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string join_with_or(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

std::string join_with_commas(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::optional<std::int64_t> parse_config_int(std::string_view s) {
  std::int64_t v = 0;
  auto [rest, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || rest != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_config_double(std::string_view s) {
  double v = 0;
  auto [rest, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || rest != s.data() + s.size() || s.empty()) return std::nullopt;
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_config_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string bad_name_problem(std::string_view s) {
  return fmt::format("bad name {} (use 1-64 characters A-Z a-z 0-9 _ . -)", quote_config_text(s));
}

std::string secret_reference(const ConfigValue& value, std::string_view what) {
  const std::string& ref = value.text;
  bool env = ref.starts_with("env:") && ref.size() > 4;
  bool file = ref.starts_with("file:") && ref.size() > 5;
  if (!env && !file) {
    value.fail(fmt::format("give env:NAME or file:PATH (never the {} itself in the file)", what));
  }
  return ref;
}

}  // namespace signalbox
