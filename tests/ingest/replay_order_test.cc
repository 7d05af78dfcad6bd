// `replay` does not depend on the order of the lines: a log shuffled across three files (one
// gzip-compressed) ends in the same state as the same log in time order, signal by signal and
// user by user, with rejections named by their place in the shuffled files.

#include "signalbox/ingest/replay.h"

#include <zlib.h>

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "json.h"
#include "world.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kStart = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr std::size_t kUsers = 25;

struct Line {
  TimeMs ts = 0;  // for the time order; garbage lines have one too, to be placed somewhere
  std::string text;
  bool garbage = false;
};

// About `count` lines over 120 days (three times the longest window, so that read as given
// many events fall beyond any late horizon): events, duplicates (verbatim, and under an earlier id
// with other content a second later) and lines that are not valid events.
std::vector<Line> generate(World& world, std::size_t count) {
  auto& rng = world.rng();
  std::vector<Line> lines;
  std::vector<Event> sent;
  for (std::size_t i = 0; i < count; ++i) {
    TimeMs ts = kStart + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(120 * kDayMs));
    std::uint64_t r = rng() % 1000;
    Line line;
    line.ts = ts;
    if (r < 15 && !sent.empty()) {
      Event again = sent[rng() % sent.size()];
      if (r % 2) {
        again.action = "purchase";
        again.ts += 1000;
      }
      line.ts = again.ts;
      line.text = event_json(again);
    } else if (r < 20) {
      line.garbage = true;
      line.text = r % 2 ? R"({"user_id": 1000, "action": "click"})" : "{not json";
    } else {
      Event e = world.make_event(kUsers, ts, i);
      sent.push_back(e);
      line.text = event_json(e);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void write(const fs::path& file, const std::vector<const Line*>& lines, bool gzip) {
  std::string text;
  for (const Line* line : lines) text += line->text + "\n";
  if (gzip) {
    gzFile out = gzopen(file.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(gzwrite(out, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(out);
  } else {
    std::ofstream(file, std::ios::binary) << text;
  }
}

struct Replayed {
  ReplayStats stats;
  std::vector<std::string> rejected;
  TimeMs stream_time = 0;
  std::map<std::uint64_t, Value> answers;  // every signal of every user, at two times
};

Replayed replay(const World& world, const std::string& name, const std::vector<std::string>& files,
                ReplayOptions options, const std::vector<TimeMs>& as_ofs) {
  Config config = world.config;
  config.storage.path = world.dir() / ("store-" + name);
  Engine engine(config);
  Replayed out;
  options.progress = false;
  options.on_reject = [&](const std::string& message) { out.rejected.push_back(message); };
  out.stats = replay_files(engine, files, options);
  out.stream_time = engine.stream_time();
  for (std::uint64_t user = 1000; user <= 1000 + kUsers; ++user) {
    Value::Array per_time;
    for (TimeMs as_of : as_ofs) per_time.push_back(engine.query(user, {}, as_of));
    out.answers[user] = Value(std::move(per_time));
  }
  return out;
}

TEST(ReplayOrder, AShuffledLogEndsLikeTheTimeOrderedOne) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 31);
  std::vector<Line> lines = generate(world, 12000);

  std::vector<const Line*> ordered;
  for (const Line& line : lines) ordered.push_back(&line);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Line* a, const Line* b) { return a->ts < b->ts; });
  const TimeMs newest = ordered.back()->ts;
  write(world.dir() / "ordered.ndjson", ordered, false);

  std::vector<const Line*> shuffled = ordered;
  std::shuffle(shuffled.begin(), shuffled.end(), world.rng());
  const std::size_t third = shuffled.size() / 3;
  std::vector<std::vector<const Line*>> parts = {
      {shuffled.begin(), shuffled.begin() + third},
      {shuffled.begin() + third, shuffled.begin() + 2 * third},
      {shuffled.begin() + 2 * third, shuffled.end()}};
  std::vector<std::string> files = {(world.dir() / "a.ndjson").string(),
                                    (world.dir() / "b.ndjson.gz").string(),
                                    (world.dir() / "c.ndjson").string()};
  for (std::size_t f = 0; f < 3; ++f) write(files[f], parts[f], f == 1);

  fs::path tmp = world.dir() / "tmp";
  fs::create_directories(tmp);
  ReplayOptions options;
  options.tmp_dir = tmp;
  options.sort_memory = 64 << 10;  // a few dozen runs
  options.batch_lines = 1000;
  const std::vector<TimeMs> as_ofs = {newest, newest + 2 * kDayMs};
  Replayed in_order = replay(world, "ordered", {(world.dir() / "ordered.ndjson").string()},
                             options, as_ofs);
  Replayed sorted = replay(world, "shuffled", files, options, as_ofs);

  EXPECT_FALSE(in_order.stats.sorted) << "already in order: no sort";
  EXPECT_TRUE(sorted.stats.sorted);
  EXPECT_TRUE(fs::is_empty(tmp)) << "the sort's runs are removed";
  EXPECT_EQ(sorted.stats.lines, lines.size());
  EXPECT_EQ(sorted.stats.accepted, in_order.stats.accepted);
  EXPECT_EQ(sorted.stats.duplicates, in_order.stats.duplicates);
  EXPECT_EQ(sorted.stats.rejected, in_order.stats.rejected);
  EXPECT_GT(in_order.stats.duplicates, 50u);
  EXPECT_EQ(sorted.stream_time, newest);
  for (std::uint64_t user = 1000; user <= 1000 + kUsers; ++user) {
    std::string d = diff(in_order.answers[user], sorted.answers[user], 1e-9);
    ASSERT_EQ(d, "") << "user " << user;
  }

  // Every rejection names the line of the shuffled file it came from, and only bad lines.
  std::size_t garbage = 0;
  for (const Line& line : lines) garbage += line.garbage;
  ASSERT_EQ(sorted.rejected.size(), garbage);
  for (const std::string& message : sorted.rejected) {
    bool named = false;
    for (std::size_t f = 0; f < 3; ++f) {
      std::string prefix = files[f] + ":";
      if (message.rfind(prefix, 0) != 0) continue;
      std::size_t line = std::stoul(message.substr(prefix.size()));
      ASSERT_GE(line, 1u) << message;
      ASSERT_LE(line, parts[f].size()) << message;
      EXPECT_TRUE(parts[f][line - 1]->garbage) << message;
      named = true;
    }
    EXPECT_TRUE(named) << message;
  }

  // Read as given, the shuffled log loses events as too late: the sort is what saves them.
  options.presorted = true;
  Replayed as_given = replay(world, "as-given", files, options, as_ofs);
  EXPECT_FALSE(as_given.stats.sorted);
  EXPECT_GT(as_given.stats.rejected, sorted.stats.rejected + 1000);
  bool late = false;
  for (const std::string& message : as_given.rejected) late |= message.find("late") != std::string::npos;
  EXPECT_TRUE(late);
}

}  // namespace
}  // namespace signalbox::testing
