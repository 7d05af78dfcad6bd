// The plugin interface's version covers exactly what it exposes: include/signalbox/signal_kit.h
// and every Signalbox header it includes, transitively. Their code (comments and blank space
// aside) is fingerprinted; include/signalbox/signal_kit.abi records the fingerprint that goes
// with SIGNALBOX_PLUGIN_ABI_VERSION. A change to any exposed header fails here until the
// version is raised (a plugin built against the old headers would bind to the new ones) and
// the new fingerprint recorded; a header that stops being exposed changes it too.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "signalbox/signal_kit.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = SIGNALBOX_SOURCE_DIR;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "signalbox/x/y.h" as the build finds it: the public include folder, then the sources.
fs::path locate(const std::string& include) {
  for (const char* folder : {"include", "src"}) {
    fs::path candidate = kRoot / folder / include;
    if (fs::exists(candidate)) return candidate;
  }
  ADD_FAILURE() << "cannot find " << include;
  return {};
}

// The kit header and every Signalbox header it reaches, by include path.
std::set<std::string> exposed_headers() {
  std::set<std::string> seen;
  std::vector<std::string> queue = {"signalbox/signal_kit.h"};
  const std::regex include(R"re(^\s*#\s*include\s+"(signalbox/[^"]+)")re");
  while (!queue.empty()) {
    std::string next = queue.back();
    queue.pop_back();
    if (!seen.insert(next).second) continue;
    std::istringstream lines(read(locate(next)));
    std::smatch m;
    for (std::string line; std::getline(lines, line);)
      if (std::regex_search(line, m, include)) queue.push_back(m[1]);
  }
  return seen;
}

// The code of a header: comments dropped and runs of blank space made one space, so that
// rewording a comment or reflowing a line changes nothing.
std::string code_of(const std::string& text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
      space = true;
      continue;
    }
    if (text.compare(i, 2, "/*") == 0) {
      std::size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      space = true;
      continue;
    }
    if (text[i] == '"') {  // string literals are code, comment markers inside them too
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      if (space && !out.empty()) out += ' ';
      space = false;
      out.append(text, i, end - i + 1);
      i = end;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += text[i];
  }
  return out;
}

// FNV-1a, 64 bits: the same on every platform and library, unlike std::hash.
std::uint64_t fnv1a(const std::string& bytes, std::uint64_t hash = 0xcbf29ce484222325ull) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

std::string fingerprint() {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::string& header : exposed_headers()) {
    hash = fnv1a(header + '\n', hash);
    hash = fnv1a(code_of(read(locate(header))) + '\n', hash);
  }
  return fmt::format("{:016x}", hash);
}

TEST(PluginAbi, TheVersionCoversWhatTheKitExposes) {
  std::istringstream recorded(read(kRoot / "include/signalbox/signal_kit.abi"));
  std::string line, version, recorded_fingerprint;
  while (std::getline(recorded, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if (key == "version") version = value;
    if (key == "fingerprint") recorded_fingerprint = value;
  }
  EXPECT_EQ(version, std::to_string(SIGNALBOX_PLUGIN_ABI_VERSION))
      << "include/signalbox/signal_kit.abi records another version than signal_kit.h";
  const std::string now = fingerprint();
  std::string headers;
  for (const std::string& h : exposed_headers()) headers += "\n  " + h;
  EXPECT_EQ(recorded_fingerprint, now)
      << "the headers of the plugin interface changed:" << headers
      << "\nRaise SIGNALBOX_PLUGIN_ABI_VERSION in include/signalbox/signal_kit.h (a plugin built "
         "against the old headers must be refused) and record in "
         "include/signalbox/signal_kit.abi:\nversion <the new version>\nfingerprint "
      << now;
}

// The fingerprint sees a change of code and ignores a change of comment or layout.
TEST(PluginAbi, CodeChangesTheFingerprintCommentsDoNot) {
  const std::string base = "struct A {\n  int x;  // the x\n};\n";
  EXPECT_EQ(code_of(base), code_of("struct A {   int x;\n/* other words */ };"));
  EXPECT_NE(code_of(base), code_of("struct A {\n  long x;  // the x\n};\n"));
  EXPECT_NE(code_of(R"(const char* s = "// not a comment";)"), code_of("const char* s = \"\";"));
}

}  // namespace
}  // namespace signalbox::testing
