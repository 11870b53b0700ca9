// The MonitorStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "metadata/metadata_store_test_backends.h"
#include "metadata/monitor_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOther = "globex";

PredictionSummary Summary(std::string deployment, int64_t offset, std::string request_id,
                          int64_t window = 0, std::optional<std::string> subject = std::nullopt) {
  PredictionSummary p;
  p.deployment_id = std::move(deployment);
  p.offset = offset;
  p.request_id = std::move(request_id);
  p.timestamp_ms = 1000 + offset;
  p.config_id = "dc-1";
  p.window_start_ms = window;
  p.prediction_json = "1";
  p.score = 0.75;
  p.subject_id = std::move(subject);
  return p;
}

class MonitorStoreConformanceTest : public testing_util::StoreConformanceTest {};

TEST_P(MonitorStoreConformanceTest, DriftConfigPutReplacesPerModelAndDeployment) {
  DriftConfigRecord r{.id = "dc-1",
                      .model_name = "iris",
                      .deployment_id = "d-1",
                      .spec_json = "{\"a\":1}",
                      .created_at_ms = 10,
                      .updated_at_ms = 10};
  ASSERT_OK_AND_ASSIGN(DriftConfigRecord first, monitoring().PutDriftConfig(kTenant, r));
  EXPECT_EQ(first.id, "dc-1");
  r.id = "dc-2";
  r.spec_json = "{\"a\":2}";
  r.updated_at_ms = 20;
  ASSERT_OK_AND_ASSIGN(DriftConfigRecord second, monitoring().PutDriftConfig(kTenant, r));
  EXPECT_EQ(second.id, "dc-1");  // replaced in place
  EXPECT_EQ(second.created_at_ms, 10);
  ASSERT_OK_AND_ASSIGN(auto listed, monitoring().ListDriftConfigs(kTenant, "iris"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].spec_json, "{\"a\":2}");
  ASSERT_OK_AND_ASSIGN(auto others, monitoring().ListDriftConfigs(kOther, ""));
  EXPECT_TRUE(others.empty());
  ASSERT_OK_AND_ASSIGN(auto all, monitoring().ListAllDriftConfigs());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, kTenant);
  EXPECT_EQ(monitoring().DeleteDriftConfig(kOther, "dc-1").code(), StatusCode::kNotFound);
  EXPECT_OK(monitoring().DeleteDriftConfig(kTenant, "dc-1"));
}

TEST_P(MonitorStoreConformanceTest, ReferencesAreVersionedPerDeployment) {
  ReferenceRecord r{.deployment_id = "d-1",
                    .source = "upload",
                    .summary_json = "{}",
                    .profile = std::string("\0\1\2", 3),
                    .created_at_ms = 5};
  ASSERT_OK_AND_ASSIGN(int64_t v1, monitoring().AddReference(kTenant, r));
  r.profile = "second";
  ASSERT_OK_AND_ASSIGN(int64_t v2, monitoring().AddReference(kTenant, r));
  EXPECT_EQ(v1, 1);
  EXPECT_EQ(v2, 2);
  ASSERT_OK_AND_ASSIGN(ReferenceRecord newest,
                       monitoring().GetReference(kTenant, "d-1", std::nullopt, true));
  EXPECT_EQ(newest.version, 2);
  EXPECT_EQ(newest.profile, "second");
  ASSERT_OK_AND_ASSIGN(ReferenceRecord first, monitoring().GetReference(kTenant, "d-1", 1, true));
  EXPECT_EQ(first.profile, std::string("\0\1\2", 3));
  EXPECT_EQ(monitoring().GetReference(kOther, "d-1", std::nullopt, false).status().code(),
            StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto versions, monitoring().ListReferences(kTenant, "d-1"));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 2);
  EXPECT_TRUE(versions[0].profile.empty());
}

