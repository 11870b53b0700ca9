#include "tracking/trace_service.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "filter/filter.h"
#include "tracking/assessment_metrics.h"
#include "tracking/validation.h"

namespace cairn::tracking {
namespace {

constexpr std::string_view kInfoFinalized = "mlflow.trace.infoFinalized";
constexpr std::string_view kSpansLocationTag = "mlflow.trace.spansLocation";
constexpr std::string_view kSpansInTrackingStore = "TRACKING_STORE";
constexpr std::string_view kSizeStatsMetadata = "mlflow.trace.sizeStats";

bool IsHex(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<std::string_view> FindEntry(const std::vector<metadata::Tag>& entries,
                                          std::string_view key) {
  for (const metadata::Tag& e : entries) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

bool SpansInStore(const metadata::TraceInfo& info) {
  return FindEntry(info.tags, kSpansLocationTag) == kSpansInTrackingStore;
}

// The span count a finished trace's mlflow.trace.sizeStats records ({"num_spans": N, ...}).
int64_t ExpectedSpans(const metadata::TraceInfo& info) {
  std::optional<std::string_view> stats = FindEntry(info.trace_metadata, kSizeStatsMetadata);
  if (!stats) return 0;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*stats, ec);
  if (ec || !v.is_object()) return 0;
  const boost::json::value* n = v.get_object().if_contains("num_spans");
  return n != nullptr && n->is_int64() ? n->get_int64() : 0;
}

Status ValidateIntegerExperimentIds(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    int64_t parsed = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), parsed);
    if (id.empty() || ec != std::errc() || end != id.data() + id.size()) {
      return InvalidArgument("Invalid experiment ID '" + id.substr(0, 100) +
                             "'. Experiment ID must be a valid integer.");
    }
  }
  return Status::Ok();
}

Status ValidateBatchIds(const std::vector<std::string>& trace_ids) {
  if (static_cast<int64_t>(trace_ids.size()) > TraceService::kMaxBatchTraceIds) {
    return InvalidArgument("At most " + std::to_string(TraceService::kMaxBatchTraceIds) +
                           " trace IDs can be read in one request");
  }
  return Status::Ok();
}

Status ValidateEntries(const std::vector<metadata::Tag>& entries, std::string_view what) {
  if (entries.size() > TraceService::kMaxEntries) {
    return InvalidArgument("A trace may carry at most " +
                           std::to_string(TraceService::kMaxEntries) + " " + std::string(what) +
                           " entries; got " + std::to_string(entries.size()));
  }
  for (const metadata::Tag& e : entries) {
    if (e.key.empty() || e.key.size() > TraceService::kMaxKeyLength) {
      return InvalidArgument("Trace " + std::string(what) + " keys must be 1 to " +
                             std::to_string(TraceService::kMaxKeyLength) + " characters long");
    }
    if (e.value.size() > TraceService::kMaxValueLength) {
      return InvalidArgument("The value of trace " + std::string(what) + " '" + e.key +
                             "' exceeds " + std::to_string(TraceService::kMaxValueLength) +
                             " bytes");
    }
  }
  return Status::Ok();
}

// Keeps the last value of each key, sorted by key.
void Dedupe(std::vector<metadata::Tag>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const metadata::Tag& a, const metadata::Tag& b) { return a.key < b.key; });
  std::vector<metadata::Tag> out;
  for (metadata::Tag& e : entries) {
    if (!out.empty() && out.back().key == e.key) {
      out.back().value = std::move(e.value);
    } else {
      out.push_back(std::move(e));
    }
  }
  entries = std::move(out);
}

}  // namespace

TraceService::TraceService(metadata::TraceStore& store) : store_(store) {}

Status TraceService::ValidateTraceId(std::string_view trace_id) {
  bool ok = !trace_id.empty() && trace_id.size() <= kMaxTraceIdLength && trace_id != "." &&
            trace_id != ".." && std::all_of(trace_id.begin(), trace_id.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                     c == '.' || c == ':';
            });
  if (!ok) {
    return InvalidArgument("Invalid trace ID '" + std::string(trace_id.substr(0, 300)) +
                           "': expected 1 to 256 letters, digits, '-', '_', '.' or ':'");
  }
  return Status::Ok();
}

