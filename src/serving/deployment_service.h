#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "artifact/artifact_store.h"
#include "base/clock.h"
#include "base/executor.h"
#include "base/ids.h"
#include "base/mutex.h"
#include "base/request_scope.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metadata/deployment_store.h"
#include "metadata/registry_store.h"
#include "runtime/model_runtime.h"
#include "serving/deployment.h"
#include "serving/deployment_spec.h"
#include "serving/model_cache.h"

namespace cairn::serving {

// Maps a model version's storage location (an artifact URI) to the path of its folder in the
// artifact store, tenant first. InvalidArgument when the location is not in this server's store.
using ModelLocator =
    std::function<StatusOr<std::string>(std::string_view tenant, std::string_view location)>;

struct ServingOptions {
  // Where model folders are copied from the artifact store before loading.
  std::filesystem::path model_dir;
  // Loaded-model memory budget of the model cache.
  int64_t cache_budget_bytes = int64_t{4} << 30;
  // Threads that fetch and load models (never the HTTP threads).
  int loader_threads = 2;
  // How long DELETE and an update wait for in-flight requests of what they retire.
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(30)};
  // Autoscaler period and the time load must stay low before a replica is removed.
  std::chrono::milliseconds autoscale_period{500};
  std::chrono::milliseconds scale_down_delay{std::chrono::seconds(30)};
  // In-flight requests per replica the autoscaler aims for when the spec sets none.
  int default_target_concurrency = 2;
  // Where per-deployment series go; null for none.
  metrics::MetricsRegistry* metrics = nullptr;
};

// A change made through this service's API calls, for replicas that share its store.
struct DeploymentChange {
  enum class Kind { kCreated, kUpdated, kScaled, kDeleted };
  Kind kind = Kind::kCreated;
  std::string tenant;
  std::string id;
  std::string name;
};
using DeploymentChangeListener = std::function<void(const DeploymentChange&)>;

// A deployment's state as the API shows it.
struct DeploymentStatus {
  metadata::DeploymentRecord record;
  DeploymentSpec spec;
  std::string runtime;  // the runtime serving it ("" until chosen)
  int replicas_desired = 0;
  int replicas_ready = 0;
  int in_flight = 0;
  int64_t load_time_ms = 0;
  int64_t predictions_dropped = 0;
};

// Deployments: create, scale, update, delete, restore at start, and the in-memory lookup the
// prediction path uses. A deployment is PENDING when accepted, LOADING while its model folder is
// fetched and its replicas load (on the loader threads, never the caller's), then READY or
// FAILED with the reason; every state is stored, and a restarted server loads every stored
// deployment again by itself.
//
// Thread-safe. Find (the hot path) reads an immutable routing table: it holds a lock only to copy
// the pointer to the current table, never while it looks a deployment up or predicts.
class DeploymentService {
 public:
  DeploymentService(metadata::DeploymentStore& store, metadata::RegistryStore& registry,
                    artifact::ArtifactStore& artifacts, ModelLocator locator,
                    std::map<std::string, std::shared_ptr<runtime::ModelRuntime>> runtimes,
                    const Clock& clock, ServingOptions options);
  // Stops the autoscaler and the loaders; deployments stop being served.
  ~DeploymentService();

  DeploymentService(const DeploymentService&) = delete;
  DeploymentService& operator=(const DeploymentService&) = delete;

  // Loads every stored deployment (at server start). Errors only when the store cannot be read.
  Status RestoreAll();

