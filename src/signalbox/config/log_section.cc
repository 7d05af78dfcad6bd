// The `log` section (docs/config.md#log).

#include <array>

#include <fmt/format.h>

#include "signalbox/common/logging.h"
#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

const std::array<SchemaKey<LogConfig>, 3> kLogKeys = {{
    {"level",
     ValueType::kText,
     {},
     "info",
     [](const ConfigValue& v, LogConfig& out) {
       if (!parse_log_level(v.text)) {
         v.fail(fmt::format("unknown level {} (use trace, debug, info, warn, error or off)",
                            quote_config_text(v.text)));
       }
       out.level = v.text;
     }},
    {"format",
     ValueType::kText,
     {},
     "text",
     [](const ConfigValue& v, LogConfig& out) {
       if (!parse_log_format(v.text)) {
         v.fail(fmt::format("unknown format {} (use text or json)", quote_config_text(v.text)));
       }
       out.format = v.text;
     }},
    {"slow_query",
     ValueType::kDuration,
     {},
     "1s",
     [](const ConfigValue& v, LogConfig& out) { out.slow_query = v.duration; }},
}};
const Schema<LogConfig> kLogSchema{kLogKeys};

}  // namespace

void read_log(const YamlReader& reader, const ConfigField& section, LogConfig& out) {
  apply_schema(kLogSchema, reader.sub_fields(section, "log"), "log", section.value_where,
               reader.context(), out);
}

std::vector<KeyDescription> log_keys() { return describe(kLogSchema); }

}  // namespace signalbox
