#include "monitor/drift_config.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <set>

#include "http/client.h"
#include "monitor/detectors/drift_detector.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;

Status Bad(std::string_view field, std::string_view problem) {
  return InvalidArgument("Invalid drift configuration: '" + std::string(field) + "' " +
                         std::string(problem));
}

Status CheckKeys(const bj::object& obj, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      return Bad(where.empty() ? std::string_view(key) : where,
                 where.empty() ? "is not a known setting"
                               : "has an unknown setting '" + std::string(key) + "'");
    }
  }
  return Status::Ok();
}

StatusOr<double> Number(const bj::value& v, std::string_view field) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return Bad(field, "must be a number");
}

StatusOr<std::string> String(const bj::value& v, std::string_view field) {
  if (!v.is_string()) return Bad(field, "must be a string");
  return std::string(v.get_string());
}

StatusOr<int64_t> Integer(const bj::value& v, std::string_view field, int64_t lo, int64_t hi) {
  if (!v.is_int64() && !v.is_uint64()) return Bad(field, "must be an integer");
  if (v.is_uint64() && v.get_uint64() > static_cast<uint64_t>(hi)) {
    return Bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  const int64_t n = v.is_int64() ? v.get_int64() : static_cast<int64_t>(v.get_uint64());
  if (n < lo || n > hi) {
    return Bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return n;
}

StatusOr<std::chrono::milliseconds> Duration(const bj::value& v, std::string_view field) {
  StatusOr<std::chrono::milliseconds> parsed = InvalidArgument("");
  if (v.is_string()) {
    parsed = ParseDuration(v.get_string());
  } else if (v.is_number()) {
    ASSIGN_OR_RETURN(double seconds, Number(v, field));
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
      return Bad(field, "must be a duration such as \"30s\", \"5m\", \"1h\"");
    }
    parsed = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (!parsed.ok()) return Bad(field, "must be a duration such as \"30s\", \"5m\", \"1h\"");
  return *parsed;
}

StatusOr<double> Threshold(const bj::value& v, std::string_view field) {
  ASSIGN_OR_RETURN(double t, Number(v, field));
  if (!std::isfinite(t) || t <= 0) return Bad(field, "must be a positive number");
  return t;
}

StatusOr<std::optional<DriftMethod>> Method(const bj::value& v, std::string_view field) {
  ASSIGN_OR_RETURN(std::string name, String(v, field));
  if (name == "auto") return std::optional<DriftMethod>();
  std::optional<DriftMethod> method = ParseMethod(name);
  if (!method) {
    return Bad(field,
               "must be auto, ks, chisquare, z, psi, kl_div, jensenshannon or wasserstein, not '" +
                   name + "'");
  }
  return method;
}

StatusOr<FeatureTest> Test(const bj::value& v, std::string_view field) {
  if (!v.is_object()) return Bad(field, "must be an object with method and threshold");
  const bj::object& obj = v.get_object();
  RETURN_IF_ERROR(CheckKeys(obj, field, {"method", "threshold"}));
  FeatureTest test;
  if (const bj::value* m = obj.if_contains("method")) {
    ASSIGN_OR_RETURN(test.method, Method(*m, std::string(field) + ".method"));
  }
  if (const bj::value* t = obj.if_contains("threshold")) {
    ASSIGN_OR_RETURN(test.threshold, Threshold(*t, std::string(field) + ".threshold"));
  }
  return test;
}

StatusOr<WebhookSink> Webhook(const bj::object& obj, std::string_view field) {
  WebhookSink sink;
  const bj::value* url = obj.if_contains("url");
  if (url == nullptr) return Bad(field, "needs a url");
  ASSIGN_OR_RETURN(sink.url, String(*url, std::string(field) + ".url"));
  if (!http::ParseUrl(sink.url).ok()) return Bad(std::string(field) + ".url", "must be http(s)");
  if (const bj::value* secret = obj.if_contains("secret")) {
    ASSIGN_OR_RETURN(sink.secret, String(*secret, std::string(field) + ".secret"));
  }
  return sink;
}

Status ParseWindow(const bj::value& v, DriftConfig& config) {
  if (!v.is_object()) return Bad("window", "must be {\"duration\": \"5m\"} or {\"size\": 1000}");
  const bj::object& obj = v.get_object();
  RETURN_IF_ERROR(CheckKeys(obj, "window", {"duration", "size"}));
  const bj::value* duration = obj.if_contains("duration");
  const bj::value* size = obj.if_contains("size");
  if ((duration == nullptr) == (size == nullptr)) {
    return Bad("window", "needs exactly one of duration and size");
  }
  if (duration != nullptr) {
    ASSIGN_OR_RETURN(std::chrono::milliseconds d, Duration(*duration, "window.duration"));
    if (d < std::chrono::seconds(1) || d > std::chrono::hours(24 * 30)) {
      return Bad("window.duration", "must be between 1s and 30d");
    }
    config.window_duration = d;
  } else {
    ASSIGN_OR_RETURN(config.window_size, Integer(*size, "window.size", 10, 10'000'000));
  }
  return Status::Ok();
}

Status ParsePerformance(const bj::value& v, DriftConfig& config) {
  if (!v.is_object()) return Bad("performance", "must be an object");
  const bj::object& obj = v.get_object();
  RETURN_IF_ERROR(CheckKeys(obj, "performance",
                            {"task", "metric", "min", "max", "min_labels", "positive_label"}));
  PerformanceRule rule;
  if (const bj::value* task = obj.if_contains("task")) {
    ASSIGN_OR_RETURN(rule.task, String(*task, "performance.task"));
    if (rule.task != "classification" && rule.task != "regression") {
      return Bad("performance.task", "must be classification or regression");
    }
  }
  const bj::value* metric = obj.if_contains("metric");
  if (metric == nullptr) return Bad("performance", "needs a metric");
  ASSIGN_OR_RETURN(rule.metric, String(*metric, "performance.metric"));
  static const std::set<std::string, std::less<>> kClassification = {"accuracy", "precision",
                                                                     "recall", "f1", "auc"};
  static const std::set<std::string, std::less<>> kRegression = {"rmse", "mae"};
  const bool classification = kClassification.contains(rule.metric);
  if (!classification && !kRegression.contains(rule.metric)) {
    return Bad("performance.metric", "must be accuracy, precision, recall, f1, auc, rmse or mae");
  }
  if (!rule.task.empty() && (rule.task == "classification") != classification) {
    return Bad("performance.metric", "does not fit task " + rule.task);
  }
  rule.task = classification ? "classification" : "regression";
  if (const bj::value* min = obj.if_contains("min")) {
    ASSIGN_OR_RETURN(rule.min, Number(*min, "performance.min"));
  }
  if (const bj::value* max = obj.if_contains("max")) {
    ASSIGN_OR_RETURN(rule.max, Number(*max, "performance.max"));
  }
  if (!rule.min && !rule.max) return Bad("performance", "needs min or max");
  if (const bj::value* n = obj.if_contains("min_labels")) {
    ASSIGN_OR_RETURN(rule.min_labels, Integer(*n, "performance.min_labels", 1, 10'000'000));
  }
  if (const bj::value* p = obj.if_contains("positive_label")) {
    if (p->is_string()) {
      rule.positive_label = std::string(p->get_string());
    } else if (p->is_number() || p->is_bool()) {
      rule.positive_label = bj::serialize(*p);
    } else {
      return Bad("performance.positive_label", "must be a string, number or boolean");
    }
  }
  config.performance = std::move(rule);
  return Status::Ok();
}

Status ParseRetrain(const bj::value& v, DriftConfig& config) {
  if (!v.is_object()) return Bad("retrain", "must be an object");
  const bj::object& obj = v.get_object();
  RETURN_IF_ERROR(CheckKeys(obj, "retrain",
                            {"type", "command", "working_dir", "timeout", "url", "secret",
                             "experiment", "cooldown", "on"}));
  RetrainAction action;
  const bj::value* type = obj.if_contains("type");
  if (type == nullptr) return Bad("retrain", "needs a type (command or webhook)");
  ASSIGN_OR_RETURN(std::string type_name, String(*type, "retrain.type"));
  if (type_name == "command") {
    action.type = RetrainAction::Type::kCommand;
    const bj::value* command = obj.if_contains("command");
    if (command == nullptr || !command->is_array() || command->get_array().empty()) {
      return Bad("retrain.command", "must be a non-empty list of strings");
    }
    for (const bj::value& arg : command->get_array()) {
      ASSIGN_OR_RETURN(std::string s, String(arg, "retrain.command"));
      action.command.push_back(std::move(s));
    }
    if (action.command[0].empty()) return Bad("retrain.command", "names no program");
    if (const bj::value* dir = obj.if_contains("working_dir")) {
      ASSIGN_OR_RETURN(action.working_dir, String(*dir, "retrain.working_dir"));
    }
    if (const bj::value* timeout = obj.if_contains("timeout")) {
      ASSIGN_OR_RETURN(auto t, Duration(*timeout, "retrain.timeout"));
      if (t < std::chrono::seconds(1)) return Bad("retrain.timeout", "must be at least 1s");
      action.timeout = std::chrono::duration_cast<std::chrono::seconds>(t);
    }
  } else if (type_name == "webhook") {
    action.type = RetrainAction::Type::kWebhook;
    ASSIGN_OR_RETURN(action.webhook, Webhook(obj, "retrain"));
  } else {
    return Bad("retrain.type", "must be command or webhook");
  }
  if (const bj::value* experiment = obj.if_contains("experiment")) {
    ASSIGN_OR_RETURN(action.experiment, String(*experiment, "retrain.experiment"));
    if (action.experiment.empty()) return Bad("retrain.experiment", "must not be empty");
  }
  if (const bj::value* cooldown = obj.if_contains("cooldown")) {
    ASSIGN_OR_RETURN(auto c, Duration(*cooldown, "retrain.cooldown"));
    action.cooldown = std::chrono::duration_cast<std::chrono::seconds>(c);
  }
  if (const bj::value* on = obj.if_contains("on")) {
    if (!on->is_array()) return Bad("retrain.on", "must be a list of alert kinds");
    for (const bj::value& kind : on->get_array()) {
      ASSIGN_OR_RETURN(std::string k, String(kind, "retrain.on"));
      static const std::set<std::string, std::less<>> kKinds = {"data_drift",  "prediction_drift",
                                                                "performance", "error_rate",
                                                                "latency",     "concept_drift"};
      if (!kKinds.contains(k)) return Bad("retrain.on", "names an unknown alert kind '" + k + "'");
      action.on.push_back(std::move(k));
    }
  }
  config.retrain = std::move(action);
  return Status::Ok();
}

}  // namespace

FeatureTest DriftConfig::TestFor(std::string_view feature) const {
  FeatureTest test = default_test;
  if (auto it = per_feature.find(feature); it != per_feature.end()) {
    if (it->second.method) test.method = it->second.method;
    if (it->second.threshold) test.threshold = it->second.threshold;
  }
  return test;
}

std::string RedactSecrets(std::string_view spec_json) {
  bj::error_code ec;
  bj::value root = bj::parse(spec_json, ec);
  if (ec || !root.is_object()) return "{}";
  auto redact = [](bj::value& v) {
    if (v.is_object()) {
      if (bj::value* secret = v.get_object().if_contains("secret")) *secret = "********";
    }
  };
  bj::object& obj = root.get_object();
  if (bj::value* sinks = obj.if_contains("sinks"); sinks != nullptr && sinks->is_array()) {
    for (bj::value& sink : sinks->get_array()) redact(sink);
  }
  if (bj::value* retrain = obj.if_contains("retrain")) redact(*retrain);
  return bj::serialize(root);
}

StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t unit_ms = 1000;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit_ms = 60'000;
      text.remove_suffix(1);
      break;
    case 'h':
      unit_ms = 3'600'000;
      text.remove_suffix(1);
      break;
    case 'd':
      unit_ms = 86'400'000;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0 ||
      value > 1e9) {
    return InvalidArgument("invalid duration");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * static_cast<double>(unit_ms)));
}

