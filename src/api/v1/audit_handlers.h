#pragma once

#include "audit/audit_log.h"
#include "http/router.h"

namespace cairn::api::v1 {

// /api/v1/audit: the audit log, for administrators. A tenant's admin sees that tenant's
// entries; a server admin (admin in "*") any tenant's, or all. Verification needs server admin.
//   GET /api/v1/audit?tenant=&principal=&action=&outcome=&from=&to=&max_results=&page_token=
//   GET /api/v1/audit/export?...same filters   JSON lines, streamed
//   GET /api/v1/audit/verify                   the hash chain, checked end to end
class AuditHandlers {
 public:
  explicit AuditHandlers(audit::AuditLog& log) : log_(log) {}
  void Register(http::Router& router);

 private:
  http::Response List(const http::Request& req);
  http::Response Export(const http::Request& req);
  http::Response Verify(const http::Request& req);

  audit::AuditLog& log_;
};

}  // namespace cairn::api::v1
