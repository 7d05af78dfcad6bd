// http_load: the loopback load generator of the Signalbox benchmarks (bench/run.sh). Its
// modes, each against a running `signalbox serve`:
//
//   query      GET /v1/users/{id}/signals over keep-alive connections, either open-loop at a
//              fixed offered rate (--rate) or closed-loop at saturation (no --rate). Open-loop
//              latency is measured from each request's *intended* send time, as wrk2 does, so
//              a slow answer that delays the requests behind it is charged to them too (no
//              coordinated omission). Reports achieved requests/s and p50/p99/p99.9.
//   ingest     POST /v1/events with NDJSON batches of a file over keep-alive connections;
//              reports events/s end to end (decode, materialize, store, tiles, answer); with
//              --rate, paced at that many events/s (the load beside a freshness run).
//   freshness  posts one event for a user nobody else writes, then reads that user's signals
//              over a second connection until the event shows; reports the time from sending
//              the POST to the first answer that shows it. A sample still unseen after
//              --give-up-ms ends the sampling, reported as gave_up=1 (serve fell behind what it
//              was given): that is a result, not a failure.
//   kafka-freshness  the same with the event produced to Kafka instead: this process runs a
//              librdkafka mock cluster (real Kafka protocol on loopback), writes its bootstrap
//              address to a file for the `kafka` ingest of the serve config, waits for serve,
//              and measures produce -> visible. It keeps the cluster up until serve stopped.
//              With --load-events, a second producer sends a log at a fixed rate meanwhile,
//              and the report adds what serve consumed while the samples were taken.
//   kafka-ingest  throughput from Kafka: produces the first events of a file to a mock cluster
//              (keyed by user_id), writes its address only then, and measures from serve's
//              start of consumption until its GET /metrics counts every event accepted or
//              rejected (polled 50 ms down to 2 ms apart as the end nears): producing is not
//              measured.
//
// Written here rather than using wrk because wrk cannot hold a fixed rate, and wrk2 is not
// packaged. Results go to stdout as one line and, with --metrics, as "key value" lines
// appended to a file that bench/run.sh turns into bench/results.md.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "signalbox/common/beast.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage = R"(usage: http_load MODE --port P [options]

modes:
  query      --users FILE (one user id a line) --duration S [--rate R] [--connections C]
             [--threads T] [--warmup S] [--as-of MS] [--names LIST]
             no --rate: closed loop at saturation; with --rate: open loop at R requests/s,
             latency from each request's intended send time
  ingest     --events FILE (NDJSON) [--batch N (1000)] [--connections C] [--skip N] [--limit N]
             [--rate R] [--until-file F] [--started-file F] [--restamp MS]  (--skip: lines
             of the file left out first; --rate: events/s offered, each batch sent no earlier
             than its turn; without it, as fast as answered; --until-file: no batch is sent
             once F exists; --started-file: written when the first batch is about to be sent,
             the file read; --restamp: each event's ts set to MS plus the ms since the start,
             when sent)
  freshness  --samples N --as-of MS --ts MS [--user-base U] [--poll-gap-us N (0)]
             [--give-up-ms N (10000)]
  kafka-freshness  --samples N --as-of MS --ts MS --brokers-file F --done-file F [--topic T]
             [--user-base U] [--poll-gap-us N (1000)] [--give-up-ms N (10000)]
             [--load-events FILE --load-rate R [--load-skip N]
             [--load-restamp MS]]  (see bench/run.sh for the order of steps; --load-events:
             while the samples are taken, a second producer sends that file's events from line
             N on at R events/s, restamped as ingest --restamp does, and then again from
             that line with each event id marked by the pass, until the samples are done)
  kafka-ingest  --events FILE (NDJSON) --brokers-file F --done-file F [--limit N] [--topic T]
             [--partitions P (one per MiB of events, at least 16)]  (the same order of steps)

common: --host H (127.0.0.1), --label NAME (the metric prefix), --metrics FILE (appends
"NAME.key value" lines), --connections C (default 8 for query, 4 for ingest)
)";

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "http_load: {}\n", message);
  std::exit(2);
}

// The "--flag value" pairs after the mode. A plain value; not synchronised.
struct Args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  bool has(const std::string& key) const { return values.count(key) > 0; }
  double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const std::string& text = values.at(key);
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0)
      fail(fmt::format("{} needs a non-negative number, got \"{}\"", key, text));
    return v;
  }
  std::string required(const std::string& key) const {
    if (!has(key)) fail(fmt::format("{} is required (see --help)", key));
    return values.at(key);
  }
};

// Latencies in microseconds; percentiles by sorting (a few million samples at most). One per
// thread; merge() them afterwards.
struct Samples {
  std::vector<double> micros;
  void add(Clock::duration d) {
    micros.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  void merge(const Samples& other) {
    micros.insert(micros.end(), other.micros.begin(), other.micros.end());
  }
  double percentile(double p) {
    if (micros.empty()) return 0;
    std::sort(micros.begin(), micros.end());
    auto index = static_cast<std::size_t>(p * static_cast<double>(micros.size()));
    return micros[std::min(micros.size() - 1, index)];
  }
};

// One run's results: a "label: key=value ..." line on stdout and "label.key value" lines
// appended to the --metrics file. Not thread-safe.
class Report {
 public:
  Report(std::string label, std::string metrics)
      : label_(std::move(label)), metrics_(std::move(metrics)) {}
  void add(const std::string& key, double value) {
    line_ += fmt::format(" {}={:.10g}", key, value);
    lines_ += fmt::format("{}.{} {:.10g}\n", label_, key, value);
  }
  void finish() {
    fmt::print("{}:{}\n", label_, line_);
    if (!metrics_.empty()) {
      std::ofstream out(metrics_, std::ios::app);
      out << lines_;
      if (!out) fail("cannot append to " + metrics_);
    }
  }