TEST_P(MonitorStoreConformanceTest, WindowsAreIdempotentAndCarryState) {
  WindowRecord w{.config_id = "dc-1",
                 .deployment_id = "d-1",
                 .model_name = "iris",
                 .model_version = "1",
                 .start_ms = 60000,
                 .end_ms = 120000,
                 .closed_at_ms = 121000,
                 .predictions = 10,
                 .results_json = "{\"n\":10}"};
  ASSERT_OK(monitoring().PutWindow(kTenant, w, "{\"s\":1}"));
  ASSERT_OK(monitoring().PutWindow(kTenant, w, "{\"s\":2}"));  // closed again after a restart
  ASSERT_OK_AND_ASSIGN(auto windows, monitoring().ListWindows(kTenant, "iris", "", 0, 0, 10));
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].results_json, "{\"n\":10}");
  ASSERT_OK_AND_ASSIGN(auto state, monitoring().GetMonitorState(kTenant, "dc-1", "d-1"));
  EXPECT_EQ(state, "{\"s\":2}");
  ASSERT_OK(monitoring().UpdateWindowResults(kTenant, "dc-1", "d-1", 60000, "{\"n\":11}"));
  ASSERT_OK_AND_ASSIGN(WindowRecord got, monitoring().GetWindow(kTenant, "dc-1", "d-1", 60000));
  EXPECT_EQ(got.results_json, "{\"n\":11}");
  ASSERT_OK_AND_ASSIGN(auto later, monitoring().ListWindows(kTenant, "iris", "d-1", 60001, 0, 10));
  EXPECT_TRUE(later.empty());
  ASSERT_OK_AND_ASSIGN(auto others, monitoring().ListWindows(kOther, "iris", "", 0, 0, 10));
  EXPECT_TRUE(others.empty());
}

TEST_P(MonitorStoreConformanceTest, LabelsJoinLateAndEarly) {
  std::vector<PredictionSummary> batch = {Summary("d-1", 1, "r1"), Summary("d-1", 2, "r2")};
  ASSERT_OK(monitoring().AddPredictions(kTenant, batch).status());
  ASSERT_OK(monitoring().AddPredictions(kTenant, batch).status());  // re-read: skipped
  std::vector<LabelInput> labels = {{.request_id = "r1", .label_json = "1"},
                                    {.request_id = "r3", .label_json = "0"}};
  ASSERT_OK_AND_ASSIGN(auto matches, monitoring().AttachLabels(kTenant, labels, 5000));
  ASSERT_EQ(matches.size(), 2u);
  ASSERT_EQ(matches[0].matched.size(), 1u);
  EXPECT_EQ(matches[0].matched[0].label_json, "1");
  EXPECT_TRUE(matches[1].matched.empty());  // pending
  // Another tenant's request id never matches.
  ASSERT_OK_AND_ASSIGN(auto foreign, monitoring().AttachLabels(kOther, labels, 5000));
  EXPECT_TRUE(foreign[0].matched.empty());
  // The prediction of the pending label arrives: it is joined then.
  std::vector<PredictionSummary> late = {Summary("d-1", 3, "r3")};
  ASSERT_OK_AND_ASSIGN(auto joined, monitoring().AddPredictions(kTenant, late));
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].label_json, "0");
  ASSERT_OK_AND_ASSIGN(auto labeled, monitoring().LabeledPredictions(kTenant, "dc-1", "d-1", 0));
  ASSERT_EQ(labeled.size(), 2u);
  EXPECT_EQ(labeled[0].request_id, "r1");
  EXPECT_EQ(labeled[0].score, 0.75);
  EXPECT_EQ(labeled[1].request_id, "r3");
}

