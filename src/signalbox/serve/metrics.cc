#include "signalbox/serve/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "signalbox/common/logging.h"

namespace signalbox {

namespace {

constexpr std::array<std::string_view, kRouteCount> kRouteLabels = {"/v1/events",
                                                                    "/v1/users/{user_id}/signals",
                                                                    "/v1/signals:batchGet",
                                                                    "/v1/signals",
                                                                    "/healthz",
                                                                    "/readyz",
                                                                    "/metrics",
                                                                    "/v1/users",
                                                                    "/v1/users/{user_id}/explain",
                                                                    "/v1/users/{user_id}/reach",
                                                                    "/",
                                                                    "unmatched"};

std::size_t index_of(Route route) {
  return static_cast<std::size_t>(route);
}

void append_help(std::string& out, std::string_view name, std::string_view type,
                 std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

constexpr std::array<std::string_view, kIngestSourceCount> kSourceLabels = {"http", "replay",
                                                                           "kafka", "grpc"};
}  // namespace

std::string_view ingest_source_label(IngestSource source) {
  return kSourceLabels[static_cast<std::size_t>(source)];
}

std::string_view route_label(Route route) {
  return kRouteLabels[index_of(route)];
}

void DurationHistogram::observe(std::chrono::nanoseconds duration) {
  double seconds = std::chrono::duration<double>(duration).count();
  std::size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(duration.count()),
                             std::memory_order_relaxed);
}

void DurationHistogram::append_samples(std::string& out, std::string_view name,
                                       std::string_view labels) const {
  auto inserter = std::back_inserter(out);
  std::string_view comma = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(inserter, "{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, comma, kBounds[i],
                   cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(inserter, "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, comma, cumulative);
  std::string braces = labels.empty() ? "" : fmt::format("{{{}}}", labels);
  fmt::format_to(inserter, "{}_sum{} {}\n", name, braces,
                 static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9);
  fmt::format_to(inserter, "{}_count{} {}\n", name, braces, cumulative);
}

void ServeMetrics::count_request(Route route, unsigned status) {
  std::size_t code = kOtherStatus;
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status) code = i;
  requests_[index_of(route)][code].fetch_add(1, std::memory_order_relaxed);
}

void ServeMetrics::observe_query(Route route, std::chrono::nanoseconds duration) {
  query_durations_[index_of(route)].observe(duration);
}

void ServeMetrics::observe_ingest(std::chrono::nanoseconds duration) {
  ingest_duration_.observe(duration);
}

void ServeMetrics::count_ingest(IngestSource source, std::size_t accepted, std::size_t duplicates,
                                const std::vector<RejectedEvent>& rejected) {
  auto& events = events_[static_cast<std::size_t>(source)];
  events[0].fetch_add(accepted - duplicates, std::memory_order_relaxed);
  events[1].fetch_add(duplicates, std::memory_order_relaxed);
  events[2].fetch_add(rejected.size(), std::memory_order_relaxed);
  auto& reasons = rejections_[static_cast<std::size_t>(source)];
  for (const RejectedEvent& r : rejected)
    reasons[reject_reason_index(r.reason)].fetch_add(1, std::memory_order_relaxed);
}

void ServeMetrics::observe_freshness(IngestSource source, std::chrono::nanoseconds duration) {
  freshness_[static_cast<std::size_t>(source)].observe(duration);
}

void ServeMetrics::append_prometheus(std::string& out) const {
  auto inserter = std::back_inserter(out);
  // HTTP is always listed, other sources once they have ingested something, so that a
  // dashboard finds the HTTP series from the first scrape on.
  auto source_listed = [&](std::size_t s) {
    if (s == static_cast<std::size_t>(IngestSource::kHttp)) return true;
    for (const auto& n : events_[s])
      if (n.load(std::memory_order_relaxed) > 0) return true;
    return false;
  };
  append_help(out, "signalbox_events_total", "counter",
              "Events received, by source and outcome: accepted (new), duplicate (already "
              "stored, changed nothing) or rejected.");
  constexpr std::array<std::string_view, 3> kOutcomes = {"accepted", "duplicate", "rejected"};
  for (std::size_t s = 0; s < kIngestSourceCount; ++s) {
    if (!source_listed(s)) continue;
    for (std::size_t o = 0; o < kOutcomes.size(); ++o) {
      fmt::format_to(inserter, "signalbox_events_total{{source=\"{}\",outcome=\"{}\"}} {}\n",
                     kSourceLabels[s], kOutcomes[o],
                     events_[s][o].load(std::memory_order_relaxed));
    }
  }
  append_help(out, "signalbox_events_rejected_by_reason_total", "counter",
              "Rejected events, by source and reason: the field at fault, late, future, "
              "unknown_field or other.");
  for (std::size_t s = 0; s < kIngestSourceCount; ++s) {
    if (!source_listed(s)) continue;
    for (RejectReason reason : kRejectReasons) {
      fmt::format_to(inserter,
                     "signalbox_events_rejected_by_reason_total{{source=\"{}\",reason=\"{}\"}} {}\n",
                     kSourceLabels[s], reject_reason_label(reason),
                     rejections_[s][reject_reason_index(reason)].load(std::memory_order_relaxed));
    }
  }
  append_help(out, "signalbox_ingest_freshness_seconds", "histogram",
              "Time from receiving an ingest request to its events being visible to queries.");
  for (std::size_t s = 0; s < kIngestSourceCount; ++s) {
    if (!source_listed(s)) continue;
    freshness_[s].append_samples(out, "signalbox_ingest_freshness_seconds",
                                 fmt::format("source=\"{}\"", kSourceLabels[s]));
  }
  append_help(out, "signalbox_http_requests_total", "counter",
              "HTTP requests answered, by route and status code.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t c = 0; c <= kStatuses.size(); ++c) {
      std::uint64_t n = requests_[r][c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::string code = c == kOtherStatus ? "other" : std::to_string(kStatuses[c]);
      fmt::format_to(inserter, "signalbox_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                     kRouteLabels[r], code, n);
    }
  }
  append_help(out, "signalbox_query_duration_seconds", "histogram",
              "Time to answer one signals query request, by route (a batchGet is one request).");
  for (Route route : {Route::kUserSignals, Route::kBatchGet}) {
    query_durations_[index_of(route)].append_samples(
        out, "signalbox_query_duration_seconds", fmt::format("route=\"{}\"", route_label(route)));
  }
  append_help(out, "signalbox_ingest_duration_seconds", "histogram",
              "Time to decode and commit one POST /v1/events body.");
  ingest_duration_.append_samples(out, "signalbox_ingest_duration_seconds", "");
  append_help(out, "signalbox_http_connections", "gauge", "Open HTTP connections.");
  fmt::format_to(inserter, "signalbox_http_connections {}\n",
                 connections_.load(std::memory_order_relaxed));
}

}  // namespace signalbox

namespace signalbox {

namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces), numbered as
// in proc(5): the first one returned is field 3 (state).
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields;
  std::size_t close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

// Seconds since the epoch at which the machine booted (btime of /proc/stat), or 0.
double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double btime = 0;
      in >> btime;
      return btime;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

}  // namespace

void append_process_metrics(std::string& out) {
  auto inserter = std::back_inserter(out);
  const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::uint64_t size_pages = 0, resident_pages = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%lu %lu", &size_pages, &resident_pages) != 2)
      size_pages = resident_pages = 0;
    std::fclose(statm);
  }
  append_help(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  fmt::format_to(inserter, "process_resident_memory_bytes {}\n",
                 static_cast<double>(resident_pages) * page_bytes);
  append_help(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  fmt::format_to(inserter, "process_virtual_memory_bytes {}\n",
                 static_cast<double>(size_pages) * page_bytes);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  append_help(out, "process_cpu_seconds_total", "counter",
              "Total user and system CPU time spent in seconds.");
  fmt::format_to(inserter, "process_cpu_seconds_total {}\n",
                 seconds(usage.ru_utime) + seconds(usage.ru_stime));

  // Field 22 of /proc/self/stat: start time in clock ticks after boot.
  std::vector<std::string> stat = proc_stat_fields();
  double start_seconds = 0;
  if (stat.size() > 19) {
    start_seconds = boot_time_seconds() +
                    std::stod(stat[19]) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  append_help(out, "process_start_time_seconds", "gauge",
              "Start time of the process since unix epoch in seconds.");
  fmt::format_to(inserter, "process_start_time_seconds {:.2f}\n", start_seconds);

  std::uint64_t open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir))
      if (entry->d_name[0] != '.') ++open_fds;
    closedir(dir);
    --open_fds;  // the directory stream's own descriptor
  }
  append_help(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  fmt::format_to(inserter, "process_open_fds {}\n", open_fds);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  append_help(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
  fmt::format_to(inserter, "process_max_fds {}\n",
                 limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur));

  append_help(out, "signalbox_build_info", "gauge",
              "Always 1; the labels name the signalbox release and the compiler that built it.");
#if defined(__clang__)
  std::string compiler = fmt::format("clang {}", __clang_version__);
#elif defined(__GNUC__)
  std::string compiler = fmt::format("gcc {}", __VERSION__);
#else
  std::string compiler = "unknown";
#endif
  fmt::format_to(inserter, "signalbox_build_info{{version=\"{}\",compiler=\"{}\"}} 1\n",
                 SIGNALBOX_VERSION, compiler);
}

void RejectLog::note(IngestSource source, std::size_t events, const std::vector<RejectedEvent>& rejected) {
  if (rejected.empty()) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  pending_rejected_ += rejected.size();
  pending_events_ += events;
  ++pending_batches_;
  for (const RejectedEvent& r : rejected) ++pending_reasons_[reject_reason_index(r.reason)];
  if (first_message_.empty()) first_message_ = rejected.front().message;
  if (logged_any_ && now - last_line_ < interval_) return;
  std::string reasons;
  for (RejectReason reason : kRejectReasons) {
    std::uint64_t n = pending_reasons_[reject_reason_index(reason)];
    if (n == 0) continue;
    fmt::format_to(std::back_inserter(reasons), "{}{}={}", reasons.empty() ? "" : ",",
                   reject_reason_label(reason), n);
  }
  // The example is the client's text: bounded so that one line stays one line of sane size.
  constexpr std::size_t kMaxExample = 300;
  if (first_message_.size() > kMaxExample) first_message_.resize(kMaxExample);
  log_event(spdlog::level::warn, "rejected events",
            {{"source", ingest_source_label(source)},
             {"rejected", pending_rejected_},
             {"events", pending_events_},
             {"batches", pending_batches_},
             {"reasons", reasons},
             {"example", first_message_}});
  logged_any_ = true;
  last_line_ = now;
  pending_rejected_ = pending_events_ = pending_batches_ = 0;
  pending_reasons_.fill(0);
  first_message_.clear();
}

}  // namespace signalbox
