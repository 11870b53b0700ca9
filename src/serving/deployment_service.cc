#include "serving/deployment_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <system_error>
#include <utility>

#include "runtime/mlmodel.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

// Stable within and across runs: names the local copy of a model version.
std::string FolderName(std::string_view tenant, const metadata::ModelVersion& version) {
  uint64_t hash = 1469598103934665603ULL;
  auto mix = [&](std::string_view text) {
    for (unsigned char c : text) {
      hash = (hash ^ c) * 1099511628211ULL;
    }
    hash = (hash ^ 0xff) * 1099511628211ULL;
  };
  mix(tenant);
  mix(version.name);
  mix(std::to_string(version.version));
  mix(version.storage_location);
  char buffer[17];
  auto [end, ec] = std::to_chars(buffer, buffer + 16, hash, 16);
  return std::string(buffer, end) + "-v" + std::to_string(version.version);
}

// Copies `store_dir` (recursively) into `local`.
Status CopyTree(artifact::ArtifactStore& store, const std::string& store_dir, const fs::path& local,
                int depth) {
  if (depth > 32) return InvalidArgument("model folder nests too deep");
  ASSIGN_OR_RETURN(std::vector<artifact::FileInfo> entries, store.List(store_dir));
  std::error_code ec;
  fs::create_directories(local, ec);
  if (ec) return Internal("cannot create " + local.string() + ": " + ec.message());
  for (const artifact::FileInfo& entry : entries) {
    const std::string child = store_dir + "/" + entry.path;
    if (entry.is_dir) {
      RETURN_IF_ERROR(CopyTree(store, child, local / entry.path, depth + 1));
      continue;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<artifact::ArtifactReader> reader, store.OpenReader(child));
    std::ofstream out(local / entry.path, std::ios::binary | std::ios::trunc);
    std::vector<char> buffer(1 << 16);
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->Read(buffer.data(), buffer.size()));
      if (n == 0) break;
      out.write(buffer.data(), static_cast<std::streamsize>(n));
    }
    if (!out) return Internal("cannot write " + (local / entry.path).string());
  }
  return Status::Ok();
}

std::string OptionsKey(const runtime::RuntimeOptions& o) {
  return o.device + ":" + std::to_string(o.cuda_device_id) + ":" +
         std::to_string(o.intra_op_threads) + ":" + std::to_string(o.inter_op_threads) + ":" +
         o.graph_optimization + ":" + std::to_string(o.predict_timeout.count());
}

int InitialReplicas(const DeploymentSpec& spec) { return MinReplicas(spec); }

}  // namespace

DeploymentService::DeploymentService(
    metadata::DeploymentStore& store, metadata::RegistryStore& registry,
    artifact::ArtifactStore& artifacts, ModelLocator locator,
    std::map<std::string, std::shared_ptr<runtime::ModelRuntime>> runtimes, const Clock& clock,
    ServingOptions options)
    : store_(store),
      registry_(registry),
      artifacts_(artifacts),
      locator_(std::move(locator)),
      runtimes_(std::move(runtimes)),
      clock_(clock),
      options_(std::move(options)),
      cache_(options_.cache_budget_bytes),
      table_(std::make_shared<const Table>()),
      loaders_(std::make_unique<ThreadPool>(ThreadPool::Options{
          .threads = std::max(1, options_.loader_threads), .name = "model-loader"})) {
  autoscaler_ = std::thread([this] {
    while (true) {
      {
        MutexLock lock(stop_mu_);
        auto deadline = std::chrono::steady_clock::now() + options_.autoscale_period;
        while (!stopping_ && lock.WaitUntil(stop_cv_, deadline)) {
        }
        if (stopping_) return;
      }
      Autoscale();
    }
  });
}

