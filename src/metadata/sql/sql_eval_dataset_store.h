#pragma once

#include <memory>

#include "metadata/eval_dataset_store.h"
#include "metadata/sql_filter.h"
#include "sql/sql.h"

namespace cairn::metadata {

// EvalDatasetStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema
// of migration 11. Thread-safe; concurrency is the Database's.
class SqlEvalDatasetStore final : public EvalDatasetStore {
 public:
  explicit SqlEvalDatasetStore(std::shared_ptr<sql::Database> db);

  Status CreateDataset(std::string_view tenant, const EvalDataset& dataset,
                       const std::vector<std::string>& experiment_ids) override;
  StatusOr<EvalDataset> GetDataset(std::string_view tenant, std::string_view id) override;
  StatusOr<bool> DeleteDataset(std::string_view tenant, std::string_view id) override;
  StatusOr<ResultPage<EvalDataset>> SearchDatasets(std::string_view tenant,
                                                   const SearchEvalDatasetsQuery& query) override;
  Status SetDatasetTags(std::string_view tenant, std::string_view id,
                        const std::vector<Tag>& tags) override;
  Status DeleteDatasetTag(std::string_view tenant, std::string_view id,
                          std::string_view key) override;
  StatusOr<EvalRecordUpsertResult> UpsertRecords(std::string_view tenant,
                                                 std::string_view dataset_id,
                                                 const std::vector<EvalRecordUpsert>& records,
                                                 int64_t now_ms) override;
  StatusOr<ResultPage<EvalDatasetRecord>> GetRecords(
      std::string_view tenant, std::string_view dataset_id, int64_t max_results,
      const std::optional<RecordCursor>& after) override;
  StatusOr<int64_t> DeleteRecords(std::string_view tenant, std::string_view dataset_id,
                                  const std::vector<std::string>& record_ids) override;
  StatusOr<std::vector<std::string>> GetExperimentIds(std::string_view tenant,
                                                      std::string_view dataset_id) override;
  StatusOr<EvalDataset> AddExperiments(std::string_view tenant, std::string_view dataset_id,
                                       const std::vector<std::string>& experiment_ids,
                                       int64_t now_ms) override;
  StatusOr<EvalDataset> RemoveExperiments(std::string_view tenant, std::string_view dataset_id,
                                          const std::vector<std::string>& experiment_ids,
                                          int64_t now_ms) override;

 private:
  const std::shared_ptr<sql::Database> db_;
  const SqlDialect dialect_;
};

}  // namespace cairn::metadata
