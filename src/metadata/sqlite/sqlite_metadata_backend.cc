#include "metadata/sqlite/sqlite_metadata_backend.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "metadata/migrations/sqlite_migrations.h"
#include "metadata/sqlite/sqlite_assessment_store.h"
#include "metadata/sqlite/sqlite_deployment_store.h"
#include "metadata/sqlite/sqlite_eval_dataset_store.h"
#include "metadata/sqlite/sqlite_issue_store.h"
#include "metadata/sqlite/sqlite_monitor_store.h"
#include "metadata/sqlite/sqlite_registry_store.h"
#include "metadata/sqlite/sqlite_scorer_store.h"
#include "metadata/sqlite/sqlite_security_store.h"
#include "metadata/sqlite/sqlite_trace_link_store.h"
#include "metadata/sqlite/sqlite_trace_store.h"
#include "metadata/sqlite/sqlite_tracking_store.h"
#include "metadata/sqlite/sqlite_webhook_store.h"
#include "sqlite/sqlite_uri.h"

namespace cairn::metadata {
namespace {

StatusOr<sqlite::DatabaseOptions> SqliteOptionsFromQuery(
    std::string_view query, const MetadataStoreOptions& store_options) {
  ASSIGN_OR_RETURN(sqlite::UriOptions from_uri, sqlite::ParseUriQuery(query));
  sqlite::DatabaseOptions options;
  options.synchronous_full = store_options.sqlite_synchronous_full;
  if (from_uri.synchronous_full.has_value()) {
    if (!*from_uri.synchronous_full && store_options.sqlite_synchronous_full) {
      return InvalidArgument(
          "sqlite URI: synchronous=normal contradicts --sqlite-synchronous-full "
          "(sqlite_synchronous_full); drop one of them");
    }
    options.synchronous_full = *from_uri.synchronous_full;
  }
  if (from_uri.reader_connections.has_value()) {
    options.reader_connections = *from_uri.reader_connections;
  }
  return options;
}

}  // namespace

StatusOr<MetadataStores> OpenSqliteMetadataStores(const std::string& path,
                                                  sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> opened,
                   sqlite::Database::Open(path, migrations::SqliteMigrations(), options));
  std::shared_ptr<sqlite::Database> db = std::move(opened);
  MetadataStores stores;
  stores.tracking = std::make_shared<SqliteTrackingStore>(db);
  stores.registry = std::make_shared<SqliteRegistryStore>(db);
  stores.traces = std::make_shared<SqliteTraceStore>(db);
  stores.deployments = std::make_shared<SqliteDeploymentStore>(db);
  stores.monitoring = std::make_shared<SqliteMonitorStore>(db);
  stores.security = std::make_shared<SqliteSecurityStore>(db);
  stores.webhooks = std::make_shared<SqliteWebhookStore>(db);
  stores.assessments = std::make_shared<SqliteAssessmentStore>(db);
  stores.trace_links = std::make_shared<SqliteTraceLinkStore>(db);
  stores.scorers = std::make_shared<SqliteScorerStore>(db);
  stores.issues = std::make_shared<SqliteIssueStore>(db);
  stores.eval_datasets = std::make_shared<SqliteEvalDatasetStore>(db);
  return stores;
}

StatusOr<std::string> SqlitePathFromUri(const Uri& uri) { return sqlite::PathFromUri(uri); }

Status RegisterSqliteMetadataBackend(MetadataStoreRegistry& registry) {
  return registry.Register(
      "sqlite",
      [](const Uri& uri, const MetadataStoreOptions& store_options) -> StatusOr<MetadataStores> {
        ASSIGN_OR_RETURN(std::string path, SqlitePathFromUri(uri));
        ASSIGN_OR_RETURN(sqlite::DatabaseOptions options,
                         SqliteOptionsFromQuery(uri.query, store_options));
        if (path != ":memory:") {
          std::filesystem::path parent = std::filesystem::path(path).parent_path();
          if (!parent.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(parent, ec);
            if (ec) {
              return Unavailable("cannot create directory '" + parent.string() +
                                 "': " + ec.message());
            }
          }
        }
        return OpenSqliteMetadataStores(path, options);
      });
}

}  // namespace cairn::metadata
