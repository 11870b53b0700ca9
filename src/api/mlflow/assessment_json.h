#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "metadata/assessment_types.h"

// MLflow's proto3-JSON Assessment (mlflow.assessments.Assessment): feedback values as
// google.protobuf.Value, expectation values that are not scalars as serialized_value
// {"serialization_format": "JSON_FORMAT", "value": "<json>"}, times as RFC 3339, the source type
// as its enum name.
namespace cairn::api::mlflow {

boost::json::object AssessmentToJson(const metadata::Assessment& assessment);

// Limits on what one assessment may carry.
inline constexpr size_t kMaxAssessmentNameLength = 1000;
inline constexpr size_t kMaxAssessmentIdLength = 256;
inline constexpr size_t kMaxAssessmentValueBytes = 1 << 20;  // value, error, rationale: each
inline constexpr size_t kMaxAssessmentMetadataEntries = 1000;

// The assessment a CreateAssessment body describes, for the trace `trace_id` (the path's; the
// body's trace_id is ignored, as MLflow does). Exactly one of feedback and expectation; the
// deprecated top-level error is the feedback's. Times left unset (or zero) become `now_ms`; the
// id is left empty unless the client chose one. INVALID_ARGUMENT names the offending field.
StatusOr<metadata::Assessment> AssessmentFromJson(const boost::json::object& obj,
                                                  std::string_view trace_id, int64_t now_ms);

// The update an UpdateAssessment body asks for: `mask` is the proto3-JSON FieldMask (comma-
// separated paths, lowerCamelCase or snake_case); paths other than assessment_name, feedback,
// expectation, rationale and metadata are ignored.
StatusOr<metadata::AssessmentUpdate> AssessmentUpdateFromJson(const boost::json::object& obj,
                                                              std::string_view mask,
                                                              int64_t now_ms);

}  // namespace cairn::api::mlflow