DeploymentService::~DeploymentService() {
  {
    MutexLock lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (autoscaler_.joinable()) autoscaler_.join();
  loaders_->Shutdown();
}

Status DeploymentService::RestoreAll() {
  ASSIGN_OR_RETURN(auto stored, store_.ListAllDeployments());
  for (auto& [tenant, record] : stored) {
    StatusOr<DeploymentSpec> spec = SpecFromJson(record.spec_json);
    if (!spec.ok()) {
      spdlog::error("deployment {} ({}) has an unreadable spec, not restored: {}", record.name,
                    record.id, spec.status().ToString());
      continue;
    }
    auto deployment = std::make_shared<Deployment>(tenant, record, *spec);
    Insert(deployment);
    int64_t version_number = 0;
    std::from_chars(record.model_version.data(),
                    record.model_version.data() + record.model_version.size(), version_number);
    StatusOr<metadata::ModelVersion> version =
        registry_.GetModelVersion(tenant, record.model_name, version_number);
    if (!version.ok()) {
      deployment->SetState(DeploymentState::kFailed,
                           "model version is gone: " + version.status().message(),
                           clock_.NowMillis());
      Persist(*deployment);
      continue;
    }
    spdlog::info("restoring deployment {} ({}/{} v{})", record.name, tenant, record.model_name,
                 record.model_version);
    // Not serving until its replicas are loaded again, whatever state was stored.
    deployment->SetState(DeploymentState::kPending, "", clock_.NowMillis());
    ScheduleLoad(deployment, deployment->NextGeneration(), *version, InitialReplicas(*spec));
  }
  return Status::Ok();
}

StatusOr<metadata::ModelVersion> DeploymentService::ResolveVersion(std::string_view tenant,
                                                                   const DeploymentSpec& spec) {
  if (!spec.alias.empty()) {
    return registry_.GetModelVersionByAlias(tenant, spec.model_name, spec.alias);
  }
  int64_t number = 0;
  auto [end, ec] =
      std::from_chars(spec.version.data(), spec.version.data() + spec.version.size(), number);
  if (ec != std::errc() || number <= 0) return InvalidArgument("version must be positive");
  return registry_.GetModelVersion(tenant, spec.model_name, number);
}

StatusOr<DeploymentStatus> DeploymentService::Create(const RequestScope& scope,
                                                     std::string_view body) {
  ASSIGN_OR_RETURN(DeploymentSpec spec, ParseDeploymentSpec(body));
  if (spec.runtime != "auto" && runtimes_.find(spec.runtime) == runtimes_.end()) {
    return FailedPrecondition("runtime '" + spec.runtime + "' is not available on this server");
  }
  ASSIGN_OR_RETURN(metadata::ModelVersion version, ResolveVersion(scope.tenant, spec));
  const int64_t now = clock_.NowMillis();
  metadata::DeploymentRecord record{
      .id = "d-" + IdGenerator::Default().Hex32(),
      .name = spec.name,
      .model_name = spec.model_name,
      .model_version = std::to_string(version.version),
      .spec_json = SpecToJson(spec),
      .state = std::string(DeploymentStateName(DeploymentState::kPending)),
      .created_at_ms = now,
      .updated_at_ms = now};
  RETURN_IF_ERROR(store_.CreateDeployment(scope.tenant, record));
  auto deployment = std::make_shared<Deployment>(scope.tenant, record, spec);
  Insert(deployment);
  ScheduleLoad(deployment, deployment->NextGeneration(), version, InitialReplicas(spec));
  Notify(DeploymentChange::Kind::kCreated, *deployment);
  return StatusOf(*deployment);
}

StatusOr<DeploymentStatus> DeploymentService::Get(const RequestScope& scope,
                                                  std::string_view id_or_name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Deployment> deployment, Lookup(scope.tenant, id_or_name));
  return StatusOf(*deployment);
}

StatusOr<std::vector<DeploymentStatus>> DeploymentService::List(const RequestScope& scope) {
  std::vector<std::shared_ptr<Deployment>> mine;
  // Held for the loop: the range of a range-for does not keep a temporary alive.
  const std::shared_ptr<const Table> table = CurrentTable();
  for (const auto& [key, deployment] : *table) {
    if (key.first == scope.tenant) mine.push_back(deployment);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
    auto ra = a->Record();
    auto rb = b->Record();
    return std::tie(ra.created_at_ms, ra.id) < std::tie(rb.created_at_ms, rb.id);
  });
  std::vector<DeploymentStatus> out;
  out.reserve(mine.size());
  for (const auto& deployment : mine) out.push_back(StatusOf(*deployment));
  return out;
}

