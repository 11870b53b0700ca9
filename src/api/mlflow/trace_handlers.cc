#include "api/mlflow/trace_handlers.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/assessment_json.h"
#include "api/mlflow/codec.h"
#include "api/mlflow/otlp_trace_request.h"
#include "api/mlflow/request_message.h"
#include "api/mlflow/search_params.h"
#include "api/mlflow/span_codec.h"
#include "base/civil_time.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/utf8.h"
#include "filter/filter.h"
#include "http/error_response.h"
#include "metadata/names.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Tag;
using metadata::TraceInfo;

constexpr int64_t kDefaultSearchTracesMax = 100;
constexpr std::string_view kExperimentLocation = "MLFLOW_EXPERIMENT";

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// Milliseconds of a fraction ".ddd..." at `pos` (1 to 9 digits); 0 when there is none.
bool Fraction(std::string_view s, size_t& pos, int64_t& ms) {
  ms = 0;
  if (pos >= s.size() || s[pos] != '.') return true;
  ++pos;
  size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  size_t n = pos - start;
  if (n == 0 || n > 9) return false;
  for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < n ? s[start + i] - '0' : 0);
  return true;
}

// A proto map<string, string> as a JSON object.
StatusOr<std::vector<Tag>> StringMap(const bj::object& obj, std::string_view field) {
  std::vector<Tag> out;
  auto it = obj.find(field);
  if (it == obj.end() || it->value().is_null()) return out;
  if (!it->value().is_object()) {
    return InvalidArgument("Invalid value for '" + std::string(field) + "': expected an object");
  }
  for (const auto& [key, value] : it->value().get_object()) {
    ASSIGN_OR_RETURN(std::string v,
                     json::AsString(value, std::string(field) + "." + std::string(key)));
    out.push_back({std::string(key), std::move(v)});
  }
  return out;
}

bj::object StringMapToJson(const std::vector<Tag>& entries) {
  bj::object o;
  for (const Tag& e : entries) o[e.key] = e.value;
  return o;
}

// The experiment of a TraceLocation {type: MLFLOW_EXPERIMENT, mlflow_experiment: {...}}.
StatusOr<std::string> ExperimentOfLocation(const bj::object& location) {
  ASSIGN_OR_RETURN(std::string type, OptionalString(location, "type"));
  if (!type.empty() && type != kExperimentLocation) {
    return InvalidArgument("Unsupported trace location type '" + type +
                           "': this server keeps traces in MLflow experiments "
                           "(MLFLOW_EXPERIMENT)");
  }
  ASSIGN_OR_RETURN(const bj::object* experiment, json::GetObject(location, "mlflow_experiment"));
  if (experiment == nullptr) {
    return InvalidArgument(
        "Missing value for required parameter 'mlflow_experiment' in the "
        "trace location");
  }
  return RequiredString(*experiment, "experiment_id");
}

}  // namespace

// ---- Well-known types ----

StatusOr<int64_t> ParseTimestampMillis(std::string_view text) {
  auto invalid = [&] {
    return InvalidArgument("Invalid timestamp '" + std::string(text.substr(0, 100)) +
                           "': expected RFC 3339, e.g. 2025-01-31T12:00:00.123Z");
  };
  size_t pos = 0;
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (!Digits(text, pos, 4, y) || !Expect(text, pos, '-') || !Digits(text, pos, 2, mo) ||
      !Expect(text, pos, '-') || !Digits(text, pos, 2, d)) {
    return invalid();
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return invalid();
  ++pos;
  if (!Digits(text, pos, 2, h) || !Expect(text, pos, ':') || !Digits(text, pos, 2, mi) ||
      !Expect(text, pos, ':') || !Digits(text, pos, 2, s) || !Fraction(text, pos, ms)) {
    return invalid();
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysInMonth[mo - 1] || h > 23 || mi > 59 || s > 59) {
    return invalid();
  }
  int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh = 0, om = 0;
    if (!Digits(text, pos, 2, oh) || !Expect(text, pos, ':') || !Digits(text, pos, 2, om) ||
        oh > 23 || om > 59) {
      return invalid();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return invalid();
  }
  if (pos != text.size()) return invalid();
  int64_t days = DaysFromCivil(y, mo, d);
  int64_t seconds = days * 86400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
  return seconds * 1000 + ms;
}

std::string FormatTimestampMillis(int64_t ms) {
  int64_t seconds = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) millis += 1000, --seconds;
  std::string out = FormatUtcSeconds(seconds);
  if (millis != 0) {
    char buf[8];
    int n = std::snprintf(buf, sizeof(buf), ".%03lld", static_cast<long long>(millis));
    out.append(buf, static_cast<size_t>(n));
  }
  return out + "Z";
}

StatusOr<int64_t> ParseDurationMillis(std::string_view text) {
  auto invalid = [&] {
    return InvalidArgument("Invalid duration '" + std::string(text.substr(0, 100)) +
                           "': expected seconds with an 's' suffix, e.g. 1.5s");
  };
  if (text.size() < 2 || text.back() != 's') return invalid();
  std::string_view body = text.substr(0, text.size() - 1);
  bool negative = !body.empty() && body.front() == '-';
  if (negative) body.remove_prefix(1);
  size_t dot = body.find('.');
  std::string_view whole = body.substr(0, dot);
  if (whole.empty() || whole.size() > 12 || whole.front() < '0' || whole.front() > '9') {
    return invalid();
  }
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size()) return invalid();
  int64_t ms = 0;
  if (dot != std::string_view::npos) {
    size_t pos = dot;
    if (!Fraction(body, pos, ms) || pos != body.size()) return invalid();
  }
  int64_t total = seconds * 1000 + ms;
  return negative ? -total : total;
}

