#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "base/mutex.h"
#include "base/request_scope.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metadata/deployment_store.h"
#include "metadata/monitor_store.h"
#include "metrics/metrics_registry.h"
#include "monitor/actions/command_launcher.h"
#include "monitor/actions/webhook_sender.h"
#include "monitor/detectors/drift_detector.h"
#include "monitor/drift_config.h"
#include "monitor/event_features.h"
#include "monitor/profile/reference_profile.h"
#include "monitor/profile/table_reader.h"
#include "monitor/window.h"
#include "stream/event_logger.h"
#include "stream/event_stream.h"
#include "stream/prediction_event.h"
#include "tracking/tracking_service.h"

namespace cairn::monitor {

struct MonitorOptions {
  // The consumer name the monitor commits its offset of the predictions topic under.
  std::string consumer = "cairn-monitor";
  // How often the consumer looks for new events when it has caught up.
  std::chrono::milliseconds poll_interval{200};
  // A time window closes this long after its end (events are logged a few ms after the answer).
  std::chrono::milliseconds close_grace{500};
  // Rows of a window kept for the drift tests (beyond: a uniform reservoir sample).
  size_t window_sample_rows = 50'000;
  int read_batch = 2000;
  // The consumer thread's nice value (0: the server's own priority).
  int nice = 10;
  // Predictions (log events and summaries) older than this are deleted; 0 keeps them.
  std::chrono::milliseconds retention{0};
  std::chrono::milliseconds retention_check{std::chrono::minutes(1)};
  // Retraining commands' output goes to <log_dir>/<action id>.log; empty: discarded.
  std::string log_dir;
  // How often the consumer re-reads the drift configurations from the store, so that a change
  // made through another replica (a shared PostgreSQL store) reaches this monitor; 0: never.
  std::chrono::milliseconds config_refresh{std::chrono::seconds(2)};
  // How often each open window's counters are stored with its unit's state, for processes that
  // share the store but not the unit (DeploymentStatus answers from them); 0: never (the
  // embedded server, where the monitor answers from memory).
  std::chrono::milliseconds publish_interval{0};
};

// The model a deployment serves now, for reading its logged requests; nullopt when the
// deployment is gone or not loaded.
using SchemaLookup = std::function<std::optional<ModelSchema>(
    std::string_view tenant, std::string_view deployment_id, std::string_view deployment_name)>;

// Borrowed collaborators; all must outlive the service. `tracking`, `webhooks` and `launcher`
// may be null (no launch records, no webhooks, no commands).
struct MonitorDeps {
  stream::EventStream& events;
  metadata::MonitorStore& store;
  metadata::DeploymentStore& deployments;
  SchemaLookup schemas;
  tracking::TrackingService* tracking = nullptr;
  WebhookSender* webhooks = nullptr;
  CommandLauncher* launcher = nullptr;
  const Clock& clock;
  IdGenerator& ids;
  // When set: cairn_monitor_* series (events read, lag, windows closed, alerts fired).
  metrics::MetricsRegistry* metrics = nullptr;
  // When set: every label Feedback receives is also logged into the stream's labels topic.
  stream::EventLogger* labels = nullptr;
};

// The model monitor: consumes the prediction log, keeps a window per (drift configuration,
// deployment), and on each window's close compares it with the deployment's reference profile,
// stores the results, raises and resolves alerts, notifies sinks and launches retraining. Late
// labels join predictions by request id and update the performance of the window the
// prediction belonged to. Also the API's entry points for configurations, references,
// feedback, alerts and erasure.
//
// Exactly-once windows: a partition's committed offset is the first offset of the oldest open
// window of its units (a unit's events are all in one partition, that of its deployment), and
// each closed window is stored with the offset it covered up to, so a restart re-reads the
// open windows' events and skips those already counted.
//
// Several monitors (server replicas and `cairn monitor worker` processes on one Kafka) form one
// consumer group through EventStream::JoinGroup, which divides the predictions topic's
// partitions among them; a deployment's events are all in one partition, so each member keeps
// the windows of the deployments in its partitions, and offsets are committed per partition.
// A member that gains a partition starts it as a restart does (from the committed offset, with
// the stored window state); one that loses it drops its open windows, and its commits are
// refused from then on. With the embedded log the lease always owns the one partition.
//
// Thread-safety: every public method may be called from any thread. One consumer thread reads
// the log; window state and configurations are guarded by one mutex.
class MonitorService {
 public:
  MonitorService(MonitorDeps deps, MonitorOptions options);
  ~MonitorService();