StatusOr<metadata::TraceInfo> TraceService::StartTrace(const RequestScope& scope,
                                                       metadata::TraceInfo info) {
  RETURN_IF_ERROR(ValidateTraceId(info.trace_id));
  RETURN_IF_ERROR(ValidateExperimentId(info.experiment_id));
  if (info.request_time_ms < 0) return InvalidArgument("request_time must not be negative");
  if (info.execution_duration_ms && *info.execution_duration_ms < 0) {
    return InvalidArgument("execution_duration must not be negative");
  }
  for (const auto* preview : {&info.request_preview, &info.response_preview}) {
    if (*preview && (*preview)->size() > kMaxPreviewLength) {
      return InvalidArgument("Trace request and response previews are limited to " +
                             std::to_string(kMaxPreviewLength) + " bytes");
    }
  }
  if (info.client_request_id && info.client_request_id->size() > kMaxKeyLength) {
    return InvalidArgument("client_request_id exceeds " + std::to_string(kMaxKeyLength) +
                           " characters");
  }
  RETURN_IF_ERROR(ValidateEntries(info.tags, "tag"));
  RETURN_IF_ERROR(ValidateEntries(info.trace_metadata, "metadata"));
  if (info.assessments.size() > kMaxEntries) {
    return InvalidArgument("A trace may carry at most " + std::to_string(kMaxEntries) +
                           " assessments");
  }
  for (metadata::Assessment& a : info.assessments) {
    a.trace_id = info.trace_id;
    RETURN_IF_ERROR(ValidateTraceId(a.assessment_id));
    if (a.overrides) RETURN_IF_ERROR(ValidateTraceId(*a.overrides));
  }
  info.trace_metadata.push_back({std::string(kInfoFinalized), "true"});
  Dedupe(info.tags);
  Dedupe(info.trace_metadata);
  if (ensure_tenant_) RETURN_IF_ERROR(ensure_tenant_(scope));
  std::vector<metadata::TraceInfo> stored(1);
  ASSIGN_OR_RETURN(stored.front(), store_.StartTrace(scope.tenant, info));
  // Assessments logged while the trace was active travel with its info (as MLflow's client
  // sends them); one already stored under its id is kept.
  if (assessments_ != nullptr) {
    for (const metadata::Assessment& a : info.assessments) {
      StatusOr<metadata::Assessment> created = assessments_->CreateAssessment(scope.tenant, a);
      if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
        return created.status();
      }
    }
  }
  RETURN_IF_ERROR(AttachAssessments(scope, stored));
  return std::move(stored.front());
}

Status TraceService::AttachAssessments(const RequestScope& scope,
                                       std::vector<metadata::TraceInfo>& traces) {
  if (assessments_ == nullptr || traces.empty()) return Status::Ok();
  std::vector<std::string> ids;
  ids.reserve(traces.size());
  for (const metadata::TraceInfo& t : traces) ids.push_back(t.trace_id);
  ASSIGN_OR_RETURN(std::vector<metadata::Assessment> all,
                   assessments_->ListAssessments(scope.tenant, ids));
  std::unordered_map<std::string_view, metadata::TraceInfo*> by_id;
  for (metadata::TraceInfo& t : traces) by_id[t.trace_id] = &t;
  for (metadata::Assessment& a : all) {
    auto it = by_id.find(a.trace_id);
    if (it != by_id.end()) it->second->assessments.push_back(std::move(a));
  }
  return Status::Ok();
}

StatusOr<metadata::TraceInfo> TraceService::StartTraceV2(const RequestScope& scope,
                                                         std::string experiment_id,
                                                         int64_t timestamp_ms,
                                                         std::vector<metadata::Tag> metadata,
                                                         std::vector<metadata::Tag> tags) {
  RETURN_IF_ERROR(ValidateExperimentId(experiment_id));
  if (timestamp_ms < 0) return InvalidArgument("timestamp_ms must not be negative");
  RETURN_IF_ERROR(ValidateEntries(tags, "tag"));
  RETURN_IF_ERROR(ValidateEntries(metadata, "metadata"));
  metadata::TraceInfo info;
  info.trace_id = IdGenerator::Default().Hex32();
  info.experiment_id = std::move(experiment_id);
  info.request_time_ms = timestamp_ms;
  info.state = metadata::TraceState::kInProgress;
  info.trace_metadata = std::move(metadata);
  info.tags = std::move(tags);
  Dedupe(info.tags);
  Dedupe(info.trace_metadata);
  if (ensure_tenant_) RETURN_IF_ERROR(ensure_tenant_(scope));
  return store_.StartTrace(scope.tenant, info);
}

