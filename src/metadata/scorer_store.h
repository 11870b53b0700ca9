#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::metadata {

// One version of a registered scorer (MLflow's ScorerVersion).
struct ScorerVersion {
  std::string scorer_id;  // the same for every version of (experiment, name)
  std::string experiment_id;
  std::string name;
  int64_t version = 0;            // 1, 2, 3, ... per scorer
  std::string serialized_scorer;  // the client's JSON, stored as given
  int64_t creation_time_ms = 0;
};

// How a registered scorer runs on new traces (MLflow's OnlineScoringConfig): at most one per
// scorer.
struct OnlineScoringConfig {
  std::string config_id;
  std::string scorer_id;
  std::string experiment_id;
  double sample_rate = 0;
  std::optional<std::string> filter_string;
};

// Scorers registered to experiments, versioned per (experiment, name), with their online-scoring
// configs; per tenant. The contract shared by every domain store is in metadata_stores.h.
// Scorers belong to their experiment. Except where stated, a missing experiment is NOT_FOUND
// "No Experiment with id=X exists", a deleted one INVALID_ARGUMENT "... must be in the 'active'
// state ...", and a missing scorer NOT_FOUND "Scorer with name 'N' not found for experiment X."
// (with " and version V" when a version was asked for).
class ScorerStore {
 public:
  virtual ~ScorerStore() = default;

  // Adds the next version of (experiment, name), creating the scorer with `new_scorer_id` when
  // the name is new, and returns it.
  virtual StatusOr<ScorerVersion> RegisterScorer(
      std::string_view tenant, std::string_view experiment_id, std::string_view name,
      std::string_view serialized_scorer, std::string_view new_scorer_id, int64_t now_ms) = 0;
  // The latest version of every scorer of the experiment, by name.
  virtual StatusOr<std::vector<ScorerVersion>> ListScorers(std::string_view tenant,
                                                           std::string_view experiment_id) = 0;
  // The latest version of every scorer of the given experiments (nullopt: all of the tenant's
  // experiments), skipping experiments that are missing or deleted; by experiment, then name.
  virtual StatusOr<std::vector<ScorerVersion>> ListScorersAcrossExperiments(
      std::string_view tenant, const std::optional<std::vector<std::string>>& experiment_ids) = 0;
  // Every version of one scorer, oldest first; NOT_FOUND when it has none.
  virtual StatusOr<std::vector<ScorerVersion>> ListScorerVersions(std::string_view tenant,
                                                                  std::string_view experiment_id,
                                                                  std::string_view name) = 0;
  // The given version, or the latest.
  virtual StatusOr<ScorerVersion> GetScorer(std::string_view tenant, std::string_view experiment_id,
                                            std::string_view name,
                                            std::optional<int64_t> version) = 0;
  // Deletes one version, or (version unset) the scorer with every version and its config.
  virtual Status DeleteScorer(std::string_view tenant, std::string_view experiment_id,
                              std::string_view name, std::optional<int64_t> version) = 0;
  // The configs of the given scorers (unknown ids contribute nothing).
  virtual StatusOr<std::vector<OnlineScoringConfig>> GetOnlineScoringConfigs(
      std::string_view tenant, const std::vector<std::string>& scorer_ids) = 0;
  // Replaces the scorer's config with a new one (id `new_config_id`) and returns it.
  virtual StatusOr<OnlineScoringConfig> UpsertOnlineScoringConfig(
      std::string_view tenant, std::string_view experiment_id, std::string_view name,
      double sample_rate, const std::optional<std::string>& filter_string,
      std::string_view new_config_id) = 0;
};

}  // namespace cairn::metadata
