#include "api/mlflow/scorer_handlers.h"

#include <charconv>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "base/json.h"
#include "filter/filter.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::OnlineScoringConfig;
using metadata::ScorerVersion;

constexpr std::string_view kDocsHint =
    ". See the API docs for more information about request parameters.";

constexpr std::string_view kCustomScorerRefused =
    "Custom scorer registration (using @scorer decorator) is disabled by default outside of "
    "Databricks tracking environments due to security concerns. Custom scorers require "
    "arbitrary code execution during deserialization.";

Status Missing(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'" +
                         std::string(kDocsHint));
}

StatusOr<std::string> Required(const bj::object& msg, std::string_view field) {
  const bj::value* v = msg.if_contains(field);
  if (v == nullptr || v->is_null()) return Missing(field);
  if (!v->is_string()) {
    return InvalidArgument("Invalid value " + bj::serialize(*v).substr(0, 100) +
                           " for parameter '" + std::string(field) +
                           "' supplied: expected a string");
  }
  if (v->get_string().empty()) return Missing(field);
  return std::string(v->get_string());
}

StatusOr<std::string> ExperimentId(const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string id, Required(msg, "experiment_id"));
  if (id.size() > 32) return InvalidArgument("Invalid experiment ID '" + id.substr(0, 40) + "'");
  return id;
}

StatusOr<std::string> Name(const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, Required(msg, "name"));
  if (name.size() > ScorerHandlers::kMaxNameLength) {
    return InvalidArgument("Scorer name is longer than " +
                           std::to_string(ScorerHandlers::kMaxNameLength) + " characters");
  }
  return name;
}

StatusOr<std::optional<int64_t>> Version(const bj::object& msg) {
  StatusOr<std::optional<int64_t>> v = json::GetInt64(msg, "version");
  if (!v.ok()) {
    return InvalidArgument("Invalid value for parameter 'version' supplied: expected an integer");
  }
  return *v;
}

bool HasCallSource(const bj::value& v) {
  if (v.is_object()) {
    const bj::object& o = v.get_object();
    if (const bj::value* call = o.if_contains("call_source"); call && !call->is_null()) {
      return true;
    }
    for (const auto& [k, child] : o) {
      if (HasCallSource(child)) return true;
    }
  } else if (v.is_array()) {
    for (const bj::value& child : v.get_array()) {
      if (HasCallSource(child)) return true;
    }
  }
  return false;
}

// The judge model a serialized scorer names, where MLflow looks for it; nullptr when none.
const bj::value* ModelOf(const bj::object& data, int depth = 0) {
  for (std::string_view key : {"instructions_judge_pydantic_data", "builtin_scorer_pydantic_data",
                               "third_party_scorer_data"}) {
    const bj::value* section = data.if_contains(key);
    if (section != nullptr && section->is_object() && !section->get_object().empty()) {
      return section->get_object().if_contains("model");
    }
  }
  const bj::value* memory = data.if_contains("memory_augmented_judge_data");
  if (depth < 8 && memory != nullptr && memory->is_object()) {
    const bj::value* base = memory->get_object().if_contains("base_judge");
    if (base != nullptr && base->is_object()) return ModelOf(base->get_object(), depth + 1);
  }
  return nullptr;
}

bool IsGatewayModel(std::string_view model) { return model.starts_with("gateway:/"); }

Status ValidateSerializedScorer(std::string_view text) {
  boost::system::error_code ec;
  bj::value parsed = bj::parse(text, ec);
  if (ec) return InvalidArgument("serialized_scorer must be valid JSON");
  if (HasCallSource(parsed)) return InvalidArgument(std::string(kCustomScorerRefused));
  if (!parsed.is_object()) return Status::Ok();
  const bj::value* model = ModelOf(parsed.get_object());
  if (model == nullptr || model->is_null()) return Status::Ok();
  if (!model->is_string()) {
    return InvalidArgument("Scorer model must be a string, got " +
                           std::string(model->is_number() ? "int" : "dict") + ".");
  }
  std::string_view m = model->get_string();
  if (m.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgument("Scorer model cannot be empty or contain only whitespace.");
  }
  if (IsGatewayModel(m)) {
    return InvalidArgument("Scorer model '" + std::string(m.substr(0, 200)) +
                           "' names an AI gateway endpoint; this server has no AI gateway");
  }
  return Status::Ok();
}

bj::object ScorerToJson(const ScorerVersion& v) {
  bj::object o;
  int64_t experiment = 0;
  std::from_chars(v.experiment_id.data(), v.experiment_id.data() + v.experiment_id.size(),
                  experiment);
  o["experiment_id"] = experiment;  // int32 in MLflow's Scorer message
  o["scorer_name"] = v.name;
  o["scorer_version"] = v.version;
  o["serialized_scorer"] = v.serialized_scorer;
  o["creation_time"] = v.creation_time_ms;
  o["scorer_id"] = v.scorer_id;
  return o;
}

