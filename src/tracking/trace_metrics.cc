#include "tracking/trace_metrics.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "base/civil_time.h"
#include "metadata/names.h"

namespace cairn::tracking {
namespace {

namespace bj = boost::json;

constexpr std::string_view kTraceCount = "trace_count";
constexpr std::string_view kSessionCount = "session_count";
constexpr std::string_view kLatency = "latency";
constexpr std::string_view kTraceName = "trace_name";
constexpr std::string_view kTraceStatus = "trace_status";
constexpr std::string_view kTimeBucket = "time_bucket";
constexpr std::string_view kTraceNameTag = "mlflow.traceName";
constexpr std::string_view kSessionMetadata = "mlflow.trace.session";
constexpr std::string_view kTokenUsageMetadata = "mlflow.trace.tokenUsage";

using A = AggregationType;

struct MetricConfig {
  std::string_view name;
  std::vector<AggregationType> aggregations;  // sorted by name for messages
  std::vector<std::string_view> dimensions;   // sorted
};

// The reference's metric tables, in its declaration order (error messages list them so).
const std::vector<MetricConfig>& Configs(MetricViewType view) {
  static const std::vector<AggregationType> kValueAggs = {A::kAvg, A::kMax, A::kMin, A::kPercentile,
                                                          A::kSum};
  static const std::vector<AggregationType> kStatAggs = {A::kAvg, A::kMax, A::kMin, A::kPercentile};
  static const std::vector<MetricConfig> kTraces = {
      {kTraceCount, {A::kCount}, {kTraceName, kTraceStatus}},
      {kSessionCount, {A::kCount}, {}},
      {kLatency, kStatAggs, {kTraceName}},
      {"input_tokens", kValueAggs, {kTraceName}},
      {"output_tokens", kValueAggs, {kTraceName}},
      {"total_tokens", kValueAggs, {kTraceName}},
      {"cache_read_input_tokens", kValueAggs, {kTraceName}},
      {"cache_creation_input_tokens", kValueAggs, {kTraceName}},
  };
  static const std::vector<MetricConfig> kSpans = {
      {"span_count",
       {A::kCount},
       {"span_model_name", "span_model_provider", "span_name", "span_status", "span_type"}},
      {"latency", kStatAggs, {"span_name", "span_status"}},
      {"input_cost", kValueAggs, {"span_model_name", "span_model_provider"}},
      {"output_cost", kValueAggs, {"span_model_name", "span_model_provider"}},
      {"total_cost", kValueAggs, {"span_model_name", "span_model_provider"}},
  };
  static const std::vector<MetricConfig> kAssessments = {
      {"assessment_count", {A::kCount}, {"assessment_name", "assessment_value"}},
      {"assessment_value", kStatAggs, {"assessment_name"}},
  };
  switch (view) {
    case MetricViewType::kTraces:
      return kTraces;
    case MetricViewType::kSpans:
      return kSpans;
    case MetricViewType::kAssessments:
      return kAssessments;
  }
  return kTraces;
}

// Python's list repr of strings: ['a', 'b'].
std::string PyList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += "'" + items[i] + "'";
  }
  return out + "]";
}

// Python's repr of a float.
std::string PyFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  // Python writes exponents with at least two digits: 1e-05.
  size_t e = s.find('e');
  if (e != std::string::npos) {
    size_t digits = e + 1 + (s[e + 1] == '-' || s[e + 1] == '+' ? 1 : 0);
    if (s[e + 1] != '-' && s[e + 1] != '+') s.insert(e + 1, "+"), ++digits;
    if (s.size() - digits == 1) s.insert(digits, "0");
  }
  return s;
}

// A token count as the reference stores it: an integral number within BIGINT, else nothing.
std::optional<double> TokenCount(const bj::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<double>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.2e18) return std::nullopt;
    return d;
  }
  if (v.is_string()) {
    std::string_view s = v.get_string();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size()) return static_cast<double>(n);
  }
  return std::nullopt;
}

