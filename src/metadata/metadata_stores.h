#pragma once

#include <memory>

#include "metadata/assessment_store.h"
#include "metadata/deployment_store.h"
#include "metadata/eval_dataset_store.h"
#include "metadata/issue_store.h"
#include "metadata/monitor_store.h"
#include "metadata/registry_store.h"
#include "metadata/scorer_store.h"
#include "metadata/security_store.h"
#include "metadata/trace_link_store.h"
#include "metadata/trace_store.h"
#include "metadata/tracking_store.h"
#include "metadata/webhook_store.h"

namespace cairn::metadata {

// Metadata is split by domain, one interface each: TrackingStore (experiments, runs, logged
// models), RegistryStore (registered models and versions), TraceStore (trace infos). Services
// take only the interfaces they use. Serving (deployments), monitoring and security state join
// as interfaces of their own, each a new member below; adding a domain never widens an existing
// interface.
//
// Contract for every method of every domain store:
// - `tenant` scopes the call: rows of other tenants are invisible (a lookup of another tenant's
//   id is NOT_FOUND) and names are unique per tenant.
// - Errors: NOT_FOUND for a missing entity, ALREADY_EXISTS for a taken unique name, both with
//   MLflow's wording where MLflow has one (metadata/errors.h); INVALID_ARGUMENT for semantic
//   violations, including writes to an entity that is not in the state they need (MLflow never
//   answers FAILED_PRECONDITION for those); UNAVAILABLE when the backend cannot be reached;
//   INTERNAL for anything unexpected.
// - Every write is atomic: on error nothing of the call is stored. A write that returned OK is
//   durable across a crash of the process.
// - Input is already validated for shape and size by the service; stores re-check only what
//   needs stored state.
// - Thread-safe: any number of threads may call any method concurrently; callers never see
//   "database is locked".

// The domain stores one metadata backend opened (for one URI). The stores of one backend may
// share a connection pool; each shared_ptr keeps what it needs alive. A backend fills every
// domain it implements; the server refuses to start with a domain it needs left empty.
struct MetadataStores {
  std::shared_ptr<TrackingStore> tracking;
  std::shared_ptr<RegistryStore> registry;
  std::shared_ptr<TraceStore> traces;
  std::shared_ptr<DeploymentStore> deployments;
  std::shared_ptr<MonitorStore> monitoring;
  // Tenants, principals, role bindings, API tokens and rate limits. Not tenant-scoped: it is the
  // table of tenants (see security_store.h).
  std::shared_ptr<SecurityStore> security;
  // Registry webhooks (subscriptions to registry events), per tenant.
  std::shared_ptr<WebhookStore> webhooks;
  // Assessments of traces (feedback and expectations), per tenant.
  std::shared_ptr<AssessmentStore> assessments;
  // Links of traces to runs and prompt versions, per tenant.
  std::shared_ptr<TraceLinkStore> trace_links;
  // Scorers registered to experiments, with their online-scoring configs, per tenant.
  std::shared_ptr<ScorerStore> scorers;
  // Issues found in experiments' traces, per tenant.
  std::shared_ptr<IssueStore> issues;
  // MLflow 3 evaluation datasets (records, tags, experiment links), per tenant.
  std::shared_ptr<EvalDatasetStore> eval_datasets;
};

}  // namespace cairn::metadata