std::string FormatDurationMillis(int64_t ms) {
  std::string out = ms < 0 ? "-" : "";
  uint64_t magnitude = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  out += std::to_string(magnitude / 1000);
  if (magnitude % 1000 != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), ".%03u", static_cast<unsigned>(magnitude % 1000));
    out += buf;
  }
  out += 's';
  return out;
}

// ---- TraceInfoV3 ----

bj::object TraceInfoToJson(const TraceInfo& info) {
  bj::object o;
  o["trace_id"] = info.trace_id;
  if (info.client_request_id) o["client_request_id"] = *info.client_request_id;
  o["trace_location"] = bj::object{
      {"type", kExperimentLocation},
      {"mlflow_experiment", bj::object{{"experiment_id", info.experiment_id}}},
  };
  if (info.request_preview) o["request_preview"] = *info.request_preview;
  if (info.response_preview) o["response_preview"] = *info.response_preview;
  o["request_time"] = FormatTimestampMillis(info.request_time_ms);
  if (info.execution_duration_ms) {
    o["execution_duration"] = FormatDurationMillis(*info.execution_duration_ms);
  }
  o["state"] = metadata::TraceStateName(info.state);
  o["trace_metadata"] = StringMapToJson(info.trace_metadata);
  o["tags"] = StringMapToJson(info.tags);
  PutList(o, "assessments", info.assessments, AssessmentToJson);
  return o;
}

StatusOr<TraceInfo> TraceInfoFromJson(const bj::object& obj) {
  TraceInfo info;
  ASSIGN_OR_RETURN(info.trace_id, RequiredString(obj, "trace_id"));
  ASSIGN_OR_RETURN(info.client_request_id, json::GetString(obj, "client_request_id"));
  ASSIGN_OR_RETURN(const bj::object* location, json::GetObject(obj, "trace_location"));
  if (location == nullptr) {
    return InvalidArgument("Missing value for required parameter 'trace_location'");
  }
  ASSIGN_OR_RETURN(info.experiment_id, ExperimentOfLocation(*location));
  ASSIGN_OR_RETURN(info.request_preview, json::GetString(obj, "request_preview"));
  ASSIGN_OR_RETURN(info.response_preview, json::GetString(obj, "response_preview"));
  ASSIGN_OR_RETURN(std::optional<std::string> request_time, json::GetString(obj, "request_time"));
  if (!request_time) return InvalidArgument("Missing value for required parameter 'request_time'");
  ASSIGN_OR_RETURN(info.request_time_ms, ParseTimestampMillis(*request_time));
  ASSIGN_OR_RETURN(std::optional<std::string> duration, json::GetString(obj, "execution_duration"));
  if (duration) {
    ASSIGN_OR_RETURN(info.execution_duration_ms, ParseDurationMillis(*duration));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> state, json::GetString(obj, "state"));
  if (state) {
    std::optional<metadata::TraceState> parsed = metadata::TraceStateFromName(*state);
    if (!parsed) {
      return InvalidArgument("Invalid trace state '" + state->substr(0, 100) +
                             "': expected OK, ERROR, IN_PROGRESS or STATE_UNSPECIFIED");
    }
    info.state = *parsed;
  }
  ASSIGN_OR_RETURN(info.trace_metadata, StringMap(obj, "trace_metadata"));
  ASSIGN_OR_RETURN(info.tags, StringMap(obj, "tags"));
  ASSIGN_OR_RETURN(const bj::array* assessments, json::GetArray(obj, "assessments"));
  if (assessments != nullptr) {
    for (const bj::value& v : *assessments) {
      if (!v.is_object()) {
        return InvalidArgument("Invalid value for 'assessments': expected objects");
      }
      ASSIGN_OR_RETURN(metadata::Assessment a,
                       AssessmentFromJson(v.get_object(), info.trace_id, info.request_time_ms));
      if (a.assessment_id.empty()) a.assessment_id = "a-" + IdGenerator::Default().Hex32();
      info.assessments.push_back(std::move(a));
    }
  }
  return info;
}

// ---- QueryTraceMetrics ----

namespace {

constexpr std::string_view kApiDocsHint =
    "See the API docs for more information about request parameters.";

Status MissingParameter(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'. " +
                         std::string(kApiDocsHint));
}

std::string_view JsonTypeName(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      return "str";
    case bj::kind::int64:
    case bj::kind::uint64:
      return "int";
    case bj::kind::double_:
      return "float";
    case bj::kind::bool_:
      return "bool";
    case bj::kind::array:
      return "list";
    case bj::kind::object:
      return "dict";
    case bj::kind::null:
      return "NoneType";
  }
  return "object";
}

Status InvalidParameter(std::string_view field, const bj::value& v) {
  std::string shown = bj::serialize(v);
  if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
  return InvalidArgument("Invalid value " + shown + " for parameter '" + std::string(field) +
                         "' supplied:  Hint: Value was of type '" + std::string(JsonTypeName(v)) +
                         "'. " + std::string(kApiDocsHint));
}

