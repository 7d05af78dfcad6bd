#include "signalbox/ingest/replay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "signalbox/eventlog/progress.h"
#include "signalbox/eventlog/time_ordered_log.h"
#include "signalbox/ingest/batch_handover.h"
#include "signalbox/ingest/replay_checkpoint.h"

namespace signalbox {

namespace {

// One batch of lines on its way: being decoded and materialized on a thread of its own while
// the batches before it are stored.
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

  // Stores a prepared batch, in order; the next ones are read and prepared meanwhile.
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

  // This thread reads the log and starts each batch's preparation; another stores the
  // prepared batches in order. Storing is a replay's longest stage (RocksDB's memtable inserts
  // run on the writing thread), so reading no longer waits behind it. Up to two prepared
  // batches wait to be stored: enough that the storing thread never waits for a batch while
  // reading keeps up, few enough to bound the memory.
  BatchHandover<PendingBatch> handover(2);
  std::exception_ptr store_error;
  std::thread storer([&] {
    try {
      while (std::optional<PendingBatch> batch = handover.pop()) store(*batch);
    } catch (...) {
      store_error = std::current_exception();
      handover.cancel();
    }
  });
  // join() ends the handover when every batch is read; leaving by an exception drops the
  // queued batches instead. Either way the storer is done before this frame, which it refers
  // to, goes.
  struct StorerJoin {
    BatchHandover<PendingBatch>& handover;
    std::thread& storer;
    void join() {
      handover.finish();
      storer.join();
    }
    ~StorerJoin() {
      if (!storer.joinable()) return;
      handover.cancel();
      storer.join();
    }
  } storer_join{handover, storer};

  PendingBatch next;
  std::uint64_t records = 0;  // read from the log so far
  bool storing = true;        // false once the storer stopped on an error
  auto dispatch = [&] {
    next.done = log.done();
    next.records_through = records;
    auto body = next.body;
    next.prepared =
        std::async(std::launch::async, [&engine, body] { return engine.prepare_json(*body); });
    storing = handover.push(std::move(next));
    next = PendingBatch();
  };
  log.read([&](const LogRecord& record) {
    if (++records <= skip) return true;
    next.body->append(record.text);
    next.body->push_back('\n');
    next.origin.emplace_back(record.file, record.line);
    if (next.origin.size() >= options.batch_lines) dispatch();
    return storing;
  });
  if (storing && !next.origin.empty()) dispatch();
  storer_join.join();
  if (store_error) std::rethrow_exception(store_error);
  stats.lines = log.lines();
  engine.write_note(kReplayCheckpointNote, std::nullopt);  // complete: nothing to resume
  progress.finish(log.total(), stats.accepted + stats.rejected);
  return stats;
}

}  // namespace signalbox
