#pragma once

#include <optional>
#include <string_view>

#include "metadata/registry_types.h"
#include "metadata/trace_types.h"
#include "metadata/types.h"

// MLflow's spellings of the metadata enums: the same strings are stored and sent on the wire.
// The *FromName functions match exactly (callers that accept other forms normalise first).
namespace cairn::metadata {

std::string_view LifecycleName(LifecycleStage stage);  // "active", "deleted"
std::optional<LifecycleStage> LifecycleFromName(std::string_view name);

std::string_view RunStatusName(RunStatus status);  // "RUNNING", ...
std::optional<RunStatus> RunStatusFromName(std::string_view name);

std::string_view LoggedModelStatusName(LoggedModelStatus status);  // "LOGGED_MODEL_READY", ...
std::optional<LoggedModelStatus> LoggedModelStatusFromName(std::string_view name);

std::string_view ModelStageName(ModelStage stage);  // "None", "Staging", ...
std::optional<ModelStage> ModelStageFromName(std::string_view name);

std::string_view ModelVersionStatusName(ModelVersionStatus status);  // "READY", ...
std::optional<ModelVersionStatus> ModelVersionStatusFromName(std::string_view name);

std::string_view TraceStateName(TraceState state);  // "OK", "ERROR", ...
std::optional<TraceState> TraceStateFromName(std::string_view name);

}  // namespace cairn::metadata
