// The ScorerStore and IssueStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h). Both belong to experiments, which the suite creates through
// the same backend's TrackingStore.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "metadata/issue_store.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/scorer_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

#define EXPECT_STATUS(expr, want_code, want_text)                                  \
  do {                                                                             \
    ::cairn::Status _st = ::cairn::testing_status::ToStatus(expr);                 \
    EXPECT_EQ(_st.code(), want_code) << #expr << ": " << _st.ToString();           \
    EXPECT_NE(_st.message().find(want_text), std::string::npos) << _st.ToString(); \
  } while (0)

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOther = "globex";

class ScorerStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  std::string NewExperiment(const std::string& name, std::string_view tenant = kTenant) {
    auto id = tracking().CreateExperiment(tenant, name, "", "file:///a", {}, 1000);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  ScorerStore& scorers() { return *stores_.scorers; }
  IssueStore& issues() { return *stores_.issues; }
};

std::vector<std::string> Names(const std::vector<ScorerVersion>& list) {
  std::vector<std::string> out;
  for (const ScorerVersion& v : list) out.push_back(v.name + ":" + std::to_string(v.version));
  return out;
}

TEST_P(ScorerStoreConformanceTest, RegisterVersionsPerExperimentAndName) {
  std::string e1 = NewExperiment("e1");
  std::string e2 = NewExperiment("e2");
  ASSERT_OK_AND_ASSIGN(ScorerVersion v1,
                       scorers().RegisterScorer(kTenant, e1, "relevance", "{\"a\":1}", "id-1", 10));
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.scorer_id, "id-1");
  EXPECT_EQ(v1.experiment_id, e1);
  ASSERT_OK_AND_ASSIGN(ScorerVersion v2,
                       scorers().RegisterScorer(kTenant, e1, "relevance", "{\"a\":2}", "id-x", 20));
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v2.scorer_id, "id-1");
  ASSERT_OK(scorers().RegisterScorer(kTenant, e1, "safety", "{}", "id-2", 30));
  ASSERT_OK_AND_ASSIGN(ScorerVersion other,
                       scorers().RegisterScorer(kTenant, e2, "relevance", "{}", "id-3", 40));
  EXPECT_EQ(other.version, 1);

  ASSERT_OK_AND_ASSIGN(auto latest, scorers().ListScorers(kTenant, e1));
  EXPECT_EQ(Names(latest), (std::vector<std::string>{"relevance:2", "safety:1"}));
  EXPECT_EQ(latest[0].serialized_scorer, "{\"a\":2}");
  EXPECT_EQ(latest[0].creation_time_ms, 20);
  ASSERT_OK_AND_ASSIGN(auto across, scorers().ListScorersAcrossExperiments(kTenant, std::nullopt));
  EXPECT_EQ(Names(across), (std::vector<std::string>{"relevance:2", "safety:1", "relevance:1"}));
  ASSERT_OK_AND_ASSIGN(across, scorers().ListScorersAcrossExperiments(
                                   kTenant, std::vector<std::string>{e2, "999", "bad"}));
  EXPECT_EQ(Names(across), (std::vector<std::string>{"relevance:1"}));
  ASSERT_OK_AND_ASSIGN(across,
                       scorers().ListScorersAcrossExperiments(kTenant, std::vector<std::string>{}));
  EXPECT_TRUE(across.empty());

  ASSERT_OK_AND_ASSIGN(auto versions, scorers().ListScorerVersions(kTenant, e1, "relevance"));
  EXPECT_EQ(Names(versions), (std::vector<std::string>{"relevance:1", "relevance:2"}));
  ASSERT_OK_AND_ASSIGN(ScorerVersion got, scorers().GetScorer(kTenant, e1, "relevance", 1));
  EXPECT_EQ(got.serialized_scorer, "{\"a\":1}");
  ASSERT_OK_AND_ASSIGN(got, scorers().GetScorer(kTenant, e1, "relevance", std::nullopt));
  EXPECT_EQ(got.version, 2);

  Reopen();
  ASSERT_OK_AND_ASSIGN(got, scorers().GetScorer(kTenant, e1, "relevance", std::nullopt));
  EXPECT_EQ(got.version, 2);
}

