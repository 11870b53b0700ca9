#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

// The OTLP ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) as POST /v1/traces
// receives it, read from the protobuf wire format or from OTLP JSON without a protobuf library.
// Only the fields MLflow reads are kept; unknown fields are skipped as protobuf parsers skip them.
// Attribute values (AnyValue) are decoded the way MLflow decodes them: to the JSON value they
// hold (a string, bool, integer, double, array or object; an unset value is null, bytes are
// their base64 text).
namespace cairn::api::mlflow::otlp {

struct KeyValue {
  std::string key;
  boost::json::value value;
};

struct Event {
  std::string name;
  uint64_t time_unix_nano = 0;
  std::vector<KeyValue> attributes;
};

// Status.code: 0 UNSET, 1 OK, 2 ERROR.
struct Span {
  std::string trace_id;        // raw bytes (16 for a valid span)
  std::string span_id;         // raw bytes (8)
  std::string parent_span_id;  // raw bytes; empty for a root span
  std::string name;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  std::vector<KeyValue> attributes;
  std::vector<Event> events;
  int64_t status_code = 0;
  std::string status_message;
};

struct ResourceSpans {
  std::vector<KeyValue> resource_attributes;
  std::vector<Span> spans;  // of every ScopeSpans, in order
};

struct ExportTraceServiceRequest {
  std::vector<ResourceSpans> resource_spans;
};

// Nesting of AnyValue arrays and lists deeper than this is rejected (protobuf's default
// recursion limit is 100).
inline constexpr int kMaxValueDepth = 64;

// Reads the binary protobuf encoding. INVALID_ARGUMENT for truncated or malformed input: a bad
// varint or length, a wire type that does not fit a known field, a string that is not UTF-8,
// values nested deeper than kMaxValueDepth.
StatusOr<ExportTraceServiceRequest> DecodeExportTraceServiceRequest(std::string_view bytes);

// Reads OTLP JSON: lowerCamelCase or proto field names, trace and span ids as hex (as the OTLP
// spec encodes them; under their proto names, base64 as protobuf's JSON mapping does), 64-bit
// integers as numbers or strings, enums by number or name. Unknown fields are ignored.
// INVALID_ARGUMENT for anything else that does not fit the message.
StatusOr<ExportTraceServiceRequest> ParseExportTraceServiceRequestJson(std::string_view text);

}  // namespace cairn::api::mlflow::otlp
