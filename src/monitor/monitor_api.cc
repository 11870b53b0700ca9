// MonitorService: the entry points of the API (configurations, references, feedback, metrics,
// alerts, erasure).

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "monitor/monitor_service.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;
using metadata::PredictionSummary;

constexpr size_t kMaxFeedbackLabels = 10'000;
constexpr size_t kMaxRequestIdBytes = 256;
constexpr size_t kMaxLabelBytes = 64 * 1024;

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

StatusOr<metadata::LabelInput> ParseLabelInput(const bj::value& v) {
  if (!v.is_object()) return InvalidArgument("each label must be an object");
  const bj::object& o = v.get_object();
  for (const auto& [key, unused] : o) {
    if (key != "request_id" && key != "label" && key != "deployment") {
      return InvalidArgument("unknown field '" + std::string(key) + "' in a label");
    }
  }
  const bj::value* id = o.if_contains("request_id");
  if (id == nullptr || !id->is_string() || id->get_string().empty() ||
      id->get_string().size() > kMaxRequestIdBytes) {
    return InvalidArgument(
        "each label needs a request_id (a non-empty string of at most 256 bytes)");
  }
  const bj::value* label = o.if_contains("label");
  if (label == nullptr || label->is_null() || label->is_object()) {
    return InvalidArgument("label of request '" + std::string(id->get_string()) +
                           "' must be a number, string, boolean or a list of them");
  }
  if (label->is_array()) {
    for (const bj::value& e : label->get_array()) {
      if (e.is_array() || e.is_object()) {
        return InvalidArgument("label of request '" + std::string(id->get_string()) +
                               "' must be a flat list");
      }
    }
  }
  metadata::LabelInput input;
  input.request_id = std::string(id->get_string());
  input.label_json = bj::serialize(*label);
  if (input.label_json.size() > kMaxLabelBytes) {
    return InvalidArgument("label of request '" + input.request_id + "' is too large");
  }
  if (const bj::value* d = o.if_contains("deployment")) {
    if (!d->is_string()) return InvalidArgument("deployment must be a string");
    input.deployment_id = std::string(d->get_string());
  }
  return input;
}

}  // namespace

bj::object MonitorService::WindowJson(const metadata::WindowRecord& w) {
  bj::object o;
  o["config_id"] = w.config_id;
  o["deployment_id"] = w.deployment_id;
  o["model_name"] = w.model_name;
  o["model_version"] = w.model_version;
  o["start_ms"] = w.start_ms;
  o["end_ms"] = w.end_ms;
  o["closed_at_ms"] = w.closed_at_ms;
  o["predictions"] = w.predictions;
  bj::error_code ec;
  bj::value results = bj::parse(w.results_json, ec);
  o["results"] = ec ? bj::value(bj::object()) : std::move(results);
  return o;
}

StatusOr<metadata::DeploymentRecord> MonitorService::FindDeployment(const RequestScope& scope,
                                                                    std::string_view id_or_name) {
  return deps_.deployments.GetDeployment(scope.tenant, id_or_name);
}

KindHints MonitorService::HintsFor(std::string_view tenant,
                                   const metadata::DeploymentRecord& deployment) {
  std::optional<ModelSchema> schema = deps_.schemas(tenant, deployment.id, deployment.name);
  if (!schema || !schema->signature || schema->signature->tensor_based) return {};
  return KindHintsFromSignature(*schema->signature);
}