 private:
  std::string label_, metrics_, line_, lines_;
};

tcp::endpoint endpoint_of(const Args& args) {
  auto port = static_cast<unsigned short>(args.number("--port", 0));
  if (port == 0) fail("--port is required");
  return tcp::endpoint(asio::ip::make_address(args.get("--host", "127.0.0.1")), port);
}

void write_file_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot write " + path);
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- query -----------------------------------------------------------------------------------

// What one thread's query connections saw; each thread owns one.
struct QueryTotals {
  Samples latency;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string first_error;
};

// One connection's loop. Open loop: request i of this connection is due at
// start + offset + i × interval and is sent then, or as soon as the previous answer arrived if
// that is later; its latency counts from the due time. Closed loop: the next request goes out
// when the answer arrives, latency from sending.
asio::awaitable<void> query_connection(tcp::endpoint endpoint,
                                       const std::vector<std::string>* requests, std::size_t first,
                                       Clock::duration interval, Clock::time_point due,
                                       Clock::time_point record_from, Clock::time_point end,
                                       QueryTotals* totals) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  beast::flat_buffer buffer;
  const bool open_loop = interval != Clock::duration::zero();
  for (std::size_t i = first;; i += 7919) {  // a prime stride spreads connections over the users
    Clock::time_point sent;
    if (open_loop) {
      if (due >= end) break;
      if (Clock::now() < due) {
        timer.expires_at(due);
        co_await timer.async_wait(asio::use_awaitable);
      }
      sent = due;
      due += interval;
    } else {
      sent = Clock::now();
      if (sent >= end) break;
    }
    const std::string& request = (*requests)[i % requests->size()];
    co_await asio::async_write(stream.socket(), asio::buffer(request), asio::use_awaitable);
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    Clock::time_point done = Clock::now();
    if (sent < record_from) continue;
    if (response.result_int() == 200) {
      ++totals->ok;
      totals->latency.add(done - sent);
    } else {
      if (totals->errors++ == 0)
        totals->first_error = fmt::format("{} {}", response.result_int(), response.body());
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

int run_query(const Args& args) {
  tcp::endpoint endpoint = endpoint_of(args);
  std::vector<std::string> requests;
  {
    std::ifstream in(args.required("--users"));
    std::string line;
    std::string query;
    if (args.has("--as-of")) query += "as_of=" + args.get("--as-of");
    if (args.has("--names"))
      query += std::string(query.empty() ? "" : "&") + "names=" + args.get("--names");
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      requests.push_back(fmt::format("GET /v1/users/{}/signals{}{} HTTP/1.1\r\nHost: {}\r\n\r\n",
                                     line, query.empty() ? "" : "?", query,
                                     args.get("--host", "127.0.0.1")));
    }
  }
  if (requests.empty()) fail("--users names no user ids");
  const double duration = args.number("--duration", 5);
  const double warmup = args.number("--warmup", std::min(1.0, duration / 5));
  const double rate = args.number("--rate", 0);
  const auto threads = static_cast<unsigned>(std::max(1.0, args.number("--threads", 1)));
  const auto connections =
      static_cast<unsigned>(std::max<double>(threads, args.number("--connections", 8)));
  if (duration <= 0) fail("--duration must be positive");

  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(50);
  const Clock::time_point record_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const Clock::time_point end = record_from + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(duration));
  // Each connection offers rate / connections, staggered so the offered load is smooth.
  const Clock::duration interval = rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(connections / rate))
                                            : Clock::duration::zero();
  std::vector<QueryTotals> totals(threads);
  std::vector<std::thread> workers;
  std::atomic<bool> failed{false};
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      asio::io_context io;
      for (unsigned c = t; c < connections; c += threads) {
        Clock::time_point due = start + interval * c / connections;
        asio::co_spawn(io,
                       query_connection(endpoint, &requests, c * requests.size() / connections,
                                        interval, due, record_from, end, &totals[t]),
                       [&](std::exception_ptr e) {
                         if (!e) return;
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& error) {
                           if (!failed.exchange(true))
                             fmt::print(stderr, "http_load: connection failed: {}\n", error.what());
                         }
                       });
      }
      io.run();
    });
  }
  for (auto& w : workers) w.join();
  if (failed) return 1;
  QueryTotals all;
  for (auto& t : totals) {
    all.latency.merge(t.latency);
    all.ok += t.ok;
    all.errors += t.errors;
    if (all.first_error.empty()) all.first_error = t.first_error;
  }
  Report report(args.get("--label", rate > 0 ? "query_fixed" : "query_saturation"),
                args.get("--metrics"));
  report.add("offered_rps", rate);
  report.add("rps", static_cast<double>(all.ok) / duration);
  report.add("p50_us", all.latency.percentile(0.5));
  report.add("p99_us", all.latency.percentile(0.99));
  report.add("p999_us", all.latency.percentile(0.999));
  report.add("requests", static_cast<double>(all.ok));
  report.add("errors", static_cast<double>(all.errors));
  report.add("connections", connections);
  report.finish();
  if (all.errors)
    fmt::print(stderr, "http_load: {} requests failed; the first: {}\n", all.errors,
               all.first_error);
  return all.ok == 0 || all.errors ? 1 : 0;
}

// --- ingest ----------------------------------------------------------------------------------

// The number after "<key>": in a JSON answer, or 0.
std::uint64_t json_count(std::string_view body, std::string_view key) {
  std::string needle = fmt::format("\"{}\":", key);
  auto at = body.find(needle);
  if (at == std::string_view::npos) return 0;
  std::uint64_t v = 0;
  std::from_chars(body.data() + at + needle.size(), body.data() + body.size(), v);
  return v;
}

// The position in `text` after its first `n` lines (its end if it has fewer).
std::size_t after_lines(std::string_view text, std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t skipped = 0; skipped < n && pos < text.size(); ++skipped) {
    const std::size_t eol = text.find('\n', pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
  }
  return pos;
}

// The non-empty lines of `text` after its first `skip` lines, at most `limit` of them.
std::vector<std::string_view> lines_of(std::string_view text, std::size_t skip, std::size_t limit) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = after_lines(text, skip); pos < text.size() && lines.size() < limit;) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    if (eol > pos) lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return lines;
}