StatusOr<metadata::TraceInfo> TraceService::EndTraceV2(const RequestScope& scope,
                                                       std::string_view trace_id,
                                                       int64_t end_time_ms,
                                                       metadata::TraceState state,
                                                       std::vector<metadata::Tag> metadata,
                                                       std::vector<metadata::Tag> tags) {
  RETURN_IF_ERROR(ValidateTraceId(trace_id));
  RETURN_IF_ERROR(ValidateEntries(tags, "tag"));
  RETURN_IF_ERROR(ValidateEntries(metadata, "metadata"));
  ASSIGN_OR_RETURN(metadata::TraceInfo info, store_.GetTraceInfo(scope.tenant, trace_id));
  info.execution_duration_ms = end_time_ms - info.request_time_ms;
  info.state = state;
  // The store merges these into what the trace has.
  info.trace_metadata = std::move(metadata);
  info.tags = std::move(tags);
  Dedupe(info.tags);
  Dedupe(info.trace_metadata);
  return store_.StartTrace(scope.tenant, info);
}

StatusOr<metadata::TraceInfo> TraceService::GetTraceInfo(const RequestScope& scope,
                                                         std::string_view trace_id) {
  RETURN_IF_ERROR(ValidateTraceId(trace_id));
  std::vector<metadata::TraceInfo> found(1);
  ASSIGN_OR_RETURN(found.front(), store_.GetTraceInfo(scope.tenant, trace_id));
  RETURN_IF_ERROR(AttachAssessments(scope, found));
  return std::move(found.front());
}

StatusOr<metadata::ResultPage<metadata::TraceInfo>> TraceService::SearchTraces(
    const RequestScope& scope, const metadata::SearchTracesQuery& original,
    const std::vector<AssessmentFilter>& assessment_filters) {
  metadata::SearchTracesQuery query = original;
  for (const AssessmentFilter& f : assessment_filters) {
    if (assessments_ == nullptr) {
      return InvalidArgument("Assessment filters are not supported by this server's store");
    }
    ASSIGN_OR_RETURN(
        std::vector<metadata::Assessment> found,
        assessments_->FindValidAssessments(scope.tenant, query.experiment_ids, f.kind, f.name));
    std::set<std::string> ids;
    for (const metadata::Assessment& a : found) {
      bool presence = f.op == filter::Comparator::kIsNull || f.op == filter::Comparator::kIsNotNull;
      if (presence || AssessmentMatches(f, a)) ids.insert(a.trace_id);
    }
    if (ids.size() > kMaxAssessmentFilterTraces) {
      return InvalidArgument("More than " + std::to_string(kMaxAssessmentFilterTraces) +
                             " traces match an assessment clause of this filter; narrow it");
    }
    filter::Clause clause;
    clause.entity = filter::Entity::kAttribute;
    clause.key = "request_id";
    clause.op =
        f.op == filter::Comparator::kIsNull ? filter::Comparator::kNotIn : filter::Comparator::kIn;
    if (ids.empty() && clause.op == filter::Comparator::kIn) {
      return metadata::ResultPage<metadata::TraceInfo>{};
    }
    clause.value = std::vector<std::string>(ids.begin(), ids.end());
    query.filter.clauses.push_back(std::move(clause));
  }
  if (query.page.max_results < 1 || query.page.max_results > kMaxSearchResults) {
    return InvalidArgument("Invalid value " + std::to_string(query.page.max_results) +
                           " for parameter 'max_results' supplied. It must be a positive "
                           "integer no greater than " +
                           std::to_string(kMaxSearchResults));
  }
  for (size_t i = 0; i < query.order_by.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (query.order_by[i].entity == query.order_by[j].entity &&
          query.order_by[i].key == query.order_by[j].key) {
        return InvalidArgument("`order_by` contains duplicate fields: '" + query.order_by[i].key +
                               "'");
      }
    }
  }
  ASSIGN_OR_RETURN(auto page, store_.SearchTraces(scope.tenant, query));
  RETURN_IF_ERROR(AttachAssessments(scope, page.items));
  return page;
}

Status TraceService::SetTraceTag(const RequestScope& scope, std::string_view trace_id,
                                 const metadata::Tag& tag) {
  RETURN_IF_ERROR(ValidateTraceId(trace_id));
  RETURN_IF_ERROR(ValidateEntries({tag}, "tag"));
  return store_.SetTraceTag(scope.tenant, trace_id, tag);
}

