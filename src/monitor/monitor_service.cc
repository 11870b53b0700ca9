#include "monitor/monitor_service.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace cairn::monitor {
namespace {

namespace bj = boost::json;
using metadata::PredictionSummary;

constexpr std::string_view kTopic = stream::kPredictionsTopic;

bj::value CellJson(const Cell& c) {
  switch (c.type) {
    case Cell::Type::kNumber:
      return std::isfinite(c.number) ? bj::value(c.number) : bj::value(nullptr);
    case Cell::Type::kString:
      return bj::value(c.text);
    case Cell::Type::kMissing:
      return nullptr;
  }
  return nullptr;
}

int64_t WindowStartFor(const DriftConfig& config, int64_t timestamp_ms) {
  const int64_t d = config.window_duration->count();
  return timestamp_ms - ((timestamp_ms % d) + d) % d;
}

}  // namespace

MonitorService::MonitorService(MonitorDeps deps, MonitorOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {
  if (deps_.metrics != nullptr) {
    events_metric_ = &deps_.metrics->GetCounter("cairn_monitor_events_total",
                                                "Prediction log events the monitor has read");
    lag_metric_ = &deps_.metrics->GetGauge("cairn_monitor_lag_events",
                                           "Prediction log events not yet read by the monitor");
    windows_metric_ = &deps_.metrics->GetCounter("cairn_monitor_windows_closed_total",
                                                 "Monitoring windows closed and stored");
    partitions_metric_ = &deps_.metrics->GetGauge(
        "cairn_monitor_partitions",
        "Partitions of the predictions topic this monitor owns in its consumer group");
  }
}

MonitorService::~MonitorService() { Stop(); }

Status MonitorService::Start() {
  ASSIGN_OR_RETURN(auto configs, deps_.store.ListAllDriftConfigs());
  ASSIGN_OR_RETURN(std::unique_ptr<stream::TopicLease> lease,
                   deps_.events.JoinGroup(options_.consumer, kTopic));
  {
    MutexLock lock(mu_);
    if (started_) return FailedPrecondition("the monitor is already running");
    for (auto& [tenant, record] : configs) {
      StatusOr<DriftConfig> parsed = ParseDriftConfig(record.spec_json);
      if (!parsed.ok()) {
        spdlog::error("drift configuration {} is unreadable, not monitored: {}", record.id,
                      parsed.status().message());
        continue;
      }
      auto entry = std::make_shared<ConfigEntry>(
          ConfigEntry{.tenant = tenant, .record = record, .config = std::move(*parsed)});
      configs_[tenant].push_back(std::move(entry));
    }
    lease_ = std::move(lease);
    partitions_.clear();
    labels_copartitioned_ = false;
    labels_checked_ = deps_.labels == nullptr;
    // A sole owner (the embedded log) resumes here, so Start fixes where reading begins; a
    // group member resumes in the consumer loop once the group has given it partitions (and so
    // does any member after a passing failure: the loop tries again).
    StatusOr<bool> owner = SyncPartitions();
    if (!owner.ok() && owner.status().code() != StatusCode::kUnavailable) return owner.status();
    if (!owner.ok()) {
      spdlog::warn("monitor: {}; trying again", owner.status().message());
    } else if (!*owner) {
      spdlog::info("monitor: joined the consumer group of {}; waiting for it", kTopic);
    }
    started_ = true;
    stopping_ = false;
  }
  spdlog::info("monitor: {} drift configurations", configs.size());
  MutexLock lock(thread_mu_);
  consumer_ = std::thread([this] { ConsumerLoop(); });
  return Status::Ok();
}

StatusOr<bool> MonitorService::SyncPartitions() {
  if (!labels_checked_) {
    ASSIGN_OR_RETURN(int predictions, deps_.events.Partitions(kTopic));
    ASSIGN_OR_RETURN(int labels, deps_.events.Partitions(stream::kLabelsTopic));
    labels_checked_ = true;
    labels_copartitioned_ = predictions == labels;
    if (!labels_copartitioned_) {
      spdlog::error(
          "monitor: the labels topic ({} partitions) is not partitioned as the predictions "
          "topic ({}): labels reach concept-drift detectors and performance alerts only when "
          "the process that receives them monitors their deployment",
          labels, predictions);
    }
  }
  StatusOr<std::vector<int>> owned = lease_->Owned();
  if (!owned.ok()) {
    // Unreachable group: whatever this member owned may be given to another one meanwhile.
    while (!partitions_.empty()) DropPartition(partitions_.begin()->first);
    return owned.status();
  }
  const bool regained = lease_->Generation() != lease_generation_;
  std::vector<int> lost;
  for (const auto& [partition, state] : partitions_) {
    if (!std::binary_search(owned->begin(), owned->end(), partition)) lost.push_back(partition);
  }
  for (int partition : lost) {
    spdlog::info(
        "monitor: another member of the group took {} partition {}; dropping its "
        "open windows",
        kTopic, partition);
    DropPartition(partition);
  }
  for (int partition : *owned) {
    if (!regained && partitions_.contains(partition)) continue;
    if (Status resumed = Resume(partition); !resumed.ok()) {
      DropPartition(partition);
      return resumed;
    }
  }
  lease_generation_ = lease_->Generation();
  if (partitions_metric_ != nullptr) {
    partitions_metric_->Set(static_cast<double>(partitions_.size()));
  }
  return !partitions_.empty();
}

void MonitorService::DropPartition(int partition) {
  std::erase_if(units_, [&](const auto& item) { return item.second->partition == partition; });
  std::erase_if(unstored_, [&](const auto& item) { return item.partition == partition; });
  partitions_.erase(partition);
}

Status MonitorService::RefreshConfigs() {
  ASSIGN_OR_RETURN(auto stored, deps_.store.ListAllDriftConfigs());
  std::set<std::pair<std::string, std::string>> present;
  for (auto& item : stored) {
    const std::string& tenant = item.first;
    metadata::DriftConfigRecord& record = item.second;
    present.emplace(tenant, record.id);
    const auto& list = configs_[tenant];
    const std::string& id = record.id;
    auto known =
        std::find_if(list.begin(), list.end(), [&](const auto& e) { return e->record.id == id; });
    if (known != list.end() && (*known)->record.updated_at_ms == record.updated_at_ms &&
        (*known)->record.spec_json == record.spec_json) {
      continue;
    }
    StatusOr<DriftConfig> parsed = ParseDriftConfig(record.spec_json);
    if (!parsed.ok()) continue;  // reported when it was stored or at start
    spdlog::info("monitor: drift configuration {} changed in the store; applying it", record.id);
    InstallConfig(std::make_shared<ConfigEntry>(
        ConfigEntry{.tenant = tenant, .record = record, .config = std::move(*parsed)}));
  }
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& [tenant, list] : configs_) {
    for (const auto& entry : list) {
      if (!present.contains({tenant, entry->record.id}))
        gone.emplace_back(tenant, entry->record.id);
    }
  }
  for (const auto& [tenant, id] : gone) RemoveConfig(tenant, id);
  return Status::Ok();
}

