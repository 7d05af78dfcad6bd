// `replay` does not depend on the order of the lines: a log shuffled across three files (one
// gzip-compressed) ends in the same state as the same log in time order, signal by signal and
// user by user, with rejections named by their place in the shuffled files.

#include "signalbox/ingest/replay.h"

#include <zlib.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "fixed_times.h"
#include "json.h"
#include "signalbox/event/decode.h"
#include "signalbox/ingest/replay_checkpoint.h"
#include "world.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

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
  Replayed in_order =
      replay(world, "ordered", {(world.dir() / "ordered.ndjson").string()}, options, as_ofs);
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
  for (const std::string& message : as_given.rejected)
    late |= message.find("late") != std::string::npos;
  EXPECT_TRUE(late);
}

// The property: one generated log (120 days, windows shorter and longer than the retention,
// duplicates re-sent days later) replayed in time order, user by user, and in a random order
// gives the same signals, equal to the brute-force reference over every valid event, each
// (user, event_id) counted once by its earliest copy.
TEST(ReplayOrder, TimeOrderUserMajorAndRandomOrderGiveTheReferenceAnswers) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 77);
  std::vector<Line> lines = generate(world, 9000);
  // Copies of earlier events re-sent at the end of the export, days after their first copy.
  const std::size_t original = lines.size();
  for (std::size_t i = 0; i < 200; ++i) {
    const Line& again = lines[world.rng()() % original];
    if (!again.garbage) lines.push_back(again);
  }

  // The reference decides on its own which lines are events and which copy of an id counts.
  std::map<std::pair<std::uint64_t, std::string>, Event> first_copy;
  EventDecoder decoder(DecodeOptions{kHourMs, [] { return kStart + 1000 * kDayMs; }});
  for (const Line& line : lines) {
    Event e;
    Rejection error;
    if (line.garbage) continue;
    ASSERT_TRUE(decoder.decode(line.text, &e, &error)) << error.message;
    auto key = std::make_pair(e.user_id, e.event_id);
    auto it = first_copy.find(key);
    if (it == first_copy.end() || e.ts < it->second.ts) first_copy[key] = e;
  }
  std::vector<RefEvent> reference;
  TimeMs newest = 0;
  for (const auto& [key, e] : first_copy) {
    reference.push_back(world.to_ref(e));
    newest = std::max(newest, e.ts);
  }

  std::vector<const Line*> by_time, by_user, random;
  for (const Line& line : lines) by_time.push_back(&line);
  random = by_time;
  std::stable_sort(by_time.begin(), by_time.end(),
                   [](const Line* a, const Line* b) { return a->ts < b->ts; });
  std::shuffle(random.begin(), random.end(), world.rng());
  // User-major as a warehouse export writes it: each user's history in time order, then the
  // next user's (bad lines first), and the re-sent copies at the very end.
  auto user_of = [](const Line* line) -> std::uint64_t {
    std::size_t at = line->text.find("\"user_id\":");
    return at == std::string::npos ? 0 : std::stoull(line->text.substr(at + 10));
  };
  for (std::size_t i = 0; i < original; ++i) by_user.push_back(&lines[i]);
  std::stable_sort(by_user.begin(), by_user.end(), [&](const Line* a, const Line* b) {
    return std::pair(user_of(a), a->ts) < std::pair(user_of(b), b->ts);
  });
  for (std::size_t i = original; i < lines.size(); ++i) by_user.push_back(&lines[i]);

  ReplayOptions options;
  options.tmp_dir = world.dir();
  options.sort_memory = 128 << 10;
  options.batch_lines = 700;
  const std::vector<TimeMs> as_ofs = {newest, newest - 30 * kMinuteMs, newest + 2 * kDayMs};
  std::vector<Replayed> runs;
  for (auto [name, order] :
       {std::pair{"time", &by_time}, std::pair{"user", &by_user}, std::pair{"random", &random}}) {
    const std::string file = (world.dir() / (std::string(name) + ".ndjson")).string();
    write(file, *order, false);
    runs.push_back(replay(world, name, {file}, options, as_ofs));
    EXPECT_EQ(runs.back().stats.accepted - runs.back().stats.duplicates, reference.size()) << name;
  }
  EXPECT_FALSE(runs[0].stats.sorted);
  EXPECT_TRUE(runs[1].stats.sorted);
  EXPECT_TRUE(runs[2].stats.sorted);
  for (std::uint64_t user = 1000; user <= 1000 + kUsers; ++user) {
    Value::Array expected;
    for (TimeMs as_of : as_ofs) expected.push_back(world.expected(reference, user, as_of));
    for (std::size_t r = 0; r < runs.size(); ++r)
      ASSERT_EQ(diff(Value(expected), runs[r].answers[user], 1e-9), "")
          << "run " << r << " user " << user;
  }
}

}  // namespace
}  // namespace signalbox::testing

namespace signalbox::testing {
namespace {

// Storing runs on a thread of its own: an error there (here the caller's rejection callback
// giving up) ends the replay with that error, with the batches stored before it checkpointed
// and nothing after it stored.
TEST(ReplayOrder, AnErrorWhileStoringEndsTheReplayWithIt) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d"}, 7);
  std::vector<const Line*> lines;
  std::vector<Line> owned;
  for (std::size_t i = 0; i < 6000; ++i) {
    Line line;
    line.ts = kStart + static_cast<TimeMs>(i) * 1000;
    line.text = i == 1500 ? "{not json" : event_json(world.make_event(kUsers, line.ts, i));
    owned.push_back(std::move(line));
  }
  for (const Line& line : owned) lines.push_back(&line);
  const fs::path file = world.dir() / "events.ndjson";
  write(file, lines, false);

  Config config = world.config;
  config.storage.path = world.dir() / "store";
  Engine engine(config);
  ReplayOptions options;
  options.progress = false;
  options.batch_lines = 1000;
  options.on_reject = [](const std::string& message) {
    throw std::runtime_error("gave up at " + message);
  };
  try {
    replay_files(engine, {file.string()}, options);
    FAIL() << "the replay went on after the storing thread failed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gave up at " + file.string() + ":1501"),
              std::string::npos)
        << e.what();
  }
  // The second batch was stored when its rejection came, but not checkpointed; the later
  // ones were not stored.
  std::optional<std::string> note = engine.read_note(kReplayCheckpointNote);
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(ReplayCheckpoint::decode(*note).records, 1000u);
  EXPECT_EQ(engine.stream_time(), owned[1999].ts);
}

}  // namespace
}  // namespace signalbox::testing
