#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/types.h"

// Input rules MLflow's server enforces (its utils/validation.py), in one place so every API that
// writes tracking data applies the same ones.
namespace cairn::tracking {

inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr size_t kMaxExperimentTagValueLength = 5000;
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsPerBatch = 100;
inline constexpr size_t kMaxTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr size_t kMaxDatasetNameLength = 500;
inline constexpr size_t kMaxDatasetDigestLength = 36;
inline constexpr size_t kMaxDatasetSourceLength = 65535;
inline constexpr size_t kMaxDatasetSchemaLength = 1 << 20;
inline constexpr size_t kMaxDatasetProfileLength = 16 << 20;
inline constexpr size_t kMaxInputTagKeyLength = 255;
inline constexpr size_t kMaxInputTagValueLength = 500;
inline constexpr int64_t kMaxSearchRunsResults = 50000;
inline constexpr int64_t kMaxSearchExperimentsResults = 50000;

// A metric, param or tag key: 1..250 of [A-Za-z0-9_ -./:], normalising to itself as a path.
// `what` is "metric", "param" or "tag" for messages.
Status ValidateKey(std::string_view key, std::string_view what);
Status ValidateRunId(std::string_view run_id);
Status ValidateExperimentId(std::string_view experiment_id);
Status ValidateExperimentName(std::string_view name);
Status ValidateExperimentTag(const metadata::Tag& tag);
// Checks batch sizes and every entity; truncates over-long param and tag values (MLflow's
// server default) in place.
Status ValidateAndTruncateBatch(std::vector<metadata::Metric>& metrics,
                                std::vector<metadata::Param>& params,
                                std::vector<metadata::Tag>& tags);
Status ValidateDatasetInputs(const std::vector<metadata::DatasetInput>& inputs);

// MLflow's resolve_uri_if_local: a relative local artifact location (a bare path, or a file:
// URI without authority) made absolute against `cwd`, "." segments and empty ones dropped
// ("./x" -> "<cwd>/x", "file:rel" -> "file://<cwd>/rel"). Anything else is returned as given.
std::string ResolveLocalArtifactLocation(std::string_view location, std::string_view cwd);

}  // namespace cairn::tracking