Status MonitorService::Resume(int partition) {
  ASSIGN_OR_RETURN(std::optional<int64_t> committed,
                   deps_.events.CommittedOffset(options_.consumer, kTopic, partition));
  int64_t start = 0;
  if (committed) {
    start = *committed;
  } else {
    ASSIGN_OR_RETURN(start, deps_.events.EndOffset(kTopic, partition));
  }
  PartitionState state{.next_offset = start, .committed = committed.value_or(-1)};
  if (labels_copartitioned_) {
    ASSIGN_OR_RETURN(
        std::optional<int64_t> labels,
        deps_.events.CommittedOffset(LabelsConsumer(), stream::kLabelsTopic, partition));
    if (labels) {
      state.labels_next = *labels;
    } else {
      ASSIGN_OR_RETURN(state.labels_next, deps_.events.EndOffset(stream::kLabelsTopic, partition));
    }
    state.labels = true;
    state.labels_committed = labels.value_or(-1);
  }
  // Open windows are rebuilt from the log; closed windows' progress comes from the store.
  DropPartition(partition);
  partitions_[partition] = state;
  spdlog::info("monitor: reading predictions partition {} from offset {}", partition, start);
  return Status::Ok();
}

void MonitorService::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  {
    MutexLock lock(thread_mu_);
    if (consumer_.joinable()) consumer_.join();
  }
  // Leave the consumer group now, so a standby member takes over at once.
  MutexLock lock(mu_);
  lease_.reset();
  partitions_.clear();
}

