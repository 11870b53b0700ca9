// The AssessmentStore and TraceLinkStore conformance suite: every backend must pass it (backends
// in metadata_store_test_backends.h). Assessments and links belong to traces, which the suite
// creates through the same backend's TraceStore.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.h"
#include "metadata/assessment_store.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/trace_link_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

// The status of `expr` has `code` and a message containing `text`.
#define EXPECT_STATUS(expr, want_code, want_text)                                  \
  do {                                                                             \
    ::cairn::Status _st = ::cairn::testing_status::ToStatus(expr);                 \
    EXPECT_EQ(_st.code(), want_code) << #expr << ": " << _st.ToString();           \
    EXPECT_NE(_st.message().find(want_text), std::string::npos) << _st.ToString(); \
  } while (0)

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";

class AssessmentStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  std::string NewTrace(const std::string& trace_id, std::string_view tenant = kTenant) {
    if (experiments_.count(std::string(tenant)) == 0) {
      auto id = tracking().CreateExperiment(tenant, "exp", "", "file:///a", {}, 1000);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      experiments_[std::string(tenant)] = id.ok() ? *id : "";
    }
    TraceInfo t;
    t.trace_id = trace_id;
    t.experiment_id = experiments_[std::string(tenant)];
    t.request_time_ms = 1000;
    t.state = TraceState::kOk;
    EXPECT_TRUE(traces().StartTrace(tenant, t).ok());
    return t.experiment_id;
  }

  std::map<std::string, std::string> experiments_;
};

Assessment Feedback(std::string id, std::string trace_id, std::string name, int64_t t = 5000) {
  Assessment a;
  a.assessment_id = std::move(id);
  a.trace_id = std::move(trace_id);
  a.name = std::move(name);
  a.kind = AssessmentKind::kFeedback;
  a.value_json = "true";
  a.source_type = "HUMAN";
  a.source_id = "alice";
  a.create_time_ms = t;
  a.last_update_time_ms = t;
  return a;
}

Assessment Expectation(std::string id, std::string trace_id, std::string name) {
  Assessment a = Feedback(std::move(id), std::move(trace_id), std::move(name));
  a.kind = AssessmentKind::kExpectation;
  a.value_json = R"({"answer":"42"})";
  return a;
}

std::vector<std::string> Ids(const std::vector<Assessment>& list) {
  std::vector<std::string> ids;
  for (const Assessment& a : list) ids.push_back(a.assessment_id);
  return ids;
}

