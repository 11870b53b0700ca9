#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "metadata/metadata_store.h"
#include "metadata/sql_filter.h"

namespace cairn::metadata {

namespace sqlite {
class Connection;
}

struct SqliteOptions {
  // FULL fsyncs the WAL on every commit: durable across power loss, at a large cost per write.
  // The default (NORMAL) is durable across a crash of the process; see sqlite_db.cc.
  bool synchronous_full = false;
  // Connections used for reads; WAL lets them read while the writer writes. 0 sends reads
  // through the writer connection.
  int reader_connections = 4;
  // How long a connection waits for a lock held by another process before giving up.
  std::chrono::milliseconds busy_timeout{10000};
  // WAL size, in frames, at which a background thread copies the WAL back into the database
  // (a passive checkpoint), keeping fsyncs off the write path. 0 leaves checkpoints to SQLite on
  // the committing thread.
  int checkpoint_frames = 1000;
};

// MetadataStore (tracking and, in sqlite_registry.cc, the model registry) on one SQLite file in
// WAL mode.
//
// Concurrency: one writer connection, guarded by a mutex, runs every write in a
// BEGIN IMMEDIATE transaction, so writes of this process never contend for SQLite's lock with
// each other; writes from other processes are waited for (busy timeout). Reads run in read
// transactions on a small pool of reader connections and see a consistent snapshot. Every
// connection keeps its prepared statements. Thread-safe.
//
// Schema migrations run at Open (see sqlite_migrator.h) and are safe when several processes open
// the same file at once.
class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens or creates the database at `path` (the parent directory must exist; ":memory:" gives a
  // private in-memory database, for tests) and migrates it to the current schema.
  static StatusOr<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path,
                                                             SqliteOptions options = {});
  ~SqliteMetadataStore() override;

  SqliteMetadataStore(const SqliteMetadataStore&) = delete;
  SqliteMetadataStore& operator=(const SqliteMetadataStore&) = delete;

  Status EnsureDefaultExperiment(std::string_view tenant, std::string_view artifact_root,
                                 int64_t now_ms) override;
  StatusOr<std::string> CreateExperiment(std::string_view tenant, std::string_view name,
                                         std::string_view artifact_location,
                                         std::string_view artifact_root,
                                         const std::vector<Tag>& tags, int64_t now_ms) override;
  StatusOr<Experiment> GetExperiment(std::string_view tenant,
                                     std::string_view experiment_id) override;
  StatusOr<Experiment> GetExperimentByName(std::string_view tenant, std::string_view name) override;
  StatusOr<ResultPage<Experiment>> SearchExperiments(std::string_view tenant,
                                                     const SearchExperimentsQuery& query) override;
  Status RenameExperiment(std::string_view tenant, std::string_view experiment_id,
                          std::string_view new_name, int64_t now_ms) override;
  Status DeleteExperiment(std::string_view tenant, std::string_view experiment_id,
                          int64_t now_ms) override;
  Status RestoreExperiment(std::string_view tenant, std::string_view experiment_id,
                           int64_t now_ms) override;
  Status SetExperimentTag(std::string_view tenant, std::string_view experiment_id,
                          const Tag& tag) override;
  Status DeleteExperimentTag(std::string_view tenant, std::string_view experiment_id,
                             std::string_view key) override;

  StatusOr<Run> CreateRun(std::string_view tenant, const RunInfo& info,
                          const std::vector<Tag>& tags) override;
  StatusOr<Run> GetRun(std::string_view tenant, std::string_view run_id) override;
  StatusOr<RunInfo> UpdateRun(std::string_view tenant, std::string_view run_id,
                              std::optional<RunStatus> status, std::optional<int64_t> end_time,
                              std::optional<std::string> run_name) override;
  Status DeleteRun(std::string_view tenant, std::string_view run_id, int64_t now_ms) override;
  Status RestoreRun(std::string_view tenant, std::string_view run_id) override;
  Status LogBatch(std::string_view tenant, std::string_view run_id,
                  const std::vector<Metric>& metrics, const std::vector<Param>& params,
                  const std::vector<Tag>& tags) override;
  Status DeleteRunTag(std::string_view tenant, std::string_view run_id,
                      std::string_view key) override;
  StatusOr<ResultPage<Metric>> GetMetricHistory(std::string_view tenant, std::string_view run_id,
                                                std::string_view key, const Page& page) override;
  StatusOr<std::vector<Metric>> GetMetricHistoryForRuns(std::string_view tenant,
                                                        const std::vector<std::string>& run_ids,
                                                        std::string_view key,
                                                        std::optional<int64_t> start_step,
                                                        std::optional<int64_t> end_step) override;
  StatusOr<ResultPage<Run>> SearchRuns(std::string_view tenant,
                                       const SearchRunsQuery& query) override;
  Status LogInputs(std::string_view tenant, std::string_view run_id,
                   const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelInput>& models) override;
  Status LogOutputs(std::string_view tenant, std::string_view run_id,
                    const std::vector<ModelOutput>& models) override;

