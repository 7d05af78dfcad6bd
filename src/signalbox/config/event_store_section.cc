// The `event_store` section (docs/config.md#event_store).

#include <array>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

const std::array<SchemaKey<EventStoreConfig>, 4> kEventStoreKeys = {{
    {"retention",
     ValueType::kDuration,
     {},
     "7d",
     [](const ConfigValue& v, EventStoreConfig& out) { out.retention = v.duration; }},
    {"max_future_skew",
     ValueType::kDuration,
     {},
     "1h",
     [](const ConfigValue& v, EventStoreConfig& out) { out.max_future_skew = v.duration; }},
    // Absent: worked out from the signals' windows (late_horizon()).
    {"late_horizon",
     ValueType::kDuration,
     {},
     {},
     [](const ConfigValue& v, EventStoreConfig& out) { out.late_horizon = v.duration; }},
    {"bootstrap_rate",
     ValueType::kText,
     {},
     "20000",
     [](const ConfigValue& v, EventStoreConfig& out) {
       auto n = parse_config_int(v.text);
       if (!n || *n < 0) v.fail("must be a whole number of events per second, 0 for no limit");
       out.bootstrap_rate = static_cast<std::uint64_t>(*n);
     }},
}};
const Schema<EventStoreConfig> kEventStoreSchema{kEventStoreKeys};

}  // namespace

void read_event_store(const YamlReader& reader, const ConfigField& section, EventStoreConfig& out) {
  apply_schema(kEventStoreSchema, reader.sub_fields(section, "event_store"), "event_store",
               section.value_where, reader.context(), out);
}

std::vector<KeyDescription> event_store_keys() { return describe(kEventStoreSchema); }

}  // namespace signalbox