  MonitorService(const MonitorService&) = delete;
  MonitorService& operator=(const MonitorService&) = delete;

  // Loads the configurations, finds where to resume, starts the consumer thread.
  Status Start() EXCLUDES(mu_);
  // Stops the consumer (open windows stay open: a restart rebuilds them). Idempotent.
  void Stop() EXCLUDES(mu_);
  // The tracking URI retraining commands get (MLFLOW_TRACKING_URI); set before Start.
  void SetTrackingUri(std::string uri) EXCLUDES(mu_);
  // With authentication on: issues the API token a retraining command authenticates with
  // (MLFLOW_TRACKING_TOKEN and CAIRN_TOKEN), for the alert's tenant, valid for `lifetime`.
  using CredentialIssuer =
      std::function<StatusOr<std::string>(std::string_view tenant, std::chrono::seconds lifetime)>;
  void SetCredentialIssuer(CredentialIssuer issuer) EXCLUDES(mu_);

  // Configurations (POST/GET/DELETE /api/v1/models/{name}/drift-config).
  StatusOr<metadata::DriftConfigRecord> PutDriftConfig(const RequestScope& scope,
                                                       std::string_view model_name,
                                                       std::string_view body) EXCLUDES(mu_);
  StatusOr<std::vector<metadata::DriftConfigRecord>> ListDriftConfigs(const RequestScope& scope,
                                                                      std::string_view model_name);
  Status DeleteDriftConfig(const RequestScope& scope, std::string_view model_name,
                           std::string_view id) EXCLUDES(mu_);

  // The deployment (by id or name) as stored; NOT_FOUND when missing.
  StatusOr<metadata::DeploymentRecord> FindDeployment(const RequestScope& scope,
                                                      std::string_view id_or_name);
  // Kind hints for reading a reference table of the deployment's model (from its signature).
  KindHints HintsFor(std::string_view tenant, const metadata::DeploymentRecord& deployment);
  // The newest reference (or `version`) of a deployment, with its summary; and every version.
  StatusOr<metadata::ReferenceRecord> Reference(const RequestScope& scope,
                                                std::string_view deployment_id,
                                                std::optional<int64_t> version);
  StatusOr<std::vector<metadata::ReferenceRecord>> ReferenceVersions(
      const RequestScope& scope, std::string_view deployment_id);
  // Stores a new reference version built from `columns`; returns it (without the profile).
  StatusOr<metadata::ReferenceRecord> AddReference(const RequestScope& scope,
                                                   const metadata::DeploymentRecord& deployment,
                                                   std::vector<NamedColumn> columns,
                                                   std::string_view source,
                                                   std::string_view source_detail) EXCLUDES(mu_);

  // POST /api/v1/feedback: {"request_id", "label", "deployment"?} or {"labels": [...]}.
  // Answers {"received", "matched", "pending": [request ids], "windows_updated"}.
  StatusOr<boost::json::object> Feedback(const RequestScope& scope, std::string_view body)
      EXCLUDES(mu_);

  // Window results of a model (GET /api/v1/models/{name}/metrics).
  StatusOr<boost::json::object> Metrics(const RequestScope& scope, std::string_view model_name,
                                        std::string_view deployment, int64_t from_ms, int64_t to_ms,
                                        int limit);
  // The monitor's view of a deployment: configurations, open windows, reference, lag.
  StatusOr<boost::json::object> DeploymentStatus(const RequestScope& scope,
                                                 std::string_view deployment) EXCLUDES(mu_);

  StatusOr<std::vector<metadata::AlertRecord>> Alerts(const RequestScope& scope,
                                                      const metadata::AlertFilter& filter);
  StatusOr<metadata::AlertRecord> Alert(const RequestScope& scope, std::string_view id);
  StatusOr<metadata::AlertRecord> Acknowledge(const RequestScope& scope, std::string_view id);
  StatusOr<std::vector<metadata::ActionRecord>> Actions(const RequestScope& scope,
                                                        std::string_view alert_id, int limit);

  // Erasure of a data subject in each of `tenants`: log events, prediction summaries and their
  // labels. Returns the receipt (also stored, with the subject id hashed).
  StatusOr<boost::json::object> Erase(const RequestScope& scope, std::string_view subject_id,
                                      const std::vector<std::string>& tenants);
  // A subject's logged predictions (from the log) and labels.
  StatusOr<boost::json::object> Export(const RequestScope& scope, std::string_view subject_id);

