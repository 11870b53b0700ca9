#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cairn::metadata {

// A drift configuration: which deployment (or every deployment of a model) is watched, and how.
// The monitor owns the meaning of `spec_json` (the JSON object the API accepted).
struct DriftConfigRecord {
  std::string id;  // "dc-<32 hex>"
  std::string model_name;
  std::string deployment_id;  // empty: every deployment of the model
  std::string spec_json;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// One stored version of a deployment's reference profile.
struct ReferenceRecord {
  std::string deployment_id;
  int64_t version = 0;  // 1, 2, ... per deployment, assigned by AddReference
  std::string source;   // "upload", "run_artifact", "predictions"
  std::string summary_json;
  std::string profile;  // the encoded profile, raw samples included (may be large)
  int64_t created_at_ms = 0;
};

// The results of one closed window of one deployment under one drift configuration.
struct WindowRecord {
  std::string config_id;
  std::string deployment_id;
  std::string model_name;
  std::string model_version;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t closed_at_ms = 0;
  int64_t predictions = 0;
  // Everything the window measured, as a JSON object (drift per feature, latency, error rate,
  // performance); the monitor owns its shape.
  std::string results_json;
};

// What the monitor keeps of one logged prediction to join a late label with it: the value it
// predicted (JSON), the positive-class score when there is one, and the window it belongs to.
struct PredictionSummary {
  std::string deployment_id;
  std::string request_id;
  int64_t offset = 0;  // in the prediction log; unique per deployment
  int64_t timestamp_ms = 0;
  std::string config_id;  // the configuration whose window counts it
  int64_t window_start_ms = 0;
  std::string prediction_json;
  std::optional<double> score;
  std::optional<std::string> subject_id;
  // Filled when a label has been joined.
  std::optional<std::string> label_json;
  int64_t labeled_at_ms = 0;
};

struct LabelInput {
  std::string request_id;
  std::string label_json;
  std::optional<std::string> deployment_id;  // narrows the match when request ids repeat
};

// Where a label went: the predictions it was joined to (deployment, config, window), or none.
struct LabelMatch {
  std::string request_id;
  std::vector<PredictionSummary> matched;  // label_json filled; empty: not (yet) known
};

// An alert the monitor raised. `state` is "firing" or "resolved".
struct AlertRecord {
  std::string id;  // "al-<32 hex>"
  std::string config_id;
  std::string model_name;
  std::string deployment_id;
  std::string
      kind;  // data_drift, prediction_drift, performance, error_rate, latency, concept_drift
  std::string severity;
  std::string state;
  int64_t first_window_start_ms = 0;
  int64_t last_window_start_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t resolved_at_ms = 0;   // 0 while firing
  std::string acknowledged_by;  // empty until acknowledged
  int64_t acknowledged_at_ms = 0;
  std::string details_json;  // why it fired: the statistics of the window
};

struct AlertFilter {
  std::optional<std::string> model_name;
  std::optional<std::string> deployment_id;
  std::optional<std::string> kind;
  std::optional<std::string> state;
  int64_t from_ms = 0;  // fired_at >= from
  int64_t to_ms = 0;    // fired_at < to; 0: no bound
  int limit = 100;
};

// A delivery of an alert to a sink, or a retraining launch: the outcome, kept for people and
// for cooldowns. `status`: delivered, dead_letter, launched, failed, finished.
struct ActionRecord {
  std::string id;
  std::string alert_id;
  std::string config_id;
  std::string action;  // "webhook", "retrain_command", "retrain_webhook"
  std::string target;  // URL or command line
  std::string status;
  int attempts = 0;
  std::string detail_json;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Monitoring state: drift configurations, reference profiles, window results, the prediction
// summaries late labels join with, alerts and the actions they launched. The contract shared by
// every domain store is in metadata_stores.h.
class MonitorStore {
 public:
  virtual ~MonitorStore() = default;

  // Drift configurations. Put creates or replaces the configuration of (model, deployment)
  // and returns the stored record (the id of the one replaced is kept).
  virtual StatusOr<DriftConfigRecord> PutDriftConfig(std::string_view tenant,
                                                     const DriftConfigRecord& record) = 0;
  // The model's configurations; every one when `model_name` is empty.
  virtual StatusOr<std::vector<DriftConfigRecord>> ListDriftConfigs(
      std::string_view tenant, std::string_view model_name) = 0;
  // Every tenant's configurations as (tenant, record): what a starting monitor watches.
  virtual StatusOr<std::vector<std::pair<std::string, DriftConfigRecord>>>
  ListAllDriftConfigs() = 0;
  // NOT_FOUND when missing.
  virtual Status DeleteDriftConfig(std::string_view tenant, std::string_view id) = 0;

