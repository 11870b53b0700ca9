#include "api/mlflow/eval_dataset_handlers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "api/mlflow/search_params.h"
#include "base/json.h"
#include "filter/filter.h"
#include "http/error_response.h"
#include "metadata/eval_dataset_rules.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::EvalDataset;
using metadata::EvalDatasetRecord;
using metadata::EvalRecordUpsert;
using metadata::eval_datasets::PythonJsonDumps;

constexpr int64_t kDefaultSearchMax = 1000;
constexpr int64_t kMaxSearchMax = 50000;  // MLflow's SEARCH_MAX_RESULTS_THRESHOLD
constexpr int64_t kRecordsPage = 1000;    // MLflow's LOAD_DATASET_RECORDS_MAX_RESULTS
constexpr size_t kMaxNameBytes = 255;     // MLflow's column sizes
constexpr size_t kMaxTagKeyBytes = 255;
constexpr size_t kMaxTagValueBytes = 5000;
constexpr size_t kMaxIdsPerCall = 10000;
constexpr uint64_t kMaxRecordsBody = 16 << 20;
constexpr std::string_view kUserTag = "mlflow.user";

// Parses a string field that holds JSON text (MLflow's tags, records). Nesting is bounded.
StatusOr<std::optional<bj::value>> JsonTextField(const bj::object& msg, std::string_view field,
                                                 bool required) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, json::GetString(msg, field));
  if (!text || text->empty()) {
    if (!required) return std::optional<bj::value>();
    return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'");
  }
  bj::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  bj::value value = bj::parse(*text, ec, {}, options);
  if (ec) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "': not valid JSON (" + ec.message() + ")");
  }
  return std::optional<bj::value>(std::move(value));
}

// Python's str() of a tag value, as MLflow stores it.
std::string TagValue(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "True" : "False";
  return PythonJsonDumps(v);
}

// A JSON object of tags: nulls skipped (as MLflow does), keys and values bounded.
StatusOr<std::vector<metadata::Tag>> TagsFromObject(const bj::value& value,
                                                    std::string_view field) {
  if (!value.is_object()) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "': expected a JSON object of tags");
  }
  std::vector<metadata::Tag> tags;
  for (const bj::key_value_pair& kv : value.get_object()) {
    if (kv.value().is_null()) continue;
    if (kv.key().empty() || kv.key().size() > kMaxTagKeyBytes) {
      return InvalidArgument("Tag keys must be 1 to " + std::to_string(kMaxTagKeyBytes) +
                             " bytes long");
    }
    std::string v = TagValue(kv.value());
    if (v.size() > kMaxTagValueBytes) {
      return InvalidArgument("Tag '" + std::string(kv.key()) + "' has a value longer than " +
                             std::to_string(kMaxTagValueBytes) + " bytes");
    }
    tags.push_back({std::string(kv.key()), std::move(v)});
  }
  return tags;
}

bj::object DatasetToJson(const EvalDataset& d,
                         const std::vector<std::string>* experiment_ids = nullptr) {
  bj::object o;
  o["dataset_id"] = d.id;
  o["name"] = d.name;
  bj::object tags;
  for (const metadata::Tag& t : d.tags) tags[t.key] = t.value;
  o["tags"] = PythonJsonDumps(tags);
  if (d.schema) o["schema"] = *d.schema;
  if (d.profile) o["profile"] = *d.profile;
  o["digest"] = d.digest;
  o["created_time"] = d.created_time_ms;
  o["last_update_time"] = d.last_update_time_ms;
  if (d.created_by) o["created_by"] = *d.created_by;
  if (d.last_updated_by) o["last_updated_by"] = *d.last_updated_by;
  if (experiment_ids != nullptr && !experiment_ids->empty()) {
    bj::array ids;
    for (const std::string& id : *experiment_ids) ids.emplace_back(id);
    o["experiment_ids"] = std::move(ids);
  }
  return o;
}

bj::value ParseStored(const std::string& text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  return ec ? bj::value() : v;
}

