#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/bytes.h"
#include "signalbox/common/result_writer.h"
#include "signalbox/common/time.h"
#include "signalbox/common/value.h"
#include "signalbox/common/value_builder.h"
#include "signalbox/config/signal_definition.h"
#include "signalbox/event/event.h"
#include "signalbox/event/value_ref.h"

namespace signalbox {

// The partial aggregate of some set of events. Each Aggregator defines its own State type;
// the engine only moves states between an aggregator's functions.
class State {
 public:
  virtual ~State() = default;
};

// Folds events into incremental, mergeable state and turns state into a result. State must
// form a commutative monoid under merge() with make_state() as identity — merging the states
// of two disjoint event sets must equal folding both sets — because the engine keeps state in
// time tiles, combines tiles in any order, and folds boundary events at query time.
// An Aggregator is immutable after construction and safe to use from many threads.
class Aggregator {
 public:
  virtual ~Aggregator() = default;

  virtual std::unique_ptr<State> make_state() const = 0;
  // Adds one event with weight `weight` (from the signal's `actions`; 1 without them).
  virtual void fold(State& state, const MaterializedEvent& event, double weight) const = 0;
  virtual void merge(State& into, const State& from) const = 0;
  // The answer for the events folded into `state`, evaluated as of `as_of` (every event
  // folded has ts <= as_of).
  virtual Value result(const State& state, TimeMs as_of) const = 0;
  // The same answer written to `out` (result_writer.h) as it is produced: how a query's JSON
  // answer is made, without building the Value. Must describe exactly result()'s Value.
  virtual void write_result(const State& state, TimeMs as_of, ResultWriter& out) const {
    out.value(result(state, as_of));
  }

  // Serialisation for tiles. decode() of encode() must give an equal state; decode() of
  // other bytes throws CorruptionError.
  virtual void encode(const State& state, std::string& out) const = 0;
  virtual std::unique_ptr<State> decode(std::string_view bytes) const = 0;
  // A new state equal to `state`, which is left as it is (and may be read by other threads
  // meanwhile): how a merge kept in the span cache is handed to each query that merges onto
  // it. The default goes through encode() and decode(); AggregatorOf copies its S.
  virtual std::unique_ptr<State> copy(const State& state) const {
    std::string bytes;
    encode(state, bytes);
    return decode(bytes);
  }

  // What this aggregator folds, as a stable string (name and parameters that change the
  // state). Signals whose fingerprints match share state; changing it starts state afresh.
  // The default, an empty string, stands for the signal's aggregator name, `group_by`,
  // `value` and every other parameter as written: right unless some parameter does not
  // change the state (then override, and leave that parameter out).
  virtual std::string fingerprint() const { return std::string(); }

  // True when every result is a number or null, or (for a signal with `group_by`) an object
  // from group keys to numbers: what the `ratio` view may divide. False by default, so that a
  // custom aggregator is a ratio operand only when it says so.
  virtual bool numeric() const { return false; }
};

// Convenience base for an aggregator whose state is a plain C++ type S (copyable, default
// constructible as the empty state). Implement the five functions on S; the casting and
// ownership are done here. To write answers without building a Value, derive from
// WritingAggregatorOf<S> below instead and implement write_result() in place of result().
template <class S>
class AggregatorOf : public Aggregator {
 public:
  virtual void fold(S& state, const MaterializedEvent& event, double weight) const = 0;
  virtual void merge(S& into, const S& from) const = 0;
  virtual Value result(const S& state, TimeMs as_of) const = 0;
  virtual void write_result(const S& state, TimeMs as_of, ResultWriter& out) const {
    out.value(result(state, as_of));
  }
  virtual void encode(const S& state, ByteWriter& out) const = 0;
  virtual S decode(ByteReader& in) const = 0;

 private:
  struct Holder : State {
    S value;
  };
  static S& get(State& s) { return static_cast<Holder&>(s).value; }
  static const S& get(const State& s) { return static_cast<const Holder&>(s).value; }