TEST_P(ScorerStoreConformanceTest, MissingScorersAndExperimentsAreErrors) {
  std::string e1 = NewExperiment("e1");
  EXPECT_STATUS(scorers().GetScorer(kTenant, e1, "nope", std::nullopt), StatusCode::kNotFound,
                "Scorer with name 'nope' not found for experiment " + e1 + ".");
  EXPECT_STATUS(scorers().RegisterScorer(kTenant, "999", "s", "{}", "id", 1), StatusCode::kNotFound,
                "No Experiment with id=999 exists");
  ASSERT_OK(scorers().RegisterScorer(kTenant, e1, "s", "{}", "id", 1));
  EXPECT_STATUS(scorers().GetScorer(kTenant, e1, "s", 7), StatusCode::kNotFound,
                "Scorer with name 's' and version 7 not found for experiment " + e1 + ".");
  EXPECT_STATUS(scorers().DeleteScorer(kTenant, e1, "s", 7), StatusCode::kNotFound,
                "and version 7");
  EXPECT_STATUS(scorers().ListScorerVersions(kTenant, e1, "t"), StatusCode::kNotFound, "'t'");
  ASSERT_OK(tracking().DeleteExperiment(kTenant, e1, 5));
  EXPECT_STATUS(scorers().ListScorers(kTenant, e1), StatusCode::kInvalidArgument,
                "must be in the 'active' state");
  ASSERT_OK_AND_ASSIGN(auto across, scorers().ListScorersAcrossExperiments(kTenant, std::nullopt));
  EXPECT_TRUE(across.empty());
}

TEST_P(ScorerStoreConformanceTest, DeleteOneVersionOrTheScorer) {
  std::string e1 = NewExperiment("e1");
  for (int i = 0; i < 3; ++i) ASSERT_OK(scorers().RegisterScorer(kTenant, e1, "s", "{}", "id", i));
  ASSERT_OK(scorers().DeleteScorer(kTenant, e1, "s", 3));
  ASSERT_OK_AND_ASSIGN(ScorerVersion got, scorers().GetScorer(kTenant, e1, "s", std::nullopt));
  EXPECT_EQ(got.version, 2);
  ASSERT_OK(scorers().UpsertOnlineScoringConfig(kTenant, e1, "s", 0.0, std::nullopt, "c1"));
  ASSERT_OK(scorers().DeleteScorer(kTenant, e1, "s", std::nullopt));
  EXPECT_STATUS(scorers().GetScorer(kTenant, e1, "s", std::nullopt), StatusCode::kNotFound, "");
  ASSERT_OK_AND_ASSIGN(auto configs, scorers().GetOnlineScoringConfigs(kTenant, {"id"}));
  EXPECT_TRUE(configs.empty());
  // A new registration starts a new scorer at version 1.
  ASSERT_OK_AND_ASSIGN(got, scorers().RegisterScorer(kTenant, e1, "s", "{}", "id2", 9));
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.scorer_id, "id2");
}

TEST_P(ScorerStoreConformanceTest, OnlineConfigIsReplacedPerScorer) {
  std::string e1 = NewExperiment("e1");
  ASSERT_OK_AND_ASSIGN(ScorerVersion v, scorers().RegisterScorer(kTenant, e1, "s", "{}", "sid", 1));
  ASSERT_OK_AND_ASSIGN(OnlineScoringConfig c, scorers().UpsertOnlineScoringConfig(
                                                  kTenant, e1, "s", 0.5, "tag.x = 'y'", "c1"));
  EXPECT_EQ(c.scorer_id, "sid");
  EXPECT_EQ(c.experiment_id, e1);
  ASSERT_OK(scorers().UpsertOnlineScoringConfig(kTenant, e1, "s", 0.25, std::nullopt, "c2"));
  ASSERT_OK_AND_ASSIGN(auto configs, scorers().GetOnlineScoringConfigs(kTenant, {"sid", "zz"}));
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].config_id, "c2");
  EXPECT_EQ(configs[0].sample_rate, 0.25);
  EXPECT_FALSE(configs[0].filter_string.has_value());
  EXPECT_STATUS(scorers().UpsertOnlineScoringConfig(kTenant, e1, "t", 0.5, std::nullopt, "c3"),
                StatusCode::kNotFound, "'t'");
  ASSERT_OK_AND_ASSIGN(configs, scorers().GetOnlineScoringConfigs(kOther, {"sid"}));
  EXPECT_TRUE(configs.empty());
}

TEST_P(ScorerStoreConformanceTest, TenantsSeeOnlyTheirOwnScorersAndIssues) {
  std::string mine = NewExperiment("e1");
  std::string theirs = NewExperiment("e1", kOther);
  ASSERT_OK(scorers().RegisterScorer(kTenant, mine, "s", "{}", "sid", 1));
  EXPECT_STATUS(scorers().GetScorer(kOther, theirs, "s", std::nullopt), StatusCode::kNotFound, "");
  ASSERT_OK_AND_ASSIGN(auto across, scorers().ListScorersAcrossExperiments(kOther, std::nullopt));
  EXPECT_TRUE(across.empty());

  Issue issue;
  issue.issue_id = "iss-1";
  issue.experiment_id = mine;
  issue.name = "n";
  issue.description = "d";
  ASSERT_OK(issues().CreateIssue(kTenant, issue));
  EXPECT_STATUS(issues().GetIssue(kOther, "iss-1"), StatusCode::kNotFound,
                "Issue with ID 'iss-1' not found");
  ASSERT_OK_AND_ASSIGN(auto page, issues().SearchIssues(kOther, {}));
  EXPECT_TRUE(page.items.empty());
}