// A repeated string field: absent or null is empty; anything but an array of strings is invalid.
StatusOr<std::vector<std::string>> StringList(const bj::object& msg, std::string_view field,
                                              bool required) {
  const bj::value* v = msg.if_contains(field);
  if (v == nullptr || v->is_null()) {
    if (required) return MissingParameter(field);
    return std::vector<std::string>{};
  }
  if (!v->is_array()) return InvalidParameter(field, *v);
  std::vector<std::string> out;
  for (const bj::value& item : v->get_array()) {
    if (!item.is_string()) return InvalidParameter(field, *v);
    out.emplace_back(item.get_string());
  }
  return out;
}

// A proto enum in JSON: its name, or its number.
template <typename Enum>
StatusOr<Enum> EnumField(const bj::value& v, std::string_view field,
                         std::optional<Enum> (*from_name)(std::string_view),
                         std::initializer_list<Enum> by_number, std::string_view expected) {
  std::optional<Enum> parsed;
  if (v.is_string()) {
    parsed = from_name(v.get_string());
  } else if (v.is_int64() && v.get_int64() >= 1 &&
             v.get_int64() <= static_cast<int64_t>(by_number.size())) {
    parsed = by_number.begin()[v.get_int64() - 1];
  }
  if (!parsed) {
    std::string shown = bj::serialize(v);
    return InvalidArgument("Invalid value " + shown.substr(0, 200) + " for parameter '" +
                           std::string(field) + "': expected one of " + std::string(expected));
  }
  return *parsed;
}

}  // namespace

StatusOr<tracking::TraceMetricsQuery> TraceMetricsQueryFromJson(const bj::object& msg) {
  using tracking::AggregationType;
  using tracking::MetricViewType;
  tracking::TraceMetricsQuery q;
  ASSIGN_OR_RETURN(q.experiment_ids, StringList(msg, "experiment_ids", /*required=*/true));
  const bj::value* view = msg.if_contains("view_type");
  if (view == nullptr || view->is_null()) return MissingParameter("view_type");
  ASSIGN_OR_RETURN(q.view_type,
                   EnumField<MetricViewType>(*view, "view_type", &tracking::MetricViewTypeFromName,
                                             {MetricViewType::kTraces, MetricViewType::kSpans,
                                              MetricViewType::kAssessments},
                                             "TRACES, SPANS, ASSESSMENTS"));
  const bj::value* metric = msg.if_contains("metric_name");
  if (metric == nullptr || metric->is_null()) return MissingParameter("metric_name");
  if (!metric->is_string()) return InvalidParameter("metric_name", *metric);
  if (metric->get_string().empty()) return MissingParameter("metric_name");
  q.metric_name = std::string(metric->get_string());
  const bj::value* aggs = msg.if_contains("aggregations");
  if (aggs == nullptr || aggs->is_null()) return MissingParameter("aggregations");
  if (!aggs->is_array()) return InvalidParameter("aggregations", *aggs);
  for (const bj::value& item : aggs->get_array()) {
    if (!item.is_object()) return InvalidParameter("aggregations", *aggs);
    const bj::object& obj = item.get_object();
    const bj::value* type = obj.if_contains("aggregation_type");
    if (type == nullptr || type->is_null()) return MissingParameter("aggregation_type");
    tracking::MetricAggregation agg;
    ASSIGN_OR_RETURN(
        agg.type, EnumField<AggregationType>(
                      *type, "aggregation_type", &tracking::AggregationTypeFromName,
                      {AggregationType::kCount, AggregationType::kSum, AggregationType::kAvg,
                       AggregationType::kPercentile, AggregationType::kMin, AggregationType::kMax},
                      "COUNT, SUM, AVG, PERCENTILE, MIN, MAX"));
    ASSIGN_OR_RETURN(agg.percentile_value, json::GetDouble(obj, "percentile_value"));
    q.aggregations.push_back(agg);
  }
  ASSIGN_OR_RETURN(q.dimensions, StringList(msg, "dimensions", /*required=*/false));
  ASSIGN_OR_RETURN(q.filters, StringList(msg, "filters", /*required=*/false));
  for (auto [field, out] :
       {std::pair{"time_interval_seconds", &q.time_interval_seconds},
        std::pair{"start_time_ms", &q.start_time_ms}, std::pair{"end_time_ms", &q.end_time_ms}}) {
    const bj::value* v = msg.if_contains(field);
    if (v != nullptr && !v->is_null() && !v->is_int64() && !v->is_uint64() && !v->is_string()) {
      return InvalidParameter(field, *v);
    }
    StatusOr<std::optional<int64_t>> n = json::GetInt64(msg, field);
    if (!n.ok()) return InvalidParameter(field, *v);
    *out = *n;
  }
  const bj::value* max = msg.if_contains("max_results");
  StatusOr<std::optional<int64_t>> max_results = json::GetInt64(msg, "max_results");
  if (!max_results.ok() || (max != nullptr && (max->is_double() || max->is_bool()))) {
    return InvalidParameter("max_results", *max);
  }
  q.max_results = max_results->value_or(tracking::kDefaultTraceMetricsMaxResults);
  // Accepted and ignored: all data points come in one page (as in MLflow 3.17).
  const bj::value* token = msg.if_contains("page_token");
  if (token != nullptr && !token->is_null() && !token->is_string()) {
    return InvalidParameter("page_token", *token);
  }
  return q;
}

