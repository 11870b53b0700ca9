#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metadata/types.h"

// Assessments (MLflow 3's Feedback and Expectation entities) as the metadata stores hold them.
namespace cairn::metadata {

enum class AssessmentKind { kFeedback, kExpectation };

struct Assessment {
  std::string assessment_id;  // "a-" + 32 hex unless the client chose one
  std::string trace_id;
  std::string name;
  AssessmentKind kind = AssessmentKind::kFeedback;
  // The value as JSON text (any JSON value; "null" for none).
  std::string value_json = "null";
  // Feedback only: the AssessmentError as a JSON object text.
  std::optional<std::string> error_json;
  // HUMAN, LLM_JUDGE, CODE or SOURCE_TYPE_UNSPECIFIED.
  std::string source_type = "SOURCE_TYPE_UNSPECIFIED";
  std::optional<std::string> source_id;
  std::optional<std::string> span_id;
  // The run that produced it (metadata mlflow.assessment.sourceRunId); not part of the wire form.
  std::optional<std::string> run_id;
  std::optional<std::string> rationale;
  // The id of the assessment of the same trace this one replaces.
  std::optional<std::string> overrides;
  // False once another assessment overrides this one.
  bool valid = true;
  std::vector<Tag> metadata;  // sorted by key
  int64_t create_time_ms = 0;
  int64_t last_update_time_ms = 0;
};

// What UpdateAssessment replaces; unset fields are kept. Source, span, kind, overrides and
// validity never change.
struct AssessmentUpdate {
  std::optional<std::string> name;
  // A new value (with its error, for feedback): `value_kind` says which kind of value the caller
  // sent, and must match the stored assessment's kind.
  std::optional<AssessmentKind> value_kind;
  std::string value_json = "null";
  std::optional<std::string> error_json;
  std::optional<std::string> rationale;  // feedback only; ignored for expectations
  // Merged into the stored metadata, later values winning.
  std::vector<Tag> metadata;
  int64_t last_update_time_ms = 0;
};

}  // namespace cairn::metadata
