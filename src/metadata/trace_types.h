#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "metadata/assessment_types.h"
#include "metadata/types.h"

// Traces (MLflow 3 TraceInfoV3) as the metadata stores hold them. The spans themselves are not
// here: the client uploads them as traces.json through the artifact service, to the location
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

}  // namespace cairn::metadata