bj::object TraceMetricsToJson(const std::vector<tracking::MetricDataPoint>& points) {
  bj::object out;
  if (points.empty()) return out;
  bj::array items;
  for (const tracking::MetricDataPoint& p : points) {
    bj::object item;
    item["metric_name"] = p.metric_name;
    if (!p.dimensions.empty()) {
      bj::object dims;
      for (const auto& [k, v] : p.dimensions) dims[k] = v;
      item["dimensions"] = std::move(dims);
    }
    bj::object values;
    for (const auto& [k, v] : p.values) values[k] = v;
    item["values"] = std::move(values);
    items.push_back(std::move(item));
  }
  out["data_points"] = std::move(items);
  return out;
}

// ---- Handlers ----

TraceHandlers::TraceHandlers(tracking::TraceService& service) : service_(service) {}

void TraceHandlers::Add(http::Router& router, http::Method method, std::string_view version,
                        std::string_view path, Method fn,
                        std::optional<http::Permission> permission) {
  auto handler = [this, fn](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg =
        ReadMessage(req, {"order_by", "request_ids", "trace_ids", "experiment_ids"});
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.max_body_bytes = 16 << 20;  // previews and metadata of one trace
  options.permission = permission.value_or(MlflowRoutePermission(method, path));
  for (std::string_view api : {"/api/", "/ajax-api/"}) {
    router.Add(method, std::string(api) + std::string(version) + "/mlflow/" + std::string(path),
               handler, options);
  }
}

void TraceHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = TraceHandlers;
  Add(router, M::kPost, "3.0", "traces", &H::StartTrace);
  Add(router, M::kPost, "3.0", "traces/search", &H::SearchTraces);
  Add(router, M::kGet, "3.0", "traces/{trace_id}", &H::GetTraceInfo);
  // A query, though a POST; the literal path wins over traces/{trace_id}.
  Add(router, M::kPost, "3.0", "traces/metrics", &H::QueryTraceMetrics, http::Permission::kRead);
  Add(router, M::kGet, "3.0", "traces/get", &H::GetTrace);
  Add(router, M::kPost, "3.0", "traces/calculate-filter-correlation",
      &H::CalculateFilterCorrelation, http::Permission::kRead);
  Add(router, M::kGet, "3.0", "traces/batchGet", &H::BatchGetTraces);
  Add(router, M::kPost, "3.0", "traces/batchGetInfos", &H::BatchGetTraceInfos,
      http::Permission::kRead);
  for (std::string_view version : {"2.0", "3.0"}) {
    Add(router, M::kPatch, version, "traces/{trace_id}/tags", &H::SetTraceTag);
    Add(router, M::kDelete, version, "traces/{trace_id}/tags", &H::DeleteTraceTag);
    Add(router, M::kPost, version, "traces/delete-traces", &H::DeleteTraces);
  }
  Add(router, M::kPost, "2.0", "traces", &H::StartTraceV2);
  Add(router, M::kGet, "2.0", "traces", &H::SearchTracesV2);
  Add(router, M::kPatch, "2.0", "traces/{trace_id}", &H::EndTraceV2);
  Add(router, M::kGet, "2.0", "traces/{trace_id}/info", &H::GetTraceInfoV2);
  http::RouteOptions otlp;
  otlp.max_body_bytes = kMaxOtlpBodyBytes;
  otlp.permission = http::Permission::kWrite;
  router.Add(
      M::kPost, "/v1/traces", [this](http::Request& req) { return ExportOtlpTraces(req); }, otlp);
}

TraceHandlers::JsonResult TraceHandlers::StartTrace(const http::Request& req,
                                                    const bj::object& msg) {
  ASSIGN_OR_RETURN(const bj::object* trace, json::GetObject(msg, "trace"));
  if (trace == nullptr) return InvalidArgument("Missing value for required parameter 'trace'");
  ASSIGN_OR_RETURN(const bj::object* info_json, json::GetObject(*trace, "trace_info"));
  if (info_json == nullptr) {
    return InvalidArgument("Missing value for required parameter 'trace.trace_info'");
  }
  ASSIGN_OR_RETURN(TraceInfo info, TraceInfoFromJson(*info_json));
  ASSIGN_OR_RETURN(TraceInfo stored, service_.StartTrace(req.scope, std::move(info)));
  return bj::object{{"trace", bj::object{{"trace_info", TraceInfoToJson(stored)}}}};
}

TraceHandlers::JsonResult TraceHandlers::GetTraceInfo(const http::Request& req,
                                                      const bj::object& /*msg*/) {
  ASSIGN_OR_RETURN(TraceInfo info, service_.GetTraceInfo(req.scope, req.PathParam("trace_id")));
  return bj::object{{"trace", bj::object{{"trace_info", TraceInfoToJson(info)}}}};
}

