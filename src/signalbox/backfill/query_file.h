#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// One point-in-time request of a backfill: a user's signals as of a time, with the values of
// the query file's other columns (labels, ids), which its answer carries along.
struct BackfillQuery {
  std::uint64_t user_id = 0;
  TimeMs as_of = 0;
  std::vector<std::string> extra = {};  // one per QueryFile::extra_columns
};

// A parsed query file.
struct QueryFile {
  std::vector<std::string> extra_columns;  // header names other than user_id and as_of, in order
  std::vector<BackfillQuery> queries;      // in file order
};

// The column names a query file may not use besides user_id and as_of: an answer's own fields.
inline constexpr std::string_view kReservedColumns[] = {"as_of_iso", "signals", "error"};

// Parses the text of a query file: CSV (RFC 4180 fields, one row per line; blank-padded or
// double-quoted fields; "\r\n" line ends; blank rows skipped). The first non-blank row is
// either a header naming its columns, two of them `user_id` and `as_of`, any others being
// extra columns copied into each answer; or, without a header, a data row of exactly the two
// columns user_id,as_of. `user_id` is an unsigned 64-bit integer, `as_of` a time as
// parse_time() reads it (ISO 8601 or ms since the epoch; at most kLatestTimeMs, low enough
// that window arithmetic on it cannot overflow). Throws QueryError("<name>:<line>: <problem>")
// for the first malformed row.
QueryFile parse_query_text(std::string_view text, std::string_view name);

// Reads and parses a query file; "-" reads standard input. Throws QueryError naming the
// file when it cannot be read or a row is malformed.
QueryFile read_query_file(const std::string& path);

}  // namespace signalbox
