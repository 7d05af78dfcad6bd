#include "signalbox/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "signalbox/common/error.h"
#include "signalbox/config/schema.h"
#include "signalbox/config/sections.h"
#include "signalbox/config/yaml_reader.h"

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
  auto n = parse_config_int(port);
  return n && *n >= 1 && *n <= 65535;
}

namespace {

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
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  const std::string&) override {
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

void read_plugins(const YamlReader& reader, const ConfigField& section, std::vector<fs::path>& out,
                  std::vector<ConfigLocation>& locations) {
  for (const auto& [n, where] : reader.items(section, "plugins", "paths")) {
    std::string path = index_path("plugins", out.size());
    std::string p = YamlReader::text(n, where, path);
    if (p.empty()) throw_config_error(where, path, "must not be empty");
    out.push_back((reader.context().dir / fs::path(p)).lexically_normal());
    locations.push_back(where);
    locations.back().path = path;
  }
}

// Reads the sections of a config, each by its reader (sections.h).
Config parse_sections(const std::string& text, const fs::path& file) {
  YamlReader reader(file);
  YAML::Node root;
  try {
    // A second document is almost always a paste error; silently ignoring it would hide it.
    // Counted with a bounded loop: yaml-cpp 0.7's LoadAll() loops forever on some broken
    // input (a stray ',' at the top level), producing empty documents without end.
    if (auto second = second_document(text)) {
      throw_config_error(reader.location(*second), "yaml", "more than one document");
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw_config_error(reader.location(e.mark), "yaml", e.msg);
  }
  ConfigLocation root_where = reader.location(root.Mark());
  if (root_where.line == 0) root_where.line = 1;

  Config config;
  config.file = file;
  if (root.IsNull()) throw_config_error(root_where, "signals", "required");
  if (!root.IsMap()) throw_config_error(root_where, "config", "must be a mapping of sections");

  std::map<std::string, ConfigField, std::less<>> sections;
  for (ConfigField& f : reader.fields(root, "", root_where)) sections.emplace(f.key, std::move(f));
  static const std::vector<std::string> kSections = {"server", "log",     "storage",  "event_store",
                                                     "ingest", "sources", "features", "signals",
                                                     "views",  "plugins"};
  for (const auto& [key, f] : sections) {
    if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
      throw_config_error(f.where, key,
                         "unknown section (expected " + join_with_or(kSections) + ")");
    }
  }
  // Sections are read in dependency order, not file order: features name sources and views
  // name signals wherever they are written. An absent section reads as an empty one, so that
  // its defaults apply.
  ConfigField absent;
  absent.where = root_where;
  absent.value_where = root_where;
  auto section = [&](std::string_view name) -> const ConfigField& {
    auto it = sections.find(name);
    return it == sections.end() ? absent : it->second;
  };
  read_server(reader, section("server"), config.server);
  read_log(reader, section("log"), config.log);
  read_storage(reader, section("storage"), config.storage);
  read_event_store(reader, section("event_store"), config.event_store);
  read_ingest(reader, section("ingest"), config.ingest);
  read_sources(reader, section("sources"), config.sources);
  read_features(reader, section("features"), config.sources, config.features);
  auto signals = sections.find("signals");
  if (signals == sections.end()) throw_config_error(root_where, "signals", "required");
  ClaimedNames names;
  read_signals(reader, signals->second, config.features, names, config.signals);
  read_views(reader, section("views"), config.signals, names, config.views);
  read_plugins(reader, section("plugins"), config.plugins, config.plugin_locations);
  return config;
}

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
  return fmt::format("{} (expected {})", what, join_with_or(known));
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
    throw ConfigError(
        fmt::format("{}: config larger than {} bytes", file.string(), kMaxConfigBytes));
  }
  int line = 1;
  for (unsigned char c : yaml_text) {
    if (c == '\n') ++line;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      throw_config_error(ConfigLocation{file.string(), line, ""}, "yaml",
                         fmt::format("control character 0x{:02x} is not allowed", c));
    }
  }
  return parse_sections(yaml_text, file);
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
  auto n = parse_config_int(p->text);
  if (!n || *n <= 0) throw_config_error(p->where, key, "must be a positive integer");
  return *n;
}

double param_double(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                    std::optional<double> fallback) {
  const ConfigParam* p = find_param(params, key, where, fallback.has_value());
  if (!p) return *fallback;
  auto d = parse_config_double(p->text);
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
                       fmt::format("bad duration {} (use <integer><unit>, unit ms, s, m, h or d)",
                                   quote_config_text(p->text)));
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
  if (!it->second.list)
    throw_config_error(it->second.where, key, "must be a list of single values");
  return it->second.items;
}

}  // namespace signalbox
