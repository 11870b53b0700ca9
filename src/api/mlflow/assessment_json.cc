#include "api/mlflow/assessment_json.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/mlflow/trace_handlers.h"
#include "base/json.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
using metadata::Assessment;
using metadata::AssessmentKind;
using metadata::Tag;

constexpr std::string_view kJsonFormat = "JSON_FORMAT";
constexpr std::string_view kSourceRunIdKey = "mlflow.assessment.sourceRunId";
constexpr std::string_view kSourceTypes[] = {"SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE",
                                             "CODE"};

bj::value ParseStored(const std::string& text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  return ec ? bj::value(nullptr) : v;
}

Status TooLong(std::string_view field, size_t limit) {
  return InvalidArgument("Invalid value for '" + std::string(field) + "': longer than " +
                         std::to_string(limit) + " bytes");
}

StatusOr<std::optional<std::string>> BoundedString(const bj::object& obj, std::string_view key,
                                                   std::string_view field, size_t limit) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(obj, key));
  if (v && v->size() > limit) return TooLong(field, limit);
  return v;
}

// A value serialized for storage, within the size limit.
StatusOr<std::string> StoredValue(const bj::value& v, std::string_view field) {
  std::string text = bj::serialize(v);
  if (text.size() > kMaxAssessmentValueBytes) return TooLong(field, kMaxAssessmentValueBytes);
  return text;
}

StatusOr<std::string> SourceTypeFromJson(const bj::value& v) {
  if (v.is_string()) {
    std::string_view name = v.get_string();
    if (name == "AI_JUDGE") return std::string("LLM_JUDGE");  // MLflow's deprecated spelling
    for (std::string_view known : kSourceTypes) {
      if (name == known) return std::string(known);
    }
  } else if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() < 4) {
    return std::string(kSourceTypes[v.get_int64()]);
  }
  if (v.is_string() || v.is_int64()) {
    // As proto3 JSON parsing does (and so MLflow): an unknown enum value is left unset.
    return std::string(kSourceTypes[0]);
  }
  std::string shown = bj::serialize(v).substr(0, 100);
  return InvalidArgument("Invalid value " + shown +
                         " for 'source.source_type': expected one of HUMAN, LLM_JUDGE, CODE, "
                         "SOURCE_TYPE_UNSPECIFIED");
}

StatusOr<std::optional<int64_t>> OptionalTime(const bj::object& obj, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, json::GetString(obj, key));
  if (!text) return std::optional<int64_t>{};
  // MLflow's server drops a timestamp it cannot parse (the server's time is used instead).
  StatusOr<int64_t> ms = ParseTimestampMillis(*text);
  if (!ms.ok() || *ms <= 0) return std::optional<int64_t>{};
  return std::optional<int64_t>{*ms};
}

StatusOr<std::vector<Tag>> MetadataFromJson(const bj::object& obj) {
  std::vector<Tag> out;
  ASSIGN_OR_RETURN(const bj::object* metadata, json::GetObject(obj, "metadata"));
  if (metadata == nullptr) return out;
  if (metadata->size() > kMaxAssessmentMetadataEntries) {
    return InvalidArgument("An assessment may carry at most " +
                           std::to_string(kMaxAssessmentMetadataEntries) + " metadata entries");
  }
  std::map<std::string, std::string> sorted;
  for (const auto& [key, value] : *metadata) {
    std::string name = "metadata." + std::string(key).substr(0, 100);
    // MLflow's client stringifies metadata values; numbers and booleans are taken the same way.
    std::string text;
    if (value.is_string()) {
      text = std::string(value.get_string());
    } else if (value.is_number() || value.is_bool()) {
      text = bj::serialize(value);
    } else {
      return InvalidArgument("Invalid value for '" + name + "': expected a string");
    }
    if (key.size() > kMaxAssessmentNameLength)
      return TooLong("metadata key", kMaxAssessmentNameLength);
    if (text.size() > kMaxAssessmentValueBytes) return TooLong(name, kMaxAssessmentValueBytes);
    sorted[std::string(key)] = std::move(text);
  }
  for (auto& [k, v] : sorted) out.push_back({k, std::move(v)});
  return out;
}

StatusOr<std::optional<std::string>> ErrorFromJson(const bj::object& obj) {
  ASSIGN_OR_RETURN(const bj::object* error, json::GetObject(obj, "error"));
  if (error == nullptr) return std::optional<std::string>{};
  bj::object stored;
  for (std::string_view field : {"error_code", "error_message", "stack_trace"}) {
    ASSIGN_OR_RETURN(std::optional<std::string> v, json::GetString(*error, field));
    if (v) stored[field] = *v;
  }
  ASSIGN_OR_RETURN(std::string text, StoredValue(stored, "error"));
  return std::optional<std::string>{std::move(text)};
}