void MonitorService::SetTrackingUri(std::string uri) {
  MutexLock lock(mu_);
  tracking_uri_ = std::move(uri);
}

void MonitorService::SetCredentialIssuer(CredentialIssuer issuer) {
  MutexLock lock(mu_);
  credential_issuer_ = std::move(issuer);
}

void MonitorService::ConsumerLoop() {
  pthread_setname_np(pthread_self(), "cairn-monitor");  // shows in top -H and perf
  // Serving comes first: when the cores are saturated the monitor falls behind (its lag is
  // reported) rather than slowing predictions; it catches up when load eases.
  if (options_.nice > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.nice);
  MutexLock lock(mu_);
  auto next_refresh = std::chrono::steady_clock::now() + options_.config_refresh;
  while (!stopping_) {
    if (options_.config_refresh.count() > 0 && std::chrono::steady_clock::now() >= next_refresh) {
      if (Status refreshed = RefreshConfigs(); !refreshed.ok()) {
        spdlog::warn("monitor: re-reading the drift configurations failed: {}",
                     refreshed.message());
      }
      next_refresh = std::chrono::steady_clock::now() + options_.config_refresh;
    }
    StatusOr<bool> owner = SyncPartitions();
    if (!owner.ok() || !*owner) {
      if (!owner.ok()) {
        spdlog::warn("monitor: consumer group of {}: {}", kTopic, owner.status().message());
      }
      lock.WaitUntil(wake_, std::chrono::steady_clock::now() + options_.poll_interval);
      continue;
    }
    StatusOr<int> read = PollOnce();
    if (!read.ok()) {
      spdlog::warn("monitor: reading the prediction log failed: {}", read.status().message());
    }
    if (stopping_) break;
    if (!read.ok() || *read < options_.read_batch) {
      lock.WaitUntil(wake_, std::chrono::steady_clock::now() + options_.poll_interval);
    }
  }
}

Status MonitorService::CatchUpForTest() {
  MutexLock lock(mu_);
  if (lease_) {
    ASSIGN_OR_RETURN(bool owner, SyncPartitions());
    if (!owner) return Unavailable("the monitor owns no partition of the predictions topic");
  } else if (partitions_.empty()) {
    // Not started: every partition, from the beginning.
    ASSIGN_OR_RETURN(int partitions, deps_.events.Partitions(kTopic));
    for (int p = 0; p < partitions; ++p) partitions_[p] = PartitionState{};
  }
  while (true) {
    ASSIGN_OR_RETURN(int read, PollOnce());
    if (read < options_.read_batch) return Status::Ok();
  }
}

MonitorService::Unit* MonitorService::UnitFor(const std::shared_ptr<const ConfigEntry>& entry,
                                              const stream::PredictionEvent& e, int partition) {
  UnitKey key(entry->record.id, e.deployment_id);
  auto it = units_.find(key);
  if (it != units_.end()) {
    it->second->entry = entry;
    return it->second.get();
  }
  auto unit = std::make_unique<Unit>();
  unit->partition = partition;
  unit->tenant = entry->tenant;
  unit->deployment_id = e.deployment_id;
  unit->deployment_name = e.deployment_name;
  unit->model_name = e.model_name;
  unit->entry = entry;
  if (entry->config.concept_drift) {
    auto created = CreateDetector(entry->config.concept_drift->detector,
                                  entry->config.concept_drift->params_json);
    if (created.ok()) unit->detector = std::move(*created);
  }
  StatusOr<std::optional<std::string>> state =
      deps_.store.GetMonitorState(entry->tenant, entry->record.id, e.deployment_id);
  if (state.ok() && state->has_value()) {
    bj::error_code ec;
    bj::value v = bj::parse(**state, ec);
    if (!ec && v.is_object()) {
      const bj::object& o = v.get_object();
      if (const bj::value* c = o.if_contains("closed_through"); c && c->is_int64()) {
        unit->closed_through = c->get_int64();
      }
      if (const bj::value* l = o.if_contains("last_end_ms"); l && l->is_int64()) {
        unit->last_end_ms = l->get_int64();
      }
      const bj::value* d = o.if_contains("detector");
      if (d != nullptr && d->is_string() && entry->config.concept_drift) {
        auto restored = RestoreDetector(entry->config.concept_drift->detector,
                                        entry->config.concept_drift->params_json, d->get_string());
        if (restored.ok()) unit->detector = std::move(*restored);
      }
    }
  }
  Unit* raw = unit.get();
  units_.emplace(std::move(key), std::move(unit));
  return raw;
}

