#include "signalbox/ingest/replay.h"

#include <fmt/format.h>

#include <future>
#include <memory>
#include <optional>

#include "signalbox/eventlog/progress.h"
#include "signalbox/eventlog/time_ordered_log.h"

namespace signalbox {

namespace {

// One batch of lines on its way: being decoded and materialized on another thread while the
// batch before it is stored.
struct PendingBatch {
  std::shared_ptr<std::string> body = std::make_shared<std::string>();
  // (file index, line number) of each event of the body, for rejection messages.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> origin;
  std::uint64_t done = 0;  // progress after it
  std::future<Engine::PreparedBatch> prepared;
};

}  // namespace

ReplayStats replay_files(Engine& engine, const std::vector<std::string>& files,
                         const ReplayOptions& options) {
  ReplayStats stats;
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
      for (const auto& [index, message] : result.rejected) {
        const auto& [file, line] = batch.origin.at(index);
        options.on_reject(fmt::format("{}:{}: {}", files[file], line, message));
      }
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
  auto dispatch = [&] {
    next.done = log.done();
    auto body = next.body;
    next.prepared = std::async(std::launch::async, [&engine, body] { return engine.prepare_json(*body); });
    if (in_flight) store(*in_flight);
    in_flight = std::move(next);
    next = PendingBatch();
  };
  log.read([&](const LogRecord& record) {
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
  progress.finish(log.total(), stats.accepted + stats.rejected);
  return stats;
}

}  // namespace signalbox
