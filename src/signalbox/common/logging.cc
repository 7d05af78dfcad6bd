#include "signalbox/common/logging.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "signalbox/common/value.h"

namespace signalbox {

namespace {

// Marks a JSON-mode payload whose msg and fields log_event() already rendered as JSON members.
constexpr char kRenderedMark = '\x1f';

std::atomic<LogFormat> current_format{LogFormat::kText};

std::string_view level_text(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// "2026-11-23T22:14:03.123Z"
void append_timestamp(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point time) {
  auto since_epoch = time.time_since_epoch();
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::time_t seconds = spdlog::log_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  fmt::format_to(std::back_inserter(dest), "{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, millis);
}

// One JSON object per line: {"ts":..., "level":..., "msg":..., fields...}. A payload that
// log_event() did not render (a plain spdlog::info call) becomes the escaped "msg".
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    append(dest, "{\"ts\":\"");
    append_timestamp(dest, msg.time);
    std::string head = fmt::format("\",\"level\":\"{}\",", level_text(msg.level));
    append(dest, head);
    if (!payload.empty() && payload.front() == kRenderedMark) {
      payload.remove_prefix(1);
      append(dest, payload);
    } else {
      std::string rendered = "\"msg\":";
      append_json_string(rendered, payload);
      append(dest, rendered);
    }
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// "<ts> <level> <message>", the level named as in the config ("warn", not spdlog's "warning").
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    append_timestamp(dest, msg.time);
    dest.push_back(' ');
    append(dest, level_text(msg.level));
    dest.push_back(' ');
    append(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

// Text values holding a space, a quote, an equals sign or a control character are quoted and
// escaped, so that key=value pairs stay separable and a client's text cannot forge a line.
std::string text_value(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value)
    plain = plain && c != ' ' && c != '"' && c != '=' && static_cast<unsigned char>(c) >= 0x20 &&
            c != 0x7f;
  if (plain) return std::string(value);
  std::string out;
  append_json_string(out, value);
  return out;
}

}  // namespace

LogField::LogField(std::string_view key, std::string_view value)
    : key_(key), text_(text_value(value)) {
  append_json_string(json_, value);
}

LogField::LogField(std::string_view key, std::int64_t value)
    : key_(key), json_(std::to_string(value)), text_(json_) {}

LogField::LogField(std::string_view key, std::uint64_t value)
    : key_(key), json_(std::to_string(value)), text_(json_) {}

LogField::LogField(std::string_view key, double value)
    : key_(key),
      json_(std::isfinite(value) ? fmt::format("{}", value) : "null"),
      text_(fmt::format("{}", value)) {}

LogField::LogField(std::string_view key, bool value)
    : key_(key), json_(value ? "true" : "false"), text_(json_) {}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string_view log_level_name(spdlog::level::level_enum level) { return level_text(level); }

void configure_logging(spdlog::level::level_enum level, LogFormat format) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("signalbox", std::move(sink));
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(level);
  // stderr is unbuffered, but a shipper reading a pipe wants each line as soon as it is made.
  logger->flush_on(spdlog::level::trace);
  current_format.store(format);
  spdlog::set_default_logger(std::move(logger));
}

void log_event(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string payload;
  if (current_format.load() == LogFormat::kJson) {
    payload += kRenderedMark;
    payload += "\"msg\":";
    append_json_string(payload, message);
    for (const LogField& field : fields) {
      payload += ',';
      append_json_string(payload, field.key());
      payload += ':';
      payload += field.json();
    }
  } else {
    payload = message;
    for (const LogField& field : fields) {
      payload += ' ';
      payload += field.key();
      payload += '=';
      payload += field.text();
    }
  }
  logger->log(level, std::string_view(payload));
}

}  // namespace signalbox
