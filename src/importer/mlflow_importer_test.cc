#include "importer/mlflow_importer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "artifact/local/local_artifact_store.h"
#include "base/status_testing.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "sqlite/connection.h"

namespace cairn::importer {
namespace {

namespace fs = std::filesystem;

// The part of MLflow's SQLite schema (3.x) the importer reads.
constexpr std::string_view kMlflowSchema = R"sql(
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
INSERT INTO alembic_version VALUES ('test');
CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256),
  workspace VARCHAR(63) NOT NULL DEFAULT 'default', artifact_location VARCHAR(256),
  lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT);
CREATE TABLE experiment_tags (key VARCHAR(250), value VARCHAR(5000), experiment_id INTEGER);
CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), user_id VARCHAR(256),
  status VARCHAR(20), start_time BIGINT, end_time BIGINT, deleted_time BIGINT,
  lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER);
CREATE TABLE tags (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32));
CREATE TABLE params (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32));
CREATE TABLE metrics (key VARCHAR(250), value FLOAT, timestamp BIGINT, step BIGINT,
  is_nan BOOLEAN, run_uuid VARCHAR(32));
CREATE TABLE datasets (dataset_uuid VARCHAR(36), experiment_id INTEGER, name VARCHAR(500),
  digest VARCHAR(36), dataset_source_type VARCHAR(36), dataset_source TEXT,
  dataset_schema TEXT, dataset_profile TEXT);
CREATE TABLE inputs (input_uuid VARCHAR(36), source_type VARCHAR(36), source_id VARCHAR(36),
  destination_type VARCHAR(36), destination_id VARCHAR(36), step BIGINT DEFAULT 0);
CREATE TABLE input_tags (input_uuid VARCHAR(36), name VARCHAR(255), value VARCHAR(500));
CREATE TABLE logged_models (model_id VARCHAR(36), experiment_id INTEGER, name VARCHAR(500),
  artifact_location VARCHAR(1000), creation_timestamp_ms BIGINT,
  last_updated_timestamp_ms BIGINT, status INTEGER, lifecycle_stage VARCHAR(32),
  model_type VARCHAR(500), source_run_id VARCHAR(32), status_message VARCHAR(1000));
CREATE TABLE logged_model_tags (model_id VARCHAR(36), experiment_id INTEGER,
  tag_key VARCHAR(255), tag_value TEXT);
CREATE TABLE logged_model_params (model_id VARCHAR(36), experiment_id INTEGER,
  param_key VARCHAR(255), param_value TEXT);
CREATE TABLE logged_model_metrics (model_id VARCHAR(36), metric_name VARCHAR(500),
  metric_timestamp_ms BIGINT, metric_step BIGINT, metric_value FLOAT, experiment_id INTEGER,
  run_id VARCHAR(32), dataset_uuid VARCHAR(36), dataset_name VARCHAR(500),
  dataset_digest VARCHAR(36));
CREATE TABLE registered_models (workspace VARCHAR(63) NOT NULL DEFAULT 'default',
  name VARCHAR(256), creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000));
CREATE TABLE registered_model_tags (workspace VARCHAR(63) NOT NULL DEFAULT 'default',
  name VARCHAR(256), key VARCHAR(250), value VARCHAR(5000));
CREATE TABLE model_versions (workspace VARCHAR(63) NOT NULL DEFAULT 'default',
  name VARCHAR(256), version INTEGER, creation_time BIGINT, last_updated_time BIGINT,
  description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20),
  source VARCHAR(500), storage_location VARCHAR(500), run_id VARCHAR(32),
  run_link VARCHAR(500), status VARCHAR(20), status_message VARCHAR(500));
CREATE TABLE model_version_tags (workspace VARCHAR(63) NOT NULL DEFAULT 'default',
  name VARCHAR(256), version INTEGER, key VARCHAR(250), value TEXT);
CREATE TABLE registered_model_aliases (workspace VARCHAR(63) NOT NULL DEFAULT 'default',
  name VARCHAR(256), alias VARCHAR(256), version INTEGER);
CREATE TABLE trace_info (request_id VARCHAR(50), experiment_id INTEGER, timestamp_ms BIGINT,
  execution_time_ms BIGINT, status VARCHAR(50), client_request_id VARCHAR(50),
  request_preview VARCHAR(1000), response_preview VARCHAR(1000), trace_name VARCHAR(250),
  session_id VARCHAR(250), input_tokens BIGINT, total_tokens BIGINT, total_cost FLOAT);