TEST_P(AssessmentStoreConformanceTest, CreateGetRoundTripsEveryField) {
  NewTrace("tr-1");
  Assessment a = Feedback("a-1", "tr-1", "quality");
  a.value_json = R"({"score":0.5,"labels":["x"]})";
  a.error_json = R"({"error_code":"E","error_message":"boom"})";
  a.span_id = "span1";
  a.run_id = "run1";
  a.rationale = "because";
  a.metadata = {{"k1", "v1"}, {"k2", "v2"}};
  ASSERT_OK_AND_ASSIGN(Assessment created, assessments().CreateAssessment(kTenant, a));
  EXPECT_TRUE(created.valid);
  ASSERT_OK_AND_ASSIGN(Assessment got, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_EQ(got.name, "quality");
  EXPECT_EQ(got.kind, AssessmentKind::kFeedback);
  EXPECT_EQ(got.value_json, a.value_json);
  EXPECT_EQ(got.error_json, a.error_json);
  EXPECT_EQ(got.source_type, "HUMAN");
  EXPECT_EQ(got.source_id, "alice");
  EXPECT_EQ(got.span_id, "span1");
  EXPECT_EQ(got.run_id, "run1");
  EXPECT_EQ(got.rationale, "because");
  EXPECT_EQ(got.metadata, a.metadata);
  EXPECT_EQ(got.create_time_ms, 5000);
  EXPECT_EQ(got.last_update_time_ms, 5000);
  EXPECT_FALSE(got.overrides.has_value());

  Reopen();
  ASSERT_OK_AND_ASSIGN(got, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_EQ(got.value_json, a.value_json);
}

TEST_P(AssessmentStoreConformanceTest, MissingTraceOrAssessmentIsNotFoundWithMlflowWords) {
  auto missing_trace = assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-x", "q"));
  EXPECT_STATUS(missing_trace, StatusCode::kNotFound, "Trace with ID 'tr-x' not found.");
  EXPECT_STATUS(assessments().GetAssessment(kTenant, "tr-x", "a-1"), StatusCode::kNotFound,
                "Trace with request_id 'tr-x' not found");
  NewTrace("tr-1");
  EXPECT_STATUS(assessments().GetAssessment(kTenant, "tr-1", "a-9"), StatusCode::kNotFound,
                "Assessment with ID 'a-9' not found for trace 'tr-1'");
  AssessmentUpdate u;
  u.name = "n";
  EXPECT_STATUS(assessments().UpdateAssessment(kTenant, "tr-1", "a-9", u), StatusCode::kNotFound,
                "Assessment with ID 'a-9' not found for trace 'tr-1'");
  // Deleting what is not there is fine, as in MLflow.
  EXPECT_OK(assessments().DeleteAssessment(kTenant, "tr-1", "a-9"));
  EXPECT_OK(assessments().DeleteAssessment(kTenant, "tr-x", "a-9"));
}

TEST_P(AssessmentStoreConformanceTest, DuplicateIdIsAlreadyExistsAndStoresNothing) {
  NewTrace("tr-1");
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q")));
  EXPECT_STATUS(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "other")),
                StatusCode::kAlreadyExists, "a-1");
  ASSERT_OK_AND_ASSIGN(Assessment got, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_EQ(got.name, "q");
}

TEST_P(AssessmentStoreConformanceTest, OverrideInvalidatesTheOriginalAndDeleteRestoresIt) {
  NewTrace("tr-1");
  NewTrace("tr-2");
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q")));
  Assessment over = Feedback("a-2", "tr-1", "q", 6000);
  over.overrides = "a-1";
  ASSERT_OK_AND_ASSIGN(Assessment created, assessments().CreateAssessment(kTenant, over));
  EXPECT_EQ(created.overrides, "a-1");
  EXPECT_TRUE(created.valid);
  ASSERT_OK_AND_ASSIGN(Assessment original, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_FALSE(original.valid);

  // Overriding an assessment of another trace (or none) fails and stores nothing.
  Assessment wrong = Feedback("a-3", "tr-2", "q");
  wrong.overrides = "a-1";
  EXPECT_STATUS(assessments().CreateAssessment(kTenant, wrong), StatusCode::kNotFound,
                "Assessment with ID 'a-1' not found for trace 'tr-2'");
  EXPECT_STATUS(assessments().GetAssessment(kTenant, "tr-2", "a-3"), StatusCode::kNotFound, "");

  ASSERT_OK(assessments().DeleteAssessment(kTenant, "tr-1", "a-2"));
  ASSERT_OK_AND_ASSIGN(original, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_TRUE(original.valid);
}

TEST_P(AssessmentStoreConformanceTest, UpdateReplacesGivenFieldsAndMergesMetadata) {
  NewTrace("tr-1");
  Assessment a = Feedback("a-1", "tr-1", "q");
  a.rationale = "r";
  a.metadata = {{"a", "1"}, {"b", "2"}};
  ASSERT_OK(assessments().CreateAssessment(kTenant, a));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Expectation("a-2", "tr-1", "e")));

  AssessmentUpdate u;
  u.name = "renamed";
  u.value_kind = AssessmentKind::kFeedback;
  u.value_json = "0.25";
  u.error_json = R"({"error_code":"X"})";
  u.metadata = {{"b", "20"}, {"c", "3"}};
  u.last_update_time_ms = 9000;
  ASSERT_OK_AND_ASSIGN(Assessment updated,
                       assessments().UpdateAssessment(kTenant, "tr-1", "a-1", u));
  EXPECT_EQ(updated.name, "renamed");
  EXPECT_EQ(updated.value_json, "0.25");
  EXPECT_EQ(updated.error_json, R"({"error_code":"X"})");
  EXPECT_EQ(updated.rationale, "r");
  EXPECT_EQ(updated.metadata, (std::vector<Tag>{{"a", "1"}, {"b", "20"}, {"c", "3"}}));
  EXPECT_EQ(updated.create_time_ms, 5000);
  EXPECT_EQ(updated.last_update_time_ms, 9000);
  EXPECT_EQ(updated.source_id, "alice");
  ASSERT_OK_AND_ASSIGN(Assessment got, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_EQ(got.name, updated.name);
  EXPECT_EQ(got.metadata, updated.metadata);
  EXPECT_EQ(got.value_json, "0.25");

  // The value kind must match.
  AssessmentUpdate wrong;
  wrong.value_kind = AssessmentKind::kExpectation;
  EXPECT_STATUS(assessments().UpdateAssessment(kTenant, "tr-1", "a-1", wrong),
                StatusCode::kInvalidArgument,
                "Cannot update expectation value on a Feedback assessment.");
  wrong.value_kind = AssessmentKind::kFeedback;
  EXPECT_STATUS(assessments().UpdateAssessment(kTenant, "tr-1", "a-2", wrong),
                StatusCode::kInvalidArgument,
                "Cannot update feedback value on an Expectation assessment.");
}

TEST_P(AssessmentStoreConformanceTest, ListGroupsByTraceOldestFirst) {
  NewTrace("tr-1");
  NewTrace("tr-2");
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-3", "tr-1", "q", 7000)));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q", 6000)));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-2", "tr-2", "q", 1000)));
  ASSERT_OK_AND_ASSIGN(auto list,
                       assessments().ListAssessments(kTenant, {"tr-2", "tr-1", "tr-none"}));
  EXPECT_EQ(Ids(list), (std::vector<std::string>{"a-2", "a-1", "a-3"}));
  ASSERT_OK_AND_ASSIGN(list, assessments().ListAssessments(kTenant, {}));
  EXPECT_TRUE(list.empty());
}

