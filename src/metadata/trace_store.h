#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/trace_types.h"

namespace cairn::metadata {

// The trace part of the metadata store: MLflow 3 trace infos (TraceInfoV3) with their tags and
// request metadata, one experiment each, and their spans. Deleting a trace deletes its spans. Same
// contract as every domain store (metadata_stores.h): tenant-scoped, atomic writes, durable once
// acknowledged, thread-safe. Reads return tags and metadata sorted by key. A missing trace is
// NOT_FOUND "Trace with ID 'X' not found." (MLflow's words); a missing or deleted experiment is
// what the tracking half says for it.
class TraceStore {
 public:
  virtual ~TraceStore() = default;

  // Stores `info` and returns it as stored. The client calls this once a trace has ended; a
  // second call for the same trace id replaces the info's fields and merges its tags and
  // metadata (later values win). The experiment must exist and be active. Unless the info sets
  // it, the tag mlflow.artifactLocation records where the client is to upload the spans:
  // `<experiment artifact location>/traces/<trace id>/artifacts`.
  virtual StatusOr<TraceInfo> StartTrace(std::string_view tenant, const TraceInfo& info) = 0;
  virtual StatusOr<TraceInfo> GetTraceInfo(std::string_view tenant, std::string_view trace_id) = 0;
  // Traces of the given experiments (unknown ids match nothing). Filters and order_by use the
  // grammar of filter::SearchKind::kTraces: attributes request_id, timestamp_ms,
  // execution_time_ms, end_time_ms, status, client_request_id (experiment_id for ordering),
  // tags and metadata (filter::Entity::kMetadata). Default order timestamp_ms DESC; the trace id
  // is the final tie-breaker.
  virtual StatusOr<ResultPage<TraceInfo>> SearchTraces(std::string_view tenant,
                                                       const SearchTracesQuery& query) = 0;
  virtual Status SetTraceTag(std::string_view tenant, std::string_view trace_id,
                             const Tag& tag) = 0;
  // NOT_FOUND if the trace or the tag is absent.
  virtual Status DeleteTraceTag(std::string_view tenant, std::string_view trace_id,
                                std::string_view key) = 0;
  // Deletes what `request` selects; returns how many traces were deleted. Ids that do not
  // exist (or belong to another experiment) are skipped.
  virtual StatusOr<int64_t> DeleteTraces(std::string_view tenant,
                                         const DeleteTracesRequest& request) = 0;

  // Stores `batch.spans`, replacing a span already stored under the same (trace id, span id),
  // the way MLflow's SQL store `log_spans` does:
  // - A trace not stored yet is created in `batch.experiment_id` (NOT_FOUND if that experiment
  //   does not exist), with request time the earliest span start, duration up to the latest span
  //   end, state from its root span (ERROR if the root span's status is ERROR, OK otherwise;
  //   IN_PROGRESS without a root span) and the mlflow.artifactLocation tag StartTrace would add.
  // - A stored trace keeps its experiment (its spans go there). Unless StartTrace has finalized
  //   it (metadata mlflow.trace.infoFinalized), its time range widens to cover the spans; an
  //   IN_PROGRESS or STATE_UNSPECIFIED state takes the root span's.
  // - `batch.previews` fill the request and response previews a trace does not have yet.
  // - Every trace in the batch gets the tag mlflow.trace.spansLocation = TRACKING_STORE, then
  //   `batch.tags` of traces in the batch (others are ignored).
  // All or nothing.
  virtual Status LogSpans(std::string_view tenant, const SpanBatch& batch) = 0;
  // The spans of the given traces (unknown ids have none), grouped by trace in the order of
  // `trace_ids`; within a trace the root spans first, then by start time and span id.
  virtual StatusOr<std::vector<Span>> GetSpans(std::string_view tenant,
                                               const std::vector<std::string>& trace_ids) = 0;
  // For `cairn import` only (copying another MLflow store, trace ids kept): stores `info` with
  // its tags and metadata exactly as given (no mlflow.artifactLocation is added), whatever the
  // state of its experiment, which must exist (NOT_FOUND). ALREADY_EXISTS when the tenant has a
  // trace of that id; nothing is changed then.
  virtual Status ImportTraceInfo(std::string_view tenant, const TraceInfo& info) = 0;
};

// Forwards every call to another trace store, so a test can override one method to
// inject a fault.
class TraceStoreWrapper : public TraceStore {
 public:
  explicit TraceStoreWrapper(TraceStore& target) : target_(target) {}
  TraceStore& target() { return target_; }

  StatusOr<TraceInfo> StartTrace(std::string_view t, const TraceInfo& info) override {
    return target_.StartTrace(t, info);
  }
  StatusOr<TraceInfo> GetTraceInfo(std::string_view t, std::string_view id) override {
    return target_.GetTraceInfo(t, id);
  }
  StatusOr<ResultPage<TraceInfo>> SearchTraces(std::string_view t,
                                               const SearchTracesQuery& q) override {
    return target_.SearchTraces(t, q);
  }
  Status SetTraceTag(std::string_view t, std::string_view id, const Tag& tag) override {
    return target_.SetTraceTag(t, id, tag);
  }
  Status DeleteTraceTag(std::string_view t, std::string_view id, std::string_view key) override {
    return target_.DeleteTraceTag(t, id, key);
  }
  StatusOr<int64_t> DeleteTraces(std::string_view t, const DeleteTracesRequest& r) override {
    return target_.DeleteTraces(t, r);
  }
  Status LogSpans(std::string_view t, const SpanBatch& batch) override {
    return target_.LogSpans(t, batch);
  }
  StatusOr<std::vector<Span>> GetSpans(std::string_view t,
                                       const std::vector<std::string>& ids) override {
    return target_.GetSpans(t, ids);
  }
  Status ImportTraceInfo(std::string_view t, const TraceInfo& info) override {
    return target_.ImportTraceInfo(t, info);
  }

 private:
  TraceStore& target_;
};

}  // namespace cairn::metadata