bj::object ScorerListToJson(const std::vector<ScorerVersion>& list) {
  bj::object out;
  PutList(out, "scorers", list, ScorerToJson);
  return out;
}

bj::object ConfigToJson(const OnlineScoringConfig& c) {
  bj::object o;
  o["online_scoring_config_id"] = c.config_id;
  o["scorer_id"] = c.scorer_id;
  o["sample_rate"] = c.sample_rate;
  o["experiment_id"] = c.experiment_id;
  if (c.filter_string) o["filter_string"] = *c.filter_string;
  return o;
}

StatusOr<std::vector<std::string>> StringArray(const bj::object& msg, std::string_view field,
                                               bool required) {
  const bj::value* v = msg.if_contains(field);
  if (v == nullptr || v->is_null()) {
    if (required) return Missing(field);
    return std::vector<std::string>{};
  }
  if (!v->is_array()) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "' supplied: expected a list of strings");
  }
  std::vector<std::string> out;
  for (const bj::value& item : v->get_array()) {
    if (!item.is_string()) {
      return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                             "' supplied: expected a list of strings");
    }
    out.emplace_back(item.get_string());
  }
  if (out.size() > ScorerHandlers::kMaxIdsPerRequest) {
    return InvalidArgument("At most " + std::to_string(ScorerHandlers::kMaxIdsPerRequest) +
                           " values may be given for '" + std::string(field) + "'");
  }
  return out;
}

}  // namespace

ScorerHandlers::ScorerHandlers(metadata::ScorerStore& store, const Clock& clock, IdGenerator& ids)
    : store_(store), clock_(clock), ids_(ids) {}

void ScorerHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                         Method fn) {
  auto handler = [this, fn](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, {"experiment_ids", "scorer_ids"});
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.max_body_bytes = 4 << 20;  // one serialized scorer
  options.permission = MlflowRoutePermission(method, path);
  for (std::string_view api : {"/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"}) {
    router.Add(method, std::string(api) + std::string(path), handler, options);
  }
}

void ScorerHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = ScorerHandlers;
  Add(router, M::kPost, "scorers/register", &H::RegisterScorer);
  Add(router, M::kGet, "scorers/list", &H::ListScorers);
  Add(router, M::kGet, "scorers/versions", &H::ListScorerVersions);
  Add(router, M::kGet, "scorers/get", &H::GetScorer);
  Add(router, M::kDelete, "scorers/delete", &H::DeleteScorer);
  Add(router, M::kGet, "scorers/online-configs", &H::GetOnlineConfigs);
  Add(router, M::kPut, "scorers/online-config", &H::UpsertOnlineConfig);
}

ScorerHandlers::JsonResult ScorerHandlers::RegisterScorer(const http::Request& req,
                                                          const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(msg));
  ASSIGN_OR_RETURN(std::string name, Name(msg));
  ASSIGN_OR_RETURN(std::string serialized, Required(msg, "serialized_scorer"));
  if (serialized.size() > kMaxSerializedScorerBytes) {
    return InvalidArgument("serialized_scorer is larger than " +
                           std::to_string(kMaxSerializedScorerBytes) + " bytes");
  }
  RETURN_IF_ERROR(ValidateSerializedScorer(serialized));
  if (name.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("Scorer name cannot be empty or contain only whitespace.");
  }
  std::string new_id = ids_.Hex32();
  new_id = new_id.substr(0, 8) + "-" + new_id.substr(8, 4) + "-" + new_id.substr(12, 4) + "-" +
           new_id.substr(16, 4) + "-" + new_id.substr(20);  // uuid4's printed shape, as MLflow
  ASSIGN_OR_RETURN(ScorerVersion v, store_.RegisterScorer(req.scope.tenant, experiment_id, name,
                                                          serialized, new_id, clock_.NowMillis()));
  return bj::object{{"version", v.version},
                    {"scorer_id", v.scorer_id},
                    {"experiment_id", v.experiment_id},
                    {"name", v.name},
                    {"serialized_scorer", v.serialized_scorer},
                    {"creation_time", v.creation_time_ms}};
}

