#include "tracking/trace_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/civil_time.h"

namespace cairn::tracking {
namespace {

using metadata::TraceInfo;
using metadata::TraceState;

constexpr int64_t kDay = 86400000;
constexpr int64_t kBase = 1767225600000;  // 2026-01-01T00:00:00Z

TraceInfo Trace(std::string name, int64_t time_ms, std::optional<int64_t> latency_ms,
                TraceState state = TraceState::kOk, std::string usage = "") {
  TraceInfo t;
  t.trace_id = "tr-" + name + std::to_string(time_ms);
  t.experiment_id = "1";
  t.request_time_ms = time_ms;
  t.execution_duration_ms = latency_ms;
  t.state = state;
  t.tags = {{"mlflow.traceName", std::move(name)}};
  if (!usage.empty()) t.trace_metadata = {{"mlflow.trace.tokenUsage", std::move(usage)}};
  return t;
}

std::vector<TraceInfo> Sample() {
  return {
      Trace("chat", kBase + 3600000, 100, TraceState::kOk,
            R"({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})"),
      Trace("chat", kBase + 7200000, 200, TraceState::kOk,
            R"({"input_tokens": 20, "output_tokens": 10, "total_tokens": 30})"),
      Trace("chat", kBase + 10800000, 400, TraceState::kError),
      Trace("tool", kBase + kDay + 3600000, 1000, TraceState::kOk,
            R"({"input_tokens": 30, "output_tokens": 15, "total_tokens": 45})"),
      Trace("late", kBase + 5 * kDay, std::nullopt),
  };
}

TraceMetricsQuery Query(std::string metric, std::vector<MetricAggregation> aggs) {
  TraceMetricsQuery q;
  q.experiment_ids = {"1"};
  q.metric_name = std::move(metric);
  q.aggregations = std::move(aggs);
  return q;
}

MetricAggregation P(double p) { return {AggregationType::kPercentile, p}; }

TEST(TraceMetricsTest, PercentileInterpolatesLinearlyBetweenClosestRanks) {
  std::vector<double> v = {100, 200, 400, 1000};
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 300);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 820);
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 982);
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 100);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 1000);
  EXPECT_DOUBLE_EQ(Percentile({7}, 50), 7);
}

TEST(TraceMetricsTest, LabelsAndTimestampsFollowPythonFormatting) {
  EXPECT_EQ(AggregationLabel({AggregationType::kAvg, std::nullopt}), "AVG");
  EXPECT_EQ(AggregationLabel(P(50)), "P50.0");
  EXPECT_EQ(AggregationLabel(P(99.9)), "P99.9");
  EXPECT_EQ(AggregationLabel(P(0.00001)), "P1e-05");
  EXPECT_EQ(PythonIsoFormatUtc(kBase * 1000), "2026-01-01T00:00:00+00:00");
  EXPECT_EQ(PythonIsoFormatUtc((kBase + 1500) * 1000), "2026-01-01T00:00:01.500000+00:00");
  EXPECT_EQ(PythonIsoFormatUtc(-1000 * 1000), "1969-12-31T23:59:59+00:00");
}

TEST(TraceMetricsTest, CountsByBucketAndStatusInOrder) {
  TraceMetricsQuery q = Query("trace_count", {{AggregationType::kCount, std::nullopt}});
  q.dimensions = {"trace_status"};
  q.time_interval_seconds = 86400;
  q.start_time_ms = kBase;
  q.end_time_ms = kBase + 2 * kDay - 1;
  ASSERT_TRUE(ValidateTraceMetricsQuery(q).ok());
  auto points = ComputeTraceMetrics(q, Sample());
  ASSERT_TRUE(points.ok()) << points.status().message();
  std::string day0 = "2026-01-01T00:00:00+00:00", day1 = "2026-01-02T00:00:00+00:00";
  std::vector<MetricDataPoint> want = {
      {"trace_count", {{"time_bucket", day0}, {"trace_status", "ERROR"}}, {{"COUNT", 1}}},
      {"trace_count", {{"time_bucket", day0}, {"trace_status", "OK"}}, {{"COUNT", 2}}},
      {"trace_count", {{"time_bucket", day1}, {"trace_status", "OK"}}, {{"COUNT", 1}}},
  };
  EXPECT_EQ(*points, want);
  q.max_results = 2;
  EXPECT_EQ(ComputeTraceMetrics(q, Sample())->size(), 2u);
}

TEST(TraceMetricsTest, LatencyAndTokenAggregatesSkipMissingValues) {
  TraceMetricsQuery q = Query("latency", {{AggregationType::kAvg, std::nullopt}, P(50), P(90)});
  auto points = ComputeTraceMetrics(q, Sample());
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 1u);
  const auto& values = (*points)[0].values;
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], (std::pair<std::string, double>{"AVG", 425}));
  EXPECT_EQ(values[1].first, "P50.0");
  EXPECT_DOUBLE_EQ(values[1].second, 300);
  EXPECT_EQ(values[2].first, "P90.0");
  EXPECT_NEAR(values[2].second, 820, 1e-9);

  q = Query("input_tokens", {{AggregationType::kSum, std::nullopt},
                             {AggregationType::kMin, std::nullopt},
                             {AggregationType::kMax, std::nullopt}});
  q.dimensions = {"trace_name"};
  points = ComputeTraceMetrics(q, Sample());
  ASSERT_TRUE(points.ok());
  std::vector<MetricDataPoint> want = {
      {"input_tokens", {{"trace_name", "chat"}}, {{"SUM", 30}, {"MIN", 10}, {"MAX", 20}}},
      {"input_tokens", {{"trace_name", "tool"}}, {{"SUM", 30}, {"MIN", 30}, {"MAX", 30}}},
  };
  EXPECT_EQ(*points, want);
}

