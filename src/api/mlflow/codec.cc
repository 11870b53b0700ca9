#include "api/mlflow/codec.h"

#include <cctype>
#include <string>

#include "base/json.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

StatusOr<metadata::RunStatus> ParseRunStatus(const bj::value& v) {
  if (v.is_string()) {
    if (auto status = metadata::RunStatusFromName(Upper(v.as_string()))) return *status;
  }
  auto n = json::AsInt64(v, "status");
  if (n.ok() && *n >= 1 && *n <= 5) return static_cast<metadata::RunStatus>(*n);
  return InvalidArgument("Invalid value for parameter 'status' supplied: " + bj::serialize(v));
}

StatusOr<metadata::ViewType> ParseViewType(const bj::value& v, std::string_view field) {
  if (v.is_string()) {
    std::string s = Upper(v.as_string());
    if (s == "ACTIVE_ONLY") return metadata::ViewType::kActiveOnly;
    if (s == "DELETED_ONLY") return metadata::ViewType::kDeletedOnly;
    if (s == "ALL") return metadata::ViewType::kAll;
  }
  auto n = json::AsInt64(v, field);
  if (n.ok() && *n >= 1 && *n <= 3) return static_cast<metadata::ViewType>(*n);
  return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                         "' supplied: " + bj::serialize(v));
}

StatusOr<metadata::LoggedModelStatus> ParseLoggedModelStatus(const bj::value& v) {
  if (v.is_string()) {
    if (auto status = metadata::LoggedModelStatusFromName(Upper(v.as_string()))) return *status;
  }
  auto n = json::AsInt64(v, "status");
  if (n.ok() && *n >= 0 && *n <= 3) return static_cast<metadata::LoggedModelStatus>(*n);
  return InvalidArgument("Invalid value for parameter 'status' supplied: " + bj::serialize(v));
}

void PutIfNotEmpty(bj::object& obj, std::string_view key, const std::string& value) {
  if (!value.empty()) obj[key] = value;
}

bj::array TagsToJson(const std::vector<metadata::Tag>& tags) {
  bj::array out;
  out.reserve(tags.size());
  for (const auto& t : tags) out.push_back(bj::object{{"key", t.key}, {"value", t.value}});
  return out;
}

bj::object ExperimentToJson(const metadata::Experiment& e) {
  bj::object o;
  o["experiment_id"] = e.experiment_id;
  o["name"] = e.name;
  o["artifact_location"] = e.artifact_location;
  o["lifecycle_stage"] = LifecycleName(e.lifecycle_stage);
  o["last_update_time"] = e.last_update_time;
  o["creation_time"] = e.creation_time;
  if (!e.tags.empty()) o["tags"] = TagsToJson(e.tags);
  return o;
}

bj::object RunInfoToJson(const metadata::RunInfo& info) {
  bj::object o;
  o["run_id"] = info.run_id;
  o["run_uuid"] = info.run_id;
  o["run_name"] = info.run_name;
  o["experiment_id"] = info.experiment_id;
  o["user_id"] = info.user_id;
  o["status"] = RunStatusName(info.status);
  o["start_time"] = info.start_time;
  if (info.end_time) o["end_time"] = *info.end_time;
  o["artifact_uri"] = info.artifact_uri;
  o["lifecycle_stage"] = LifecycleName(info.lifecycle_stage);
  return o;
}

bj::object MetricToJson(const metadata::Metric& m) {
  bj::object o;
  o["key"] = m.key;
  o["value"] = json::DoubleValue(m.value);
  o["timestamp"] = m.timestamp;
  o["step"] = m.step;
  if (m.dataset_name) o["dataset_name"] = *m.dataset_name;
  if (m.dataset_digest) o["dataset_digest"] = *m.dataset_digest;
  if (m.model_id) o["model_id"] = *m.model_id;
  if (!m.run_id.empty()) o["run_id"] = m.run_id;
  return o;
}

