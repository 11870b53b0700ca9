#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "artifact/artifact_store.h"
#include "base/status.h"
#include "importer/mlflow_source.h"
#include "metadata/metadata_stores.h"

namespace cairn::importer {

struct ImportOptions {
  std::string tenant = "default";
  // The folder of MLflow's artifacts (`mlflow server --artifacts-destination DIR`); empty: the
  // metadata only. Its files are copied into the tenant's artifact space at the same relative
  // paths, so that `mlflow-artifacts:/...` locations keep naming them.
  std::filesystem::path source_artifacts;
  // The folder of Cairn's local artifact store, when it is one; if it is `source_artifacts` and
  // the tenant is the default one, the files are used in place (nothing is copied).
  std::filesystem::path cairn_artifact_root;
  // How many runs' metric histories the verification compares point by point.
  int verify_runs = 5;
};

// Receives progress: `kind` ("experiments", "runs", ...) with `done` of `total` entities.
using ProgressFn = std::function<void(std::string_view kind, int64_t done, int64_t total)>;

// One line of the verification report.
struct EntityCount {
  std::string kind;
  int64_t source = 0;    // in the MLflow database (or folder)
  int64_t imported = 0;  // written by this run
  int64_t existing = 0;  // already in Cairn from an earlier (interrupted) run
  int64_t in_cairn = 0;  // of the source's entities, how many Cairn now holds
  int64_t skipped = 0;   // not importable (see notes)
};

struct ImportReport {
  std::vector<EntityCount> counts;
  int64_t histories_compared = 0;
  int64_t points_compared = 0;
  std::vector<std::string> mismatches;  // empty when every check passed
  std::vector<std::string> notes;       // what was skipped and why, where artifacts are
  bool ok() const { return mismatches.empty(); }
  // The report as printed at the end of `cairn import`.
  std::string ToText() const;
};

// Copies one MLflow workspace (experiments, runs, logged models, registered models, trace
// infos) from `source` into `options.tenant` of Cairn's stores through their import methods,
// keeping every id, then copies the artifacts and verifies the result.
//
// Resumable: entities are written whole (each import call is atomic) and one already present
// with the same identity (same experiment for a run, same creation time for a registered
// model, ...) is skipped, so a second run after an interruption ends in the same state with
// nothing duplicated. Artifact files already present with the same size are not copied again.
// Refuses (FAILED_PRECONDITION, naming the entity) to touch an entity that exists in Cairn with
// another identity: an experiment id or name taken by another experiment, a run id used by
// another experiment or tenant, a registered model created at another time. Not thread-safe.
class MlflowImporter {
 public:
  MlflowImporter(MlflowSource& source, const metadata::MetadataStores& stores,
                 artifact::ArtifactStore& artifacts, ImportOptions options, ProgressFn progress);

  StatusOr<ImportReport> Run();

 private:
  Status CheckConflicts(const std::vector<metadata::Experiment>& experiments,
                        const std::vector<metadata::RegisteredModelImport>& models);
  Status ImportExperiments(const std::vector<metadata::Experiment>& experiments);
  Status ImportRuns(const std::vector<std::string>& run_ids);
  Status ImportLoggedModels(const std::vector<metadata::LoggedModel>& models);
  Status ImportRegisteredModels(const std::vector<metadata::RegisteredModelImport>& models);
  Status ImportTraces(const std::vector<metadata::TraceInfo>& traces);
  Status CopyArtifacts();
  Status Verify(const std::vector<std::string>& run_ids);
  // The spans the MLflow database keeps for `traces` (MLflow 3 stores OTLP spans there).
  Status ImportSpans(const std::vector<metadata::TraceInfo>& traces);
  EntityCount& Count(std::string_view kind);

  MlflowSource& source_;
  const metadata::MetadataStores& stores_;
  artifact::ArtifactStore& artifacts_;
  const ImportOptions options_;
  const ProgressFn progress_;
  ImportReport report_;
};

}  // namespace cairn::importer
