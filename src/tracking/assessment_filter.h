#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "filter/filter.h"
#include "metadata/assessment_types.h"

// The feedback.<name> and expectation.<name> clauses of MLflow 3's trace search filter, which
// test a trace's valid assessments of that kind and name (MLflow's SQL store semantics):
//   = / != 'text'       the value, as its JSON text or as a JSON string, equals (or not) `text`
//                       (feedback.correct = 'true', feedback.rating = 'good', ... = '0.5')
//   < <= > >= number    the value is a finite number in that relation
//   IS NULL / IS NOT NULL  the trace has no (has some) such assessment
// LIKE, ILIKE and RLIKE on assessment values are not supported by this server.
namespace cairn::tracking {

struct AssessmentFilter {
  metadata::AssessmentKind kind = metadata::AssessmentKind::kFeedback;
  std::string name;
  filter::Comparator op = filter::Comparator::kEq;
  std::string text;   // = and !=
  double number = 0;  // < <= > >=
};

struct SplitTraceFilter {
  std::string rest;  // the other clauses, joined by AND, for filter::ParseFilter
  std::vector<AssessmentFilter> assessments;
};

// Takes the assessment clauses out of a trace search filter (clauses joined by AND, outside
// quotes and backticks). INVALID_ARGUMENT, with MLflow's words where it has them, for a
// malformed assessment clause.
StatusOr<SplitTraceFilter> SplitAssessmentFilters(std::string_view filter);

// Whether `assessment` (of the filter's kind and name) satisfies a value comparison (not
// IS NULL / IS NOT NULL, which are about the trace).
bool AssessmentMatches(const AssessmentFilter& filter, const metadata::Assessment& assessment);

}  // namespace cairn::tracking