// MLflow's DatasetRecord.to_dict(): the proto's fields in field order, JSON fields parsed.
bj::object RecordToJson(const EvalDatasetRecord& r) {
  bj::object o;
  o["dataset_record_id"] = r.id;
  o["dataset_id"] = r.dataset_id;
  o["inputs"] = ParseStored(r.inputs);
  if (r.expectations) o["expectations"] = ParseStored(*r.expectations);
  o["tags"] = ParseStored(r.tags);
  if (r.source) o["source"] = ParseStored(*r.source);
  if (r.source_id) o["source_id"] = *r.source_id;
  if (r.source_type) o["source_type"] = *r.source_type;
  o["created_time"] = r.created_time_ms;
  o["last_update_time"] = r.last_update_time_ms;
  if (r.created_by) o["created_by"] = *r.created_by;
  if (r.last_updated_by) o["last_updated_by"] = *r.last_updated_by;
  if (r.outputs) o["outputs"] = ParseStored(*r.outputs);
  return o;
}

std::optional<std::string> SourceType(std::string_view given) {
  std::string upper(given);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view known : {"UNSPECIFIED", "TRACE", "HUMAN", "DOCUMENT", "CODE"}) {
    if (upper == known) return upper;
  }
  return std::nullopt;
}

// One record of an upsert: {"inputs": {...}, "outputs": any, "expectations": {...},
// "tags": {...}, "source": {"source_type": "...", "source_data": {...}}}.
StatusOr<EvalRecordUpsert> RecordFromJson(const bj::value& value, size_t index, IdGenerator& ids) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgument("Invalid record at index " + std::to_string(index) + ": " +
                           std::string(why));
  };
  if (!value.is_object()) return invalid("each record must be a JSON object");
  const bj::object& r = value.get_object();
  EvalRecordUpsert u;
  u.new_record_id = "dr-" + ids.Hex32();
  bj::value inputs = bj::object();
  if (const bj::value* given = r.if_contains("inputs"); given != nullptr) {
    if (!given->is_object()) return invalid("'inputs' must be a JSON object");
    inputs = *given;
  }
  u.inputs = PythonJsonDumps(inputs);
  u.input_hash = metadata::eval_datasets::InputHash(inputs);
  if (const bj::value* outputs = r.if_contains("outputs"); outputs != nullptr) {
    u.has_outputs = true;
    if (!outputs->is_null()) u.outputs = PythonJsonDumps(*outputs);
  }
  if (const bj::value* e = r.if_contains("expectations"); e != nullptr && !e->is_null()) {
    if (!e->is_object()) return invalid("'expectations' must be a JSON object");
    u.expectations = PythonJsonDumps(*e);
  }
  if (const bj::value* tags = r.if_contains("tags"); tags != nullptr && !tags->is_null()) {
    if (!tags->is_object()) return invalid("'tags' must be a JSON object");
    for (const bj::key_value_pair& kv : tags->get_object()) {
      if (kv.key().size() > kMaxTagKeyBytes) return invalid("a tag key is too long");
    }
    u.tags = PythonJsonDumps(*tags);
    if (const bj::value* user = tags->get_object().if_contains(kUserTag); user != nullptr) {
      u.user = TagValue(*user);
    }
  }
  if (const bj::value* source = r.if_contains("source"); source != nullptr && !source->is_null()) {
    if (!source->is_object()) return invalid("'source' must be a JSON object");
    const bj::object& s = source->get_object();
    std::string type = "UNSPECIFIED";
    bj::object data;
    for (const bj::key_value_pair& kv : s) {
      if (kv.key() == "source_type") {
        std::optional<std::string> parsed =
            kv.value().is_string() ? SourceType(kv.value().get_string()) : std::nullopt;
        if (!parsed) {
          return InvalidArgument(
              "Invalid dataset record source type: " +
              (kv.value().is_string() ? std::string(kv.value().get_string())
                                      : PythonJsonDumps(kv.value())) +
              ". Valid source types: ['UNSPECIFIED', 'TRACE', 'HUMAN', 'DOCUMENT', 'CODE']");
        }
        type = *parsed;
      } else if (kv.key() == "source_data") {
        if (kv.value().is_null()) continue;
        if (!kv.value().is_object()) return invalid("'source_data' must be a JSON object");
        data = kv.value().get_object();
      } else {
        return invalid("unknown source field '" + std::string(kv.key()) + "'");
      }
    }
    if (!s.contains("source_type")) return invalid("'source' needs a 'source_type'");
    const bj::value* id = data.if_contains(type == "TRACE" ? "trace_id" : "source_id");
    if (id != nullptr && !id->is_null()) u.source_id = TagValue(*id);
    u.source_type = type;
    u.source = PythonJsonDumps(bj::object{{"source_type", type}, {"source_data", data}});
  }
  return u;
}

