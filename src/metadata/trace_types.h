#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "metadata/assessment_types.h"
#include "metadata/types.h"

// Traces (MLflow 3 TraceInfoV3) and their spans as the metadata stores hold them. Spans arrive
// over OTLP (POST /v1/traces) and are kept like MLflow's SQL store keeps them: a few columns to
// filter on beside the span's full JSON. Clients that do not send spans that way (or servers that
// answered 501) upload them as traces.json through the artifact service instead, to the location
// the store puts in the trace's mlflow.artifactLocation tag.
namespace cairn::metadata {

enum class TraceState { kUnspecified, kOk, kError, kInProgress };

struct TraceInfo {
  std::string trace_id;  // "tr-" + 32 hex, chosen by the client
  std::string experiment_id;
  std::optional<std::string> client_request_id;
  int64_t request_time_ms = 0;
  std::optional<int64_t> execution_duration_ms;
  TraceState state = TraceState::kUnspecified;
  std::optional<std::string> request_preview;
  std::optional<std::string> response_preview;
  std::vector<Tag> trace_metadata;  // sorted by key
  std::vector<Tag> tags;            // sorted by key
  // Filled by the trace service from the AssessmentStore; trace stores leave it empty.
  std::vector<Assessment> assessments;
};

struct SearchTracesQuery {
  std::vector<std::string> experiment_ids;
  filter::Filter filter;
  std::vector<filter::OrderBy> order_by;  // default: timestamp_ms DESC, then trace_id
  Page page{100, 0};
};

// Which traces DeleteTraces removes from one experiment: the listed ids, or the oldest ones up
// to `max_timestamp_ms` (at most `max_traces` of them when set).
struct DeleteTracesRequest {
  std::string experiment_id;
  std::vector<std::string> trace_ids;
  std::optional<int64_t> max_timestamp_ms;
  std::optional<int64_t> max_traces;
};

// One span, keyed by (trace_id, span_id). `content` is the span as MLflow's Span.to_dict() writes
// it (ids base64, attribute values JSON-encoded strings); the other fields repeat parts of it for
// filtering and ordering.
struct Span {
  std::string trace_id;  // the MLflow trace id ("tr-" + 32 hex)
  std::string span_id;   // 16 hex digits
  std::optional<std::string> parent_span_id;
  std::string name;
  std::optional<std::string> type;  // mlflow.spanType, e.g. "LLM"
  std::string status;               // "OK", "ERROR" or "UNSET"
  int64_t start_time_ns = 0;
  std::optional<int64_t> end_time_ns;
  std::string content;
  std::string experiment_id;  // set by the store on reads; ignored on writes
};

// What a root span says about its trace, for a trace that has no previews yet.
struct RootSpanPreview {
  std::string trace_id;
  std::optional<std::string> request_preview;
  std::optional<std::string> response_preview;
};

// A tag a span batch sets on one of its traces (OTLP resource attributes, mlflow.traceTag.*
// attributes of a root span).
struct TraceTagUpdate {
  std::string trace_id;
  Tag tag;
};

// A batch of spans for LogSpans: traces not stored yet are created in `experiment_id`.
struct SpanBatch {
  std::string experiment_id;
  std::vector<Span> spans;
  std::vector<RootSpanPreview> previews;
  std::vector<TraceTagUpdate> tags;  // written in order, so a later one wins
};

}  // namespace cairn::metadata
