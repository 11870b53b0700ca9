#include "stream/prediction_event.h"

#include <simdjson.h>

#include <charconv>
#include <string>
#include <utility>

#include "base/utf8.h"

namespace cairn::stream {
namespace {

void AppendEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void AppendString(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  if (IsValidUtf8(value)) {
    AppendEscaped(out, value);
  } else {
    AppendEscaped(out, ToValidUtf8(value));
  }
}

void AppendInt(std::string& out, std::string_view name, int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

Status CheckJson(std::string_view text, std::string_view what) {
  if (text.empty()) return Status::Ok();
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element unused;
  if (auto error = parser.parse(text.data(), text.size()).get(unused); error) {
    return InvalidArgument("prediction event: " + std::string(what) +
                           " is not valid JSON: " + simdjson::error_message(error));
  }
  return Status::Ok();
}

void AppendRaw(std::string& out, std::string_view name, std::string_view json) {
  out += ",\"";
  out += name;
  out += "\":";
  if (json.empty()) {
    out += "null";
  } else {
    out += json;
  }
}

Status DecodeError(std::string_view what, simdjson::error_code error) {
  return InvalidArgument("prediction event payload: " + std::string(what) + ": " +
                         simdjson::error_message(error));
}

StatusOr<std::string> GetString(simdjson::ondemand::value& value, std::string_view name) {
  std::string_view text;
  if (auto error = value.get_string().get(text); error) return DecodeError(name, error);
  return std::string(text);
}

StatusOr<int64_t> GetInt(simdjson::ondemand::value& value, std::string_view name) {
  int64_t number = 0;
  if (auto error = value.get_int64().get(number); error) return DecodeError(name, error);
  return number;
}

// The text of any JSON value as it stands in the payload; "" for null.
StatusOr<std::string> GetRaw(simdjson::ondemand::value& value, std::string_view name) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type); error) return DecodeError(name, error);
  std::string_view raw;
  simdjson::error_code error = simdjson::SUCCESS;
  switch (type) {
    case simdjson::ondemand::json_type::null:
      return std::string();
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      error = value.get_object().get(object);
      if (!error) error = object.raw_json().get(raw);
      break;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      error = value.get_array().get(array);
      if (!error) error = array.raw_json().get(raw);
      break;
    }
    default:
      raw = value.raw_json_token();
      break;
  }
  if (error) return DecodeError(name, error);
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  return std::string(raw);
}

}  // namespace

StatusOr<std::string> EncodePredictionEvent(const PredictionEvent& event) {
  RETURN_IF_ERROR(CheckJson(event.inputs_json, "inputs"));
  RETURN_IF_ERROR(CheckJson(event.outputs_json, "outputs"));
  std::string out;
  out.reserve(320 + event.inputs_json.size() + event.outputs_json.size());
  out += "{\"v\":";
  out += std::to_string(kPredictionEventVersion);
  AppendString(out, "tenant", event.tenant);
  AppendString(out, "deployment_id", event.deployment_id);
  AppendString(out, "deployment_name", event.deployment_name);
  AppendString(out, "model_name", event.model_name);
  AppendString(out, "model_version", event.model_version);
  AppendString(out, "request_id", event.request_id);
  AppendInt(out, "timestamp_ms", event.timestamp_ms);
  AppendInt(out, "latency_us", event.latency_us);
  AppendString(out, "protocol", event.protocol);
  AppendInt(out, "status_code", event.status_code);
  if (event.subject_id.has_value()) AppendString(out, "subject_id", *event.subject_id);
  if (!event.error_message.empty()) AppendString(out, "error", event.error_message);
  AppendRaw(out, "inputs", event.inputs_json);
  AppendRaw(out, "outputs", event.outputs_json);
  out += '}';
  return out;
}

StatusOr<PredictionEvent> DecodePredictionEvent(std::string_view payload) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(payload);
  simdjson::ondemand::document doc;
  if (auto error = parser.iterate(padded).get(doc); error) return DecodeError("document", error);
  simdjson::ondemand::object object;
  if (auto error = doc.get_object().get(object); error) return DecodeError("document", error);
  PredictionEvent event;
  bool has_version = false, has_tenant = false, has_deployment = false, has_timestamp = false;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (auto error = std::move(field_result).get(field); error) return DecodeError("field", error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key); error) return DecodeError("key", error);
    simdjson::ondemand::value value = field.value();
    if (key == "v") {
      ASSIGN_OR_RETURN(int64_t version, GetInt(value, key));
      if (version < 1 || version > kPredictionEventVersion) {
        return InvalidArgument("prediction event payload: version " + std::to_string(version) +
                               " is not known to this build");
      }
      has_version = true;
    } else if (key == "tenant") {
      ASSIGN_OR_RETURN(event.tenant, GetString(value, key));
      has_tenant = true;
    } else if (key == "deployment_id") {
      ASSIGN_OR_RETURN(event.deployment_id, GetString(value, key));
      has_deployment = true;
    } else if (key == "deployment_name") {
      ASSIGN_OR_RETURN(event.deployment_name, GetString(value, key));
    } else if (key == "model_name") {
      ASSIGN_OR_RETURN(event.model_name, GetString(value, key));
    } else if (key == "model_version") {
      ASSIGN_OR_RETURN(event.model_version, GetString(value, key));
    } else if (key == "request_id") {
      ASSIGN_OR_RETURN(event.request_id, GetString(value, key));
    } else if (key == "timestamp_ms") {
      ASSIGN_OR_RETURN(event.timestamp_ms, GetInt(value, key));
      has_timestamp = true;
    } else if (key == "latency_us") {
      ASSIGN_OR_RETURN(event.latency_us, GetInt(value, key));
    } else if (key == "protocol") {
      ASSIGN_OR_RETURN(event.protocol, GetString(value, key));
    } else if (key == "status_code") {
      ASSIGN_OR_RETURN(int64_t code, GetInt(value, key));
      event.status_code = static_cast<int>(code);
    } else if (key == "subject_id") {
      ASSIGN_OR_RETURN(event.subject_id, GetString(value, key));
    } else if (key == "error") {
      ASSIGN_OR_RETURN(event.error_message, GetString(value, key));
    } else if (key == "inputs") {
      ASSIGN_OR_RETURN(event.inputs_json, GetRaw(value, key));
    } else if (key == "outputs") {
      ASSIGN_OR_RETURN(event.outputs_json, GetRaw(value, key));
    }
  }
  if (!has_version || !has_tenant || !has_deployment || !has_timestamp) {
    return InvalidArgument(
        "prediction event payload: v, tenant, deployment_id and timestamp_ms are required");
  }
  return event;
}

StatusOr<Event> ToStreamEvent(const PredictionEvent& event) {
  Event out;
  ASSIGN_OR_RETURN(out.payload, EncodePredictionEvent(event));
  out.tenant = event.tenant;
  out.key = event.deployment_id;
  out.timestamp_ms = event.timestamp_ms;
  out.subject_id = event.subject_id;
  return out;
}

}  // namespace cairn::stream