namespace {

// What V2 and V3 searches share: paging, filter, order. The filter's feedback.<name> /
// expectation.<name> clauses go to `assessments`, the assessment store's to answer.
StatusOr<metadata::SearchTracesQuery> SearchQueryFromJson(
    const bj::object& msg, std::vector<tracking::AssessmentFilter>& assessments) {
  metadata::SearchTracesQuery q;
  ASSIGN_OR_RETURN(q.page.max_results, OptionalInt(msg, "max_results", kDefaultSearchTracesMax));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  ASSIGN_OR_RETURN(q.page.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter"));
  ASSIGN_OR_RETURN(tracking::SplitTraceFilter split, tracking::SplitAssessmentFilters(filter_text));
  ASSIGN_OR_RETURN(q.filter, filter::ParseFilter(split.rest, filter::SearchKind::kTraces));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kTraces));
  assessments = std::move(split.assessments);
  return q;
}

}  // namespace

TraceHandlers::JsonResult TraceHandlers::SearchTraces(const http::Request& req,
                                                      const bj::object& msg) {
  std::vector<tracking::AssessmentFilter> assessments;
  ASSIGN_OR_RETURN(metadata::SearchTracesQuery q, SearchQueryFromJson(msg, assessments));
  // V3 names experiments through locations; experiment_ids (V2) is read too.
  ASSIGN_OR_RETURN(const bj::array* locations, json::GetArray(msg, "locations"));
  if (locations != nullptr) {
    for (const bj::value& v : *locations) {
      if (!v.is_object()) return InvalidArgument("Invalid value for 'locations': expected objects");
      ASSIGN_OR_RETURN(std::string id, ExperimentOfLocation(v.get_object()));
      q.experiment_ids.push_back(std::move(id));
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids, StringsFromJson(msg, "experiment_ids"));
  q.experiment_ids.insert(q.experiment_ids.end(), ids.begin(), ids.end());
  if (q.experiment_ids.empty()) {
    return InvalidArgument("At least one trace location (an experiment) must be specified");
  }
  ASSIGN_OR_RETURN(auto page, service_.SearchTraces(req.scope, q, assessments));
  bj::object out;
  if (!page.items.empty()) {
    bj::array traces;
    traces.reserve(page.items.size());
    for (const TraceInfo& info : page.items) traces.push_back(TraceInfoToJson(info));
    out["traces"] = std::move(traces);
  }
  AddNextPageToken(out, page, q.page);
  return out;
}

TraceHandlers::JsonResult TraceHandlers::SetTraceTag(const http::Request& req,
                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  ASSIGN_OR_RETURN(std::string value, OptionalString(msg, "value"));
  RETURN_IF_ERROR(
      service_.SetTraceTag(req.scope, req.PathParam("trace_id"), {std::move(key), value}));
  return bj::object{};
}

TraceHandlers::JsonResult TraceHandlers::DeleteTraceTag(const http::Request& req,
                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string key, RequiredString(msg, "key"));
  RETURN_IF_ERROR(service_.DeleteTraceTag(req.scope, req.PathParam("trace_id"), key));
  return bj::object{};
}

TraceHandlers::JsonResult TraceHandlers::DeleteTraces(const http::Request& req,
                                                      const bj::object& msg) {
  metadata::DeleteTracesRequest request;
  ASSIGN_OR_RETURN(request.experiment_id, RequiredString(msg, "experiment_id"));
  ASSIGN_OR_RETURN(request.trace_ids, StringsFromJson(msg, "request_ids"));
  ASSIGN_OR_RETURN(request.max_timestamp_ms, json::GetInt64(msg, "max_timestamp_millis"));
  ASSIGN_OR_RETURN(request.max_traces, json::GetInt64(msg, "max_traces"));
  ASSIGN_OR_RETURN(int64_t deleted, service_.DeleteTraces(req.scope, request));
  return bj::object{{"traces_deleted", deleted}};
}

TraceHandlers::JsonResult TraceHandlers::QueryTraceMetrics(const http::Request& req,
                                                           const bj::object& msg) {
  ASSIGN_OR_RETURN(tracking::TraceMetricsQuery query, TraceMetricsQueryFromJson(msg));
  ASSIGN_OR_RETURN(auto points, service_.QueryTraceMetrics(req.scope, query));
  return TraceMetricsToJson(points);
}