  std::unique_ptr<State> make_state() const final { return std::make_unique<Holder>(); }
  void fold(State& state, const MaterializedEvent& event, double weight) const final {
    fold(get(state), event, weight);
  }
  void merge(State& into, const State& from) const final { merge(get(into), get(from)); }
  Value result(const State& state, TimeMs as_of) const final { return result(get(state), as_of); }
  void write_result(const State& state, TimeMs as_of, ResultWriter& out) const final {
    write_result(get(state), as_of, out);
  }
  void encode(const State& state, std::string& out) const final {
    ByteWriter writer(out);
    encode(get(state), writer);
  }
  std::unique_ptr<State> decode(std::string_view bytes) const final {
    auto holder = std::make_unique<Holder>();
    ByteReader reader(bytes);
    holder->value = decode(reader);
    if (!reader.done()) throw CorruptionError("trailing bytes after aggregator state");
    return holder;
  }
  std::unique_ptr<State> copy(const State& state) const final {
    auto holder = std::make_unique<Holder>();
    holder->value = get(state);
    return holder;
  }
};

// An AggregatorOf<S> that writes its answer token by token: implement write_result();
// result() is what it writes, built into a Value.
template <class S>
class WritingAggregatorOf : public AggregatorOf<S> {
 public:
  void write_result(const S& state, TimeMs as_of, ResultWriter& out) const override = 0;
  Value result(const S& state, TimeMs as_of) const final {
    ValueBuilder built;
    write_result(state, as_of, built);
    return built.take();
  }
};

// What an aggregator factory gets: the signal's config and the resolved value references,
// with helpers that read parameters and reject a config. Every helper that fails throws
// ConfigError at the signal's location ("file:line: signals[2].k: must be ...").
struct AggregatorContext {
  const SignalConfig& signal;
  const FeatureNames& features;
  // `group_by` and `value` resolved; nullopt when not written in the config.
  std::optional<ValueRef> group_by;
  std::optional<ValueRef> value;

  // Throws ConfigError naming the signal's `key` with `problem`.
  [[noreturn]] void reject(std::string_view key, std::string_view problem) const;
  // The `value` reference; a ConfigError when the signal has none.
  const ValueRef& require_value() const;
  // ConfigError when the signal has `group_by` / `value` / `windows`.
  void forbid_group_by() const;
  void forbid_value() const;
  void forbid_windows() const;
  // Parameter `key` of the signal (see param_int in config.h): `fallback` when absent, a
  // ConfigError when absent without a fallback or not of the type.
  std::int64_t param_int(std::string_view key,
                         std::optional<std::int64_t> fallback = std::nullopt) const;
  double param_double(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  TimeMs param_duration(std::string_view key, std::optional<TimeMs> fallback = std::nullopt) const;
  // List parameter `key` (declared with ParamSpec::list): its items as written, nullopt when
  // absent and not `required`.
  std::optional<std::vector<std::string>> param_list(std::string_view key, bool required) const;
};

using AggregatorFactory = std::function<std::unique_ptr<Aggregator>(const AggregatorContext&)>;

// Registers a factory under `name` (the `aggregator:` of a signal) with the parameters it
// reads (`{}` for none): a signal naming it may write those and the keys every signal takes
// (signal_keys()), and anything else is refused before the factory runs; declaring one of
// those keys throws std::invalid_argument. Registering a name
// twice replaces the first, so a program may replace a built-in (the built-ins are registered
// before anything else). Safe to call from any thread, also during static initialisation.
void register_aggregator(const std::string& name, AggregatorFactory factory, ParamSpecs params);

// Builds the aggregator a signal names. Throws ConfigError at the signal's location for an
// unknown name (listing the known ones), a parameter the aggregator does not declare (with
// the closest known key), or parameters the factory rejects.
std::unique_ptr<Aggregator> make_aggregator(const AggregatorContext& context);

std::vector<std::string> aggregator_names();

// The parameters aggregator `name` declares; nullopt when no aggregator has that name.
std::optional<ParamSpecs> aggregator_params(const std::string& name);

// The keys of every signal, whatever its aggregator: name, aggregator, group_by, value,
// actions, windows.
const std::vector<std::string>& signal_keys();

}  // namespace signalbox