  // Processes everything appended to the log so far and closes the windows that are due; for
  // tests and benchmarks.
  Status CatchUpForTest() EXCLUDES(mu_);

  static boost::json::object AlertJson(const metadata::AlertRecord& alert);
  static boost::json::object WindowJson(const metadata::WindowRecord& window);

 private:
  struct ConfigEntry {
    std::string tenant;
    metadata::DriftConfigRecord record;
    DriftConfig config;
  };
  struct OpenWindow {
    int64_t start_ms = 0;
    int64_t end_ms = 0;  // exclusive; for size windows, the newest event's time + 1
    int64_t first_offset = 0;
    int64_t last_offset = 0;
    std::unique_ptr<WindowSample> sample;
    WindowCounters counters;
  };
  struct Unit {
    int partition = 0;  // of the predictions topic: where the deployment's events are
    std::string tenant;
    std::string deployment_id;
    std::string deployment_name;
    std::string model_name;
    std::shared_ptr<const ConfigEntry> entry;
    std::optional<OpenWindow> open;
    int64_t closed_through = -1;  // the newest offset counted in a closed window
    int64_t last_end_ms = 0;
    std::unique_ptr<DriftDetector> detector;
    bool concept_fired_in_window = false;
    // The reference profile (cached by version) and the one being built from predictions.
    int64_t reference_version = 0;
    std::shared_ptr<const ReferenceProfile> reference;
    std::unique_ptr<WindowSample> reference_builder;
    bool reference_checked = false;
    // When the open window was last published (PublishOpenWindows), with how many requests.
    int64_t published_ms = 0;
    int64_t published_requests = -1;
  };
  using UnitKey = std::pair<std::string, std::string>;  // (config id, deployment id)
  // A closed window whose results could not be stored yet.
  struct Unstored {
    UnitKey key;
    int partition = 0;
    OpenWindow window;
  };
  // Where this monitor is in a partition of the predictions topic it owns.
  struct PartitionState {
    int64_t next_offset = 0;
    int64_t committed = -1;
    bool caught_up = false;  // the last read returned less than a batch
    int64_t lag = 0;         // events not yet read, when last checked
    // The same partition of the labels topic (keyed alike), when its partition count matches.
    bool labels = false;
    int64_t labels_next = 0;
    int64_t labels_committed = -1;
  };

  void ConsumerLoop() EXCLUDES(mu_);
  // Brings partitions_ to the partitions of the predictions topic this monitor owns now: a
  // partition gained (or all of them, when the group has reassigned since) resumes from its
  // committed offset (Resume); one lost drops its open windows. Whether it owns any.
  StatusOr<bool> SyncPartitions() REQUIRES(mu_);
  // Forgets a partition and the units and windows built from it.
  void DropPartition(int partition) REQUIRES(mu_);
  // Makes `entry` the configuration of its id: its units keep their open windows when the
  // window shape is the same, and their detector when the detector is.
  void InstallConfig(std::shared_ptr<const ConfigEntry> entry) REQUIRES(mu_);
  // Forgets the configuration `id` of `tenant` and its units.
  void RemoveConfig(const std::string& tenant, std::string_view id) REQUIRES(mu_);
  // Brings the configurations in memory to what the store holds (changes made elsewhere).
  Status RefreshConfigs() REQUIRES(mu_);
  Status Resume(int partition) REQUIRES(mu_);
  // Reads a batch of every owned partition; the most events read from one of them.
  StatusOr<int> PollOnce() REQUIRES(mu_);
  StatusOr<int> PollPartition(int partition) REQUIRES(mu_);
  // Applies the labels other processes received for this partition's deployments.
  Status PollLabels(int partition) REQUIRES(mu_);
  // The consumer name of the labels topic's read positions.
  std::string LabelsConsumer() const { return options_.consumer + "-labels"; }
  Unit* UnitFor(const std::shared_ptr<const ConfigEntry>& entry, const stream::PredictionEvent& e,
                int partition) REQUIRES(mu_);
  // Counts the event in the unit's window; returns that window's start.
  int64_t Assign(Unit& unit, int64_t offset, const stream::PredictionEvent& event,
                 const std::optional<EventRows>& rows,
                 std::vector<std::pair<Unit*, OpenWindow>>& due) REQUIRES(mu_);
  void Close(Unit& unit, OpenWindow window) REQUIRES(mu_);
  // Closes the time windows that are due in the partitions read to their end.
  void CloseDue() REQUIRES(mu_);
  void FeedReferenceBuilder(Unit& unit, const EventRows& rows) REQUIRES(mu_);
  void RefreshReference(Unit& unit) REQUIRES(mu_);
  std::string UnitState(const Unit& unit) const REQUIRES(mu_);
  void Commit(int partition) REQUIRES(mu_);
  // Stores the open windows that changed, at most once per publish_interval each.
  void PublishOpenWindows() REQUIRES(mu_);
  void Retain() REQUIRES(mu_);
  std::vector<LabeledPrediction> Expand(const std::vector<metadata::PredictionSummary>& rows);
  // Feeds a joined label's error to the unit's concept-drift detector (and stores its state).
  void FeedDetector(const std::string& tenant, Unit& unit, const metadata::PredictionSummary& s)
      REQUIRES(mu_);
  // A label another process received (a labels-topic record it did not apply itself): feeds the
  // detector and judges the window's stored performance again. How many predictions it joined.
  int ApplyLoggedLabels(const stream::StoredEvent& stored, int partition) REQUIRES(mu_);
  // The unit of a configuration and deployment, made (with its stored state) when absent;
  // null when the configuration or the deployment is gone.
  Unit* UnitForLabel(const std::string& tenant, const std::string& config_id,
                     const std::string& deployment_id, int partition) REQUIRES(mu_);
  int LabelsJoined(const std::string& tenant, std::vector<metadata::PredictionSummary> joined)
      REQUIRES(mu_);