StatusOr<metadata::DriftConfigRecord> MonitorService::PutDriftConfig(const RequestScope& scope,
                                                                     std::string_view model_name,
                                                                     std::string_view body) {
  ASSIGN_OR_RETURN(DriftConfig config, ParseDriftConfig(body));
  metadata::DriftConfigRecord record;
  record.model_name = std::string(model_name);
  if (config.deployment) {
    ASSIGN_OR_RETURN(metadata::DeploymentRecord deployment,
                     deps_.deployments.GetDeployment(scope.tenant, *config.deployment));
    if (deployment.model_name != model_name) {
      return InvalidArgument("Deployment '" + *config.deployment + "' serves model '" +
                             deployment.model_name + "', not '" + std::string(model_name) + "'");
    }
    record.deployment_id = deployment.id;
  }
  record.id = "dc-" + deps_.ids.Hex32();
  record.spec_json = std::string(body);
  record.created_at_ms = record.updated_at_ms = deps_.clock.NowMillis();
  ASSIGN_OR_RETURN(metadata::DriftConfigRecord stored,
                   deps_.store.PutDriftConfig(scope.tenant, record));
  auto entry = std::make_shared<ConfigEntry>(
      ConfigEntry{.tenant = scope.tenant, .record = stored, .config = std::move(config)});
  {
    MutexLock lock(mu_);
    InstallConfig(std::move(entry));
  }
  spdlog::info("drift configuration {} for model {} ({}) saved", stored.id, model_name,
               stored.deployment_id.empty() ? "every deployment" : stored.deployment_id);
  return stored;
}

StatusOr<std::vector<metadata::DriftConfigRecord>> MonitorService::ListDriftConfigs(
    const RequestScope& scope, std::string_view model_name) {
  return deps_.store.ListDriftConfigs(scope.tenant, model_name);
}

Status MonitorService::DeleteDriftConfig(const RequestScope& scope, std::string_view model_name,
                                         std::string_view id) {
  ASSIGN_OR_RETURN(auto configs, deps_.store.ListDriftConfigs(scope.tenant, model_name));
  if (std::none_of(configs.begin(), configs.end(), [&](const auto& c) { return c.id == id; })) {
    return NotFound("Drift configuration '" + std::string(id) + "' not found for model '" +
                    std::string(model_name) + "'");
  }
  RETURN_IF_ERROR(deps_.store.DeleteDriftConfig(scope.tenant, id));
  // Its firing alerts end with it: nothing will ever resolve them otherwise.
  metadata::AlertFilter firing;
  firing.state = "firing";
  firing.limit = 10'000;
  if (auto alerts = deps_.store.ListAlerts(scope.tenant, firing); alerts.ok()) {
    const int64_t now = deps_.clock.NowMillis();
    for (metadata::AlertRecord& alert : *alerts) {
      if (alert.config_id != id) continue;
      alert.state = "resolved";
      alert.resolved_at_ms = alert.updated_at_ms = now;
      Status resolved = deps_.store.PutAlert(scope.tenant, alert);
      if (!resolved.ok()) spdlog::warn("resolving alert {} failed", alert.id);
    }
  }
  MutexLock lock(mu_);
  RemoveConfig(scope.tenant, id);
  return Status::Ok();
}

void MonitorService::InstallConfig(std::shared_ptr<const ConfigEntry> entry) {
  const metadata::DriftConfigRecord& stored = entry->record;
  auto& list = configs_[entry->tenant];
  std::erase_if(list, [&](const auto& e) { return e->record.id == stored.id; });
  list.push_back(entry);
  for (auto& [key, unit] : units_) {
    if (key.first != stored.id) continue;
    const bool same_shape = unit->entry->config.window_duration == entry->config.window_duration &&
                            unit->entry->config.window_size == entry->config.window_size;
    if (!same_shape) unit->open.reset();  // the open window no longer fits: start afresh
    const auto& before = unit->entry->config.concept_drift;
    const auto& after = entry->config.concept_drift;
    const bool same_detector = before.has_value() == after.has_value() &&
                               (!before || (before->detector == after->detector &&
                                            before->params_json == after->params_json));
    if (!same_detector) {
      unit->detector.reset();
      if (after) {
        auto created = CreateDetector(after->detector, after->params_json);
        if (created.ok()) unit->detector = std::move(*created);
      }
    }
    unit->entry = entry;
  }
}

