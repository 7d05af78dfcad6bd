#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace signalbox {

// CSV as backfill reads its query files and writes its flat output (RFC 4180 fields on one
// line). Plain functions: safe from any thread.

// Splits one line into fields: separated by commas, each optionally double-quoted (then it
// may hold commas and "" for a quote); blanks and tabs around a field, and a trailing '\r',
// are dropped. Returns false with `*problem` set for an unterminated quote or text after a
// closing quote.
bool split_csv_line(std::string_view line, std::vector<std::string>& fields, std::string* problem);

// Appends `field` to `out`, double-quoted when it holds a comma, a quote, a line break or
// leading/trailing blanks (quotes doubled inside).
void append_csv_field(std::string& out, std::string_view field);

}  // namespace signalbox
