#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "signalbox/common/value.h"

namespace signalbox {

// Backfill answers as one flat table, for training data: one row per answer, one column per
// leaf. An answer {"user_id", "as_of", "as_of_iso", <query file columns>..., "signals": {...}}
// (or with "error" in place of "signals") gives the columns user_id, as_of, as_of_iso, the
// query file's columns and error, in the order first met, then one column per
// signal.window[.key[...]]: objects are followed down to their leaves, lists are one cell of
// JSON. The columns are the union over all answers, so every row has every column:
//   - a key of a result's map (a group key such as a category, below the window of a windowed
//     signal, at the top of any other result) that an answer lacks is 0 in its row;
//     with `top_keys` = N only the N keys of each signal or view with the largest sum of
//     |numbers| over all answers and windows are kept. Every window of a signal gets the same
//     key columns, sorted by name (with top_keys: by that sum, largest first).
//   - a cell under a result that is not an object in this answer (null) is empty, and so is a
//     top-level field the answer lacks (error, in a row without one).
// Numbers are written in the shortest form that reads back as the same double, strings as
// they are, true/false, null as an empty cell.
//
// Use: learn() every answer, then columns() and row() for each. Not synchronised.
class FlatTable {
 public:
  // `windowed`: the names of the windowed signals (their results are {window: result}).
  FlatTable(std::set<std::string> windowed, std::optional<std::size_t> top_keys);
  ~FlatTable();
  FlatTable(const FlatTable&) = delete;
  FlatTable& operator=(const FlatTable&) = delete;

  void learn(const Value& answer);

  // The column names, after every learn(): "user_id", ..., "saves.7d", "category_counts.1d.food".
  std::vector<std::string> columns();

  // One cell per column for `answer` (one of those learnt).
  std::vector<std::string> row(const Value& answer);

  struct Node;  // a column or a group of columns (flat_table.cc)

 private:
  void settle();

  std::set<std::string> windowed_;
  std::optional<std::size_t> top_keys_;
  std::unique_ptr<Node> fields_;  // the answers' top-level fields but "signals"
  std::unique_ptr<Node> signals_;
  bool settled_ = false;
};

}  // namespace signalbox
