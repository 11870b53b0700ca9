#pragma once

#include <memory>
#include <string>

#include "artifact/artifact_store_factory.h"
#include "audit/sql_audit_store.h"
#include "base/status.h"
#include "metadata/metadata_store_factory.h"
#include "metrics/metrics_registry.h"
#include "stream/event_stream_factory.h"

namespace cairn::server {

// The one place that knows which storage backends this binary is built with. Each backend is
// its own library; this registers them by explicit calls (no static registrars), so a binary
// links exactly the backends named here.
Status RegisterMetadataBackends(metadata::MetadataStoreRegistry& registry);
Status RegisterArtifactBackends(artifact::ArtifactStoreRegistry& registry);
// `metrics` (may be null; must outlive the streams) receives the series of backends that export
// their own (Kafka's delivery and drop counters).
Status RegisterEventStreamBackends(stream::EventStreamRegistry& registry,
                                   metrics::MetricsRegistry* metrics = nullptr);

// The audit log's store for a metadata backend: with postgresql:// metadata, tables beside it in
// the same database (one chain every replica appends to); otherwise <data_dir>/audit.db.
StatusOr<std::unique_ptr<audit::SqlAuditStore>> OpenAuditStore(const std::string& backend_store_uri,
                                                               const std::string& data_dir,
                                                               bool sqlite_synchronous_full);

}  // namespace cairn::server