// The feedback value and error of `feedback`.
Status FeedbackFromJson(const bj::object& feedback, std::string& value,
                        std::optional<std::string>& error) {
  const bj::value* v = feedback.if_contains("value");
  ASSIGN_OR_RETURN(value, StoredValue(v == nullptr ? bj::value(nullptr) : *v, "feedback.value"));
  ASSIGN_OR_RETURN(std::optional<std::string> e, ErrorFromJson(feedback));
  if (e) error = std::move(e);
  return Status::Ok();
}

StatusOr<std::string> ExpectationFromJson(const bj::object& expectation) {
  ASSIGN_OR_RETURN(const bj::object* serialized, json::GetObject(expectation, "serialized_value"));
  if (serialized != nullptr) {
    ASSIGN_OR_RETURN(std::optional<std::string> format,
                     json::GetString(*serialized, "serialization_format"));
    if (format.value_or("") != kJsonFormat) {
      return InvalidArgument("Unknown serialization format: " + format.value_or("").substr(0, 100) +
                             ". Only JSON_FORMAT is supported.");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> text, json::GetString(*serialized, "value"));
    boost::system::error_code ec;
    bj::value parsed = bj::parse(text.value_or(""), ec);
    if (ec) {
      return InvalidArgument(
          "Invalid value for 'expectation.serialized_value.value': not valid JSON");
    }
    return StoredValue(parsed, "expectation.value");
  }
  const bj::value* v = expectation.if_contains("value");
  return StoredValue(v == nullptr ? bj::value(nullptr) : *v, "expectation.value");
}

bool IsScalar(const bj::value& v) { return v.is_string() || v.is_number() || v.is_bool(); }

std::string CamelToSnake(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

Status BothValues() {
  return InvalidArgument("Cannot specify both `expectation` and `feedback` parameters.");
}

}  // namespace

bj::object AssessmentToJson(const Assessment& a) {
  bj::object o;
  o["assessment_id"] = a.assessment_id;
  o["assessment_name"] = a.name;
  o["trace_id"] = a.trace_id;
  if (a.span_id) o["span_id"] = *a.span_id;
  bj::object source{{"source_type", a.source_type}};
  if (a.source_id) source["source_id"] = *a.source_id;
  o["source"] = std::move(source);
  o["create_time"] = FormatTimestampMillis(a.create_time_ms);
  o["last_update_time"] = FormatTimestampMillis(a.last_update_time_ms);
  bj::value value = ParseStored(a.value_json);
  if (a.kind == AssessmentKind::kFeedback) {
    bj::object feedback{{"value", value}};
    if (a.error_json) feedback["error"] = ParseStored(*a.error_json);
    o["feedback"] = std::move(feedback);
  } else if (value.is_null() || IsScalar(value)) {
    o["expectation"] = bj::object{{"value", value}};
  } else {
    o["expectation"] =
        bj::object{{"serialized_value", bj::object{{"serialization_format", kJsonFormat},
                                                   {"value", bj::serialize(value)}}}};
  }
  if (a.rationale) o["rationale"] = *a.rationale;
  if (!a.metadata.empty()) {
    bj::object metadata;
    for (const Tag& t : a.metadata) metadata[t.key] = t.value;
    o["metadata"] = std::move(metadata);
  }
  if (a.overrides) o["overrides"] = *a.overrides;
  o["valid"] = a.valid;
  return o;
}

