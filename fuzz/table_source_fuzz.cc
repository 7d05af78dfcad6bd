// libFuzzer target for the TSV of a `kind: table` source (a file an operator hands over, often
// exported from a spreadsheet): any bytes either load or fail with a ConfigError naming the
// file and line; whatever loads answers lookups of every column as every type without a crash
// (a column that does not read as a type is refused by check_field, never served wrong).
//
// Run: table_source_fuzz -max_len=65536 -timeout=10 [corpus_dir]

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "signalbox/common/error.h"
#include "signalbox/materialize/sources/table_source.h"

namespace {

// The file the input is written to (the source reads a path, as in production), in a folder of
// this process's own that is removed at exit.
struct Scratch {
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "table-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) std::abort();
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
};

const std::filesystem::path& table_file() {
  static const Scratch scratch;
  static const std::filesystem::path file = scratch.dir / "table.tsv";
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(table_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();
  }
  signalbox::SourceConfig config;
  config.name = "pins";
  config.kind = "table";
  config.path = table_file();
  config.key = "id";
  config.where = signalbox::ConfigLocation{"/fuzz/config.yaml", 3, "sources.pins"};
  std::unique_ptr<signalbox::TableSource> source;
  try {
    source = signalbox::TableSource::load(config);
  } catch (const signalbox::ConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
    return 0;
  }
  // Column names worth asking for: the usual ones, and ones the input may well contain.
  const std::vector<std::string> columns = {"id", "categories", "embedding", "score", "a", "0"};
  const std::vector<std::string> keys = {"a", "b", "1", "", "id"};
  for (const std::string& column : columns) {
    for (auto type : {signalbox::FeatureType::kStrings, signalbox::FeatureType::kVector,
                      signalbox::FeatureType::kNumber}) {
      signalbox::FieldRequest field{column, type};
      try {
        source->check_field(field, config.where);
      } catch (const signalbox::ConfigError&) {
        continue;  // refused: lookups of it are never made
      }
      std::vector<std::vector<signalbox::FeatureValue>> values = source->lookup(keys, {&field, 1});
      if (values.size() != keys.size()) std::abort();
      for (const auto& row : values)
        if (row.size() != 1) std::abort();
    }
  }
  return 0;
}
