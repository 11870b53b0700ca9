#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "http/router.h"
#include "metadata/trace_types.h"
#include "tracking/trace_service.h"

// MLflow 3 trace endpoints: StartTraceV3, GetTraceInfoV3, SearchTracesV3, GetTrace (traces/get),
// BatchGetTraces, BatchGetTraceInfos and QueryTraceMetrics (POST traces/metrics, the experiment
// overview's charts) under /api/3.0/mlflow/traces, trace tags and delete-traces under
// /api/2.0/mlflow/traces (each also under /ajax-api), and OTLP POST /v1/traces, where MLflow 3.4+
// clients send each span as it ends (protobuf, or OTLP JSON). The server then stores the spans
// and tags the trace mlflow.trace.spansLocation=TRACKING_STORE, so the client does not upload
// traces.json and reads the spans back through traces/get. Traces without that tag (older
// clients, other exporters) keep their spans in the artifact repository as before.
namespace cairn::api::mlflow {

class TraceHandlers {
 public:
  explicit TraceHandlers(tracking::TraceService& service);

  void Register(http::Router& router);

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (TraceHandlers::*)(const http::Request&, const boost::json::object&);

  // `permission` overrides the one MlflowRoutePermission derives from the method and path.
  void Add(http::Router& router, http::Method method, std::string_view version,
           std::string_view path, Method fn, std::optional<http::Permission> permission = {});

  JsonResult StartTrace(const http::Request& req, const boost::json::object& msg);
  JsonResult GetTraceInfo(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchTraces(const http::Request& req, const boost::json::object& msg);
  JsonResult SetTraceTag(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteTraceTag(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteTraces(const http::Request& req, const boost::json::object& msg);
  JsonResult QueryTraceMetrics(const http::Request& req, const boost::json::object& msg);
  JsonResult GetTrace(const http::Request& req, const boost::json::object& msg);
  JsonResult BatchGetTraces(const http::Request& req, const boost::json::object& msg);
  JsonResult BatchGetTraceInfos(const http::Request& req, const boost::json::object& msg);
  JsonResult CalculateFilterCorrelation(const http::Request& req, const boost::json::object& msg);
  // The deprecated V2 calls of MLflow 2.x clients (TraceInfo V2 shapes).
  JsonResult StartTraceV2(const http::Request& req, const boost::json::object& msg);
  JsonResult EndTraceV2(const http::Request& req, const boost::json::object& msg);
  JsonResult GetTraceInfoV2(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchTracesV2(const http::Request& req, const boost::json::object& msg);
  // POST /v1/traces, answered as MLflow's FastAPI route answers: errors as {"detail": ...}.
  http::Response ExportOtlpTraces(const http::Request& req);

  tracking::TraceService& service_;
};

// TraceInfoV3 in proto3 JSON (request_time an RFC 3339 timestamp, execution_duration a
// "1.5s" duration, maps as objects). Exposed for tests.
boost::json::object TraceInfoToJson(const metadata::TraceInfo& info);
StatusOr<metadata::TraceInfo> TraceInfoFromJson(const boost::json::object& obj);
// The deprecated TraceInfo (V2): request_id, timestamp_ms, execution_time_ms, status
// (TRACE_STATUS_UNSPECIFIED, OK, ERROR, IN_PROGRESS), metadata and tags as key-value lists.
boost::json::object TraceInfoV2ToJson(const metadata::TraceInfo& info);

// A QueryTraceMetrics request body as MLflow's handler reads it (required experiment_ids,
// view_type, metric_name and aggregations; enums by name or number). Exposed for tests.
StatusOr<tracking::TraceMetricsQuery> TraceMetricsQueryFromJson(const boost::json::object& msg);
boost::json::object TraceMetricsToJson(const std::vector<tracking::MetricDataPoint>& points);

// The OTLP request body cap of POST /v1/traces.
inline constexpr uint64_t kMaxOtlpBodyBytes = 16 << 20;

// google.protobuf.Timestamp / Duration JSON, at millisecond precision (finer digits are
// truncated). Timestamps accept 'Z' or a +hh:mm / -hh:mm offset.
StatusOr<int64_t> ParseTimestampMillis(std::string_view text);
std::string FormatTimestampMillis(int64_t ms);
StatusOr<int64_t> ParseDurationMillis(std::string_view text);
std::string FormatDurationMillis(int64_t ms);

}  // namespace cairn::api::mlflow