  // Reference profiles, versioned per deployment. AddReference assigns and returns the version.
  virtual StatusOr<int64_t> AddReference(std::string_view tenant,
                                         const ReferenceRecord& record) = 0;
  // The newest version, or `version`; NOT_FOUND when there is none. `with_profile` false leaves
  // `profile` empty (cheap listing).
  virtual StatusOr<ReferenceRecord> GetReference(std::string_view tenant,
                                                 std::string_view deployment_id,
                                                 std::optional<int64_t> version,
                                                 bool with_profile) = 0;
  // Every version, newest first, without profiles.
  virtual StatusOr<std::vector<ReferenceRecord>> ListReferences(std::string_view tenant,
                                                                std::string_view deployment_id) = 0;

  // Stores a closed window (replacing one with the same config, deployment and start: closing a
  // window again after a restart is idempotent) together with the monitor's state for that
  // (config, deployment), in one transaction.
  virtual Status PutWindow(std::string_view tenant, const WindowRecord& window,
                           std::string_view state_json) = 0;
  // Replaces the results of a stored window (late labels changed its performance); NOT_FOUND
  // when missing.
  virtual Status UpdateWindowResults(std::string_view tenant, std::string_view config_id,
                                     std::string_view deployment_id, int64_t start_ms,
                                     std::string_view results_json) = 0;
  virtual StatusOr<WindowRecord> GetWindow(std::string_view tenant, std::string_view config_id,
                                           std::string_view deployment_id, int64_t start_ms) = 0;
  // Windows of a model that start in [from_ms, to_ms) (to 0: no bound), oldest first, at most
  // `limit`; `deployment_id` empty: every deployment.
  virtual StatusOr<std::vector<WindowRecord>> ListWindows(std::string_view tenant,
                                                          std::string_view model_name,
                                                          std::string_view deployment_id,
                                                          int64_t from_ms, int64_t to_ms,
                                                          int limit) = 0;
  // The state stored with the newest window of (config, deployment); nullopt when none.
  virtual StatusOr<std::optional<std::string>> GetMonitorState(std::string_view tenant,
                                                               std::string_view config_id,
                                                               std::string_view deployment_id) = 0;
  virtual Status PutMonitorState(std::string_view tenant, std::string_view config_id,
                                 std::string_view deployment_id, std::string_view state_json) = 0;

  // Prediction summaries, written by the monitor as it reads the log. A summary whose
  // (deployment, offset) is already stored is skipped (a re-read after a restart). A label that
  // arrived before its prediction (kept pending by AttachLabels) is joined here; the returned
  // summaries are those that got a label so.
  virtual StatusOr<std::vector<PredictionSummary>> AddPredictions(
      std::string_view tenant, std::span<const PredictionSummary> predictions) = 0;
  // Joins labels to stored predictions by request id (a label replaces an earlier one). A label
  // whose request id is unknown is kept pending and joined by a later AddPredictions.
  virtual StatusOr<std::vector<LabelMatch>> AttachLabels(std::string_view tenant,
                                                         std::span<const LabelInput> labels,
                                                         int64_t now_ms) = 0;
  // Labeled predictions of one window, in offset order.
  virtual StatusOr<std::vector<PredictionSummary>> LabeledPredictions(
      std::string_view tenant, std::string_view config_id, std::string_view deployment_id,
      int64_t window_start_ms) = 0;
  // The summaries (with labels) of a data subject, oldest first, at most `limit`.
  virtual StatusOr<std::vector<PredictionSummary>> PredictionsOfSubject(std::string_view tenant,
                                                                        std::string_view subject_id,
                                                                        int limit) = 0;
  // Erasure: removes a subject's summaries and the pending labels of their request ids; returns
  // how many summaries went.
  virtual StatusOr<int64_t> DeleteSubject(std::string_view tenant, std::string_view subject_id) = 0;
  // Retention: removes summaries older than `before_ms`, and pending labels received before it,
  // in every tenant; returns how many summaries went.
  virtual StatusOr<int64_t> DeletePredictionsBefore(int64_t before_ms) = 0;
  // A deployment was deleted: its summaries, references, windows, state and pending labels go.
  virtual Status DeleteDeploymentData(std::string_view tenant, std::string_view deployment_id) = 0;

  // Alerts. PutAlert creates or replaces by id.
  virtual Status PutAlert(std::string_view tenant, const AlertRecord& alert) = 0;
  virtual StatusOr<AlertRecord> GetAlert(std::string_view tenant, std::string_view id) = 0;
  // The firing alert of (config, deployment, kind), if one is firing.
  virtual StatusOr<std::optional<AlertRecord>> FindFiringAlert(std::string_view tenant,
                                                               std::string_view config_id,
                                                               std::string_view deployment_id,
                                                               std::string_view kind) = 0;
  // Newest first.
  virtual StatusOr<std::vector<AlertRecord>> ListAlerts(std::string_view tenant,
                                                        const AlertFilter& filter) = 0;

  // Actions. PutAction creates or replaces by id.
  virtual Status PutAction(std::string_view tenant, const ActionRecord& action) = 0;
  // Newest first; `alert_id` or `config_id` empty: any; `action` empty: any.
  virtual StatusOr<std::vector<ActionRecord>> ListActions(std::string_view tenant,
                                                          std::string_view alert_id,
                                                          std::string_view config_id,
                                                          std::string_view action, int limit) = 0;
};

}  // namespace cairn::metadata
