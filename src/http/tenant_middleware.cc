#include "http/tenant_middleware.h"

#include <string>

#include "base/ascii.h"
#include "http/error_response.h"

namespace cairn::http {

bool TenantMiddleware::IsValidWorkspaceName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  bool digits_only = true;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
    if (c < '0' || c > '9') digits_only = false;
  }
  // A tenant's artifacts live in the folder named after it, beside the default tenant's
  // experiment folders, which are decimal ids (artifact/tenant_layout.h).
  return !digits_only;
}

StatusOr<std::string> TenantMiddleware::RequestedTenant(const Request& request) {
  auto workspace = request.headers.Get(kWorkspaceHeader);
  if (!workspace) return std::string();
  if (!IsValidWorkspaceName(*workspace)) {
    std::string shown(workspace->substr(0, 80));
    return InvalidArgument("Invalid workspace name '" + shown + "' in header " +
                           std::string(kWorkspaceHeader) +
                           ": use 1 to 63 characters from letters, digits, '_' and '-', not only "
                           "digits");
  }
  // Tenant names are case-insensitive; the lower-case spelling is the canonical one, so
  // "Team-A" and "team-a" share their experiments, models and artifact folder.
  std::string tenant(*workspace);
  for (char& c : tenant) c = AsciiToLower(c);
  return tenant;
}

std::optional<Response> TenantMiddleware::OnRequest(Request& request) {
  StatusOr<std::string> tenant = RequestedTenant(request);
  if (!tenant.ok()) return ErrorResponse(tenant.status());
  request.scope.tenant = tenant->empty() ? std::string(kDefaultTenant) : std::move(tenant).value();
  return std::nullopt;
}

void TenantMiddleware::OnResponse(const Request& /*request*/, Response& /*response*/,
                                  int64_t /*elapsed_ns*/) {}

}  // namespace cairn::http