// `events` (NDJSON lines) with each line's first "ts" set to `ts`: a load restamped at the
// moment it is sent moves stream time as live traffic does, where a log sent at many times
// its own pace would move it by days a second (and bring a week's expiry every second or two).
std::string restamped(std::string_view events, std::int64_t ts) {
  static constexpr std::string_view kKey = "\"ts\":";
  std::string out;
  out.reserve(events.size() + 64);
  const std::string stamp = std::to_string(ts);
  for (std::size_t pos = 0; pos < events.size();) {
    std::size_t eol = events.find('\n', pos);
    if (eol == std::string_view::npos) eol = events.size();
    std::string_view line = events.substr(pos, eol - pos);
    const std::size_t at = line.find(kKey);
    if (at == std::string_view::npos) {
      out += line;
    } else {
      std::size_t end = at + kKey.size();
      while (end < line.size() && (line[end] == '-' || (line[end] >= '0' && line[end] <= '9')))
        ++end;
      out.append(line.substr(0, at + kKey.size())).append(stamp).append(line.substr(end));
    }
    if (eol < events.size()) out += '\n';
    pos = eol + 1;
  }
  return out;
}

// The ts a restamped load gives what it sends `elapsed` after its start: `from` plus the
// milliseconds since.
std::int64_t restamp_ts(std::int64_t from, Clock::duration elapsed) {
  return from + std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
}

// What the ingest connections saw (they share one single-threaded io_context).
struct IngestTotals {
  std::uint64_t accepted = 0, rejected = 0, failures = 0;
  std::string first_error;
  std::string first_rejection;  // the answer that first reported rejected events
};

// When each batch may be sent: `start` plus `per_batch` for each batch before it (a paced
// ingest), or at once (`per_batch` zero).
struct IngestPace {
  Clock::time_point start;
  Clock::duration per_batch{};
  std::string until_file;  // once it exists, no more batches are sent; empty: none
  // Nonzero: every event's ts is set to this plus the milliseconds since `start` when its
  // batch is sent (restamped()).
  std::int64_t restamp_from = 0;
};

asio::awaitable<void> ingest_connection(tcp::endpoint endpoint,
                                        const std::vector<std::string_view>* batches,
                                        std::atomic<std::size_t>* next, IngestTotals* totals,
                                        std::string host, IngestPace pace) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    std::size_t i = next->fetch_add(1);
    if (i >= batches->size()) break;
    if (!pace.until_file.empty() && std::filesystem::exists(pace.until_file)) break;
    if (pace.per_batch != Clock::duration::zero()) {
      timer.expires_at(pace.start + pace.per_batch * static_cast<long>(i));
      co_await timer.async_wait(asio::use_awaitable);
    }
    std::string_view body = (*batches)[i];
    std::string stamped;
    if (pace.restamp_from != 0) {
      stamped = restamped(body, restamp_ts(pace.restamp_from, Clock::now() - pace.start));
      body = stamped;
    }
    std::string head = fmt::format(
        "POST /v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: "
        "application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        host, body.size());
    std::array<asio::const_buffer, 2> parts = {asio::buffer(head),
                                               asio::buffer(body.data(), body.size())};
    co_await asio::async_write(stream.socket(), parts, asio::use_awaitable);
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    if (response.result_int() != 200) {
      if (totals->failures++ == 0)
        totals->first_error = fmt::format("{} {}", response.result_int(), response.body());
      continue;
    }
    totals->accepted += json_count(response.body(), "accepted");
    std::uint64_t rejected = json_count(response.body(), "rejected");
    if (rejected && totals->rejected == 0)
      totals->first_rejection = response.body().substr(0, 1000);
    totals->rejected += rejected;
  }
}

int run_ingest(const Args& args) {
  tcp::endpoint endpoint = endpoint_of(args);
  const std::string text = read_whole(args.required("--events"));
  const auto batch_lines = static_cast<std::size_t>(std::max(1.0, args.number("--batch", 1000)));
  const auto limit = static_cast<std::size_t>(args.number("--limit", 1e18));
  const auto connections = static_cast<unsigned>(std::max(1.0, args.number("--connections", 4)));
  const auto skip = static_cast<std::size_t>(args.number("--skip", 0));
  const double rate = args.number("--rate", 0);
  std::vector<std::string_view> batches;
  std::size_t lines = 0, in_batch = 0, pos = after_lines(text, skip), begin = pos;
  while (pos < text.size() && lines < limit) {
    std::size_t eol = text.find('\n', pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    ++lines;
    if (++in_batch == batch_lines) {
      batches.emplace_back(text.data() + begin, pos - begin);
      begin = pos;
      in_batch = 0;
    }
  }
  if (in_batch) batches.emplace_back(text.data() + begin, pos - begin);
  if (batches.empty()) fail("--events holds no events");

  asio::io_context io;
  std::atomic<std::size_t> next{0};
  IngestTotals totals;
  bool failed = false;
  auto start = Clock::now();
  IngestPace pace{start,
                  {},
                  args.get("--until-file", ""),
                  static_cast<std::int64_t>(args.number("--restamp", 0))};
  if (rate > 0)
    pace.per_batch = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(batch_lines) / rate));
  // Reading and splitting a large file takes a second or more: whoever measures beside this
  // load waits for this file rather than guessing how long that takes.
  if (const std::string started_file = args.get("--started-file", ""); !started_file.empty())
    write_file_atomically(started_file, "started\n");
  for (unsigned c = 0; c < connections; ++c) {
    asio::co_spawn(io,
                   ingest_connection(endpoint, &batches, &next, &totals,
                                     args.get("--host", "127.0.0.1"), pace),
                   [&](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& error) {
                       if (!failed)
                         fmt::print(stderr, "http_load: connection failed: {}\n", error.what());
                       failed = true;
                     }
                   });
  }
  io.run();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return 1;
  // Stopped by --until-file: what was sent is what was answered.
  const bool stopped = !pace.until_file.empty() && std::filesystem::exists(pace.until_file);
  if (stopped) lines = totals.accepted + totals.rejected;
  Report report(args.get("--label", "ingest_http"), args.get("--metrics"));
  report.add("events", static_cast<double>(lines));
  report.add("accepted", static_cast<double>(totals.accepted));
  report.add("rejected", static_cast<double>(totals.rejected));
  report.add("seconds", seconds);
  report.add("events_per_s", static_cast<double>(lines) / seconds);
  report.add("batch", static_cast<double>(batch_lines));
  report.add("connections", connections);
  if (rate > 0) report.add("offered_events_per_s", rate);
  // 1: still sending when --until-file appeared (the load lasted as long as it was needed).
  if (!pace.until_file.empty()) report.add("stopped", stopped ? 1 : 0);
  report.finish();
  if (totals.failures)
    fmt::print(stderr, "http_load: {} batches failed; the first: {}\n", totals.failures,
               totals.first_error);
  if (totals.rejected)
    fmt::print(stderr, "http_load: {} events rejected; the first answer with rejections: {}\n",
               totals.rejected, totals.first_rejection);
  return totals.failures || totals.accepted + totals.rejected != lines ? 1 : 0;
}

