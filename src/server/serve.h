#pragma once

#include <string>
#include <vector>

namespace cairn::server {

// `cairn serve --model-uri URI ...`: serves one model, as `mlflow models serve` does, with the
// same runtimes and protocols as the server (MLflow /invocations, /ping, /health, /version;
// Open Inference Protocol V2 under /v2; /metrics). URI is a local MLflow model folder (or
// file://...) or models:/<name>/<version> or models:/<name>@<alias> fetched from the tracking
// server at --tracking-uri (default $MLFLOW_TRACKING_URI) through its artifact proxy. The port
// defaults to $PORT (as Knative sets it), else 8080. The container entry point for scale-out.
// Returns the exit code.
int ServeMain(const std::vector<std::string>& args);

}  // namespace cairn::server
