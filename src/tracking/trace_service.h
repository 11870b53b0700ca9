#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/request_scope.h"
#include "base/status.h"
#include "metadata/assessment_store.h"
#include "metadata/trace_store.h"
#include "tracking/assessment_filter.h"
#include "tracking/trace_metrics.h"

namespace cairn::tracking {

// MLflow 3 traces over a TraceStore: validates what clients send (trace ids, sizes, the
// delete-traces selector) and delegates. Spans arrive over OTLP (LogSpans) and are read back with
// their trace (GetTrace, BatchGetTraces); a client whose spans are not in the store (the trace has
// no mlflow.trace.spansLocation=TRACKING_STORE tag) uploaded them as traces.json through the
// artifact service to the trace's mlflow.artifactLocation and reads them from there.
// Thread-safe; the store must outlive it.
class TraceService {
 public:
  explicit TraceService(metadata::TraceStore& store);

  // Limits on what one trace may carry.
  static constexpr size_t kMaxTraceIdLength = 256;
  static constexpr size_t kMaxEntries = 1000;  // tags, and metadata entries
  static constexpr size_t kMaxKeyLength = 1000;
  static constexpr size_t kMaxValueLength = 1 << 20;    // a tag or metadata value
  static constexpr size_t kMaxPreviewLength = 1 << 20;  // request and response previews
  static constexpr int64_t kMaxSearchResults = 50000;
  static constexpr int64_t kMaxDeleteIds = 100000;

  // Stores the info the client sends when a trace ends (StartTraceV3) and returns it as stored,
  // with mlflow.artifactLocation and mlflow.trace.infoFinalized added. Assessments in `info`
  // (logged while the trace was active; ids set) are stored after the trace, in the assessment
  // store when one is set; one whose id is taken is kept as it is.
  StatusOr<metadata::TraceInfo> StartTrace(const RequestScope& scope, metadata::TraceInfo info);
  StatusOr<metadata::TraceInfo> GetTraceInfo(const RequestScope& scope, std::string_view trace_id);
  // max_results in 1..kMaxSearchResults.
  // `assessment_filters` (feedback.<name> / expectation.<name> clauses, tracking/
  // assessment_filter.h) further restrict the traces; they need the assessment store, and the
  // traces they select (or exclude) are at most kMaxAssessmentFilterTraces.
  static constexpr size_t kMaxAssessmentFilterTraces = 20000;
  StatusOr<metadata::ResultPage<metadata::TraceInfo>> SearchTraces(
      const RequestScope& scope, const metadata::SearchTracesQuery& query,
      const std::vector<AssessmentFilter>& assessment_filters = {});
  Status SetTraceTag(const RequestScope& scope, std::string_view trace_id,
                     const metadata::Tag& tag);
  Status DeleteTraceTag(const RequestScope& scope, std::string_view trace_id, std::string_view key);
  // Exactly one of trace_ids and max_timestamp_ms selects; max_traces only with the latter.
  StatusOr<int64_t> DeleteTraces(const RequestScope& scope,
                                 const metadata::DeleteTracesRequest& request);

  // A trace with its spans (root spans first, then by start time).
  struct TraceWithSpans {
    metadata::TraceInfo info;
    std::vector<metadata::Span> spans;
  };
  static constexpr size_t kMaxSpansPerBatch = 100000;
  static constexpr int64_t kMaxBatchTraceIds = 1000;

  // Stores OTLP spans (converted to MLflow's span JSON by the API layer), as TraceStore::LogSpans
  // describes. The experiment id is validated when given; the spans' ids must be MLflow's (trace
  // "tr-" + 32 hex, span 16 hex) and times not negative.
  Status LogSpans(const RequestScope& scope, metadata::SpanBatch batch);
  // The trace with its stored spans, as MLflow's SQL store answers GetTrace: NOT_FOUND "Trace
  // with ID X is not found." for an unknown trace; INTERNAL "Trace data not stored in tracking
  // store" when its spans are in the artifact repository (the client reads them there); unless
  // `allow_partial`, NOT_FOUND "... is not fully exported yet ..." while fewer spans are stored
  // than the trace's mlflow.trace.sizeStats counts (or none).
  StatusOr<TraceWithSpans> GetTrace(const RequestScope& scope, std::string_view trace_id,
                                    bool allow_partial);
  // The complete traces among `trace_ids` (in that order; unknown or incomplete ones skipped),
  // only of `experiment_ids` when given. At most kMaxBatchTraceIds ids.
  StatusOr<std::vector<TraceWithSpans>> BatchGetTraces(
      const RequestScope& scope, const std::vector<std::string>& trace_ids,
      const std::optional<std::vector<std::string>>& experiment_ids);
  StatusOr<std::vector<metadata::TraceInfo>> BatchGetTraceInfos(
      const RequestScope& scope, const std::vector<std::string>& trace_ids,
      const std::optional<std::vector<std::string>>& experiment_ids);

