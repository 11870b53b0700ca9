#include "metadata/names.h"

#include <array>
#include <utility>

namespace cairn::metadata {
namespace {

// One table per enum keeps the two directions in step.
template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<LifecycleStage, 2> kLifecycle = {{
    {LifecycleStage::kActive, "active"},
    {LifecycleStage::kDeleted, "deleted"},
}};
constexpr NameTable<RunStatus, 5> kRunStatus = {{
    {RunStatus::kRunning, "RUNNING"},
    {RunStatus::kScheduled, "SCHEDULED"},
    {RunStatus::kFinished, "FINISHED"},
    {RunStatus::kFailed, "FAILED"},
    {RunStatus::kKilled, "KILLED"},
}};
constexpr NameTable<LoggedModelStatus, 4> kLoggedModelStatus = {{
    {LoggedModelStatus::kUnspecified, "LOGGED_MODEL_STATUS_UNSPECIFIED"},
    {LoggedModelStatus::kPending, "LOGGED_MODEL_PENDING"},
    {LoggedModelStatus::kReady, "LOGGED_MODEL_READY"},
    {LoggedModelStatus::kUploadFailed, "LOGGED_MODEL_UPLOAD_FAILED"},
}};
constexpr NameTable<ModelStage, 4> kModelStage = {{
    {ModelStage::kNone, "None"},
    {ModelStage::kStaging, "Staging"},
    {ModelStage::kProduction, "Production"},
    {ModelStage::kArchived, "Archived"},
}};
constexpr NameTable<ModelVersionStatus, 3> kModelVersionStatus = {{
    {ModelVersionStatus::kPendingRegistration, "PENDING_REGISTRATION"},
    {ModelVersionStatus::kFailedRegistration, "FAILED_REGISTRATION"},
    {ModelVersionStatus::kReady, "READY"},
}};
constexpr NameTable<TraceState, 4> kTraceState = {{
    {TraceState::kUnspecified, "STATE_UNSPECIFIED"},
    {TraceState::kOk, "OK"},
    {TraceState::kError, "ERROR"},
    {TraceState::kInProgress, "IN_PROGRESS"},
}};

template <typename E, size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return table[0].second;
}

template <typename E, size_t N>
std::optional<E> ValueOf(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view LifecycleName(LifecycleStage stage) { return NameOf(kLifecycle, stage); }
std::optional<LifecycleStage> LifecycleFromName(std::string_view name) {
  return ValueOf(kLifecycle, name);
}
std::string_view RunStatusName(RunStatus status) { return NameOf(kRunStatus, status); }
std::optional<RunStatus> RunStatusFromName(std::string_view name) {
  return ValueOf(kRunStatus, name);
}
std::string_view LoggedModelStatusName(LoggedModelStatus status) {
  return NameOf(kLoggedModelStatus, status);
}
std::optional<LoggedModelStatus> LoggedModelStatusFromName(std::string_view name) {
  return ValueOf(kLoggedModelStatus, name);
}
std::string_view ModelStageName(ModelStage stage) { return NameOf(kModelStage, stage); }
std::optional<ModelStage> ModelStageFromName(std::string_view name) {
  return ValueOf(kModelStage, name);
}
std::string_view ModelVersionStatusName(ModelVersionStatus status) {
  return NameOf(kModelVersionStatus, status);
}
std::optional<ModelVersionStatus> ModelVersionStatusFromName(std::string_view name) {
  return ValueOf(kModelVersionStatus, name);
}

std::string_view TraceStateName(TraceState state) { return NameOf(kTraceState, state); }
std::optional<TraceState> TraceStateFromName(std::string_view name) {
  return ValueOf(kTraceState, name);
}

}  // namespace cairn::metadata
