#include "signalbox/engine/state_registry.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "signalbox/common/error.h"

namespace signalbox {

namespace {

constexpr std::string_view kVersionLine = "signalbox state registry 1";

template <class T>
T parse_field(std::string_view field, int base, std::size_t line) {
  T value{};
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value, base);
  if (error != std::errc() || end != field.data() + field.size())
    throw CorruptionError(
        fmt::format("state registry note, line {}: \"{}\" is not a number", line, field));
  return value;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    std::size_t space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace

std::string encode_state_registry(const StateRegistry& registry) {
  std::string out(kVersionLine);
  out += '\n';
  // state id, holds_from, complete_since, bootstrapping, next_user, retired
  for (const auto& [state_id, r] : registry)
    out += fmt::format("{:016x} {} {} {} {} {}\n", state_id, r.holds_from, r.complete_since,
                       r.bootstrapping ? 1 : 0, r.next_user, r.retired ? 1 : 0);
  return out;
}

StateRegistry decode_state_registry(std::string_view text) {
  StateRegistry registry;
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line_number == 1) {
      if (line != kVersionLine)
        throw CorruptionError(fmt::format(
            "state registry note: unknown format \"{}\" (expected \"{}\")", line, kVersionLine));
      continue;
    }
    std::vector<std::string_view> fields = split(line);
    if (fields.size() != 6)
      throw CorruptionError(fmt::format("state registry note, line {}: {} fields, expected 6",
                                        line_number, fields.size()));
    StateRecord r;
    const auto state_id = parse_field<std::uint64_t>(fields[0], 16, line_number);
    r.holds_from = parse_field<TimeMs>(fields[1], 10, line_number);
    r.complete_since = parse_field<TimeMs>(fields[2], 10, line_number);
    r.bootstrapping = parse_field<int>(fields[3], 10, line_number) != 0;
    r.next_user = parse_field<std::uint64_t>(fields[4], 10, line_number);
    r.retired = parse_field<int>(fields[5], 10, line_number) != 0;
    registry[state_id] = r;
  }
  if (line_number == 0) throw CorruptionError("state registry note: empty");
  return registry;
}

}  // namespace signalbox
