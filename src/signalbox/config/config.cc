#include "signalbox/config/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "signalbox/common/byte_size.h"
#include "signalbox/common/error.h"
#include "signalbox/common/logging.h"

namespace signalbox {

namespace fs = std::filesystem;

void throw_config_error(const ConfigLocation& where, std::string_view key,
                        std::string_view problem) {
  std::string full(key);
  if (!where.path.empty() && !key.starts_with(where.path)) full = where.path + "." + full;
  if (where.line > 0) {
    throw ConfigError(fmt::format("{}:{}: {}: {}", where.file, where.line, full, problem));
  }
  throw ConfigError(fmt::format("{}: {}: {}", where.file, full, problem));
}

namespace {

// A config is a page of YAML; anything near this size is a mistake (or an attack).
constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr std::string_view kDurationHint = "(use <integer><unit>, unit ms, s, m, h or d)";

// Values are echoed back in messages; escaping keeps a stray newline or quote from
// garbling the one-line error the CLI prints.
std::string quote(std::string_view s) {
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

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_source_kind(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_action(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The whole text must be the number: "5x" is a typo, not 5.
std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [rest, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || rest != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [rest, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || rest != s.data() + s.size() || s.empty()) return std::nullopt;
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

// The last colon splits, so a bracketed IPv6 host works.
bool is_endpoint(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  auto n = parse_int(port);
  return n && *n >= 1 && *n <= 65535;
}

namespace {

// A reference names an event field or a feature (docs/config.md); features may not take those
// spellings, so that a reference never has two meanings.
bool is_event_field(std::string_view s) {
  return s == "item_id" || s == "query" || s == "action" ||
         (s.starts_with("attrs.") && s.size() > 6);
}

struct Entry {
  std::string key;
  YAML::Node value;
  ConfigLocation where;        // of the key
  ConfigLocation value_where;  // of the value, for messages about it
};

// Where a second YAML document starts, if the text has one.
std::optional<YAML::Mark> second_document(const std::string& text) {
  // Records where each document's first node is (a document start's own mark is where the
  // previous one ended).
  class DocumentStarts final : public YAML::EventHandler {
   public:
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark&) override { pending_ = true; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override {
      node(m);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
      node(m);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
      node(m);
    }
    void OnMapEnd() override {}

   private:
    void node(const YAML::Mark& m) {
      if (pending_) marks.push_back(m);
      pending_ = false;
    }
    bool pending_ = false;
  };
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
  }
  if (starts.marks.size() > 1) return starts.marks[1];
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(const fs::path& file) : file_(file.string()) {
    std::error_code ec;
    fs::path abs = file.empty() ? fs::current_path(ec) / "config" : fs::absolute(file, ec);
    dir_ = abs.parent_path();
  }

  Config parse(const std::string& text) {
    YAML::Node root;
    try {
      // A second document is almost always a paste error; silently ignoring it would hide it.
      // Counted with a bounded loop: yaml-cpp 0.7's LoadAll() loops forever on some broken
      // input (a stray ',' at the top level), producing empty documents without end.
      if (auto second = second_document(text)) {
        throw_config_error(location(*second), "yaml", "more than one document");
      }
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw_config_error(location(e.mark), "yaml", e.msg);
    }
    ConfigLocation root_where = location(root.Mark());
    if (root_where.line == 0) root_where.line = 1;

    Config config;
    config.file = fs::path(file_);
    config.storage.path = (dir_ / "data").lexically_normal();
    if (root.IsNull()) throw_config_error(root_where, "signals", "required");
    if (!root.IsMap()) throw_config_error(root_where, "config", "must be a mapping of sections");

    std::map<std::string, Entry, std::less<>> sections;
    for (Entry& e : entries(root, "", root_where)) sections.emplace(e.key, std::move(e));
    static const std::vector<std::string> kSections = {"server",  "log",     "storage",
                                                       "event_store", "ingest", "sources",
                                                       "features", "signals", "views",
                                                       "plugins"};
    for (const auto& [key, e] : sections) {
      if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
        throw_config_error(e.where, key, "unknown section (expected " + join(kSections) + ")");
      }
    }
    // Sections are read in dependency order, not file order: features name sources and views
    // name signals wherever they are written.
    auto section = [&](std::string_view name) -> const Entry* {
      auto it = sections.find(name);
      if (it == sections.end() || it->second.value.IsNull()) return nullptr;
      return &it->second;
    };
    if (auto* e = section("server")) parse_server(*e, config.server);
    if (auto* e = section("log")) parse_log(*e, config.log);
    if (auto* e = section("storage")) parse_storage(*e, config.storage);
    if (auto* e = section("event_store")) parse_event_store(*e, config.event_store);
    if (auto* e = section("ingest")) parse_ingest(*e, config.ingest);
    if (auto* e = section("sources")) parse_sources(*e, config.sources);
    if (auto* e = section("features")) parse_features(*e, config.sources, config.features);
    auto signals = sections.find("signals");
    if (signals == sections.end()) throw_config_error(root_where, "signals", "required");
    parse_signals(signals->second, config.features, config.signals);
    if (auto* e = section("views")) parse_views(*e, config.signals, config.views);
    if (auto* e = section("plugins")) parse_plugins(*e, config.plugins, config.plugin_locations);
    return config;
  }

 private:
  ConfigLocation location(const YAML::Mark& mark) const {
    return ConfigLocation{file_, mark.is_null() || mark.line < 0 ? 0 : mark.line + 1};
  }

  // yaml-cpp places an empty value on the next line and an alias at its anchor; the key's
  // line is where the user looks in both cases.
  ConfigLocation value_location(const YAML::Node& value, const ConfigLocation& key_where) const {
    if (!value.IsDefined() || value.IsNull()) return key_where;
    ConfigLocation at = location(value.Mark());
    if (at.line == 0 || at.line < key_where.line) return key_where;
    return at;
  }

  static std::string child(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }
  static std::string index(std::string_view path, std::size_t i) {
    return fmt::format("{}[{}]", path, i);
  }

  // The entries of a mapping in file order. yaml-cpp keeps duplicate keys and lookups see only
  // the first, so a repeated key would silently lose a value: reject it instead.
  std::vector<Entry> entries(const YAML::Node& map, std::string_view path,
                             const ConfigLocation& where) const {
    if (!map.IsMap()) throw_config_error(where, path, "must be a mapping");
    std::vector<Entry> out;
    std::map<std::string, int, std::less<>> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      ConfigLocation key_where = location(it->first.Mark());
      if (key_where.line == 0) key_where = where;
      if (!it->first.IsScalar()) throw_config_error(key_where, path, "keys must be strings");
      std::string key = it->first.Scalar();
      auto [prev, inserted] = seen.emplace(key, key_where.line);
      if (!inserted) {
        throw_config_error(key_where, child(path, key),
                           fmt::format("duplicate key (first at line {})", prev->second));
      }
      out.push_back(Entry{key, it->second, key_where, value_location(it->second, key_where)});
    }
    return out;
  }

  // The mapping an Entry holds, as its own entries; `null` reads as empty.
  std::vector<Entry> sub_entries(const Entry& e, std::string_view path) const {
    if (e.value.IsNull()) return {};
    return entries(e.value, path, e.value_where);
  }

  std::vector<std::pair<YAML::Node, ConfigLocation>> items(const Entry& e, std::string_view path,
                                                           std::string_view what) const {
    if (e.value.IsNull()) return {};
    if (!e.value.IsSequence()) {
      throw_config_error(e.value_where, path, fmt::format("must be a list of {}", what));
    }
    std::vector<std::pair<YAML::Node, ConfigLocation>> out;
    for (const YAML::Node& n : e.value) out.emplace_back(n, value_location(n, e.value_where));
    return out;
  }

  std::string text(const YAML::Node& n, const ConfigLocation& where, std::string_view path) const {
    if (!n.IsScalar()) throw_config_error(where, path, "must be a string");
    return n.Scalar();
  }
  std::string text(const Entry& e, std::string_view path) const {
    return text(e.value, e.value_where, path);
  }
  std::string nonempty(const Entry& e, std::string_view path) const {
    std::string s = text(e, path);
    if (s.empty()) throw_config_error(e.value_where, path, "must not be empty");
    return s;
  }

  std::string name(const Entry& e, std::string_view path) const {
    std::string s = text(e, path);
    if (!is_name(s)) throw_config_error(e.value_where, path, bad_name(s));
    return s;
  }
  static std::string bad_name(std::string_view s) {
    return fmt::format("bad name {} (use 1-64 characters A-Z a-z 0-9 _ . -)", quote(s));
  }

  TimeMs duration(const YAML::Node& n, const ConfigLocation& where, std::string_view path) const {
    std::string s = text(n, where, path);
    auto d = parse_duration(s);
    if (!d) {
      throw_config_error(where, path, fmt::format("bad duration {} {}", quote(s), kDurationHint));
    }
    return *d;
  }

  std::string endpoint(const YAML::Node& n, const ConfigLocation& where,
                       std::string_view path) const {
    std::string s = text(n, where, path);
    if (!is_endpoint(s)) {
      throw_config_error(where, path,
                         fmt::format("bad address {} (use host:port, port 1-65535)", quote(s)));
    }
    return s;
  }

  fs::path local_path(const Entry& e, std::string_view path) const {
    return resolve(nonempty(e, path));
  }
  fs::path resolve(const std::string& p) const { return (dir_ / fs::path(p)).lexically_normal(); }

  // A value reference names an event field or one of `features`; the message for one that
  // does neither lists what it could name. A feature's key may name only the features
  // written before it (`earlier`).
  std::string reference(const Entry& e, std::string_view path,
                        const std::vector<FeatureConfig>& features, bool earlier = false) const {
    std::string s = text(e, path);
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
                          earlier ? "an earlier feature" : "a feature", comma_list(names));
    throw_config_error(e.value_where, path,
                       fmt::format("unknown reference {} ({})", quote(s), hint));
  }

  [[noreturn]] void unknown_key(const Entry& e, std::string_view path,
                                const std::vector<std::string>& known) const {
    throw_config_error(e.where, child(path, e.key), unknown_key_problem(e.key, known));
  }

  // Reports a required key as missing, unless a parameter written in its place looks like
  // its misspelling: then that is the mistake to name.
  [[noreturn]] void missing(const ConfigLocation& where, std::string_view path,
                            std::string_view key, const ConfigParams& given,
                            std::string_view problem = "required") const {
    for (const auto& [written, param] : given) {
      if (written != key && !closest_match(written, {std::string(key)}).empty()) {
        throw_config_error(param.where, child(path, written),
                           fmt::format("unknown key (did you mean {}?)", key));
      }
    }
    throw_config_error(where, child(path, key), problem);
  }

  // A parameter of an ingest kind, which the loader checks itself: a single value.
  void add_param(const Entry& e, std::string_view path, ConfigParams& params) const {
    if (!e.value.IsScalar()) {
      throw_config_error(e.value_where, child(path, e.key), "must be a single value");
    }
    add_any_param(e, path, params);
  }

  // A parameter for a kind registered in code, which declares what it takes: kept whatever
  // its shape, so that a misspelt key is reported as one (check_params) before its value.
  void add_any_param(const Entry& e, std::string_view path, ConfigParams& params) const {
    ConfigLocation where = e.where;
    where.path = std::string(path);
    bool scalar = e.value.IsScalar();
    ConfigParam param{scalar ? e.value.Scalar() : std::string(), where, scalar};
    if (e.value.IsSequence()) {
      param.list = true;
      for (const YAML::Node& item : e.value) {
        if (!item.IsScalar()) {
          param.list = false;
          param.items.clear();
          break;
        }
        param.items.push_back(item.Scalar());
      }
      if (param.list) param.text = fmt::format("[{}]", fmt::join(param.items, ", "));
    }
    params.emplace(e.key, std::move(param));
  }

  void parse_server(const Entry& section, ServerConfig& out) const {
    static const std::vector<std::string> kKeys = {
        "http",          "grpc",           "max_body_bytes",     "idle_timeout",
        "request_timeout", "query_timeout", "shutdown_timeout",  "max_connections",
        "max_inflight_bytes", "max_queued_requests", "max_events_per_request", "auth", "tls"};
    for (const Entry& e : sub_entries(section, "server")) {
      std::string path = child("server", e.key);
      if (e.key == "http") {
        out.http = endpoint(e.value, e.value_where, path);
      } else if (e.key == "grpc") {
        if (!e.value.IsNull()) out.grpc = endpoint(e.value, e.value_where, path);
      } else if (e.key == "max_body_bytes") {
        out.max_body_bytes = positive_count(e, path);
      } else if (e.key == "idle_timeout") {
        out.idle_timeout = positive_duration(e, path);
      } else if (e.key == "request_timeout") {
        out.request_timeout = positive_duration(e, path);
      } else if (e.key == "query_timeout") {
        out.query_timeout = positive_duration(e, path);
      } else if (e.key == "shutdown_timeout") {
        out.shutdown_timeout = positive_duration(e, path);
      } else if (e.key == "max_connections") {
        out.max_connections = positive_count(e, path);
      } else if (e.key == "max_inflight_bytes") {
        out.max_inflight_bytes = byte_count(e, path);
      } else if (e.key == "max_queued_requests") {
        out.max_queued_requests = positive_count(e, path);
      } else if (e.key == "max_events_per_request") {
        out.max_events_per_request = positive_count(e, path);
      } else if (e.key == "auth") {
        parse_server_auth(e, out.auth);
      } else if (e.key == "tls") {
        parse_server_tls(e, out);
      } else {
        unknown_key(e, "server", kKeys);
      }
    }
  }

  void parse_server_auth(const Entry& section, ServerAuthConfig& out) const {
    static const std::vector<std::string> kKeys = {"ingest", "query", "metrics"};
    for (const Entry& e : sub_entries(section, "server.auth")) {
      std::string path = child("server.auth", e.key);
      std::string* ref = e.key == "ingest"    ? &out.ingest
                         : e.key == "query"   ? &out.query
                         : e.key == "metrics" ? &out.metrics
                                              : nullptr;
      if (!ref) unknown_key(e, "server.auth", kKeys);
      *ref = secret_reference(e, path, "token");
    }
  }

  void parse_server_tls(const Entry& section, ServerConfig& server) const {
    static const std::vector<std::string> kKeys = {"cert", "key"};
    if (section.value.IsNull()) return;
    ServerTlsConfig tls;
    for (const Entry& e : sub_entries(section, "server.tls")) {
      std::string path = child("server.tls", e.key);
      if (e.key == "cert") {
        tls.cert = local_path(e, path);
      } else if (e.key == "key") {
        tls.key = local_path(e, path);
      } else {
        unknown_key(e, "server.tls", kKeys);
      }
    }
    if (tls.cert.empty() || tls.key.empty()) {
      throw_config_error(section.value_where, tls.cert.empty() ? "server.tls.cert" : "server.tls.key",
                         "required when server.tls is given (a PEM file)");
    }
    server.tls = std::move(tls);
  }

  // "env:NAME" or "file:PATH": where a secret is, never the secret itself.
  std::string secret_reference(const Entry& e, std::string_view path, std::string_view what) const {
    std::string ref = text(e, path);
    bool env = ref.rfind("env:", 0) == 0 && ref.size() > 4;
    bool file = ref.rfind("file:", 0) == 0 && ref.size() > 5;
    if (!env && !file) {
      throw_config_error(e.value_where, path,
                         fmt::format("give env:NAME or file:PATH (never the {} itself in the file)",
                                     what));
    }
    return ref;
  }

  TimeMs positive_duration(const Entry& e, std::string_view path) const {
    TimeMs d = duration(e.value, e.value_where, path);
    if (d <= 0) throw_config_error(e.value_where, path, "must be positive");
    return d;
  }

  std::size_t positive_count(const Entry& e, std::string_view path) const {
    auto n = parse_int(text(e, path));
    if (!n || *n <= 0) throw_config_error(e.value_where, path, "must be a positive integer");
    return static_cast<std::size_t>(*n);
  }

  // A positive number of bytes, plain or with a binary unit ("1048576", "64MiB").
  std::size_t byte_count(const Entry& e, std::string_view path) const {
    std::string s = text(e, path);
    auto n = parse_byte_size(s);
    if (!n) {
      throw_config_error(e.value_where, path,
                         fmt::format("bad size {} (use a positive number of bytes, or with a unit "
                                     "B, KiB, MiB or GiB, e.g. 64MiB)",
                                     quote(s)));
    }
    return static_cast<std::size_t>(*n);
  }

  void parse_log(const Entry& section, LogConfig& out) const {
    static const std::vector<std::string> kKeys = {"level", "format", "slow_query"};
    for (const Entry& e : sub_entries(section, "log")) {
      std::string path = child("log", e.key);
      if (e.key == "level") {
        out.level = text(e, path);
        if (!parse_log_level(out.level)) {
          throw_config_error(
              e.value_where, path,
              fmt::format("unknown level {} (use trace, debug, info, warn, error or off)",
                          quote(out.level)));
        }
      } else if (e.key == "format") {
        out.format = text(e, path);
        if (!parse_log_format(out.format)) {
          throw_config_error(e.value_where, path,
                             fmt::format("unknown format {} (use text or json)", quote(out.format)));
        }
      } else if (e.key == "slow_query") {
        out.slow_query = duration(e.value, e.value_where, path);
      } else {
        unknown_key(e, "log", kKeys);
      }
    }
  }

  void parse_storage(const Entry& section, StorageConfig& out) const {
    static const std::vector<std::string> kKeys = {"kind",       "path",    "nodes", "password",
                                                   "key_prefix", "timeout", "pool",  "sync",
                                                   "reserve"};
    const Entry* nodes = nullptr;
    ConfigLocation kind_where = section.value_where;
    std::optional<ConfigLocation> sync_where;
    std::vector<Entry> fields = sub_entries(section, "storage");
    for (const Entry& e : fields) {
      std::string path = child("storage", e.key);
      if (e.key == "kind") {
        out.kind = text(e, path);
        kind_where = e.value_where;
        if (out.kind != "rocksdb" && out.kind != "redis") {
          throw_config_error(
              e.value_where, path,
              fmt::format("unknown kind {} (use rocksdb or redis)", quote(out.kind)));
        }
      } else if (e.key == "path") {
        out.path = local_path(e, path);
      } else if (e.key == "nodes") {
        for (const auto& [n, where] : items(e, path, "host:port addresses")) {
          out.nodes.push_back(endpoint(n, where, index(path, out.nodes.size())));
        }
        nodes = &e;
      } else if (e.key == "password") {
        out.password = secret_reference(e, path, "password");
      } else if (e.key == "key_prefix") {
        out.key_prefix = text(e, path);
        if (out.key_prefix.empty() || out.key_prefix.find_first_of("{}") != std::string::npos)
          throw_config_error(e.value_where, path, "must be a non-empty text without { or }");
      } else if (e.key == "timeout") {
        out.timeout = duration(e.value, e.value_where, path);
        if (out.timeout <= 0) throw_config_error(e.value_where, path, "must be positive");
      } else if (e.key == "pool") {
        auto n = parse_int(text(e, path));
        if (!n || *n < 1 || *n > 1024) throw_config_error(e.value_where, path, "must be an integer from 1 to 1024");
        out.pool = static_cast<std::size_t>(*n);
      } else if (e.key == "sync") {
        std::string mode = text(e, path);
        if (mode != "always" && mode != "none")
          throw_config_error(e.value_where, path,
                             fmt::format("unknown mode {} (use always or none)", quote(mode)));
        out.sync = mode == "always";
        sync_where = e.value_where;
      } else if (e.key == "reserve") {
        std::string amount = text(e, path);
        std::optional<std::uint64_t> bytes = amount == "0" ? std::optional<std::uint64_t>(0) : parse_byte_size(amount);
        if (!bytes)
          throw_config_error(e.value_where, path,
                             fmt::format("{} is not a size (use bytes, or <integer><unit> with unit B, "
                                         "KiB, MiB, GiB or TiB, e.g. 1GiB; 0 for no reserve)",
                                         quote(amount)));
        out.reserve = *bytes;
      } else {
        unknown_key(e, "storage", kKeys);
      }
    }
    if (out.kind == "redis" && out.nodes.empty()) {
      throw_config_error(nodes ? nodes->value_where : kind_where, "storage.nodes",
                         "required for kind redis (a list of host:port)");
    }
    if (out.kind == "redis" && out.sync) {
      throw_config_error(*sync_where, "storage.sync",
                         "applies to kind rocksdb only (a Redis server's durability is its own "
                         "appendonly and appendfsync settings)");
    }
    // Nodes are still checked above for rocksdb, so switching kinds back keeps a valid file.
    if (out.kind == "rocksdb") out.nodes.clear();
  }

  void parse_event_store(const Entry& section, EventStoreConfig& out) const {
    static const std::vector<std::string> kKeys = {"retention", "max_future_skew", "late_horizon",
                                                   "bootstrap_rate"};
    for (const Entry& e : sub_entries(section, "event_store")) {
      std::string path = child("event_store", e.key);
      if (e.key == "retention") {
        out.retention = duration(e.value, e.value_where, path);
      } else if (e.key == "max_future_skew") {
        out.max_future_skew = duration(e.value, e.value_where, path);
      } else if (e.key == "late_horizon") {
        out.late_horizon = duration(e.value, e.value_where, path);
      } else if (e.key == "bootstrap_rate") {
        auto n = parse_int(text(e, path));
        if (!n || *n < 0)
          throw_config_error(e.value_where, path,
                             "must be a whole number of events per second, 0 for no limit");
        out.bootstrap_rate = static_cast<std::uint64_t>(*n);
      } else {
        unknown_key(e, "event_store", kKeys);
      }
    }
  }

  void parse_ingest(const Entry& section, std::vector<IngestConfig>& out) const {
    std::size_t i = 0;
    for (const auto& item : items(section, "ingest", "mappings")) {
      // Named copies, not a structured binding: lambdas below capture them (clang 14).
      const auto& node = item.first;
      const ConfigLocation& where = item.second;
      std::string path = index("ingest", i++);
      IngestConfig ingest;
      ingest.where = where;
      ingest.where.path = path;
      bool has_kind = false;
      std::vector<Entry> fields = entries(node, path, where);
      for (const Entry& e : fields) {
        if (e.key == "kind") {
          ingest.kind = text(e, child(path, "kind"));
          if (ingest.kind != "http" && ingest.kind != "kafka") {
            throw_config_error(
                e.value_where, child(path, "kind"),
                fmt::format("unknown kind {} (use http or kafka)", quote(ingest.kind)));
          }
          has_kind = true;
        } else {
          add_param(e, path, ingest.params);
        }
      }
      if (!has_kind) missing(where, path, "kind", ingest.params);
      // The Kafka consumer checks its own keys (KafkaIngestOptions::from_config); HTTP
      // ingest is configured in `server` and takes none here.
      if (ingest.kind == "http") {
        for (const Entry& e : fields) {
          if (e.key != "kind") {
            throw_config_error(e.where, child(path, e.key),
                               unknown_key_problem(e.key, {"kind"}, "ingest kind http"));
          }
        }
      }
      if (ingest.kind == "kafka") {
        for (std::string_view key : {"brokers", "topic"}) {
          auto it = ingest.params.find(key);
          if (it == ingest.params.end() || it->second.text.empty()) {
            missing(where, path, key, ingest.params, "required for kind kafka");
          }
        }
        auto format = ingest.params.find("format");
        if (format != ingest.params.end() && format->second.text != "json" &&
            format->second.text != "protobuf") {
          throw_config_error(
              format->second.where, child(path, "format"),
              fmt::format("unknown format {} (use json or protobuf)", quote(format->second.text)));
        }
      }
      out.push_back(std::move(ingest));
    }
  }

  void parse_sources(const Entry& section, std::vector<SourceConfig>& out) const {
    for (const Entry& s : sub_entries(section, "sources")) {
      std::string path = child("sources", s.key);
      if (!is_name(s.key)) throw_config_error(s.where, path, bad_name(s.key));
      SourceConfig source;
      source.name = s.key;
      source.where = s.value_where;
      source.where.path = path;
      const Entry* kind = nullptr;
      const Entry* file = nullptr;
      const Entry* key = nullptr;
      const Entry* model = nullptr;
      std::vector<Entry> fields =
          s.value.IsNull() ? std::vector<Entry>() : entries(s.value, path, s.value_where);
      for (const Entry& e : fields) {
        if (e.key == "kind") {
          kind = &e;
        } else if (e.key == "path") {
          file = &e;
        } else if (e.key == "key") {
          key = &e;
        } else if (e.key == "model") {
          model = &e;
        } else {
          add_any_param(e, path, source.params);
        }
      }
      if (!kind) missing(source.where, path, "kind", source.params);
      source.kind = text(*kind, child(path, "kind"));
      // Each kind reads only some of the known keys; one given to the wrong kind is a mistake
      // the user should hear about rather than a value silently unused.
      auto not_for = [&](const Entry* e) {
        if (e) {
          throw_config_error(e->where, child(path, e->key),
                             fmt::format("not used by a {} source", source.kind));
        }
      };
      auto need = [&](const Entry* e, std::string_view k) {
        if (!e) {
          throw_config_error(source.where, child(path, k),
                             fmt::format("required for a {} source", source.kind));
        }
      };
      if (source.kind == "table") {
        need(file, "path");
        need(key, "key");
        not_for(model);
      } else if (source.kind == "fasttext") {
        need(model, "model");
        not_for(file);
        not_for(key);
      } else if (source.kind == "redis") {
        not_for(file);
        not_for(model);
      } else if (!is_source_kind(source.kind)) {
        throw_config_error(kind->value_where, child(path, "kind"),
                           fmt::format("bad kind {} (use table, fasttext, redis or a registered "
                                       "kind of characters a-z 0-9 _)",
                                       quote(source.kind)));
      }
      // Any other kind is registered in code (a plugin, the embedding program); whether it
      // exists is known only when the sources are built, which rejects an unknown one.
      if (file) source.path = local_path(*file, child(path, "path"));
      if (key) source.key = nonempty(*key, child(path, "key"));
      if (model) source.model = local_path(*model, child(path, "model"));
      out.push_back(std::move(source));
    }
  }

  void parse_features(const Entry& section, const std::vector<SourceConfig>& sources,
                      std::vector<FeatureConfig>& out) const {
    static const std::vector<std::string> kKeys = {"name", "source", "key",     "field",
                                                   "type", "top",    "min_prob"};
    std::size_t i = 0;
    for (const auto& item : items(section, "features", "mappings")) {
      // Named copies, not a structured binding: lambdas below capture them (clang 14).
      const auto& node = item.first;
      const ConfigLocation& where = item.second;
      std::string path = index("features", i++);
      FeatureConfig feature;
      feature.where = where;
      feature.where.path = path;
      std::map<std::string, Entry, std::less<>> given;
      for (Entry& e : entries(node, path, where)) {
        if (std::find(kKeys.begin(), kKeys.end(), e.key) == kKeys.end()) {
          unknown_key(e, path, kKeys);
        }
        given.emplace(e.key, std::move(e));
      }
      auto need = [&](std::string_view k) -> const Entry& {
        auto it = given.find(k);
        if (it == given.end()) throw_config_error(where, child(path, k), "required");
        return it->second;
      };
      auto get = [&](std::string_view k) -> const Entry* {
        auto it = given.find(k);
        return it == given.end() ? nullptr : &it->second;
      };

      const Entry& name_entry = need("name");
      feature.name = name(name_entry, child(path, "name"));
      if (is_event_field(feature.name) || feature.name.starts_with("attrs.")) {
        throw_config_error(
            name_entry.value_where, child(path, "name"),
            fmt::format("{} is an event field; choose another name", quote(feature.name)));
      }
      for (const FeatureConfig& f : out) {
        if (f.name == feature.name) {
          throw_config_error(name_entry.value_where, child(path, "name"),
                             fmt::format("duplicate feature {} (first at line {})",
                                         quote(feature.name), f.where.line));
        }
      }

      const Entry& source_entry = need("source");
      feature.source = text(source_entry, child(path, "source"));
      const SourceConfig* source = nullptr;
      for (const SourceConfig& s : sources) {
        if (s.name == feature.source) source = &s;
      }
      if (!source) {
        std::vector<std::string> names;
        for (const SourceConfig& s : sources) names.push_back(s.name);
        std::string known =
            names.empty() ? "no sources are defined" : "defined: " + comma_list(names);
        throw_config_error(source_entry.value_where, child(path, "source"),
                           fmt::format("unknown source {} ({})", quote(feature.source), known));
      }

      // Keys may chain through features defined above, which also rules out cycles.
      feature.key = reference(need("key"), child(path, "key"), out, true);

      bool fasttext = source->kind == "fasttext";
      if (const Entry* e = get("field")) {
        if (fasttext) {
          throw_config_error(e->where, child(path, "field"), "not used by a fasttext source");
        }
        feature.field = nonempty(*e, child(path, "field"));
      } else if (!fasttext) {
        throw_config_error(where, child(path, "field"),
                           fmt::format("required for a {} source", source->kind));
      }

      if (const Entry* e = get("type")) {
        std::string type = text(*e, child(path, "type"));
        if (type == "strings") {
          feature.type = FeatureType::kStrings;
        } else if (type == "vector") {
          feature.type = FeatureType::kVector;
        } else if (type == "number") {
          feature.type = FeatureType::kNumber;
        } else {
          throw_config_error(
              e->value_where, child(path, "type"),
              fmt::format("unknown type {} (use strings, vector or number)", quote(type)));
        }
        if (fasttext && feature.type != FeatureType::kStrings) {
          throw_config_error(e->value_where, child(path, "type"),
                             "a fasttext source gives strings");
        }
      }

      if (const Entry* e = get("top")) {
        if (!fasttext) {
          throw_config_error(e->where, child(path, "top"), "only for a fasttext source");
        }
        auto n = parse_int(text(*e, child(path, "top")));
        if (!n || *n < 0 || *n > 1000000) {
          throw_config_error(e->value_where, child(path, "top"), "must be an integer >= 0");
        }
        feature.top = static_cast<int>(*n);
      }
      if (const Entry* e = get("min_prob")) {
        if (!fasttext) {
          throw_config_error(e->where, child(path, "min_prob"), "only for a fasttext source");
        }
        auto p = parse_double(text(*e, child(path, "min_prob")));
        if (!p || *p < 0 || *p > 1) {
          throw_config_error(e->value_where, child(path, "min_prob"),
                             "must be a number from 0 to 1");
        }
        feature.min_prob = *p;
      }
      out.push_back(std::move(feature));
    }
  }

  void parse_signals(const Entry& section, const std::vector<FeatureConfig>& features,
                     std::vector<SignalConfig>& out) {
    if (!section.value.IsSequence()) {
      throw_config_error(section.value_where, "signals", "must be a list of signals");
    }
    if (section.value.size() == 0) {
      throw_config_error(section.value_where, "signals", "must not be empty");
    }
    std::size_t i = 0;
    for (const auto& item : items(section, "signals", "signals")) {
      // Named copies, not a structured binding: lambdas below capture them (clang 14).
      const auto& node = item.first;
      const ConfigLocation& where = item.second;
      std::string path = index("signals", i++);
      SignalConfig signal;
      signal.where = where;
      signal.where.path = path;
      bool has_name = false, has_aggregator = false;
      for (const Entry& e : entries(node, path, where)) {
        std::string key_path = child(path, e.key);
        if (e.key == "name") {
          signal.name = name(e, key_path);
          claim_name(signal.name, e.value_where, key_path);
          has_name = true;
        } else if (e.key == "aggregator") {
          signal.aggregator = nonempty(e, key_path);
          has_aggregator = true;
        } else if (e.key == "group_by") {
          signal.group_by = reference(e, key_path, features);
        } else if (e.key == "value") {
          signal.value = reference(e, key_path, features);
        } else if (e.key == "actions") {
          signal.actions = parse_actions(e, key_path);
        } else if (e.key == "windows") {
          signal.windows = parse_windows(e, key_path);
        } else {
          add_any_param(e, path, signal.params);
        }
      }
      if (!has_name) missing(where, path, "name", signal.params);
      if (!has_aggregator) missing(where, path, "aggregator", signal.params);
      out.push_back(std::move(signal));
    }
  }

  std::vector<std::pair<std::string, double>> parse_actions(const Entry& e,
                                                            std::string_view path) const {
    std::vector<std::pair<std::string, double>> actions;
    for (const Entry& a : sub_entries(e, path)) {
      std::string a_path = child(path, a.key);
      if (!is_action(a.key)) {
        throw_config_error(
            a.where, a_path,
            fmt::format("bad action {} (use 1-32 characters a-z 0-9 _)", quote(a.key)));
      }
      auto w = a.value.IsScalar() ? parse_double(a.value.Scalar()) : std::nullopt;
      if (!w) throw_config_error(a.value_where, a_path, "weight must be a finite number");
      // Event numbers are bounded the same (kMaxAttrNumber): their weighted sums stay finite.
      if (std::abs(*w) > 1e100)
        throw_config_error(a.value_where, a_path, "weight must be at most 1e100 in magnitude");
      actions.emplace_back(a.key, *w);
    }
    // An empty map would drop every event; omitting `actions` is how to take them all.
    if (actions.empty()) {
      throw_config_error(e.value_where, path, "must not be empty (omit it to count every action)");
    }
    return actions;
  }

  std::vector<WindowConfig> parse_windows(const Entry& e, std::string_view path) const {
    std::vector<WindowConfig> windows;
    for (const auto& [n, where] : items(e, path, "durations")) {
      std::string w_path = index(path, windows.size());
      WindowConfig w{text(n, where, w_path), duration(n, where, w_path)};
      // "1d" and "24h" are the same window under two answer keys: almost surely a mistake.
      for (std::size_t j = 0; j < windows.size(); ++j) {
        if (windows[j].length == w.length) {
          throw_config_error(where, w_path,
                             fmt::format("duplicate window {} (same as {})", quote(w.text),
                                         quote(windows[j].text)));
        }
      }
      windows.push_back(std::move(w));
    }
    if (windows.empty()) {
      throw_config_error(e.value_where, path,
                         "must not be empty (omit it for one result over all history)");
    }
    return windows;
  }

  void parse_views(const Entry& section, const std::vector<SignalConfig>& signals,
                   std::vector<ViewConfig>& out) {
    std::size_t i = 0;
    for (const auto& item : items(section, "views", "views")) {
      // Named copies, not a structured binding: lambdas below capture them (clang 14).
      const auto& node = item.first;
      const ConfigLocation& where = item.second;
      std::string path = index("views", i++);
      ViewConfig view;
      view.where = where;
      view.where.path = path;
      const Entry* signal_entry = nullptr;
      const Entry* window_entry = nullptr;
      bool has_name = false, has_transform = false;
      std::vector<Entry> fields = entries(node, path, where);
      for (const Entry& e : fields) {
        std::string key_path = child(path, e.key);
        if (e.key == "name") {
          view.name = name(e, key_path);
          claim_name(view.name, e.value_where, key_path);
          has_name = true;
        } else if (e.key == "signal") {
          view.signal = text(e, key_path);
          signal_entry = &e;
        } else if (e.key == "window") {
          view.window = nonempty(e, key_path);
          window_entry = &e;
        } else if (e.key == "transform") {
          view.transform = nonempty(e, key_path);
          has_transform = true;
        } else {
          add_any_param(e, path, view.params);
        }
      }
      if (!has_name) missing(where, path, "name", view.params);
      if (!signal_entry) missing(where, path, "signal", view.params);
      if (!has_transform) missing(where, path, "transform", view.params);
      const SignalConfig* signal = nullptr;
      for (const SignalConfig& s : signals) {
        if (s.name == view.signal) signal = &s;
      }
      if (!signal) {
        throw_config_error(signal_entry->value_where, child(path, "signal"),
                           fmt::format("unknown signal {}", quote(view.signal)));
      }
      if (window_entry) {
        std::vector<std::string> texts;
        for (const WindowConfig& w : signal->windows) texts.push_back(w.text);
        if (std::find(texts.begin(), texts.end(), view.window) == texts.end()) {
          std::string problem =
              texts.empty()
                  ? fmt::format("signal {} has no windows", quote(signal->name))
                  : fmt::format("unknown window {} (signal {} has {})", quote(view.window),
                                quote(signal->name), comma_list(texts));
          throw_config_error(window_entry->value_where, child(path, "window"), problem);
        }
      }
      out.push_back(std::move(view));
    }
  }

  void parse_plugins(const Entry& section, std::vector<fs::path>& out,
                     std::vector<ConfigLocation>& locations) const {
    for (const auto& [n, where] : items(section, "plugins", "paths")) {
      std::string path = index("plugins", out.size());
      std::string p = text(n, where, path);
      if (p.empty()) throw_config_error(where, path, "must not be empty");
      out.push_back(resolve(p));
      locations.push_back(where);
      locations.back().path = path;
    }
  }

  // Queries name signals and views alike, so the two share one namespace.
  void claim_name(const std::string& name, const ConfigLocation& where, std::string_view path) {
    auto [it, inserted] = names_.emplace(name, where.line);
    if (!inserted) {
      throw_config_error(
          where, path,
          fmt::format("duplicate name {} (first at line {})", quote(name), it->second));
    }
  }

  std::string file_;
  fs::path dir_;
  std::map<std::string, int, std::less<>> names_;
};

const ConfigParam* find_param(const ConfigParams& params, std::string_view key,
                              const ConfigLocation& where, bool has_fallback) {
  auto it = params.find(key);
  if (it != params.end()) {
    if (!it->second.scalar) throw_config_error(it->second.where, key, "must be a single value");
    return &it->second;
  }
  if (!has_fallback) throw_config_error(where, key, "required");
  return nullptr;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closest_match(std::string_view text, const std::vector<std::string>& known) {
  // Keys are short: comparing a long text only costs time and suggests nothing useful.
  if (text.size() > 64) return std::string();
  std::string best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : known) {
    if (candidate.size() > 64) continue;
    std::size_t distance = edit_distance(text, candidate);
    std::size_t longer = std::max(text.size(), candidate.size());
    // A few edits for the length, and never all of it ("x" is no misspelling of "k").
    std::size_t allowed = longer <= 3 ? 1 : longer <= 6 ? 2 : 3;
    if (distance > allowed || distance >= longer) continue;
    if (best.empty() || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string unknown_key_problem(std::string_view key, const std::vector<std::string>& known,
                                std::string_view owner) {
  std::string what = owner.empty() ? "unknown key" : fmt::format("unknown key for {}", owner);
  std::string close = closest_match(key, known);
  if (!close.empty()) return fmt::format("{} (did you mean {}?)", what, close);
  if (known.empty()) return what + " (it takes none)";
  return fmt::format("{} (expected {})", what, join(known));
}

void check_params(const ConfigParams& params, const ParamSpecs& accepted, std::string_view owner,
                  const std::vector<std::string>& entry_keys) {
  for (const auto& entry : params) {
    // Named, not a structured binding: the lambda below captures it (clang 14).
    const std::string& key = entry.first;
    const ConfigParam& param = entry.second;
    auto spec = std::find_if(accepted.begin(), accepted.end(),
                             [&](const ParamSpec& s) { return s.name == key; });
    if (spec == accepted.end()) {
      // Its own parameters first: a tie between the two goes to the kind's.
      std::vector<std::string> known;
      for (const ParamSpec& s : accepted) known.push_back(s.name);
      known.insert(known.end(), entry_keys.begin(), entry_keys.end());
      throw_config_error(param.where, key, unknown_key_problem(key, known, owner));
    }
    if (spec->list) {
      if (!param.list) throw_config_error(param.where, key, "must be a list of single values");
    } else if (!param.scalar) {
      throw_config_error(param.where, key, "must be a single value");
    }
  }
}

Config parse_config(const std::string& yaml_text, const fs::path& file) {
  // YAML allows no C0 control characters but tab and line breaks, and yaml-cpp 0.7 can loop
  // forever on some (a NUL inside a flow collection): refuse them before it sees the text.
  if (yaml_text.size() > kMaxConfigBytes) {
    throw ConfigError(fmt::format("{}: config larger than {} bytes", file.string(), kMaxConfigBytes));
  }
  int line = 1;
  for (unsigned char c : yaml_text) {
    if (c == '\n') ++line;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      throw_config_error(ConfigLocation{file.string(), line, ""}, "yaml",
                         fmt::format("control character 0x{:02x} is not allowed", c));
    }
  }
  return Parser(file).parse(yaml_text);
}

Config load_config(const fs::path& file) {
  ConfigLocation where{file.string(), 0};
  std::error_code ec;
  // An ifstream opens a folder fine and then fails to read it with no useful errno.
  if (fs::is_directory(file, ec)) {
    throw ConfigError(fmt::format("{}: cannot read: {}", where.file, std::strerror(EISDIR)));
  }
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    int err = errno != 0 ? errno : ENOENT;
    throw ConfigError(fmt::format("{}: cannot read: {}", where.file, std::strerror(err)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError(
        fmt::format("{}: cannot read: {}", where.file, std::strerror(errno ? errno : EIO)));
  }
  return parse_config(text.str(), file);
}

bool ingests_over_http(const Config& config) {
  if (config.ingest.empty()) return true;
  for (const IngestConfig& ingest : config.ingest)
    if (ingest.kind == "http") return true;
  return false;
}

TimeMs late_horizon(const Config& config) {
  const EventStoreConfig& store = config.event_store;
  TimeMs horizon = 0;
  if (store.late_horizon) {
    horizon = *store.late_horizon;
  } else {
    for (const SignalConfig& signal : config.signals)
      for (const WindowConfig& window : signal.windows) horizon = std::max(horizon, window.length);
  }
  return std::max(horizon, store.retention + store.max_future_skew);
}

std::int64_t param_int(const ConfigParams& params, std::string_view key,
                       const ConfigLocation& where, std::optional<std::int64_t> fallback) {
  const ConfigParam* p = find_param(params, key, where, fallback.has_value());
  if (!p) return *fallback;
  auto n = parse_int(p->text);
  if (!n || *n <= 0) throw_config_error(p->where, key, "must be a positive integer");
  return *n;
}

double param_double(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                    std::optional<double> fallback) {
  const ConfigParam* p = find_param(params, key, where, fallback.has_value());
  if (!p) return *fallback;
  auto d = parse_double(p->text);
  if (!d) throw_config_error(p->where, key, "must be a finite number");
  return *d;
}

TimeMs param_duration(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                      std::optional<TimeMs> fallback) {
  const ConfigParam* p = find_param(params, key, where, fallback.has_value());
  if (!p) return *fallback;
  auto d = parse_duration(p->text);
  if (!d) {
    throw_config_error(p->where, key,
                       fmt::format("bad duration {} {}", quote(p->text), kDurationHint));
  }
  return *d;
}

std::optional<std::vector<std::string>> param_list(const ConfigParams& params, std::string_view key,
                                                   const ConfigLocation& where, bool required) {
  auto it = params.find(key);
  if (it == params.end()) {
    if (required) throw_config_error(where, key, "required");
    return std::nullopt;
  }
  if (!it->second.list) throw_config_error(it->second.where, key, "must be a list of single values");
  return it->second.items;
}

}  // namespace signalbox