ScorerHandlers::JsonResult ScorerHandlers::ListScorers(const http::Request& req,
                                                       const bj::object& msg) {
  ASSIGN_OR_RETURN(std::optional<std::string> experiment_id, json::GetString(msg, "experiment_id"));
  bool has_ids = msg.contains("experiment_ids") && !msg.at("experiment_ids").is_null();
  if (experiment_id && !experiment_id->empty() && has_ids) {
    return InvalidArgument(
        "Cannot specify both 'experiment_id' and 'experiment_ids'. Use 'experiment_ids' to scope "
        "the query to multiple experiments, or 'experiment_id' to scope it to a single "
        "experiment.");
  }
  if (has_ids) {
    ASSIGN_OR_RETURN(std::vector<std::string> ids, StringArray(msg, "experiment_ids", false));
    for (const std::string& id : ids) {
      if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
        return InvalidArgument("Invalid experiment ID: '" + id.substr(0, 40) + "'");
      }
    }
    ASSIGN_OR_RETURN(auto list, store_.ListScorersAcrossExperiments(req.scope.tenant, ids));
    return ScorerListToJson(list);
  }
  if (experiment_id && !experiment_id->empty()) {
    ASSIGN_OR_RETURN(auto list, store_.ListScorers(req.scope.tenant, *experiment_id));
    return ScorerListToJson(list);
  }
  ASSIGN_OR_RETURN(auto list, store_.ListScorersAcrossExperiments(req.scope.tenant, std::nullopt));
  return ScorerListToJson(list);
}

ScorerHandlers::JsonResult ScorerHandlers::ListScorerVersions(const http::Request& req,
                                                              const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(msg));
  ASSIGN_OR_RETURN(std::string name, Name(msg));
  ASSIGN_OR_RETURN(auto list, store_.ListScorerVersions(req.scope.tenant, experiment_id, name));
  return ScorerListToJson(list);
}

ScorerHandlers::JsonResult ScorerHandlers::GetScorer(const http::Request& req,
                                                     const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(msg));
  ASSIGN_OR_RETURN(std::string name, Name(msg));
  ASSIGN_OR_RETURN(std::optional<int64_t> version, Version(msg));
  ASSIGN_OR_RETURN(ScorerVersion v,
                   store_.GetScorer(req.scope.tenant, experiment_id, name, version));
  return bj::object{{"scorer", ScorerToJson(v)}};
}

ScorerHandlers::JsonResult ScorerHandlers::DeleteScorer(const http::Request& req,
                                                        const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(msg));
  ASSIGN_OR_RETURN(std::string name, Name(msg));
  ASSIGN_OR_RETURN(std::optional<int64_t> version, Version(msg));
  RETURN_IF_ERROR(store_.DeleteScorer(req.scope.tenant, experiment_id, name, version));
  return bj::object{};
}

ScorerHandlers::JsonResult ScorerHandlers::GetOnlineConfigs(const http::Request& req,
                                                            const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, StringArray(msg, "scorer_ids", true));
  ASSIGN_OR_RETURN(auto configs, store_.GetOnlineScoringConfigs(req.scope.tenant, ids));
  bj::array items;
  for (const OnlineScoringConfig& c : configs) items.push_back(ConfigToJson(c));
  return bj::object{{"configs", std::move(items)}};
}

ScorerHandlers::JsonResult ScorerHandlers::UpsertOnlineConfig(const http::Request& req,
                                                              const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(msg));
  ASSIGN_OR_RETURN(std::string name, Name(msg));
  const bj::value* rate = msg.if_contains("sample_rate");
  if (rate == nullptr || rate->is_null()) return Missing("sample_rate");
  if (!rate->is_number()) {
    return InvalidArgument("sample_rate must be a number, got " +
                           std::string(rate->is_string() ? "str" : "object"));
  }
  boost::system::error_code ec;
  double sample_rate = rate->to_number<double>(ec);
  if (!(sample_rate >= 0.0 && sample_rate <= 1.0)) {
    return InvalidArgument("sample_rate must be between 0.0 and 1.0, got " + bj::serialize(*rate));
  }
  std::optional<std::string> filter_string;
  if (const bj::value* f = msg.if_contains("filter_string"); f != nullptr && !f->is_null()) {
    if (!f->is_string()) {
      return InvalidArgument("Invalid value " + bj::serialize(*f).substr(0, 100) +
                             " for parameter 'filter_string' supplied: Expected type 'str' or "
                             "None.");
    }
    filter_string = std::string(f->get_string());
    if (!filter_string->empty()) {
      RETURN_IF_ERROR(filter::ParseFilter(*filter_string, filter::SearchKind::kTraces).status());
    }
  }
  if (sample_rate > 0) {
    // Only a gateway model can be run by the server, and this server has none (registration
    // refuses gateway models), so no registered scorer qualifies.
    RETURN_IF_ERROR(store_.GetScorer(req.scope.tenant, experiment_id, name, std::nullopt).status());
    return InvalidArgument("Scorer '" + name +
                           "' does not use a gateway model. Automatic evaluation is only "
                           "supported for scorers that use gateway models.");
  }
  ASSIGN_OR_RETURN(OnlineScoringConfig config,
                   store_.UpsertOnlineScoringConfig(req.scope.tenant, experiment_id, name,
                                                    sample_rate, filter_string, ids_.Hex32()));
  return bj::object{{"config", ConfigToJson(config)}};
}

}  // namespace cairn::api::mlflow