void MonitorService::RemoveConfig(const std::string& tenant, std::string_view id) {
  if (auto it = configs_.find(tenant); it != configs_.end()) {
    std::erase_if(it->second, [&](const auto& e) { return e->record.id == id; });
  }
  std::erase_if(units_, [&](const auto& item) { return item.first.first == id; });
}

StatusOr<metadata::ReferenceRecord> MonitorService::AddReference(
    const RequestScope& scope, const metadata::DeploymentRecord& deployment,
    std::vector<NamedColumn> columns, std::string_view source, std::string_view source_detail) {
  if (columns.empty()) return InvalidArgument("The reference dataset has no columns");
  ASSIGN_OR_RETURN(ReferenceProfile profile, BuildProfile(std::move(columns)));
  if (profile.row_count == 0) return InvalidArgument("The reference dataset has no rows");
  profile.source = std::string(source);
  profile.source_detail = std::string(source_detail);
  profile.created_ms = deps_.clock.NowMillis();
  metadata::ReferenceRecord record{.deployment_id = deployment.id,
                                   .source = profile.source,
                                   .summary_json = ProfileSummaryJson(profile),
                                   .profile = EncodeProfile(profile),
                                   .created_at_ms = profile.created_ms};
  ASSIGN_OR_RETURN(record.version, deps_.store.AddReference(scope.tenant, record));
  record.profile.clear();
  return record;
}

void MonitorService::FeedDetector(const std::string& tenant, Unit& unit,
                                  const PredictionSummary& s) {
  if (!unit.detector) return;
  const PerformanceRule* rule =
      unit.entry->config.performance ? &*unit.entry->config.performance : nullptr;
  for (const LabeledPrediction& row : Expand({s})) {
    double error = 0;
    if (rule != nullptr && rule->task == "regression") {
      if (row.label.type != Cell::Type::kNumber || row.prediction.type != Cell::Type::kNumber) {
        continue;
      }
      error = std::abs(row.prediction.number - row.label.number);
    } else {
      error = CellKey(row.label) == CellKey(row.prediction) ? 0 : 1;
    }
    unit.detector->Update(error);
    if (unit.detector->drift_detected()) {
      unit.concept_fired_in_window = true;
      bj::object details;
      details["detector"] = unit.detector->name();
      details["params"] = unit.entry->config.concept_drift->params_json;
      details["request_id"] = s.request_id;
      details["window_start_ms"] = s.window_start_ms;
      Verdict(unit, "concept_drift", true, s.window_start_ms, std::move(details));
    }
  }
  Status saved = deps_.store.PutMonitorState(tenant, unit.entry->record.id, unit.deployment_id,
                                             UnitState(unit));
  if (!saved.ok()) spdlog::warn("monitor: saving detector state failed: {}", saved.message());
}

int MonitorService::LabelsJoined(const std::string& tenant, std::vector<PredictionSummary> joined) {
  // Concept-drift detectors see the error stream in the order labels arrive.
  std::set<std::tuple<std::string, std::string, int64_t>> windows;
  for (const PredictionSummary& s : joined) {
    windows.emplace(s.config_id, s.deployment_id, s.window_start_ms);
    auto unit_it = units_.find(UnitKey(s.config_id, s.deployment_id));
    if (unit_it != units_.end()) FeedDetector(tenant, *unit_it->second, s);
  }
  // Closed windows get their performance again; open ones compute it when they close.
  int updated = 0;
  for (const auto& [config_id, deployment_id, start] : windows) {
    StatusOr<metadata::WindowRecord> window =
        deps_.store.GetWindow(tenant, config_id, deployment_id, start);
    if (!window.ok()) continue;
    auto labeled = deps_.store.LabeledPredictions(tenant, config_id, deployment_id, start);
    if (!labeled.ok()) continue;
    auto unit_it = units_.find(UnitKey(config_id, deployment_id));
    const PerformanceRule* rule = nullptr;
    if (unit_it != units_.end() && unit_it->second->entry->config.performance) {
      rule = &*unit_it->second->entry->config.performance;
    }
    bj::error_code ec;
    bj::value results = bj::parse(window->results_json, ec);
    if (ec || !results.is_object()) continue;
    results.get_object()["performance"] = PerformanceJson(ComputePerformance(
        Expand(*labeled), rule ? rule->task : "", rule ? rule->positive_label : "1"));
    window->results_json = bj::serialize(results);
    if (!deps_.store
             .UpdateWindowResults(tenant, config_id, deployment_id, start, window->results_json)
             .ok()) {
      continue;
    }
    ++updated;
    if (unit_it != units_.end()) {
      EvaluateWindow(*unit_it->second, *window, results.get_object(), /*performance_only=*/true);
    }
  }
  return updated;
}