CREATE TABLE trace_tags (key VARCHAR(250), value VARCHAR(8000), request_id VARCHAR(50));
CREATE TABLE trace_request_metadata (key VARCHAR(250), value VARCHAR(8000),
  request_id VARCHAR(50));
CREATE TABLE spans (trace_id VARCHAR(50) NOT NULL, experiment_id INTEGER NOT NULL,
  span_id VARCHAR(50) NOT NULL, parent_span_id VARCHAR(50), name TEXT, type VARCHAR(500),
  status VARCHAR(50) NOT NULL, start_time_unix_nano BIGINT NOT NULL, end_time_unix_nano BIGINT,
  duration_ns BIGINT, content TEXT NOT NULL);

INSERT INTO experiments VALUES (0, 'Default', 'default', 'mlflow-artifacts:/0', 'active', 1, 1);
INSERT INTO experiments VALUES (1, 'exp', 'default', 'mlflow-artifacts:/1', 'active', 2, 3);
INSERT INTO experiments VALUES (2, 'gone', 'default', 'mlflow-artifacts:/2', 'deleted', 4, 5);
INSERT INTO experiments VALUES (3, 'elsewhere', 'team', 'mlflow-artifacts:/3', 'active', 6, 6);
INSERT INTO experiments VALUES (4, 'on-s3', 'default', 's3://bucket/4', 'active', 7, 7);
INSERT INTO experiment_tags VALUES ('k', 'v', 1);
INSERT INTO runs VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'first', 'u', 'FINISHED', 10, 20,
  NULL, 'active', 'mlflow-artifacts:/1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/artifacts', 1);
INSERT INTO runs VALUES ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'second', 'u', 'FAILED', 11, 21,
  30, 'deleted', 'mlflow-artifacts:/2/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/artifacts', 2);
INSERT INTO runs VALUES ('cccccccccccccccccccccccccccccccc', 'other', 'u', 'FINISHED', 12, 22,
  NULL, 'active', 'mlflow-artifacts:/3/c/artifacts', 3);