namespace {

bj::object TraceWithSpansToJson(const tracking::TraceService::TraceWithSpans& trace) {
  bj::object out{{"trace_info", TraceInfoToJson(trace.info)}};
  if (!trace.spans.empty()) {
    bj::array spans;
    spans.reserve(trace.spans.size());
    for (const metadata::Span& span : trace.spans) spans.push_back(SpanToOtelJson(span));
    out["spans"] = std::move(spans);
  }
  return out;
}

// experiment_ids when the request names it (even empty), as MLflow tells "absent" from "[]".
StatusOr<std::optional<std::vector<std::string>>> OptionalExperimentIds(const bj::object& msg) {
  if (msg.if_contains("experiment_ids") == nullptr) {
    return std::optional<std::vector<std::string>>();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids,
                   StringList(msg, "experiment_ids", /*required=*/false));
  return std::optional<std::vector<std::string>>(std::move(ids));
}

// `text` in any case equals lower-case `word` ("True", "FALSE").
bool EqualsLower(std::string_view text, std::string_view word) {
  return text.size() == word.size() &&
         std::equal(text.begin(), text.end(), word.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

constexpr std::string_view kTraceTagAttributePrefix = "mlflow.traceTag.";
constexpr size_t kMaxOtlpTagKeyLength = 250;
constexpr size_t kMaxOtlpTagValueLength = 8000;

// A trace tag taken from OTLP attributes, as MLflow validates it: a key of 1 to 250 characters
// without '..' or a leading '/', the value cut to 8000 characters; nullopt to skip it.
std::optional<metadata::Tag> OtlpTag(std::string key, std::string value) {
  if (key.empty() || key.size() > kMaxOtlpTagKeyLength || key.front() == '/' ||
      key.find("..") != std::string::npos || !IsValidUtf8(key) || !IsValidUtf8(value)) {
    return std::nullopt;
  }
  if (value.size() > kMaxOtlpTagValueLength) {
    size_t cut = kMaxOtlpTagValueLength;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
    value.resize(cut);
  }
  return metadata::Tag{std::move(key), std::move(value)};
}

http::Response OtlpDetail(int status, std::string detail) {
  return http::Response::Json(status, bj::serialize(bj::object{{"detail", std::move(detail)}}));
}

}  // namespace

TraceHandlers::JsonResult TraceHandlers::GetTrace(const http::Request& req, const bj::object& msg) {
  const bj::value* id = msg.if_contains("trace_id");
  if (id == nullptr || id->is_null() || (id->is_string() && id->get_string().empty())) {
    return MissingParameter("trace_id");
  }
  if (!id->is_string()) return InvalidParameter("trace_id", *id);
  bool allow_partial = false;
  if (const bj::value* partial = msg.if_contains("allow_partial");
      partial != nullptr && !partial->is_null()) {
    if (partial->is_bool()) {
      allow_partial = partial->get_bool();
    } else if (partial->is_string() && (EqualsLower(partial->get_string(), "true") ||
                                        EqualsLower(partial->get_string(), "false"))) {
      allow_partial = EqualsLower(partial->get_string(), "true");
    } else {
      std::string shown = partial->is_string() ? std::string(partial->get_string().subview())
                                               : bj::serialize(*partial);
      return InvalidArgument("Invalid boolean value: " + shown.substr(0, 200) +
                             ", must be 'true' or 'false'.");
    }
  }
  ASSIGN_OR_RETURN(auto trace, service_.GetTrace(req.scope, id->get_string(), allow_partial));
  return bj::object{{"trace", TraceWithSpansToJson(trace)}};
}

TraceHandlers::JsonResult TraceHandlers::BatchGetTraces(const http::Request& req,
                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, StringList(msg, "trace_ids", /*required=*/true));
  ASSIGN_OR_RETURN(auto experiment_ids, OptionalExperimentIds(msg));
  ASSIGN_OR_RETURN(auto traces, service_.BatchGetTraces(req.scope, ids, experiment_ids));
  bj::object out;
  if (!traces.empty()) {
    bj::array items;
    for (const auto& trace : traces) items.push_back(TraceWithSpansToJson(trace));
    out["traces"] = std::move(items);
  }
  return out;
}

TraceHandlers::JsonResult TraceHandlers::BatchGetTraceInfos(const http::Request& req,
                                                            const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, StringList(msg, "trace_ids", /*required=*/true));
  ASSIGN_OR_RETURN(auto experiment_ids, OptionalExperimentIds(msg));
  ASSIGN_OR_RETURN(auto infos, service_.BatchGetTraceInfos(req.scope, ids, experiment_ids));
  bj::object out;
  if (!infos.empty()) {
    bj::array items;
    for (const TraceInfo& info : infos) items.push_back(TraceInfoToJson(info));
    out["trace_infos"] = std::move(items);
  }
  return out;
}

TraceHandlers::JsonResult TraceHandlers::CalculateFilterCorrelation(const http::Request& req,
                                                                    const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids,
                   StringList(msg, "experiment_ids", /*required=*/true));
  std::string filters[2];
  for (int i = 0; i < 2; ++i) {
    std::string field = "filter_string" + std::to_string(i + 1);
    const bj::value* v = msg.if_contains(field);
    if (v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty())) {
      return MissingParameter(field);
    }
    if (!v->is_string()) return InvalidParameter(field, *v);
    filters[i] = std::string(v->get_string());
  }
  std::optional<std::string> base;
  if (const bj::value* v = msg.if_contains("base_filter"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) return InvalidParameter("base_filter", *v);
    base = std::string(v->get_string());
  }
  ASSIGN_OR_RETURN(auto result, service_.CalculateFilterCorrelation(req.scope, experiment_ids,
                                                                    filters[0], filters[1], base));
  bj::object out;
  if (result.npmi) out["npmi"] = json::DoubleValue(*result.npmi);
  if (result.npmi_smoothed) out["npmi_smoothed"] = json::DoubleValue(*result.npmi_smoothed);
  out["filter1_count"] = result.filter1_count;
  out["filter2_count"] = result.filter2_count;
  out["joint_count"] = result.joint_count;
  out["total_count"] = result.total_count;
  return out;
}

