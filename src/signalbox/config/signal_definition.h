#pragma once

// What a config says about one signal or view, and the parameters its aggregator or transform
// reads: all that aggregators and views (built in or custom, include/signalbox/signal_kit.h)
// see of a config. The rest of a config file (server, storage, sources, ...) is in config.h,
// which the plugin interface does not expose.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// Where a config item was written, for error messages of the form "file:line: key: problem".
struct ConfigLocation {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  std::string path;  // the item's dotted path ("signals[2]"); empty for top-level places
};

// Throws ConfigError("<file>:<line>: <key>: <problem>"). A key not already under the
// location's path is put under it ("k" at signals[2] reads "signals[2].k").
[[noreturn]] void throw_config_error(const ConfigLocation& where, std::string_view key,
                                     std::string_view problem);

// A parameter not known to the loader (for aggregators, views and sources, which declare the
// parameters they take), kept as written with its location.
struct ConfigParam {
  // As written; for a list of single values, "[a, b, c]" (so that it still identifies the
  // parameter in fingerprints and descriptions); empty for anything else not single.
  std::string text;
  ConfigLocation where;
  // False when written as a list or mapping. Whether the key is known at all is decided
  // first, by the kind it is written for; then its shape (ParamSpec::list).
  bool scalar = true;
  // For a list whose items are all single values: true, with the items as written.
  bool list = false;
  std::vector<std::string> items;
};
using ConfigParams = std::map<std::string, ConfigParam, std::less<>>;

// One parameter a kind of aggregator, view or source takes, declared where the kind is
// registered: its key and what it means, in one line.
struct ParamSpec {
  std::string name;
  std::string meaning;
  // True when the parameter is a list of single values (`quantiles: [0.5, 0.9]`).
  bool list = false;
};
using ParamSpecs = std::vector<ParamSpec>;

// Throws ConfigError at the first parameter in `params` that `accepted` does not declare, in
// the form "file:line: signals[2].action: unknown key for aggregator count (did you mean
// actions?)": `owner` ("aggregator count") says whose keys they are, and `entry_keys` are
// the keys every entry of the section takes (name, aggregator, ...), which the loader has
// already taken out of `params` but which a misspelling may be close to. The closest key of
// either is suggested; when none is close the message lists them all. A declared parameter
// of another shape is refused too: a single value written as a list or mapping ("must be a
// single value"), a list parameter written otherwise ("must be a list of single values").
void check_params(const ConfigParams& params, const ParamSpecs& accepted, std::string_view owner,
                  const std::vector<std::string>& entry_keys);

// The problem text for an unknown `key` among `known`: "unknown key[ for <owner>] (did you
// mean <closest>?)" when one is close to it (a few edits apart, ignoring case), else
// "... (expected a, b or c)".
std::string unknown_key_problem(std::string_view key, const std::vector<std::string>& known,
                                std::string_view owner = {});

// The entry of `known` closest to `text` when it is close enough to be a likely misspelling
// (a small edit distance for the length, letters compared ignoring case); empty otherwise.
// Ties go to the entry listed first.
std::string closest_match(std::string_view text, const std::vector<std::string>& known);

struct WindowConfig {
  std::string text;  // as written, e.g. "7d": the key in answers
  TimeMs length = 0;
};

struct SignalConfig {
  std::string name;
  std::string aggregator;
  std::string group_by;                                                // empty: not grouped
  std::string value;                                                   // empty: none
  std::optional<std::vector<std::pair<std::string, double>>> actions;  // absent: all, weight 1
  std::vector<WindowConfig> windows;  // empty: one result over all history
  ConfigParams params;                // k, half_life, ...: those its aggregator declares
  ConfigLocation where;
};

struct ViewConfig {
  std::string name;
  std::string signal;
  std::string window;  // as written in the signal's windows; empty for none
  std::string transform;
  ConfigParams params;  // k, gap, ...: those its transform declares
  ConfigLocation where;
};

// Helpers for aggregators and views that read ConfigParams; each throws ConfigError naming
// the parameter on a bad value. `fallback` is used when the parameter is absent; without
// one, absence is an error too.
std::int64_t param_int(const ConfigParams& params, std::string_view key,
                       const ConfigLocation& where,
                       std::optional<std::int64_t> fallback = std::nullopt);
double param_double(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                    std::optional<double> fallback = std::nullopt);
TimeMs param_duration(const ConfigParams& params, std::string_view key, const ConfigLocation& where,
                      std::optional<TimeMs> fallback = std::nullopt);
// The items of list parameter `key` as written; nullopt when absent and not `required`
// (ConfigError when absent and required, or not a list of single values).
std::optional<std::vector<std::string>> param_list(const ConfigParams& params, std::string_view key,
                                                   const ConfigLocation& where, bool required);

}  // namespace signalbox
