#include "tracking/assessment_metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "base/civil_time.h"
#include "metadata/names.h"

namespace cairn::tracking {
namespace {

namespace bj = boost::json;
using A = AggregationType;

constexpr std::string_view kAssessmentCount = "assessment_count";
constexpr std::string_view kAssessmentName = "assessment_name";
constexpr std::string_view kAssessmentValue = "assessment_value";
constexpr std::string_view kTimeBucket = "time_bucket";

StatusOr<bool> Matches(const metadata::TraceInfo& trace, const metadata::Assessment& a,
                       const TraceMetricsFilter& f) {
  if (f.view_type == "span") {
    return InvalidArgument(
        "Filtering by span is only supported for SPANS view type, got "
        "ASSESSMENTS");
  }
  if (f.view_type == "assessment") {
    if (f.entity == "name") return a.name == f.value;
    return (a.kind == metadata::AssessmentKind::kFeedback ? "feedback" : "expectation") == f.value;
  }
  if (f.entity == "status") return metadata::TraceStateName(trace.state) == f.value;
  std::optional<std::string_view> v =
      FindEntry(f.entity == "tag" ? trace.tags : trace.trace_metadata, f.key);
  return v && *v == f.value;
}

struct Group {
  std::vector<double> numbers;
};

}  // namespace

std::optional<double> AssessmentAggregateValue(const bj::value& value) {
  if (value.is_bool()) return value.get_bool() ? 1.0 : 0.0;
  if (value.is_number()) {
    double d = value.is_double()  ? value.get_double()
               : value.is_int64() ? static_cast<double>(value.get_int64())
                                  : static_cast<double>(value.get_uint64());
    if (std::isfinite(d)) return d;
    return std::nullopt;
  }
  if (value.is_string()) {
    std::string s(value.get_string());
    size_t b = s.find_first_not_of(" \t\r\n\f\v");
    size_t e = s.find_last_not_of(" \t\r\n\f\v");
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "yes") return 1.0;
    if (s == "no") return 0.0;
  }
  return std::nullopt;
}

std::string AssessmentValueText(const bj::value& value) {
  return json::PythonJsonDumps(value, {.integers_as_floats = true});
}

StatusOr<std::vector<MetricDataPoint>> ComputeAssessmentMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces) {
  std::vector<TraceMetricsFilter> filters;
  for (const std::string& text : query.filters) {
    ASSIGN_OR_RETURN(TraceMetricsFilter f, ParseTraceMetricsFilter(text));
    filters.push_back(std::move(f));
  }
  int64_t interval = query.time_interval_seconds.value_or(0);
  bool counting = query.metric_name == kAssessmentCount;
  std::map<std::pair<int64_t, std::vector<std::string>>, Group> groups;
  for (const metadata::TraceInfo& trace : traces) {
    if (query.start_time_ms && trace.request_time_ms < *query.start_time_ms) continue;
    if (query.end_time_ms && trace.request_time_ms > *query.end_time_ms) continue;
    for (const metadata::Assessment& a : trace.assessments) {
      if (!a.valid) continue;
      bool keep = true;
      for (const TraceMetricsFilter& f : filters) {
        ASSIGN_OR_RETURN(bool match, Matches(trace, a, f));
        keep = keep && match;
      }
      if (!keep) continue;
      boost::system::error_code ec;
      bj::value value = bj::parse(a.value_json, ec);
      if (ec) value = nullptr;
      double number = 0;
      if (!counting) {
        std::optional<double> aggregate = AssessmentAggregateValue(value);
        if (!aggregate) continue;
        number = *aggregate;
      }
      std::vector<std::string> dims;
      for (const std::string& dim : query.dimensions) {
        dims.push_back(dim == kAssessmentValue ? AssessmentValueText(value) : a.name);
      }
      int64_t bucket = interval != 0 ? BucketStart(trace.request_time_ms, interval) : 0;
      groups[{bucket, std::move(dims)}].numbers.push_back(number);
    }
  }
  bool grouped = interval != 0 || !query.dimensions.empty();
  if (!grouped && groups.empty()) groups[{0, {}}];

  std::vector<MetricDataPoint> points;
  int64_t rows = 0;
  for (auto& [key, group] : groups) {
    if (query.max_results >= 0 && rows >= query.max_results) break;
    ++rows;
    MetricDataPoint point;
    point.metric_name = query.metric_name;
    if (interval != 0) {
      point.dimensions.emplace_back(kTimeBucket, PythonIsoFormatUtc(key.first * 1000));
    }
    for (size_t i = 0; i < query.dimensions.size(); ++i) {
      auto existing = std::find_if(point.dimensions.begin(), point.dimensions.end(),
                                   [&](const auto& d) { return d.first == query.dimensions[i]; });
      if (existing == point.dimensions.end()) {
        point.dimensions.emplace_back(query.dimensions[i], key.second[i]);
      }
    }
    std::vector<double>& numbers = group.numbers;
    std::sort(numbers.begin(), numbers.end());
    for (const MetricAggregation& agg : query.aggregations) {
      std::optional<double> v = AggregateSorted(agg, numbers);
      std::string label = AggregationLabel(agg);
      auto existing = std::find_if(point.values.begin(), point.values.end(),
                                   [&](const auto& p) { return p.first == label; });
      if (v && existing == point.values.end()) point.values.emplace_back(std::move(label), *v);
    }
    if (!point.values.empty()) points.push_back(std::move(point));
  }
  return points;
}

}  // namespace cairn::tracking
