#include "metadata/sql/sql_metadata_stores.h"

#include <utility>

#include "metadata/sql/sql_assessment_store.h"
#include "metadata/sql/sql_deployment_store.h"
#include "metadata/sql/sql_eval_dataset_store.h"
#include "metadata/sql/sql_issue_store.h"
#include "metadata/sql/sql_monitor_store.h"
#include "metadata/sql/sql_registry_store.h"
#include "metadata/sql/sql_scorer_store.h"
#include "metadata/sql/sql_security_store.h"
#include "metadata/sql/sql_trace_link_store.h"
#include "metadata/sql/sql_trace_store.h"
#include "metadata/sql/sql_tracking_store.h"
#include "metadata/sql/sql_webhook_store.h"

namespace cairn::metadata {

MetadataStores MakeSqlMetadataStores(std::shared_ptr<sql::Database> db) {
  MetadataStores stores;
  stores.tracking = std::make_shared<SqlTrackingStore>(db);
  stores.registry = std::make_shared<SqlRegistryStore>(db);
  stores.traces = std::make_shared<SqlTraceStore>(db);
  stores.deployments = std::make_shared<SqlDeploymentStore>(db);
  stores.monitoring = std::make_shared<SqlMonitorStore>(db);
  stores.security = std::make_shared<SqlSecurityStore>(db);
  stores.webhooks = std::make_shared<SqlWebhookStore>(db);
  stores.assessments = std::make_shared<SqlAssessmentStore>(db);
  stores.trace_links = std::make_shared<SqlTraceLinkStore>(db);
  stores.scorers = std::make_shared<SqlScorerStore>(db);
  stores.issues = std::make_shared<SqlIssueStore>(db);
  stores.eval_datasets = std::make_shared<SqlEvalDatasetStore>(db);
  return stores;
}

}  // namespace cairn::metadata
