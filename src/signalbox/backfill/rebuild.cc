#include "signalbox/backfill/rebuild.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>

#include "signalbox/common/hash.h"
#include "signalbox/event/decode.h"
#include "signalbox/eventlog/progress.h"
#include "signalbox/eventlog/time_ordered_log.h"

namespace signalbox {

RebuildStats rebuild_from_logs(Engine& engine, const std::vector<std::string>& files,
                               const RebuildOptions& options) {
  RebuildStats stats;
  stats.needed = engine.history_incomplete();
  if (!stats.needed) return stats;
  TimeOrderOptions order;
  order.presorted = options.presorted;
  order.tmp_dir = options.tmp_dir;
  order.sort_memory = options.sort_memory;
  order.progress = options.progress;
  TimeOrderedLog log(files, order);
  log.prepare();
  stats.sorted = log.sorted();
  ProgressReporter progress("rebuild", log.total(), "events", options.progress);
  EventDecoder decoder(DecodeOptions{engine.config().event_store.max_future_skew, wall_clock_ms});
  // The same event twice in the logs counts once, as ingest would have taken it once: 64-bit
  // hashes of (user_id, event_id), as the store's own id records are per user.
  std::unordered_set<std::uint64_t> seen;
  std::vector<Event> batch;
  auto fold = [&] {
    if (batch.empty()) return;
    stats.folded += engine.fold_history(std::move(batch));
    batch.clear();
    progress.update(log.done(), stats.events);
  };
  Event event;
  Rejection error;
  TimeMs oldest = std::numeric_limits<TimeMs>::max();
  log.read([&](const LogRecord& record) {
    if (!decoder.decode(record.text, &event, &error)) {
      ++stats.rejected;
      if (options.on_reject)
        options.on_reject(fmt::format("{}:{}: {}", files[record.file], record.line, error.message));
      event = Event();
      error = Rejection();
      return true;
    }
    ++stats.events;
    oldest = std::min(oldest, event.ts);
    if (!seen.insert(hash64(event.event_id, event.user_id)).second) {
      ++stats.repeats;
      event = Event();
      return true;
    }
    batch.push_back(std::move(event));
    event = Event();
    if (batch.size() >= options.batch_events) fold();
    return true;
  });
  fold();
  stats.lines = log.lines();
  progress.finish(log.total(), stats.events);
  if (stats.events > 0) stats.oldest = oldest;
  if (options.all_history)
    engine.extend_history(0);
  else if (stats.events > 0)
    engine.extend_history(oldest);
  return stats;
}

}  // namespace signalbox
