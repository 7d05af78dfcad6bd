// The custom source of docs/sources.md ("Writing a source"), verbatim between the markers,
// built and run through the Materializer so the example keeps compiling and working.

// --- from docs/sources.md ---
#include <cctype>

#include "signalbox/materialize/source.h"

namespace mine {

using namespace signalbox;

class NormalizeSource : public Source {
 public:
  void check_field(const FieldRequest& request, const ConfigLocation& where) const override {
    if (request.field != "text" || request.type != FeatureType::kStrings)
      throw_config_error(where, "field", "a normalize source serves `text`, as strings");
  }

  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override {
    std::vector<std::vector<FeatureValue>> rows(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
      std::string text;
      for (unsigned char c : keys[k]) {
        const bool gap = std::isspace(c) && !text.empty() && text.back() != ' ';
        if (!std::isspace(c)) text += static_cast<char>(std::tolower(c));
        if (gap) text += ' ';
      }
      if (!text.empty() && text.back() == ' ') text.pop_back();
      rows[k].assign(fields.size(), std::vector<std::string>{text});
    }
    return rows;
  }
};

void register_normalize() {
  register_source_kind("normalize",
                       [](const SourceConfig&) { return std::make_unique<NormalizeSource>(); },
                       {});  // this kind takes no parameters of its own
}

}  // namespace mine
// --- end ---

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "signalbox/common/error.h"
#include "signalbox/materialize/materializer.h"

namespace signalbox {
namespace {

using Strings = std::vector<std::string>;

TEST(CustomSource, DocsExampleWorks) {
  mine::register_normalize();
  Config config;
  SourceConfig norm;
  norm.name = "norm";
  norm.kind = "normalize";
  norm.where = {"demo.yaml", 3};
  config.sources.push_back(norm);
  FeatureConfig f;
  f.name = "query.norm";
  f.source = "norm";
  f.key = "query";
  f.field = "text";
  f.where = {"demo.yaml", 6};
  config.features.push_back(f);
  Materializer m(config);

  Event e;
  e.user_id = 1;
  e.ts = 1'700'000'000'000;
  e.action = "search";
  e.event_id = "a";
  e.query = "  Easy   PASTA\tRecipes ";
  auto out = m.materialize({e});
  EXPECT_EQ(out[0].features[0], FeatureValue(Strings{"easy pasta recipes"}));

  config.features[0].field = "title";
  try {
    Materializer bad(config);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("demo.yaml:6: field: a normalize source"));
  }
}

TEST(CustomSource, DocsExampleIsThisCodeAndShort) {
  std::ifstream doc(std::string(SIGNALBOX_SOURCE_DIR) + "/docs/sources.md");
  std::stringstream text;
  text << doc.rdbuf();
  std::string md = text.str();
  std::string open = "```cpp\n";
  auto begin = md.find(open, md.find("## Writing a source"));
  ASSERT_NE(begin, std::string::npos);
  begin += open.size();
  auto end = md.find("```", begin);
  std::string example = md.substr(begin, end - begin);

  std::ifstream self(std::string(SIGNALBOX_SOURCE_DIR) +
                     "/tests/materialize/custom_source_test.cc");
  std::stringstream code;
  code << self.rdbuf();
  std::string src = code.str();
  std::string from = "// --- from docs/sources.md ---\n";
  auto copy_begin = src.find(from) + from.size();
  auto copy_end = src.find("// --- end ---");
  EXPECT_EQ(src.substr(copy_begin, copy_end - copy_begin), example);

  // A complete new source, registration included, in under 40 lines.
  int lines = 0;
  std::istringstream in(example);
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_LT(lines, 40);
}

}  // namespace
}  // namespace signalbox
