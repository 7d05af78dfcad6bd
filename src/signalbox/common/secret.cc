#include "signalbox/common/secret.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

std::string read_secret(std::string_view reference, std::string_view key) {
  if (reference.rfind("env:", 0) == 0) {
    std::string name(reference.substr(4));
    const char* value = std::getenv(name.c_str());
    if (!value) throw ConfigError(fmt::format("{}: environment variable {} is not set", key, name));
    return value;
  }
  if (reference.rfind("file:", 0) == 0) {
    std::string path(reference.substr(5));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot read {}", key, path));
    std::stringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
  }
  throw ConfigError(fmt::format("{}: give env:NAME or file:PATH", key));
}

}  // namespace signalbox