StatusOr<DriftConfig> ParseDriftConfig(std::string_view json) {
  bj::error_code ec;
  bj::value root = bj::parse(json, ec);
  if (ec || !root.is_object()) {
    return InvalidArgument("Invalid drift configuration: the body must be a JSON object");
  }
  const bj::object& obj = root.get_object();
  RETURN_IF_ERROR(
      CheckKeys(obj, "",
                {"deployment", "window", "method", "threshold", "features", "per_feature",
                 "min_samples", "drift_share", "prediction_drift", "prediction_column", "severity",
                 "performance", "slo", "concept_drift", "reference", "sinks", "retrain"}));
  DriftConfig config;
  if (const bj::value* d = obj.if_contains("deployment")) {
    ASSIGN_OR_RETURN(std::string deployment, String(*d, "deployment"));
    if (deployment.empty()) return Bad("deployment", "must not be empty");
    config.deployment = std::move(deployment);
  }
  const bj::value* window = obj.if_contains("window");
  if (window == nullptr) {
    config.window_duration = std::chrono::minutes(5);
  } else {
    RETURN_IF_ERROR(ParseWindow(*window, config));
  }
  if (const bj::value* m = obj.if_contains("method")) {
    ASSIGN_OR_RETURN(config.default_test.method, Method(*m, "method"));
  }
  if (const bj::value* t = obj.if_contains("threshold")) {
    ASSIGN_OR_RETURN(config.default_test.threshold, Threshold(*t, "threshold"));
  }
  if (const bj::value* f = obj.if_contains("features")) {
    if (!f->is_array()) return Bad("features", "must be a list of feature names");
    for (const bj::value& name : f->get_array()) {
      ASSIGN_OR_RETURN(std::string n, String(name, "features"));
      config.features.push_back(std::move(n));
    }
  }
  if (const bj::value* per = obj.if_contains("per_feature")) {
    if (!per->is_object()) return Bad("per_feature", "must be an object keyed by feature");
    for (const auto& [name, test] : per->get_object()) {
      ASSIGN_OR_RETURN(FeatureTest t, Test(test, "per_feature." + std::string(name)));
      config.per_feature.emplace(std::string(name), t);
    }
  }
  if (const bj::value* n = obj.if_contains("min_samples")) {
    ASSIGN_OR_RETURN(config.min_samples, Integer(*n, "min_samples", 1, 10'000'000));
  }
  if (const bj::value* share = obj.if_contains("drift_share")) {
    ASSIGN_OR_RETURN(config.drift_share, Number(*share, "drift_share"));
    if (!(config.drift_share > 0 && config.drift_share <= 1)) {
      return Bad("drift_share", "must be in (0, 1]");
    }
  }
  if (const bj::value* p = obj.if_contains("prediction_drift")) {
    if (p->is_bool()) {
      config.prediction_drift = p->get_bool();
    } else {
      ASSIGN_OR_RETURN(config.prediction_test, Test(*p, "prediction_drift"));
    }
  }
  if (const bj::value* c = obj.if_contains("prediction_column")) {
    ASSIGN_OR_RETURN(config.prediction_column, String(*c, "prediction_column"));
  }
  if (const bj::value* s = obj.if_contains("severity")) {
    ASSIGN_OR_RETURN(config.severity, String(*s, "severity"));
    if (config.severity != "info" && config.severity != "warning" &&
        config.severity != "critical") {
      return Bad("severity", "must be info, warning or critical");
    }
  }
  if (const bj::value* p = obj.if_contains("performance")) {
    RETURN_IF_ERROR(ParsePerformance(*p, config));
  }
  if (const bj::value* slo = obj.if_contains("slo")) {
    if (!slo->is_object()) return Bad("slo", "must be an object");
    RETURN_IF_ERROR(CheckKeys(slo->get_object(), "slo", {"error_rate", "latency_p99_ms"}));
    if (const bj::value* e = slo->get_object().if_contains("error_rate")) {
      ASSIGN_OR_RETURN(config.max_error_rate, Number(*e, "slo.error_rate"));
      if (!(*config.max_error_rate >= 0 && *config.max_error_rate <= 1)) {
        return Bad("slo.error_rate", "must be in [0, 1]");
      }
    }
    if (const bj::value* l = slo->get_object().if_contains("latency_p99_ms")) {
      ASSIGN_OR_RETURN(config.max_latency_p99_ms, Threshold(*l, "slo.latency_p99_ms"));
    }
  }
  if (const bj::value* c = obj.if_contains("concept_drift")) {
    if (!c->is_object()) return Bad("concept_drift", "must be an object");
    RETURN_IF_ERROR(CheckKeys(c->get_object(), "concept_drift", {"detector", "params"}));
    ConceptDriftRule rule;
    const bj::value* detector = c->get_object().if_contains("detector");
    if (detector == nullptr) return Bad("concept_drift", "needs a detector");
    ASSIGN_OR_RETURN(rule.detector, String(*detector, "concept_drift.detector"));
    rule.params_json = "{}";
    if (const bj::value* params = c->get_object().if_contains("params")) {
      if (!params->is_object()) return Bad("concept_drift.params", "must be an object");
      rule.params_json = bj::serialize(*params);
    }
    auto created = CreateDetector(rule.detector, rule.params_json);
    if (!created.ok()) return Bad("concept_drift", created.status().message());
    config.concept_drift = std::move(rule);
  }
  if (const bj::value* r = obj.if_contains("reference")) {
    if (!r->is_object()) return Bad("reference", "must be an object");
    RETURN_IF_ERROR(CheckKeys(r->get_object(), "reference", {"from_predictions"}));
    if (const bj::value* n = r->get_object().if_contains("from_predictions")) {
      ASSIGN_OR_RETURN(config.reference_from_predictions,
                       Integer(*n, "reference.from_predictions", 10, 1'000'000));
    }
  }
  if (const bj::value* sinks = obj.if_contains("sinks")) {
    if (!sinks->is_array()) return Bad("sinks", "must be a list");
    for (const bj::value& sink : sinks->get_array()) {
      if (!sink.is_object()) return Bad("sinks", "must hold objects with a type");
      const bj::object& s = sink.get_object();
      RETURN_IF_ERROR(CheckKeys(s, "sinks", {"type", "url", "secret"}));
      const bj::value* type = s.if_contains("type");
      if (type == nullptr) return Bad("sinks", "entries need a type (webhook or log)");
      ASSIGN_OR_RETURN(std::string t, String(*type, "sinks.type"));
      if (t == "webhook") {
        ASSIGN_OR_RETURN(WebhookSink w, Webhook(s, "sinks"));
        config.webhooks.push_back(std::move(w));
      } else if (t != "log") {
        return Bad("sinks.type", "must be webhook or log");
      }
    }
  }
  if (const bj::value* r = obj.if_contains("retrain")) {
    RETURN_IF_ERROR(ParseRetrain(*r, config));
  }
  return config;
}

}  // namespace cairn::monitor