std::string MonitorService::UnitState(const Unit& unit) const {
  bj::object o;
  o["closed_through"] = unit.closed_through;
  o["last_end_ms"] = unit.last_end_ms;
  if (unit.detector) o["detector"] = unit.detector->SaveState();
  // For the other processes' view of the deployment (DeploymentStatus); never read back here.
  if (unit.open && options_.publish_interval.count() > 0) {
    bj::object open;
    open["start_ms"] = unit.open->start_ms;
    if (unit.entry->config.window_duration) open["end_ms"] = unit.open->end_ms;
    open["requests"] = unit.open->counters.requests;
    open["rows"] = unit.open->counters.rows;
    open["as_of_ms"] = deps_.clock.NowMillis();
    o["open_window"] = std::move(open);
  }
  return bj::serialize(o);
}

void MonitorService::PublishOpenWindows() {
  if (options_.publish_interval.count() <= 0) return;
  const int64_t now = deps_.clock.NowMillis();
  for (auto& [key, unit] : units_) {
    const int64_t requests = unit->open ? unit->open->counters.requests : 0;
    if (requests == unit->published_requests ||
        now - unit->published_ms < options_.publish_interval.count()) {
      continue;
    }
    Status saved =
        deps_.store.PutMonitorState(unit->tenant, key.first, unit->deployment_id, UnitState(*unit));
    if (!saved.ok()) {
      spdlog::warn("monitor: publishing the open window of {} failed: {}", unit->deployment_id,
                   saved.message());
      continue;
    }
    unit->published_ms = now;
    unit->published_requests = requests;
  }
}

StatusOr<int> MonitorService::PollOnce() {
  // Windows whose results could not be stored last time.
  std::vector<Unstored> retry = std::move(unstored_);
  unstored_.clear();
  for (Unstored& item : retry) {
    auto unit = units_.find(item.key);
    if (unit != units_.end()) Close(*unit->second, std::move(item.window));
  }
  // Each owned partition in turn, a batch at a time; the most any one of them read.
  int most = 0;
  Status failed = Status::Ok();
  std::vector<int> owned;
  for (const auto& [partition, state] : partitions_) owned.push_back(partition);
  for (int partition : owned) {
    StatusOr<int> read = PollPartition(partition);
    if (!read.ok()) {
      failed = read.status();
      continue;
    }
    most = std::max(most, *read);
    if (Status labels = PollLabels(partition); !labels.ok()) {
      spdlog::warn("monitor: reading the labels of partition {} failed: {}", partition,
                   labels.message());
    }
  }
  CloseDue();
  PublishOpenWindows();
  Retain();
  if (!failed.ok() && most == 0) return failed;
  if (!failed.ok())
    spdlog::warn("monitor: reading the prediction log failed: {}", failed.message());
  return most;
}

