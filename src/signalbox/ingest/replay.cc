#include "signalbox/ingest/replay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>
#include <memory>
#include <optional>

#include "signalbox/eventlog/progress.h"
#include "signalbox/eventlog/time_ordered_log.h"
#include "signalbox/ingest/replay_checkpoint.h"

namespace signalbox {

namespace {

// One batch of lines on its way: being decoded and materialized on another thread while the
// batch before it is stored.
struct PendingBatch {
  std::shared_ptr<std::string> body = std::make_shared<std::string>();
  // (file index, line number) of each event of the body, for rejection messages.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> origin;
  std::uint64_t done = 0;             // progress after it
  std::uint64_t records_through = 0;  // records of the stream up to and including this batch
  std::future<Engine::PreparedBatch> prepared;
};

// Where to start given what the store holds: 0, or the records an interrupted replay of the
// same inputs stored. Throws ReplayInterrupted as replay_files() says.
std::uint64_t starting_record(Engine& engine, const ReplayInputs& inputs,
                              const ReplayOptions& options, ReplayStats& stats) {
  std::optional<std::string> note = engine.read_note(kReplayCheckpointNote);
  if (!note) return 0;
  stats.found_interrupted = true;
  ReplayCheckpoint previous = ReplayCheckpoint::decode(*note);
  switch (options.interrupted) {
    case InterruptedReplay::kRestart:
      return 0;
    case InterruptedReplay::kRefuse:
      throw ReplayInterrupted(fmt::format(
          "a previous replay into this store was interrupted after storing {} lines of {}: run "
          "again "
          "with --resume (and the same files) to go on where it stopped, or with --restart to "
          "replay from the start (events already stored then count as duplicates)",
          previous.records, previous.inputs.describe()));
    case InterruptedReplay::kResume:
      break;
  }
  if (previous.inputs.from_stdin || inputs.from_stdin)
    throw ReplayInterrupted(fmt::format(
        "cannot resume: the interrupted replay read {}, and standard input cannot be read again "
        "from where it stopped; use --restart",
        previous.inputs.describe()));
  if (!(previous.inputs == inputs))
    throw ReplayInterrupted(fmt::format(
        "cannot resume: the interrupted replay read {}, not {} (or the files changed since); "
        "resume with the same files, or use --restart",
        previous.inputs.describe(), inputs.describe()));
  return previous.records;
}

}  // namespace

ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options) {
  ReplayStats stats;
  const ReplayInputs inputs = identify_inputs(files, options.presorted);
  const std::uint64_t skip = starting_record(engine, inputs, options, stats);
  stats.resumed_after = skip;
  auto checkpoint = [&](std::uint64_t records) {
    engine.write_note(kReplayCheckpointNote, ReplayCheckpoint{inputs, records}.encode());
    spdlog::debug("replay: checkpoint: {} records stored", records);
  };
  checkpoint(skip);
  TimeOrderOptions order;
  order.presorted = options.presorted;
  order.tmp_dir = options.tmp_dir;
  order.sort_memory = options.sort_memory;
  order.progress = options.progress;
  TimeOrderedLog log(files, order);
  log.prepare();
  stats.sorted = log.sorted();
  ProgressReporter progress("replay", log.total(), "events", options.progress);

  // Stores a prepared batch, in order; the next one is prepared meanwhile.
  auto store = [&](PendingBatch& batch) {
    IngestResult result = engine.ingest_prepared(batch.prepared.get());
    stats.accepted += result.accepted;
    stats.duplicates += result.duplicates;
    stats.rejected += result.rejected.size();
    if (options.on_reject)
      for (const RejectedEvent& r : result.rejected) {
        const auto& [file, line] = batch.origin.at(r.index);
        options.on_reject(fmt::format("{}:{}: {}", files[file], line, r.message));
      }
    checkpoint(batch.records_through);
    progress.update(batch.done, stats.accepted + stats.rejected);
  };

  std::optional<PendingBatch> in_flight;
  // On an error, wait for the batch being prepared: it refers to this frame.
  struct Drain {
    std::optional<PendingBatch>& batch;
    ~Drain() {
      if (batch && batch->prepared.valid()) batch->prepared.wait();
    }
  } drain{in_flight};

  PendingBatch next;
  std::uint64_t records = 0;  // read from the log so far
  auto dispatch = [&] {
    next.done = log.done();
    next.records_through = records;
    auto body = next.body;
    next.prepared =
        std::async(std::launch::async, [&engine, body] { return engine.prepare_json(*body); });
    if (in_flight) store(*in_flight);
    in_flight = std::move(next);
    next = PendingBatch();
  };
  log.read([&](const LogRecord& record) {
    if (++records <= skip) return true;
    next.body->append(record.text);
    next.body->push_back('\n');
    next.origin.emplace_back(record.file, record.line);
    if (next.origin.size() >= options.batch_lines) dispatch();
    return true;
  });
  if (!next.origin.empty()) dispatch();
  if (in_flight) {
    store(*in_flight);
    in_flight.reset();
  }
  stats.lines = log.lines();
  engine.write_note(kReplayCheckpointNote, std::nullopt);  // complete: nothing to resume
  progress.finish(log.total(), stats.accepted + stats.rejected);
  return stats;
}

}  // namespace signalbox
