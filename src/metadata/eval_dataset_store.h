#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "filter/filter.h"
#include "metadata/types.h"

namespace cairn::metadata {

// An MLflow 3 GenAI evaluation dataset (MLflow's EvaluationDataset entity, without its records).
struct EvalDataset {
  std::string id;  // "d-" + 32 hex digits, unique across tenants
  std::string name;
  std::vector<Tag> tags;               // in the order first set
  std::optional<std::string> schema;   // JSON text, set by the first record upsert
  std::optional<std::string> profile;  // JSON text ({"num_records": N}, or "null")
  std::string digest;                  // 8 hex digits, recomputed by each record upsert
  int64_t created_time_ms = 0;
  int64_t last_update_time_ms = 0;
  std::optional<std::string> created_by;  // the creating call's `mlflow.user` tag
  std::optional<std::string> last_updated_by;
};

// One record of a dataset, its JSON fields as JSON text.
struct EvalDatasetRecord {
  std::string id;  // "dr-" + 32 hex digits
  std::string dataset_id;
  std::string inputs;                       // a JSON object
  std::optional<std::string> outputs;       // any JSON value; nullopt: none
  std::optional<std::string> expectations;  // a JSON object; nullopt: none
  std::string tags = "{}";                  // a JSON object of strings
  std::optional<std::string> source;        // {"source_type": "TRACE", "source_data": {...}}
  std::optional<std::string> source_id;
  std::optional<std::string> source_type;  // "TRACE", "HUMAN", "DOCUMENT", "CODE", "UNSPECIFIED"
  int64_t created_time_ms = 0;
  int64_t last_update_time_ms = 0;
  std::optional<std::string> created_by;
  std::optional<std::string> last_updated_by;
};

// One record of an upsert. Records are keyed by their inputs: an upsert whose `input_hash`
// matches a stored record of the dataset merges into it (MLflow's merge: `outputs` replaced when
// given, `expectations` and `tags` merged key by key when non-empty, source kept), otherwise it
// inserts a new record with `new_record_id`.
struct EvalRecordUpsert {
  std::string new_record_id;
  std::string inputs;      // a JSON object
  std::string input_hash;  // identifies the inputs (eval_dataset_rules.h InputHash)
  bool has_outputs = false;
  std::optional<std::string> outputs;       // when has_outputs: the value (nullopt: null)
  std::optional<std::string> expectations;  // a JSON object
  std::optional<std::string> tags;          // a JSON object of strings
  std::optional<std::string> source;
  std::optional<std::string> source_id;
  std::optional<std::string> source_type;
  std::optional<std::string> user;  // the record's `mlflow.user` tag
};

struct EvalRecordUpsertResult {
  int64_t inserted = 0;
  int64_t updated = 0;
};

struct SearchEvalDatasetsQuery {
  std::vector<std::string> experiment_ids;  // empty: every dataset of the tenant
  filter::Filter filter;                    // parsed with SearchKind::kEvaluationDatasets
  std::vector<filter::OrderBy> order_by;    // empty: created_time DESC; dataset_id DESC last
  int64_t max_results = 1000;
  int64_t offset = 0;
};

// MLflow 3 evaluation datasets, their tags, records and experiment links, per tenant. The
// contract shared by every domain store is in metadata_stores.h (tenant scoping, errors, atomic
// durable writes, thread safety). Values are stored as given: shapes and sizes are validated by
// the caller. Experiment ids are not checked against the tracking store here.
class EvalDatasetStore {
 public:
  virtual ~EvalDatasetStore() = default;

  // Stores a new dataset with its tags and experiment links. ALREADY_EXISTS when the id is taken
  // (in any tenant).
  virtual Status CreateDataset(std::string_view tenant, const EvalDataset& dataset,
                               const std::vector<std::string>& experiment_ids) = 0;
  // NOT_FOUND: "Evaluation dataset with id '<id>' not found".
  virtual StatusOr<EvalDataset> GetDataset(std::string_view tenant, std::string_view id) = 0;
  // Removes the dataset, its tags, records and experiment links. Returns false when there was no
  // such dataset (MLflow answers success for that too).
  virtual StatusOr<bool> DeleteDataset(std::string_view tenant, std::string_view id) = 0;
  virtual StatusOr<ResultPage<EvalDataset>> SearchDatasets(
      std::string_view tenant, const SearchEvalDatasetsQuery& query) = 0;

  // Sets (inserts or replaces) tags. NOT_FOUND: "Could not find evaluation dataset with ID <id>".
  virtual Status SetDatasetTags(std::string_view tenant, std::string_view id,
                                const std::vector<Tag>& tags) = 0;
  // Removes a tag; a missing dataset or tag is not an error.
  virtual Status DeleteDatasetTag(std::string_view tenant, std::string_view id,
                                  std::string_view key) = 0;