StatusOr<int> MonitorService::PollPartition(int partition) {
  PartitionState& state = partitions_.at(partition);
  ASSIGN_OR_RETURN(
      stream::ReadResult page,
      deps_.events.Read(kTopic, stream::ReadOptions{.partition = partition,
                                                    .from_offset = state.next_offset,
                                                    .max_events = options_.read_batch}));
  std::vector<std::pair<Unit*, OpenWindow>> due;
  std::map<std::string, std::vector<PredictionSummary>> summaries;  // by tenant
  // Each deployment's model is looked up once per batch.
  std::map<std::pair<std::string, std::string>, std::optional<ModelSchema>> schemas;
  for (const stream::StoredEvent& stored : page.events) {
    auto configs = configs_.find(stored.event.tenant);
    if (configs == configs_.end()) continue;
    StatusOr<stream::PredictionEvent> event = stream::DecodePredictionEvent(stored.event.payload);
    if (!event.ok()) continue;
    std::vector<Unit*> units;
    for (const auto& entry : configs->second) {
      const metadata::DriftConfigRecord& r = entry->record;
      // A configuration watches predictions made after it was created.
      if (event->timestamp_ms < r.created_at_ms) continue;
      if (r.deployment_id.empty() ? r.model_name == event->model_name
                                  : r.deployment_id == event->deployment_id) {
        Unit* unit = UnitFor(entry, *event, partition);
        if (stored.offset > unit->closed_through) units.push_back(unit);
      }
    }
    if (units.empty()) continue;
    std::optional<EventRows> rows;
    if (event->status_code < 400) {
      auto [schema, added] =
          schemas.try_emplace(std::make_pair(event->tenant, event->deployment_id));
      if (added) {
        schema->second = deps_.schemas(event->tenant, event->deployment_id, event->deployment_name);
      }
      if (schema->second) {
        StatusOr<EventRows> extracted = ExtractRows(*event, *schema->second);
        if (extracted.ok()) rows = std::move(*extracted);
      }
    }
    int64_t window_start = 0;
    for (size_t i = 0; i < units.size(); ++i) {
      const int64_t start = Assign(*units[i], stored.offset, *event, rows, due);
      if (i == 0) window_start = start;
    }
    if (rows && !event->request_id.empty()) {
      PredictionSummary s;
      s.deployment_id = event->deployment_id;
      s.request_id = event->request_id;
      s.offset = stored.offset;
      s.timestamp_ms = event->timestamp_ms;
      s.config_id = units[0]->entry->record.id;
      s.window_start_ms = window_start;
      bj::array predictions;
      for (const Cell& c : rows->predictions) predictions.push_back(CellJson(c));
      s.prediction_json = bj::serialize(predictions);
      if (rows->scores.size() == 1) s.score = rows->scores[0];
      s.subject_id = event->subject_id;
      summaries[event->tenant].push_back(std::move(s));
    }
  }
  state.next_offset = page.next_offset;
  if (events_metric_ != nullptr) {
    events_metric_->Increment(static_cast<double>(page.events.size()));
    if (StatusOr<int64_t> end = deps_.events.EndOffset(kTopic, partition); end.ok()) {
      state.lag = std::max<int64_t>(0, *end - state.next_offset);
      int64_t lag = 0;
      for (const auto& [p, other] : partitions_) lag += other.lag;
      lag_metric_->Set(static_cast<double>(lag));
    }
  }
  for (auto& [tenant, batch] : summaries) {
    StatusOr<std::vector<PredictionSummary>> joined = deps_.store.AddPredictions(tenant, batch);
    if (!joined.ok()) {
      spdlog::warn("monitor: storing prediction summaries failed: {}", joined.status().message());
    } else if (!joined->empty()) {
      LabelsJoined(tenant, std::move(*joined));
    }
  }
  for (auto& [unit, window] : due) Close(*unit, std::move(window));
  state.caught_up = static_cast<int>(page.events.size()) < options_.read_batch;
  Commit(partition);
  return static_cast<int>(page.events.size());
}