  // Validates `body` (see ParseDeploymentSpec), resolves the version, stores the deployment and
  // starts loading it. NotFound for an unknown model, version or alias; AlreadyExists for a taken
  // name.
  StatusOr<DeploymentStatus> Create(const RequestScope& scope, std::string_view body);
  StatusOr<DeploymentStatus> Get(const RequestScope& scope, std::string_view id_or_name);
  StatusOr<std::vector<DeploymentStatus>> List(const RequestScope& scope);
  // Changes replicas or autoscaling bounds; replicas are added or retired in the background.
  StatusOr<DeploymentStatus> Scale(const RequestScope& scope, std::string_view id_or_name,
                                   std::string_view body);
  // Moves the deployment to another version (or runtime options): the new replicas load while
  // the old ones serve, then requests switch over; the old ones finish what they hold.
  StatusOr<DeploymentStatus> Update(const RequestScope& scope, std::string_view id_or_name,
                                    std::string_view body);
  // Stops routing to the deployment, waits for its in-flight requests (drain_timeout), then
  // removes it. Returns the id.
  StatusOr<std::string> Delete(const RequestScope& scope, std::string_view id_or_name);

  // Called (on the caller's thread) after each successful Create, Update, Scale and Delete, so
  // other replicas can be told. Set before serving requests.
  void SetChangeListener(DeploymentChangeListener listener) { listener_ = std::move(listener); }

  // Brings this server's copy of deployment `id` of `tenant` in line with the store, after
  // another replica changed it: loads one it does not serve yet, reloads one whose version or
  // runtime options changed, resizes one whose scaling changed, and stops serving one the store
  // no longer has (draining it, as Delete does). Changes nothing in the store but the load
  // states it records, as RestoreAll does. `name` is used only when the id is gone (a name now
  // held by another id is reloaded too). Errors only when the store cannot be read.
  Status Reload(std::string_view tenant, std::string_view id, std::string_view name);
  // Reload for every stored deployment, and stops serving those no longer stored (after
  // missed notifications).
  Status ReloadAll();

  // The deployment serving `name` in `tenant`, or null. Lock-free.
  std::shared_ptr<Deployment> Find(std::string_view tenant, std::string_view name) const;
  // Every deployment being served (for /metrics and health).
  std::vector<std::shared_ptr<Deployment>> All() const;

  ModelCache::Stats CacheStats() const { return cache_.GetStats(); }

  // Runs one autoscaler pass now (tests).
  void AutoscaleOnceForTest() { Autoscale(); }

