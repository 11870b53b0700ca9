#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/registry_types.h"
#include "metadata/trace_types.h"
#include "metadata/types.h"

namespace cairn::sqlite {
class Connection;
}
namespace cairn::pg {
class Connection;
}
namespace cairn::sql {
class Connection;
}

namespace cairn::importer {

// Read-only view of an MLflow tracking server's database (the backend store of `mlflow server
// --backend-store-uri sqlite:///...` or `postgresql://...`, schema of MLflow 2.x-3.x), giving its
// entities as Cairn's metadata types with their ids kept. A SQLite file is opened read-only at the
// OS level and left untouched (no journal mode change); a PostgreSQL database is read in one
// read-only transaction per call. Only one MLflow workspace is read: `workspace`
// ("default" unless the database uses workspaces); databases without workspace columns read
// whole. Not thread-safe.
class MlflowSource {
 public:
  // NOT_FOUND for a missing file; INVALID_ARGUMENT when the file is no SQLite database or not
  // an MLflow one (no experiments, runs and alembic_version tables).
  static StatusOr<std::unique_ptr<MlflowSource>> Open(const std::string& path,
                                                      std::string workspace = "default");
  // The same for a PostgreSQL database (`conninfo`: anything libpq takes). UNAVAILABLE when it
  // cannot be reached.
  static StatusOr<std::unique_ptr<MlflowSource>> OpenPostgres(const std::string& conninfo,
                                                              std::string workspace = "default");
  ~MlflowSource();
  MlflowSource(const MlflowSource&) = delete;
  MlflowSource& operator=(const MlflowSource&) = delete;

  // The schema revision (alembic_version), for the report.
  const std::string& schema_version() const { return schema_version_; }

  // Experiments with their tags, by id. An experiment without an artifact location gets "".
  StatusOr<std::vector<metadata::Experiment>> Experiments();
  // Run ids of the workspace's experiments, by experiment then run id.
  StatusOr<std::vector<std::string>> RunIds();
  // One whole run: info, deleted time, tags, params, every metric point, dataset inputs, model
  // inputs and outputs. NOT_FOUND for an unknown id.
  StatusOr<metadata::RunImport> Run(std::string_view run_id);
  // Every point of one metric of one run ordered by (timestamp, step, value), as
  // GetMetricHistory orders it.
  StatusOr<std::vector<metadata::Metric>> MetricHistory(std::string_view run_id,
                                                        std::string_view key);
  // Logged models with tags, params and their metric history (Metric::run_id and dataset set).
  StatusOr<std::vector<metadata::LoggedModel>> LoggedModels();
  // Registered models with tags and aliases, each with all its versions (deleted ones marked).
  StatusOr<std::vector<metadata::RegisteredModelImport>> RegisteredModels();
  // Trace infos with tags and request metadata.
  StatusOr<std::vector<metadata::TraceInfo>> Traces();
  // The spans of the given traces (MLflow 3's `spans` table, where the server keeps spans that
  // came over OTLP), in (trace id, span id) order; none when the table does not exist.
  StatusOr<std::vector<metadata::Span>> Spans(const std::vector<std::string>& trace_ids);
  // Rows of a table that belong to the workspace's traces (spans, assessments), 0 when the
  // table does not exist; for reporting what is not imported.
  StatusOr<int64_t> CountTraceRows(std::string_view table);

 private:
  MlflowSource(std::unique_ptr<sqlite::Connection> lite, std::unique_ptr<pg::Connection> pg,
               std::string workspace);
  // Checks the tables every MLflow database has and reads the schema revision.
  Status Init(const std::string& name);
  StatusOr<bool> HasColumn(std::string_view table, std::string_view column);
  StatusOr<bool> HasTable(std::string_view table);
  // " AND <alias>.workspace = ?" when the table has the column, else "".
  StatusOr<std::string> WorkspaceClause(std::string_view table, std::string_view alias);

  std::unique_ptr<sqlite::Connection> lite_;  // one of lite_ and pg_ is set
  std::unique_ptr<pg::Connection> pg_;
  std::unique_ptr<sql::Connection> db_;  // the one that is set
  const std::string workspace_;
  std::string schema_version_;
};

}  // namespace cairn::importer
