// A replay killed with SIGKILL at random moments and resumed each time (`replay --resume`)
// ends in the state of one uninterrupted replay of the same log, and in the state the
// reference computes from the log itself; a replay started again without --resume refuses,
// saying that an earlier one was interrupted.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include <gtest/gtest.h>

#include "rocksdb_ingestion.h"
#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kReplayUsers = 30;
constexpr std::size_t kLines = 60000;

struct Log {
  std::vector<RefEvent> reference;  // each distinct event once
  TimeMs newest = 0;
};

// kLines events over 20 days (inside the late horizon, so none is too late when sorted),
// one in fifty a verbatim copy of an earlier one; written in time order to `ordered` and
// shuffled to `shuffled`.
Log write_logs(World& world, const fs::path& ordered, const fs::path& shuffled) {
  auto& rng = world.rng();
  std::vector<Event> events;
  Log log;
  for (std::size_t i = 0; i < kLines; ++i) {
    if (!events.empty() && rng() % 50 == 0) {
      events.push_back(events[rng() % events.size()]);
      continue;
    }
    TimeMs ts = kStart + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(20 * kDayMs));
    events.push_back(world.make_event(kReplayUsers, ts, i));
    log.reference.push_back(world.to_ref(events.back()));
    log.newest = std::max(log.newest, ts);
  }
  std::vector<std::string> lines;
  for (const Event& e : events) lines.push_back(event_json(e));
  std::vector<std::size_t> order(events.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return events[a].ts < events[b].ts; });
  std::ofstream out(ordered);
  for (std::size_t i : order) out << lines[i] << '\n';
  std::shuffle(lines.begin(), lines.end(), rng);
  std::ofstream mixed(shuffled);
  for (const std::string& line : lines) mixed << line << '\n';
  return log;
}

class ReplayCrash : public ::testing::Test {
 protected:
  ReplayCrash() : world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 4242) {
    log = write_logs(world, world.dir() / "ordered.ndjson", world.dir() / "shuffled.ndjson");
  }

  // A config file of the world on its own store.
  fs::path config_for(const std::string& name) {
    Config c = world.config;
    c.storage.path = world.dir() / ("store-" + name);
    fs::path file = world.dir() / (name + ".yaml");
    std::ofstream(file) << config_yaml(c);
    return file;
  }

  std::vector<std::string> replay_args(const fs::path& config, const fs::path& file,
                                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"replay",        "--config",    config.string(),
                                     "--quiet",       "--log-level", "debug",
                                     "--batch-lines", batch_lines,   file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Every signal of every user, at the newest event and two days later, from the store.
  std::vector<Value> answers(const std::string& name) {
    Config c = world.config;
    c.storage.path = world.dir() / ("store-" + name);
    Engine engine(c);
    std::vector<Value> out;
    for (std::uint64_t user = 1000; user < 1000 + kReplayUsers; ++user)
      for (TimeMs as_of : {log.newest, log.newest + 2 * kDayMs})
        out.push_back(engine.query(user, {}, as_of));
    return out;
  }

  std::vector<Value> reference() const {
    std::vector<Value> out;
    for (std::uint64_t user = 1000; user < 1000 + kReplayUsers; ++user)
      for (TimeMs as_of : {log.newest, log.newest + 2 * kDayMs})
        out.push_back(world.expected(log.reference, user, as_of));
    return out;
  }

  // The records the replay writing `log` last reported as stored in its checkpoint (its
  // debug log line), or nullopt before the first.
  static std::optional<std::uint64_t> checkpoint_in(const fs::path& log) {
    const std::string text = read_file(log);
    const std::string marker = "replay: checkpoint: ";
    std::size_t at = text.rfind(marker);
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(text.substr(at + marker.size()));
  }

  // Replays `file` into store `name`, killing it `kills` times and resuming; returns the output
  // of the run that finished. Each kill comes when the replay has stored past a random point
  // of the log (as its checkpoint reports), plus a random delay of up to 30 ms, so that kills
  // land between and within batches.
  std::string replay_with_kills(const std::string& name, const fs::path& file, int kills,
                                std::vector<std::string> extra = {}) {
    fs::path config = config_for(name);
    fs::path out_log = world.dir() / (name + ".log");
    std::vector<std::uint64_t> points;
    for (int k = 0; k < kills; ++k) points.push_back(500 + world.rng()() % (kLines - 2000));
    std::sort(points.begin(), points.end());
    bool refusal_checked = false;
    for (int k = 0; k < kills; ++k) {
      std::vector<std::string> flags = extra;
      if (k > 0) flags.push_back("--resume");
      fs::remove(out_log);
      pid_t pid = spawn_signalbox(replay_args(config, file, flags), out_log);
      for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          ADD_FAILURE() << "the replay ended (status " << exit_status(status)
                        << ") before its kill at " << points[static_cast<std::size_t>(k)]
                        << " records: " << read_file(out_log);
          return "";
        }
        std::optional<std::uint64_t> stored = checkpoint_in(out_log);
        if (stored && *stored >= points[static_cast<std::size_t>(k)]) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(world.rng()() % 30000));
      ::kill(pid, SIGKILL);
      EXPECT_EQ(wait_for_exit(pid, std::chrono::seconds(60)), 128 + SIGKILL) << read_file(out_log);
      if (!refusal_checked) {
        refusal_checked = true;
        // Without --resume the next replay refuses, saying why and what to do.
        std::string output;
        int refused =
            run_signalbox(replay_args(config, file, extra), world.dir() / "refused.log", &output);
        EXPECT_EQ(refused, 2) << output;
        EXPECT_NE(output.find("was interrupted"), std::string::npos) << output;
        EXPECT_NE(output.find("--resume"), std::string::npos) << output;
        EXPECT_EQ(output.find("rejected"), std::string::npos) << output;
      }
    }
    std::vector<std::string> flags = extra;
    flags.push_back("--resume");
    std::string output;
    int status = run_signalbox(replay_args(config, file, flags), out_log, &output);
    EXPECT_EQ(status, 0) << output;
    return output;
  }

  // Every answer of store "whole" (one uninterrupted replay) equals the reference's, and every
  // answer of store "killed" (the interrupted and resumed one) equals store "whole"'s.
  void expect_whole_and_killed_answer_alike() {
    std::vector<Value> expected = reference();
    std::vector<Value> uninterrupted = answers("whole");
    std::vector<Value> interrupted = answers("killed");
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(diff(expected[i], uninterrupted[i], 1e-9), "") << "uninterrupted, answer " << i;
      ASSERT_EQ(diff(uninterrupted[i], interrupted[i], 1e-9), "") << "interrupted, answer " << i;
    }
  }

  World world;
  Log log;
  // 500 lines: batches below the bulk load's threshold (RocksDbOptions::bulk_load_min_events).
  std::string batch_lines = "500";
};

