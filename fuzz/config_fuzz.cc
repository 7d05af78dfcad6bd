// libFuzzer target for the config loader: any bytes given as a config file either load or
// fail with a ConfigError naming the problem — never a crash, a hang or another exception.
//
// Run: config_fuzz -max_len=4096 -timeout=10 [corpus_dir]

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "signalbox/common/error.h"
#include "signalbox/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    signalbox::Config config = signalbox::parse_config(text, "/fuzz/config.yaml");
    if (config.signals.empty()) std::abort();  // `signals` is required: loading must have failed
  } catch (const signalbox::ConfigError&) {
  }
  return 0;
}