TEST_P(AssessmentStoreConformanceTest, DeletingTheTraceDeletesItsAssessmentsAndLinks) {
  std::string exp = NewTrace("tr-1");
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q")));
  ASSERT_OK(trace_links().LinkTracesToRun(kTenant, {"tr-1"}, "run1", 1));
  DeleteTracesRequest del;
  del.experiment_id = exp;
  del.trace_ids = {"tr-1"};
  ASSERT_OK(traces().DeleteTraces(kTenant, del));
  NewTrace("tr-1");
  ASSERT_OK_AND_ASSIGN(auto list, assessments().ListAssessments(kTenant, {"tr-1"}));
  EXPECT_TRUE(list.empty());
  ASSERT_OK_AND_ASSIGN(auto runs, trace_links().ListLinkedRuns(kTenant, "tr-1"));
  EXPECT_TRUE(runs.empty());
}

TEST_P(AssessmentStoreConformanceTest, TenantsSeeOnlyTheirOwn) {
  NewTrace("tr-1");
  NewTrace("tr-1", kOtherTenant);
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q")));
  EXPECT_STATUS(assessments().GetAssessment(kOtherTenant, "tr-1", "a-1"), StatusCode::kNotFound,
                "");
  ASSERT_OK_AND_ASSIGN(auto list, assessments().ListAssessments(kOtherTenant, {"tr-1"}));
  EXPECT_TRUE(list.empty());
  ASSERT_OK(assessments().DeleteAssessment(kOtherTenant, "tr-1", "a-1"));
  EXPECT_OK(assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  // The same id in another tenant is another assessment.
  ASSERT_OK(assessments().CreateAssessment(kOtherTenant, Feedback("a-1", "tr-1", "theirs")));
  ASSERT_OK_AND_ASSIGN(Assessment mine, assessments().GetAssessment(kTenant, "tr-1", "a-1"));
  EXPECT_EQ(mine.name, "q");

  ASSERT_OK(trace_links().LinkTracesToRun(kOtherTenant, {"tr-1"}, "run1", 1));
  ASSERT_OK_AND_ASSIGN(auto runs, trace_links().ListLinkedRuns(kTenant, "tr-1"));
  EXPECT_TRUE(runs.empty());
}

TEST_P(AssessmentStoreConformanceTest, LinksAreIdempotentAndSkipUnknownTraces) {
  std::string exp = NewTrace("tr-1");
  NewTrace("tr-2");
  ASSERT_OK(trace_links().LinkTracesToRun(kTenant, {"tr-1", "tr-2", "tr-none"}, "run1", 1));
  ASSERT_OK(trace_links().LinkTracesToRun(kTenant, {"tr-1"}, "run1", 2));
  ASSERT_OK(trace_links().LinkTracesToRun(kTenant, {"tr-1"}, "run0", 2));
  ASSERT_OK_AND_ASSIGN(auto runs, trace_links().ListLinkedRuns(kTenant, "tr-1"));
  EXPECT_EQ(runs, (std::vector<std::string>{"run0", "run1"}));
  ASSERT_OK_AND_ASSIGN(runs, trace_links().ListLinkedRuns(kTenant, "tr-none"));
  EXPECT_TRUE(runs.empty());

  // A search by run_id finds the linked traces.
  SearchTracesQuery q;
  q.experiment_ids = {exp};
  ASSERT_OK_AND_ASSIGN(q.filter,
                       filter::ParseFilter("run_id = 'run0'", filter::SearchKind::kTraces));
  ASSERT_OK_AND_ASSIGN(auto page, traces().SearchTraces(kTenant, q));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].trace_id, "tr-1");
  EXPECT_TRUE(page.items[0].trace_metadata.empty());

  EXPECT_STATUS(trace_links().LinkPromptsToTrace(kTenant, "tr-none", {{"p", "1"}}, 1),
                StatusCode::kNotFound, "Trace with ID 'tr-none' not found.");
  ASSERT_OK(trace_links().LinkPromptsToTrace(kTenant, "tr-1", {{"p", "2"}, {"p", "1"}}, 1));
  ASSERT_OK(trace_links().LinkPromptsToTrace(kTenant, "tr-1", {{"p", "1"}}, 1));
  ASSERT_OK_AND_ASSIGN(auto prompts, trace_links().ListLinkedPrompts(kTenant, "tr-1"));
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0].version, "1");
  EXPECT_EQ(prompts[1].version, "2");
}

