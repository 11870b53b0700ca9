#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "metadata/trace_types.h"

// MLflow 3 trace metrics (QueryTraceMetrics): aggregates over an experiment's traces, grouped by
// time bucket and dimensions, with MLflow 3.17's metric names, validation messages and result
// shapes (mlflow/store/tracking/utils/sql_trace_metrics_utils.py).
namespace cairn::tracking {

enum class MetricViewType { kTraces, kSpans, kAssessments };
enum class AggregationType { kCount, kSum, kAvg, kPercentile, kMin, kMax };

std::optional<MetricViewType> MetricViewTypeFromName(std::string_view name);  // "TRACES", ...
std::string_view MetricViewTypeName(MetricViewType type);
std::optional<AggregationType> AggregationTypeFromName(std::string_view name);  // "COUNT", ...
std::string_view AggregationTypeName(AggregationType type);

struct MetricAggregation {
  AggregationType type = AggregationType::kCount;
  std::optional<double> percentile_value;  // 0..100, only with kPercentile
};

// The key of an aggregation's value in a data point: "COUNT", "AVG", ..., or "P" followed by the
// percentile as Python prints a float ("P50.0", "P99.9").
std::string AggregationLabel(const MetricAggregation& aggregation);

inline constexpr int64_t kDefaultTraceMetricsMaxResults = 1000;

struct TraceMetricsQuery {
  std::vector<std::string> experiment_ids;
  MetricViewType view_type = MetricViewType::kTraces;
  std::string metric_name;
  std::vector<MetricAggregation> aggregations;
  std::vector<std::string> dimensions;
  // Each one clause `<view>.<entity>[.<key>] = '<value>'`, combined with AND.
  std::vector<std::string> filters;
  std::optional<int64_t> time_interval_seconds;  // absent or 0: no time buckets
  std::optional<int64_t> start_time_ms;          // inclusive bounds on the trace timestamp
  std::optional<int64_t> end_time_ms;
  // Rows after grouping; 0 returns nothing and a negative value means no limit (as SQL LIMIT
  // does in the reference's SQLite store).
  int64_t max_results = kDefaultTraceMetricsMaxResults;
};

struct MetricDataPoint {
  std::string metric_name;
  // "time_bucket" (ISO 8601 UTC, "2026-01-01T00:00:00+00:00") first when bucketed, then the
  // requested dimensions in request order.
  std::vector<std::pair<std::string, std::string>> dimensions;
  std::vector<std::pair<std::string, double>> values;  // by AggregationLabel, request order
  bool operator==(const MetricDataPoint&) const = default;
};

// A parsed filter clause (only '=' is supported, as in the reference).
struct TraceMetricsFilter {
  std::string view_type;  // "trace", "span" or "assessment"
  std::string entity;     // "status", "tag", "metadata", "name", "type"
  std::string key;        // for tag and metadata
  std::string value;
};

// INVALID_ARGUMENT with the reference's words when the view type, metric name, aggregation types,
// percentile values, dimensions or the time range are not acceptable together.
Status ValidateTraceMetricsQuery(const TraceMetricsQuery& query);

// INVALID_ARGUMENT with the reference's words for malformed clauses.
StatusOr<TraceMetricsFilter> ParseTraceMetricsFilter(std::string_view text);

// Computes a validated TRACES query over `traces` (already those of the query's experiments; the
// time range and filters are applied here). Rows are ordered by time bucket, then dimensions; a
// trace lacking a dimension or the metric's value is left out. Without time buckets and
// dimensions there is exactly one row (COUNT 0 over no traces). INVALID_ARGUMENT for a filter on
// another view.
StatusOr<std::vector<MetricDataPoint>> ComputeTraceMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces);

// Computes a validated SPANS query over `spans` (those of `traces`, the traces of the query's
// experiments): span_count counts spans, latency is a span's duration in whole milliseconds
// (spans still open are left out). The time range and trace filters apply to a span's trace,
// span filters (name, status, type) and the time buckets to the span (its start). Cost metrics
// and the model dimensions have no data here (spans carry no cost columns).
StatusOr<std::vector<MetricDataPoint>> ComputeSpanMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces,
    const std::vector<metadata::Span>& spans);

// Linear interpolation between closest ranks (numpy's default, PostgreSQL's PERCENTILE_CONT):
// (1-g)*v[j] + g*v[j+1] with j, g the integral and fractional parts of p/100*(n-1). `sorted` is
// ascending and non-empty.
double Percentile(const std::vector<double>& sorted, double percentile);
// The value of `key` among `entries` (tags or trace metadata), if present.
std::optional<std::string_view> FindEntry(const std::vector<metadata::Tag>& entries,
                                          std::string_view key);
// The start of the `seconds`-long time bucket holding `ms`: floor(ms / size) * size, without
// overflow.
int64_t BucketStart(int64_t ms, int64_t seconds);
// `aggregation` over `sorted` (ascending): COUNT is how many values there are; the others are
// nullopt without values.
std::optional<double> AggregateSorted(const MetricAggregation& aggregation,
                                      const std::vector<double>& sorted);

}  // namespace cairn::tracking
