// docs/config.md (and docs/kafka.md for the Kafka keys) against the schema tables the loader
// checks configs with (config/schema_catalog.h): every key a table takes is documented, every
// documented key is taken, and a documented default is the one applied. The documents cannot
// drift from the code unnoticed.

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "signalbox/config/schema_catalog.h"
#include "signalbox/materialize/source.h"

namespace signalbox::testing {
namespace {

std::string read_doc(const std::string& name) {
  std::ifstream in(std::string(SIGNALBOX_SOURCE_DIR) + "/docs/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

std::vector<std::string> code_spans(const std::string& text) {
  std::vector<std::string> out;
  static const std::regex kSpan("`([^`]+)`");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kSpan);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

// The rows of the tables of a document, by the `## \`heading\`` they are under.
std::map<std::string, std::vector<std::vector<std::string>>> rows_by_section(
    const std::string& doc) {
  std::map<std::string, std::vector<std::vector<std::string>>> out;
  std::istringstream in(doc);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      auto spans = code_spans(line);
      section = spans.empty() ? line.substr(3) : spans[0];
    } else if (line.starts_with("| `")) {
      out[section].push_back(cells_of(line));
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// A documented key names a schema key: itself, or a prefix key ("rdkafka.<property>").
bool names_key(const std::string& documented, const std::string& key) {
  if (key.ends_with('.')) return documented.starts_with(key) && documented.size() > key.size();
  return documented == key;
}

struct Documented {
  std::vector<std::string> keys;
  std::map<std::string, std::string> defaults;  // key: its default cell, for key|default tables
  std::map<std::string, std::string> meanings;  // key: its last cell
};

// The keys of a `| key | default | meaning |` or `| key | meaning |` table: the code spans of
// the first cell of each row.
Documented key_table(const std::vector<std::vector<std::string>>& rows) {
  Documented d;
  for (const auto& row : rows) {
    for (const std::string& key : code_spans(row[0])) {
      d.keys.push_back(key);
      if (row.size() == 3) d.defaults[key] = trim(row[1]);
      d.meanings[key] = row.back();
    }
  }
  return d;
}

const SchemaTableDescription& table(const std::string& name) {
  static const std::vector<SchemaTableDescription> tables = config_schema_tables();
  for (const auto& t : tables)
    if (t.name == name) return t;
  ADD_FAILURE() << "no schema table " << name;
  return tables.front();
}

void expect_same_keys(const SchemaTableDescription& schema,
                      const std::vector<std::string>& documented, const std::string& where) {
  for (const KeyDescription& k : schema.keys) {
    bool found = false;
    for (const std::string& d : documented) found = found || names_key(d, k.key);
    EXPECT_TRUE(found) << where << " does not document key " << k.key << " of " << schema.name;
  }
  for (const std::string& d : documented) {
    bool found = false;
    for (const KeyDescription& k : schema.keys) found = found || names_key(d, k.key);
    EXPECT_TRUE(found) << where << " documents " << d << ", which " << schema.name
                       << " does not take";
  }
}

void expect_same_defaults(const SchemaTableDescription& schema, const Documented& doc,
                          const std::string& where) {
  for (const KeyDescription& k : schema.keys) {
    auto it = doc.defaults.find(k.key);
    if (it == doc.defaults.end()) continue;
    if (!k.fallback.empty()) {
      EXPECT_EQ(it->second, "`" + k.fallback + "`")
          << where << ": default of " << schema.name << "." << k.key;
    } else if (k.required) {
      EXPECT_EQ(it->second, "required") << where << ": " << schema.name << "." << k.key;
    } else {
      EXPECT_FALSE(it->second.starts_with("`"))
          << where << ": " << schema.name << "." << k.key << " has no default in the schema";
    }
  }
}

TEST(ConfigDocs, EverySectionTableMatchesItsSchema) {
  auto sections = rows_by_section(read_doc("config.md"));
  for (const std::string name :
       {"server", "log", "storage", "event_store", "features", "signals", "views"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(sections.count(name)) << "docs/config.md has no table under ## `" << name << "`";
    Documented doc = key_table(sections[name]);
    expect_same_keys(table(name), doc.keys, "docs/config.md");
    expect_same_defaults(table(name), doc, "docs/config.md");
  }
}

// server.auth and server.tls are mappings documented in their row of the server table.
TEST(ConfigDocs, NestedMappingsAreDocumentedInTheirRow) {
  Documented server = key_table(rows_by_section(read_doc("config.md"))["server"]);
  for (const auto& [nested, row] :
       std::map<std::string, std::string>{{"server.auth", "auth"}, {"server.tls", "tls"}}) {
    const std::string& meaning = server.meanings[row];
    for (const KeyDescription& k : table(nested).keys) {
      EXPECT_TRUE(std::regex_search(meaning, std::regex("\\b" + k.key + "\\b")))
          << "the " << row << " row of docs/config.md does not name " << nested << "." << k.key;
    }
  }
}

TEST(ConfigDocs, EveryIngestKindsKeysAreDocumented) {
  auto rows = rows_by_section(read_doc("config.md"))["ingest"];
  std::set<std::string> kinds;
  for (const auto& row : rows) {
    std::string kind = code_spans(row[0]).at(0);
    kinds.insert(kind);
    SCOPED_TRACE(kind);
    expect_same_keys(table("ingest kind " + kind), code_spans(row[1]), "docs/config.md");
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"http", "kafka"}));
  // docs/kafka.md has the full table, with defaults.
  Documented kafka = key_table(rows_by_section(read_doc("kafka.md"))["Setup"]);
  expect_same_keys(table("ingest kind kafka"), kafka.keys, "docs/kafka.md");
  expect_same_defaults(table("ingest kind kafka"), kafka, "docs/kafka.md");
}

TEST(ConfigDocs, EverySourceKindsKeysAreDocumented) {
  auto rows = rows_by_section(read_doc("config.md"))["sources"];
  std::set<std::string> kinds;
  for (const auto& row : rows) {
    std::string kind = code_spans(row[0]).at(0);
    kinds.insert(kind);
    SCOPED_TRACE(kind);
    // The file keys the loader reads, and the parameters the kind declares.
    SchemaTableDescription keys = table("source kind " + kind);
    std::optional<ParamSpecs> params = source_kind_params(kind);
    ASSERT_TRUE(params.has_value());
    for (const ParamSpec& p : *params) keys.keys.push_back({p.name, "", false});
    expect_same_keys(keys, code_spans(row[1]), "docs/config.md");
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"fasttext", "redis", "table"}));
}

}  // namespace
}  // namespace signalbox::testing
