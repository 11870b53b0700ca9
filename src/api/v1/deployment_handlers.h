#pragma once

#include <boost/json.hpp>
#include <string>

#include "base/status.h"
#include "http/router.h"
#include "serving/deployment_service.h"
#include "stream/event_stream.h"

namespace cairn::api::v1 {

// Cairn's deployment endpoints under /api/v1/deployments (see openapi.json): create, status,
// list, scale, update, delete, and the deployment's prediction log (newest first, paged by
// offset). Handlers translate JSON to DeploymentService calls and back. Borrows the service and
// the event stream (null: no prediction log), which must outlive the router. Thread-safe as
// they are.
class DeploymentHandlers {
 public:
  DeploymentHandlers(serving::DeploymentService& service, stream::EventStream* events)
      : service_(service), events_(events) {}

  void Register(http::Router& router);

  // The status object the API returns for a deployment (also used by the CLI tests).
  static boost::json::object StatusJson(const serving::DeploymentStatus& status);

 private:
  http::Response Predictions(http::Request& request);

  serving::DeploymentService& service_;
  stream::EventStream* const events_;
};

}  // namespace cairn::api::v1
