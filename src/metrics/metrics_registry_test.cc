#include "metrics/metrics_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace cairn::metrics {
namespace {

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsRegistryTest, RendersProcessGauges) {
  ManualClock clock(1'700'000'000'500);
  MetricsRegistry registry(clock);
  std::string text = registry.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "# TYPE cairn_up gauge\ncairn_up 1\n")) << text;
  EXPECT_TRUE(Contains(text, "cairn_start_time_seconds 1700000000.5\n")) << text;
}

TEST(MetricsRegistryTest, CountersWithLabelsRenderSortedAndEscaped) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  Counter& a = registry.GetCounter("jobs_total", "Jobs run.", {{"queue", "fast"}, {"kind", "a"}});
  Counter& same =
      registry.GetCounter("jobs_total", "Jobs run.", {{"kind", "a"}, {"queue", "fast"}});
  EXPECT_EQ(&a, &same);
  a.Increment();
  same.Increment(2);
  registry.GetCounter("jobs_total", "Jobs run.", {{"kind", "q\"uo\\te\nx"}, {"queue", "s"}})
      .Increment();
  registry.GetCounter("plain_total", "Help with \\ and\nnewline.").Increment(0.5);
  std::string text = registry.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\n")) << text;
  EXPECT_TRUE(Contains(text, "jobs_total{kind=\"a\",queue=\"fast\"} 3\n")) << text;
  EXPECT_TRUE(Contains(text, "jobs_total{kind=\"q\\\"uo\\\\te\\nx\",queue=\"s\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "# HELP plain_total Help with \\\\ and\\nnewline.\n")) << text;
  EXPECT_TRUE(Contains(text, "plain_total 0.5\n")) << text;
}

TEST(MetricsRegistryTest, GaugesGoBothWays) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  Gauge& gauge = registry.GetGauge("queue_depth", "Items waiting.");
  gauge.Set(10);
  gauge.Add(-3);
  EXPECT_EQ(gauge.Value(), 7);
  EXPECT_TRUE(Contains(registry.RenderPrometheus(), "queue_depth 7\n"));
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulative) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  const double bounds[] = {0.1, 1, 10};
  Histogram& histogram = registry.GetHistogram("op_seconds", "Op time.", {{"op", "x"}}, bounds);
  histogram.Observe(0.05);
  histogram.Observe(0.1);  // on the bound: counts in le="0.1"
  histogram.Observe(5);
  histogram.Observe(50);
  std::string text = registry.RenderPrometheus();
  EXPECT_TRUE(Contains(text, "# TYPE op_seconds histogram\n")) << text;
  EXPECT_TRUE(Contains(text,
                       "op_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
                       "op_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
                       "op_seconds_bucket{op=\"x\",le=\"10\"} 3\n"
                       "op_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
                       "op_seconds_sum{op=\"x\"} 55.15\n"
                       "op_seconds_count{op=\"x\"} 4\n"))
      << text;
}

TEST(MetricsRegistryTest, DefaultBucketsSpanTenthOfMillisecondToTenSeconds) {
  auto buckets = MetricsRegistry::DefaultLatencyBuckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_EQ(buckets.front(), 0.0001);
  EXPECT_EQ(buckets.back(), 10);
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreNotLost) {
  ManualClock clock(0);
  MetricsRegistry registry(clock);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, t] {
      for (int i = 0; i < 10000; ++i) {
        registry.GetCounter("hits_total", "Hits.", {{"shard", std::to_string(i % 2)}}).Increment();
        registry.GetHistogram("lat_seconds", "Latency.").Observe(0.001 * t);
      }
    });
  }
  std::thread reader([&registry] {
    for (int i = 0; i < 50; ++i) registry.RenderPrometheus();
  });
  for (auto& thread : threads) thread.join();
  reader.join();
  EXPECT_EQ(registry.GetCounter("hits_total", "Hits.", {{"shard", "0"}}).Value(), 20000);
  EXPECT_EQ(registry.GetCounter("hits_total", "Hits.", {{"shard", "1"}}).Value(), 20000);
  EXPECT_TRUE(Contains(registry.RenderPrometheus(), "lat_seconds_count 40000\n"));
}

TEST(MetricsRegistryDeathTest, TypeClashAndBadNamesAbort) {
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.GetCounter("x_total", "x");
        registry.GetGauge("x_total", "x");
      },
      "different types");
  EXPECT_DEATH({ MetricsRegistry().GetCounter("1bad", "x"); }, "invalid metric name");
  EXPECT_DEATH({ MetricsRegistry().GetCounter("ok", "x", {{"le", "1"}}); }, "invalid label");
}

}  // namespace
}  // namespace cairn::metrics