StatusOr<DeploymentStatus> DeploymentService::Scale(const RequestScope& scope,
                                                    std::string_view id_or_name,
                                                    std::string_view body) {
  ASSIGN_OR_RETURN(std::shared_ptr<Deployment> deployment, Lookup(scope.tenant, id_or_name));
  metadata::DeploymentRecord record = deployment->Record();
  ASSIGN_OR_RETURN(DeploymentSpec spec, ApplyScale(deployment->Spec(), body));
  deployment->SetSpec(spec, record.model_version, clock_.NowMillis());
  Follow(deployment->id(), false);  // changed here: this server reports its state now
  Persist(*deployment, PersistMode::kAuthoritative);
  std::shared_ptr<const ServingSet> serving = deployment->Serving();
  if (serving != nullptr) {
    const int current = static_cast<int>(serving->replicas.size());
    const int wanted = std::clamp(current, MinReplicas(spec), MaxReplicas(spec));
    if (wanted != current) {
      if (!RequestResize(deployment, wanted)) {
        return Unavailable("the model loaders are busy; retry");
      }
    }
  }
  Notify(DeploymentChange::Kind::kScaled, *deployment);
  return StatusOf(*deployment);
}

StatusOr<DeploymentStatus> DeploymentService::Update(const RequestScope& scope,
                                                     std::string_view id_or_name,
                                                     std::string_view body) {
  ASSIGN_OR_RETURN(std::shared_ptr<Deployment> deployment, Lookup(scope.tenant, id_or_name));
  ASSIGN_OR_RETURN(DeploymentSpec spec, ApplySpecUpdate(deployment->Spec(), body));
  if (spec.runtime != "auto" && runtimes_.find(spec.runtime) == runtimes_.end()) {
    return FailedPrecondition("runtime '" + spec.runtime + "' is not available on this server");
  }
  ASSIGN_OR_RETURN(metadata::ModelVersion version, ResolveVersion(scope.tenant, spec));
  deployment->SetSpec(spec, std::to_string(version.version), clock_.NowMillis());
  const int64_t generation = deployment->NextGeneration();
  int replicas = InitialReplicas(spec);
  if (auto serving = deployment->Serving()) {
    replicas = std::clamp(static_cast<int>(serving->replicas.size()), MinReplicas(spec),
                          MaxReplicas(spec));
  }
  Follow(deployment->id(), false);  // changed here: this server reports its state now
  // Stored before other replicas hear of it (Load stores it too, once loaded).
  Persist(*deployment, PersistMode::kAuthoritative);
  ScheduleLoad(deployment, generation, version, replicas);
  Notify(DeploymentChange::Kind::kUpdated, *deployment);
  return StatusOf(*deployment);
}

StatusOr<std::string> DeploymentService::Delete(const RequestScope& scope,
                                                std::string_view id_or_name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Deployment> deployment, Lookup(scope.tenant, id_or_name));
  deployment->NextGeneration();  // a load still running is discarded
  Remove(deployment);
  if (!deployment->Drain(options_.drain_timeout)) {
    spdlog::warn("deployment {}: {} requests still in flight after {} ms; removing anyway",
                 deployment->name(), deployment->InFlight(), options_.drain_timeout.count());
  }
  Status deleted = store_.DeleteDeployment(scope.tenant, deployment->id());
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
    Insert(deployment);  // still stored: keep serving it
    return deleted;
  }
  ReleaseRetired(deployment);
  Follow(deployment->id(), false);
  Notify(DeploymentChange::Kind::kDeleted, *deployment);
  return deployment->id();
}

void DeploymentService::ReleaseRetired(const std::shared_ptr<Deployment>& deployment) {
  metadata::DeploymentRecord record = deployment->Record();
  std::shared_ptr<const ServingSet> served = deployment->Serving();
  deployment->Publish(nullptr, 0);
  // Requests that found the deployment before it left the table may still hold `served` (and
  // so its models) for a moment after the drain; ReleaseIdle alone would keep those instances
  // cached, and their Python workers running, for good.
  ReleaseModels(served);
  cache_.ReleaseIdle(deployment->tenant(), record.model_name, record.model_version);
}

void DeploymentService::Notify(DeploymentChange::Kind kind, const Deployment& deployment) const {
  if (!listener_) return;
  listener_(DeploymentChange{.kind = kind,
                             .tenant = deployment.tenant(),
                             .id = deployment.id(),
                             .name = deployment.name()});
}

void DeploymentService::Retire(const std::shared_ptr<Deployment>& deployment) {
  deployment->NextGeneration();  // a load still running is discarded
  Remove(deployment);
  if (!deployment->Drain(options_.drain_timeout)) {
    spdlog::warn("deployment {}: {} requests still in flight after {} ms; removing anyway",
                 deployment->name(), deployment->InFlight(), options_.drain_timeout.count());
  }
  ReleaseRetired(deployment);
  Follow(deployment->id(), false);
  spdlog::info("deployment {} ({}): removed from the store elsewhere, no longer served",
               deployment->name(), deployment->id());
}

