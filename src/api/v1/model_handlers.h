#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "artifact/artifact_store.h"
#include "base/status.h"
#include "http/router.h"
#include "registry/registry_service.h"
#include "serving/deployment_service.h"

namespace cairn::api::v1 {

// Cairn's model management endpoints under /api/v1/models (see openapi.json for the wire
// contract): register, list versions, promote, delete a version (with the files only it uses),
// lineage. Handlers only translate JSON to RegistryService calls and back; the rules live in the
// service. Every call is scoped to request.scope.tenant and attributed to
// request.scope.principal. Borrows the service and the artifact store, which must outlive
// the router the routes are registered in. Thread-safe as the service is.
class ModelHandlers {
 public:
  ModelHandlers(registry::RegistryService& registry, artifact::ArtifactStore& artifacts);

  // Adds the routes; call once per router.
  void Register(http::Router& router);
  // Lineage lists the deployments serving a version when given the service (borrowed; must
  // outlive the handlers). Call before serving requests.
  void SetDeployments(serving::DeploymentService* deployments) { deployments_ = deployments; }

 private:
  // A handler's successful answer: HTTP status and JSON body.
  struct Reply {
    int status = 200;
    boost::json::object body;
  };
  using Result = StatusOr<Reply>;
  using Method = Result (ModelHandlers::*)(const http::Request&);

  void Add(http::Router& router, http::Method method, std::string pattern, Method fn,
           http::Permission permission);

  Result RegisterVersion(const http::Request& req);
  Result ListVersions(const http::Request& req);
  Result Promote(const http::Request& req);
  Result DeleteVersion(const http::Request& req);
  Result GetLineage(const http::Request& req);

  registry::RegistryService& registry_;
  artifact::ArtifactStore& artifacts_;
  serving::DeploymentService* deployments_ = nullptr;
};

}  // namespace cairn::api::v1