int64_t MonitorService::Assign(Unit& unit, int64_t offset, const stream::PredictionEvent& event,
                               const std::optional<EventRows>& rows,
                               std::vector<std::pair<Unit*, OpenWindow>>& due) {
  const DriftConfig& config = unit.entry->config;
  const int64_t ts = event.timestamp_ms;
  bool late = false;
  if (config.window_duration) {
    int64_t start = WindowStartFor(config, ts);
    if (unit.open && start > unit.open->start_ms) {
      due.emplace_back(&unit, std::move(*unit.open));
      unit.open.reset();
    }
    if (unit.open && start < unit.open->start_ms) late = true;
    if (!unit.open && start < unit.last_end_ms) {
      late = true;
      start = unit.last_end_ms - (unit.last_end_ms % config.window_duration->count());
    }
    if (!unit.open) {
      OpenWindow w;
      w.start_ms = start;
      w.end_ms = start + config.window_duration->count();
      w.first_offset = offset;
      unit.open = std::move(w);
    }
  } else if (!unit.open) {
    // Windows are stored by (config, deployment, start), so a size window starts no earlier
    // than the previous one ended: a burst within one millisecond fills several windows that
    // must not replace each other.
    int64_t start = std::max(ts, unit.last_end_ms);
    for (const auto& [closing_unit, closing] : due) {
      if (closing_unit == &unit) start = std::max(start, closing.end_ms);
    }
    OpenWindow w;
    w.start_ms = start;
    w.first_offset = offset;
    unit.open = std::move(w);
  }
  OpenWindow& w = *unit.open;
  if (!w.sample) w.sample = std::make_unique<WindowSample>(options_.window_sample_rows, ++seed_);
  w.last_offset = offset;
  WindowCounters& c = w.counters;
  if (c.requests == 0) c.first_timestamp_ms = ts;
  c.last_timestamp_ms = std::max(c.last_timestamp_ms, ts);
  c.model_version = event.model_version;
  ++c.requests;
  if (late) ++c.late;
  if (event.status_code >= 400) ++c.errors;
  const double latency_ms = static_cast<double>(event.latency_us) / 1000.0;
  if (c.latencies_ms.size() < options_.window_sample_rows) {
    c.latencies_ms.push_back(latency_ms);
  } else {
    // A uniform reservoir over the window's requests (xorshift: cheap, and good enough here).
    c.sample_state ^= c.sample_state << 13;
    c.sample_state ^= c.sample_state >> 7;
    c.sample_state ^= c.sample_state << 17;
    const uint64_t slot = c.sample_state % static_cast<uint64_t>(c.requests);
    if (slot < c.latencies_ms.size()) c.latencies_ms[slot] = latency_ms;
  }
  if (rows) {
    c.rows += static_cast<int64_t>(rows->rows);
    w.sample->AddRows(*rows);
    FeedReferenceBuilder(unit, *rows);
  } else if (event.status_code < 400) {
    ++c.unreadable;
  }
  const int64_t start = w.start_ms;
  if (config.window_size && c.requests >= *config.window_size) {
    w.end_ms = std::max(c.last_timestamp_ms, w.start_ms) + 1;
    due.emplace_back(&unit, std::move(*unit.open));
    unit.open.reset();
  }
  return start;
}

Status MonitorService::PollLabels(int partition) {
  PartitionState& state = partitions_.at(partition);
  if (!state.labels) return Status::Ok();
  ASSIGN_OR_RETURN(stream::ReadResult page,
                   deps_.events.Read(stream::kLabelsTopic,
                                     stream::ReadOptions{.partition = partition,
                                                         .from_offset = state.labels_next,
                                                         .max_events = options_.read_batch}));
  for (const stream::StoredEvent& stored : page.events) ApplyLoggedLabels(stored, partition);
  state.labels_next = page.next_offset;
  if (state.labels_next != state.labels_committed) {
    // Outside the group (its own consumer name): applying a label twice after a takeover feeds
    // a detector one error twice; the windows' performance is recomputed from the store.
    RETURN_IF_ERROR(deps_.events.CommitOffset(LabelsConsumer(), stream::kLabelsTopic, partition,
                                              state.labels_next));
    state.labels_committed = state.labels_next;
  }
  return Status::Ok();
}

void MonitorService::CloseDue() {
  const int64_t now = deps_.clock.NowMillis();
  std::set<int> closed_in;
  for (auto& [key, unit] : units_) {
    if (!unit->open || !unit->entry->config.window_duration) continue;
    // A partition still behind may hold more events of the window.
    auto state = partitions_.find(unit->partition);
    if (state == partitions_.end() || !state->second.caught_up) continue;
    if (now >= unit->open->end_ms + options_.close_grace.count()) {
      OpenWindow w = std::move(*unit->open);
      unit->open.reset();
      Close(*unit, std::move(w));
      closed_in.insert(unit->partition);
    }
  }
  for (int partition : closed_in) Commit(partition);
}

void MonitorService::RefreshReference(Unit& unit) {
  StatusOr<metadata::ReferenceRecord> newest =
      deps_.store.GetReference(unit.tenant, unit.deployment_id, std::nullopt, false);
  if (!newest.ok()) return;
  if (newest->version == unit.reference_version && unit.reference) return;
  StatusOr<metadata::ReferenceRecord> full =
      deps_.store.GetReference(unit.tenant, unit.deployment_id, newest->version, true);
  if (!full.ok()) return;
  StatusOr<ReferenceProfile> profile = DecodeProfile(full->profile);
  if (!profile.ok()) {
    spdlog::error("monitor: reference {} v{} is unreadable: {}", unit.deployment_id, full->version,
                  profile.status().message());
    return;
  }
  unit.reference = std::make_shared<const ReferenceProfile>(std::move(*profile));
  unit.reference_version = full->version;
}

