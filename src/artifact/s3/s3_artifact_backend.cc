#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "artifact/s3/s3_artifact_store.h"
#include "artifact/s3/s3_store_config.h"

namespace cairn::artifact {
namespace {

StatusOr<std::unique_ptr<ArtifactStore>> CreateS3Store(const Uri& uri) {
  ASSIGN_OR_RETURN(S3StoreConfig config, ParseS3StoreConfig(uri, [](const char* name) {
                     const char* value = std::getenv(name);
                     return std::string(value == nullptr ? "" : value);
                   }));
  if (!config.credentials_from.empty()) {
    spdlog::info("S3 artifact store s3://{}: credentials from {}", config.client.bucket,
                 config.credentials_from);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<S3ArtifactStore> store, OpenS3ArtifactStore(config));
  return std::unique_ptr<ArtifactStore>(std::move(store));
}

}  // namespace

Status RegisterS3ArtifactBackend(ArtifactStoreRegistry& registry) {
  return registry.Register("s3", CreateS3Store);
}

}  // namespace cairn::artifact
