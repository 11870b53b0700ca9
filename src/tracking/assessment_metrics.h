#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/python_json.h"
#include "base/status.h"
#include "metadata/trace_types.h"
#include "tracking/trace_metrics.h"

// The ASSESSMENTS view of MLflow 3's trace metrics (QueryTraceMetrics): assessment_count (COUNT,
// by assessment_name and assessment_value) and assessment_value (AVG, MIN, MAX, PERCENTILE of
// the numeric value, by assessment_name), over the valid assessments of an experiment's traces,
// bucketed by the trace's timestamp, as MLflow 3.17's SQL store computes them.
namespace cairn::tracking {

// Computes a validated ASSESSMENTS query over the valid assessments of `traces` (those of the
// query's experiments, with their assessments filled; the time range and filters are applied
// here). Filters may name the trace (status, tag.<key>, metadata.<key>) or the assessment (name,
// type: feedback or expectation); a span filter is INVALID_ARGUMENT. Rows are ordered by time
// bucket, then dimensions; an assessment without a numeric value is left out of
// assessment_value.
StatusOr<std::vector<MetricDataPoint>> ComputeAssessmentMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces);

// The value MLflow aggregates for an assessment value: true 1 and false 0, finite numbers,
// "yes" 1 and "no" 0 (trimmed, any case); nothing for anything else.
std::optional<double> AssessmentAggregateValue(const boost::json::value& value);

// The assessment_value dimension: the value as MLflow's SQL store keeps it, Python's json.dumps
// of the value after a round trip through google.protobuf.Value (so every number is a float:
// 1 -> "1.0").
std::string AssessmentValueText(const boost::json::value& value);

// Python's repr of a float (base/python_json.h).
using json::PythonFloatRepr;

}  // namespace cairn::tracking
