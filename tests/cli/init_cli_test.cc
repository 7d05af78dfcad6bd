// `signalbox init` end to end: the starter project it writes passes `check` and its own
// fixture, its sample events replay without a rejection, it refuses a folder in use, and its
// plugin skeleton configures and builds with CMake from another folder, then loads.

#include <unistd.h>

#include <gtest/gtest.h>

#include "run.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("signalbox-init-{}", ::getpid());
    fs::remove_all(root_);
    fs::create_directories(root_ / "logs");
    project_ = root_ / "project";
  }
  void TearDown() override { fs::remove_all(root_); }

  RunResult cli(const std::string& args) { return run(signalbox(args), root_ / "logs"); }
  RunResult shell(const std::string& command) { return run(command, root_ / "logs"); }
  std::string at(const std::string& name) const { return shell_quote((project_ / name).string()); }

  fs::path root_;
  fs::path project_;
};

TEST_F(InitTest, TheStarterProjectChecksTestsReplaysAndBuildsItsPlugin) {
  RunResult init = cli("init " + shell_quote(project_.string()));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find("signalbox check --config signalbox.yaml"), std::string::npos)
      << init.out;
  for (const char* file : {"signalbox.yaml", "events.ndjson", "signalbox.test.yaml", "README.md",
                           "plugin/CMakeLists.txt", "plugin/value_range.cc"})
    EXPECT_TRUE(fs::is_regular_file(project_ / file)) << file;

  RunResult check = cli("check --config " + at("signalbox.yaml"));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  RunResult test = cli("test " + at("signalbox.test.yaml"));
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_EQ(test.out.rfind("ok ", 0), 0u) << test.out;
  // Without --allow-rejects, replay exits 1 when any event is rejected.
  RunResult replay = cli("replay -q --config " + at("signalbox.yaml") + " " + at("events.ndjson"));
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  RunResult get = cli("get --config " + at("signalbox.yaml") + " --user 1 --names clicks");
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out.find(R"("clicks":{"1h":0,"1d":0,"7d":0})"), std::string::npos)
      << "the sample events end when init ran: user 1 clicked within a week: " << get.out;

  // A folder in use is refused, naming the way out; --force writes over it.
  RunResult again = cli("init " + shell_quote(project_.string()));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("is not empty"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  RunResult forced = cli("init --force " + shell_quote(project_.string()));
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(fs::exists(project_ / "store")) << "--force leaves other files alone";

  // The plugin, from another folder and without SIGNALBOX_DIR, exactly as the README says.
  RunResult configure =
      shell(fmt::format("cd {} && env -u SIGNALBOX_DIR cmake -S {} -B {}",
                        shell_quote(root_.string()), at("plugin"), at("plugin/build")));
  ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
  RunResult build = shell(
      fmt::format("cd {} && cmake --build {}", shell_quote(root_.string()), at("plugin/build")));
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  ASSERT_TRUE(fs::is_regular_file(project_ / "plugin/build/value_range.so"));

  // Uncommented as the config says, the plugin loads and its signal answers.
  std::string config = read_file(project_ / "signalbox.yaml");
  for (const std::string& line :
       {std::string("\n# plugins:"), std::string("\n  # - { name: price_range")}) {
    const std::size_t found = config.find(line);
    ASSERT_NE(found, std::string::npos) << line;
    config.erase(config.find('#', found), 2);
  }
  std::ofstream(project_ / "signalbox.yaml", std::ios::trunc) << config;
  RunResult check_plugin = cli("check --config " + at("signalbox.yaml"));
  EXPECT_EQ(check_plugin.exit_code, 0) << check_plugin.out << check_plugin.err;
  std::ofstream(project_ / "plugin.test.yaml")
      << "config: signalbox.yaml\n"
         "events:\n"
         "  - { user_id: 5, ts: \"2026-03-01T09:00:00Z\", action: purchase, item_id: a, attrs: { "
         "price: 4.5 } }\n"
         "  - { user_id: 5, ts: \"2026-03-01T10:00:00Z\", action: purchase, item_id: b, attrs: { "
         "price: 105 } }\n"
         "  - { user_id: 5, ts: \"2026-03-01T10:30:00Z\", action: click, item_id: c, attrs: { "
         "price: 1 } }\n"
         "checks:\n"
         "  - user: 5\n"
         "    as_of: \"2026-03-01T12:00:00Z\"\n"
         "    expect:\n"
         "      price_range.7d: { min: 4.5, max: 105, events: 2 }\n";
  RunResult plugin_test = cli("test " + at("plugin.test.yaml"));
  EXPECT_EQ(plugin_test.exit_code, 0) << plugin_test.out << plugin_test.err;
}

TEST_F(InitTest, AFileInTheWayIsRefused) {
  std::ofstream(root_ / "taken") << "x";
  RunResult init = cli("init " + shell_quote((root_ / "taken").string()));
  EXPECT_EQ(init.exit_code, 2);
  EXPECT_NE(init.err.find("is not a folder"), std::string::npos) << init.err;
}

}  // namespace
}  // namespace signalbox::testing