Status DeploymentService::Reload(std::string_view tenant, std::string_view id,
                                 std::string_view name) {
  MutexLock lock(reload_mu_);
  StatusOr<metadata::DeploymentRecord> stored = store_.GetDeployment(tenant, id);
  if (stored.ok() && stored->id != id) stored = NotFound("another deployment has that name");
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  std::shared_ptr<Deployment> by_id;
  // Held for the loop: the range of a range-for does not keep a temporary alive.
  const std::shared_ptr<const Table> table = CurrentTable();
  for (const auto& [key, deployment] : *table) {
    if (key.first == tenant && deployment->id() == id) by_id = deployment;
  }
  if (!stored.ok()) {
    if (by_id != nullptr) Retire(by_id);
    // The name may now belong to another deployment (deleted and created again).
    if (!name.empty()) {
      StatusOr<metadata::DeploymentRecord> named = store_.GetDeployment(tenant, name);
      if (named.ok()) Reconcile(std::string(tenant), *named, Find(tenant, named->name));
    }
    return Status::Ok();
  }
  Reconcile(std::string(tenant), *stored, by_id != nullptr ? by_id : Find(tenant, stored->name));
  return Status::Ok();
}

Status DeploymentService::ReloadAll() {
  MutexLock lock(reload_mu_);
  ASSIGN_OR_RETURN(auto stored, store_.ListAllDeployments());
  std::set<std::string> ids;
  for (const auto& [tenant, record] : stored) ids.insert(record.id);
  for (const std::shared_ptr<Deployment>& deployment : All()) {
    if (!ids.contains(deployment->id())) Retire(deployment);
  }
  for (const auto& [tenant, record] : stored) {
    Reconcile(tenant, record, Find(tenant, record.name));
  }
  return Status::Ok();
}

void DeploymentService::Reconcile(const std::string& tenant,
                                  const metadata::DeploymentRecord& record,
                                  std::shared_ptr<Deployment> local) {
  if (local != nullptr && local->id() != record.id) {
    Retire(local);  // the name was deleted and given to a new deployment
    local = nullptr;
  }
  StatusOr<DeploymentSpec> spec = SpecFromJson(record.spec_json);
  if (!spec.ok()) {
    spdlog::error("deployment {} ({}) has an unreadable spec, not reloaded: {}", record.name,
                  record.id, spec.status().ToString());
    return;
  }
  int64_t number = 0;
  std::from_chars(record.model_version.data(),
                  record.model_version.data() + record.model_version.size(), number);
  if (local == nullptr) {
    auto deployment = std::make_shared<Deployment>(tenant, record, *spec);
    StatusOr<metadata::ModelVersion> version =
        registry_.GetModelVersion(tenant, record.model_name, number);
    if (!version.ok()) {
      spdlog::warn("deployment {} ({}): its model version is not readable here, not loaded: {}",
                   record.name, record.id, version.status().ToString());
      return;
    }
    spdlog::info("deployment {} ({}/{} v{}) created elsewhere: loading it", record.name, tenant,
                 record.model_name, record.model_version);
    Follow(record.id, true);
    Insert(deployment);
    deployment->SetState(DeploymentState::kPending, "", clock_.NowMillis());
    ScheduleLoad(deployment, deployment->NextGeneration(), *version, InitialReplicas(*spec));
    return;
  }
  const metadata::DeploymentRecord mine = local->Record();
  const DeploymentSpec current = local->Spec();
  // What a scale changes, taken over: anything else that differs needs a reload.
  DeploymentSpec rescaled = current;
  rescaled.replicas = spec->replicas;
  rescaled.autoscaling = spec->autoscaling;
  const bool same_model =
      mine.model_version == record.model_version && SpecToJson(rescaled) == SpecToJson(*spec);
  if (same_model && SpecToJson(current) == SpecToJson(*spec)) return;
  Follow(record.id, true);
  local->SetSpec(*spec, record.model_version, clock_.NowMillis());
  std::shared_ptr<const ServingSet> serving = local->Serving();
  if (same_model) {
    if (serving != nullptr) {
      const int have = static_cast<int>(serving->replicas.size());
      const int wanted = std::clamp(have, MinReplicas(*spec), MaxReplicas(*spec));
      if (wanted != have && !RequestResize(local, wanted)) {
        spdlog::warn("deployment {}: loaders busy, stays at {} replicas", record.name, have);
      }
    }
    return;
  }
  StatusOr<metadata::ModelVersion> version =
      registry_.GetModelVersion(tenant, record.model_name, number);
  if (!version.ok()) {
    spdlog::warn("deployment {} ({}): its new model version is not readable here: {}", record.name,
                 record.id, version.status().ToString());
    return;
  }
  spdlog::info("deployment {} updated elsewhere: loading {} v{}", record.name, record.model_name,
               record.model_version);
  int replicas = InitialReplicas(*spec);
  if (serving != nullptr) {
    replicas = std::clamp(static_cast<int>(serving->replicas.size()), MinReplicas(*spec),
                          MaxReplicas(*spec));
  }
  ScheduleLoad(local, local->NextGeneration(), *version, replicas);
}