bj::object RunToJson(const metadata::Run& run) {
  bj::object data;
  if (!run.metrics.empty()) {
    bj::array metrics;
    metrics.reserve(run.metrics.size());
    for (const auto& m : run.metrics) {
      bj::object mo = MetricToJson(m);
      mo.erase("run_id");
      metrics.push_back(std::move(mo));
    }
    data["metrics"] = std::move(metrics);
  }
  if (!run.params.empty()) {
    bj::array params;
    params.reserve(run.params.size());
    for (const auto& p : run.params)
      params.push_back(bj::object{{"key", p.key}, {"value", p.value}});
    data["params"] = std::move(params);
  }
  if (!run.tags.empty()) data["tags"] = TagsToJson(run.tags);

  bj::object inputs;
  if (!run.dataset_inputs.empty()) {
    bj::array arr;
    for (const auto& in : run.dataset_inputs) {
      bj::object ds;
      ds["name"] = in.dataset.name;
      ds["digest"] = in.dataset.digest;
      ds["source_type"] = in.dataset.source_type;
      ds["source"] = in.dataset.source;
      if (in.dataset.schema) ds["schema"] = *in.dataset.schema;
      if (in.dataset.profile) ds["profile"] = *in.dataset.profile;
      bj::object entry;
      if (!in.tags.empty()) entry["tags"] = TagsToJson(in.tags);
      entry["dataset"] = std::move(ds);
      arr.push_back(std::move(entry));
    }
    inputs["dataset_inputs"] = std::move(arr);
  }
  if (!run.model_inputs.empty()) {
    bj::array arr;
    for (const auto& m : run.model_inputs) arr.push_back(bj::object{{"model_id", m.model_id}});
    inputs["model_inputs"] = std::move(arr);
  }
  bj::object outputs;
  if (!run.model_outputs.empty()) {
    bj::array arr;
    for (const auto& m : run.model_outputs) {
      arr.push_back(bj::object{{"model_id", m.model_id}, {"step", m.step}});
    }
    outputs["model_outputs"] = std::move(arr);
  }
  bj::object o;
  o["info"] = RunInfoToJson(run.info);
  o["data"] = std::move(data);
  o["inputs"] = std::move(inputs);
  o["outputs"] = std::move(outputs);
  return o;
}

bj::object LoggedModelToJson(const metadata::LoggedModel& m) {
  bj::object info;
  info["model_id"] = m.model_id;
  info["experiment_id"] = m.experiment_id;
  info["name"] = m.name;
  info["creation_timestamp_ms"] = m.creation_timestamp_ms;
  info["last_updated_timestamp_ms"] = m.last_updated_timestamp_ms;
  info["artifact_uri"] = m.artifact_uri;
  info["status"] = LoggedModelStatusName(m.status);
  PutIfNotEmpty(info, "model_type", m.model_type);
  PutIfNotEmpty(info, "source_run_id", m.source_run_id);
  PutIfNotEmpty(info, "status_message", m.status_message);
  if (!m.tags.empty()) info["tags"] = TagsToJson(m.tags);
  bj::object data;
  if (!m.params.empty()) {
    bj::array params;
    for (const auto& p : m.params) params.push_back(bj::object{{"key", p.key}, {"value", p.value}});
    data["params"] = std::move(params);
  }
  if (!m.metrics.empty()) {
    bj::array metrics;
    for (const auto& metric : m.metrics) metrics.push_back(MetricToJson(metric));
    data["metrics"] = std::move(metrics);
  }
  return bj::object{{"info", std::move(info)}, {"data", std::move(data)}};
}

StatusOr<std::string> RequiredString(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(msg, field));
  if (!v || v->empty()) {
    return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'");
  }
  return std::move(*v);
}

StatusOr<std::string> OptionalString(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(msg, field));
  return v.value_or("");
}

StatusOr<int64_t> OptionalInt(const bj::object& msg, std::string_view field, int64_t fallback) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, json::GetInt64(msg, field));
  return v.value_or(fallback);
}

