#include "server/backends.h"

#include "artifact/local/local_artifact_store.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "stream/kafka/kafka_event_stream.h"
#include "stream/sqlite/sqlite_event_stream.h"

namespace cairn::server {

Status RegisterMetadataBackends(metadata::MetadataStoreRegistry& registry) {
  RETURN_IF_ERROR(metadata::RegisterSqliteMetadataBackend(registry));
  return Status::Ok();
}

Status RegisterArtifactBackends(artifact::ArtifactStoreRegistry& registry) {
  RETURN_IF_ERROR(artifact::RegisterLocalArtifactBackend(registry));
  return Status::Ok();
}

Status RegisterEventStreamBackends(stream::EventStreamRegistry& registry,
                                   metrics::MetricsRegistry* metrics) {
  RETURN_IF_ERROR(stream::RegisterSqliteEventStream(registry));
  RETURN_IF_ERROR(stream::RegisterKafkaEventStream(registry, metrics));
  return Status::Ok();
}

}  // namespace cairn::server
