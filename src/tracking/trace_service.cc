#include "tracking/trace_service.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string>
#include <unordered_map>

#include "filter/filter.h"
#include "tracking/assessment_metrics.h"
#include "tracking/validation.h"

namespace cairn::tracking {
namespace {

constexpr std::string_view kInfoFinalized = "mlflow.trace.infoFinalized";

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

StatusOr<std::vector<MetricDataPoint>> TraceService::QueryTraceMetrics(
    const RequestScope& scope, const TraceMetricsQuery& query) {
  for (const std::string& id : query.experiment_ids) {
    int64_t parsed = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), parsed);
    if (id.empty() || ec != std::errc() || end != id.data() + id.size()) {
      return InvalidArgument("Invalid experiment ID '" + id.substr(0, 100) +
                             "'. Experiment ID must be a valid integer.");
    }
  }
  RETURN_IF_ERROR(ValidateTraceMetricsQuery(query));
  for (const std::string& text : query.filters) {
    RETURN_IF_ERROR(ParseTraceMetricsFilter(text).status());
  }
  bool assessments = query.view_type == MetricViewType::kAssessments && assessments_ != nullptr;
  if (query.view_type != MetricViewType::kTraces && !assessments) {
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
  if (assessments) {
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
  return ComputeTraceMetrics(query, traces);
}

}  // namespace cairn::tracking