  // Applies the upserts in order (a later one with the same inputs merges into an earlier one),
  // then updates the dataset: schema (eval_dataset_rules.h UpdateSchema), profile (the record
  // count, when non-zero), digest, last_update_time = `now_ms` and last_updated_by = the last
  // upsert's `user` (null when none has one). NOT_FOUND as GetDataset.
  virtual StatusOr<EvalRecordUpsertResult> UpsertRecords(
      std::string_view tenant, std::string_view dataset_id,
      const std::vector<EvalRecordUpsert>& records, int64_t now_ms) = 0;
  // Records ordered by (created_time, id), after the (created_time, id) cursor when given, at
  // most `max_results`; has_more when more follow. NOT_FOUND as GetDataset.
  struct RecordCursor {
    int64_t created_time_ms = 0;
    std::string id;
  };
  virtual StatusOr<ResultPage<EvalDatasetRecord>> GetRecords(
      std::string_view tenant, std::string_view dataset_id, int64_t max_results,
      const std::optional<RecordCursor>& after) = 0;
  // Deletes the records with these ids and returns how many there were; when any, lowers the
  // profile's record count by that many (MLflow stores "null" at zero). NOT_FOUND as GetDataset.
  virtual StatusOr<int64_t> DeleteRecords(std::string_view tenant, std::string_view dataset_id,
                                          const std::vector<std::string>& record_ids) = 0;

  // The dataset's experiment ids, in the order they were linked. A missing dataset has none.
  virtual StatusOr<std::vector<std::string>> GetExperimentIds(std::string_view tenant,
                                                              std::string_view dataset_id) = 0;
  // Links the dataset to each experiment not yet linked and sets last_update_time = `now_ms`;
  // returns the dataset. NOT_FOUND: "Dataset '<id>' not found".
  virtual StatusOr<EvalDataset> AddExperiments(std::string_view tenant, std::string_view dataset_id,
                                               const std::vector<std::string>& experiment_ids,
                                               int64_t now_ms) = 0;
  // Unlinks the given experiments; when any was linked, sets last_update_time = `now_ms`.
  // Returns the dataset. NOT_FOUND as AddExperiments.
  virtual StatusOr<EvalDataset> RemoveExperiments(std::string_view tenant,
                                                  std::string_view dataset_id,
                                                  const std::vector<std::string>& experiment_ids,
                                                  int64_t now_ms) = 0;
};

// Forwards every call; tests override one method to inject faults.
class EvalDatasetStoreWrapper : public EvalDatasetStore {
 public:
  explicit EvalDatasetStoreWrapper(EvalDatasetStore& target) : target_(target) {}
  Status CreateDataset(std::string_view t, const EvalDataset& d,
                       const std::vector<std::string>& e) override {
    return target_.CreateDataset(t, d, e);
  }
  StatusOr<EvalDataset> GetDataset(std::string_view t, std::string_view id) override {
    return target_.GetDataset(t, id);
  }
  StatusOr<bool> DeleteDataset(std::string_view t, std::string_view id) override {
    return target_.DeleteDataset(t, id);
  }
  StatusOr<ResultPage<EvalDataset>> SearchDatasets(std::string_view t,
                                                   const SearchEvalDatasetsQuery& q) override {
    return target_.SearchDatasets(t, q);
  }
  Status SetDatasetTags(std::string_view t, std::string_view id,
                        const std::vector<Tag>& tags) override {
    return target_.SetDatasetTags(t, id, tags);
  }
  Status DeleteDatasetTag(std::string_view t, std::string_view id, std::string_view k) override {
    return target_.DeleteDatasetTag(t, id, k);
  }
  StatusOr<EvalRecordUpsertResult> UpsertRecords(std::string_view t, std::string_view id,
                                                 const std::vector<EvalRecordUpsert>& r,
                                                 int64_t now_ms) override {
    return target_.UpsertRecords(t, id, r, now_ms);
  }
  StatusOr<ResultPage<EvalDatasetRecord>> GetRecords(
      std::string_view t, std::string_view id, int64_t max_results,
      const std::optional<RecordCursor>& after) override {
    return target_.GetRecords(t, id, max_results, after);
  }
  StatusOr<int64_t> DeleteRecords(std::string_view t, std::string_view id,
                                  const std::vector<std::string>& ids) override {
    return target_.DeleteRecords(t, id, ids);
  }
  StatusOr<std::vector<std::string>> GetExperimentIds(std::string_view t,
                                                      std::string_view id) override {
    return target_.GetExperimentIds(t, id);
  }
  StatusOr<EvalDataset> AddExperiments(std::string_view t, std::string_view id,
                                       const std::vector<std::string>& e, int64_t now) override {
    return target_.AddExperiments(t, id, e, now);
  }
  StatusOr<EvalDataset> RemoveExperiments(std::string_view t, std::string_view id,
                                          const std::vector<std::string>& e, int64_t now) override {
    return target_.RemoveExperiments(t, id, e, now);
  }

 private:
  EvalDatasetStore& target_;
};

}  // namespace cairn::metadata