// --- freshness -------------------------------------------------------------------------------

// A blocking keep-alive HTTP/1.1 connection, written and read by hand so that a request can be
// sent before the previous answer is read. Not thread-safe.
class Connection {
 public:
  Connection(asio::io_context& io, tcp::endpoint endpoint) : stream_(io) {
    stream_.connect(endpoint);
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void write(std::string_view bytes) {
    asio::write(stream_.socket(), asio::buffer(bytes.data(), bytes.size()));
  }
  http::response<http::string_body> read() {
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response);
    return response;
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A keep-alive connection to serve, made at the first request, that serve may close while it
// is idle (past its idle_timeout, 10 ms in the smoke tests): a request that finds a connection
// kept from before closed is sent once more on a new one, as HTTP clients do with an
// idempotent request. A failure to connect, or on a new connection, is thrown
// (boost::system::system_error) and leaves no connection. Not thread-safe.
class KeptConnection {
 public:
  KeptConnection(asio::io_context& io, tcp::endpoint endpoint) : io_(io), endpoint_(endpoint) {}

  http::response<http::string_body> ask(std::string_view request) {
    const bool kept = connection_ != nullptr;
    try {
      return ask_once(request);
    } catch (const boost::system::system_error&) {
      if (!kept) throw;
      return ask_once(request);
    }
  }
  // When the request of the last answer was written (its connection made).
  Clock::time_point sent() const { return sent_; }

 private:
  http::response<http::string_body> ask_once(std::string_view request) {
    try {
      if (!connection_) connection_ = std::make_unique<Connection>(io_, endpoint_);
      sent_ = Clock::now();
      connection_->write(request);
      return connection_->read();
    } catch (const boost::system::system_error&) {
      connection_.reset();
      throw;
    }
  }

  asio::io_context& io_;
  tcp::endpoint endpoint_;
  std::unique_ptr<Connection> connection_;
  Clock::time_point sent_;
};

// One freshness measurement per sample: `send` hands one event of a user nobody else writes to
// Signalbox (and may leave its acknowledgement for `finish`), then a reader polls that user's
// signals until the event shows. The time counts from just before `send`.
struct FreshnessResult {
  Samples visible;
  std::uint64_t polls = 0;
  // The sampling ended at a sample still not visible after --give-up-ms (counted in `visible`
  // as that long, a lower bound): serve fell behind what it was given.
  bool gave_up = false;
};

// What a sample still unseen after --give-up-ms does: a warm-up's (the consumer group's first
// assignment takes seconds) waits up to 60 s and fails the run past that; a measurement's ends
// the sampling, as its result.
enum class Unseen { kWarmUpWaits, kEndsTheSampling };

FreshnessResult measure_freshness(
    const Args& args, std::size_t samples, std::uint64_t user_base,
    const std::function<void(std::uint64_t user, std::size_t i, const std::string& event)>& send,
    const std::function<void()>& finish, std::chrono::microseconds default_poll_gap,
    Unseen unseen) {
  tcp::endpoint endpoint = endpoint_of(args);
  const auto as_of = static_cast<std::int64_t>(args.number("--as-of", 0));
  const auto ts = static_cast<std::int64_t>(args.number("--ts", 0));
  if (as_of == 0 || ts == 0 || ts > as_of) fail("--as-of and --ts are required, with ts <= as_of");
  const std::string host = args.get("--host", "127.0.0.1");
  // A pause between the reads of one sample, if any: a sample that takes tens of milliseconds
  // would otherwise read the user a thousand times, taking the cores from what it measures.
  const auto poll_gap = std::chrono::microseconds(
      static_cast<std::int64_t>(args.number("--poll-gap-us", default_poll_gap.count())));
  const auto give_up =
      std::chrono::milliseconds(static_cast<std::int64_t>(args.number("--give-up-ms", 10000)));
  asio::io_context io;
  // A pause between samples may pass serve's idle_timeout: KeptConnection asks again.
  KeptConnection reader(io, endpoint);
  FreshnessResult result;
  for (std::size_t i = 0; i < samples; ++i) {
    const std::uint64_t user = user_base + i;
    std::string event = fmt::format(
        "{{\"user_id\":{},\"ts\":{},\"action\":\"save\",\"item_id\":\"p1\",\"event_id\":\"fresh{}"
        "\"}}",
        user, ts, user);
    std::string get =
        fmt::format("GET /v1/users/{}/signals?names=saves&as_of={} HTTP/1.1\r\nHost: {}\r\n\r\n",
                    user, as_of, host);
    const auto sent = Clock::now();
    send(user, i, event);
    for (;;) {
      auto answer = reader.ask(get);
      ++result.polls;
      if (answer.result_int() != 200)
        fail(fmt::format("GET answered {}: {}", answer.result_int(), answer.body()));
      if (answer.body().find("\"90d\":1") != std::string::npos) break;
      if (unseen == Unseen::kWarmUpWaits && Clock::now() - sent > std::chrono::seconds(60))
        fail(fmt::format("the event of user {} is not visible after 60 s", user));
      if (unseen == Unseen::kEndsTheSampling && Clock::now() - sent > give_up) {
        result.gave_up = true;
        break;
      }
      if (poll_gap.count() > 0) std::this_thread::sleep_for(poll_gap);
    }
    result.visible.add(result.gave_up ? Clock::duration(give_up) : Clock::now() - sent);
    finish();
    if (result.gave_up) {
      fmt::print(stderr,
                 "http_load: the event of user {} is not visible after {} ms; sampling ends at {} "
                 "of {} samples\n",
                 user, give_up.count(), i + 1, samples);
      break;
    }
  }
  return result;
}

void report_freshness(const Args& args, const std::string& label, FreshnessResult& r,
                      std::size_t samples,
                      const std::vector<std::pair<std::string, double>>& more = {}) {
  Report report(args.get("--label", label), args.get("--metrics"));
  for (const auto& [key, value] : more) report.add(key, value);
  report.add("samples", static_cast<double>(r.visible.micros.size()));
  report.add("samples_asked", static_cast<double>(samples));
  report.add("gave_up", r.gave_up ? 1.0 : 0.0);
  report.add("p50_us", r.visible.percentile(0.5));
  report.add("p99_us", r.visible.percentile(0.99));
  report.add("max_us", r.visible.percentile(1.0));
  report.add("polls_per_sample",
             static_cast<double>(r.polls) /
                 static_cast<double>(std::max<std::size_t>(1, r.visible.micros.size())));
  report.finish();
}

int run_freshness(const Args& args) {
  const auto samples = static_cast<std::size_t>(std::max(1.0, args.number("--samples", 1000)));
  const auto user_base = static_cast<std::uint64_t>(args.number("--user-base", 900'000'000'000));
  const std::string host = args.get("--host", "127.0.0.1");
  asio::io_context io;
  Connection writer(io, endpoint_of(args));
  // The POST is written, not awaited: its answer is read after the event showed, so the time
  // is until a reader sees the event, whichever comes first.
  auto send = [&](std::uint64_t, std::size_t, const std::string& event) {
    writer.write(
        fmt::format("POST /v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: "
                    "application/x-ndjson\r\nContent-Length: {}\r\n\r\n{}\n",
                    host, event.size() + 1, event));
  };
  auto finish = [&] {
    auto ack = writer.read();
    if (ack.result_int() != 200 || json_count(ack.body(), "accepted") != 1)
      fail(fmt::format("POST answered {}: {}", ack.result_int(), ack.body()));
  };
  // HTTP: read again at once (a sample takes a fraction of a millisecond).
  FreshnessResult r = measure_freshness(args, samples, user_base, send, finish,
                                        std::chrono::microseconds(0), Unseen::kEndsTheSampling);
  report_freshness(args, "freshness_http", r, samples);
  return 0;
}

// GET /healthz answers 200.
bool serve_answers(const Args& args) {
  try {
    asio::io_context io;
    Connection c(io, endpoint_of(args));
    c.write(
        fmt::format("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", args.get("--host", "127.0.0.1")));
    return c.read().result_int() == 200;
  } catch (const std::exception&) {
    return false;
  }
}

// A librdkafka mock cluster (the real Kafka protocol on loopback) holding one topic, and one
// producer to it. The cluster lives in a handle of its own, which must outlive every client of
// it; the destructor flushes and closes the producer, then the cluster.
class MockKafka {
 public:
  MockKafka(const std::string& topic, int partitions) {
    char error[512];
    rd_kafka_conf_t* owner_conf = rd_kafka_conf_new();
    rd_kafka_conf_set(owner_conf, "log_level", "4", error,
                      sizeof error);  // it has no brokers, by design
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, owner_conf, error, sizeof error);
    if (owner_ == nullptr) fail(fmt::format("kafka: {}", error));
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
    if (cluster_ == nullptr) fail("kafka: cannot create the mock cluster");
    if (rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      fail("kafka: cannot create topic " + topic);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~MockKafka() {
    for (rd_kafka_t* producer : producers_) {
      rd_kafka_flush(producer, 5000);
      rd_kafka_destroy(producer);
    }
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }

  // Makes a producer, owned by this: bootstrap.servers, then `settings`, then whatever
  // `configure` sets.
  rd_kafka_t* start_producer(const std::vector<std::pair<std::string, std::string>>& settings,
                             const std::function<void(rd_kafka_conf_t*)>& configure = {}) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& key, const std::string& value) {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
          RD_KAFKA_CONF_OK)
        fail(fmt::format("kafka: {}: {}", key, error));
    };
    set("bootstrap.servers", bootstraps_);
    for (const auto& [key, value] : settings) set(key, value);
    if (configure) configure(conf);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (producer == nullptr) fail(fmt::format("kafka: {}", error));
    producers_.push_back(producer);
    return producer;
  }

  // Keeps the cluster up until serve stopped (120 s at most): its consumer would otherwise
  // retry a vanished broker while it shuts down.
  static void wait_for_serve_to_stop(const Args& args) {
    for (int i = 0; serve_answers(args) && i < 1200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::vector<rd_kafka_t*> producers_;  // every producer started, destroyed with the cluster
  std::string bootstraps_;
};

// --- kafka-ingest ----------------------------------------------------------------------------

// The sum of the samples of counter `name` labelled with `topic_label` (topic="...") in a
// Prometheus text answer of GET /metrics; 0 when there are none.
double metric_sum(std::string_view text, std::string_view name, std::string_view topic_label) {
  double sum = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != '{' ||
        line.find(topic_label) == std::string_view::npos)
      continue;
    std::size_t space = line.rfind(' ');
    double value = 0;
    auto [end, ec] = std::from_chars(line.data() + space + 1, line.data() + line.size(), value);
    if (ec != std::errc()) fail(fmt::format("cannot read the value of \"{}\"", line));
    sum += value;
  }
  return sum;
}

// What serve's GET /metrics said about the consumer of one topic: the counters hold at some
// moment between `asked` (the request was sent) and `at` (the answer came).
struct KafkaCounts {
  double messages = 0;    // consumed, bad ones included
  double accepted = 0;    // taken by the engine (committed to the store), duplicates included
  double duplicates = 0;  // accepted events that were already stored
  double rejected = 0;    // skipped: undecodable, invalid or late
  Clock::time_point asked, at;
};

// Reads serve's GET /metrics over one keep-alive connection, reconnecting when serve is not
// (yet) there. Not thread-safe.
class MetricsPoller {
 public:
  MetricsPoller(const Args& args, const std::string& topic)
      : connection_(io_, endpoint_of(args)),
        request_(fmt::format("GET /metrics HTTP/1.1\r\nHost: {}\r\n\r\n",
                             args.get("--host", "127.0.0.1"))),
        topic_label_(fmt::format("topic=\"{}\"", topic)) {}

  // The counters now; nullopt while serve does not answer. A kept connection serve closed
  // meanwhile (idle longer than its keep-alive timeout) is replaced once (KeptConnection).
  std::optional<KafkaCounts> poll() {
    std::optional<http::response<http::string_body>> answer;
    try {
      answer = connection_.ask(request_);
    } catch (const boost::system::system_error&) {
      return std::nullopt;
    }
    if (answer->result_int() != 200)
      fail(fmt::format("GET /metrics answered {}: {}", answer->result_int(), answer->body()));
    ++polls_;
    const std::string& text = answer->body();
    KafkaCounts counts;
    counts.asked = connection_.sent();
    counts.at = Clock::now();
    counts.messages = metric_sum(text, "signalbox_kafka_messages_total", topic_label_);
    counts.accepted = metric_sum(text, "signalbox_kafka_events_accepted_total", topic_label_);
    counts.duplicates = metric_sum(text, "signalbox_kafka_events_duplicate_total", topic_label_);
    counts.rejected = metric_sum(text, "signalbox_kafka_messages_rejected_total", topic_label_);
    return counts;
  }
  std::uint64_t polls() const { return polls_; }

 private:
  asio::io_context io_;
  KeptConnection connection_;
  std::string request_, topic_label_;
  std::uint64_t polls_ = 0;
};

// The load beside a Kafka freshness run: the events of a file from line `skip` on, produced
// keyed by user from a producer of their own at `rate` events/s (every millisecond, the
// events whose turn has come), until stop(), or the file's end when not restamped.
class KafkaLoad {
 public:
  KafkaLoad(MockKafka& kafka, const std::string& topic, const std::string& path, std::size_t skip,
            double rate, std::int64_t restamp_from)
      : text_(read_whole(path)),
        events_(lines_of(text_, skip, std::numeric_limits<std::size_t>::max())),
        topic_(topic),
        rate_(rate),
        restamp_from_(restamp_from) {
    if (events_.empty()) fail("--load-events holds no events past --load-skip");
    // Batched as a producer of that volume is (20 ms, as kafka-ingest's): at 5 ms the producer
    // and the mock broker took twice the CPU (~65 % of a core at 50 000 events/s, against
    // ~32 %), taken from the serve it loads on the same cores. The samples' own producer
    // lingers 0 ms: their latency is what is measured.
    producer_ =
        kafka.start_producer({{"linger.ms", "20"}, {"queue.buffering.max.messages", "1000000"}});
  }
  ~KafkaLoad() { stop(); }

  void start() {
    thread_ = std::thread([this] { produce(); });
  }
  // Whether every event of the file was produced (the load ended by itself).
  bool ran_out() const { return ran_out_.load(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Restamped, the load starts again from its first event when it reaches the end, each
  // event id then marked with the pass (`~1`, `~2`, ...): new events at the stream's head, so
  // the load lasts as long as the samples whatever their number.
  void produce() {
    const Clock::time_point start = Clock::now();
    const std::size_t total =
        restamp_from_ != 0 ? std::numeric_limits<std::size_t>::max() : events_.size();
    std::size_t next = 0;
    while (!stop_ && next < total) {
      const Clock::duration elapsed = Clock::now() - start;
      const double due = std::chrono::duration<double>(elapsed).count() * rate_;
      const std::int64_t ts = restamp_ts(restamp_from_, elapsed);
      for (; next < total && static_cast<double>(next) < due; ++next) {
        std::string_view event = events_[next % events_.size()];
        std::string stamped;
        if (restamp_from_ != 0) {
          stamped = restamped(event, ts);
          if (const std::size_t pass = next / events_.size(); pass > 0)
            stamped = with_id_pass(stamped, pass);
          event = stamped;
        }
        const std::string key = std::to_string(json_count(event, "user_id"));
        // Copied when restamped (the copy is gone before the producer sends it).
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer_, RD_KAFKA_V_TOPIC(topic_.c_str()),
            RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(event.data()), event.size()),
            RD_KAFKA_V_MSGFLAGS(stamped.empty() ? 0 : RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err) fail(fmt::format("kafka: produce (load): {}", rd_kafka_err2str(err)));
      }
      rd_kafka_poll(producer_, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (next == total) ran_out_ = true;
  }

  // `event` with `~pass` appended to its event_id, if it has one (one without gets an id
  // from a hash of its fields, which restamping changed already).
  static std::string with_id_pass(const std::string& event, std::size_t pass) {
    static constexpr std::string_view kKey = "\"event_id\":\"";
    const std::size_t at = event.find(kKey);
    if (at == std::string::npos) return event;
    const std::size_t end = event.find('"', at + kKey.size());
    if (end == std::string::npos) return event;
    const std::string mark = fmt::format("~{}", pass);
    std::string out;
    out.reserve(event.size() + mark.size());
    out.append(event, 0, end).append(mark).append(event, end, std::string::npos);
    return out;
  }

  std::string text_;  // the messages view into it: not copied by the producer
  std::vector<std::string_view> events_;
  std::string topic_;
  double rate_;
  std::int64_t restamp_from_;       // nonzero: events restamped as http_load ingest --restamp does
  rd_kafka_t* producer_ = nullptr;  // owned by the MockKafka
  std::thread thread_;
  std::atomic<bool> stop_{false}, ran_out_{false};
};

int run_kafka_freshness(const Args& args) {
  const auto samples = static_cast<std::size_t>(std::max(1.0, args.number("--samples", 1000)));
  const auto user_base = static_cast<std::uint64_t>(args.number("--user-base", 910'000'000'000));
  const std::string topic = args.get("--topic", "signalbox-bench");
  const std::string brokers_file = args.required("--brokers-file");
  const std::string done_file = args.required("--done-file");
  const std::string load_file = args.get("--load-events", "");
  const double load_rate = args.number("--load-rate", 0);
  if (!load_file.empty() && load_rate <= 0) fail("--load-events needs a --load-rate above 0");
  // With a load, partitions enough for the mock broker, which keeps at most 5 MiB of each.
  MockKafka kafka(topic, load_file.empty() ? 1 : 16);
  // Send each event at once: freshness, not throughput.
  rd_kafka_t* producer = kafka.start_producer({{"linger.ms", "0"}});
  std::optional<KafkaLoad> load;
  if (!load_file.empty())
    load.emplace(kafka, topic, load_file, static_cast<std::size_t>(args.number("--load-skip", 0)),
                 load_rate, static_cast<std::int64_t>(args.number("--load-restamp", 0)));
  const std::string& bootstraps = kafka.bootstraps();

  write_file_atomically(brokers_file, bootstraps + "\n");
  for (int i = 0; !serve_answers(args); ++i) {
    if (i > 1200) fail("signalbox serve did not answer in 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto send = [&](std::uint64_t, std::size_t, const std::string& event) {
    rd_kafka_resp_err_t err =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(event.data()), event.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) fail(fmt::format("kafka: produce: {}", rd_kafka_err2str(err)));
    rd_kafka_poll(producer, 0);
  };
  auto finish = [&] { rd_kafka_poll(producer, 0); };
  // The first event waits for the consumer group's first assignment (seconds): not counted.
  // Kafka: a read every millisecond (a sample takes tens of them; at most 1 ms of error).
  constexpr std::chrono::microseconds kPollGap(1000);
  measure_freshness(args, 1, user_base + samples, send, finish, kPollGap, Unseen::kWarmUpWaits);
  std::vector<std::pair<std::string, double>> load_keys;
  MetricsPoller poller(args, topic);
  std::optional<KafkaCounts> before;
  if (load) {
    load->start();
    // Sampled once serve runs at the load's rate: it starts idle, on a store it just created,
    // and its first second of load is a cold start (batches of a few thousand events, each
    // several times slower than later), whose backlog takes it another second or two to
    // absorb (docs/performance.md, "Kafka freshness").
    std::this_thread::sleep_for(std::chrono::seconds(3));
    before = poller.poll();
    if (!before) fail("serve did not answer GET /metrics");
  }
  FreshnessResult r =
      measure_freshness(args, samples, user_base, send, finish, kPollGap, Unseen::kEndsTheSampling);
  if (load) {
    // What serve consumed while the samples were taken, and whether the load still ran.
    const std::optional<KafkaCounts> after = poller.poll();
    if (!after) fail("serve did not answer GET /metrics");
    load_keys = {{"load_offered_events_per_s", load_rate},
                 {"load_events_per_s",
                  (after->accepted + after->rejected - before->accepted - before->rejected) /
                      std::chrono::duration<double>(after->at - before->at).count()},
                 {"load_duplicates", after->duplicates - before->duplicates},
                 {"under_load", load->ran_out() ? 0.0 : 1.0}};
    load->stop();
  }
  report_freshness(args, "freshness_kafka", r, samples, load_keys);
  write_file_atomically(done_file, "done\n");
  MockKafka::wait_for_serve_to_stop(args);
  return 0;
}

// Delivery reports of the producer: how many messages the mock cluster refused.
void count_delivery_failure(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err) ++*static_cast<std::uint64_t*>(opaque);
}

// Ingest throughput from Kafka: the first --limit events of --events are produced to a topic of
// a mock cluster before serve exists, then serve consumes them from a backlog, as after an
// outage or when a consumer group is added; what is measured is serve taking them, not
// producing them.
int run_kafka_ingest(const Args& args) {
  const std::string text = read_whole(args.required("--events"));
  const auto limit = static_cast<std::size_t>(args.number("--limit", 1e18));
  const std::string topic = args.get("--topic", "signalbox-bench");
  const std::string brokers_file = args.required("--brokers-file");
  const std::string done_file = args.required("--done-file");
  const std::vector<std::string_view> events = lines_of(text, 0, limit);  // one message each
  std::size_t bytes = 0;
  for (std::string_view event : events) bytes += event.size();
  if (events.empty()) fail("--events holds no events");
  // The topic is keyed by user_id, as docs/kafka.md asks of producers. serve runs one consumer
  // per kafka entry, on one thread, which takes every partition, so the partition count adds
  // no parallelism to serve; it is what the mock broker needs: it keeps at most 5 MiB of each
  // partition and drops the oldest messages beyond that. One partition per MiB of events (at
  // least 16) leaves room for skew: a heavy user's partition holds more. That nothing was
  // dropped is checked below.
  const auto partitions = static_cast<int>(
      args.number("--partitions",
                  std::max<double>(16, std::ceil(static_cast<double>(bytes) / (1024.0 * 1024.0)))));
  if (partitions < 1) fail("--partitions must be at least 1");

  MockKafka kafka(topic, partitions);
  std::uint64_t refused = 0;
  // Produced before serve starts: batches as full as they come.
  rd_kafka_t* producer =
      kafka.start_producer({{"linger.ms", "20"}, {"queue.buffering.max.messages", "1000000"}},
                           [&](rd_kafka_conf_t* conf) {
                             rd_kafka_conf_set_dr_msg_cb(conf, count_delivery_failure);
                             rd_kafka_conf_set_opaque(conf, &refused);
                           });
  const std::string& bootstraps = kafka.bootstraps();

  const auto produce_start = Clock::now();
  for (std::string_view event : events) {
    const std::string key = std::to_string(json_count(event, "user_id"));
    for (;;) {
      // Not copied: `text` outlives the producer.
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(event.data()), event.size()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer, 100);
        continue;
      }
      if (err) fail(fmt::format("kafka: produce: {}", rd_kafka_err2str(err)));
      break;
    }
    rd_kafka_poll(producer, 0);
  }
  if (rd_kafka_flush(producer, 300'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    fail("kafka: the mock cluster did not acknowledge every event in 300 s");
  if (refused) fail(fmt::format("kafka: the mock cluster refused {} events", refused));
  std::int64_t stored = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(producer, topic.c_str(), p, &low, &high, 10'000);
    if (err) fail(fmt::format("kafka: watermarks of partition {}: {}", p, rd_kafka_err2str(err)));
    if (low != 0)
      fail(fmt::format(
          "kafka: the mock broker dropped the oldest {} messages of partition {} (it keeps 5 MiB "
          "a partition): give more --partitions",
          low, p));
    stored += high;
  }
  if (stored != static_cast<std::int64_t>(events.size()))
    fail(fmt::format("kafka: the topic holds {} messages, not {}", stored, events.size()));
  const double produce_seconds =
      std::chrono::duration<double>(Clock::now() - produce_start).count();
  fmt::print("kafka-ingest: {} events ({} MiB) produced to {} partitions in {:.1f} s\n",
             events.size(), bytes >> 20, partitions, produce_seconds);
  std::fflush(stdout);

  // Ready: bench/run.sh starts serve only now, so nothing of the above is measured.
  write_file_atomically(brokers_file, bootstraps + "\n");
  MetricsPoller poller(args, topic);
  std::optional<KafkaCounts> counts;
  for (int i = 0; !(counts = poller.poll()); ++i) {
    if (i > 12'000) fail("signalbox serve did not answer GET /metrics in 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Clock::time_point serve_answered = counts->at;
  // The span starts when serve starts consuming, after it joined the group and was assigned
  // the partitions (seconds of the mock's group coordinator, not throughput): at the sending
  // of the last answer that showed no message consumed. Consumption began after that, so the
  // span can only be too long, never too short: polled every millisecond until then (serve is
  // idle meanwhile, so the polls cost the measurement nothing), by about a millisecond and
  // one /metrics answer.
  // (Were the first answer to show messages consumed already, the span would start at its
  // sending, and events_at_start says how many.)
  KafkaCounts idle = *counts;
  while (counts->messages == 0) {
    idle = *counts;
    if (Clock::now() - serve_answered > std::chrono::seconds(120))
      fail("serve consumed nothing in 120 s (serve log: see bench/run.sh)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (auto c = poller.poll()) counts = c;
  }
  const KafkaCounts start = *counts;
  const Clock::time_point started = idle.asked;
  // The span ends when the first answer showing every event accepted or rejected came: too
  // late, never too early, by up to the gap between polls and one answer. A /metrics answer
  // costs serve about half a millisecond of a core, taken from the consuming it measures on
  // these two cores, so polls are sparse while the end is far: a quarter of the time left at
  // the rate so far, at most 50 ms, at least 2 ms, so that near the end they come every 2 ms.
  const double n = static_cast<double>(events.size());
  KafkaCounts last = start;
  Clock::time_point progressed = start.at;
  while (counts->accepted + counts->rejected < n) {
    const double done = counts->accepted + counts->rejected - start.accepted - start.rejected;
    const double elapsed = std::chrono::duration<double>(counts->at - started).count();
    const double left_s =
        done > 0 ? (n - counts->accepted - counts->rejected) * elapsed / done : 0.0;
    std::this_thread::sleep_for(std::chrono::microseconds(std::clamp(
        static_cast<std::int64_t>(left_s / 4 * 1e6), std::int64_t{2000}, std::int64_t{50000})));
    auto c = poller.poll();
    if (!c) fail("signalbox serve stopped answering GET /metrics");
    counts = c;
    if (counts->accepted + counts->rejected > last.accepted + last.rejected) {
      last = *counts;
      progressed = counts->at;
    } else if (counts->at - progressed > std::chrono::seconds(60)) {
      fail(fmt::format("serve took {} of {} events, then nothing for 60 s",
                       counts->accepted + counts->rejected, n));
    }
  }
  const double seconds = std::chrono::duration<double>(counts->at - started).count();

  Report report(args.get("--label", "ingest_kafka"), args.get("--metrics"));
  report.add("events", n);
  report.add("accepted", counts->accepted);
  report.add("rejected", counts->rejected);
  report.add("duplicates", counts->duplicates);
  report.add("seconds", seconds);
  report.add("events_per_s", n / seconds);
  report.add("partitions", partitions);
  report.add("events_at_start", start.messages);
  report.add("join_seconds", std::chrono::duration<double>(started - serve_answered).count());
  report.add("produce_seconds", produce_seconds);
  report.add("polls", static_cast<double>(poller.polls()));
  report.finish();
  write_file_atomically(done_file, "done\n");
  MockKafka::wait_for_serve_to_stop(args);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    fmt::print("{}", kUsage);
    return argc < 2 ? 2 : 0;
  }
  std::string mode = argv[1];
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (!flag.starts_with("--")) fail(fmt::format("unexpected argument \"{}\"", flag));
    if (i + 1 >= argc) fail(flag + " needs a value");
    args.values[flag] = argv[++i];
  }
  try {
    if (mode == "query") return run_query(args);
    if (mode == "ingest") return run_ingest(args);
    if (mode == "freshness") return run_freshness(args);
    if (mode == "kafka-freshness") return run_kafka_freshness(args);
    if (mode == "kafka-ingest") return run_kafka_ingest(args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "http_load: {}\n", e.what());
    return 1;
  }
  fail(fmt::format(
      "unknown mode \"{}\" (query, ingest, freshness, kafka-freshness or kafka-ingest)", mode));
}
