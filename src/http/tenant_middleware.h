#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/middleware.h"

namespace cairn::http {

// Sets request.scope.tenant from the MLflow workspace header X-MLFLOW-WORKSPACE, or
// "default" when it is absent. A workspace name must be 1..63 characters of [A-Za-z0-9_-], not
// all digits (those are the default tenant's experiment folders, artifact/tenant_layout.h);
// anything else is answered with 400 INVALID_PARAMETER_VALUE. Tenant names are
// case-insensitive: the header's value is folded to lower case, the canonical form, before use,
// so "Team-A" and "team-a" name the same tenant (the same experiments, models and artifact
// folder) and "DEFAULT" names the default tenant. Stands in until authentication derives the
// tenant from the caller. Thread-safe (stateless).
class TenantMiddleware final : public Middleware {
 public:
  static constexpr std::string_view kWorkspaceHeader = "X-MLFLOW-WORKSPACE";
  static constexpr std::string_view kDefaultTenant = "default";

  std::optional<Response> OnRequest(Request& request) override;
  void OnResponse(const Request& request, Response& response, int64_t elapsed_ns) override;

  static bool IsValidWorkspaceName(std::string_view name);
  // The canonical (lower-case) tenant the workspace header names; "" when the header is absent;
  // INVALID_ARGUMENT for a malformed name. Shared with authentication, which picks the default
  // itself.
  static StatusOr<std::string> RequestedTenant(const Request& request);
};

}  // namespace cairn::http