TEST_P(MonitorStoreConformanceTest, SubjectErasureAndRetention) {
  std::vector<PredictionSummary> batch = {Summary("d-1", 1, "r1", 0, "alice"),
                                          Summary("d-1", 2, "r2", 0, "bob"),
                                          Summary("d-1", 3, "r3", 0, "alice")};
  ASSERT_OK(monitoring().AddPredictions(kTenant, batch).status());
  ASSERT_OK(monitoring().AddPredictions(kOther, batch).status());
  ASSERT_OK_AND_ASSIGN(auto alice, monitoring().PredictionsOfSubject(kTenant, "alice", 10));
  EXPECT_EQ(alice.size(), 2u);
  ASSERT_OK_AND_ASSIGN(int64_t erased, monitoring().DeleteSubject(kTenant, "alice"));
  EXPECT_EQ(erased, 2);
  ASSERT_OK_AND_ASSIGN(alice, monitoring().PredictionsOfSubject(kTenant, "alice", 10));
  EXPECT_TRUE(alice.empty());
  ASSERT_OK_AND_ASSIGN(auto theirs, monitoring().PredictionsOfSubject(kOther, "alice", 10));
  EXPECT_EQ(theirs.size(), 2u);  // erasure is per tenant
  ASSERT_OK_AND_ASSIGN(int64_t expired, monitoring().DeletePredictionsBefore(1003));
  EXPECT_EQ(expired, 3);  // bob's in acme, alice's and bob's first two in globex
}

TEST_P(MonitorStoreConformanceTest, AlertsFiringResolvedAndFiltered) {
  AlertRecord a{.id = "al-1",
                .config_id = "dc-1",
                .model_name = "iris",
                .deployment_id = "d-1",
                .kind = "data_drift",
                .severity = "warning",
                .state = "firing",
                .fired_at_ms = 100,
                .updated_at_ms = 100,
                .details_json = "{}"};
  ASSERT_OK(monitoring().PutAlert(kTenant, a));
  ASSERT_OK_AND_ASSIGN(auto firing,
                       monitoring().FindFiringAlert(kTenant, "dc-1", "d-1", "data_drift"));
  ASSERT_TRUE(firing.has_value());
  a.state = "resolved";
  a.resolved_at_ms = 200;
  ASSERT_OK(monitoring().PutAlert(kTenant, a));
  ASSERT_OK_AND_ASSIGN(firing, monitoring().FindFiringAlert(kTenant, "dc-1", "d-1", "data_drift"));
  EXPECT_FALSE(firing.has_value());
  AlertFilter filter;
  filter.state = "resolved";
  ASSERT_OK_AND_ASSIGN(auto listed, monitoring().ListAlerts(kTenant, filter));
  ASSERT_EQ(listed.size(), 1u);
  filter.kind = "latency";
  ASSERT_OK_AND_ASSIGN(listed, monitoring().ListAlerts(kTenant, filter));
  EXPECT_TRUE(listed.empty());
  EXPECT_EQ(monitoring().GetAlert(kOther, "al-1").status().code(), StatusCode::kNotFound);
  ActionRecord action{.id = "ac-1",
                      .alert_id = "al-1",
                      .config_id = "dc-1",
                      .action = "webhook",
                      .target = "http://x",
                      .status = "dead_letter",
                      .attempts = 5,
                      .detail_json = "{}",
                      .created_at_ms = 300,
                      .updated_at_ms = 300};
  ASSERT_OK(monitoring().PutAction(kTenant, action));
  ASSERT_OK_AND_ASSIGN(auto actions, monitoring().ListActions(kTenant, "al-1", "", "", 10));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].attempts, 5);
}

TEST_P(MonitorStoreConformanceTest, DeletingADeploymentRemovesItsMonitoringData) {
  ASSERT_OK(monitoring().AddPredictions(kTenant, std::vector{Summary("d-1", 1, "r1")}).status());
  ReferenceRecord r{.deployment_id = "d-1", .source = "upload", .summary_json = "{}"};
  ASSERT_OK(monitoring().AddReference(kTenant, r).status());
  ASSERT_OK(monitoring().DeleteDeploymentData(kTenant, "d-1"));
  EXPECT_EQ(monitoring().GetReference(kTenant, "d-1", std::nullopt, false).status().code(),
            StatusCode::kNotFound);
  std::vector<LabelInput> labels = {{.request_id = "r1", .label_json = "1"}};
  ASSERT_OK_AND_ASSIGN(auto matches, monitoring().AttachLabels(kTenant, labels, 1));
  EXPECT_TRUE(matches[0].matched.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, MonitorStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
