#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "metadata/registry_types.h"
#include "metadata/types.h"

// Backend-neutral rules every metadata backend applies the same way: MLflow's error messages,
// id formats and the checks that need no stored state. A SQLite or PostgreSQL store calls these
// instead of spelling the rules itself.
namespace cairn::metadata {

// ---- Errors in MLflow's words ----
Status ExperimentNotFound(std::string_view id);   // "No Experiment with id=X exists"
Status ExperimentNotActive(std::string_view id);  // INVALID_ARGUMENT "... 'active' state ..."
Status RunNotFound(std::string_view id);          // "Run with id=X not found"
Status RunNotActive(std::string_view id);         // INVALID_ARGUMENT "... 'active' state ..."
Status LoggedModelNotFound(std::string_view id);
Status RegisteredModelNotFound(std::string_view name);
Status RegisteredModelExists(std::string_view name);
Status ModelVersionNotFound(std::string_view name, int64_t version);
Status AliasNotFound(std::string_view alias);
// archive_existing_versions with a stage other than Staging/Production.
Status CannotArchive(ModelStage stage);
Status TraceNotFound(std::string_view trace_id);

// Experiment ids are decimal strings of non-negative integers; nullopt for anything else.
std::optional<int64_t> ParseExperimentId(std::string_view text);

// `root` + "/" + `leaf`, without doubling a trailing slash of `root`.
std::string JoinUri(std::string_view root, std::string_view leaf);

// Stages that archive_existing / archive_previous may clear: Staging and Production.
bool IsActiveStage(ModelStage stage);

// Rejects a batch that gives one param key two different values (INVALID_ARGUMENT in MLflow's
// words); returns the distinct params in order.
StatusOr<std::vector<const Param*>> DistinctParams(const std::vector<Param>& params);

// The order that decides a key's latest metric: step, then timestamp, then a non-NaN value
// beats NaN, then the larger value.
std::tuple<int64_t, int64_t, int, double> LatestMetricKey(const Metric& m);

}  // namespace cairn::metadata
