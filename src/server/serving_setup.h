#pragma once

#include <memory>

#include "artifact/artifact_store.h"
#include "base/status.h"
#include "metadata/metadata_stores.h"
#include "metrics/metrics_registry.h"
#include "server/config.h"
#include "serving/deployment_service.h"

namespace cairn::server {

// The serving side of a server (`cairn server` and `cairn serve`): the model runtimes it can
// offer (ONNX Runtime when its library loads, Python workers started on the first Python load),
// the deployment service over `metadata` and `artifacts`, and the deployments it restores from
// the store. Model folders are copied under <data_dir>/models.
StatusOr<std::unique_ptr<serving::DeploymentService>> StartServing(
    const ServerConfig& config, const metadata::MetadataStores& metadata,
    artifact::ArtifactStore& artifacts, metrics::MetricsRegistry& metrics);

}  // namespace cairn::server