Status TraceService::DeleteTraceTag(const RequestScope& scope, std::string_view trace_id,
                                    std::string_view key) {
  RETURN_IF_ERROR(ValidateTraceId(trace_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'key'.");
  return store_.DeleteTraceTag(scope.tenant, trace_id, key);
}

StatusOr<int64_t> TraceService::DeleteTraces(const RequestScope& scope,
                                             const metadata::DeleteTracesRequest& request) {
  RETURN_IF_ERROR(ValidateExperimentId(request.experiment_id));
  bool by_ids = !request.trace_ids.empty();
  if (by_ids == request.max_timestamp_ms.has_value()) {
    return InvalidArgument(
        "Exactly one of 'max_timestamp_millis' and 'request_ids' must be specified.");
  }
  if (by_ids && request.max_traces) {
    return InvalidArgument("'max_traces' can't be specified if 'request_ids' is specified.");
  }
  if (request.max_traces && *request.max_traces <= 0) {
    return InvalidArgument("'max_traces' must be a positive integer.");
  }
  if (static_cast<int64_t>(request.trace_ids.size()) > kMaxDeleteIds) {
    return InvalidArgument("At most " + std::to_string(kMaxDeleteIds) +
                           " trace IDs can be deleted in one request");
  }
  for (const std::string& id : request.trace_ids) RETURN_IF_ERROR(ValidateTraceId(id));
  return store_.DeleteTraces(scope.tenant, request);
}

Status TraceService::LogSpans(const RequestScope& scope, metadata::SpanBatch batch) {
  RETURN_IF_ERROR(ValidateExperimentId(batch.experiment_id));
  if (batch.spans.size() > kMaxSpansPerBatch) {
    return InvalidArgument("At most " + std::to_string(kMaxSpansPerBatch) +
                           " spans can be logged in one request");
  }
  for (const metadata::Span& span : batch.spans) {
    if (span.trace_id.size() != 35 || span.trace_id.compare(0, 3, "tr-") != 0 ||
        !IsHex(std::string_view(span.trace_id).substr(3), 32) || !IsHex(span.span_id, 16) ||
        (span.parent_span_id && !IsHex(*span.parent_span_id, 16))) {
      return InvalidArgument("Invalid span ids: trace " + span.trace_id.substr(0, 100) + ", span " +
                             span.span_id.substr(0, 100));
    }
    if (span.start_time_ns < 0 || (span.end_time_ns && *span.end_time_ns < 0)) {
      return InvalidArgument("Span times must not be negative");
    }
  }
  if (batch.spans.empty()) return Status::Ok();
  if (ensure_tenant_) RETURN_IF_ERROR(ensure_tenant_(scope));
  return store_.LogSpans(scope.tenant, batch);
}

StatusOr<TraceService::TraceWithSpans> TraceService::GetTrace(const RequestScope& scope,
                                                              std::string_view trace_id,
                                                              bool allow_partial) {
  std::string id(trace_id);
  StatusOr<metadata::TraceInfo> info = store_.GetTraceInfo(scope.tenant, trace_id);
  if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
    return NotFound("Trace with ID " + id.substr(0, 300) + " is not found.");
  }
  RETURN_IF_ERROR(info.status());
  if (!SpansInStore(*info)) return Internal("Trace data not stored in tracking store");
  ASSIGN_OR_RETURN(std::vector<metadata::Span> spans, store_.GetSpans(scope.tenant, {id}));
  if (!allow_partial &&
      (spans.empty() || static_cast<int64_t>(spans.size()) < ExpectedSpans(*info))) {
    return NotFound("Trace with ID " + id + " is not fully exported yet, please try again later.");
  }
  std::vector<metadata::TraceInfo> with_assessments{std::move(*info)};
  RETURN_IF_ERROR(AttachAssessments(scope, with_assessments));
  return TraceWithSpans{std::move(with_assessments.front()), std::move(spans)};
}

StatusOr<std::vector<metadata::TraceInfo>> TraceService::BatchGetTraceInfos(
    const RequestScope& scope, const std::vector<std::string>& trace_ids,
    const std::optional<std::vector<std::string>>& experiment_ids) {
  RETURN_IF_ERROR(ValidateBatchIds(trace_ids));
  if (experiment_ids) RETURN_IF_ERROR(ValidateIntegerExperimentIds(*experiment_ids));
  std::vector<metadata::TraceInfo> out;
  std::vector<std::string> seen;
  for (const std::string& id : trace_ids) {
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    StatusOr<metadata::TraceInfo> info = store_.GetTraceInfo(scope.tenant, id);
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(info.status());
    if (experiment_ids && std::find(experiment_ids->begin(), experiment_ids->end(),
                                    info->experiment_id) == experiment_ids->end()) {
      continue;
    }
    out.push_back(std::move(*info));
  }
  RETURN_IF_ERROR(AttachAssessments(scope, out));
  return out;
}

StatusOr<std::vector<TraceService::TraceWithSpans>> TraceService::BatchGetTraces(
    const RequestScope& scope, const std::vector<std::string>& trace_ids,
    const std::optional<std::vector<std::string>>& experiment_ids) {
  ASSIGN_OR_RETURN(std::vector<metadata::TraceInfo> infos,
                   BatchGetTraceInfos(scope, trace_ids, experiment_ids));
  std::vector<std::string> ids;
  for (const metadata::TraceInfo& info : infos) {
    if (!SpansInStore(info)) return Internal("Trace data not stored in tracking store");
    ids.push_back(info.trace_id);
  }
  ASSIGN_OR_RETURN(std::vector<metadata::Span> spans, store_.GetSpans(scope.tenant, ids));
  std::vector<TraceWithSpans> out;
  size_t next = 0;  // spans come grouped in the order of `ids`
  for (metadata::TraceInfo& info : infos) {
    TraceWithSpans trace{std::move(info), {}};
    while (next < spans.size() && spans[next].trace_id == trace.info.trace_id) {
      trace.spans.push_back(std::move(spans[next++]));
    }
    if (trace.spans.empty() ||
        static_cast<int64_t>(trace.spans.size()) < ExpectedSpans(trace.info)) {
      continue;
    }
    out.push_back(std::move(trace));
  }
  return out;
}

namespace {

// MLflow's NPMI over a 2x2 table (mlflow/store/analytics/trace_correlation.py).
std::optional<double> NpmiCore(double n11, double n10, double n01, double n00, double smoothing) {
  double a = n11 + smoothing, b = n10 + smoothing, c = n01 + smoothing, d = n00 + smoothing;
  double n = a + b + c + d, n1 = a + b, n2 = a + c;
  if (n1 <= 0 || n2 <= 0 || a <= 0) return std::nullopt;
  if (n10 == 0 && n01 == 0 && n00 == 0) return 1.0;
  double pmi = (std::log(a) + std::log(n)) - (std::log(n1) + std::log(n2));
  double npmi = pmi / -(std::log(a) - std::log(n));
  return std::max(-1.0, std::min(1.0, npmi));
}

}  // namespace

StatusOr<TraceService::FilterCorrelation> TraceService::CalculateFilterCorrelation(
    const RequestScope& scope, const std::vector<std::string>& experiment_ids,
    const std::string& filter1, const std::string& filter2,
    const std::optional<std::string>& base_filter) {
  RETURN_IF_ERROR(ValidateIntegerExperimentIds(experiment_ids));
  bool has_base = base_filter && !base_filter->empty();
  auto matching = [&](const std::string& text) -> StatusOr<std::set<std::string>> {
    std::string combined = !has_base      ? text
                           : text.empty() ? *base_filter
                                          : *base_filter + " and " + text;
    metadata::SearchTracesQuery search;
    search.experiment_ids = experiment_ids;
    ASSIGN_OR_RETURN(search.filter, filter::ParseFilter(combined, filter::SearchKind::kTraces));
    search.page = {kMaxSearchResults, 0};
    std::set<std::string> ids;
    while (true) {
      ASSIGN_OR_RETURN(auto page, store_.SearchTraces(scope.tenant, search));
      search.page.offset += static_cast<int64_t>(page.items.size());
      for (const metadata::TraceInfo& info : page.items) ids.insert(info.trace_id);
      if (static_cast<int64_t>(ids.size()) > kMaxMetricsTraces) {
        return InvalidArgument("More than " + std::to_string(kMaxMetricsTraces) +
                               " traces match this correlation query; narrow it with a base "
                               "filter");
      }
      if (!page.has_more || page.items.empty()) break;
    }
    return ids;
  };
  FilterCorrelation out;
  ASSIGN_OR_RETURN(std::set<std::string> first, matching(filter1));
  ASSIGN_OR_RETURN(std::set<std::string> second, matching(filter2));
  ASSIGN_OR_RETURN(std::set<std::string> all, matching(""));
  for (const std::string& id : first) out.joint_count += second.count(id);
  out.filter1_count = static_cast<int64_t>(first.size());
  out.filter2_count = static_cast<int64_t>(second.size());
  out.total_count = static_cast<int64_t>(all.size());
  if (out.total_count <= 0 || out.filter1_count == 0 || out.filter2_count == 0) return out;
  double n11 = static_cast<double>(out.joint_count);
  double n10 = static_cast<double>(out.filter1_count - out.joint_count);
  double n01 = static_cast<double>(out.filter2_count - out.joint_count);
  double n00 = static_cast<double>(out.total_count - out.filter1_count - out.filter2_count +
                                   out.joint_count);
  if (std::min({n11, n10, n01, n00}) < 0) return out;
  out.npmi = out.joint_count == 0 ? std::optional<double>(-1.0) : NpmiCore(n11, n10, n01, n00, 0);
  out.npmi_smoothed = NpmiCore(n11, n10, n01, n00, 0.5);
  return out;
}

StatusOr<std::vector<MetricDataPoint>> TraceService::QueryTraceMetrics(
    const RequestScope& scope, const TraceMetricsQuery& query) {
  RETURN_IF_ERROR(ValidateIntegerExperimentIds(query.experiment_ids));
  RETURN_IF_ERROR(ValidateTraceMetricsQuery(query));
  for (const std::string& text : query.filters) {
    RETURN_IF_ERROR(ParseTraceMetricsFilter(text).status());
  }
  if (query.view_type == MetricViewType::kAssessments && assessments_ == nullptr) {
    return std::vector<MetricDataPoint>{};
  }

  std::vector<metadata::TraceInfo> traces;
  if (!query.experiment_ids.empty()) {
    metadata::SearchTracesQuery search;
    search.experiment_ids = query.experiment_ids;
    std::string range;
    if (query.start_time_ms) range = "timestamp_ms >= " + std::to_string(*query.start_time_ms);
    if (query.end_time_ms) {
      range += (range.empty() ? "" : " AND ");
      range += "timestamp_ms <= " + std::to_string(*query.end_time_ms);
    }
    ASSIGN_OR_RETURN(search.filter, filter::ParseFilter(range, filter::SearchKind::kTraces));
    search.page = {kMaxSearchResults, 0};
    while (true) {
      ASSIGN_OR_RETURN(auto page, store_.SearchTraces(scope.tenant, search));
      search.page.offset += static_cast<int64_t>(page.items.size());
      for (metadata::TraceInfo& info : page.items) traces.push_back(std::move(info));
      if (static_cast<int64_t>(traces.size()) > kMaxMetricsTraces) {
        return InvalidArgument("More than " + std::to_string(kMaxMetricsTraces) +
                               " traces match this trace metrics query; narrow it with "
                               "start_time_ms and end_time_ms");
      }
      if (!page.has_more || page.items.empty()) break;
    }
  }
  if (query.view_type == MetricViewType::kAssessments) {
    constexpr size_t kChunk = 1000;
    for (size_t start = 0; start < traces.size(); start += kChunk) {
      std::vector<metadata::TraceInfo> chunk(
          std::make_move_iterator(traces.begin() + static_cast<ptrdiff_t>(start)),
          std::make_move_iterator(traces.begin() +
                                  static_cast<ptrdiff_t>(std::min(traces.size(), start + kChunk))));
      RETURN_IF_ERROR(AttachAssessments(scope, chunk));
      std::move(chunk.begin(), chunk.end(), traces.begin() + static_cast<ptrdiff_t>(start));
    }
    return ComputeAssessmentMetrics(query, traces);
  }
  if (query.view_type == MetricViewType::kTraces) return ComputeTraceMetrics(query, traces);
  // SPANS: the spans of those traces, read in chunks without their JSON.
  constexpr size_t kChunk = 500;
  std::vector<metadata::Span> spans;
  for (size_t i = 0; i < traces.size(); i += kChunk) {
    std::vector<std::string> ids;
    for (size_t j = i; j < std::min(traces.size(), i + kChunk); ++j) {
      ids.push_back(traces[j].trace_id);
    }
    ASSIGN_OR_RETURN(std::vector<metadata::Span> chunk, store_.GetSpans(scope.tenant, ids));
    for (metadata::Span& span : chunk) {
      span.content.clear();
      span.content.shrink_to_fit();
      spans.push_back(std::move(span));
    }
    if (static_cast<int64_t>(spans.size()) > kMaxMetricsSpans) {
      return InvalidArgument("More than " + std::to_string(kMaxMetricsSpans) +
                             " spans match this trace metrics query; narrow it with "
                             "start_time_ms and end_time_ms");
    }
  }
  return ComputeSpanMetrics(query, traces, spans);
}

}  // namespace cairn::tracking
