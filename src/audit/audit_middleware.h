#pragma once

#include "audit/audit_log.h"
#include "http/middleware.h"

namespace cairn::audit {

// Records in the audit log every mutating request (whatever its answer), every authentication
// failure (401) and every permission denial (403), with the caller, tenant, action (method and
// route), resource, outcome, status, request id and client address. A mutation's answer is held
// until its entry is durable (Response::hold); failures to authenticate and denials are recorded
// without holding their answer (they change nothing, and a flood of them must not be able to
// slow the server). Runs before authentication, so it sees the answers authentication gives.
// Thread-safe.
class AuditMiddleware final : public http::Middleware {
 public:
  explicit AuditMiddleware(AuditLog& log) : log_(log) {}

  std::optional<http::Response> OnRequest(http::Request& request) override;
  void OnResponse(const http::Request& request, http::Response& response,
                  int64_t elapsed_ns) override;

  // What the entry of `request` names as its resource: the route's path parameters, else the
  // identifying field of a small JSON body (run_id, experiment_id, name, model_id, ...), never
  // an erasure's subject id (the log keeps no personal data).
  static std::string ResourceOf(const http::Request& request);

 private:
  AuditLog& log_;
};

}  // namespace cairn::audit