int MonitorService::ApplyLoggedLabels(const stream::StoredEvent& stored, int partition) {
  bj::error_code ec;
  bj::value v = bj::parse(stored.event.payload, ec);
  if (ec || !v.is_object()) return 0;
  const bj::object& o = v.get_object();
  const bj::value* applied = o.if_contains("applied");
  const bj::value* joined = o.if_contains("joined");
  if (applied == nullptr || !applied->is_bool() || applied->get_bool() || joined == nullptr ||
      !joined->is_array()) {
    return 0;
  }
  const std::string& tenant = stored.event.tenant;
  const std::string request_id = o.contains("request_id") && o.at("request_id").is_string()
                                     ? std::string(o.at("request_id").get_string())
                                     : std::string();
  int applied_count = 0;
  for (const bj::value& item : joined->get_array()) {
    if (!item.is_object()) continue;
    const bj::object& j = item.get_object();
    auto text = [&](const char* name) {
      const bj::value* f = j.if_contains(name);
      return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
    };
    PredictionSummary s;
    s.config_id = text("config_id");
    s.deployment_id = text("deployment_id");
    s.request_id = request_id;
    s.prediction_json = text("prediction_json");
    s.label_json = text("label_json");
    if (const bj::value* w = j.if_contains("window_start_ms"); w != nullptr && w->is_int64()) {
      s.window_start_ms = w->get_int64();
    }
    Unit* unit = UnitForLabel(tenant, s.config_id, s.deployment_id, partition);
    if (unit == nullptr) continue;
    FeedDetector(tenant, *unit, s);
    // The window's performance was stored again by the process that took the label.
    StatusOr<metadata::WindowRecord> window =
        deps_.store.GetWindow(tenant, s.config_id, s.deployment_id, s.window_start_ms);
    if (window.ok()) {
      bj::value results = bj::parse(window->results_json, ec);
      if (!ec && results.is_object()) {
        EvaluateWindow(*unit, *window, results.get_object(), /*performance_only=*/true);
      }
    }
    ++applied_count;
  }
  return applied_count;
}

MonitorService::Unit* MonitorService::UnitForLabel(const std::string& tenant,
                                                   const std::string& config_id,
                                                   const std::string& deployment_id,
                                                   int partition) {
  if (auto it = units_.find(UnitKey(config_id, deployment_id)); it != units_.end()) {
    return it->second.get();
  }
  auto configs = configs_.find(tenant);
  if (configs == configs_.end()) return nullptr;
  auto entry = std::find_if(configs->second.begin(), configs->second.end(),
                            [&](const auto& e) { return e->record.id == config_id; });
  if (entry == configs->second.end()) return nullptr;
  StatusOr<metadata::DeploymentRecord> deployment =
      deps_.deployments.GetDeployment(tenant, deployment_id);
  if (!deployment.ok()) return nullptr;
  stream::PredictionEvent event;
  event.tenant = tenant;
  event.deployment_id = deployment_id;
  event.deployment_name = deployment->name;
  event.model_name = deployment->model_name;
  return UnitFor(*entry, event, partition);
}

