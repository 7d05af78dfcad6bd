#include "signalbox/backfill/csv.h"

namespace signalbox {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool split_csv_line(std::string_view line, std::vector<std::string>& fields, std::string* problem) {
  fields.clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t pos = 0;
  while (true) {
    while (pos < line.size() && is_blank(line[pos])) ++pos;
    std::string field;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= line.size()) {
          *problem = "a quoted field has no closing quote";
          return false;
        }
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field += line[pos++];
      }
      while (pos < line.size() && is_blank(line[pos])) ++pos;
      if (pos < line.size() && line[pos] != ',') {
        *problem = "text after a closing quote (a quote inside a quoted field is written \"\")";
        return false;
      }
    } else {
      std::size_t end = line.find(',', pos);
      if (end == std::string_view::npos) end = line.size();
      std::string_view text = line.substr(pos, end - pos);
      while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
      field.assign(text);
      pos = end;
    }
    fields.push_back(std::move(field));
    if (pos >= line.size()) return true;
    ++pos;  // the comma
  }
}

void append_csv_field(std::string& out, std::string_view field) {
  bool quote = !field.empty() && (is_blank(field.front()) || is_blank(field.back()));
  for (char c : field)
    if (c == ',' || c == '"' || c == '\n' || c == '\r') quote = true;
  if (!quote) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace signalbox