TEST_P(AssessmentStoreConformanceTest, FindValidAssessmentsByKindNameAndExperiment) {
  std::string exp = NewTrace("tr-1");
  NewTrace("tr-2");
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-1", "tr-1", "q", 10)));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-2", "tr-2", "q", 20)));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Expectation("a-3", "tr-2", "q")));
  Assessment over = Feedback("a-4", "tr-2", "q", 30);
  over.overrides = "a-2";
  ASSERT_OK(assessments().CreateAssessment(kTenant, over));
  ASSERT_OK_AND_ASSIGN(auto found, assessments().FindValidAssessments(
                                       kTenant, {exp, "999"}, AssessmentKind::kFeedback, "q"));
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"a-1", "a-4"}));
  ASSERT_OK_AND_ASSIGN(
      found, assessments().FindValidAssessments(kTenant, {exp}, AssessmentKind::kExpectation, "q"));
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"a-3"}));
  ASSERT_OK_AND_ASSIGN(found, assessments().FindValidAssessments(kTenant, {"999", "x"},
                                                                 AssessmentKind::kFeedback, "q"));
  EXPECT_TRUE(found.empty());
  ASSERT_OK_AND_ASSIGN(found, assessments().FindValidAssessments(kOtherTenant, {exp},
                                                                 AssessmentKind::kFeedback, "q"));
  EXPECT_TRUE(found.empty());
}

TEST_P(AssessmentStoreConformanceTest, DeletingRunAssessmentsTakesOnlyThatRunsOnes) {
  std::string exp = NewTrace("tr-1");
  for (const char* run : {"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}) {
    RunInfo info;
    info.run_id = run;
    info.experiment_id = exp;
    info.run_name = "r";
    info.artifact_uri = "file:///a";
    ASSERT_OK(tracking().CreateRun(kTenant, info, {}));
  }
  Assessment by_run = Feedback("a-1", "tr-1", "q");
  by_run.run_id = "0123456789abcdef0123456789abcdef";
  ASSERT_OK(assessments().CreateAssessment(kTenant, by_run));
  Assessment by_other = Feedback("a-2", "tr-1", "q");
  by_other.run_id = "fedcba9876543210fedcba9876543210";
  ASSERT_OK(assessments().CreateAssessment(kTenant, by_other));
  ASSERT_OK(assessments().CreateAssessment(kTenant, Feedback("a-3", "tr-1", "q")));

  ASSERT_OK(assessments().DeleteRunAssessments(kOtherTenant, "0123456789abcdef0123456789abcdef"));
  ASSERT_OK(assessments().DeleteRunAssessments(kTenant, "0123456789abcdef0123456789abcdef"));
  ASSERT_OK_AND_ASSIGN(auto list, assessments().ListAssessments(kTenant, {"tr-1"}));
  EXPECT_EQ(Ids(list), (std::vector<std::string>{"a-2", "a-3"}));
  ASSERT_OK(assessments().DeleteExperimentRunAssessments(kTenant, exp));
  ASSERT_OK_AND_ASSIGN(list, assessments().ListAssessments(kTenant, {"tr-1"}));
  EXPECT_EQ(Ids(list), (std::vector<std::string>{"a-3"}));
  EXPECT_OK(assessments().DeleteExperimentRunAssessments(kTenant, "not-a-number"));
}

INSTANTIATE_TEST_SUITE_P(Backends, AssessmentStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