void MonitorService::LogLabels(const std::string& tenant,
                               const std::vector<metadata::LabelInput>& labels,
                               const std::vector<metadata::LabelMatch>& matches,
                               const std::set<std::string>& applied) {
  std::map<std::string_view, const metadata::LabelMatch*> match_of;
  for (const metadata::LabelMatch& m : matches) match_of.emplace(m.request_id, &m);
  std::map<std::string_view, const PredictionSummary*> by_request;
  for (const metadata::LabelMatch& m : matches) {
    if (!m.matched.empty()) by_request.emplace(m.request_id, &m.matched.front());
  }
  const int64_t now = deps_.clock.NowMillis();
  for (const metadata::LabelInput& label : labels) {
    auto found = by_request.find(label.request_id);
    const PredictionSummary* prediction = found == by_request.end() ? nullptr : found->second;
    stream::Event event{.tenant = tenant, .timestamp_ms = now};
    // Keyed like the predictions (deployment id), and with their subject, so deleting the
    // deployment or erasing the subject removes the label too.
    if (prediction != nullptr) {
      event.key = prediction->deployment_id;
      event.subject_id = prediction->subject_id;
    } else if (label.deployment_id) {
      event.key = *label.deployment_id;
    }
    bj::object payload;
    payload["v"] = 1;
    payload["request_id"] = label.request_id;
    bj::error_code ec;
    payload["label"] = bj::parse(label.label_json, ec);
    if (ec) payload["label"] = label.label_json;
    payload["deployment_id"] = event.key;
    payload["matched"] = prediction != nullptr;
    // What the monitor that owns the deployment's partition needs to feed its detector and
    // judge the windows again, unless this process owned it and did so already.
    payload["applied"] = applied.contains(label.request_id);
    bj::array joined;
    if (auto m = match_of.find(label.request_id); m != match_of.end()) {
      for (const PredictionSummary& s : m->second->matched) {
        bj::object j;
        j["config_id"] = s.config_id;
        j["deployment_id"] = s.deployment_id;
        j["window_start_ms"] = s.window_start_ms;
        j["prediction_json"] = s.prediction_json;
        j["label_json"] = s.label_json.value_or("null");
        joined.push_back(std::move(j));
      }
    }
    payload["joined"] = std::move(joined);
    event.payload = bj::serialize(payload);
    deps_.labels->Log(std::move(event));  // a full queue drops and counts
  }
}

StatusOr<bj::object> MonitorService::Feedback(const RequestScope& scope, std::string_view body) {
  bj::error_code ec;
  bj::value root = bj::parse(body, ec);
  if (ec || !root.is_object()) return InvalidArgument("The body must be a JSON object");
  std::vector<metadata::LabelInput> labels;
  if (const bj::value* list = root.get_object().if_contains("labels")) {
    if (!list->is_array()) return InvalidArgument("labels must be a list");
    if (list->get_array().empty()) return InvalidArgument("labels is empty");
    if (list->get_array().size() > kMaxFeedbackLabels) {
      return InvalidArgument("At most 10000 labels per request");
    }
    for (const bj::value& item : list->get_array()) {
      ASSIGN_OR_RETURN(metadata::LabelInput input, ParseLabelInput(item));
      labels.push_back(std::move(input));
    }
  } else {
    ASSIGN_OR_RETURN(metadata::LabelInput input, ParseLabelInput(root));
    labels.push_back(std::move(input));
  }
  // A deployment named by the caller is resolved to its id (names are what people know).
  for (metadata::LabelInput& label : labels) {
    if (!label.deployment_id) continue;
    ASSIGN_OR_RETURN(metadata::DeploymentRecord d,
                     deps_.deployments.GetDeployment(scope.tenant, *label.deployment_id));
    label.deployment_id = d.id;
  }
  ASSIGN_OR_RETURN(std::vector<metadata::LabelMatch> matches,
                   deps_.store.AttachLabels(scope.tenant, labels, deps_.clock.NowMillis()));
  std::vector<PredictionSummary> joined;
  bj::array pending;
  int64_t matched = 0;
  for (metadata::LabelMatch& m : matches) {
    if (m.matched.empty()) {
      pending.push_back(bj::value(m.request_id));
      continue;
    }
    ++matched;
    for (const PredictionSummary& s : m.matched) joined.push_back(s);
  }
  int updated = 0;
  std::set<std::string> applied;  // labels whose units this monitor holds
  {
    MutexLock lock(mu_);
    for (const PredictionSummary& s : joined) {
      if (units_.contains(UnitKey(s.config_id, s.deployment_id))) applied.insert(s.request_id);
    }
    updated = LabelsJoined(scope.tenant, std::move(joined));
  }
  if (deps_.labels != nullptr) LogLabels(scope.tenant, labels, matches, applied);
  bj::object out;
  out["received"] = static_cast<int64_t>(labels.size());
  out["matched"] = matched;
  out["pending"] = std::move(pending);
  out["windows_updated"] = updated;
  return out;
}