TEST(TraceMetricsTest, UngroupedQueriesAnswerOneRowOverNoTraces) {
  auto count = ComputeTraceMetrics(Query("trace_count", {{AggregationType::kCount, {}}}), {});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, (std::vector<MetricDataPoint>{{"trace_count", {}, {{"COUNT", 0}}}}));
  auto avg = ComputeTraceMetrics(Query("latency", {{AggregationType::kAvg, {}}}), {});
  ASSERT_TRUE(avg.ok());
  EXPECT_TRUE(avg->empty());
}

TEST(TraceMetricsTest, FiltersSelectByStatusAndTag) {
  TraceMetricsQuery q = Query("trace_count", {{AggregationType::kCount, {}}});
  q.filters = {"trace.status = 'ERROR'"};
  EXPECT_EQ((*ComputeTraceMetrics(q, Sample()))[0].values[0].second, 1);
  q.filters = {R"(trace.tag.mlflow.traceName = "chat")"};
  EXPECT_EQ((*ComputeTraceMetrics(q, Sample()))[0].values[0].second, 3);
  q.filters = {"span.name = 'x'"};
  EXPECT_EQ(ComputeTraceMetrics(q, Sample()).status().message(),
            "Filtering by span is only supported for SPANS view type, got TRACES");
}

TEST(TraceMetricsTest, FilterSyntaxErrorsUseTheReferenceWords) {
  EXPECT_EQ(ParseTraceMetricsFilter("foo = 'x'").status().message(),
            "Invalid identifier 'foo'. Columns should be specified as 'trace.<key>', "
            "'span.<key>', 'assessment.<key>'.");
  EXPECT_EQ(ParseTraceMetricsFilter("trace.status != 'OK'").status().message(),
            "Invalid comparator: '!=', only '=' operator is supported");
  EXPECT_EQ(ParseTraceMetricsFilter("trace.tag = 'v'").status().message(),
            "Filtering by tag requires a key, e.g. 'trace.tag.<key> = <value>'");
  EXPECT_EQ(ParseTraceMetricsFilter("trace.status = OK").status().message(),
            "Parameter value is either not quoted or unidentified quote types used for string "
            "value OK. Use either single or double quotes.");
  EXPECT_EQ(
      ParseTraceMetricsFilter("trace.status = 'OK' AND trace.status = 'OK'").status().message(),
      "Invalid clause(s) in filter string: AND");
  auto ok = ParseTraceMetricsFilter("trace.metadata.`k` = \"v\"");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->key, "k");
  EXPECT_EQ(ok->value, "v");
}

TEST(TraceMetricsTest, ValidationMatchesTheReference) {
  TraceMetricsQuery q = Query("nope", {{AggregationType::kCount, {}}});
  EXPECT_EQ(ValidateTraceMetricsQuery(q).message(),
            "metric_name must be one of ['trace_count', 'session_count', 'latency', "
            "'input_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', "
            "'cache_creation_input_tokens'], got 'nope'");
  q = Query("trace_count", {{AggregationType::kSum, {}}});
  EXPECT_EQ(ValidateTraceMetricsQuery(q).message(),
            "Found invalid aggregation_type(s): ['SUM']. Supported aggregation types: ['COUNT']");
  q = Query("trace_count", {{AggregationType::kCount, {}}});
  q.dimensions = {"span_name"};
  EXPECT_EQ(ValidateTraceMetricsQuery(q).message(),
            "Found invalid dimension(s): ['span_name']. Supported dimensions: ['trace_name', "
            "'trace_status']");
  q.dimensions = {};
  q.time_interval_seconds = 60;
  EXPECT_EQ(ValidateTraceMetricsQuery(q).message(),
            "start_time_ms and end_time_ms are required if time_interval_seconds is set");
  q = Query("latency", {P(101)});
  EXPECT_EQ(ValidateTraceMetricsQuery(q).message(),
            "Percentile value must be between 0 and 100, got 101.0");
  q = Query("trace_count", {});
  Status none = ValidateTraceMetricsQuery(q);
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(none.wire_code(), "BAD_REQUEST");
  q = Query("total_cost", {{AggregationType::kSum, {}}});
  q.view_type = MetricViewType::kSpans;
  q.dimensions = {"span_model_name"};
  EXPECT_TRUE(ValidateTraceMetricsQuery(q).ok());
}

TEST(TraceMetricsTest, BucketsFloorNegativeTimestampsAndHugeIntervals) {
  TraceMetricsQuery q = Query("trace_count", {{AggregationType::kCount, {}}});
  q.time_interval_seconds = 3600;
  q.start_time_ms = -kDay;
  q.end_time_ms = kDay;
  auto points = ComputeTraceMetrics(q, {Trace("a", -1, 1)});
  ASSERT_TRUE(points.ok());
  EXPECT_EQ((*points)[0].dimensions[0].second, "1969-12-31T23:00:00+00:00");
  q.time_interval_seconds = std::numeric_limits<int64_t>::max();
  points = ComputeTraceMetrics(q, {Trace("a", 5, 1)});
  ASSERT_TRUE(points.ok());
  EXPECT_EQ((*points)[0].dimensions[0].second, "1970-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace cairn::tracking
