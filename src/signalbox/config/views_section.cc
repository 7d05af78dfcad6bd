// The `views` section (docs/config.md#views): transforms of a signal's results. Keys other
// than the table's are the transform's parameters, checked against those it declares when
// the engine is built (check_params).

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

struct ViewEntry {
  ViewConfig& view;
  ClaimedNames& names;
  // Checked against the signal once every key is read: the signal may be written after them.
  std::optional<ConfigValue> signal, window;
};

const std::array<SchemaKey<ViewEntry>, 4> kViewKeys = {{
    {"name",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, ViewEntry& out) {
       if (!is_config_name(v.text)) v.fail(bad_name_problem(v.text));
       claim_name(out.names, v.text, v);
       out.view.name = v.text;
     }},
    {"signal",
     ValueType::kText,
     "required",
     {},
     [](const ConfigValue& v, ViewEntry& out) {
       out.view.signal = v.text;
       out.signal = v;
     }},
    {"window",
     ValueType::kNonEmptyText,
     {},
     {},
     [](const ConfigValue& v, ViewEntry& out) {
       out.view.window = v.text;
       out.window = v;
     }},
    {"transform",
     ValueType::kNonEmptyText,
     "required",
     {},
     [](const ConfigValue& v, ViewEntry& out) { out.view.transform = v.text; }},
}};
const Schema<ViewEntry> kViewSchema{kViewKeys};

}  // namespace

void read_views(const YamlReader& reader, const ConfigField& section,
                const std::vector<SignalConfig>& signals, ClaimedNames& names,
                std::vector<ViewConfig>& out) {
  std::size_t i = 0;
  for (const auto& [node, where] : reader.items(section, "views", "views")) {
    std::string path = index_path("views", i++);
    ViewConfig view;
    view.where = where;
    view.where.path = path;
    ViewEntry entry{view, names, std::nullopt, std::nullopt};
    ConfigFields params;
    apply_schema(kViewSchema, reader.fields(node, path, where), path, where, reader.context(),
                 entry, &params);
    view.params = params_of(params);
    auto signal = std::find_if(signals.begin(), signals.end(),
                               [&](const SignalConfig& s) { return s.name == view.signal; });
    if (signal == signals.end()) {
      entry.signal->fail(fmt::format("unknown signal {}", quote_config_text(view.signal)));
    }
    if (entry.window) {
      std::vector<std::string> texts;
      for (const WindowConfig& w : signal->windows) texts.push_back(w.text);
      if (std::find(texts.begin(), texts.end(), view.window) == texts.end()) {
        entry.window->fail(
            texts.empty() ? fmt::format("signal {} has no windows", quote_config_text(signal->name))
                          : fmt::format("unknown window {} (signal {} has {})",
                                        quote_config_text(view.window),
                                        quote_config_text(signal->name), join_with_commas(texts)));
      }
    }
    out.push_back(std::move(view));
  }
}

std::vector<KeyDescription> view_keys() { return describe(kViewSchema); }

}  // namespace signalbox
