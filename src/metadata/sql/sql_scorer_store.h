#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/scorer_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// ScorerStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the schema of
// migration 10. Thread-safe; concurrency is the Database's.
class SqlScorerStore final : public ScorerStore {
 public:
  explicit SqlScorerStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  StatusOr<ScorerVersion> RegisterScorer(std::string_view tenant, std::string_view experiment_id,
                                         std::string_view name, std::string_view serialized_scorer,
                                         std::string_view new_scorer_id, int64_t now_ms) override;
  StatusOr<std::vector<ScorerVersion>> ListScorers(std::string_view tenant,
                                                   std::string_view experiment_id) override;
  StatusOr<std::vector<ScorerVersion>> ListScorersAcrossExperiments(
      std::string_view tenant,
      const std::optional<std::vector<std::string>>& experiment_ids) override;
  StatusOr<std::vector<ScorerVersion>> ListScorerVersions(std::string_view tenant,
                                                          std::string_view experiment_id,
                                                          std::string_view name) override;
  StatusOr<ScorerVersion> GetScorer(std::string_view tenant, std::string_view experiment_id,
                                    std::string_view name, std::optional<int64_t> version) override;
  Status DeleteScorer(std::string_view tenant, std::string_view experiment_id,
                      std::string_view name, std::optional<int64_t> version) override;
  StatusOr<std::vector<OnlineScoringConfig>> GetOnlineScoringConfigs(
      std::string_view tenant, const std::vector<std::string>& scorer_ids) override;
  StatusOr<OnlineScoringConfig> UpsertOnlineScoringConfig(
      std::string_view tenant, std::string_view experiment_id, std::string_view name,
      double sample_rate, const std::optional<std::string>& filter_string,
      std::string_view new_config_id) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
