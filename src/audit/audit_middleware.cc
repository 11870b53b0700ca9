#include "audit/audit_middleware.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

namespace cairn::audit {

std::optional<http::Response> AuditMiddleware::OnRequest(http::Request& /*request*/) {
  return std::nullopt;
}

std::string AuditMiddleware::ResourceOf(const http::Request& request) {
  std::string out;
  for (const auto& [name, value] : request.path_params) {
    if (!out.empty()) out += ',';
    out += name + "=" + value.substr(0, 256);
  }
  if (!out.empty() || request.body.empty() || request.body.size() > 64 * 1024) return out;
  boost::json::error_code ec;
  boost::json::value body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) return out;
  // Never "subject_id": the audit log cannot be edited, so it must hold no personal data that
  // erasure would have to remove.
  for (std::string_view key : {"run_id", "experiment_id", "name", "model_id", "deployment_id",
                               "trace_id", "principal", "experiment_name"}) {
    const boost::json::value* v = body.as_object().if_contains(key);
    if (v != nullptr && v->is_string() && !v->as_string().empty()) {
      return std::string(key) + "=" + std::string(v->as_string()).substr(0, 256);
    }
  }
  return out;
}

void AuditMiddleware::OnResponse(const http::Request& request, http::Response& response,
                                 int64_t /*elapsed_ns*/) {
  const bool read_only =
      request.method == http::Method::kGet || request.method == http::Method::kHead;
  std::string_view outcome;
  if (response.status == 401) {
    outcome = kOutcomeUnauthenticated;
  } else if (response.status == 403) {
    outcome = kOutcomeDenied;
  } else if (http::IsMutation(request.permission, read_only)) {
    if (response.status == 429) return;  // refused before it changed anything; counted
    outcome = response.status < 400 ? kOutcomeOk : kOutcomeError;
  } else {
    return;
  }
  AuditEntry entry;
  entry.principal = request.scope.principal;
  entry.tenant = request.scope.tenant;
  entry.action = std::string(http::MethodName(request.method)) + " " +
                 std::string(request.route_pattern.empty() ? std::string_view(request.path)
                                                           : request.route_pattern)
                     .substr(0, 512);
  entry.resource = ResourceOf(request);
  entry.outcome = std::string(outcome);
  entry.status = response.status;
  entry.request_id = request.scope.request_id;
  entry.client = request.client;
  if (outcome == kOutcomeUnauthenticated || outcome == kOutcomeDenied) {
    log_.Record(std::move(entry));
    return;
  }
  AuditLog* log = &log_;
  response.hold = [log, entry = std::move(entry)](std::function<void()> release) mutable {
    log->Append(std::move(entry), [release = std::move(release)](Status status) {
      if (!status.ok()) {
        spdlog::error("audit entry not stored: {}", status.ToString());
      }
      release();
    });
  };
}

}  // namespace cairn::audit
