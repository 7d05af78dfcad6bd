#pragma once

#include <string>
#include <string_view>

namespace signalbox {

// Reads the secret a configuration reference names, so that config files never hold one:
// "env:NAME" is the environment variable NAME, "file:PATH" the content of the file PATH
// without trailing line breaks. `key` is the configuration key, for the message. Throws
// ConfigError naming the key and the variable or file (never the secret) when the reference has
// another form, the variable is unset, or the file cannot be read. Thread-safe as far as
// std::getenv is (no concurrent setenv).
std::string read_secret(std::string_view reference, std::string_view key);

}  // namespace signalbox