http::Response TraceHandlers::ExportOtlpTraces(const http::Request& req) {
  std::optional<std::string_view> experiment = req.headers.Get("x-mlflow-experiment-id");
  if (!experiment) {
    // FastAPI's answer for a missing required header.
    return http::Response::Json(
        422, R"({"detail":[{"type":"missing","loc":["header","x-mlflow-experiment-id"],)"
             R"("msg":"Field required","input":null}]})");
  }
  std::optional<std::string_view> content_type = req.headers.Get("content-type");
  std::string media_type;
  if (content_type) {
    media_type = std::string(content_type->substr(0, content_type->find(';')));
    while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
    while (!media_type.empty() && media_type.front() == ' ') media_type.erase(0, 1);
  }
  if (media_type != "application/x-protobuf" && media_type != "application/json") {
    std::string shown = content_type ? std::string(content_type->substr(0, 200)) : "None";
    return OtlpDetail(400, "Invalid Content-Type: " + ToValidUtf8(shown) +
                               ". Expected: application/x-protobuf or application/json");
  }
  if (std::optional<std::string_view> encoding = req.headers.Get("content-encoding");
      encoding && !encoding->empty() && *encoding != "identity") {
    return OtlpDetail(400,
                      "Unsupported Content-Encoding: " + ToValidUtf8(encoding->substr(0, 200)));
  }
  StatusOr<otlp::ExportTraceServiceRequest> parsed =
      media_type == "application/json" ? otlp::ParseExportTraceServiceRequestJson(req.body)
                                       : otlp::DecodeExportTraceServiceRequest(req.body);
  if (!parsed.ok()) return OtlpDetail(400, "Invalid OpenTelemetry format");
  if (parsed->resource_spans.empty()) {
    return OtlpDetail(400, "Invalid OpenTelemetry format - no spans found");
  }
  metadata::SpanBatch batch;
  batch.experiment_id = std::string(*experiment);
  std::vector<metadata::TraceTagUpdate> root_tags;
  for (const otlp::ResourceSpans& resource : parsed->resource_spans) {
    std::vector<std::string> trace_ids;  // of this resource's spans
    for (const otlp::Span& span : resource.spans) {
      StatusOr<metadata::Span> converted = SpanFromOtlp(span);
      if (!converted.ok()) {
        return OtlpDetail(422, "Cannot convert OpenTelemetry span to MLflow span");
      }
      if (std::find(trace_ids.begin(), trace_ids.end(), converted->trace_id) == trace_ids.end()) {
        trace_ids.push_back(converted->trace_id);
      }
      if (!converted->parent_span_id) {
        batch.previews.push_back(PreviewOfRootSpan(*converted));
        // User tags the client carries on the root span as mlflow.traceTag.<key> attributes.
        for (const otlp::KeyValue& kv : span.attributes) {
          if (kv.key.rfind(kTraceTagAttributePrefix, 0) != 0) continue;
          std::string key = kv.key.substr(kTraceTagAttributePrefix.size());
          std::string value =
              kv.value.is_string() ? std::string(kv.value.get_string()) : bj::serialize(kv.value);
          // The attribute value is the JSON-encoded tag value.
          boost::system::error_code ec;
          bj::value decoded = bj::parse(value, ec);
          if (!ec && decoded.is_string()) value = std::string(decoded.get_string());
          if (auto tag = OtlpTag(std::move(key), std::move(value))) {
            root_tags.push_back({converted->trace_id, std::move(*tag)});
          }
        }
      }
      batch.spans.push_back(std::move(*converted));
    }
    // Resource attributes (service.name, ...) become tags of the resource's traces; the SDK's own
    // and the reserved mlflow.* ones do not.
    for (const otlp::KeyValue& kv : resource.resource_attributes) {
      if (kv.key.rfind("telemetry.sdk.", 0) == 0 || kv.key.rfind("mlflow.", 0) == 0) continue;
      std::string value =
          kv.value.is_string() ? std::string(kv.value.get_string()) : bj::serialize(kv.value);
      std::optional<metadata::Tag> tag = OtlpTag(kv.key, std::move(value));
      if (!tag) continue;
      for (const std::string& id : trace_ids) batch.tags.push_back({id, *tag});
    }
  }
  // User tags after resource attributes: they win on a collision.
  for (metadata::TraceTagUpdate& t : root_tags) batch.tags.push_back(std::move(t));
  Status logged = service_.LogSpans(req.scope, std::move(batch));
  if (!logged.ok()) return http::ErrorResponse(logged);
  // An empty ExportTraceServiceResponse.
  http::Response ok;
  ok.status = 200;
  ok.content_type = "application/x-protobuf";
  return ok;
}

// ---- Deprecated V2 calls ----

namespace {

constexpr int64_t kMaxSearchTracesV2Results = 500;

bj::array KeyValuesToJson(const std::vector<Tag>& entries) {
  bj::array out;
  for (const Tag& e : entries) out.push_back(bj::object{{"key", e.key}, {"value", e.value}});
  return out;
}

// A repeated {key, value} field; each entry needs its key.
StatusOr<std::vector<Tag>> KeyValueList(const bj::object& msg, std::string_view field) {
  std::vector<Tag> out;
  const bj::value* v = msg.if_contains(field);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return InvalidParameter(field, *v);
  for (const bj::value& item : v->get_array()) {
    if (!item.is_object()) return InvalidParameter(field, *v);
    const bj::value* key = item.get_object().if_contains("key");
    const bj::value* value = item.get_object().if_contains("value");
    if (key == nullptr || !key->is_string() ||
        (value != nullptr && !value->is_null() && !value->is_string())) {
      return InvalidParameter(field, *v);
    }
    out.push_back({std::string(key->get_string()),
                   value != nullptr && value->is_string() ? std::string(value->get_string()) : ""});
  }
  return out;
}

// An int64 field given as a number or a decimal string.
StatusOr<int64_t> IntLike(const bj::object& msg, std::string_view field) {
  const bj::value* v = msg.if_contains(field);
  if (v == nullptr || v->is_null()) return int64_t{0};
  StatusOr<std::optional<int64_t>> n = json::GetInt64(msg, field);
  if (!n.ok() || v->is_double() || v->is_bool()) return InvalidParameter(field, *v);
  return n->value_or(0);
}

}  // namespace

