#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/mlflow/otlp_trace_request.h"
#include "base/status.h"
#include "metadata/trace_types.h"

// Spans between their three shapes: an OTLP span as POST /v1/traces receives it, the stored span
// (its JSON `content` as MLflow's Span.to_dict() writes it), and the OpenTelemetry Span message
// in proto JSON that GET traces/get and traces/batchGet answer with (as MLflow's Trace.to_proto).
namespace cairn::api::mlflow {

// MLflow's request preview limit (TRACE_REQUEST_RESPONSE_PREVIEW_MAX_LENGTH_OSS), in characters.
inline constexpr size_t kSpanPreviewMaxChars = 1000;

// The stored span for an OTLP span, as MLflow's server stores it (Span.from_otel_proto, then
// to_dict with attributes that were JSON strings unwrapped once): attribute values JSON-encoded,
// mlflow.traceRequestId set to the MLflow trace id derived from the OTLP trace id ("tr-" + hex).
// INVALID_ARGUMENT when the span cannot be one: no trace or span id, ids longer than 16 / 8
// bytes, times beyond int64.
StatusOr<metadata::Span> SpanFromOtlp(const otlp::Span& span);

// "tr-" + the 32 hex digits of an OTLP trace id (up to 16 bytes, zero-padded on the left).
std::string MlflowTraceIdFromOtlp(std::string_view trace_id_bytes);

// What a root span contributes to its trace's previews: its mlflow.spanInputs / spanOutputs
// attribute text, cut to kSpanPreviewMaxChars characters ("..." marks a cut).
metadata::RootSpanPreview PreviewOfRootSpan(const metadata::Span& span);

// The stored span as an OpenTelemetry Span in proto JSON (ids base64, attributes as AnyValue).
// A content that is not an MLflow span dict yields the fields it has.
boost::json::object SpanToOtelJson(const metadata::Span& span);

// TraceData JSON ({"spans": [...]}) from stored spans, as traces.json holds it.
std::string TraceDataJson(const std::vector<metadata::Span>& spans);

// The same from OpenTelemetry spans in proto JSON (what traces/get answers), for callers that read
// spans through that route: each span back in MLflow's Span.to_dict() shape.
std::string TraceDataJsonFromOtel(const boost::json::array& otel_spans);

}  // namespace cairn::api::mlflow
