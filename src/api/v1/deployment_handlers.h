#pragma once

#include <boost/json.hpp>
#include <string>

#include "base/status.h"
#include "http/router.h"
#include "serving/deployment_service.h"

namespace cairn::api::v1 {

// Cairn's deployment endpoints under /api/v1/deployments (see openapi.json): create, status,
// list, scale, update, delete. Handlers translate JSON to DeploymentService calls and back.
// Borrows the service, which must outlive the router. Thread-safe as the service is.
class DeploymentHandlers {
 public:
  explicit DeploymentHandlers(serving::DeploymentService& service) : service_(service) {}

  void Register(http::Router& router);

  // The status object the API returns for a deployment (also used by the CLI tests).
  static boost::json::object StatusJson(const serving::DeploymentStatus& status);

 private:
  serving::DeploymentService& service_;
};

}  // namespace cairn::api::v1