StatusOr<bj::object> MonitorService::Metrics(const RequestScope& scope, std::string_view model_name,
                                             std::string_view deployment, int64_t from_ms,
                                             int64_t to_ms, int limit) {
  std::string deployment_id;
  if (!deployment.empty()) {
    ASSIGN_OR_RETURN(metadata::DeploymentRecord d,
                     deps_.deployments.GetDeployment(scope.tenant, deployment));
    deployment_id = d.id;
  }
  ASSIGN_OR_RETURN(auto windows, deps_.store.ListWindows(scope.tenant, model_name, deployment_id,
                                                         from_ms, to_ms, limit));
  bj::object out;
  out["model_name"] = model_name;
  bj::array list;
  for (const metadata::WindowRecord& w : windows) list.push_back(WindowJson(w));
  out["windows"] = std::move(list);
  return out;
}

StatusOr<bj::object> MonitorService::DeploymentStatus(const RequestScope& scope,
                                                      std::string_view deployment) {
  ASSIGN_OR_RETURN(metadata::DeploymentRecord d,
                   deps_.deployments.GetDeployment(scope.tenant, deployment));
  bj::object out;
  out["deployment_id"] = d.id;
  out["deployment_name"] = d.name;
  out["model_name"] = d.model_name;
  auto reference = deps_.store.GetReference(scope.tenant, d.id, std::nullopt, false);
  if (reference.ok()) {
    out["reference_version"] = reference->version;
    out["reference_source"] = reference->source;
  }
  bj::array configs;
  // The log's offsets and lag are server-wide (every tenant's traffic): /metrics shows them to
  // operators, not this tenant-scoped view.
  MutexLock lock(mu_);
  if (auto it = configs_.find(scope.tenant); it != configs_.end()) {
    for (const auto& entry : it->second) {
      const auto& r = entry->record;
      if (!(r.deployment_id == d.id || (r.deployment_id.empty() && r.model_name == d.model_name))) {
        continue;
      }
      bj::object c;
      c["config_id"] = r.id;
      bj::error_code ec;
      c["spec"] = bj::parse(RedactSecrets(r.spec_json), ec);
      auto unit = units_.find(UnitKey(r.id, d.id));
      if (unit != units_.end() && unit->second->open) {
        const OpenWindow& w = *unit->second->open;
        bj::object open;
        open["start_ms"] = w.start_ms;
        if (entry->config.window_duration) open["end_ms"] = w.end_ms;
        open["requests"] = w.counters.requests;
        open["rows"] = w.counters.rows;
        c["open_window"] = std::move(open);
      }
      if (unit == units_.end() && options_.publish_interval.count() > 0) {
        // Another process monitors the deployment: the open window as it last published it.
        auto state = deps_.store.GetMonitorState(scope.tenant, r.id, d.id);
        if (state.ok() && state->has_value()) {
          bj::error_code ec;
          bj::value v = bj::parse(**state, ec);
          if (!ec && v.is_object()) {
            if (const bj::value* open = v.get_object().if_contains("open_window")) {
              c["open_window"] = *open;
            }
          }
        }
      }
      if (unit != units_.end() && unit->second->reference_builder) {
        c["reference_building"] = unit->second->reference_builder->rows_seen();
      }
      configs.push_back(std::move(c));
    }
  }
  out["configs"] = std::move(configs);
  return out;
}