TEST_F(ReplayCrash, TenKillsAndResumesEndLikeOneUninterruptedReplay) {
  const fs::path shuffled = world.dir() / "shuffled.ndjson";
  std::string output;
  ASSERT_EQ(
      run_signalbox(replay_args(config_for("whole"), shuffled), world.dir() / "whole.log", &output),
      0)
      << output;
  EXPECT_NE(output.find("sorted by ts first"), std::string::npos) << output;

  std::string resumed = replay_with_kills("killed", shuffled, 10);
  EXPECT_NE(resumed.find("resumed an interrupted replay after its first"), std::string::npos)
      << resumed;
  EXPECT_NE(resumed.find("rejected"), std::string::npos);  // the summary line
  EXPECT_NE(resumed.find(", 0 rejected"), std::string::npos) << resumed;

  expect_whole_and_killed_answer_alike();
}

TEST_F(ReplayCrash, PresortedReplayResumesToo) {
  const fs::path ordered = world.dir() / "ordered.ndjson";
  replay_with_kills("killed", ordered, 4, {"--presorted"});
  // --resume refuses other files than the interrupted replay's.
  fs::path config = config_for("other");
  pid_t pid =
      spawn_signalbox(replay_args(config, ordered, {"--presorted"}), world.dir() / "other.log");
  while (!checkpoint_in(world.dir() / "other.log"))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  ASSERT_EQ(wait_for_exit(pid, std::chrono::seconds(60)), 128 + SIGKILL);
  std::string output;
  EXPECT_EQ(run_signalbox(replay_args(config, world.dir() / "shuffled.ndjson", {"--resume"}),
                          world.dir() / "other.log", &output),
            2)
      << output;
  EXPECT_NE(output.find(
                "cannot resume: the interrupted replay read 1 file (ordered.ndjson), --presorted, "
                "not 1 file (shuffled.ndjson)"),
            std::string::npos)
      << output;

  std::vector<Value> expected = reference();
  std::vector<Value> interrupted = answers("killed");
  for (std::size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(diff(expected[i], interrupted[i], 1e-9), "") << "answer " << i;
}

// Batches of 3 000 lines are bulk-loaded (table files ingested, then the batch committed): a
// kill between the two leaves events without their tiles, which the next open rolls back, so
// that resuming stores them again. Kills land anywhere, that window among the rest; the store
// test RocksDbBulkLoad puts a store in that state on purpose.
TEST_F(ReplayCrash, BulkLoadedBatchesKilledAndResumedEndLikeTheReference) {
  batch_lines = "3000";
  const fs::path shuffled = world.dir() / "shuffled.ndjson";
  std::string output;
  ASSERT_EQ(
      run_signalbox(replay_args(config_for("whole"), shuffled), world.dir() / "whole.log", &output),
      0)
      << output;
  replay_with_kills("killed", shuffled, 6);
  for (const std::string name : {"whole", "killed"}) {
    const fs::path store = world.dir() / ("store-" + name);
    EXPECT_TRUE(rocksdb_ingested_a_file(store)) << "no batch was bulk-loaded into store " << name;
    EXPECT_TRUE(fs::is_empty(store / "bulk")) << "files left in " << store / "bulk";
  }

  expect_whole_and_killed_answer_alike();
}

}  // namespace
}  // namespace signalbox::testing