void MonitorService::FeedReferenceBuilder(Unit& unit, const EventRows& rows) {
  const int64_t wanted = unit.entry->config.reference_from_predictions;
  if (wanted <= 0) return;
  if (!unit.reference_checked) {
    unit.reference_checked = true;
    auto existing = deps_.store.GetReference(unit.tenant, unit.deployment_id, std::nullopt, false);
    if (existing.ok()) return;
    unit.reference_builder = std::make_unique<WindowSample>(static_cast<size_t>(wanted), ++seed_);
  }
  if (!unit.reference_builder) return;
  unit.reference_builder->AddRows(rows);
  if (unit.reference_builder->rows_seen() < wanted) return;
  std::unique_ptr<WindowSample> sample = std::move(unit.reference_builder);
  std::vector<NamedColumn> columns;
  KindHints hints;
  if (auto deployment = deps_.deployments.GetDeployment(unit.tenant, unit.deployment_id);
      deployment.ok()) {
    hints = HintsFor(unit.tenant, *deployment);
  }
  for (const std::string& name : sample->names()) {
    auto hint = hints.find(name);
    ColumnValues numeric = sample->Values(name, FeatureKind::kNumeric);
    ColumnValues categorical = sample->Values(name, FeatureKind::kCategorical);
    const bool is_numeric = hint != hints.end() ? hint->second == FeatureKind::kNumeric
                                                : numeric.missing == categorical.missing;
    columns.push_back(NamedColumn{name, is_numeric ? std::move(numeric) : std::move(categorical)});
  }
  ColumnValues predictions = sample->PredictionValues(FeatureKind::kNumeric);
  ColumnValues predicted_text = sample->PredictionValues(FeatureKind::kCategorical);
  if (predicted_text.size() > 0) {
    columns.push_back(NamedColumn{unit.entry->config.prediction_column,
                                  predictions.missing == predicted_text.missing
                                      ? std::move(predictions)
                                      : std::move(predicted_text)});
  }
  StatusOr<ReferenceProfile> profile = BuildProfile(std::move(columns));
  if (!profile.ok()) {
    spdlog::warn("monitor: building a reference for {} from predictions failed: {}",
                 unit.deployment_id, profile.status().message());
    return;
  }
  profile->source = "predictions";
  profile->source_detail = "first " + std::to_string(wanted) + " predictions";
  profile->created_ms = deps_.clock.NowMillis();
  metadata::ReferenceRecord record{.deployment_id = unit.deployment_id,
                                   .source = profile->source,
                                   .summary_json = ProfileSummaryJson(*profile),
                                   .profile = EncodeProfile(*profile),
                                   .created_at_ms = profile->created_ms};
  StatusOr<int64_t> version = deps_.store.AddReference(unit.tenant, record);
  if (version.ok()) {
    spdlog::info("monitor: reference v{} for deployment {} built from {} predictions", *version,
                 unit.deployment_id, wanted);
  }
}

