#include "metadata/migrations/sqlite_migrations.h"

namespace cairn::metadata::migrations {
namespace {

// Version 1: tracking (experiments, runs, params, metrics, tags, datasets and inputs, outputs)
// and MLflow 3 logged models. Every table carries tenant_id. Child tables of runs are keyed by
// run_uuid, which is unique across tenants; their tenant_id lets searches and erasure scope by
// tenant without a join. Metric values: NaN is stored as value 0 with is_nan = 1; infinities are
// stored as IEEE infinities.
constexpr std::string_view kTrackingSchema = R"sql(
CREATE TABLE experiments (
  tenant_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, experiment_id),
  UNIQUE (tenant_id, name)
);
CREATE INDEX experiments_by_creation_time
  ON experiments (tenant_id, lifecycle_stage, creation_time);

CREATE TABLE experiment_tags (
  tenant_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tenant_id, experiment_id, key),
  FOREIGN KEY (tenant_id, experiment_id)
    REFERENCES experiments (tenant_id, experiment_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX experiment_tags_by_key_value ON experiment_tags (tenant_id, key, value);

CREATE TABLE runs (
  run_uuid TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  deleted_time INTEGER,
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
) WITHOUT ROWID;
CREATE INDEX runs_by_experiment
  ON runs (tenant_id, experiment_id, lifecycle_stage, start_time);

CREATE TABLE run_tags (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_key_value ON run_tags (tenant_id, key, value);

CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key_value ON params (tenant_id, key, value);

-- Append-only metric history. The primary key makes identical rows collapse (INSERT OR IGNORE)
-- and serves GetMetricHistory's (timestamp, step, value) order; step-range reads scan a run's
-- key, which they must read in full anyway. No second index: every index costs a page write
-- per logged metric.
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
  tenant_id TEXT NOT NULL,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
) WITHOUT ROWID;

-- The latest value per (run, key): the largest (step, timestamp, is-not-NaN, value).
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
-- Serves metric filters (is_nan = 0 AND value > ?) as a range scan that needs no table lookup.
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (tenant_id, key, is_nan, value);

CREATE TABLE datasets (
  dataset_id INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (tenant_id, experiment_id, name, digest),
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
);
CREATE INDEX datasets_by_name ON datasets (tenant_id, name);

-- A dataset used by a run.
CREATE TABLE inputs (
  input_id INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  dataset_id INTEGER NOT NULL REFERENCES datasets (dataset_id),
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  UNIQUE (run_uuid, dataset_id)
);
CREATE INDEX inputs_by_dataset ON inputs (dataset_id);

CREATE TABLE input_tags (
  input_id INTEGER NOT NULL REFERENCES inputs (input_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (input_id, name)
) WITHOUT ROWID;
CREATE INDEX input_tags_by_name_value ON input_tags (tenant_id, name, value);

-- Logged models a run used (MLflow 3 model inputs) and produced (outputs).
CREATE TABLE run_model_inputs (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (run_uuid, model_id)
) WITHOUT ROWID;

CREATE TABLE run_outputs (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (run_uuid, model_id, step)
) WITHOUT ROWID;
CREATE INDEX run_outputs_by_model ON run_outputs (model_id);

CREATE TABLE logged_models (
  model_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  status TEXT NOT NULL,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  creator_id TEXT NOT NULL,
  model_type TEXT NOT NULL,
  source_run_id TEXT NOT NULL,
  status_message TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
) WITHOUT ROWID;
CREATE INDEX logged_models_by_experiment
  ON logged_models (tenant_id, experiment_id, lifecycle_stage, creation_timestamp_ms);
CREATE INDEX logged_models_by_source_run ON logged_models (tenant_id, source_run_id, name);

CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE INDEX logged_model_params_by_key_value ON logged_model_params (tenant_id, key, value);

CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE INDEX logged_model_tags_by_key_value ON logged_model_tags (tenant_id, key, value);

-- Metrics logged by runs against a logged model (history). The dataset columns are '' when the
-- metric names no dataset, so that identical rows collapse under the primary key.
CREATE TABLE logged_model_metrics (
  model_id TEXT NOT NULL,
  key TEXT NOT NULL,
  dataset_name TEXT NOT NULL,
  dataset_digest TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
  run_uuid TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (model_id, key, dataset_name, dataset_digest, timestamp, step, value, is_nan)
) WITHOUT ROWID;

-- The latest value per (model, key, dataset), chosen as for latest_metrics.
CREATE TABLE logged_model_latest_metrics (
  model_id TEXT NOT NULL,
  key TEXT NOT NULL,
  dataset_name TEXT NOT NULL,
  dataset_digest TEXT NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
  run_uuid TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (model_id, key, dataset_name, dataset_digest)
) WITHOUT ROWID;
CREATE INDEX logged_model_latest_metrics_by_key_value
  ON logged_model_latest_metrics (tenant_id, key, is_nan, value);
)sql";

// Version 2: the model registry. Registered models are keyed by (tenant_id, name); every child
// table references its parent with ON UPDATE CASCADE, so renaming a model is one UPDATE that
// moves its versions, tags, aliases and promotion records, and ON DELETE CASCADE, so deleting it
// removes them. A deleted model version stays as a row in stage 'Deleted_Internal': its number is
// never reused and every read skips it.
constexpr std::string_view kRegistrySchema = R"sql(
CREATE TABLE registered_models (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  description TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
CREATE INDEX registered_models_by_creation
  ON registered_models (tenant_id, creation_timestamp);
CREATE INDEX registered_models_by_last_updated
  ON registered_models (tenant_id, last_updated_timestamp);

CREATE TABLE registered_model_tags (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name, key),
  FOREIGN KEY (tenant_id, name) REFERENCES registered_models (tenant_id, name)
    ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX registered_model_tags_by_key_value ON registered_model_tags (tenant_id, key, value);

CREATE TABLE model_versions (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  current_stage TEXT NOT NULL
    CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived', 'Deleted_Internal')),
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_link TEXT NOT NULL,
  model_id TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
  status_message TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name, version),
  FOREIGN KEY (tenant_id, name) REFERENCES registered_models (tenant_id, name)
    ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
-- The newest version of a model in a stage is one seek (latest versions); also archiving.
CREATE INDEX model_versions_by_stage ON model_versions (tenant_id, name, current_stage, version);
CREATE INDEX model_versions_by_run ON model_versions (tenant_id, run_id);
CREATE INDEX model_versions_by_source ON model_versions (tenant_id, source);
CREATE INDEX model_versions_by_last_updated
  ON model_versions (tenant_id, last_updated_timestamp);

CREATE TABLE model_version_tags (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name, version, key),
  FOREIGN KEY (tenant_id, name, version) REFERENCES model_versions (tenant_id, name, version)
    ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX model_version_tags_by_key_value ON model_version_tags (tenant_id, key, value);

-- An alias points at a live version; deleting the version removes its aliases.
CREATE TABLE registered_model_aliases (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name, alias),
  FOREIGN KEY (tenant_id, name, version) REFERENCES model_versions (tenant_id, name, version)
    ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX registered_model_aliases_by_version
  ON registered_model_aliases (tenant_id, name, version);

-- Append-only history of promotions; promotion_id gives the order of appends.
CREATE TABLE model_version_promotions (
  promotion_id INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  target TEXT NOT NULL,
  principal TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  previous_version INTEGER,
  FOREIGN KEY (tenant_id, name) REFERENCES registered_models (tenant_id, name)
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX model_version_promotions_by_version
  ON model_version_promotions (tenant_id, name, version);
)sql";

// Version 3: metric history in chunks. Each write stores the points it logs for one (run, key)
// as one row whose blob holds them in the metadata/metric_chunk.h encoding, so a batch costs a
// row per key rather than a row per point. Identical points are collapsed when history is read
// (the first one logged wins), which is what the old table's primary key did on insert. Rows
// written by versions 1-2 stay in `metrics` and are read together with the chunks; new points go
// only to metric_chunks.
constexpr std::string_view kMetricChunksSchema = R"sql(
CREATE TABLE metric_chunks (
  chunk_id INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  point_count INTEGER NOT NULL,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  points BLOB NOT NULL
);
-- History reads scan one (run, key) in chunk order; the cascade from runs uses its prefix.
CREATE INDEX metric_chunks_by_run_key ON metric_chunks (run_uuid, key);
)sql";

// Version 4: trace infos (MLflow 3 TraceInfoV3) with tags and request metadata. Trace ids are
// chosen by clients, so they are unique per tenant only. Times are milliseconds.
constexpr std::string_view kTracesSchema = R"sql(
CREATE TABLE traces (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  client_request_id TEXT,
  request_time INTEGER NOT NULL,
  execution_duration INTEGER,
  state TEXT NOT NULL CHECK (state IN ('STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS')),
  request_preview TEXT,
  response_preview TEXT,
  PRIMARY KEY (tenant_id, trace_id),
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
);
CREATE INDEX traces_by_experiment_time ON traces (tenant_id, experiment_id, request_time);

CREATE TABLE trace_tags (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, key),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE trace_request_metadata (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, key),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;
)sql";

// Version 5: deployments (serving). The spec is the JSON the API accepted; the columns beside it
// are what lookups filter on.
constexpr std::string_view kDeploymentsSchema = R"sql(
CREATE TABLE deployments (
  deployment_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE INDEX deployments_by_version ON deployments (tenant_id, model_name, model_version);
)sql";

// Version 6: monitoring. Drift configurations, versioned reference profiles, closed windows and
// the monitor's state, per-prediction summaries that late labels join with (and labels that
// arrived before their prediction), alerts and the actions they launched.
constexpr std::string_view kMonitoringSchema = R"sql(
CREATE TABLE drift_configs (
  config_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  model_name TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, model_name, deployment_id)
);
CREATE TABLE reference_profiles (
  tenant_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  source TEXT NOT NULL,
  summary TEXT NOT NULL,
  profile BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, deployment_id, version)
);
CREATE TABLE monitor_windows (
  tenant_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  closed_at INTEGER NOT NULL,
  predictions INTEGER NOT NULL,
  results TEXT NOT NULL,
  PRIMARY KEY (tenant_id, config_id, deployment_id, start_ms)
);
CREATE INDEX monitor_windows_by_model ON monitor_windows (tenant_id, model_name, start_ms);
CREATE TABLE monitor_state (
  tenant_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (tenant_id, config_id, deployment_id)
);
CREATE TABLE monitor_predictions (
  tenant_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  log_offset INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  config_id TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  prediction TEXT NOT NULL,
  score REAL,
  subject_id TEXT,
  label TEXT,
  labeled_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, deployment_id, log_offset)
) WITHOUT ROWID;
CREATE INDEX monitor_predictions_by_request ON monitor_predictions (tenant_id, request_id);
CREATE INDEX monitor_predictions_by_window
  ON monitor_predictions (tenant_id, config_id, deployment_id, window_start);
