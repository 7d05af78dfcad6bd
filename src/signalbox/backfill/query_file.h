#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signalbox/common/time.h"

namespace signalbox {

// One point-in-time request of a backfill: a user's signals as of a time.
struct BackfillQuery {
  std::uint64_t user_id = 0;
  TimeMs as_of = 0;
};

// Parses the text of a query file: CSV rows `user_id,as_of` (an unsigned 64-bit user id and
// a time as parse_time() reads it: ISO 8601 or ms since the epoch, at most kLatestTimeMs, low
// enough that window arithmetic on it cannot overflow), each field optionally blank-padded or
// double-quoted. The first non-blank row may be the header `user_id,as_of`; blank rows are
// skipped; "\r\n" line ends are accepted. Returns the queries in file order. Throws
// QueryError("<name>:<line>: <problem>") for the first malformed row.
std::vector<BackfillQuery> parse_query_text(std::string_view text, std::string_view name);

// Reads and parses a query file; "-" reads standard input. Throws QueryError naming the
// file when it cannot be read or a row is malformed.
std::vector<BackfillQuery> read_query_file(const std::string& path);

}  // namespace signalbox
