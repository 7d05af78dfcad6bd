#pragma once

// The naive design the benchmarks compare Signalbox's answers with: every signal folded from
// all of a user's raw events at query time, with the engine's own aggregators and the same
// window rule, so that both must give the same answers.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "signalbox/aggregate/signal.h"
#include "signalbox/common/value.h"
#include "signalbox/config/config.h"
#include "signalbox/materialize/materializer.h"
#include "signalbox/store/store.h"

namespace signalbox::bench {

// Answers from a store that keeps the raw events (loaded by an Engine whose config keeps them
// for the longest window: event_store.retention above it). Not thread-safe.
class NaiveRecompute {
 public:
  // `config` is that of the store whose answers are compared: it gives the signals and the
  // window rule (its event_store.retention decides, as in the engine, which windows are cut at
  // the millisecond and which at the day). The raw events come from the store at `store_path`,
  // opened read-only, which must keep them for the longest window. Throws StorageError when it
  // does not open.
  NaiveRecompute(const Config& config, const std::filesystem::path& store_path);
  ~NaiveRecompute();

  // {signal name: result} for every signal of the config (no views), as of `as_of`: what
  // Engine::query answers under "signals" for the same names.
  Value query(std::uint64_t user, TimeMs as_of);

 private:
  class KeepNewest;
  Config config_;
  Materializer materializer_;
  std::unique_ptr<KeepNewest> merger_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Signal>> signals_;
};

// Equal up to the 1e-9 relative difference that folding in another order may make in a number.
bool same_answer(const Value& a, const Value& b);

// How many signals of `recomputed` (NaiveRecompute::query) differ from those of `served`
// (an Engine::query answer, with its "signals" object).
std::size_t differing_signals(const Value& served, const Value& recomputed);

}  // namespace signalbox::bench
