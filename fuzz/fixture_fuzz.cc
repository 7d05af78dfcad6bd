// libFuzzer target for fixture files (`signalbox test`, docs/testing-signals.md): any bytes as a
// fixture next to a small valid config either run, yielding a result, or fail with a
// FixtureError or ConfigError naming the problem — never a crash, a hang or another exception.
// A fixture that gets as far as its checks ingests its events into a real (temporary) store,
// so the YAML-to-event conversion and the engine's ingest are exercised too.
//
// Run: fixture_fuzz -max_len=16384 -timeout=20 [corpus_dir]

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "signalbox/common/error.h"
#include "signalbox/fixture/fixture.h"

namespace {

namespace fs = std::filesystem;

// The config the seeds name (`config: config.yaml`): a table source, a feature, a plain and a
// grouped count, and a view, so that checks can reach every kind of answer.
constexpr std::string_view kConfig = R"(storage: { path: store }
sources:
  pins: { kind: table, path: pins.tsv, key: item_id }
features:
  - { name: pin.categories, source: pins, key: item_id, field: categories, type: strings }
signals:
  - { name: clicks, aggregator: count, actions: { click: 1 }, windows: [1d, 7d] }
  - { name: category_counts, aggregator: count, group_by: pin.categories, windows: [1d] }
views:
  - { name: top_categories, signal: category_counts, window: 1d, transform: top_k, k: 2 }
)";

constexpr std::string_view kPins = "item_id\tcategories\na\tfood|travel\nb\tfood\n";

void write(const fs::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) std::abort();
}

// A folder of this process's own, with the config beside the fixture; removed at exit.
struct Scratch {
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "fixture-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) std::abort();
    dir = pattern;
    write(dir / "config.yaml", kConfig);
    write(dir / "pins.tsv", kPins);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
};

const fs::path& fixture_file() {
  static const Scratch scratch;
  static const fs::path file = scratch.dir / "fuzz.test.yaml";
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The engine's start and stop lines would drown libFuzzer's own output.
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  write(fixture_file(), std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    signalbox::FixtureResult result = signalbox::run_fixture(fixture_file());
    if (result.mismatches > result.checks) std::abort();
    if ((result.mismatches == 0) != result.report.empty()) std::abort();
  } catch (const signalbox::FixtureError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  } catch (const signalbox::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
