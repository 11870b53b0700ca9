#include "server/backends.h"

#include "artifact/local/local_artifact_store.h"
#include "artifact/s3/s3_artifact_store.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "stream/sqlite/sqlite_event_stream.h"

namespace cairn::server {

Status RegisterMetadataBackends(metadata::MetadataStoreRegistry& registry) {
  RETURN_IF_ERROR(metadata::RegisterSqliteMetadataBackend(registry));
  return Status::Ok();
}

Status RegisterArtifactBackends(artifact::ArtifactStoreRegistry& registry) {
  RETURN_IF_ERROR(artifact::RegisterLocalArtifactBackend(registry));
  RETURN_IF_ERROR(artifact::RegisterS3ArtifactBackend(registry));
  return Status::Ok();
}

Status RegisterEventStreamBackends(stream::EventStreamRegistry& registry) {
  RETURN_IF_ERROR(stream::RegisterSqliteEventStream(registry));
  return Status::Ok();
}

}  // namespace cairn::server
