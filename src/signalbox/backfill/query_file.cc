#include "signalbox/backfill/query_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "signalbox/backfill/csv.h"
#include "signalbox/common/error.h"

namespace signalbox {

namespace {

// A field as written, shortened, for error messages.
std::string shown(std::string_view text) {
  constexpr std::size_t kShown = 60;
  std::string out(text.substr(0, kShown));
  if (text.size() > kShown) out += "...";
  return out;
}

std::string joined(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) {
    if (!out.empty()) out += ',';
    append_csv_field(out, f);
  }
  return out;
}

bool is_blank_line(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// Where user_id and as_of stand in a row, and which fields are extra columns.
struct Layout {
  std::size_t columns = 2;
  std::size_t user_id = 0;
  std::size_t as_of = 1;
  std::vector<std::size_t> extra;  // field positions of QueryFile::extra_columns
};

bool is_header(const std::vector<std::string>& fields) {
  return std::count(fields.begin(), fields.end(), "user_id") > 0 &&
         std::count(fields.begin(), fields.end(), "as_of") > 0;
}

// The layout a header row names, its extra column names into `extra_columns`. Returns "" or
// the problem.
std::string read_header(const std::vector<std::string>& fields, Layout& layout,
                        std::vector<std::string>& extra_columns) {
  layout.columns = fields.size();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string& name = fields[i];
    if (name.empty()) return fmt::format("header: column {} has no name", i + 1);
    if (std::find(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        fields.begin() + static_cast<std::ptrdiff_t>(i))
      return fmt::format("header: column \"{}\" is named twice", shown(name));
    if (std::find(std::begin(kReservedColumns), std::end(kReservedColumns), name) !=
        std::end(kReservedColumns))
      return fmt::format(
          "header: column \"{}\" has the name of a field of the answers "
          "(reserved: as_of_iso, signals, error)",
          name);
    if (name == "user_id") {
      layout.user_id = i;
    } else if (name == "as_of") {
      layout.as_of = i;
    } else {
      layout.extra.push_back(i);
      extra_columns.push_back(name);
    }
  }
  return "";
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The query of one data row, or the problem.
std::string read_row(const std::vector<std::string>& fields, const Layout& layout,
                     BackfillQuery& q) {
  const std::string& user = fields[layout.user_id];
  const std::string& as_of = fields[layout.as_of];
  if (!parse_int(user, q.user_id))
    return fmt::format("user_id: \"{}\" is not an unsigned 64-bit integer", shown(user));
  std::string problem;
  std::optional<TimeMs> t = parse_time(as_of, &problem);
  if (!t) return fmt::format("as_of: \"{}\" {}", shown(as_of), problem);
  q.as_of = *t;
  q.extra.reserve(layout.extra.size());
  for (std::size_t i : layout.extra) q.extra.push_back(fields[i]);
  return "";
}

}  // namespace

QueryFile parse_query_text(std::string_view text, std::string_view name) {
  QueryFile file;
  std::optional<Layout> layout;
  std::vector<std::string> fields;
  std::string problem;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view line = text.substr(pos, newline - pos);
    pos = newline + 1;
    ++line_number;
    if (is_blank_line(line)) continue;
    auto fail = [&](std::string_view what) {
      throw QueryError(fmt::format("{}:{}: {}", name, line_number, what));
    };
    if (!split_csv_line(line, fields, &problem)) fail(problem);
    if (!layout) {
      layout.emplace();
      if (is_header(fields)) {
        if (std::string bad = read_header(fields, *layout, file.extra_columns); !bad.empty())
          fail(bad);
        continue;
      }
    }
    if (fields.size() != layout->columns) {
      fail(layout->columns == 2 && file.extra_columns.empty()
               ? fmt::format("expected two columns user_id,as_of, got \"{}\" (a header row "
                             "naming user_id and as_of allows more)",
                             shown(joined(fields)))
               : fmt::format("expected {} columns as the header names, got {}", layout->columns,
                             fields.size()));
    }
    BackfillQuery q;
    if (std::string bad = read_row(fields, *layout, q); !bad.empty()) fail(bad);
    file.queries.push_back(std::move(q));
  }
  return file;
}

QueryFile read_query_file(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw QueryError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    text << in.rdbuf();
    if (in.bad()) throw QueryError(fmt::format("{}: read error", path));
  }
  return parse_query_text(text.str(), path);
}

}  // namespace signalbox