StatusOr<std::vector<metadata::AlertRecord>> MonitorService::Alerts(
    const RequestScope& scope, const metadata::AlertFilter& filter) {
  metadata::AlertFilter resolved = filter;
  if (filter.deployment_id && !filter.deployment_id->empty()) {
    ASSIGN_OR_RETURN(metadata::DeploymentRecord d,
                     deps_.deployments.GetDeployment(scope.tenant, *filter.deployment_id));
    resolved.deployment_id = d.id;
  }
  return deps_.store.ListAlerts(scope.tenant, resolved);
}

StatusOr<metadata::ReferenceRecord> MonitorService::Reference(const RequestScope& scope,
                                                              std::string_view deployment_id,
                                                              std::optional<int64_t> version) {
  return deps_.store.GetReference(scope.tenant, deployment_id, version, false);
}

StatusOr<std::vector<metadata::ReferenceRecord>> MonitorService::ReferenceVersions(
    const RequestScope& scope, std::string_view deployment_id) {
  return deps_.store.ListReferences(scope.tenant, deployment_id);
}

StatusOr<metadata::AlertRecord> MonitorService::Alert(const RequestScope& scope,
                                                      std::string_view id) {
  return deps_.store.GetAlert(scope.tenant, id);
}

StatusOr<metadata::AlertRecord> MonitorService::Acknowledge(const RequestScope& scope,
                                                            std::string_view id) {
  ASSIGN_OR_RETURN(metadata::AlertRecord alert, deps_.store.GetAlert(scope.tenant, id));
  if (alert.acknowledged_by.empty()) {
    alert.acknowledged_by = scope.principal;
    alert.acknowledged_at_ms = deps_.clock.NowMillis();
    alert.updated_at_ms = alert.acknowledged_at_ms;
    RETURN_IF_ERROR(deps_.store.PutAlert(scope.tenant, alert));
  }
  return alert;
}

StatusOr<std::vector<metadata::ActionRecord>> MonitorService::Actions(const RequestScope& scope,
                                                                      std::string_view alert_id,
                                                                      int limit) {
  return deps_.store.ListActions(scope.tenant, alert_id, "", "", limit);
}