  // The deprecated V2 trace calls MLflow 2.x clients make. StartTraceV2 creates an IN_PROGRESS
  // trace with a new id (32 hex digits) in an active experiment; EndTraceV2 sets its state and
  // duration (`end_time_ms` minus its start) and merges metadata and tags into it.
  StatusOr<metadata::TraceInfo> StartTraceV2(const RequestScope& scope, std::string experiment_id,
                                             int64_t timestamp_ms,
                                             std::vector<metadata::Tag> metadata,
                                             std::vector<metadata::Tag> tags);
  StatusOr<metadata::TraceInfo> EndTraceV2(const RequestScope& scope, std::string_view trace_id,
                                           int64_t end_time_ms, metadata::TraceState state,
                                           std::vector<metadata::Tag> metadata,
                                           std::vector<metadata::Tag> tags);

  // CalculateTraceFilterCorrelation: how two search filters co-occur over the traces of the
  // experiments (those matching `base_filter` when given), as NPMI (normalized pointwise mutual
  // information) with and without Jeffreys smoothing, as MLflow computes it. An NPMI is nullopt
  // where it is undefined (a filter matches nothing). At most kMaxMetricsTraces traces per filter.
  struct FilterCorrelation {
    std::optional<double> npmi;
    std::optional<double> npmi_smoothed;
    int64_t filter1_count = 0;
    int64_t filter2_count = 0;
    int64_t joint_count = 0;
    int64_t total_count = 0;
  };
  StatusOr<FilterCorrelation> CalculateFilterCorrelation(
      const RequestScope& scope, const std::vector<std::string>& experiment_ids,
      const std::string& filter1, const std::string& filter2,
      const std::optional<std::string>& base_filter);

  // QueryTraceMetrics: validates `query` as MLflow does, then aggregates the TRACES view over the
  // stored trace infos of the query's experiments (unknown experiments contribute nothing).
  // SPANS aggregates the stored spans of those traces (ComputeSpanMetrics), ASSESSMENTS their
  // assessments (tracking/assessment_metrics.h; none without an assessment store). At most
  // kMaxMetricsTraces traces in the time range (and kMaxMetricsSpans of their spans) are read;
  // more is INVALID_ARGUMENT asking for a narrower range rather than an answer over part of the
  // data.
  static constexpr int64_t kMaxMetricsTraces = 200000;
  static constexpr int64_t kMaxMetricsSpans = 2000000;
  StatusOr<std::vector<MetricDataPoint>> QueryTraceMetrics(const RequestScope& scope,
                                                           const TraceMetricsQuery& query);

  // Trace ids become a directory name under the experiment's artifacts: 1..256 characters of
  // letters, digits and `-_.:`, not "." or "..".
  static Status ValidateTraceId(std::string_view trace_id);

  // Called before a trace is stored, to create the tenant's Default experiment ("0") where a
  // client sends traces first (TrackingService::EnsureTenant). Set once, before use.
  void SetTenantInitializer(std::function<Status(const RequestScope&)> initializer) {
    ensure_tenant_ = std::move(initializer);
  }

  // Where the trace infos returned by StartTrace, GetTraceInfo and SearchTraces get their
  // assessments from (as MLflow returns them); none when unset. Set once, before use.
  void SetAssessmentStore(metadata::AssessmentStore* assessments) { assessments_ = assessments; }

 private:
  metadata::TraceStore& store_;
  // Fills the assessments of `traces` from assessments_.
  Status AttachAssessments(const RequestScope& scope, std::vector<metadata::TraceInfo>& traces);

  std::function<Status(const RequestScope&)> ensure_tenant_;
  metadata::AssessmentStore* assessments_ = nullptr;
};

}  // namespace cairn::tracking