// A repeated string field; a lone string stands for a list only in a query string.
StatusOr<std::vector<std::string>> BoundedIds(const http::Request& req, const bj::object& msg,
                                              std::string_view field) {
  const bj::value* given = msg.if_contains(field);
  if (given != nullptr && given->is_string() && req.method != http::Method::kGet) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "' supplied: expected a list");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids, StringsFromJson(msg, field));
  if (ids.size() > kMaxIdsPerCall) {
    return InvalidArgument("Too many values for parameter '" + std::string(field) + "': at most " +
                           std::to_string(kMaxIdsPerCall));
  }
  return ids;
}

// Record pages: base64 of "<created_time>:<record id>" after the page's last record.
std::string EncodeRecordCursor(const EvalDatasetRecord& last) {
  return Base64Encode(std::to_string(last.created_time_ms) + ":" + last.id);
}

StatusOr<std::optional<metadata::EvalDatasetStore::RecordCursor>> DecodeRecordCursor(
    std::string_view token) {
  using Cursor = metadata::EvalDatasetStore::RecordCursor;
  if (token.empty()) return std::optional<Cursor>();
  auto invalid = [] { return InvalidArgument("Invalid page token"); };
  if (token.size() > 1024) return invalid();
  StatusOr<std::string> decoded = Base64Decode(token);
  if (!decoded.ok()) return invalid();
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return invalid();
  Cursor cursor;
  const char* begin = decoded->data();
  auto [end, ec] = std::from_chars(begin, begin + colon, cursor.created_time_ms);
  if (ec != std::errc() || end != begin + colon || colon == 0) return invalid();
  cursor.id = decoded->substr(colon + 1);
  return std::optional<Cursor>(std::move(cursor));
}

}  // namespace

EvalDatasetHandlers::EvalDatasetHandlers(metadata::EvalDatasetStore& store,
                                         tracking::TrackingService& tracking, const Clock& clock,
                                         IdGenerator& ids)
    : store_(store), tracking_(tracking), clock_(clock), ids_(ids) {}

void EvalDatasetHandlers::Add(http::Router& router, http::Method method, std::string_view path,
                              Method fn, std::initializer_list<std::string_view> repeated) {
  std::vector<std::string_view> repeated_copy(repeated);
  auto handler = [this, fn, repeated_copy](http::Request& req) -> http::Response {
    StatusOr<bj::object> msg = ReadMessage(req, repeated_copy);
    if (!msg.ok()) return http::ErrorResponse(msg.status());
    JsonResult result = (this->*fn)(req, *msg);
    if (!result.ok()) return http::ErrorResponse(result.status());
    return http::Response::Json(200, bj::serialize(*result));
  };
  http::RouteOptions options;
  options.permission = MlflowRoutePermission(method, path);
  if (method == http::Method::kPost && path.ends_with("/records")) {
    options.max_body_bytes = kMaxRecordsBody;
  }
  for (std::string_view prefix : {"/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/"}) {
    router.Add(method, std::string(prefix) + std::string(path), handler, options);
  }
}

