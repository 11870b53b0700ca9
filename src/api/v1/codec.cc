#include "api/v1/codec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>

#include "base/json.h"
#include "metadata/names.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

bj::object ParamsToObject(const std::vector<metadata::Param>& params) {
  bj::object out;
  for (const auto& p : params) out[p.key] = p.value;
  return out;
}

bj::object RunToJson(const metadata::Run& run, const metadata::Experiment* experiment) {
  const metadata::RunInfo& info = run.info;
  bj::object out;
  out["run_id"] = info.run_id;
  out["run_name"] = info.run_name;
  out["status"] = metadata::RunStatusName(info.status);
  out["start_time"] = info.start_time;
  out["end_time"] = info.end_time ? bj::value(*info.end_time) : bj::value(nullptr);
  out["experiment"] = bj::object{
      {"experiment_id", info.experiment_id},
      {"name", experiment != nullptr ? experiment->name : std::string()},
  };
  out["params"] = ParamsToObject(run.params);
  bj::object metrics;
  for (const auto& m : run.metrics) metrics[m.key] = json::DoubleValue(m.value);
  out["metrics"] = std::move(metrics);
  out["tags"] = TagsToObject(run.tags);
  bj::array datasets;
  datasets.reserve(run.dataset_inputs.size());
  for (const auto& input : run.dataset_inputs) {
    std::string context;
    for (const auto& tag : input.tags) {
      if (tag.key == kDatasetContextTag) context = tag.value;
    }
    datasets.push_back(bj::object{
        {"name", input.dataset.name},
        {"digest", input.dataset.digest},
        {"source_type", input.dataset.source_type},
        {"source", input.dataset.source},
        {"context", context},
    });
  }
  out["datasets"] = std::move(datasets);
  return out;
}

bj::object LoggedModelToJson(const metadata::LoggedModel& model) {
  bj::object out;
  out["model_id"] = model.model_id;
  out["name"] = model.name;
  out["experiment_id"] = model.experiment_id;
  out["source_run_id"] = model.source_run_id;
  out["artifact_uri"] = model.artifact_uri;
  out["status"] = metadata::LoggedModelStatusName(model.status);
  out["model_type"] = model.model_type;
  out["creation_timestamp_ms"] = model.creation_timestamp_ms;
  out["last_updated_timestamp_ms"] = model.last_updated_timestamp_ms;
  out["params"] = ParamsToObject(model.params);
  // A logged model can hold one value per (key, dataset), so metrics stay a list here.
  bj::array metrics;
  metrics.reserve(model.metrics.size());
  for (const auto& m : model.metrics) {
    bj::object metric{
        {"key", m.key},
        {"value", json::DoubleValue(m.value)},
        {"step", m.step},
        {"timestamp", m.timestamp},
    };
    if (m.dataset_name) metric["dataset_name"] = *m.dataset_name;
    if (m.dataset_digest) metric["dataset_digest"] = *m.dataset_digest;
    metrics.push_back(std::move(metric));
  }
  out["metrics"] = std::move(metrics);
  out["tags"] = TagsToObject(model.tags);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bj::object TagsToObject(const std::vector<metadata::Tag>& tags) {
  bj::object out;
  for (const auto& t : tags) out[t.key] = t.value;
  return out;
}

bj::object ModelVersionToJson(const metadata::ModelVersion& v) {
  bj::object out;
  out["name"] = v.name;
  out["version"] = v.version;
  out["creation_timestamp"] = v.creation_timestamp;
  out["last_updated_timestamp"] = v.last_updated_timestamp;
  out["user_id"] = v.user_id;
  out["current_stage"] = registry::StageName(v.current_stage);
  out["description"] = v.description;
  out["source"] = v.source;
  out["storage_location"] = v.storage_location;
  out["run_id"] = v.run_id;
  out["run_link"] = v.run_link;
  out["model_id"] = v.model_id;
  out["status"] = metadata::ModelVersionStatusName(v.status);
  out["status_message"] = v.status_message;
  out["tags"] = TagsToObject(v.tags);
  bj::array aliases;
  for (const auto& a : v.aliases) aliases.emplace_back(a);
  out["aliases"] = std::move(aliases);
  return out;
}

bj::object PromotionToJson(const metadata::PromotionRecord& p) {
  bj::object out;
  out["name"] = p.name;
  out["version"] = p.version;
  out["target"] = p.target;
  out["principal"] = p.principal;
  out["timestamp"] = p.timestamp;
  if (p.previous_version) out["previous_version"] = *p.previous_version;
  return out;
}

bj::object LineageToJson(const registry::Lineage& lineage) {
  bj::object out;
  out["model_version"] = ModelVersionToJson(lineage.version);
  if (lineage.run) {
    out["run"] = RunToJson(*lineage.run, lineage.experiment ? &*lineage.experiment : nullptr);
  }
  if (lineage.logged_model) out["logged_model"] = LoggedModelToJson(*lineage.logged_model);
  // Filled by the model handlers with the deployments serving the version.
  out["deployments"] = bj::array();
  return out;
}

StatusOr<std::vector<metadata::Tag>> TagsFromJson(const bj::object& msg, std::string_view field) {
  std::vector<metadata::Tag> tags;
  auto it = msg.find(field);
  if (it == msg.end() || it->value().is_null()) return tags;
  const bj::value& value = it->value();
  std::string name(field);
  if (value.is_object()) {
    for (const auto& [key, v] : value.as_object()) {
      ASSIGN_OR_RETURN(std::string s, json::AsString(v, name + "." + std::string(key)));
      tags.push_back({std::string(key), std::move(s)});
    }
    return tags;
  }
  if (!value.is_array()) {
    return InvalidArgument("Invalid value for parameter '" + name +
                           "' supplied: expected an object of strings or a list of "
                           "{key, value} objects");
  }
  const bj::array& entries = value.as_array();
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string where = name + "[" + std::to_string(i) + "]";
    if (!entries[i].is_object()) {
      return InvalidArgument("Invalid value for parameter '" + where +
                             "' supplied: expected a {key, value} object");
    }
    const bj::object& obj = entries[i].as_object();
    const bj::value* key = obj.if_contains("key");
    if (key == nullptr || key->is_null()) {
      return InvalidArgument("Missing value for required parameter '" + where + ".key'");
    }
    metadata::Tag tag;
    ASSIGN_OR_RETURN(tag.key, json::AsString(*key, where + ".key"));
    if (const bj::value* v = obj.if_contains("value"); v != nullptr && !v->is_null()) {
      ASSIGN_OR_RETURN(tag.value, json::AsString(*v, where + ".value"));
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

StatusOr<bj::object> ReadJsonBody(const http::Request& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return bj::object();
  std::optional<std::string_view> type = request.headers.Get("Content-Type");
  std::string media = type ? Lower(Trim(type->substr(0, type->find(';')))) : std::string();
  if (media != "application/json") {
    return InvalidArgument("Bad Request. Content-Type must be \"application/json\", got \"" +
                           std::string(type.value_or("")) + "\"");
  }
  return json::ParseObject(request.body);
}

std::string EncodeVersionPageToken(int64_t below_version) { return std::to_string(below_version); }

StatusOr<std::optional<int64_t>> DecodeVersionPageToken(std::string_view token) {
  if (token.empty()) return std::optional<int64_t>();
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || ptr != token.data() + token.size() || value < 1 ||
      !std::isdigit(static_cast<unsigned char>(token.front()))) {
    return InvalidArgument("Invalid page token");
  }
  return std::optional<int64_t>(value);
}

}  // namespace cairn::api::v1
