#include "http/tenant_middleware.h"

#include <string>

#include "http/error_response.h"

namespace cairn::http {

bool TenantMiddleware::IsValidWorkspaceName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<Response> TenantMiddleware::OnRequest(Request& request) {
  auto workspace = request.headers.Get(kWorkspaceHeader);
  if (!workspace) {
    request.scope.tenant = kDefaultTenant;
    return std::nullopt;
  }
  if (!IsValidWorkspaceName(*workspace)) {
    std::string shown(workspace->substr(0, 80));
    return ErrorResponse(InvalidArgument(
        "Invalid workspace name '" + shown + "' in header " + std::string(kWorkspaceHeader) +
        ": use 1 to 63 characters from letters, digits, '_' and '-'"));
  }
  // Tenant names are case-insensitive; the lower-case spelling is the canonical one, so
  // "Team-A" and "team-a" share their experiments, models and artifact folder.
  request.scope.tenant.assign(*workspace);
  for (char& c : request.scope.tenant) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return std::nullopt;
}

void TenantMiddleware::OnResponse(const Request& /*request*/, Response& /*response*/,
                                  int64_t /*elapsed_ns*/) {}

}  // namespace cairn::http
