#include "signalbox/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "signalbox/metrics/scrape_family.h"

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

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto gauge = [&](std::string name, std::string help, double value) {
    out.push_back(
        ScrapeFamily(std::move(name), std::move(help), MetricType::Gauge).add(value).take());
  };
  const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  unsigned long size_pages = 0, resident_pages = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%lu %lu", &size_pages, &resident_pages) != 2)
      size_pages = resident_pages = 0;
    std::fclose(statm);
  }
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
        static_cast<double>(resident_pages) * page_bytes);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
        static_cast<double>(size_pages) * page_bytes);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  out.push_back(ScrapeFamily("process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.",
                             MetricType::Counter)
                    .add(seconds(usage.ru_utime) + seconds(usage.ru_stime))
                    .take());

  // Field 22 of /proc/self/stat: start time in clock ticks after boot.
  std::vector<std::string> stat = proc_stat_fields();
  double start_seconds = 0;
  if (stat.size() > 19) {
    start_seconds =
        boot_time_seconds() + std::stod(stat[19]) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        start_seconds);

  std::uint64_t open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir))
      if (entry->d_name[0] != '.') ++open_fds;
    closedir(dir);
    --open_fds;  // the directory stream's own descriptor
  }
  gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(open_fds));
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  gauge("process_max_fds", "Maximum number of open file descriptors.",
        limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur));

#if defined(__clang__)
  std::string compiler = fmt::format("clang {}", __clang_version__);
#elif defined(__GNUC__)
  std::string compiler = fmt::format("gcc {}", __VERSION__);
#else
  std::string compiler = "unknown";
#endif
  out.push_back(ScrapeFamily("signalbox_build_info",
                             "Always 1; the labels name the signalbox release and the compiler "
                             "that built it.",
                             MetricType::Gauge)
                    .add(1, {{"version", SIGNALBOX_VERSION}, {"compiler", compiler}})
                    .take());
  return out;
}

}  // namespace signalbox
