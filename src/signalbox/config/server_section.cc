// The `server` section and its `auth` and `tls` mappings (docs/config.md#server).

#include <array>

#include <fmt/format.h>

#include "signalbox/config/sections.h"

namespace signalbox {

namespace {

void positive(const ConfigValue& v) {
  if (v.duration <= 0) v.fail("must be positive");
}

const std::array<SchemaKey<ServerAuthConfig>, 3> kServerAuthKeys = {{
    {"ingest",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, ServerAuthConfig& out) {
       out.ingest = secret_reference(v, "token");
     }},
    {"query",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, ServerAuthConfig& out) { out.query = secret_reference(v, "token"); }},
    {"metrics",
     ValueType::kText,
     {},
     {},
     [](const ConfigValue& v, ServerAuthConfig& out) {
       out.metrics = secret_reference(v, "token");
     }},
}};
const Schema<ServerAuthConfig> kServerAuthSchema{kServerAuthKeys};

// A bound on server.io_threads: each is a thread of its own, started at once, and past a few
// they only contend for the one io_context.
constexpr std::int64_t kMostIoThreads = 64;

// Both or neither: a certificate without its key is a half-done setup.
constexpr std::string_view kTlsRequired = "required when server.tls is given (a PEM file)";
const std::array<SchemaKey<ServerTlsConfig>, 2> kServerTlsKeys = {{
    {"cert",
     ValueType::kPath,
     kTlsRequired,
     {},
     [](const ConfigValue& v, ServerTlsConfig& out) { out.cert = v.file; }},
    {"key",
     ValueType::kPath,
     kTlsRequired,
     {},
     [](const ConfigValue& v, ServerTlsConfig& out) { out.key = v.file; }},
}};
const Schema<ServerTlsConfig> kServerTlsSchema{kServerTlsKeys};

const std::array<SchemaKey<ServerConfig>, 16> kServerKeys = {{
    {"http",
     ValueType::kEndpoint,
     {},
     "127.0.0.1:8080",
     [](const ConfigValue& v, ServerConfig& out) { out.http = v.text; }},
    // Absent (or null): no gRPC server.
    {"grpc",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, ServerConfig& out) {
       if (v.field.node && v.field.node->IsNull()) return;
       if (!v.field.value.scalar) v.fail("must be a string");
       if (!is_endpoint(v.text)) {
         v.fail(fmt::format("bad address {} (use host:port, port 1-65535)",
                            quote_config_text(v.text)));
       }
       out.grpc = v.text;
     }},
    {"max_body_bytes",
     ValueType::kCount,
     {},
     "16777216",
     [](const ConfigValue& v, ServerConfig& out) {
       out.max_body_bytes = static_cast<std::size_t>(v.count);
     }},
    {"idle_timeout",
     ValueType::kDuration,
     {},
     "60s",
     [](const ConfigValue& v, ServerConfig& out) {
       positive(v);
       out.idle_timeout = v.duration;
     }},
    {"request_timeout",
     ValueType::kDuration,
     {},
     "30s",
     [](const ConfigValue& v, ServerConfig& out) {
       positive(v);
       out.request_timeout = v.duration;
     }},
    {"query_timeout",
     ValueType::kDuration,
     {},
     "10s",
     [](const ConfigValue& v, ServerConfig& out) {
       positive(v);
       out.query_timeout = v.duration;
     }},
    {"shutdown_timeout",
     ValueType::kDuration,
     {},
     "30s",
     [](const ConfigValue& v, ServerConfig& out) {
       positive(v);
       out.shutdown_timeout = v.duration;
     }},
    {"max_connections",
     ValueType::kCount,
     {},
     "1024",
     [](const ConfigValue& v, ServerConfig& out) {
       out.max_connections = static_cast<std::size_t>(v.count);
     }},
    {"max_inflight_bytes",
     ValueType::kByteSize,
     {},
     "256MiB",
     [](const ConfigValue& v, ServerConfig& out) {
       out.max_inflight_bytes = static_cast<std::size_t>(v.bytes);
     }},
    {"max_queued_requests",
     ValueType::kCount,
     {},
     "1024",
     [](const ConfigValue& v, ServerConfig& out) {
       out.max_queued_requests = static_cast<std::size_t>(v.count);
     }},
    {"inline_query_budget",
     ValueType::kText,
     {},
     "1ms",
     [](const ConfigValue& v, ServerConfig& out) {
       const std::optional<TimeMs> d =
           v.text == "0" ? std::optional<TimeMs>(0) : parse_duration(v.text);
       if (!d) {
         v.fail(fmt::format(
             "bad duration {} (use <integer><unit>, unit ms, s, m, h or d; 0: every query goes "
             "to the query pool)",
             quote_config_text(v.text)));
       }
       out.inline_query_budget = *d;
     }},
    {"io_threads",
     ValueType::kCount,
     {},
     "2",
     [](const ConfigValue& v, ServerConfig& out) {
       if (v.count > kMostIoThreads)
         v.fail(fmt::format("must be at most {} (got {})", kMostIoThreads, v.count));
       out.io_threads = static_cast<std::size_t>(v.count);
     }},
    {"query_threads",
     ValueType::kCount,
     {},
     {},
     [](const ConfigValue& v, ServerConfig& out) {
       out.query_threads = static_cast<std::size_t>(v.count);
     }},
    {"max_events_per_request",
     ValueType::kCount,
     {},
     "100000",
     [](const ConfigValue& v, ServerConfig& out) {
       out.max_events_per_request = static_cast<std::size_t>(v.count);
     }},
    {"auth",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, ServerConfig& out) {
       YamlReader reader(*v.context);
       apply_schema(kServerAuthSchema, reader.sub_fields(v.field, v.path), v.path,
                    v.field.value_where, *v.context, out.auth);
     }},
    {"tls",
     ValueType::kAny,
     {},
     {},
     [](const ConfigValue& v, ServerConfig& out) {
       if (v.field.node && v.field.node->IsNull()) return;
       YamlReader reader(*v.context);
       ServerTlsConfig tls;
       apply_schema(kServerTlsSchema, reader.sub_fields(v.field, v.path), v.path,
                    v.field.value_where, *v.context, tls);
       out.tls = std::move(tls);
     }},
}};
const Schema<ServerConfig> kServerSchema{kServerKeys};

}  // namespace

void read_server(const YamlReader& reader, const ConfigField& section, ServerConfig& out) {
  apply_schema(kServerSchema, reader.sub_fields(section, "server"), "server", section.value_where,
               reader.context(), out);
}

std::vector<KeyDescription> server_keys() { return describe(kServerSchema); }
std::vector<KeyDescription> server_auth_keys() { return describe(kServerAuthSchema); }
std::vector<KeyDescription> server_tls_keys() { return describe(kServerTlsSchema); }

}  // namespace signalbox