void DeploymentService::ReleaseModels(const std::shared_ptr<const ServingSet>& serving) {
  if (serving == nullptr) return;
  std::set<const runtime::LoadedModel*> in_use;
  for (const std::shared_ptr<Deployment>& other : All()) {
    if (std::shared_ptr<const ServingSet> set = other->Serving()) {
      for (const auto& replica : set->replicas) in_use.insert(replica->model.get());
    }
  }
  for (const auto& replica : serving->replicas) {
    if (!in_use.contains(replica->model.get())) cache_.Release(replica->model);
  }
}

std::shared_ptr<Deployment> DeploymentService::Find(std::string_view tenant,
                                                    std::string_view name) const {
  std::shared_ptr<const Table> table = CurrentTable();
  auto it = table->find(std::pair<std::string_view, std::string_view>(tenant, name));
  return it == table->end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Deployment>> DeploymentService::All() const {
  std::vector<std::shared_ptr<Deployment>> out;
  // Held for the loop: the range of a range-for does not keep a temporary alive.
  const std::shared_ptr<const Table> table = CurrentTable();
  for (const auto& [key, deployment] : *table) out.push_back(deployment);
  return out;
}

StatusOr<std::shared_ptr<Deployment>> DeploymentService::Lookup(std::string_view tenant,
                                                                std::string_view id_or_name) const {
  if (auto by_name = Find(tenant, id_or_name)) return by_name;
  // Held for the loop: the range of a range-for does not keep a temporary alive.
  const std::shared_ptr<const Table> table = CurrentTable();
  for (const auto& [key, deployment] : *table) {
    if (key.first == tenant && deployment->id() == id_or_name) return deployment;
  }
  return NotFound("Deployment '" + std::string(id_or_name) + "' not found");
}

void DeploymentService::Insert(const std::shared_ptr<Deployment>& deployment) {
  MutexLock lock(table_write_mu_);
  auto next = std::make_shared<Table>(*CurrentTable());
  (*next)[{deployment->tenant(), deployment->name()}] = deployment;
  PublishTable(std::move(next));
}

void DeploymentService::Remove(const std::shared_ptr<Deployment>& deployment) {
  MutexLock lock(table_write_mu_);
  auto next = std::make_shared<Table>(*CurrentTable());
  next->erase({deployment->tenant(), deployment->name()});
  PublishTable(std::move(next));
}

std::shared_ptr<const DeploymentService::Table> DeploymentService::CurrentTable() const {
  MutexLock lock(table_mu_);
  return table_;
}

void DeploymentService::PublishTable(std::shared_ptr<const Table> next) {
  std::shared_ptr<const Table> previous;  // released outside the lock
  MutexLock lock(table_mu_);
  previous = std::exchange(table_, std::move(next));
}

DeploymentStatus DeploymentService::StatusOf(const Deployment& deployment) const {
  DeploymentStatus status{.record = deployment.Record(), .spec = deployment.Spec()};
  status.in_flight = deployment.InFlight();
  status.load_time_ms = deployment.LoadTimeMs();
  status.predictions_dropped = deployment.predictions_dropped.load();
  status.runtime = status.spec.runtime;
  status.replicas_desired = MinReplicas(status.spec);
  if (auto serving = deployment.Serving()) {
    status.runtime = serving->runtime;
    status.replicas_desired = std::clamp(static_cast<int>(serving->replicas.size()),
                                         MinReplicas(status.spec), MaxReplicas(status.spec));
    for (const auto& replica : serving->replicas) {
      if (replica->model->Healthy()) ++status.replicas_ready;
    }
  }
  return status;
}

void DeploymentService::Follow(const std::string& id, bool follow) {
  MutexLock lock(followed_mu_);
  if (follow) {
    followed_.insert(id);
  } else {
    followed_.erase(id);
  }
}

void DeploymentService::Persist(const Deployment& deployment, PersistMode mode) {
  {
    MutexLock lock(followed_mu_);
    if (followed_.contains(deployment.id())) return;
  }
  const metadata::DeploymentRecord record = deployment.Record();
  // A state report is written only while the stored spec is the one it reports on; the store
  // checks that and writes in one step, so a Scale or Update stored meanwhile (here or on
  // another replica) is never undone.
  Status written = mode == PersistMode::kStateOnly
                       ? store_.UpdateDeploymentState(deployment.tenant(), record)
                       : store_.UpdateDeployment(deployment.tenant(), record);
  if (!written.ok() && written.code() != StatusCode::kNotFound &&
      written.code() != StatusCode::kFailedPrecondition) {
    spdlog::error("deployment {}: cannot store its state: {}", deployment.name(),
                  written.ToString());
  }
}

void DeploymentService::ScheduleLoad(const std::shared_ptr<Deployment>& deployment,
                                     int64_t generation, const metadata::ModelVersion& version,
                                     int replicas) {
  bool queued = loaders_->TrySubmit([this, deployment, generation, version, replicas] {
    Load(deployment, generation, version, replicas);
  });
  if (!queued) {
    deployment->SetState(DeploymentState::kFailed, "the model loaders are busy",
                         clock_.NowMillis());
    Persist(*deployment);
  }
}

StatusOr<fs::path> DeploymentService::FetchModel(std::string_view tenant,
                                                 const metadata::ModelVersion& version) {
  const std::string location =
      version.storage_location.empty() ? version.source : version.storage_location;
  ASSIGN_OR_RETURN(std::string store_dir, locator_(tenant, location));
  const fs::path local = options_.model_dir / FolderName(tenant, version);
  MutexLock lock(fetch_mu_);
  std::error_code ec;
  if (fs::exists(local / ".complete", ec)) return local;
  const fs::path partial = local.string() + ".partial";
  fs::remove_all(partial, ec);
  RETURN_IF_ERROR(CopyTree(artifacts_, store_dir, partial, 0));
  if (!fs::exists(partial / "MLmodel", ec)) {
    fs::remove_all(partial, ec);
    return NotFound("no MLmodel file at " + location + " (model version " +
                    std::to_string(version.version) + ")");
  }
  std::ofstream(partial / ".complete").put('\n');
  fs::remove_all(local, ec);
  fs::rename(partial, local, ec);
  if (ec) return Internal("cannot place the model folder: " + ec.message());
  return local;
}

StatusOr<std::shared_ptr<runtime::ModelRuntime>> DeploymentService::ChooseRuntime(
    const DeploymentSpec& spec, const runtime::MlModel& model) {
  if (spec.runtime != "auto") {
    auto it = runtimes_.find(spec.runtime);
    if (it == runtimes_.end()) {
      return FailedPrecondition("runtime '" + spec.runtime + "' is not available");
    }
    if (!it->second->CanServe(model)) {
      return InvalidArgument("runtime '" + spec.runtime + "' cannot serve this model's flavors");
    }
    return it->second;
  }
  for (const char* name : {"onnx", "python"}) {
    auto it = runtimes_.find(name);
    if (it != runtimes_.end() && it->second->CanServe(model)) return it->second;
  }
  std::string flavors;
  for (const auto& [flavor, data] : model.flavors) {
    flavors += (flavors.empty() ? "" : ", ") + flavor;
  }
  return FailedPrecondition("no runtime on this server can serve flavors [" + flavors + "]");
}

StatusOr<std::vector<std::shared_ptr<Replica>>> DeploymentService::LoadReplicas(
    std::string_view tenant, const metadata::ModelVersion& version, runtime::ModelRuntime& runtime,
    const runtime::ModelSource& source, const DeploymentSpec& spec, int first, int count) {
  std::vector<std::shared_ptr<Replica>> replicas;
  for (int i = first; i < count; ++i) {
    ModelKey key{.tenant = std::string(tenant),
                 .model_name = version.name,
                 .version = std::to_string(version.version),
                 .runtime = std::string(runtime.Name()),
                 .options = OptionsKey(spec.runtime_options),
                 .instance = i};
    ASSIGN_OR_RETURN(std::shared_ptr<runtime::LoadedModel> model, cache_.GetOrLoad(key, [&] {
      return runtime.Load(source, spec.runtime_options);
    }));
    auto replica = std::make_shared<Replica>();
    replica->model = std::move(model);
    replicas.push_back(std::move(replica));
  }
  return replicas;
}

void DeploymentService::Load(const std::shared_ptr<Deployment>& deployment, int64_t generation,
                             const metadata::ModelVersion& version, int replicas) {
  const int64_t started = clock_.MonotonicNanos();
  const bool had_serving = deployment->Serving() != nullptr;
  if (!had_serving) {
    deployment->SetState(DeploymentState::kLoading, "", clock_.NowMillis());
    Persist(*deployment);
  }
  const DeploymentSpec spec = deployment->Spec();
  auto attempt = [&]() -> StatusOr<std::shared_ptr<ServingSet>> {
    ASSIGN_OR_RETURN(fs::path dir, FetchModel(deployment->tenant(), version));
    ASSIGN_OR_RETURN(runtime::MlModel mlmodel, runtime::ReadMlModel(dir));
    ASSIGN_OR_RETURN(std::shared_ptr<runtime::ModelRuntime> runtime, ChooseRuntime(spec, mlmodel));
    runtime::ModelSource source{.dir = dir, .mlmodel = mlmodel};
    auto serving = std::make_shared<ServingSet>();
    serving->model_version = std::to_string(version.version);
    serving->runtime = std::string(runtime->Name());
    serving->signature = mlmodel.signature;
    ASSIGN_OR_RETURN(serving->replicas, LoadReplicas(deployment->tenant(), version, *runtime,
                                                     source, spec, 0, std::max(1, replicas)));
    serving->interface = serving->replicas.front()->model->Interface();
    if (options_.metrics != nullptr) {
      serving->metrics = std::make_shared<ServingMetrics>(*options_.metrics, deployment->name(),
                                                          serving->model_version);
    }
    return serving;
  };
  StatusOr<std::shared_ptr<ServingSet>> loaded = attempt();
  if (deployment->generation() != generation) return;  // superseded or deleted meanwhile
  const int64_t load_ms = (clock_.MonotonicNanos() - started) / 1000000;
  if (!loaded.ok()) {
    spdlog::warn("deployment {}: load of {} v{} failed: {}", deployment->name(), version.name,
                 version.version, loaded.status().ToString());
    if (had_serving) {
      // The previous version keeps serving; the failed update is reported.
      auto serving = deployment->Serving();
      DeploymentSpec previous = deployment->Spec();
      deployment->SetSpec(previous, serving->model_version, clock_.NowMillis());
      deployment->SetState(DeploymentState::kReady,
                           "update to version " + std::to_string(version.version) +
                               " failed: " + loaded.status().message(),
                           clock_.NowMillis());
      Persist(*deployment, PersistMode::kAuthoritative);
    } else {
      deployment->SetState(DeploymentState::kFailed, loaded.status().message(), clock_.NowMillis());
      Persist(*deployment);
    }
    return;
  }
  if ((*loaded)->metrics != nullptr) {
    (*loaded)->metrics->load_seconds().Set(static_cast<double>(load_ms) / 1000.0);
    (*loaded)->metrics->replicas().Set(static_cast<double>((*loaded)->replicas.size()));
  }
  deployment->Publish(*loaded, load_ms);
  deployment->SetState(DeploymentState::kReady, "", clock_.NowMillis());
  Persist(*deployment);
  spdlog::info("deployment {} READY: {} v{} on {} with {} replica(s) in {} ms", deployment->name(),
               version.name, version.version, (*loaded)->runtime, (*loaded)->replicas.size(),
               load_ms);
}

void DeploymentService::Resize(const std::shared_ptr<Deployment>& deployment, int replicas) {
  std::shared_ptr<const ServingSet> current = deployment->Serving();
  if (current == nullptr) return;
  const int have = static_cast<int>(current->replicas.size());
  if (replicas == have) return;
  auto next = std::make_shared<ServingSet>(*current);
  if (replicas < have) {
    next->replicas.resize(static_cast<size_t>(replicas));
  } else {
    const DeploymentSpec spec = deployment->Spec();
    int64_t number = 0;
    std::from_chars(current->model_version.data(),
                    current->model_version.data() + current->model_version.size(), number);
    StatusOr<metadata::ModelVersion> version =
        registry_.GetModelVersion(deployment->tenant(), spec.model_name, number);
    if (!version.ok()) return;
    StatusOr<fs::path> dir = FetchModel(deployment->tenant(), *version);
    if (!dir.ok()) return;
    StatusOr<runtime::MlModel> mlmodel = runtime::ReadMlModel(*dir);
    auto runtime = runtimes_.find(current->runtime);
    if (!mlmodel.ok() || runtime == runtimes_.end()) return;
    runtime::ModelSource source{.dir = *dir, .mlmodel = *mlmodel};
    auto added = LoadReplicas(deployment->tenant(), *version, *runtime->second, source, spec, have,
                              replicas);
    if (!added.ok()) {
      spdlog::warn("deployment {}: cannot add replicas: {}", deployment->name(),
                   added.status().ToString());
      return;
    }
    for (auto& replica : *added) next->replicas.push_back(std::move(replica));
  }
  // Replaced meanwhile (a reload, or another resize from the same set): leave it; the
  // autoscaler's next pass sizes the new set.
  if (!deployment->PublishIf(current, std::move(next))) return;
  spdlog::info("deployment {}: {} -> {} replicas", deployment->name(), have, replicas);
}

bool DeploymentService::RequestResize(const std::shared_ptr<Deployment>& deployment, int replicas) {
  {
    MutexLock lock(autoscale_mu_);
    ScaleState& state = scale_state_[deployment->id()];
    state.desired = replicas;
    if (state.resizing) return true;  // the running resize picks the new count up
    state.resizing = true;
  }
  if (loaders_->TrySubmit([this, deployment] { ResizeToDesired(deployment); })) return true;
  MutexLock lock(autoscale_mu_);
  scale_state_[deployment->id()].resizing = false;
  return false;
}

void DeploymentService::ResizeToDesired(const std::shared_ptr<Deployment>& deployment) {
  int attempted = -1;
  while (true) {
    int desired = 0;
    {
      MutexLock lock(autoscale_mu_);
      ScaleState& state = scale_state_[deployment->id()];
      std::shared_ptr<const ServingSet> serving = deployment->Serving();
      const int have = serving == nullptr ? -1 : static_cast<int>(serving->replicas.size());
      // Done when the set has the newest count, or the last try at it changed nothing (a load
      // failure, logged by Resize): the next request tries again.
      if (serving == nullptr || have == state.desired || state.desired == attempted) {
        state.resizing = false;
        return;
      }
      desired = state.desired;
    }
    attempted = desired;
    Resize(deployment, desired);
  }
}

void DeploymentService::Autoscale() {
  const int64_t now = clock_.NowMillis();
  for (const std::shared_ptr<Deployment>& deployment : All()) {
    const DeploymentSpec spec = deployment->Spec();
    std::shared_ptr<const ServingSet> serving = deployment->Serving();
    if (serving != nullptr && serving->metrics != nullptr) {
      serving->metrics->in_flight().Set(deployment->InFlight());
      serving->metrics->replicas().Set(static_cast<double>(serving->replicas.size()));
    }
    if (!spec.autoscaling || serving == nullptr) continue;
    const int target = spec.autoscaling->target_concurrency > 0
                           ? spec.autoscaling->target_concurrency
                           : options_.default_target_concurrency;
    const int have = static_cast<int>(serving->replicas.size());
    int wanted = have;
    {
      MutexLock lock(autoscale_mu_);
      ScaleState& state = scale_state_[deployment->id()];
      state.load = 0.5 * state.load + 0.5 * deployment->InFlight();
      wanted = std::clamp(static_cast<int>(std::ceil(state.load / target)), spec.autoscaling->min,
                          spec.autoscaling->max);
      if (wanted < have) {
        if (state.low_since_ms < 0) state.low_since_ms = now;
        if (now - state.low_since_ms < options_.scale_down_delay.count()) wanted = have;
      } else {
        state.low_since_ms = -1;
      }
    }
    if (wanted != have) {
      if (!RequestResize(deployment, wanted)) {
        spdlog::warn("autoscaler: loaders busy, {} stays at {}", deployment->name(), have);
      }
    }
  }
}

}  // namespace cairn::serving