void EvalDatasetHandlers::Register(http::Router& router) {
  using M = http::Method;
  using H = EvalDatasetHandlers;
  Add(router, M::kPost, "datasets/create", &H::Create);
  Add(router, M::kPost, "datasets/search", &H::Search, {"experiment_ids", "order_by"});
  Add(router, M::kGet, "datasets/search", &H::Search, {"experiment_ids", "order_by"});
  Add(router, M::kGet, "datasets/{dataset_id}", &H::Get);
  Add(router, M::kDelete, "datasets/{dataset_id}", &H::Delete);
  Add(router, M::kPatch, "datasets/{dataset_id}/tags", &H::SetTags);
  Add(router, M::kDelete, "datasets/{dataset_id}/tags/{key}", &H::DeleteTag);
  Add(router, M::kPost, "datasets/{dataset_id}/records", &H::UpsertRecords);
  Add(router, M::kGet, "datasets/{dataset_id}/records", &H::GetRecords);
  Add(router, M::kDelete, "datasets/{dataset_id}/records", &H::DeleteRecords,
      {"dataset_record_ids"});
  Add(router, M::kGet, "datasets/{dataset_id}/experiment-ids", &H::GetExperimentIds);
  Add(router, M::kPost, "datasets/{dataset_id}/add-experiments", &H::AddExperiments,
      {"experiment_ids"});
  Add(router, M::kPost, "datasets/{dataset_id}/remove-experiments", &H::RemoveExperiments,
      {"experiment_ids"});
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::Create(const http::Request& req,
                                                            const bj::object& msg) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(msg, "name"));
  ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids, BoundedIds(req, msg, "experiment_ids"));
  ASSIGN_OR_RETURN(std::optional<bj::value> tags_json, JsonTextField(msg, "tags", false));
  if (name.size() > kMaxNameBytes) {
    return InvalidArgument("Dataset name is longer than " + std::to_string(kMaxNameBytes) +
                           " bytes");
  }
  EvalDataset d;
  if (tags_json) {
    ASSIGN_OR_RETURN(d.tags, TagsFromObject(*tags_json, "tags"));
  }
  for (const metadata::Tag& t : d.tags) {
    if (t.key == kUserTag) d.created_by = d.last_updated_by = t.value;
  }
  int64_t now = clock_.NowMillis();
  d.id = "d-" + ids_.Hex32();
  d.name = std::move(name);
  d.digest = metadata::eval_datasets::DatasetDigest(d.name, now);
  d.created_time_ms = now;
  d.last_update_time_ms = now;
  RETURN_IF_ERROR(store_.CreateDataset(req.scope.tenant, d, experiment_ids));
  return bj::object{{"dataset", DatasetToJson(d, &experiment_ids)}};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::Get(const http::Request& req,
                                                         const bj::object&) {
  ASSIGN_OR_RETURN(EvalDataset d, store_.GetDataset(req.scope.tenant, req.PathParam("dataset_id")));
  return bj::object{{"dataset", DatasetToJson(d)}};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::Delete(const http::Request& req,
                                                            const bj::object&) {
  RETURN_IF_ERROR(store_.DeleteDataset(req.scope.tenant, req.PathParam("dataset_id")).status());
  return bj::object{};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::Search(const http::Request& req,
                                                            const bj::object& msg) {
  metadata::SearchEvalDatasetsQuery q;
  ASSIGN_OR_RETURN(q.experiment_ids, BoundedIds(req, msg, "experiment_ids"));
  ASSIGN_OR_RETURN(std::string filter_text, OptionalString(msg, "filter_string"));
  ASSIGN_OR_RETURN(int64_t max_results, OptionalInt(msg, "max_results", 0));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  if (max_results == 0) max_results = kDefaultSearchMax;
  if (max_results < 1) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be a positive integer");
  }
  if (max_results > kMaxSearchMax) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(kMaxSearchMax));
  }
  q.max_results = max_results;
  ASSIGN_OR_RETURN(q.offset, DecodePageToken(token));
  ASSIGN_OR_RETURN(q.filter,
                   filter::ParseFilter(filter_text, filter::SearchKind::kEvaluationDatasets));
  for (const filter::Clause& clause : q.filter.clauses) {
    const double* number = std::get_if<double>(&clause.value);
    if (number != nullptr && std::floor(*number) != *number) {
      return InvalidArgument("Invalid value for numeric attribute '" + clause.key + "': '" +
                             PythonJsonDumps(bj::value(*number)) + "'");
    }
  }
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(msg, filter::SearchKind::kEvaluationDatasets));
  ASSIGN_OR_RETURN(metadata::ResultPage<EvalDataset> page,
                   store_.SearchDatasets(req.scope.tenant, q));
  bj::object out;
  if (!page.items.empty()) {
    bj::array datasets;
    for (const EvalDataset& d : page.items) datasets.push_back(DatasetToJson(d));
    out["datasets"] = std::move(datasets);
  }
  if (page.has_more) out["next_page_token"] = EncodePageToken(q.offset + q.max_results);
  return out;
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::SetTags(const http::Request& req,
                                                             const bj::object& msg) {
  ASSIGN_OR_RETURN(std::optional<bj::value> tags_json, JsonTextField(msg, "tags", true));
  ASSIGN_OR_RETURN(std::vector<metadata::Tag> tags, TagsFromObject(*tags_json, "tags"));
  RETURN_IF_ERROR(store_.SetDatasetTags(req.scope.tenant, req.PathParam("dataset_id"), tags));
  return bj::object{};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::DeleteTag(const http::Request& req,
                                                               const bj::object&) {
  RETURN_IF_ERROR(
      store_.DeleteDatasetTag(req.scope.tenant, req.PathParam("dataset_id"), req.PathParam("key")));
  return bj::object{};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::UpsertRecords(const http::Request& req,
                                                                   const bj::object& msg) {
  ASSIGN_OR_RETURN(std::optional<bj::value> records_json, JsonTextField(msg, "records", true));
  if (!records_json->is_array()) {
    return InvalidArgument("Invalid value for parameter 'records': expected a JSON array");
  }
  const bj::array& given = records_json->get_array();
  if (given.size() > kMaxRecordsPerUpsert) {
    return InvalidArgument("Too many records in one upsert: " + std::to_string(given.size()) +
                           " (at most " + std::to_string(kMaxRecordsPerUpsert) + ")");
  }
  std::vector<EvalRecordUpsert> records;
  records.reserve(given.size());
  for (size_t i = 0; i < given.size(); ++i) {
    ASSIGN_OR_RETURN(EvalRecordUpsert u, RecordFromJson(given[i], i, ids_));
    records.push_back(std::move(u));
  }
  ASSIGN_OR_RETURN(metadata::EvalRecordUpsertResult result,
                   store_.UpsertRecords(req.scope.tenant, req.PathParam("dataset_id"), records,
                                        clock_.NowMillis()));
  return bj::object{{"inserted_count", result.inserted}, {"updated_count", result.updated}};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::GetRecords(const http::Request& req,
                                                                const bj::object& msg) {
  ASSIGN_OR_RETURN(int64_t max_results, OptionalInt(msg, "max_results", 0));
  ASSIGN_OR_RETURN(std::string token, OptionalString(msg, "page_token"));
  if (max_results <= 0 || max_results > kRecordsPage) max_results = kRecordsPage;
  ASSIGN_OR_RETURN(std::optional<metadata::EvalDatasetStore::RecordCursor> after,
                   DecodeRecordCursor(token));
  ASSIGN_OR_RETURN(
      metadata::ResultPage<EvalDatasetRecord> page,
      store_.GetRecords(req.scope.tenant, req.PathParam("dataset_id"), max_results, after));
  bj::array records;
  for (const EvalDatasetRecord& r : page.items) records.push_back(RecordToJson(r));
  bj::object out{{"records", PythonJsonDumps(records)}};
  if (page.has_more && !page.items.empty()) {
    out["next_page_token"] = EncodeRecordCursor(page.items.back());
  }
  return out;
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::DeleteRecords(const http::Request& req,
                                                                   const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, BoundedIds(req, msg, "dataset_record_ids"));
  ASSIGN_OR_RETURN(int64_t deleted,
                   store_.DeleteRecords(req.scope.tenant, req.PathParam("dataset_id"), ids));
  return bj::object{{"deleted_count", deleted}};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::GetExperimentIds(const http::Request& req,
                                                                      const bj::object&) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids,
                   store_.GetExperimentIds(req.scope.tenant, req.PathParam("dataset_id")));
  bj::object out;
  if (!ids.empty()) {
    bj::array array;
    for (const std::string& id : ids) array.emplace_back(id);
    out["experiment_ids"] = std::move(array);
  }
  return out;
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::AddExperiments(const http::Request& req,
                                                                    const bj::object& msg) {
  std::string id = req.PathParam("dataset_id");
  ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids, BoundedIds(req, msg, "experiment_ids"));
  if (Status found = store_.GetDataset(req.scope.tenant, id).status(); !found.ok()) {
    if (found.code() == StatusCode::kNotFound) return NotFound("Dataset '" + id + "' not found");
    return found;
  }
  for (const std::string& e : experiment_ids) {
    if (!tracking_.GetExperiment(req.scope, e).ok()) {
      return NotFound("No Experiment with id=" + e);
    }
  }
  ASSIGN_OR_RETURN(EvalDataset d,
                   store_.AddExperiments(req.scope.tenant, id, experiment_ids, clock_.NowMillis()));
  return bj::object{{"dataset", DatasetToJson(d)}};
}

EvalDatasetHandlers::JsonResult EvalDatasetHandlers::RemoveExperiments(const http::Request& req,
                                                                       const bj::object& msg) {
  ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids, BoundedIds(req, msg, "experiment_ids"));
  ASSIGN_OR_RETURN(EvalDataset d,
                   store_.RemoveExperiments(req.scope.tenant, req.PathParam("dataset_id"),
                                            experiment_ids, clock_.NowMillis()));
  return bj::object{{"dataset", DatasetToJson(d)}};
}

}  // namespace cairn::api::mlflow