StatusOr<std::string> RequiredRunId(const bj::object& msg) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, json::GetString(msg, "run_id"));
  if (!id || id->empty()) {
    ASSIGN_OR_RETURN(id, json::GetString(msg, "run_uuid"));
  }
  if (!id || id->empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  return std::move(*id);
}

StatusOr<std::vector<metadata::Tag>> TagsFromJson(const bj::object& msg, std::string_view field) {
  ASSIGN_OR_RETURN(const bj::array* arr, json::GetArray(msg, field));
  std::vector<metadata::Tag> out;
  if (arr == nullptr) return out;
  out.reserve(arr->size());
  for (const auto& v : *arr) {
    if (!v.is_object()) {
      return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                             "': each entry must be an object");
    }
    const auto& o = v.as_object();
    ASSIGN_OR_RETURN(std::optional<std::string> key, json::GetString(o, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, json::GetString(o, "value"));
    if (!key) return InvalidArgument("Missing value for required parameter 'key'");
    out.push_back({std::move(*key), value.value_or("")});
  }
  return out;
}

StatusOr<std::vector<metadata::Param>> ParamsFromJson(const bj::object& msg,
                                                      std::string_view field) {
  ASSIGN_OR_RETURN(std::vector<metadata::Tag> kv, TagsFromJson(msg, field));
  std::vector<metadata::Param> out;
  out.reserve(kv.size());
  for (auto& t : kv) out.push_back({std::move(t.key), std::move(t.value)});
  return out;
}

StatusOr<metadata::Metric> MetricFromJson(const bj::object& o) {
  metadata::Metric m;
  ASSIGN_OR_RETURN(std::optional<std::string> key, json::GetString(o, "key"));
  if (!key) return InvalidArgument("Missing value for required parameter 'key'");
  m.key = std::move(*key);
  ASSIGN_OR_RETURN(std::optional<double> value, json::GetDouble(o, "value"));
  if (!value) return InvalidArgument("Missing value for required parameter 'value'");
  m.value = *value;
  ASSIGN_OR_RETURN(std::optional<int64_t> ts, json::GetInt64(o, "timestamp"));
  if (!ts) return InvalidArgument("Missing value for required parameter 'timestamp'");
  m.timestamp = *ts;
  ASSIGN_OR_RETURN(std::optional<int64_t> step, json::GetInt64(o, "step"));
  m.step = step.value_or(0);
  ASSIGN_OR_RETURN(m.model_id, json::GetString(o, "model_id"));
  ASSIGN_OR_RETURN(m.dataset_name, json::GetString(o, "dataset_name"));
  ASSIGN_OR_RETURN(m.dataset_digest, json::GetString(o, "dataset_digest"));
  return m;
}

StatusOr<std::vector<metadata::Metric>> MetricsFromJson(const bj::object& msg,
                                                        std::string_view field) {
  ASSIGN_OR_RETURN(const bj::array* arr, json::GetArray(msg, field));
  std::vector<metadata::Metric> out;
  if (arr == nullptr) return out;
  out.reserve(arr->size());
  for (const auto& v : *arr) {
    if (!v.is_object()) {
      return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                             "': each entry must be an object");
    }
    ASSIGN_OR_RETURN(metadata::Metric m, MetricFromJson(v.as_object()));
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<std::vector<std::string>> StringsFromJson(const bj::object& msg, std::string_view field) {
  std::vector<std::string> out;
  auto it = msg.find(field);
  if (it == msg.end() || it->value().is_null()) return out;
  if (it->value().is_string()) {  // a repeated field given once over a query string
    out.emplace_back(it->value().as_string());
    return out;
  }
  if (!it->value().is_array()) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "' supplied: expected a list");
  }
  for (const auto& v : it->value().as_array()) {
    ASSIGN_OR_RETURN(std::string s, json::AsString(v, field));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cairn::api::mlflow
