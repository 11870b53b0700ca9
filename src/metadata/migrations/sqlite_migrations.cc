#include "metadata/migrations/migration.h"

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

}  // namespace

const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "tracking and logged models", kTrackingSchema},
  };
  return kMigrations;
}

}  // namespace cairn::metadata::migrations
