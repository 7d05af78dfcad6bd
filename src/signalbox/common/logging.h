#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace signalbox {

// How log lines are written on stderr: `text` for people, `json` (one object per line with
// "ts", "level", "msg" and the line's fields) for log shippers.
enum class LogFormat { kText, kJson };

// One named value written with a log line: ` key=value` in text, `"key":value` in JSON.
// Strings are quoted (JSON) or written as they are (text, quoted when they hold a space).
class LogField {
 public:
  LogField(std::string_view key, std::string_view value);
  LogField(std::string_view key, const char* value) : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, const std::string& value)
      : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, std::int64_t value);
  LogField(std::string_view key, std::uint64_t value);
  LogField(std::string_view key, int value) : LogField(key, static_cast<std::int64_t>(value)) {}
  LogField(std::string_view key, unsigned value)
      : LogField(key, static_cast<std::uint64_t>(value)) {}
  LogField(std::string_view key, unsigned long long value)
      : LogField(key, static_cast<std::uint64_t>(value)) {}
  LogField(std::string_view key, long long value)
      : LogField(key, static_cast<std::int64_t>(value)) {}
  LogField(std::string_view key, double value);
  LogField(std::string_view key, bool value);

  std::string_view key() const { return key_; }
  // The value as JSON (a string quoted and escaped, a number as written).
  const std::string& json() const { return json_; }
  // The value for the text format.
  const std::string& text() const { return text_; }

 private:
  std::string key_;
  std::string json_;
  std::string text_;
};

// The level named by `name` (trace, debug, info, warn, error, off), or nothing.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);
// The format named by `name` (text, json), or nothing.
std::optional<LogFormat> parse_log_format(std::string_view name);
// The name parse_log_level() reads for `level` ("warn" for warnings).
std::string_view log_level_name(spdlog::level::level_enum level);

// Makes the process's default spdlog logger write to stderr at `level` in `format`, UTC
// timestamps with milliseconds. Lines logged through spdlog::info() and friends (no fields)
// get the same treatment, so every line of a JSON log parses. Call it once, early, before
// other threads log; it replaces the default logger.
void configure_logging(spdlog::level::level_enum level, LogFormat format);

// Logs `message` with `fields` on the default logger in the configured format. Thread-safe.
void log_event(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields);

}  // namespace signalbox
