// The keys of each ingest kind (docs/config.md#ingest, docs/kafka.md): the one place they are
// checked. The consumers read them already checked (KafkaIngestOptions::from_config), apart
// from the values of rdkafka.<property> keys, which only librdkafka can judge.

#include <array>
#include <optional>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

// What the cross-checks of a Kafka entry need once every key is read.
struct KafkaKeys {
  std::string topic;
  std::optional<ConfigValue> dead_letter_topic;
};

// Bounds of the consumer's batches: most messages handed to the engine at once, and the
// longest wait for a batch to fill.
constexpr std::int64_t kMaxKafkaBatchMessages = 100000;
constexpr TimeMs kMaxKafkaBatchLinger = 10000;

constexpr std::string_view kKafkaRequired = "required for kind kafka";
constexpr std::array<std::string_view, 1> kEntryKeys = {"kind"};

// Properties Signalbox sets itself and users may not override: delivery depends on them.
bool reserved_property(std::string_view property) {
  return property == "enable.auto.commit" || property == "enable.auto.offset.store" ||
         property == "group.id" || property == "bootstrap.servers";
}

// An empty brokers or topic is as good as none.
void require_text(const ConfigValue& v) {
  if (v.text.empty()) throw_config_error(v.owner_where, v.path, kKafkaRequired);
}

const std::array<SchemaKey<KafkaKeys>, 8> kKafkaKeys = {{
    {"brokers",
     ValueType::kSingle,
     kKafkaRequired,
     {},
     [](const ConfigValue& v, KafkaKeys&) { require_text(v); }},
    {"topic",
     ValueType::kSingle,
     kKafkaRequired,
     {},
     [](const ConfigValue& v, KafkaKeys& out) {
       require_text(v);
       out.topic = v.text;
     }},
    {"group",
     ValueType::kSingle,
     {},
     "signalbox",
     [](const ConfigValue& v, KafkaKeys&) {
       if (v.text.empty()) v.fail_at_key("must not be empty");
     }},
    {"format",
     ValueType::kSingle,
     {},
     "json",
     [](const ConfigValue& v, KafkaKeys&) {
       if (v.text != "json" && v.text != "protobuf") {
         v.fail_at_key(
             fmt::format("unknown format {} (use json or protobuf)", quote_config_text(v.text)));
       }
     }},
    {"batch_size",
     ValueType::kSingle,
     {},
     "8192",
     [](const ConfigValue& v, KafkaKeys&) {
       auto n = parse_config_int(v.text);
       if (!n || *n <= 0) v.fail_at_key("must be a positive integer");
       if (*n > kMaxKafkaBatchMessages) {
         v.fail_at_key(fmt::format("must be between 1 and {}", kMaxKafkaBatchMessages));
       }
     }},
    {"batch_linger",
     ValueType::kSingle,
     {},
     "20ms",
     [](const ConfigValue& v, KafkaKeys&) {
       auto d = parse_duration(v.text);
       if (!d) {
         v.fail_at_key(fmt::format("bad duration {} (use <integer><unit>, unit ms, s, m, h or d)",
                                   quote_config_text(v.text)));
       }
       if (*d < 0 || *d > kMaxKafkaBatchLinger) v.fail_at_key("must be between 0ms and 10s");
     }},
    {"dead_letter_topic",
     ValueType::kSingle,
     {},
     {},
     [](const ConfigValue& v, KafkaKeys& out) {
       if (v.text.empty()) v.fail_at_key("must not be empty");
       out.dead_letter_topic = v;
     }},
    // Further librdkafka consumer properties; librdkafka judges their values when the
    // consumer is configured.
    {"rdkafka.",
     ValueType::kSingle,
     {},
     {},
     [](const ConfigValue& v, KafkaKeys&) {
       if (reserved_property(std::string_view(v.field.key).substr(8))) {
         v.fail_at_key(
             "is set by Signalbox (use brokers and group; offsets are always committed by "
             "Signalbox after ingest)");
       }
     }},
}};
const Schema<KafkaKeys> kKafkaSchema{
    kKafkaKeys, "ingest kind kafka", kEntryKeys,
    "unknown key (use brokers, topic, group, format, batch_size, batch_linger, dead_letter_topic "
    "or rdkafka.<librdkafka property>)"};

// HTTP ingest is configured in `server`; anything written for it here is a mistake.
struct HttpKeys {};
const Schema<HttpKeys> kHttpSchema{{}, "ingest kind http", kEntryKeys};

}  // namespace

void check_ingest_kind_keys(std::string_view kind, const ConfigFields& fields,
                            std::string_view path, const ConfigLocation& where,
                            const ConfigContext& context) {
  if (kind == "http") {
    HttpKeys keys;
    apply_schema(kHttpSchema, fields, path, where, context, keys);
  } else if (kind == "kafka") {
    KafkaKeys keys;
    apply_schema(kKafkaSchema, fields, path, where, context, keys);
    if (keys.dead_letter_topic && keys.dead_letter_topic->text == keys.topic) {
      keys.dead_letter_topic->fail_at_key("must differ from topic");
    }
  }
}

std::vector<std::string> ingest_kinds() { return {"http", "kafka"}; }

std::vector<KeyDescription> ingest_kind_keys(std::string_view kind) {
  if (kind == "http") return describe(kHttpSchema);
  if (kind == "kafka") return describe(kKafkaSchema);
  return {};
}

}  // namespace signalbox