  StatusOr<LoggedModel> CreateLoggedModel(std::string_view tenant,
                                          const LoggedModel& model) override;
  StatusOr<LoggedModel> GetLoggedModel(std::string_view tenant, std::string_view model_id,
                                       bool allow_deleted) override;
  StatusOr<LoggedModel> FinalizeLoggedModel(std::string_view tenant, std::string_view model_id,
                                            LoggedModelStatus status, int64_t now_ms) override;
  Status DeleteLoggedModel(std::string_view tenant, std::string_view model_id,
                           int64_t now_ms) override;
  Status SetLoggedModelTags(std::string_view tenant, std::string_view model_id,
                            const std::vector<Tag>& tags, int64_t now_ms) override;
  Status DeleteLoggedModelTag(std::string_view tenant, std::string_view model_id,
                              std::string_view key, int64_t now_ms) override;
  Status LogLoggedModelParams(std::string_view tenant, std::string_view model_id,
                              const std::vector<Param>& params, int64_t now_ms) override;
  StatusOr<ResultPage<LoggedModel>> SearchLoggedModels(
      std::string_view tenant, const SearchLoggedModelsQuery& query) override;

  // ---- RegistryStore (sqlite_registry.cc) ----
  StatusOr<RegisteredModel> CreateRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::string_view description,
                                                  const std::vector<Tag>& tags,
                                                  std::string_view user_id,
                                                  int64_t now_ms) override;
  StatusOr<RegisteredModel> GetRegisteredModel(std::string_view tenant,
                                               std::string_view name) override;
  StatusOr<RegisteredModel> RenameRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::string_view new_name,
                                                  int64_t now_ms) override;
  StatusOr<RegisteredModel> UpdateRegisteredModel(std::string_view tenant, std::string_view name,
                                                  std::optional<std::string> description,
                                                  int64_t now_ms) override;
  Status DeleteRegisteredModel(std::string_view tenant, std::string_view name) override;
  StatusOr<ResultPage<RegisteredModel>> SearchRegisteredModels(
      std::string_view tenant, const SearchRegisteredModelsQuery& query) override;
  StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      std::string_view tenant, std::string_view name,
      const std::vector<ModelStage>& stages) override;
  Status SetRegisteredModelTag(std::string_view tenant, std::string_view name, const Tag& tag,
                               int64_t now_ms) override;
  Status DeleteRegisteredModelTag(std::string_view tenant, std::string_view name,
                                  std::string_view key) override;
  Status SetRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                 std::string_view alias, int64_t version, int64_t now_ms) override;
  Status DeleteRegisteredModelAlias(std::string_view tenant, std::string_view name,
                                    std::string_view alias) override;
  StatusOr<ModelVersion> GetModelVersionByAlias(std::string_view tenant, std::string_view name,
                                                std::string_view alias) override;
  StatusOr<ModelVersion> CreateModelVersion(std::string_view tenant,
                                            const CreateModelVersionRequest& request,
                                            int64_t now_ms) override;
  StatusOr<ModelVersion> GetModelVersion(std::string_view tenant, std::string_view name,
                                         int64_t version) override;
  StatusOr<ModelVersion> UpdateModelVersion(std::string_view tenant, std::string_view name,
                                            int64_t version, std::optional<std::string> description,
                                            int64_t now_ms) override;
  Status DeleteModelVersion(std::string_view tenant, std::string_view name, int64_t version,
                            int64_t now_ms) override;
  StatusOr<ResultPage<ModelVersion>> SearchModelVersions(
      std::string_view tenant, const SearchModelVersionsQuery& query) override;
  StatusOr<ModelVersion> TransitionModelVersionStage(std::string_view tenant, std::string_view name,
                                                     int64_t version, ModelStage stage,
                                                     bool archive_existing,
                                                     int64_t now_ms) override;
  Status SetModelVersionTag(std::string_view tenant, std::string_view name, int64_t version,
                            const Tag& tag, int64_t now_ms) override;
  Status DeleteModelVersionTag(std::string_view tenant, std::string_view name, int64_t version,
                               std::string_view key) override;
  StatusOr<PromotionRecord> PromoteModelVersion(std::string_view tenant,
                                                const PromoteRequest& request,
                                                int64_t now_ms) override;
  StatusOr<std::vector<PromotionRecord>> ListPromotions(std::string_view tenant,
                                                        std::string_view name,
                                                        std::optional<int64_t> version) override;

  // ---- TraceStore (sqlite_traces.cc) ----
  StatusOr<TraceInfo> StartTrace(std::string_view tenant, const TraceInfo& info) override;
  StatusOr<TraceInfo> GetTraceInfo(std::string_view tenant, std::string_view trace_id) override;
  StatusOr<ResultPage<TraceInfo>> SearchTraces(std::string_view tenant,
                                               const SearchTracesQuery& query) override;
  Status SetTraceTag(std::string_view tenant, std::string_view trace_id, const Tag& tag) override;
  Status DeleteTraceTag(std::string_view tenant, std::string_view trace_id,
                        std::string_view key) override;
  StatusOr<int64_t> DeleteTraces(std::string_view tenant,
                                 const DeleteTracesRequest& request) override;

  // The schema version of the open database.
  StatusOr<int> SchemaVersionForTest();
  // PRAGMA synchronous of the writer connection, the one that commits: 1 NORMAL, 2 FULL.
  StatusOr<int> SynchronousForTest();

 private:
  using ConnectionFn = std::function<Status(sqlite::Connection&)>;

  SqliteMetadataStore(std::string path, SqliteOptions options);
  Status Init();

  // Runs `fn` on the writer inside a savepoint of a BEGIN IMMEDIATE transaction and returns
  // once that transaction has committed: `fn`'s changes are kept if it returns OK, else rolled
  // back to the savepoint, and its error returned. Group commit: writes that arrive while a
  // transaction is running are queued, and the next caller to find no transaction running runs
  // all queued writes in one transaction, so concurrent writers share the cost of a commit
  // (the WAL pages they all touch are written once). Each caller still returns only after the
  // commit that holds its changes, so an acknowledged write is as durable as before.
  Status Write(const ConnectionFn& fn) EXCLUDES(group_mu_, write_mu_);
  struct PendingWrite;
  void RunWriteGroup(const std::vector<PendingWrite*>& group) EXCLUDES(group_mu_, write_mu_);
  // Runs `fn` in a read transaction on a pooled reader connection.
  Status Read(const ConnectionFn& fn) EXCLUDES(write_mu_, pool_mu_);

  void CheckpointLoop() EXCLUDES(checkpoint_mu_);

  const std::string path_;
  const SqliteOptions options_;
  const SqlDialect dialect_;
  bool reads_on_writer_ = false;  // set by Init, then constant

  Mutex write_mu_;
  std::unique_ptr<sqlite::Connection> writer_ GUARDED_BY(write_mu_);

  Mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<PendingWrite*> pending_writes_ GUARDED_BY(group_mu_);
  bool group_running_ GUARDED_BY(group_mu_) = false;

  Mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_ GUARDED_BY(pool_mu_);

  Mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_requested_ GUARDED_BY(checkpoint_mu_) = false;
  bool stopping_ GUARDED_BY(checkpoint_mu_) = false;
  std::unique_ptr<sqlite::Connection> checkpointer_;  // used only by checkpoint_thread_
  std::thread checkpoint_thread_;
};

}  // namespace cairn::metadata