INSERT INTO tags VALUES ('mlflow.runName', 'first', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO params VALUES ('lr', '0.1', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO metrics VALUES ('loss', 3.0, 100, 0, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO metrics VALUES ('loss', 2.5, 101, 1, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO metrics VALUES ('loss', 0, 102, 2, 1, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO metrics VALUES ('acc', 0.9, 100, 0, 0, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
INSERT INTO datasets VALUES ('d1', 1, 'train', 'abc', 'local', '{}', NULL, NULL);
INSERT INTO inputs VALUES ('i1', 'DATASET', 'd1', 'RUN', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 0);
INSERT INTO input_tags VALUES ('i1', 'mlflow.data.context', 'training');
INSERT INTO inputs VALUES ('i2', 'RUN_OUTPUT', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'MODEL_OUTPUT', 'm-1', 2);
INSERT INTO logged_models VALUES ('m-1', 1, 'model', 'mlflow-artifacts:/1/models/m-1/artifacts',
  50, 60, 2, 'active', 'sklearn', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', NULL);
INSERT INTO logged_model_tags VALUES ('m-1', 1, 'mlflow.source.name', 'x');
INSERT INTO logged_model_params VALUES ('m-1', 1, 'alpha', '1');
INSERT INTO logged_model_metrics VALUES ('m-1', 'acc', 70, 0, 0.8, 1,
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', NULL, NULL, NULL);
INSERT INTO registered_models VALUES ('default', 'reg', 80, 90, 'desc');
INSERT INTO registered_model_tags VALUES ('default', 'reg', 'team', 'a');
INSERT INTO model_versions VALUES ('default', 'reg', 1, 81, 82, '', 'u', 'Production',
  'models:/m-1', 'mlflow-artifacts:/1/models/m-1/artifacts', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '', 'READY', NULL);
INSERT INTO model_versions VALUES ('default', 'reg', 2, 83, 84, '', 'u', 'Deleted_Internal',
  'models:/m-1', NULL, '', '', 'READY', NULL);
INSERT INTO model_version_tags VALUES ('default', 'reg', 1, 'vt', 'x');
INSERT INTO registered_model_aliases VALUES ('default', 'reg', 'champion', 1);
INSERT INTO registered_models VALUES ('team', 'theirs', 80, 90, '');
INSERT INTO trace_info VALUES ('tr-1', 1, 1000, 5, 'OK', NULL, 'in', 'out', 'agent', 's-1', 3,
  10, 0.5);
INSERT INTO trace_tags VALUES ('mlflow.traceName', 'stale', 'tr-1');
INSERT INTO trace_tags VALUES ('mlflow.artifactLocation', 'mlflow-artifacts:/1/traces/tr-1/artifacts',
  'tr-1');
INSERT INTO trace_request_metadata VALUES ('mlflow.sourceRun', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'tr-1');
INSERT INTO spans VALUES ('tr-1', 1, 's1', NULL, 'root', 'CHAIN', 'OK', 1000000000, 1005000000,
  5000000, '{"name": "root"}');
)sql";

class MlflowImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-import-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    source_db_ = dir_ / "mlflow.db";
    sqlite::ConnectionOptions options;
    auto db = sqlite::Connection::Open(source_db_.string(), options);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Exec("PRAGMA journal_mode=DELETE"));
    ASSERT_OK((*db)->Exec(kMlflowSchema));
    db->reset();
    source_artifacts_ = dir_ / "mlartifacts";
    Write(source_artifacts_ / "1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/artifacts/model/MLmodel", "m");
    Write(source_artifacts_ / "1/models/m-1/artifacts/MLmodel", "lm");
    ASSERT_OK_AND_ASSIGN(stores_, metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string()));
    ASSERT_OK_AND_ASSIGN(artifacts_, artifact::LocalArtifactStore::Open(dir_ / "artifacts"));
  }
  void TearDown() override {
    stores_ = {};
    artifacts_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static void Write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  StatusOr<ImportReport> Import(std::string tenant = "default") {
    ASSIGN_OR_RETURN(auto source, MlflowSource::Open(source_db_.string()));
    ImportOptions options;
    options.tenant = std::move(tenant);
    options.source_artifacts = source_artifacts_;
    options.cairn_artifact_root = dir_ / "artifacts";
    MlflowImporter importer(*source, stores_, *artifacts_, options,
                            [](std::string_view, int64_t, int64_t) {});
    return importer.Run();
  }
  const EntityCount& CountOf(const ImportReport& report, std::string_view kind) {
    for (const EntityCount& c : report.counts) {
      if (c.kind == kind) return c;
    }
    static EntityCount none;
    ADD_FAILURE() << kind;
    return none;
  }

  fs::path dir_;
  fs::path source_db_;
  fs::path source_artifacts_;
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::LocalArtifactStore> artifacts_;
};

TEST_F(MlflowImporterTest, CopiesEveryEntityWithItsIdsAndVerifies) {
  auto bytes_before = fs::file_size(source_db_);
  ASSERT_OK_AND_ASSIGN(ImportReport report, Import());
  EXPECT_TRUE(report.ok()) << report.ToText();
  EXPECT_EQ(fs::file_size(source_db_), bytes_before);
  EXPECT_FALSE(fs::exists(dir_ / "mlflow.db-wal"));
  EXPECT_EQ(CountOf(report, "experiments").source, 4);  // workspace "team" is not read
  EXPECT_NE(report.ToText().find("experiment 4 keeps its artifact location 's3://bucket/4'"),
            std::string::npos)
      << report.ToText();
  EXPECT_EQ(CountOf(report, "runs").imported, 2);
  EXPECT_EQ(CountOf(report, "model versions").in_cairn, 1);
  EXPECT_EQ(CountOf(report, "artifact files").imported, 2);
  EXPECT_EQ(report.points_compared, 4);
  EXPECT_EQ(CountOf(report, "spans").imported, 1);
  EXPECT_EQ(CountOf(report, "spans").in_cairn, 1);

  metadata::TrackingStore& tracking = *stores_.tracking;
  ASSERT_OK_AND_ASSIGN(metadata::Experiment gone, tracking.GetExperiment("default", "2"));
  EXPECT_EQ(gone.lifecycle_stage, metadata::LifecycleStage::kDeleted);
  ASSERT_OK_AND_ASSIGN(metadata::Run run,
                       tracking.GetRun("default", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  EXPECT_EQ(run.info.run_name, "first");
  EXPECT_EQ(run.info.end_time, 20);
  ASSERT_EQ(run.dataset_inputs.size(), 1u);
  EXPECT_EQ(run.dataset_inputs[0].tags.size(), 1u);
  ASSERT_EQ(run.model_outputs.size(), 1u);
  auto history = tracking.GetMetricHistory("default", run.info.run_id, "loss", {});
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->items.size(), 3u);
  EXPECT_TRUE(std::isnan(history->items[2].value));
  ASSERT_OK_AND_ASSIGN(metadata::LoggedModel model, tracking.GetLoggedModel("default", "m-1"));
  EXPECT_EQ(model.status, metadata::LoggedModelStatus::kReady);
  ASSERT_OK_AND_ASSIGN(metadata::ModelVersion v,
                       stores_.registry->GetModelVersionByAlias("default", "reg", "champion"));
  EXPECT_EQ(v.version, 1);
  EXPECT_EQ(v.current_stage, metadata::ModelStage::kProduction);
  ASSERT_OK_AND_ASSIGN(metadata::TraceInfo trace, stores_.traces->GetTraceInfo("default", "tr-1"));
  EXPECT_EQ(trace.request_preview, "in");
  // Columns of newer MLflow schemas come back as MLflow shows them.
  EXPECT_EQ(trace.request_time_ms, 1000);
  EXPECT_EQ(trace.execution_duration_ms, 5);
  // The spans came along, and say so as MLflow's SQL store does.
  EXPECT_EQ(trace.tags,
            (std::vector<metadata::Tag>{
                {"mlflow.artifactLocation", "mlflow-artifacts:/1/traces/tr-1/artifacts"},
                {"mlflow.trace.spansLocation", "TRACKING_STORE"},
                {"mlflow.traceName", "agent"}}));
  ASSERT_OK_AND_ASSIGN(std::vector<metadata::Span> spans,
                       stores_.traces->GetSpans("default", {"tr-1"}));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "root");
  EXPECT_EQ(spans[0].content, R"({"name": "root"})");
  EXPECT_EQ(trace.trace_metadata,
            (std::vector<metadata::Tag>{
                {"mlflow.sourceRun", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                {"mlflow.trace.cost", "{\"total_cost\": 0.5}"},
                {"mlflow.trace.session", "s-1"},
                {"mlflow.trace.tokenUsage", "{\"input_tokens\": 3, \"total_tokens\": 10}"}}));
  EXPECT_TRUE(fs::exists(dir_ / "artifacts/1/models/m-1/artifacts/MLmodel"));
}

TEST_F(MlflowImporterTest, ASecondRunChangesNothingAndDuplicatesNothing) {
  ASSERT_OK(Import().status());
  ASSERT_OK_AND_ASSIGN(ImportReport again, Import());
  EXPECT_TRUE(again.ok()) << again.ToText();
  EXPECT_EQ(CountOf(again, "runs").imported, 0);
  EXPECT_EQ(CountOf(again, "runs").existing, 2);
  EXPECT_EQ(CountOf(again, "artifact files").imported, 0);
  auto history =
      stores_.tracking->GetMetricHistory("default", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "loss", {});
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->items.size(), 3u);
}

TEST_F(MlflowImporterTest, OtherTenantsGetTheirOwnFolder) {
  ASSERT_OK_AND_ASSIGN(ImportReport report, Import("team-b"));
  EXPECT_TRUE(report.ok()) << report.ToText();
  EXPECT_TRUE(fs::exists(dir_ / "artifacts/team-b/1/models/m-1/artifacts/MLmodel"));
  // Run ids are global: the same database cannot go into a second tenant.
  auto second = Import("team-c");
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(MlflowImporterTest, RefusesConflictingExperimentsBeforeWritingAnything) {
  ASSERT_OK(stores_.tracking->EnsureDefaultExperiment("default", "mlflow-artifacts:", 1));
  ASSERT_OK(stores_.tracking->CreateExperiment("default", "mine", "", "mlflow-artifacts:", {}, 1)
                .status());  // takes id 1, which is "exp" in MLflow
  auto report = Import();
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("experiment 1"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(stores_.tracking->GetRun("default", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").status().code(),
            StatusCode::kNotFound);
}

TEST_F(MlflowImporterTest, RejectsFilesThatAreNotMlflowDatabases) {
  EXPECT_EQ(MlflowSource::Open((dir_ / "missing.db").string()).status().code(),
            StatusCode::kNotFound);
  Write(dir_ / "text.db", "this is not a database, just some text that is long enough");
  EXPECT_EQ(MlflowSource::Open((dir_ / "text.db").string()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MlflowSource::Open((dir_ / "meta.db").string()).status().code(),
            StatusCode::kInvalidArgument);  // Cairn's own database
}

}  // namespace
}  // namespace cairn::importer