std::optional<double> TokenMetric(const metadata::TraceInfo& trace, std::string_view key) {
  std::optional<std::string_view> usage = FindEntry(trace.trace_metadata, kTokenUsageMetadata);
  if (!usage) return std::nullopt;
  boost::system::error_code ec;
  bj::value parsed = bj::parse(*usage, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const bj::value* v = parsed.get_object().if_contains(key);
  return v == nullptr ? std::nullopt : TokenCount(*v);
}

// The value a trace contributes to the metric (as a string for session_count's DISTINCT).
struct MetricInput {
  double number = 0;
  std::string text;
};

std::optional<MetricInput> ValueOf(const metadata::TraceInfo& trace, std::string_view metric) {
  if (metric == kTraceCount) return MetricInput{};
  if (metric == kSessionCount) {
    std::optional<std::string_view> session = FindEntry(trace.trace_metadata, kSessionMetadata);
    if (!session) return std::nullopt;
    return MetricInput{.number = 0, .text = std::string(*session)};
  }
  if (metric == kLatency) {
    if (!trace.execution_duration_ms) return std::nullopt;
    return MetricInput{.number = static_cast<double>(*trace.execution_duration_ms), .text = {}};
  }
  std::optional<double> tokens = TokenMetric(trace, metric);
  if (!tokens) return std::nullopt;
  return MetricInput{.number = *tokens, .text = {}};
}

std::optional<std::string> DimensionOf(const metadata::TraceInfo& trace, std::string_view dim) {
  if (dim == kTraceStatus) return std::string(metadata::TraceStateName(trace.state));
  std::optional<std::string_view> name = FindEntry(trace.tags, kTraceNameTag);
  if (!name) return std::nullopt;
  return std::string(*name);
}

StatusOr<bool> Matches(const metadata::TraceInfo& trace, const TraceMetricsFilter& f) {
  if (f.view_type != "trace") {
    return InvalidArgument("Filtering by " + f.view_type + " is only supported for " +
                           (f.view_type == "span" ? "SPANS" : "ASSESSMENTS") +
                           " view type, got TRACES");
  }
  if (f.entity == "status") return metadata::TraceStateName(trace.state) == f.value;
  std::optional<std::string_view> v =
      FindEntry(f.entity == "tag" ? trace.tags : trace.trace_metadata, f.key);
  return v && *v == f.value;
}

struct Group {
  std::vector<double> numbers;
  std::set<std::string> distinct;
};

}  // namespace