 private:
  // (tenant, name) keys, looked up with string_views.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) <
             std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
  };
  using Table = std::map<std::pair<std::string, std::string>, std::shared_ptr<Deployment>, KeyLess>;

  StatusOr<std::shared_ptr<Deployment>> Lookup(std::string_view tenant,
                                               std::string_view id_or_name) const;
  void Insert(const std::shared_ptr<Deployment>& deployment) EXCLUDES(table_write_mu_);
  void Remove(const std::shared_ptr<Deployment>& deployment) EXCLUDES(table_write_mu_);
  // The current routing table, and its replacement (under table_write_mu_).
  std::shared_ptr<const Table> CurrentTable() const EXCLUDES(table_mu_);
  void PublishTable(std::shared_ptr<const Table> next) EXCLUDES(table_mu_);
  DeploymentStatus StatusOf(const Deployment& deployment) const;
  // Resolves the spec's version or alias to a registered version.
  StatusOr<metadata::ModelVersion> ResolveVersion(std::string_view tenant,
                                                  const DeploymentSpec& spec);
  // Queues a load of `version` with `replicas` instances; publishes it if the deployment is
  // still at `generation` when it finishes.
  void ScheduleLoad(const std::shared_ptr<Deployment>& deployment, int64_t generation,
                    const metadata::ModelVersion& version, int replicas);
  void Load(const std::shared_ptr<Deployment>& deployment, int64_t generation,
            const metadata::ModelVersion& version, int replicas);
  // Copies the model folder out of the artifact store (once per version).
  StatusOr<std::filesystem::path> FetchModel(std::string_view tenant,
                                             const metadata::ModelVersion& version);
  StatusOr<std::shared_ptr<runtime::ModelRuntime>> ChooseRuntime(const DeploymentSpec& spec,
                                                                 const runtime::MlModel& model);
  // Loads instances [first, count) of a version through the cache.
  StatusOr<std::vector<std::shared_ptr<Replica>>> LoadReplicas(
      std::string_view tenant, const metadata::ModelVersion& version,
      runtime::ModelRuntime& runtime, const runtime::ModelSource& source,
      const DeploymentSpec& spec, int first, int count);
  // Releases from the cache the instances of `serving` (a deleted deployment's) that no
  // deployment still in the table serves.
  void ReleaseModels(const std::shared_ptr<const ServingSet>& serving);
  // Publishes a serving set with `replicas` instances of what is served now.
  void Resize(const std::shared_ptr<Deployment>& deployment, int replicas);
  // Asks for `replicas`; one resize at a time runs per deployment, each to the newest count
  // asked for (resizes computed from the same serving set must not race). False when the
  // loaders are busy.
  bool RequestResize(const std::shared_ptr<Deployment>& deployment, int replicas)
      EXCLUDES(autoscale_mu_);
  void ResizeToDesired(const std::shared_ptr<Deployment>& deployment) EXCLUDES(autoscale_mu_);
  // kAuthoritative: the deployment's spec as this server was just asked to change it (Scale,
  // Update, a failed update put back). kStateOnly: only its load state is news; skipped when
  // the stored spec or version differ from this server's (changed elsewhere meanwhile: the
  // state would be stale, and writing the record would undo that change). Nothing is written
  // for deployments this server follows (loaded after another replica's change): the replica
  // that made the change reports their state, so replicas never overwrite each other's specs.
  enum class PersistMode { kAuthoritative, kStateOnly };
  void Persist(const Deployment& deployment, PersistMode mode = PersistMode::kStateOnly)
      EXCLUDES(followed_mu_);
  void Follow(const std::string& id, bool follow) EXCLUDES(followed_mu_);
  void Autoscale();
  void Notify(DeploymentChange::Kind kind, const Deployment& deployment) const;
  // Reload's work for one stored record (`local`: what this server serves under its id or name).
  void Reconcile(const std::string& tenant, const metadata::DeploymentRecord& record,
                 std::shared_ptr<Deployment> local);
  // Stops serving a deployment the store no longer has: out of the table, drained, released.
  void Retire(const std::shared_ptr<Deployment>& deployment);
  // After a deployment left the table and the store: drops what it served.
  void ReleaseRetired(const std::shared_ptr<Deployment>& deployment);

  metadata::DeploymentStore& store_;
  metadata::RegistryStore& registry_;
  artifact::ArtifactStore& artifacts_;
  const ModelLocator locator_;
  const std::map<std::string, std::shared_ptr<runtime::ModelRuntime>> runtimes_;
  const Clock& clock_;
  const ServingOptions options_;
  ModelCache cache_;

  Mutex table_write_mu_;  // serialises writers of the table (copy, change, publish)
  // Held only to copy or replace the pointer. Not std::atomic<std::shared_ptr>: libstdc++ 12's
  // is a spin lock as well, and its load releases that lock with a relaxed store, so the
  // pointer's read in a load and its write in the next store are not ordered (TSan reports it).
  mutable Mutex table_mu_;
  std::shared_ptr<const Table> table_ GUARDED_BY(table_mu_);

  Mutex fetch_mu_;  // one model folder fetch at a time

  struct ScaleState {
    double load = 0;  // smoothed in-flight requests
    int64_t low_since_ms = -1;
    int desired = -1;       // the newest replica count asked for
    bool resizing = false;  // a ResizeToDesired is queued or running
  };
  Mutex autoscale_mu_;
  std::map<std::string, ScaleState> scale_state_ GUARDED_BY(autoscale_mu_);
  Mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ GUARDED_BY(stop_mu_) = false;
  std::unique_ptr<ThreadPool> loaders_;
  std::thread autoscaler_;
  DeploymentChangeListener listener_;
  Mutex reload_mu_;  // one Reload at a time
  Mutex followed_mu_;
  std::set<std::string> followed_ GUARDED_BY(followed_mu_);
};

}  // namespace cairn::serving