StatusOr<Assessment> AssessmentFromJson(const bj::object& obj, std::string_view trace_id,
                                        int64_t now_ms) {
  Assessment a;
  a.trace_id = std::string(trace_id);
  ASSIGN_OR_RETURN(const bj::object* feedback, json::GetObject(obj, "feedback"));
  ASSIGN_OR_RETURN(const bj::object* expectation, json::GetObject(obj, "expectation"));
  if (obj.contains("issue") && !obj.at("issue").is_null()) {
    return InvalidArgument("Issue-reference assessments are not supported by this server");
  }
  if ((feedback != nullptr) == (expectation != nullptr)) {
    return InvalidArgument(feedback == nullptr ? "Unknown assessment type: None"
                                               : "Exactly one of `expectation`, `feedback`, or "
                                                 "`issue` should be specified.");
  }
  if (feedback != nullptr) {
    a.kind = AssessmentKind::kFeedback;
    RETURN_IF_ERROR(FeedbackFromJson(*feedback, a.value_json, a.error_json));
    if (!a.error_json) {
      ASSIGN_OR_RETURN(a.error_json, ErrorFromJson(obj));
    }
  } else {
    a.kind = AssessmentKind::kExpectation;
    ASSIGN_OR_RETURN(a.value_json, ExpectationFromJson(*expectation));
    ASSIGN_OR_RETURN(const bj::object* error, json::GetObject(obj, "error"));
    if (error != nullptr) {
      return InvalidArgument("Cannot set `error` when `expectation` is specified.");
    }
  }
  ASSIGN_OR_RETURN(
      std::optional<std::string> name,
      BoundedString(obj, "assessment_name", "assessment_name", kMaxAssessmentNameLength));
  a.name = name.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> id,
                   BoundedString(obj, "assessment_id", "assessment_id", kMaxAssessmentIdLength));
  a.assessment_id = id.value_or("");
  ASSIGN_OR_RETURN(a.span_id, BoundedString(obj, "span_id", "span_id", kMaxAssessmentIdLength));
  ASSIGN_OR_RETURN(a.overrides,
                   BoundedString(obj, "overrides", "overrides", kMaxAssessmentIdLength));
  ASSIGN_OR_RETURN(a.rationale,
                   BoundedString(obj, "rationale", "rationale", kMaxAssessmentValueBytes));
  for (auto* field : {&a.span_id, &a.overrides, &a.rationale}) {
    if (*field && (*field)->empty()) field->reset();  // proto3: "" is unset
  }
  ASSIGN_OR_RETURN(const bj::object* source, json::GetObject(obj, "source"));
  if (source != nullptr) {
    const bj::value* type = source->if_contains("source_type");
    if (type != nullptr && !type->is_null()) {
      ASSIGN_OR_RETURN(a.source_type, SourceTypeFromJson(*type));
    }
    ASSIGN_OR_RETURN(a.source_id, BoundedString(*source, "source_id", "source.source_id",
                                                kMaxAssessmentNameLength));
    if (a.source_id && a.source_id->empty()) a.source_id.reset();
  }
  ASSIGN_OR_RETURN(a.metadata, MetadataFromJson(obj));
  for (const Tag& t : a.metadata) {
    if (t.key == kSourceRunIdKey) a.run_id = t.value;
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> created, OptionalTime(obj, "create_time"));
  ASSIGN_OR_RETURN(std::optional<int64_t> updated, OptionalTime(obj, "last_update_time"));
  a.create_time_ms = created.value_or(now_ms);
  a.last_update_time_ms = updated.value_or(now_ms);
  return a;
}

StatusOr<metadata::AssessmentUpdate> AssessmentUpdateFromJson(const bj::object& obj,
                                                              std::string_view mask,
                                                              int64_t now_ms) {
  metadata::AssessmentUpdate u;
  u.last_update_time_ms = now_ms;
  size_t start = 0;
  while (start <= mask.size()) {
    size_t end = std::min(mask.find(',', start), mask.size());
    std::string path = CamelToSnake(mask.substr(start, end - start));
    start = end + 1;
    if (path == "assessment_name") {
      ASSIGN_OR_RETURN(
          std::optional<std::string> name,
          BoundedString(obj, "assessment_name", "assessment_name", kMaxAssessmentNameLength));
      u.name = name.value_or("");
    } else if (path == "feedback") {
      if (u.value_kind) return BothValues();
      u.value_kind = AssessmentKind::kFeedback;
      ASSIGN_OR_RETURN(const bj::object* feedback, json::GetObject(obj, "feedback"));
      u.value_json = "null";
      if (feedback != nullptr)
        RETURN_IF_ERROR(FeedbackFromJson(*feedback, u.value_json, u.error_json));
    } else if (path == "expectation") {
      if (u.value_kind) return BothValues();
      u.value_kind = AssessmentKind::kExpectation;
      ASSIGN_OR_RETURN(const bj::object* expectation, json::GetObject(obj, "expectation"));
      u.value_json = "null";
      if (expectation != nullptr) {
        ASSIGN_OR_RETURN(u.value_json, ExpectationFromJson(*expectation));
      }
    } else if (path == "rationale") {
      ASSIGN_OR_RETURN(std::optional<std::string> rationale,
                       BoundedString(obj, "rationale", "rationale", kMaxAssessmentValueBytes));
      u.rationale = rationale.value_or("");
    } else if (path == "metadata") {
      ASSIGN_OR_RETURN(u.metadata, MetadataFromJson(obj));
    }
  }
  return u;
}

}  // namespace cairn::api::mlflow