TEST_P(ScorerStoreConformanceTest, IssuesCreateGetUpdateSearch) {
  std::string e1 = NewExperiment("e1");
  std::string e2 = NewExperiment("e2");
  auto make = [&](std::string id, std::string exp, std::optional<std::string> severity, int64_t t,
                  std::string status = "pending") {
    Issue i;
    i.issue_id = std::move(id);
    i.experiment_id = std::move(exp);
    i.name = "name-" + i.issue_id;
    i.description = "desc";
    i.status = std::move(status);
    i.severity = std::move(severity);
    i.created_timestamp_ms = t;
    i.last_updated_timestamp_ms = t;
    return i;
  };
  Issue full = make("iss-a", e1, "low", 10);
  full.root_causes = {"r1", "r2"};
  full.categories = {"c"};
  full.source_run_id = "run1";
  full.created_by = "alice";
  ASSERT_OK_AND_ASSIGN(Issue created, issues().CreateIssue(kTenant, full));
  EXPECT_EQ(created.root_causes, full.root_causes);
  EXPECT_EQ(created.categories, full.categories);
  EXPECT_EQ(created.source_run_id, "run1");
  EXPECT_EQ(created.created_by, "alice");
  ASSERT_OK(issues().CreateIssue(kTenant, make("iss-b", e1, "high", 5, "resolved")));
  ASSERT_OK(issues().CreateIssue(kTenant, make("iss-c", e1, std::nullopt, 30)));
  ASSERT_OK(issues().CreateIssue(kTenant, make("iss-d", e2, "low", 20)));
  EXPECT_STATUS(issues().CreateIssue(kTenant, make("iss-e", "999", std::nullopt, 1)),
                StatusCode::kNotFound, "No Experiment with id=999 exists");

  auto ids = [](const ResultPage<Issue>& page) {
    std::vector<std::string> out;
    for (const Issue& i : page.items) out.push_back(i.issue_id);
    return out;
  };
  SearchIssuesQuery q;
  ASSERT_OK_AND_ASSIGN(auto page, issues().SearchIssues(kTenant, q));
  EXPECT_EQ(ids(page), (std::vector<std::string>{"iss-b", "iss-d", "iss-a", "iss-c"}));
  q.experiment_id = e1;
  q.page = {2, 0};
  ASSERT_OK_AND_ASSIGN(page, issues().SearchIssues(kTenant, q));
  EXPECT_EQ(ids(page), (std::vector<std::string>{"iss-b", "iss-a"}));
  EXPECT_TRUE(page.has_more);
  q.page = {2, 2};
  ASSERT_OK_AND_ASSIGN(page, issues().SearchIssues(kTenant, q));
  EXPECT_EQ(ids(page), (std::vector<std::string>{"iss-c"}));
  EXPECT_FALSE(page.has_more);
  q.page = {100, 0};
  q.filter = {{"status", true, "pending"}, {"source_run_id", false, "run2"}};
  ASSERT_OK_AND_ASSIGN(page, issues().SearchIssues(kTenant, q));
  EXPECT_EQ(ids(page), (std::vector<std::string>{"iss-a"}));

  IssueUpdate u;
  u.status = "rejected";
  u.severity = "medium";
  u.last_updated_timestamp_ms = 99;
  ASSERT_OK_AND_ASSIGN(Issue updated, issues().UpdateIssue(kTenant, "iss-a", u));
  EXPECT_EQ(updated.status, "rejected");
  EXPECT_EQ(updated.severity, "medium");
  EXPECT_EQ(updated.name, "name-iss-a");
  EXPECT_EQ(updated.created_timestamp_ms, 10);
  EXPECT_EQ(updated.last_updated_timestamp_ms, 99);
  ASSERT_OK_AND_ASSIGN(Issue got, issues().GetIssue(kTenant, "iss-a"));
  EXPECT_EQ(got.status, "rejected");
  EXPECT_STATUS(issues().UpdateIssue(kTenant, "iss-z", u), StatusCode::kNotFound, "iss-z");
}

INSTANTIATE_TEST_SUITE_P(Backends, ScorerStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
