#include "server/backends.h"

#include <filesystem>

#include "artifact/local/local_artifact_store.h"
#include "artifact/s3/s3_artifact_store.h"
#include "base/uri.h"
#include "metadata/postgres/postgres_metadata_backend.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "stream/kafka/kafka_event_stream.h"
#include "stream/sqlite/sqlite_event_stream.h"

namespace cairn::server {

StatusOr<std::unique_ptr<audit::SqlAuditStore>> OpenAuditStore(const std::string& backend_store_uri,
                                                               const std::string& data_dir,
                                                               bool sqlite_synchronous_full) {
  if (!backend_store_uri.empty()) {
    ASSIGN_OR_RETURN(Uri uri, Uri::Parse(backend_store_uri));
    if (uri.scheme == "postgresql" || uri.scheme == "postgres") {
      ASSIGN_OR_RETURN(metadata::PostgresUri parsed, metadata::ParsePostgresUri(uri));
      parsed.options.reader_connections = 2;
      return audit::SqlAuditStore::OpenPostgres(parsed.conninfo, parsed.options);
    }
  }
  return audit::SqlAuditStore::OpenSqlite(
      (std::filesystem::path(data_dir) / "audit.db").string(),
      sqlite::DatabaseOptions{.synchronous_full = sqlite_synchronous_full});
}

Status RegisterMetadataBackends(metadata::MetadataStoreRegistry& registry) {
  RETURN_IF_ERROR(metadata::RegisterSqliteMetadataBackend(registry));
  RETURN_IF_ERROR(metadata::RegisterPostgresMetadataBackend(registry));
  return Status::Ok();
}

Status RegisterArtifactBackends(artifact::ArtifactStoreRegistry& registry) {
  RETURN_IF_ERROR(artifact::RegisterLocalArtifactBackend(registry));
  RETURN_IF_ERROR(artifact::RegisterS3ArtifactBackend(registry));
  return Status::Ok();
}

Status RegisterEventStreamBackends(stream::EventStreamRegistry& registry,
                                   metrics::MetricsRegistry* metrics) {
  RETURN_IF_ERROR(stream::RegisterSqliteEventStream(registry));
  RETURN_IF_ERROR(stream::RegisterKafkaEventStream(registry, metrics));
  return Status::Ok();
}

}  // namespace cairn::server