CREATE INDEX monitor_predictions_by_subject ON monitor_predictions (tenant_id, subject_id)
  WHERE subject_id IS NOT NULL;
CREATE INDEX monitor_predictions_by_time ON monitor_predictions (timestamp_ms);
CREATE TABLE pending_labels (
  tenant_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  label TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, request_id, deployment_id)
);
CREATE INDEX pending_labels_by_time ON pending_labels (received_at);
CREATE TABLE alerts (
  alert_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  model_name TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  first_window_start INTEGER NOT NULL,
  last_window_start INTEGER NOT NULL,
  fired_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL,
  acknowledged_by TEXT NOT NULL,
  acknowledged_at INTEGER NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX alerts_by_tenant ON alerts (tenant_id, fired_at);
CREATE INDEX alerts_firing ON alerts (tenant_id, config_id, deployment_id, kind)
  WHERE state = 'firing';
CREATE TABLE monitor_actions (
  action_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  detail TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX monitor_actions_by_tenant ON monitor_actions (tenant_id, created_at);
)sql";

// Version 7: security. Tenants, principals, role bindings, API tokens (only the SHA-256 of each
// secret) and per-tenant rate limits. These rows are not scoped by tenant_id: they define the
// tenants. "*" (every tenant) is accepted as a binding's or token's tenant but is never a tenant
// itself; a binding's or token's other tenants are checked by the store (a foreign key cannot
// allow "*"). A token's roles are a JSON array of role names, in the order given.
constexpr std::string_view kSecuritySchema = R"sql(
CREATE TABLE tenants (
  name TEXT NOT NULL PRIMARY KEY CHECK (name <> '*'),
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE principals (
  name TEXT NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE role_bindings (
  principal TEXT NOT NULL REFERENCES principals (name),
  tenant TEXT NOT NULL,
  role TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (principal, tenant, role)
) WITHOUT ROWID;
CREATE INDEX role_bindings_by_tenant ON role_bindings (tenant, principal, role);
CREATE TABLE api_tokens (
  token_id TEXT NOT NULL PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  principal TEXT NOT NULL REFERENCES principals (name),
  tenant TEXT NOT NULL,
  roles TEXT NOT NULL CHECK (json_valid(roles) AND json_type(roles) = 'array'),
  description TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant, created_at);
CREATE INDEX api_tokens_by_principal ON api_tokens (principal, created_at);
CREATE TABLE rate_limits (
  tenant TEXT NOT NULL PRIMARY KEY REFERENCES tenants (name),
  control_rate REAL NOT NULL,
  control_burst REAL NOT NULL,
  predict_rate REAL NOT NULL,
  predict_burst REAL NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 8: registry webhooks (MLflow's webhooks and webhook_events). A webhook's events are
// rows of their own so that a delivery finds its subscribers by index. The secret is kept for
// signing deliveries (never returned by the API). Deleting a webhook removes the row and its
// events.
constexpr std::string_view kWebhooksSchema = R"sql(
CREATE TABLE webhooks (
  webhook_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  url TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, created_at);
CREATE TABLE webhook_events (
  webhook_id TEXT NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (webhook_id, event)
) WITHOUT ROWID;
CREATE INDEX webhook_events_by_event ON webhook_events (tenant_id, event);
)sql";

// Version 9: spans kept on the server (OTLP /v1/traces), modelled on MLflow's SQL `spans` table:
// the span's JSON in `content`, and beside it what filters and orderings read. Times are
// nanoseconds. Deleting a trace deletes its spans.
constexpr std::string_view kSpansSchema = R"sql(
CREATE TABLE spans (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  parent_span_id TEXT,
  name TEXT,
  type TEXT,
  status TEXT NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  end_time_unix_nano INTEGER,
  duration_ns INTEGER GENERATED ALWAYS AS (end_time_unix_nano - start_time_unix_nano) STORED,
  content TEXT NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, span_id),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX spans_by_experiment_time ON spans (tenant_id, experiment_id, start_time_unix_nano);
CREATE INDEX spans_by_experiment_type_status ON spans (tenant_id, experiment_id, type, status);
)sql";

// Version 10: the GenAI side of traces. Assessments (feedback and expectations) belong to a trace
// and go with it; values, errors and metadata are the JSON the API accepted. Trace links are
// MLflow's entity associations of a trace with a run or a prompt version; the view lets a trace
// search by run_id find linked traces as well as those whose metadata names the run. Scorers
// are versioned per (experiment, name); their online-scoring configs and the experiment's issues
// go with the experiment.
constexpr std::string_view kGenAiSchema = R"sql(
CREATE TABLE assessments (
  tenant_id TEXT NOT NULL,
  assessment_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('feedback', 'expectation')),
  value TEXT NOT NULL,
  error TEXT,
  source_type TEXT NOT NULL,
  source_id TEXT,
  span_id TEXT,
  run_id TEXT,
  rationale TEXT,
  overrides TEXT,
  valid INTEGER NOT NULL DEFAULT 1,
  metadata TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, assessment_id),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX assessments_by_trace ON assessments (tenant_id, trace_id, created_at);

CREATE TABLE trace_run_links (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, run_id),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX trace_run_links_by_run ON trace_run_links (tenant_id, run_id);

CREATE TABLE trace_prompt_links (
  tenant_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  prompt_name TEXT NOT NULL,
  prompt_version TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, prompt_name, prompt_version),
  FOREIGN KEY (tenant_id, trace_id) REFERENCES traces (tenant_id, trace_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE VIEW trace_metadata_and_run_links (tenant_id, trace_id, key, value) AS
  SELECT tenant_id, trace_id, key, value FROM trace_request_metadata
  UNION ALL
  SELECT tenant_id, trace_id, 'mlflow.sourceRun', run_id FROM trace_run_links;

CREATE TABLE scorers (
  tenant_id TEXT NOT NULL,
  scorer_id TEXT NOT NULL PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (tenant_id, experiment_id, name),
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
    ON DELETE CASCADE
);

CREATE TABLE scorer_versions (
  scorer_id TEXT NOT NULL REFERENCES scorers (scorer_id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  serialized_scorer TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scorer_id, version)
) WITHOUT ROWID;

CREATE TABLE online_scoring_configs (
  config_id TEXT NOT NULL PRIMARY KEY,
  scorer_id TEXT NOT NULL UNIQUE REFERENCES scorers (scorer_id) ON DELETE CASCADE,
  sample_rate REAL NOT NULL,
  filter_string TEXT
);

CREATE TABLE issues (
  tenant_id TEXT NOT NULL,
  issue_id TEXT NOT NULL PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT,
  root_causes TEXT,
  source_run_id TEXT,
  categories TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, experiment_id)
    ON DELETE CASCADE
);
CREATE INDEX issues_by_experiment ON issues (tenant_id, experiment_id, created_at);
)sql";

// Version 11: the order run tags were first set in (MLflow answers a run's tags in that order;
// tags set before this version have none and come first, by key), and MLflow 3 evaluation
// datasets (MLflow's evaluation_datasets,
// evaluation_dataset_tags, evaluation_dataset_records, and the dataset-to-experiment rows of its
// entity_associations). A record is unique per dataset by the hash of its inputs; records are
// read in (created_time, record id) order. Deleting a dataset removes its tags, records and
// experiment links. Tags and experiment links are read back in the order they were first set
// (seq), as MLflow answers them.
constexpr std::string_view kEvalDatasetsSchema = R"sql(
ALTER TABLE run_tags ADD COLUMN seq INTEGER;
CREATE TABLE eval_datasets (
  dataset_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  schema_json TEXT,
  profile_json TEXT,
  digest TEXT NOT NULL,
  created_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  created_by TEXT,
  last_updated_by TEXT
) WITHOUT ROWID;
CREATE INDEX eval_datasets_by_created ON eval_datasets (tenant_id, created_time);
CREATE INDEX eval_datasets_by_name ON eval_datasets (tenant_id, name);
CREATE TABLE eval_dataset_tags (
  dataset_id TEXT NOT NULL REFERENCES eval_datasets (dataset_id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, key)
) WITHOUT ROWID;
CREATE TABLE eval_dataset_experiments (
  dataset_id TEXT NOT NULL REFERENCES eval_datasets (dataset_id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, experiment_id)
) WITHOUT ROWID;
CREATE INDEX eval_dataset_experiments_by_experiment
  ON eval_dataset_experiments (tenant_id, experiment_id);
CREATE TABLE eval_dataset_records (
  record_id TEXT NOT NULL PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES eval_datasets (dataset_id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  input_hash TEXT NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT,
  expectations TEXT,
  tags TEXT NOT NULL,
  source TEXT,
  source_id TEXT,
  source_type TEXT,
  created_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  created_by TEXT,
  last_updated_by TEXT,
  UNIQUE (dataset_id, input_hash)
) WITHOUT ROWID;
CREATE INDEX eval_dataset_records_in_order
  ON eval_dataset_records (dataset_id, created_time, record_id);
)sql";

}  // namespace

const std::vector<sqlite::Migration>& SqliteMigrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      {1, "tracking and logged models", kTrackingSchema},
      {2, "model registry", kRegistrySchema},
      {3, "metric history in chunks", kMetricChunksSchema},
      {4, "traces", kTracesSchema},
      {5, "deployments", kDeploymentsSchema},
      {6, "monitoring", kMonitoringSchema},
      {7, "security", kSecuritySchema},
      {8, "registry webhooks", kWebhooksSchema},
      {9, "spans", kSpansSchema},
      {10, "assessments, trace links, scorers and issues", kGenAiSchema},
      {11, "run tag order; evaluation datasets", kEvalDatasetsSchema},
  };
  return kMigrations;
}

}  // namespace cairn::metadata::migrations
