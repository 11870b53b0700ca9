#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "api/mlflow/artifact_handlers.h"
#include "http/router.h"

namespace cairn::api::mlflow {

// What the MLflow web UI needs from its server besides the REST API:
//   GET  /                          the UI's index.html (from `ui_dir`)
//   GET  /static-files/<path>       the UI's scripts, styles and images (cached for 28 days)
//   GET  /get-artifact?run_uuid=&path=                     a run's artifact
//   GET  /model-versions/get-artifact?name=&version=&path=  a model version's artifact
//   GET  /ajax-api/2.0/mlflow/logged-models/<id>/artifacts/files?artifact_file_path=
//   GET  /ajax-api/{2,3}.0/mlflow/get-trace-artifact?request_id=[&path=]  a trace's span data
//   POST /ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=   (at most 10 MB, as MLflow)
//   POST /ajax-api/2.0/mlflow/experiments/search-datasets       distinct datasets of experiments
//   GET|POST /ajax-api/3.0/mlflow/ui-telemetry, GET .../assistant/{config,providers},
//   GET /ajax-api/2.0/mlflow/gateway-proxy: answered as the reference answers with telemetry,
//   the assistant and the AI gateway off (Cairn has none of them).
// Artifact downloads resolve the artifact root through the REST routes (CallReadRoute), so they
// see exactly what the caller may see, and stream from the artifact store with MLflow's headers
// (Content-Type by MLflow's rules, attachment, nosniff).
class UiHandlers {
 public:
  // `ui_dir`: the UI's build folder (holding index.html), or nullopt for a server without UI
  // (then "/" answers 404 with a line saying how to enable it). `router` and `artifacts` must
  // outlive this object.
  UiHandlers(const http::Router& router, ArtifactHandlers& artifacts,
             std::optional<std::filesystem::path> ui_dir);

  void Register(http::Router& router);

  // The UI build of the `mlflow` wheel in a Python environment near `start` (a ".venv" in it or
  // one of its parents, up to the filesystem root), or nullopt.
  static std::optional<std::filesystem::path> FindUiBuild(const std::filesystem::path& start);

 private:
  http::Response StaticFile(std::string_view relative, bool immutable) const;
  http::Response GetArtifact(http::Request& request);
  http::Response GetModelVersionArtifact(http::Request& request);
  http::Response GetLoggedModelArtifact(http::Request& request);
  http::Response GetTraceArtifact(http::Request& request);
  http::Response UploadArtifact(http::Request& request);
  http::Response SearchDatasets(http::Request& request);

  const http::Router& router_;
  ArtifactHandlers& artifacts_;
  std::optional<std::filesystem::path> ui_dir_;  // canonical
};

}  // namespace cairn::api::mlflow