  // Alerting (alerting.cc).
  // `performance_only`: a closed window's performance changed with late labels; its other
  // verdicts were given when it closed and may since have been superseded by newer windows.
  void EvaluateWindow(Unit& unit, const metadata::WindowRecord& window,
                      const boost::json::object& results, bool performance_only = false)
      REQUIRES(mu_);
  void Verdict(Unit& unit, std::string_view kind, bool firing, int64_t window_start,
               boost::json::object details) REQUIRES(mu_);
  void Notify(const std::string& tenant, const ConfigEntry& entry,
              const metadata::AlertRecord& alert, std::string_view event);
  void MaybeRetrain(const Unit& unit, const metadata::AlertRecord& alert) REQUIRES(mu_);
  void RecordAction(const std::string& tenant, metadata::ActionRecord action);
  // Logs Feedback's labels into the labels topic (deps_.labels), never blocking.
  // `applied`: request ids whose units this monitor holds (it fed their detectors itself).
  void LogLabels(const std::string& tenant, const std::vector<metadata::LabelInput>& labels,
                 const std::vector<metadata::LabelMatch>& matches,
                 const std::set<std::string>& applied);

  MonitorDeps deps_;
  const MonitorOptions options_;

  Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::unique_ptr<stream::TopicLease> lease_ GUARDED_BY(mu_);
  std::map<int, PartitionState> partitions_ GUARDED_BY(mu_);  // owned now
  // Whether the labels topic is partitioned as the predictions topic (checked at Start).
  bool labels_copartitioned_ GUARDED_BY(mu_) = false;
  bool labels_checked_ GUARDED_BY(mu_) = false;
  int64_t lease_generation_ GUARDED_BY(mu_) = 0;
  int64_t last_retention_ms_ GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<std::shared_ptr<const ConfigEntry>>, std::less<>> configs_
      GUARDED_BY(mu_);
  std::map<UnitKey, std::unique_ptr<Unit>> units_ GUARDED_BY(mu_);
  std::vector<Unstored> unstored_ GUARDED_BY(mu_);
  uint64_t seed_ GUARDED_BY(mu_) = 1;
  std::string tracking_uri_ GUARDED_BY(mu_);
  CredentialIssuer credential_issuer_ GUARDED_BY(mu_);

  metrics::Counter* events_metric_ = nullptr;
  metrics::Gauge* lag_metric_ = nullptr;
  metrics::Counter* windows_metric_ = nullptr;
  metrics::Gauge* partitions_metric_ = nullptr;

  Mutex thread_mu_;
  std::thread consumer_ GUARDED_BY(thread_mu_);
};

}  // namespace cairn::monitor