bj::object TraceInfoV2ToJson(const TraceInfo& info) {
  bj::object o;
  o["request_id"] = info.trace_id;
  o["experiment_id"] = info.experiment_id;
  o["timestamp_ms"] = info.request_time_ms;
  o["execution_time_ms"] = info.execution_duration_ms.value_or(0);
  o["status"] = info.state == metadata::TraceState::kUnspecified
                    ? std::string_view("TRACE_STATUS_UNSPECIFIED")
                    : metadata::TraceStateName(info.state);
  o["request_metadata"] = KeyValuesToJson(info.trace_metadata);
  o["tags"] = KeyValuesToJson(info.tags);
  return o;
}

TraceHandlers::JsonResult TraceHandlers::StartTraceV2(const http::Request& req,
                                                      const bj::object& msg) {
  const bj::value* experiment = msg.if_contains("experiment_id");
  if (experiment != nullptr && !experiment->is_null() && !experiment->is_string()) {
    return InvalidParameter("experiment_id", *experiment);
  }
  ASSIGN_OR_RETURN(int64_t timestamp_ms, IntLike(msg, "timestamp_ms"));
  ASSIGN_OR_RETURN(std::vector<Tag> metadata, KeyValueList(msg, "request_metadata"));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, KeyValueList(msg, "tags"));
  ASSIGN_OR_RETURN(TraceInfo info,
                   service_.StartTraceV2(req.scope,
                                         experiment != nullptr && experiment->is_string()
                                             ? std::string(experiment->get_string())
                                             : std::string(),
                                         timestamp_ms, std::move(metadata), std::move(tags)));
  return bj::object{{"trace_info", TraceInfoV2ToJson(info)}};
}

TraceHandlers::JsonResult TraceHandlers::EndTraceV2(const http::Request& req,
                                                    const bj::object& msg) {
  ASSIGN_OR_RETURN(int64_t timestamp_ms, IntLike(msg, "timestamp_ms"));
  const bj::value* status = msg.if_contains("status");
  if (status != nullptr && !status->is_null() && !status->is_string()) {
    return InvalidParameter("status", *status);
  }
  std::string status_name =
      status != nullptr && status->is_string() ? std::string(status->get_string()) : "";
  std::optional<metadata::TraceState> state = metadata::TraceStateFromName(status_name);
  if (!state || *state == metadata::TraceState::kUnspecified) {
    return InvalidArgument("Invalid trace status '" + status_name.substr(0, 100) +
                           "': expected OK, ERROR or IN_PROGRESS");
  }
  ASSIGN_OR_RETURN(std::vector<Tag> metadata, KeyValueList(msg, "request_metadata"));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, KeyValueList(msg, "tags"));
  ASSIGN_OR_RETURN(TraceInfo info,
                   service_.EndTraceV2(req.scope, req.PathParam("trace_id"), timestamp_ms, *state,
                                       std::move(metadata), std::move(tags)));
  return bj::object{{"trace_info", TraceInfoV2ToJson(info)}};
}

TraceHandlers::JsonResult TraceHandlers::GetTraceInfoV2(const http::Request& req,
                                                        const bj::object& /*msg*/) {
  ASSIGN_OR_RETURN(TraceInfo info, service_.GetTraceInfo(req.scope, req.PathParam("trace_id")));
  return bj::object{{"trace_info", TraceInfoV2ToJson(info)}};
}

TraceHandlers::JsonResult TraceHandlers::SearchTracesV2(const http::Request& req,
                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids,
                   StringList(msg, "experiment_ids", /*required=*/true));
  if (const bj::value* max = msg.if_contains("max_results"); max != nullptr && !max->is_null()) {
    StatusOr<std::optional<int64_t>> n = json::GetInt64(msg, "max_results");
    if (!n.ok() || !*n || **n > kMaxSearchTracesV2Results) {
      return InvalidParameter("max_results", *max);
    }
  }
  std::vector<tracking::AssessmentFilter> assessments;
  ASSIGN_OR_RETURN(metadata::SearchTracesQuery q, SearchQueryFromJson(msg, assessments));
  q.experiment_ids = std::move(experiment_ids);
  ASSIGN_OR_RETURN(auto page, service_.SearchTraces(req.scope, q, assessments));
  bj::object out;
  if (!page.items.empty()) {
    bj::array traces;
    for (const TraceInfo& info : page.items) traces.push_back(TraceInfoV2ToJson(info));
    out["traces"] = std::move(traces);
  }
  AddNextPageToken(out, page, q.page);
  return out;
}

}  // namespace cairn::api::mlflow
