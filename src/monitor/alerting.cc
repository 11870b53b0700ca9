// MonitorService: alert rules over closed windows, notification sinks and retraining launches.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "monitor/monitor_service.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;
using metadata::ActionRecord;
using metadata::AlertRecord;

const bj::object* Object(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<double> Double(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

bool IsOk(const bj::object& block) {
  const bj::value* status = block.if_contains("status");
  return status != nullptr && status->is_string() && status->get_string() == "ok";
}

bool Flag(const bj::object& block, std::string_view key) {
  const bj::value* v = block.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

}  // namespace

bj::object MonitorService::AlertJson(const AlertRecord& a) {
  bj::object o;
  o["id"] = a.id;
  o["kind"] = a.kind;
  o["severity"] = a.severity;
  o["state"] = a.state;
  o["model_name"] = a.model_name;
  o["deployment_id"] = a.deployment_id;
  o["config_id"] = a.config_id;
  o["first_window_start_ms"] = a.first_window_start_ms;
  o["last_window_start_ms"] = a.last_window_start_ms;
  o["fired_at_ms"] = a.fired_at_ms;
  o["updated_at_ms"] = a.updated_at_ms;
  if (a.resolved_at_ms > 0) o["resolved_at_ms"] = a.resolved_at_ms;
  if (!a.acknowledged_by.empty()) {
    o["acknowledged_by"] = a.acknowledged_by;
    o["acknowledged_at_ms"] = a.acknowledged_at_ms;
  }
  bj::error_code ec;
  bj::value details = bj::parse(a.details_json, ec);
  o["details"] = ec ? bj::value(bj::object()) : std::move(details);
  return o;
}

void MonitorService::EvaluateWindow(Unit& unit, const metadata::WindowRecord& window,
                                    const bj::object& results, bool performance_only) {
  const DriftConfig& config = unit.entry->config;
  auto window_info = [&](bj::object details) {
    details["window_start_ms"] = window.start_ms;
    details["window_end_ms"] = window.end_ms;
    details["model_version"] = window.model_version;
    details["requests"] = window.predictions;
    return details;
  };
  const bj::object* drift = performance_only ? nullptr : Object(results, "data_drift");
  if (drift != nullptr && IsOk(*drift)) {
    bj::object details;
    details["share"] = drift->at("share");
    details["drift_share"] = config.drift_share;
    details["drifted"] = drift->at("drifted");
    details["total"] = drift->at("total");
    bj::object drifted;
    if (const bj::object* features = Object(*drift, "features")) {
      for (const auto& [name, value] : *features) {
        if (value.is_object() && Flag(value.get_object(), "drift")) drifted[name] = value;
      }
    }
    details["features"] = std::move(drifted);
    if (const bj::value* v = results.if_contains("reference_version")) {
      details["reference_version"] = *v;
    }
    Verdict(unit, "data_drift", Flag(*drift, "drift"), window.start_ms,
            window_info(std::move(details)));
  }
  const bj::object* prediction = performance_only ? nullptr : Object(results, "prediction_drift");
  if (prediction != nullptr && IsOk(*prediction)) {
    Verdict(unit, "prediction_drift", Flag(*prediction, "drift"), window.start_ms,
            window_info(bj::object(*prediction)));
  }
  if (config.performance) {
    const PerformanceRule& rule = *config.performance;
    if (const bj::object* perf = Object(results, "performance")) {
      const std::optional<double> labels = Double(*perf, "labels");
      const std::optional<double> value = Double(*perf, rule.metric);
      if (labels && value && *labels >= static_cast<double>(rule.min_labels)) {
        const bool firing = (rule.min && *value < *rule.min) || (rule.max && *value > *rule.max);
        bj::object details(*perf);
        details["metric"] = rule.metric;
        if (rule.min) details["min"] = *rule.min;
        if (rule.max) details["max"] = *rule.max;
        Verdict(unit, "performance", firing, window.start_ms, window_info(std::move(details)));
      }
    }
  }
  if (performance_only) return;
  const std::optional<double> requests = Double(results, "requests");
  if (config.max_error_rate && requests && *requests > 0) {
    const double rate = Double(results, "error_rate").value_or(0);
    bj::object details;
    details["error_rate"] = rate;
    details["max_error_rate"] = *config.max_error_rate;
    details["errors"] = results.at("errors");
    Verdict(unit, "error_rate", rate > *config.max_error_rate, window.start_ms,
            window_info(std::move(details)));
  }
  if (config.max_latency_p99_ms && requests && *requests > 0) {
    const bj::object* latency = Object(results, "latency_ms");
    const double p99 = latency ? Double(*latency, "p99").value_or(0) : 0;
    bj::object details;
    details["latency_p99_ms"] = p99;
    details["max_latency_p99_ms"] = *config.max_latency_p99_ms;
    Verdict(unit, "latency", p99 > *config.max_latency_p99_ms, window.start_ms,
            window_info(std::move(details)));
  }
  if (config.concept_drift && !unit.concept_fired_in_window) {
    // A whole window without a detection clears a concept-drift alert.
    StatusOr<std::optional<AlertRecord>> firing = deps_.store.FindFiringAlert(
        unit.tenant, unit.entry->record.id, unit.deployment_id, "concept_drift");
    if (firing.ok() && firing->has_value()) {
      Verdict(unit, "concept_drift", false, window.start_ms, window_info(bj::object()));
    }
  }
}

void MonitorService::Verdict(Unit& unit, std::string_view kind, bool firing, int64_t window_start,
                             bj::object details) {
  const ConfigEntry& entry = *unit.entry;
  StatusOr<std::optional<AlertRecord>> existing =
      deps_.store.FindFiringAlert(unit.tenant, entry.record.id, unit.deployment_id, kind);
  if (!existing.ok()) {
    spdlog::warn("monitor: reading alerts failed: {}", existing.status().message());
    return;
  }
  const int64_t now = deps_.clock.NowMillis();
  if (firing) {
    if (existing->has_value()) {
      // Still firing: one alert while the condition holds, its evidence kept current.
      AlertRecord alert = **existing;
      alert.last_window_start_ms = std::max(alert.last_window_start_ms, window_start);
      alert.updated_at_ms = now;
      alert.details_json = bj::serialize(details);
      Status stored = deps_.store.PutAlert(unit.tenant, alert);
      if (!stored.ok()) spdlog::warn("monitor: updating alert failed: {}", stored.message());
      return;
    }
    AlertRecord alert{.id = "al-" + deps_.ids.Hex32(),
                      .config_id = entry.record.id,
                      .model_name = unit.model_name,
                      .deployment_id = unit.deployment_id,
                      .kind = std::string(kind),
                      .severity = entry.config.severity,
                      .state = "firing",
                      .first_window_start_ms = window_start,
                      .last_window_start_ms = window_start,
                      .fired_at_ms = now,
                      .updated_at_ms = now,
                      .details_json = bj::serialize(details)};
    Status stored = deps_.store.PutAlert(unit.tenant, alert);
    if (!stored.ok()) {
      spdlog::error("monitor: storing alert failed: {}", stored.message());
      return;
    }
    if (deps_.metrics != nullptr) {
      deps_.metrics
          ->GetCounter("cairn_monitor_alerts_fired_total", "Alerts raised by the monitor",
                       {{"kind", std::string(kind)}})
          .Increment();
    }
    Notify(unit.tenant, entry, alert, "alert.fired");
    MaybeRetrain(unit, alert);
    return;
  }
  if (!existing->has_value()) return;
  AlertRecord alert = **existing;
  alert.state = "resolved";
  alert.resolved_at_ms = now;
  alert.updated_at_ms = now;
  Status stored = deps_.store.PutAlert(unit.tenant, alert);
  if (!stored.ok()) {
    spdlog::warn("monitor: resolving alert failed: {}", stored.message());
    return;
  }
  Notify(unit.tenant, entry, alert, "alert.resolved");
}

void MonitorService::RecordAction(const std::string& tenant, ActionRecord action) {
  Status stored = deps_.store.PutAction(tenant, action);
  if (!stored.ok()) spdlog::warn("monitor: recording action failed: {}", stored.message());
}

void MonitorService::Notify(const std::string& tenant, const ConfigEntry& entry,
                            const AlertRecord& alert, std::string_view event) {
  spdlog::warn("alert {} {}: {} on model {} deployment {} (severity {}): {}", alert.id, event,
               alert.kind, alert.model_name, alert.deployment_id, alert.severity,
               alert.details_json);
  if (deps_.webhooks == nullptr || entry.config.webhooks.empty()) return;
  bj::object payload;
  payload["event"] = event;
  payload["tenant"] = tenant;
  payload["alert"] = AlertJson(alert);
  const std::string body = bj::serialize(payload);
  for (const WebhookSink& sink : entry.config.webhooks) {
    ActionRecord action{.id = "ac-" + deps_.ids.Hex32(),
                        .alert_id = alert.id,
                        .config_id = alert.config_id,
                        .action = "webhook",
                        .target = sink.url,
                        .status = "pending",
                        .detail_json = "{}",
                        .created_at_ms = deps_.clock.NowMillis()};
    action.updated_at_ms = action.created_at_ms;
    RecordAction(tenant, action);
    deps_.webhooks->Send(
        WebhookDelivery{.url = sink.url,
                        .secret = sink.secret,
                        .event = std::string(event),
                        .delivery_id = action.id,
                        .payload_json = body},
        [this, tenant, action, event = std::string(event)](const WebhookOutcome& outcome) {
          ActionRecord done = action;
          done.status = outcome.delivered ? "delivered" : "dead_letter";
          done.attempts = outcome.attempts;
          bj::object detail;
          detail["event"] = event;
          detail["last_status"] = outcome.last_status;
          if (!outcome.last_error.empty()) detail["last_error"] = outcome.last_error;
          done.detail_json = bj::serialize(detail);
          done.updated_at_ms = deps_.clock.NowMillis();
          if (!outcome.delivered) {
            spdlog::error("webhook {} to {} failed after {} attempts: {}", done.id, done.target,
                          outcome.attempts, outcome.last_error);
          }
          RecordAction(tenant, std::move(done));
        });
  }
}

void MonitorService::MaybeRetrain(const Unit& unit, const AlertRecord& alert) {
  if (!unit.entry->config.retrain) return;
  const RetrainAction& retrain = *unit.entry->config.retrain;
  if (!retrain.on.empty() &&
      std::find(retrain.on.begin(), retrain.on.end(), alert.kind) == retrain.on.end()) {
    return;
  }
  const std::string action_name =
      retrain.type == RetrainAction::Type::kCommand ? "retrain_command" : "retrain_webhook";
  const int64_t now = deps_.clock.NowMillis();
  auto previous = deps_.store.ListActions(unit.tenant, "", alert.config_id, action_name, 1);
  if (previous.ok() && !previous->empty() &&
      now - previous->front().created_at_ms <
          std::chrono::duration_cast<std::chrono::milliseconds>(retrain.cooldown).count()) {
    spdlog::info(
        "monitor: alert {} would retrain {}, but the last launch was {} ms ago "
        "(cooldown {} s)",
        alert.id, alert.model_name, now - previous->front().created_at_ms,
        retrain.cooldown.count());
    return;
  }
  ActionRecord action{.id = "ac-" + deps_.ids.Hex32(),
                      .alert_id = alert.id,
                      .config_id = alert.config_id,
                      .action = action_name,
                      .status = "launched",
                      .created_at_ms = now,
                      .updated_at_ms = now};
  // The version the window served, from the alert's evidence.
  std::string model_version;
  {
    bj::error_code ec;
    bj::value details = bj::parse(alert.details_json, ec);
    const bj::value* v =
        !ec && details.is_object() ? details.get_object().if_contains("model_version") : nullptr;
    if (v != nullptr && v->is_string()) model_version = std::string(v->get_string());
  }
  // The launch is an MLflow run, so the retrained model's lineage leads back to this alert.
  std::string run_id;
  std::string experiment_id;
  if (deps_.tracking != nullptr) {
    RequestScope scope = RequestScope::ForTenant(unit.tenant, "cairn-monitor");
    auto experiment = deps_.tracking->GetExperimentByName(scope, retrain.experiment);
    if (experiment.ok()) {
      experiment_id = experiment->experiment_id;
    } else {
      auto created = deps_.tracking->CreateExperiment(scope, retrain.experiment, "", {});
      if (created.ok()) experiment_id = *created;
    }
    std::vector<metadata::Tag> tags = {
        {"cairn.alert_id", alert.id},
        {"cairn.alert_kind", alert.kind},
        {"cairn.model_name", alert.model_name},
        {"cairn.model_version", model_version},
        {"cairn.deployment_id", alert.deployment_id},
        {"cairn.deployment_name", unit.deployment_name},
        {"cairn.window_start_ms", std::to_string(alert.first_window_start_ms)},
        {"cairn.trigger", "drift-monitor"},
        {"mlflow.source.name", "cairn-monitor"}};
    if (!experiment_id.empty()) {
      auto run = deps_.tracking->CreateRun(
          scope, tracking::TrackingService::CreateRunRequest{
                     .experiment_id = experiment_id,
                     .user_id = "cairn-monitor",
                     .run_name = "retrain-" + alert.model_name + "-" + alert.id.substr(3, 8),
                     .start_time = now,
                     .tags = std::move(tags)});
      if (run.ok()) run_id = run->info.run_id;
    }
    if (run_id.empty()) spdlog::warn("monitor: could not record the retraining run");
  }
  bj::object detail;
  detail["run_id"] = run_id;
  detail["experiment_id"] = experiment_id;

  auto finish_run = [this, tenant = unit.tenant, run_id](bool ok) {
    if (run_id.empty() || deps_.tracking == nullptr) return;
    RequestScope scope = RequestScope::ForTenant(tenant, "cairn-monitor");
    auto updated = deps_.tracking->UpdateRun(
        scope, run_id, ok ? metadata::RunStatus::kFinished : metadata::RunStatus::kFailed,
        deps_.clock.NowMillis(), std::nullopt);
    if (!updated.ok()) spdlog::warn("monitor: closing run {} failed", run_id);
  };

  if (retrain.type == RetrainAction::Type::kCommand) {
    action.target = retrain.command[0];
    if (deps_.launcher == nullptr) return;
    LaunchRequest request;
    request.argv = retrain.command;
    request.working_dir = retrain.working_dir;
    request.timeout = retrain.timeout;
    request.env = {{"CAIRN_ALERT_ID", alert.id},
                   {"CAIRN_ALERT_KIND", alert.kind},
                   {"CAIRN_TENANT", unit.tenant},
                   {"CAIRN_MODEL_NAME", alert.model_name},
                   {"CAIRN_MODEL_VERSION", model_version},
                   {"CAIRN_DEPLOYMENT_ID", alert.deployment_id},
                   {"CAIRN_DEPLOYMENT_NAME", unit.deployment_name},
                   {"CAIRN_WINDOW_START_MS", std::to_string(alert.first_window_start_ms)},
                   {"CAIRN_ALERT_DETAILS", alert.details_json},
                   {"MLFLOW_RUN_ID", run_id},
                   {"MLFLOW_EXPERIMENT_ID", experiment_id}};
    if (!tracking_uri_.empty()) {
      request.env["MLFLOW_TRACKING_URI"] = tracking_uri_;
      request.env["CAIRN_TRACKING_URI"] = tracking_uri_;
    }
    if (credential_issuer_) {
      // Valid as long as the command may run, and an hour more for a slow finish.
      auto lifetime =
          std::chrono::duration_cast<std::chrono::seconds>(request.timeout) + std::chrono::hours(1);
      StatusOr<std::string> token = credential_issuer_(unit.tenant, lifetime);
      if (token.ok()) {
        request.env["MLFLOW_TRACKING_TOKEN"] = *token;
        request.env["CAIRN_TOKEN"] = *token;
      } else {
        spdlog::warn("monitor: no credential for the retraining command: {}",
                     token.status().ToString());
      }
    }
    if (!options_.log_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(options_.log_dir, ec);
      request.log_path = options_.log_dir + "/" + action.id + ".log";
      detail["log_path"] = request.log_path;
    }
    action.attempts = 1;
    action.detail_json = bj::serialize(detail);
    // Recorded before the launch: the exit callback may replace it (same id) at any time after.
    RecordAction(unit.tenant, action);
    StatusOr<int> pid = deps_.launcher->Launch(
        std::move(request),
        [this, tenant = unit.tenant, action, detail, finish_run](const LaunchResult& result) {
          ActionRecord done = action;
          bj::object d = detail;
          d["pid"] = result.pid;
          d["exit_code"] = result.exit_code;
          d["signal"] = result.signal;
          d["timed_out"] = result.timed_out;
          d["duration_ms"] = result.duration_ms;
          done.detail_json = bj::serialize(d);
          const bool ok = result.exit_code == 0 && !result.timed_out;
          done.status = ok ? "finished" : "failed";
          done.updated_at_ms = deps_.clock.NowMillis();
          RecordAction(tenant, std::move(done));
          finish_run(ok);
        });
    if (!pid.ok()) {
      action.status = "failed";
      detail["error"] = pid.status().message();
      action.detail_json = bj::serialize(detail);
      RecordAction(unit.tenant, action);
      finish_run(false);
      spdlog::error("monitor: alert {} could not launch retraining of {}: {}", alert.id,
                    alert.model_name, pid.status().message());
      return;
    }
    spdlog::warn("monitor: alert {} launched retraining of {} (pid {}), run {}", alert.id,
                 alert.model_name, *pid, run_id);
    return;
  }
  action.target = retrain.webhook.url;
  action.detail_json = bj::serialize(detail);
  RecordAction(unit.tenant, action);
  if (deps_.webhooks == nullptr) return;
  bj::object payload;
  payload["event"] = "retrain.requested";
  payload["tenant"] = unit.tenant;
  payload["alert"] = AlertJson(alert);
  payload["model_name"] = alert.model_name;
  payload["model_version"] = model_version;
  payload["deployment_id"] = alert.deployment_id;
  payload["run_id"] = run_id;
  payload["experiment_id"] = experiment_id;
  deps_.webhooks->Send(
      WebhookDelivery{.url = retrain.webhook.url,
                      .secret = retrain.webhook.secret,
                      .event = "retrain.requested",
                      .delivery_id = action.id,
                      .payload_json = bj::serialize(payload)},
      [this, tenant = unit.tenant, action, detail, finish_run](const WebhookOutcome& outcome) {
        ActionRecord done = action;
        done.status = outcome.delivered ? "finished" : "dead_letter";
        done.attempts = outcome.attempts;
        bj::object d = detail;
        d["last_status"] = outcome.last_status;
        if (!outcome.last_error.empty()) d["last_error"] = outcome.last_error;
        done.detail_json = bj::serialize(d);
        done.updated_at_ms = deps_.clock.NowMillis();
        RecordAction(tenant, std::move(done));
        finish_run(outcome.delivered);
      });
}

}  // namespace cairn::monitor
