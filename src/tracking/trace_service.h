#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "base/request_scope.h"
#include "base/status.h"
#include "metadata/assessment_store.h"
#include "metadata/trace_store.h"
#include "tracking/assessment_filter.h"
#include "tracking/trace_metrics.h"

namespace cairn::tracking {

// MLflow 3 traces over a TraceStore: validates what clients send (trace ids, sizes, the
// delete-traces selector) and delegates. Only trace infos are kept here; the spans travel as
// traces.json through the artifact service to the trace's mlflow.artifactLocation.
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

  // QueryTraceMetrics: validates `query` as MLflow does, then aggregates the TRACES view over the
  // stored trace infos of the query's experiments (unknown experiments contribute nothing), and
  // the ASSESSMENTS view over their assessments (tracking/assessment_metrics.h; none without an
  // assessment store). Spans are not stored server-side (they travel as traces.json artifacts),
  // so SPANS queries are validated and answer no data points. At most
  // kMaxMetricsTraces traces in the time range are read; more is INVALID_ARGUMENT asking for a
  // narrower range rather than an answer over part of the data.
  static constexpr int64_t kMaxMetricsTraces = 200000;
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