StatusOr<bj::object> MonitorService::Erase(const RequestScope& scope, std::string_view subject_id,
                                           const std::vector<std::string>& tenants) {
  if (subject_id.empty() || subject_id.size() > 1024) {
    return InvalidArgument("subject_id must be a non-empty string of at most 1024 bytes");
  }
  const int64_t started = deps_.clock.NowMillis();
  const std::string receipt_id = "er-" + deps_.ids.Hex32();
  const std::string subject_hash = Sha256Hex(subject_id);
  bj::array done;
  int64_t summaries = 0;
  for (const std::string& tenant : tenants) {
    RETURN_IF_ERROR(deps_.events.DeleteBySubject(tenant, subject_id));
    ASSIGN_OR_RETURN(int64_t removed, deps_.store.DeleteSubject(tenant, subject_id));
    summaries += removed;
    bj::object t;
    t["tenant"] = tenant;
    t["prediction_summaries_removed"] = removed;
    done.push_back(std::move(t));
    // The receipt is kept in each tenant, naming the subject only by its SHA-256.
    bj::object detail;
    detail["receipt_id"] = receipt_id;
    detail["subject_sha256"] = subject_hash;
    detail["requested_by"] = scope.principal;
    detail["prediction_summaries_removed"] = removed;
    const int64_t now = deps_.clock.NowMillis();
    RecordAction(tenant, metadata::ActionRecord{.id = receipt_id + "." + tenant,
                                                .action = "erasure",
                                                .target = subject_hash,
                                                .status = "finished",
                                                .attempts = 1,
                                                .detail_json = bj::serialize(detail),
                                                .created_at_ms = now,
                                                .updated_at_ms = now});
  }
  spdlog::warn("erasure {}: subject sha256 {} removed from {} tenant(s) by {}", receipt_id,
               subject_hash, tenants.size(), scope.principal);
  bj::object receipt;
  receipt["receipt_id"] = receipt_id;
  receipt["subject_sha256"] = subject_hash;
  receipt["requested_by"] = scope.principal;
  receipt["requested_at_ms"] = started;
  receipt["completed_at_ms"] = deps_.clock.NowMillis();
  receipt["tenants"] = std::move(done);
  receipt["prediction_summaries_removed"] = summaries;
  receipt["event_log"] =
      "every event of the subject deleted, its bytes overwritten in the database files "
      "(secure_delete) and the write-ahead logs truncated";
  return receipt;
}

StatusOr<bj::object> MonitorService::Export(const RequestScope& scope,
                                            std::string_view subject_id) {
  if (subject_id.empty()) return InvalidArgument("subject_id is required");
  ASSIGN_OR_RETURN(auto summaries,
                   deps_.store.PredictionsOfSubject(scope.tenant, subject_id, 100'000));
  std::map<std::string, const PredictionSummary*> labels;
  for (const PredictionSummary& s : summaries) {
    if (s.label_json) labels[s.deployment_id + "/" + std::to_string(s.offset)] = &s;
  }
  bj::array predictions;
  // Every partition is read by offset; events of the subject are filtered by the subject.
  ASSIGN_OR_RETURN(int partitions, deps_.events.Partitions(stream::kPredictionsTopic));
  int partition = 0;
  int64_t offset = 0;
  while (partition < partitions) {
    ASSIGN_OR_RETURN(stream::ReadResult page,
                     deps_.events.Read(stream::kPredictionsTopic,
                                       stream::ReadOptions{.partition = partition,
                                                           .from_offset = offset,
                                                           .max_events = stream::kMaxReadEvents,
                                                           .tenant = scope.tenant}));
    for (const stream::StoredEvent& e : page.events) {
      if (e.event.subject_id != subject_id) continue;
      auto event = stream::DecodePredictionEvent(e.event.payload);
      if (!event.ok()) continue;
      bj::object o;
      o["partition"] = e.partition;
      o["offset"] = e.offset;
      o["deployment_id"] = event->deployment_id;
      o["deployment_name"] = event->deployment_name;
      o["model_name"] = event->model_name;
      o["model_version"] = event->model_version;
      o["request_id"] = event->request_id;
      o["timestamp_ms"] = event->timestamp_ms;
      bj::error_code ec;
      o["inputs"] =
          event->inputs_json.empty() ? bj::value(nullptr) : bj::parse(event->inputs_json, ec);
      o["outputs"] =
          event->outputs_json.empty() ? bj::value(nullptr) : bj::parse(event->outputs_json, ec);
      auto label = labels.find(event->deployment_id + "/" + std::to_string(e.offset));
      if (label != labels.end()) o["label"] = bj::parse(*label->second->label_json, ec);
      predictions.push_back(std::move(o));
    }
    offset = page.next_offset;
    if (static_cast<int>(page.events.size()) < stream::kMaxReadEvents) {
      ++partition;
      offset = 0;
    }
  }
  bj::object out;
  out["subject_id"] = subject_id;
  out["tenant"] = scope.tenant;
  out["predictions"] = std::move(predictions);
  return out;
}

}  // namespace cairn::monitor
