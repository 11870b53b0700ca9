// MonitorService: windows over the prediction log, restarts, late labels, references built from
// predictions, erasure and retention.

#include "monitor/monitor_service.h"

#include <gtest/gtest.h>

#include "monitor/monitor_service_test_util.h"

namespace cairn::monitor {
namespace {

using namespace testing_util;  // NOLINT(google-build-using-namespace)

TEST_F(MonitorServiceTest, SizeWindowsCloseAtTheirSize) {
  NewService();
  PutConfig(R"({"window": {"size": 10}})");
  Append(Requests(0, 25, kT0));
  CatchUp();
  std::vector<WindowRecord> windows = Windows();
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[0].predictions, 10);
  EXPECT_EQ(windows[1].predictions, 10);
  EXPECT_EQ(windows[0].start_ms, kT0);
  EXPECT_EQ(windows[0].end_ms, kT0 + 10);  // the newest event's time + 1
  EXPECT_EQ(windows[1].start_ms, kT0 + 10);
  EXPECT_EQ(windows[0].model_version, "3");
  bj::object r = Results(windows[0]);
  EXPECT_EQ(r.at("requests").as_int64(), 10);
  EXPECT_EQ(r.at("rows").as_int64(), 10);
  EXPECT_EQ(r.at("data_drift").at("status").as_string(), "no_reference");
  // The open window is visible in the deployment's status.
  ASSERT_OK_AND_ASSIGN(bj::object status, service_->DeploymentStatus(scope_, "prod"));
  EXPECT_EQ(status.at("configs").at(0).at("open_window").at("requests").as_int64(), 5);
}

TEST_F(MonitorServiceTest, SizeWindowsOfEventsInTheSameMillisecondAreKeptApart) {
  NewService();
  PutConfig(R"({"window": {"size": 10}})");
  std::vector<Request> requests = Requests(0, 30, kT0);
  for (Request& r : requests) r.timestamp_ms = kT0;  // a burst within one millisecond
  Append(requests);
  CatchUp();
  std::vector<WindowRecord> windows = Windows();
  EXPECT_EQ(windows.size(), 3u);
  EXPECT_EQ(SumPredictions(windows), 30);
}

TEST_F(MonitorServiceTest, DurationWindowsCloseOnTheClockWithoutTraffic) {
  MonitorOptions options;
  options.close_grace = 500ms;
  NewService(options);
  PutConfig(R"({"window": {"duration": "1m"}})");
  Append(Requests(0, 5, kT0 + 1000));
  clock_.AdvanceMillis(2000);
  CatchUp();
  EXPECT_TRUE(Windows().empty());
  // At the end plus the grace, and no new event: the window closes.
  clock_.AdvanceMillis(60'000 - 2000 + 499);
  CatchUp();
  EXPECT_TRUE(Windows().empty());
  clock_.AdvanceMillis(1);
  CatchUp();
  std::vector<WindowRecord> windows = Windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].start_ms, kT0);
  EXPECT_EQ(windows[0].end_ms, kT0 + 60'000);
  EXPECT_EQ(windows[0].predictions, 5);
  EXPECT_EQ(windows[0].closed_at_ms, kT0 + 60'500);
  EXPECT_DOUBLE_EQ(Results(windows[0]).at("throughput_rps").as_double(), 5.0 / 60);

  // An event of the next minute opens the next window; one of an already closed window is
  // counted late in it.
  Append(Requests(5, 3, kT0 + 61'000));
  Append({Request{.request_id = "old", .timestamp_ms = kT0 + 10}});
  clock_.AdvanceMillis(61'000);
  CatchUp();
  windows = Windows();
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[1].start_ms, kT0 + 60'000);
  EXPECT_EQ(windows[1].predictions, 4);
  EXPECT_EQ(Results(windows[1]).at("late").as_int64(), 1);
}

TEST_F(MonitorServiceTest, RestartNeitherSkipsNorDoubleCounts) {
  NewService();
  const std::string size_config = PutConfig(R"({"window": {"size": 10}})");
  ASSERT_OK(service_->PutDriftConfig(scope_, kModel,
                                     R"({"deployment": "prod", "window": {"duration": "1m"}})"));
  Append(Requests(0, 25, kT0));
  CatchUp();
  clock_.AdvanceMillis(30'000);
  CatchUp();
  EXPECT_EQ(Windows().size(), 2u);  // two size windows; the minute is still open

  // The service goes away with a size window of 5 and a minute of 25 open; 7 more arrive.
  service_.reset();
  Append(Requests(25, 7, kT0 + 25));
  NewService();
  ASSERT_OK(service_->Start());
  CatchUp();
  Append(Requests(32, 8, kT0 + 32));
  CatchUp();
  clock_.AdvanceMillis(31'000);
  CatchUp();
  service_->Stop();

  int64_t size_sum = 0;
  int64_t minute_sum = 0;
  int size_windows = 0;
  for (const WindowRecord& w : Windows()) {
    if (w.config_id == size_config) {
      size_sum += w.predictions;
      ++size_windows;
      EXPECT_EQ(w.predictions, 10);
    } else {
      minute_sum += w.predictions;
    }
  }
  EXPECT_EQ(size_windows, 4);
  EXPECT_EQ(size_sum, 40);
  EXPECT_EQ(minute_sum, 40);
  // Each logged prediction is summarised once per (deployment, offset) for the labels.
  bj::object joined = Feedback(Labels(0, 40, "1"));
  EXPECT_EQ(joined.at("matched").as_int64(), 40);
  EXPECT_TRUE(joined.at("pending").as_array().empty());
}

TEST_F(MonitorServiceTest, FeedbackLogsEveryLabelIntoTheLabelsTopic) {
  labels_ = std::make_unique<stream::EventLogger>(
      *events_, stream::EventLoggerOptions{.topic = std::string(stream::kLabelsTopic)});
  NewService();
  PutConfig(R"({"window": {"size": 20}})");
  std::vector<Request> requests = Requests(0, 3, kT0);
  requests[1].subject = "person-7";
  Append(requests);
  CatchUp();
  Feedback(Labels(0, 3, "1"));
  Feedback(R"({"request_id": "unknown", "label": 0})");
  ASSERT_OK(labels_->Flush());
  ASSERT_OK_AND_ASSIGN(stream::ReadResult read, events_->Read(stream::kLabelsTopic, {}));
  ASSERT_EQ(read.events.size(), 4u);
  const stream::Event& second = read.events[1].event;
  EXPECT_EQ(second.tenant, kTenant);
  EXPECT_EQ(second.key, kDeploymentId);  // keyed like the prediction it labels
  EXPECT_EQ(second.subject_id, "person-7");
  bj::object payload = bj::parse(second.payload).as_object();
  EXPECT_EQ(payload.at("request_id").as_string(), "r1");
  EXPECT_EQ(payload.at("label").as_int64(), 1);
  EXPECT_TRUE(payload.at("matched").as_bool());
  bj::object unknown = bj::parse(read.events[3].event.payload).as_object();
  EXPECT_FALSE(unknown.at("matched").as_bool());
  EXPECT_EQ(read.events[3].event.key, "");
  // Erasing the person removes the label with the prediction.
  ASSERT_OK(events_->DeleteBySubject(kTenant, "person-7"));
  ASSERT_OK_AND_ASSIGN(read, events_->Read(stream::kLabelsTopic, {}));
  EXPECT_EQ(read.events.size(), 3u);
}

TEST_F(MonitorServiceTest, LateLabelsUpdateAClosedWindowAndItsPerformanceAlert) {
  NewService();
  PutConfig(R"({"window": {"size": 20},
                "performance": {"metric": "accuracy", "min": 0.8, "min_labels": 10}})");
  Append(Requests(0, 20, kT0));
  CatchUp();
  ASSERT_EQ(Windows().size(), 1u);
  EXPECT_FALSE(Results(Windows()[0]).contains("performance"));

  // Nine labels: too few for a verdict, but the window shows them.
  bj::object out = Feedback(Labels(0, 9, "0"));
  EXPECT_EQ(out.at("received").as_int64(), 9);
  EXPECT_EQ(out.at("matched").as_int64(), 9);
  EXPECT_EQ(out.at("windows_updated").as_int64(), 1);
  bj::object perf = Results(Windows()[0]).at("performance").as_object();
  EXPECT_EQ(perf.at("labels").as_int64(), 9);
  EXPECT_DOUBLE_EQ(perf.at("accuracy").as_double(), 0);
  EXPECT_TRUE(AlertsOf("performance").empty());

  // Every prediction was 1 and every label 0: accuracy 0 fires.
  Feedback(Labels(9, 11, "0"));
  std::vector<AlertRecord> alerts = AlertsOf("performance");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "firing");
  EXPECT_EQ(alerts[0].first_window_start_ms, kT0);
  bj::value details = bj::parse(alerts[0].details_json);
  EXPECT_EQ(details.at("metric").as_string(), "accuracy");
  EXPECT_EQ(details.at("labels").as_int64(), 20);

  // Corrected labels replace the earlier ones: accuracy 1 resolves it.
  Feedback(Labels(0, 20, "1"));
  EXPECT_DOUBLE_EQ(Results(Windows()[0]).at("performance").at("accuracy").as_double(), 1.0);
  alerts = AlertsOf("performance");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "resolved");
  EXPECT_EQ(alerts[0].resolved_at_ms, kT0);
}

TEST_F(MonitorServiceTest, LabelsBeforeTheirPredictionWaitThenJoin) {
  NewService();
  PutConfig(R"({"window": {"size": 10}})");
  bj::object out = Feedback(R"({"request_id": "r3", "label": 0})");
  EXPECT_EQ(out.at("matched").as_int64(), 0);
  ASSERT_EQ(out.at("pending").as_array().size(), 1u);
  EXPECT_EQ(out.at("pending").at(0).as_string(), "r3");
  Append(Requests(0, 10, kT0));
  CatchUp();
  std::vector<WindowRecord> windows = Windows();
  ASSERT_EQ(windows.size(), 1u);
  bj::object perf = Results(windows[0]).at("performance").as_object();
  EXPECT_EQ(perf.at("labels").as_int64(), 1);
  EXPECT_DOUBLE_EQ(perf.at("accuracy").as_double(), 0);
  // A feedback body naming a deployment that does not exist is refused.
  EXPECT_EQ(service_->Feedback(scope_, R"({"request_id": "r1", "label": 1, "deployment": "x"})")
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->Feedback(scope_, R"({"request_id": "", "label": 1})").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(MonitorServiceTest, ReferenceFromTheFirstPredictions) {
  NewService();
  PutConfig(R"({"window": {"size": 100}, "reference": {"from_predictions": 50}})");
  Append(Requests(0, 40, kT0));
  CatchUp();
  EXPECT_EQ(service_->Reference(scope_, kDeploymentId, std::nullopt).status().code(),
            StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(bj::object status, service_->DeploymentStatus(scope_, kDeploymentId));
  EXPECT_EQ(status.at("configs").at(0).at("reference_building").as_int64(), 40);

  Append(Requests(40, 160, kT0 + 40));
  CatchUp();
  ASSERT_OK_AND_ASSIGN(metadata::ReferenceRecord reference,
                       service_->Reference(scope_, kDeploymentId, std::nullopt));
  EXPECT_EQ(reference.version, 1);
  EXPECT_EQ(reference.source, "predictions");
  ASSERT_OK_AND_ASSIGN(auto versions, service_->ReferenceVersions(scope_, kDeploymentId));
  EXPECT_EQ(versions.size(), 1u);  // built once
  ASSERT_OK_AND_ASSIGN(metadata::ReferenceRecord full,
                       stores_.monitoring->GetReference(kTenant, kDeploymentId, 1, true));
  ASSERT_OK_AND_ASSIGN(ReferenceProfile profile, DecodeProfile(full.profile));
  EXPECT_EQ(profile.row_count, 50);
  ASSERT_EQ(profile.features.size(), 3u);
  EXPECT_EQ(profile.features[0].name, "a");
  EXPECT_EQ(profile.features[0].kind, FeatureKind::kNumeric);  // from the signature
  EXPECT_EQ(profile.features[2].name, "prediction");

  std::vector<WindowRecord> windows = Windows();
  ASSERT_EQ(windows.size(), 2u);
  for (const WindowRecord& w : windows) {
    bj::object r = Results(w);
    EXPECT_EQ(r.at("reference_version").as_int64(), 1);
    EXPECT_EQ(r.at("data_drift").at("status").as_string(), "ok");
    EXPECT_FALSE(r.at("data_drift").at("drift").as_bool());
  }
}

TEST_F(MonitorServiceTest, ExportAndEraseASubject) {
  NewService();
  PutConfig(R"({"window": {"size": 10}})");
  std::vector<Request> requests = Requests(0, 10, kT0);
  requests[2].subject = "alice";
  requests[5].subject = "alice";
  requests[6].subject = "bob";
  Append(requests);
  CatchUp();
  Feedback(R"({"request_id": "r2", "label": 1})");

  ASSERT_OK_AND_ASSIGN(bj::object exported, service_->Export(scope_, "alice"));
  const bj::array& predictions = exported.at("predictions").as_array();
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0].at("request_id").as_string(), "r2");
  EXPECT_EQ(predictions[0].at("label").as_int64(), 1);
  EXPECT_EQ(predictions[0].at("inputs").at("dataframe_split").at("columns").at(0).as_string(), "a");
  EXPECT_EQ(predictions[1].at("request_id").as_string(), "r5");
  EXPECT_FALSE(predictions[1].as_object().contains("label"));

  ASSERT_OK_AND_ASSIGN(bj::object receipt, service_->Erase(scope_, "alice", {kTenant}));
  EXPECT_EQ(receipt.at("prediction_summaries_removed").as_int64(), 2);
  EXPECT_EQ(receipt.at("subject_sha256").as_string().size(), 64u);
  ASSERT_OK_AND_ASSIGN(exported, service_->Export(scope_, "alice"));
  EXPECT_TRUE(exported.at("predictions").as_array().empty());
  ASSERT_OK_AND_ASSIGN(exported, service_->Export(scope_, "bob"));
  EXPECT_EQ(exported.at("predictions").as_array().size(), 1u);
  ASSERT_OK_AND_ASSIGN(stream::ReadResult log, events_->Read(stream::kPredictionsTopic, {}));
  EXPECT_EQ(log.events.size(), 8u);
  // The receipt is recorded as an action, naming the subject only by its hash.
  ASSERT_OK_AND_ASSIGN(auto actions,
                       stores_.monitoring->ListActions(kTenant, "", "", "erasure", 10));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].target, receipt.at("subject_sha256").as_string());
  EXPECT_EQ(actions[0].detail_json.find("alice"), std::string::npos);
  EXPECT_EQ(service_->Erase(scope_, "", {kTenant}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MonitorServiceTest, RetentionDropsOldEventsAndSummaries) {
  MonitorOptions options;
  options.retention = 1h;
  options.retention_check = 1min;
  NewService(options);
  PutConfig(R"({"window": {"size": 10}})");
  std::vector<Request> old = Requests(0, 10, kT0);
  for (Request& r : old) r.subject = "old";
  Append(old);
  CatchUp();
  ASSERT_OK_AND_ASSIGN(auto kept, stores_.monitoring->PredictionsOfSubject(kTenant, "old", 100));
  EXPECT_EQ(kept.size(), 10u);

  clock_.AdvanceMillis(2 * 3'600'000);
  std::vector<Request> fresh = Requests(10, 5, clock_.NowMillis());
  for (Request& r : fresh) r.subject = "new";
  Append(fresh);
  CatchUp();
  ASSERT_OK_AND_ASSIGN(kept, stores_.monitoring->PredictionsOfSubject(kTenant, "old", 100));
  EXPECT_TRUE(kept.empty());
  ASSERT_OK_AND_ASSIGN(kept, stores_.monitoring->PredictionsOfSubject(kTenant, "new", 100));
  EXPECT_EQ(kept.size(), 5u);
  ASSERT_OK_AND_ASSIGN(stream::ReadResult log, events_->Read(stream::kPredictionsTopic, {}));
  EXPECT_EQ(log.events.size(), 5u);
  // Window results are kept.
  EXPECT_EQ(Windows().size(), 1u);
}

}  // namespace
}  // namespace cairn::monitor