std::optional<MetricViewType> MetricViewTypeFromName(std::string_view name) {
  for (MetricViewType t :
       {MetricViewType::kTraces, MetricViewType::kSpans, MetricViewType::kAssessments}) {
    if (MetricViewTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view MetricViewTypeName(MetricViewType type) {
  switch (type) {
    case MetricViewType::kTraces:
      return "TRACES";
    case MetricViewType::kSpans:
      return "SPANS";
    case MetricViewType::kAssessments:
      return "ASSESSMENTS";
  }
  return "TRACES";
}

std::optional<AggregationType> AggregationTypeFromName(std::string_view name) {
  for (AggregationType t : {A::kCount, A::kSum, A::kAvg, A::kPercentile, A::kMin, A::kMax}) {
    if (AggregationTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view AggregationTypeName(AggregationType type) {
  switch (type) {
    case A::kCount:
      return "COUNT";
    case A::kSum:
      return "SUM";
    case A::kAvg:
      return "AVG";
    case A::kPercentile:
      return "PERCENTILE";
    case A::kMin:
      return "MIN";
    case A::kMax:
      return "MAX";
  }
  return "COUNT";
}

std::string AggregationLabel(const MetricAggregation& aggregation) {
  if (aggregation.type == A::kPercentile) {
    return "P" + PyFloat(aggregation.percentile_value.value_or(0));
  }
  return std::string(AggregationTypeName(aggregation.type));
}

Status ValidateTraceMetricsQuery(const TraceMetricsQuery& query) {
  for (const MetricAggregation& agg : query.aggregations) {
    if (agg.type == A::kPercentile) {
      if (!agg.percentile_value) {
        return InvalidArgument("Percentile value is required for PERCENTILE aggregation");
      }
      double p = *agg.percentile_value;
      if (!(p >= 0 && p <= 100)) {
        return InvalidArgument("Percentile value must be between 0 and 100, got " + PyFloat(p));
      }
    } else if (agg.percentile_value) {
      return InvalidArgument(
          "Percentile value is only allowed for PERCENTILE aggregation type, got " +
          std::string(AggregationTypeName(agg.type)));
    }
  }
  const std::vector<MetricConfig>& configs = Configs(query.view_type);
  auto config = std::find_if(configs.begin(), configs.end(),
                             [&](const MetricConfig& c) { return c.name == query.metric_name; });
  if (config == configs.end()) {
    std::vector<std::string> names;
    for (const MetricConfig& c : configs) names.emplace_back(c.name);
    return InvalidArgument("metric_name must be one of " + PyList(names) + ", got '" +
                           query.metric_name + "'");
  }
  std::set<std::string> invalid_aggs;
  for (const MetricAggregation& agg : query.aggregations) {
    if (std::find(config->aggregations.begin(), config->aggregations.end(), agg.type) ==
        config->aggregations.end()) {
      invalid_aggs.insert(std::string(AggregationTypeName(agg.type)));
    }
  }
  if (!invalid_aggs.empty()) {
    std::vector<std::string> supported;
    for (AggregationType t : config->aggregations) supported.emplace_back(AggregationTypeName(t));
    std::sort(supported.begin(), supported.end());
    return InvalidArgument(
        "Found invalid aggregation_type(s): " + PyList({invalid_aggs.begin(), invalid_aggs.end()}) +
        ". Supported aggregation types: " + PyList(supported));
  }
  std::set<std::string> invalid_dims;
  for (const std::string& dim : query.dimensions) {
    if (std::find(config->dimensions.begin(), config->dimensions.end(), dim) ==
        config->dimensions.end()) {
      invalid_dims.insert(dim);
    }
  }
  if (!invalid_dims.empty()) {
    return InvalidArgument(
        "Found invalid dimension(s): " + PyList({invalid_dims.begin(), invalid_dims.end()}) +
        ". Supported dimensions: " +
        PyList({config->dimensions.begin(), config->dimensions.end()}));
  }
  if (query.time_interval_seconds.value_or(0) != 0 &&
      (!query.start_time_ms || !query.end_time_ms)) {
    return InvalidArgument(
        "start_time_ms and end_time_ms are required if time_interval_seconds is set");
  }
  if (query.aggregations.empty() && query.dimensions.empty() &&
      query.time_interval_seconds.value_or(0) == 0) {
    return Status(StatusCode::kInvalidArgument,
                  "Query contains no columns with which to SELECT from.")
        .WithWireCode("BAD_REQUEST");
  }
  return Status::Ok();
}

StatusOr<TraceMetricsFilter> ParseTraceMetricsFilter(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t pos = 0;
  auto skip = [&] {
    while (pos < text.size() && is_space(text[pos])) ++pos;
  };
  skip();
  size_t start = pos;
  while (pos < text.size() && !is_space(text[pos]) &&
         std::string_view("=!<>").find(text[pos]) == std::string_view::npos) {
    ++pos;
  }
  std::string identifier(text.substr(start, pos - start));
  if (identifier.empty()) {
    return InvalidArgument("Invalid filter: '" + std::string(text.substr(0, 200)) +
                           "'. Expected one filter clause.");
  }
  std::string invalid_identifier = "Invalid identifier '" + identifier.substr(0, 200) +
                                   "'. Columns should be specified as 'trace.<key>', "
                                   "'span.<key>', 'assessment.<key>'.";
  TraceMetricsFilter f;
  size_t dot1 = identifier.find('.');
  if (dot1 == std::string::npos) return InvalidArgument(invalid_identifier);
  size_t dot2 = identifier.find('.', dot1 + 1);
  auto trim_backticks = [](std::string s) {
    if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
    return s;
  };
  f.view_type = trim_backticks(identifier.substr(0, dot1));
  f.entity =
      identifier.substr(dot1 + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot1 - 1);
  bool has_key = dot2 != std::string::npos;
  if (has_key) f.key = identifier.substr(dot2 + 1);
  std::vector<std::pair<std::string_view, bool>> entities;  // entity, key required
  if (f.view_type == "trace") {
    entities = {{"status", false}, {"tag", true}, {"metadata", true}};
  } else if (f.view_type == "span") {
    entities = {{"name", false}, {"status", false}, {"type", false}};
  } else if (f.view_type == "assessment") {
    entities = {{"name", false}, {"type", false}};
  } else {
    return InvalidArgument("Invalid view type '" + f.view_type.substr(0, 200) +
                           "'. Valid values are dict_keys(['trace', 'span', 'assessment'])");
  }
  auto entity = std::find_if(entities.begin(), entities.end(),
                             [&](const auto& e) { return e.first == f.entity; });
  if (entity == entities.end()) {
    std::vector<std::string> names;
    for (const auto& e : entities) names.emplace_back(e.first);
    return InvalidArgument("Invalid entity '" + f.entity.substr(0, 200) +
                           "' specified for view type '" + f.view_type + "'. Valid entities are " +
                           PyList(names));
  }
  if (entity->second && !has_key) {
    return InvalidArgument("Filtering by " + f.entity + " requires a key, e.g. '" + f.view_type +
                           "." + f.entity + ".<key> = <value>'");
  }
  if (!entity->second && has_key) {
    return InvalidArgument("Filtering by " + f.entity + " does not require a key, use '" +
                           f.view_type + "." + f.entity + "' instead");
  }
  if (has_key && f.key.size() >= 2 &&
      ((f.key.front() == '"' && f.key.back() == '"') ||
       (f.key.front() == '\'' && f.key.back() == '\''))) {
    f.key = f.key.substr(1, f.key.size() - 2);
  }
  f.key = trim_backticks(f.key);
  skip();
  start = pos;
  while (pos < text.size() && !is_space(text[pos]) && text[pos] != '"' && text[pos] != '\'') {
    ++pos;
  }
  std::string_view comparator = text.substr(start, pos - start);
  if (comparator.empty()) {
    return InvalidArgument("Invalid filter: '" + std::string(text.substr(0, 200)) +
                           "'. Expected one filter clause.");
  }
  if (comparator != "=") {
    return InvalidArgument("Invalid comparator: '" + std::string(comparator.substr(0, 20)) +
                           "', only '=' operator is supported");
  }
  skip();
  start = pos;
  if (pos < text.size() && (text[pos] == '"' || text[pos] == '\'')) {
    char quote = text[pos];
    size_t close = text.find(quote, pos + 1);
    if (close != std::string_view::npos) {
      f.value = std::string(text.substr(pos + 1, close - pos - 1));
      pos = close + 1;
      skip();
      if (pos == text.size()) return f;
      size_t word_end = pos;
      while (word_end < text.size() && !is_space(text[word_end])) ++word_end;
      return InvalidArgument("Invalid clause(s) in filter string: " +
                             std::string(text.substr(pos, std::min<size_t>(word_end - pos, 200))));
    }
  }
  size_t word_end = pos;
  while (word_end < text.size() && !is_space(text[word_end])) ++word_end;
  return InvalidArgument(
      "Parameter value is either not quoted or unidentified quote types used for string value " +
      std::string(text.substr(start, std::min<size_t>(word_end - start, 200))) +
      ". Use either single or double quotes.");
}

std::optional<double> AggregateSorted(const MetricAggregation& aggregation,
                                      const std::vector<double>& sorted) {
  using A = AggregationType;
  if (aggregation.type == A::kCount) return static_cast<double>(sorted.size());
  if (sorted.empty()) return std::nullopt;
  double sum = 0;
  for (double n : sorted) sum += n;
  switch (aggregation.type) {
    case A::kSum:
      return sum;
    case A::kAvg:
      return sum / static_cast<double>(sorted.size());
    case A::kMin:
      return sorted.front();
    case A::kMax:
      return sorted.back();
    case A::kPercentile:
      return Percentile(sorted, aggregation.percentile_value.value_or(0));
    case A::kCount:
      break;
  }
  return std::nullopt;
}

double Percentile(const std::vector<double>& sorted, double percentile) {
  double rank = percentile / 100.0 * static_cast<double>(sorted.size() - 1);
  size_t j = static_cast<size_t>(std::floor(rank));
  if (j + 1 >= sorted.size()) return sorted.back();
  double g = rank - static_cast<double>(j);
  return (1 - g) * sorted[j] + g * sorted[j + 1];
}

namespace {

// Group key: the bucket start (0 when not bucketed) and the dimension values.
using GroupKey = std::pair<int64_t, std::vector<std::string>>;

// The data points of grouped metric values, ordered by time bucket, then dimensions.
std::vector<MetricDataPoint> PointsFromGroups(const TraceMetricsQuery& query,
                                              std::map<GroupKey, Group>& groups) {
  int64_t interval = query.time_interval_seconds.value_or(0);
  bool grouped = interval != 0 || !query.dimensions.empty();
  // An aggregate without GROUP BY yields one row even over no traces.
  if (!grouped && groups.empty()) groups[{0, {}}];

  std::vector<MetricDataPoint> points;
  int64_t rows = 0;
  for (auto& [key, group] : groups) {
    if (query.max_results >= 0 && rows >= query.max_results) break;
    ++rows;
    MetricDataPoint point;
    point.metric_name = query.metric_name;
    if (interval != 0)
      point.dimensions.emplace_back(kTimeBucket, PythonIsoFormatUtc(key.first * 1000));
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
      std::optional<double> v = agg.type == A::kCount && query.metric_name == kSessionCount
                                    ? static_cast<double>(group.distinct.size())
                                    : AggregateSorted(agg, numbers);
      std::string label = AggregationLabel(agg);
      auto existing = std::find_if(point.values.begin(), point.values.end(),
                                   [&](const auto& p) { return p.first == label; });
      if (v && existing == point.values.end()) point.values.emplace_back(std::move(label), *v);
    }
    if (!point.values.empty()) points.push_back(std::move(point));
  }
  return points;
}

}  // namespace

StatusOr<std::vector<MetricDataPoint>> ComputeTraceMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces) {
  std::vector<TraceMetricsFilter> filters;
  for (const std::string& text : query.filters) {
    ASSIGN_OR_RETURN(TraceMetricsFilter f, ParseTraceMetricsFilter(text));
    filters.push_back(std::move(f));
  }
  int64_t interval = query.time_interval_seconds.value_or(0);
  std::map<GroupKey, Group> groups;
  for (const metadata::TraceInfo& trace : traces) {
    if (query.start_time_ms && trace.request_time_ms < *query.start_time_ms) continue;
    if (query.end_time_ms && trace.request_time_ms > *query.end_time_ms) continue;
    bool keep = true;
    for (const TraceMetricsFilter& f : filters) {
      ASSIGN_OR_RETURN(bool match, Matches(trace, f));
      keep = keep && match;
    }
    if (!keep) continue;
    std::optional<MetricInput> value = ValueOf(trace, query.metric_name);
    if (!value) continue;
    std::vector<std::string> dims;
    bool complete = true;
    for (const std::string& dim : query.dimensions) {
      std::optional<std::string> v = DimensionOf(trace, dim);
      if (!v) {
        complete = false;
        break;
      }
      dims.push_back(std::move(*v));
    }
    if (!complete) continue;
    int64_t bucket = interval != 0 ? BucketStart(trace.request_time_ms, interval) : 0;
    Group& group = groups[{bucket, std::move(dims)}];
    group.numbers.push_back(value->number);
    if (query.metric_name == kSessionCount) group.distinct.insert(std::move(value->text));
  }
  return PointsFromGroups(query, groups);
}

StatusOr<std::vector<MetricDataPoint>> ComputeSpanMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces,
    const std::vector<metadata::Span>& spans) {
  std::vector<TraceMetricsFilter> trace_filters;
  std::vector<TraceMetricsFilter> span_filters;
  for (const std::string& text : query.filters) {
    ASSIGN_OR_RETURN(TraceMetricsFilter f, ParseTraceMetricsFilter(text));
    if (f.view_type == "assessment") {
      return InvalidArgument(
          "Filtering by assessment is only supported for ASSESSMENTS view type, got SPANS");
    }
    (f.view_type == "span" ? span_filters : trace_filters).push_back(std::move(f));
  }
  // The traces in range that pass the trace filters.
  std::set<std::string> kept;
  for (const metadata::TraceInfo& trace : traces) {
    if (query.start_time_ms && trace.request_time_ms < *query.start_time_ms) continue;
    if (query.end_time_ms && trace.request_time_ms > *query.end_time_ms) continue;
    bool keep = true;
    for (const TraceMetricsFilter& f : trace_filters) {
      ASSIGN_OR_RETURN(bool match, Matches(trace, f));
      keep = keep && match;
    }
    if (keep) kept.insert(trace.trace_id);
  }
  int64_t interval = query.time_interval_seconds.value_or(0);
  std::map<GroupKey, Group> groups;
  for (const metadata::Span& span : spans) {
    if (kept.count(span.trace_id) == 0) continue;
    bool keep = true;
    for (const TraceMetricsFilter& f : span_filters) {
      std::optional<std::string_view> field;
      if (f.entity == "name") field = span.name;
      if (f.entity == "status") field = span.status;
      if (f.entity == "type" && span.type) field = *span.type;
      keep = keep && field && *field == f.value;
    }
    if (!keep) continue;
    double value = 0;
    if (query.metric_name == "latency") {
      if (!span.end_time_ns) continue;
      // Whole milliseconds, floored, as the reference's integer division.
      int64_t ns = *span.end_time_ns - span.start_time_ns;
      int64_t ms = ns / 1000000 - ((ns % 1000000 != 0 && ns < 0) ? 1 : 0);
      value = static_cast<double>(ms);
    } else if (query.metric_name != "span_count") {
      continue;  // costs: not kept for spans here
    }
    std::vector<std::string> dims;
    bool complete = true;
    for (const std::string& dim : query.dimensions) {
      std::optional<std::string> v;
      if (dim == "span_name") v = span.name;
      if (dim == "span_status") v = span.status;
      if (dim == "span_type") v = span.type;
      if (!v) {
        complete = false;
        break;
      }
      dims.push_back(std::move(*v));
    }
    if (!complete) continue;
    int64_t start_ms = span.start_time_ns / 1000000;
    int64_t bucket = interval != 0 ? BucketStart(start_ms, interval) : 0;
    groups[{bucket, std::move(dims)}].numbers.push_back(value);
  }
  return PointsFromGroups(query, groups);
}

std::optional<std::string_view> FindEntry(const std::vector<metadata::Tag>& entries,
                                          std::string_view key) {
  for (const metadata::Tag& t : entries) {
    if (t.key == key) return std::string_view(t.value);
  }
  return std::nullopt;
}

int64_t BucketStart(int64_t ms, int64_t seconds) {
  __int128 size = static_cast<__int128>(seconds) * 1000;
  __int128 q = ms / size;
  if ((ms % size != 0) && ((ms < 0) != (size < 0))) --q;
  __int128 start = q * size;
  if (start > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (start < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(start);
}

}  // namespace cairn::tracking
