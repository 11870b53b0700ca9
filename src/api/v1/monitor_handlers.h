#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "artifact/artifact_store.h"
#include "base/request_scope.h"
#include "base/status.h"
#include "http/router.h"
#include "monitor/monitor_service.h"

namespace cairn::api::v1 {

// Opens a file logged with the run that produced a deployment's model version, for building a
// reference from the training data: (scope, deployment, run id or "" for the version's own
// run, path inside the run's artifacts).
using RunArtifactOpener = std::function<StatusOr<std::unique_ptr<artifact::ArtifactReader>>(
    const RequestScope& scope, const metadata::DeploymentRecord& deployment,
    std::string_view run_id, std::string_view path)>;

// Cairn's monitoring endpoints (see openapi.json):
//   POST/GET   /api/v1/models/{name}/drift-config, DELETE .../drift-config/{id}
//   GET        /api/v1/models/{name}/metrics?deployment=&from=&to=&max_results=
//   POST       /api/v1/deployments/{id}/reference          (CSV or JSON lines body, streamed)
//   POST       /api/v1/deployments/{id}/reference/from-run  ({"path", "run_id"?, "exclude"?})
//   GET        /api/v1/deployments/{id}/reference[?version=], .../reference/versions
//   GET        /api/v1/deployments/{id}/monitor
//   POST       /api/v1/feedback
//   GET        /api/v1/alerts, /api/v1/alerts/model-drift, /api/v1/alerts/{id},
//              /api/v1/alerts/{id}/actions; POST /api/v1/alerts/{id}/acknowledge
//   POST       /api/v1/erasure, /api/v1/export
// Borrows the monitor (which must outlive the router). Thread-safe as the monitor is.
class MonitorHandlers {
 public:
  MonitorHandlers(monitor::MonitorService& monitor, RunArtifactOpener open_run_artifact,
                  uint64_t max_reference_bytes)
      : monitor_(monitor),
        open_run_artifact_(std::move(open_run_artifact)),
        max_reference_bytes_(max_reference_bytes) {}

  void Register(http::Router& router);

 private:
  http::Response ReferenceFromRun(http::Request& request);
  http::Response GetReference(http::Request& request);
  http::Response ListAlerts(http::Request& request, bool drift_only);

  monitor::MonitorService& monitor_;
  RunArtifactOpener open_run_artifact_;
  const uint64_t max_reference_bytes_;
};

}  // namespace cairn::api::v1
