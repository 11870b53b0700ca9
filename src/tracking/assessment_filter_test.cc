#include "tracking/assessment_filter.h"

#include <gtest/gtest.h>

#include "base/status_testing.h"

namespace cairn::tracking {
namespace {

using filter::Comparator;
using metadata::AssessmentKind;

TEST(AssessmentFilterTest, SplitsAssessmentClausesFromTheRest) {
  ASSERT_OK_AND_ASSIGN(
      SplitTraceFilter split,
      SplitAssessmentFilters("trace.status = 'OK' and feedback.correct = 'a AND b' AND "
                             "expectation.`my name` IS NOT NULL AND tag.x = 'y'"));
  EXPECT_EQ(split.rest, "trace.status = 'OK' AND tag.x = 'y'");
  ASSERT_EQ(split.assessments.size(), 2u);
  EXPECT_EQ(split.assessments[0].kind, AssessmentKind::kFeedback);
  EXPECT_EQ(split.assessments[0].name, "correct");
  EXPECT_EQ(split.assessments[0].op, Comparator::kEq);
  EXPECT_EQ(split.assessments[0].text, "a AND b");
  EXPECT_EQ(split.assessments[1].kind, AssessmentKind::kExpectation);
  EXPECT_EQ(split.assessments[1].name, "my name");
  EXPECT_EQ(split.assessments[1].op, Comparator::kIsNotNull);
  ASSERT_OK_AND_ASSIGN(split, SplitAssessmentFilters("feedback.score>=0.5"));
  EXPECT_EQ(split.assessments[0].op, Comparator::kGe);
  EXPECT_EQ(split.assessments[0].number, 0.5);
  ASSERT_OK_AND_ASSIGN(split, SplitAssessmentFilters(""));
  EXPECT_TRUE(split.rest.empty());
  EXPECT_TRUE(split.assessments.empty());
}

TEST(AssessmentFilterTest, RefusesMalformedClauses) {
  for (const char* text : {"feedback.score > 'x'", "feedback.correct = 1", "feedback. = 'a'",
                           "feedback.x LIKE '%a%'", "feedback.x ~ 'a'", "feedback.`x = 'a'"}) {
    EXPECT_EQ(SplitAssessmentFilters(text).status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(AssessmentFilterTest, MatchesAsMlflowComparesStoredValues) {
  metadata::Assessment a;
  a.value_json = "true";
  AssessmentFilter eq{AssessmentKind::kFeedback, "c", Comparator::kEq, "true", 0};
  EXPECT_TRUE(AssessmentMatches(eq, a));
  a.value_json = R"("good")";
  eq.text = "good";
  EXPECT_TRUE(AssessmentMatches(eq, a));
  eq.op = Comparator::kNe;
  EXPECT_FALSE(AssessmentMatches(eq, a));
  a.value_json = "0.5";
  AssessmentFilter gt{AssessmentKind::kFeedback, "s", Comparator::kGt, "", 0.25};
  EXPECT_TRUE(AssessmentMatches(gt, a));
  a.value_json = "true";  // booleans are not numbers here
  EXPECT_FALSE(AssessmentMatches(gt, a));
}

}  // namespace
}  // namespace cairn::tracking
