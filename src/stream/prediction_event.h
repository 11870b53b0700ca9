#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "stream/event_stream.h"

namespace cairn::stream {

// One served prediction, as logged to the "predictions" topic (keyed by deployment id).
struct PredictionEvent {
  std::string tenant;
  std::string deployment_id;
  std::string deployment_name;
  std::string model_name;
  std::string model_version;
  std::string request_id;
  int64_t timestamp_ms = 0;  // when the request arrived, ms since the Unix epoch
  int64_t latency_us = 0;    // time spent serving it
  std::string protocol;      // "v2" or "invocations"
  int status_code = 0;       // the HTTP status answered
  // JSON texts as the caller serialised them (the request's inputs, the response's outputs);
  // empty when there are none (outputs of a failed request).
  std::string inputs_json;
  std::string outputs_json;
  // The data subject, from the configured request header; lets an erasure find the event.
  std::optional<std::string> subject_id;
  std::string error_message;  // empty on success

  bool operator==(const PredictionEvent&) const = default;
};

// Payload encoding: one JSON object (UTF-8), readable by any consumer of the log, Kafka's
// included:
//   {"v":1,"tenant":"t","deployment_id":"d","deployment_name":"n","model_name":"m",
//    "model_version":"3","request_id":"r","timestamp_ms":1700000000000,"latency_us":420,
//    "protocol":"v2","status_code":200,"subject_id":"s","error":"...",
//    "inputs":{...},"outputs":{...}}
// "subject_id" and "error" are left out when unset/empty; "inputs"/"outputs" hold the caller's
// JSON texts embedded as they are (not re-serialised, not quoted), null when empty. Strings
// that are not valid UTF-8 are written with U+FFFD for the offending bytes. Decoding ignores
// unknown fields, so fields can be added without a new version; "v" changes only when a field
// changes meaning.
inline constexpr int kPredictionEventVersion = 1;

// INVALID_ARGUMENT when inputs_json or outputs_json is not empty and not one valid JSON value
// (they would corrupt the payload).
StatusOr<std::string> EncodePredictionEvent(const PredictionEvent& event);
// INVALID_ARGUMENT for a payload that is not such an object, lacks a required field or has a
// newer "v". inputs_json/outputs_json come back as the exact texts encoded (surrounding
// whitespace trimmed), "" for null.
StatusOr<PredictionEvent> DecodePredictionEvent(std::string_view payload);

// The stream record for `event`: tenant, key = deployment id, timestamp, subject id, and the
// encoded payload.
StatusOr<Event> ToStreamEvent(const PredictionEvent& event);

}  // namespace cairn::stream
