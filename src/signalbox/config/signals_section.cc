// The `signals` section (docs/config.md#signals): a list of aggregations. Keys other than
// the table's are the aggregator's parameters, checked against those it declares when the
// engine is built (check_params).

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

struct SignalEntry {
  SignalConfig& signal;
  const std::vector<FeatureConfig>& features;
  ClaimedNames& names;
};

bool is_action(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::vector<std::pair<std::string, double>> read_actions(const ConfigValue& v) {
  YamlReader reader(*v.context);
  std::vector<std::pair<std::string, double>> actions;
  for (const ConfigField& a : reader.sub_fields(v.field, v.path)) {
    std::string a_path = child_path(v.path, a.key);
    if (!is_action(a.key)) {
      throw_config_error(
          a.where, a_path,
          fmt::format("bad action {} (use 1-32 characters a-z 0-9 _)", quote_config_text(a.key)));
    }
    auto w = a.value.scalar ? parse_config_double(a.value.text) : std::nullopt;
    if (!w) throw_config_error(a.value_where, a_path, "weight must be a finite number");
    // Event numbers are bounded the same (kMaxAttrNumber): their weighted sums stay finite.
    if (std::abs(*w) > 1e100)
      throw_config_error(a.value_where, a_path, "weight must be at most 1e100 in magnitude");
    actions.emplace_back(a.key, *w);
  }
  // An empty map would drop every event; omitting `actions` is how to take them all.
  if (actions.empty()) v.fail("must not be empty (omit it to count every action)");
  return actions;
}

std::vector<WindowConfig> read_windows(const ConfigValue& v) {
  YamlReader reader(*v.context);
  std::vector<WindowConfig> windows;
  for (const auto& [n, where] : reader.items(v.field, v.path, "durations")) {
    std::string w_path = index_path(v.path, windows.size());
    std::string text = YamlReader::text(n, where, w_path);
    auto length = parse_duration(text);
    if (!length) {
      throw_config_error(where, w_path,
                         fmt::format("bad duration {} (use <integer><unit>, unit ms, s, m, h or d)",
                                     quote_config_text(text)));
    }
    WindowConfig w{text, *length};
    // "1d" and "24h" are the same window under two answer keys: almost surely a mistake.
    for (const WindowConfig& earlier : windows) {
      if (earlier.length == w.length) {
        throw_config_error(where, w_path,
                           fmt::format("duplicate window {} (same as {})",
                                       quote_config_text(w.text), quote_config_text(earlier.text)));
      }
    }
    windows.push_back(std::move(w));
  }
  if (windows.empty()) v.fail("must not be empty (omit it for one result over all history)");
  return windows;
}

const std::array<SchemaKey<SignalEntry>, 6> kSignalKeys = {{
    {"name",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, SignalEntry& out) {
       if (!is_config_name(v.text)) v.fail(bad_name_problem(v.text));
       claim_name(out.names, v.text, v);
       out.signal.name = v.text;
     }},
    {"aggregator",
     ValueType::kNonEmptyText,
     "required",
     {},
     [](const ConfigValue& v, SignalEntry& out) { out.signal.aggregator = v.text; }},
    {"group_by",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, SignalEntry& out) {
       out.signal.group_by = value_reference(v, out.features);
     }},
    {"value",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, SignalEntry& out) {
       out.signal.value = value_reference(v, out.features);
     }},
    {"actions",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, SignalEntry& out) { out.signal.actions = read_actions(v); }},
    {"windows",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, SignalEntry& out) { out.signal.windows = read_windows(v); }},
}};
const Schema<SignalEntry> kSignalSchema{kSignalKeys};

}  // namespace

void read_signals(const YamlReader& reader, const ConfigField& section,
                  const std::vector<FeatureConfig>& features, ClaimedNames& names,
                  std::vector<SignalConfig>& out) {
  if (!section.node || !section.node->IsSequence()) {
    throw_config_error(section.value_where, "signals", "must be a list of signals");
  }
  if (section.node->size() == 0) {
    throw_config_error(section.value_where, "signals", "must not be empty");
  }
  std::size_t i = 0;
  for (const auto& [node, where] : reader.items(section, "signals", "signals")) {
    std::string path = index_path("signals", i++);
    SignalConfig signal;
    signal.where = where;
    signal.where.path = path;
    SignalEntry entry{signal, features, names};
    ConfigFields params;
    apply_schema(kSignalSchema, reader.fields(node, path, where), path, where, reader.context(),
                 entry, &params);
    signal.params = params_of(params);
    out.push_back(std::move(signal));
  }
}

std::vector<KeyDescription> signal_keys() { return describe(kSignalSchema); }

void claim_name(ClaimedNames& names, const std::string& name, const ConfigValue& value) {
  auto [it, inserted] = names.emplace(name, value.field.value_where.line);
  if (!inserted) {
    value.fail(
        fmt::format("duplicate name {} (first at line {})", quote_config_text(name), it->second));
  }
}

bool is_event_field(std::string_view s) {
  return s == "item_id" || s == "query" || s == "action" ||
         (s.starts_with("attrs.") && s.size() > 6);
}

std::string value_reference(const ConfigValue& value, const std::vector<FeatureConfig>& features,
                            bool earlier) {
  const std::string& s = value.text;
  if (is_event_field(s)) return s;
  std::vector<std::string> names;
  for (const FeatureConfig& f : features) {
    if (f.name == s) return s;
    names.push_back(f.name);
  }
  std::vector<std::string> known = {"item_id", "query", "action"};
  known.insert(known.end(), names.begin(), names.end());
  std::string close = closest_match(s, known);
  std::string hint =
      !close.empty() ? fmt::format("did you mean {}?", close)
      : names.empty()
          ? fmt::format("use item_id, query, action or attrs.NAME; no features are defined{}",
                        earlier ? " before it" : "")
          : fmt::format("use item_id, query, action, attrs.NAME or {}: {}",
                        earlier ? "an earlier feature" : "a feature", join_with_commas(names));
  value.fail(fmt::format("unknown reference {} ({})", quote_config_text(s), hint));
}

}  // namespace signalbox