void MonitorService::Close(Unit& unit, OpenWindow window) {
  const ConfigEntry& entry = *unit.entry;
  RefreshReference(unit);
  const int64_t duration = window.end_ms - window.start_ms;
  const auto compute_start = std::chrono::steady_clock::now();
  bj::object results = WindowResults(entry.config, unit.reference.get(), unit.reference_version,
                                     *window.sample, window.counters, duration > 0 ? duration : 1);
  results["compute_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - compute_start)
          .count();
  auto labeled = deps_.store.LabeledPredictions(unit.tenant, entry.record.id, unit.deployment_id,
                                                window.start_ms);
  if (labeled.ok() && !labeled->empty()) {
    const PerformanceRule* rule = entry.config.performance ? &*entry.config.performance : nullptr;
    results["performance"] = PerformanceJson(ComputePerformance(
        Expand(*labeled), rule ? rule->task : "", rule ? rule->positive_label : "1"));
  }
  metadata::WindowRecord record{.config_id = entry.record.id,
                                .deployment_id = unit.deployment_id,
                                .model_name = unit.model_name,
                                .model_version = window.counters.model_version,
                                .start_ms = window.start_ms,
                                .end_ms = window.end_ms,
                                .closed_at_ms = deps_.clock.NowMillis(),
                                .predictions = window.counters.requests,
                                .results_json = bj::serialize(results)};
  const int64_t previous_through = unit.closed_through;
  const int64_t previous_end = unit.last_end_ms;
  unit.closed_through = std::max(unit.closed_through, window.last_offset);
  unit.last_end_ms = std::max(unit.last_end_ms, window.end_ms);
  Status stored = deps_.store.PutWindow(unit.tenant, record, UnitState(unit));
  if (!stored.ok()) {
    // Kept and stored again on the next poll; the committed offset stays before it, so a
    // restart meanwhile re-reads it.
    unit.closed_through = previous_through;
    unit.last_end_ms = previous_end;
    spdlog::error("monitor: storing window {} of {} failed (retrying): {}", window.start_ms,
                  unit.deployment_id, stored.message());
    unstored_.push_back(Unstored{.key = UnitKey(entry.record.id, unit.deployment_id),
                                 .partition = unit.partition,
                                 .window = std::move(window)});
    return;
  }
  if (windows_metric_ != nullptr) windows_metric_->Increment();
  EvaluateWindow(unit, record, results);
  unit.concept_fired_in_window = false;
}

void MonitorService::Commit(int partition) {
  auto state = partitions_.find(partition);
  if (state == partitions_.end()) return;
  int64_t offset = state->second.next_offset;
  for (const auto& [key, unit] : units_) {
    if (unit->open && unit->partition == partition) {
      offset = std::min(offset, unit->open->first_offset);
    }
  }
  for (const Unstored& item : unstored_) {
    if (item.partition == partition) offset = std::min(offset, item.window.first_offset);
  }
  if (offset == state->second.committed) return;
  // Through the lease: a member that lost the partition cannot move its successor's offset.
  Status committed = lease_
                         ? lease_->Commit(partition, offset)
                         : deps_.events.CommitOffset(options_.consumer, kTopic, partition, offset);
  if (committed.ok()) {
    state->second.committed = offset;
  } else {
    spdlog::warn("monitor: committing offset {} of partition {} failed: {}", offset, partition,
                 committed.message());
  }
}

void MonitorService::Retain() {
  if (options_.retention.count() <= 0) return;
  const int64_t now = deps_.clock.NowMillis();
  if (now - last_retention_ms_ < options_.retention_check.count()) return;
  last_retention_ms_ = now;
  const int64_t before = now - options_.retention.count();
  StatusOr<int64_t> removed = deps_.store.DeletePredictionsBefore(before);
  Status events = deps_.events.DeleteBefore(kTopic, before);
  if (!removed.ok() || !events.ok()) {
    spdlog::warn("monitor: retention failed: {} {}", removed.status().message(), events.message());
  } else if (*removed > 0) {
    spdlog::info("monitor: retention removed {} predictions older than {} ms", *removed,
                 options_.retention.count());
  }
}

std::vector<LabeledPrediction> MonitorService::Expand(const std::vector<PredictionSummary>& rows) {
  std::vector<LabeledPrediction> out;
  for (const PredictionSummary& s : rows) {
    if (!s.label_json) continue;
    bj::error_code ec;
    bj::value predictions = bj::parse(s.prediction_json, ec);
    if (ec || !predictions.is_array()) continue;
    bj::value label = bj::parse(*s.label_json, ec);
    if (ec) continue;
    const bj::array& p = predictions.get_array();
    if (label.is_array()) {
      const bj::array& l = label.get_array();
      for (size_t i = 0; i < std::min(p.size(), l.size()); ++i) {
        out.push_back(LabeledPrediction{CellFromJson(p[i]), CellFromJson(l[i]), std::nullopt});
      }
    } else if (!p.empty()) {
      out.push_back(LabeledPrediction{CellFromJson(p[0]), CellFromJson(label),
                                      p.size() == 1 ? s.score : std::nullopt});
    }
  }
  return out;
}

}  // namespace cairn::monitor
