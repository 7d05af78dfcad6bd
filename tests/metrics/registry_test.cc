#include "signalbox/metrics/registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "signalbox/metrics/collect_function.h"
#include "signalbox/metrics/ingest_metrics.h"
#include "signalbox/metrics/lazy_counter.h"
#include "signalbox/metrics/scrape_family.h"

namespace signalbox::testing {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsRegistry, WritesLabelsInTheOrderTheFamilyDeclaredThem) {
  MetricsRegistry registry;
  auto& requests = registry.counters("x_requests_total", "Requests.", {"route", "code"});
  requests.Add({{"route", "/a"}, {"code", "200"}}).Increment(3);
  std::string text = registry.expose();
  EXPECT_TRUE(has(text, "# HELP x_requests_total Requests.")) << text;
  EXPECT_TRUE(has(text, "# TYPE x_requests_total counter")) << text;
  EXPECT_TRUE(has(text, R"(x_requests_total{route="/a",code="200"} 3)")) << text;
}

TEST(MetricsRegistry, OneNameIsOneFamilyAndOtherLabelNamesAreRefused) {
  MetricsRegistry registry;
  auto& a = registry.counters("x_total", "X.", {"topic"});
  auto& b = registry.counters("x_total", "X.", {"topic"});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(registry.counters("x_total", "X.", {"partition"}), std::invalid_argument);
}

TEST(MetricsRegistry, LeavesEmptyFamiliesOutAndMergesCollectablesOfOneName) {
  MetricsRegistry registry;
  registry.gauges("x_empty", "Nothing yet.", {"a"});
  auto lag = [](std::string topic) {
    return CollectFunction([topic] {
      return std::vector<prometheus::MetricFamily>{
          ScrapeFamily("x_lag", "Lag.", prometheus::MetricType::Gauge)
              .add(1, {{"topic", topic}})
              .take()};
    });
  };
  CollectFunction first = lag("a"), second = lag("b");
  registry.add_collectable(first);
  registry.add_collectable(second);
  std::string text = registry.expose();
  EXPECT_EQ(text.find("x_empty"), std::string::npos) << text;
  EXPECT_EQ(text.find("# TYPE x_lag gauge"), text.rfind("# TYPE x_lag gauge")) << text;
  EXPECT_TRUE(has(text, R"(x_lag{topic="a"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(x_lag{topic="b"} 1)")) << text;
  registry.remove_collectable(second);
  text = registry.expose();
  EXPECT_EQ(text.find(R"(x_lag{topic="b"})"), std::string::npos) << text;
  registry.remove_collectable(first);
}

TEST(MetricsRegistry, HistogramsKeepTheirBucketsAndEscapeLabelValues) {
  MetricsRegistry registry;
  DurationHistogram& h =
      registry.histograms("x_seconds", "Durations.", {"route"}).series({"say \"hi\""});
  h.observe(std::chrono::microseconds(70));
  h.observe(std::chrono::seconds(20));
  std::string text = registry.expose();
  EXPECT_TRUE(has(text, "# TYPE x_seconds histogram")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_bucket{route="say \"hi\"",le="5e-05"} 0)")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_bucket{route="say \"hi\"",le="0.0001"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_bucket{route="say \"hi\"",le="10"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_bucket{route="say \"hi\"",le="+Inf"} 2)")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_count{route="say \"hi\""} 2)")) << text;
  EXPECT_TRUE(has(text, R"(x_seconds_sum{route="say \"hi\""} 20.00007)")) << text;
}

TEST(LazyCounter, ExposesItsSeriesOnlyOnceCountedAndCountsFromEveryThread) {
  MetricsRegistry registry;
  auto& family = registry.counters("x_calls_total", "Calls.", {"code"});
  LazyCounter never(family, {{"code", "500"}});
  LazyCounter often(family, {{"code", "200"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) often.increment();
    });
  for (std::thread& t : threads) t.join();
  std::string text = registry.expose();
  EXPECT_TRUE(has(text, R"(x_calls_total{code="200"} 4000)")) << text;
  EXPECT_EQ(text.find(R"(code="500")"), std::string::npos) << text;
}

TEST(IngestMetrics, HttpIsListedFromTheStartOtherSourcesOnceTheyIngested) {
  MetricsRegistry registry;
  std::string text = registry.expose();
  EXPECT_TRUE(has(text, R"(signalbox_events_total{source="http",outcome="accepted"} 0)")) << text;
  EXPECT_EQ(text.find(R"(source="kafka")"), std::string::npos) << text;

  registry.ingest().count(IngestSource::kKafka, 0, 0, {});
  EXPECT_EQ(registry.expose().find(R"(source="kafka")"), std::string::npos);

  registry.ingest().count(IngestSource::kKafka, 5, 2,
                          {RejectedEvent{0, RejectReason::kLate, "ts: too late"},
                           RejectedEvent{1, RejectReason::kUserId, "user_id: required"}});
  registry.ingest().observe_freshness(IngestSource::kKafka, std::chrono::milliseconds(3));
  text = registry.expose();
  EXPECT_TRUE(has(text, R"(signalbox_events_total{source="kafka",outcome="accepted"} 3)")) << text;
  EXPECT_TRUE(has(text, R"(signalbox_events_total{source="kafka",outcome="duplicate"} 2)")) << text;
  EXPECT_TRUE(has(text, R"(signalbox_events_total{source="kafka",outcome="rejected"} 2)")) << text;
  EXPECT_TRUE(
      has(text, R"(signalbox_events_rejected_by_reason_total{source="kafka",reason="late"} 1)"))
      << text;
  EXPECT_TRUE(
      has(text, R"(signalbox_events_rejected_by_reason_total{source="kafka",reason="user_id"} 1)"))
      << text;
  EXPECT_TRUE(has(text, R"(signalbox_ingest_freshness_seconds_count{source="kafka"} 1)")) << text;
}

}  // namespace
}  // namespace signalbox::testing
