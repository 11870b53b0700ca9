#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/assessment_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// AssessmentStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema
// of migration 10. Thread-safe; concurrency is the Database's.
class SqlAssessmentStore final : public AssessmentStore {
 public:
  explicit SqlAssessmentStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  StatusOr<Assessment> CreateAssessment(std::string_view tenant,
                                        const Assessment& assessment) override;
  StatusOr<Assessment> GetAssessment(std::string_view tenant, std::string_view trace_id,
                                     std::string_view assessment_id) override;
  StatusOr<Assessment> UpdateAssessment(std::string_view tenant, std::string_view trace_id,
                                        std::string_view assessment_id,
                                        const AssessmentUpdate& update) override;
  Status DeleteAssessment(std::string_view tenant, std::string_view trace_id,
                          std::string_view assessment_id) override;
  StatusOr<std::vector<Assessment>> ListAssessments(
      std::string_view tenant, const std::vector<std::string>& trace_ids) override;
  StatusOr<std::vector<Assessment>> FindValidAssessments(
      std::string_view tenant, const std::vector<std::string>& experiment_ids, AssessmentKind kind,
      std::string_view name) override;
  Status DeleteRunAssessments(std::string_view tenant, std::string_view run_id) override;
  Status DeleteExperimentRunAssessments(std::string_view tenant,
                                        std::string_view experiment_id) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
