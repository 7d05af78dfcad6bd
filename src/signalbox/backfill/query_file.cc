#include "signalbox/backfill/query_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// The row as written, shortened, for error messages.
std::string shown(std::string_view row) {
  constexpr std::size_t kShown = 60;
  std::string out(row.substr(0, kShown));
  if (row.size() > kShown) out += "...";
  return out;
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<BackfillQuery> parse_query_text(std::string_view text, std::string_view name) {
  std::vector<BackfillQuery> queries;
  bool first_row = true;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    std::string_view row = text.substr(pos, newline - pos);
    pos = newline + 1;
    ++line_number;
    if (trim(row).empty()) continue;
    auto fail = [&](std::string_view problem) {
      throw QueryError(fmt::format("{}:{}: {}", name, line_number, problem));
    };
    std::size_t comma = row.find(',');
    if (comma == std::string_view::npos || row.find(',', comma + 1) != std::string_view::npos)
      fail(fmt::format("expected two columns user_id,as_of, got \"{}\"", shown(trim(row))));
    std::string_view user = trim(row.substr(0, comma));
    std::string_view as_of = trim(row.substr(comma + 1));
    if (first_row && user == "user_id" && as_of == "as_of") {
      first_row = false;
      continue;
    }
    first_row = false;
    BackfillQuery q;
    if (!parse_int(user, q.user_id))
      fail(fmt::format("user_id: \"{}\" is not an unsigned 64-bit integer", shown(user)));
    std::string problem;
    std::optional<TimeMs> t = parse_time(as_of, &problem);
    if (!t) fail(fmt::format("as_of: \"{}\" {}", shown(as_of), problem));
    q.as_of = *t;
    queries.push_back(q);
  }
  return queries;
}

std::vector<BackfillQuery> read_query_file(const std::string& path) {
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
