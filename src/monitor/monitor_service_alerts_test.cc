// MonitorService: alert rules (data drift, SLOs, concept drift) and what firing alerts do
// (signed webhooks, retraining commands).

#include <gtest/gtest.h>

#include "monitor/monitor_service.h"
#include "monitor/monitor_service_test_util.h"

namespace cairn::monitor {
namespace {

using namespace testing_util;  // NOLINT(google-build-using-namespace)

TEST_F(MonitorServiceTest, DataDriftAlertFiresOnceWhileDriftingAndResolves) {
  NewService();
  PutConfig(R"({"window": {"size": 100}, "severity": "critical"})");
  UploadReference();
  Append(Requests(0, 100, kT0, 0.9));
  Append(Requests(100, 100, kT0 + 100, 0.9));
  CatchUp();
  std::vector<WindowRecord> windows = Windows();
  ASSERT_EQ(windows.size(), 2u);
  bj::object drift = Results(windows[0]).at("data_drift").as_object();
  EXPECT_EQ(drift.at("status").as_string(), "ok");
  EXPECT_TRUE(drift.at("drift").as_bool());
  EXPECT_TRUE(drift.at("features").at("b").at("drift").as_bool());
  EXPECT_EQ(Results(windows[0]).at("reference_version").as_int64(), 1);

  std::vector<AlertRecord> alerts = AlertsOf("data_drift");
  ASSERT_EQ(alerts.size(), 1u);  // one alert for two drifted windows
  EXPECT_EQ(alerts[0].state, "firing");
  EXPECT_EQ(alerts[0].severity, "critical");
  EXPECT_EQ(alerts[0].first_window_start_ms, kT0);
  EXPECT_EQ(alerts[0].last_window_start_ms, kT0 + 100);
  bj::value details = bj::parse(alerts[0].details_json);
  EXPECT_TRUE(details.at("features").as_object().contains("b"));
  EXPECT_FALSE(details.at("features").as_object().contains("a"));

  ASSERT_OK_AND_ASSIGN(AlertRecord acked, service_->Acknowledge(scope_, alerts[0].id));
  EXPECT_EQ(acked.acknowledged_by, "tester");

  clock_.AdvanceMillis(5000);
  Append(Requests(200, 100, kT0 + 200, 0));
  CatchUp();
  alerts = AlertsOf("data_drift");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "resolved");
  EXPECT_EQ(alerts[0].resolved_at_ms, kT0 + 5000);
  EXPECT_EQ(alerts[0].acknowledged_by, "tester");

  // Drifting again is a new alert.
  Append(Requests(300, 100, kT0 + 300, 0.9));
  CatchUp();
  alerts = AlertsOf("data_drift");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].state, "firing");
  EXPECT_EQ(alerts[0].first_window_start_ms, kT0 + 300);
}

TEST_F(MonitorServiceTest, LateLabelsForAnOldWindowDoNotReraiseItsResolvedAlerts) {
  NewService();
  PutConfig(R"({"window": {"size": 100}, "slo": {"error_rate": 0.1}})");
  UploadReference();
  std::vector<Request> bad = Requests(0, 100, kT0, 0.9);
  for (int i = 0; i < 20; ++i) bad[i].status = 500;
  Append(bad);
  Append(Requests(100, 100, kT0 + 100, 0));
  CatchUp();
  ASSERT_EQ(AlertsOf("data_drift").size(), 1u);
  ASSERT_EQ(AlertsOf("data_drift")[0].state, "resolved");
  ASSERT_EQ(AlertsOf("error_rate").size(), 1u);
  ASSERT_EQ(AlertsOf("error_rate")[0].state, "resolved");
  // A label for a prediction of the first window updates that window's performance only: the
  // newer window already cleared its drift and error rate.
  bj::object out = Feedback(R"({"request_id": "r50", "label": 1})");
  EXPECT_EQ(out.at("windows_updated").as_int64(), 1);
  EXPECT_EQ(Results(Windows()[0]).at("performance").at("labels").as_int64(), 1);
  std::vector<AlertRecord> drift = AlertsOf("data_drift");
  EXPECT_EQ(drift.size(), 1u);
  for (const AlertRecord& a : drift) EXPECT_EQ(a.state, "resolved") << a.id;
  std::vector<AlertRecord> errors = AlertsOf("error_rate");
  EXPECT_EQ(errors.size(), 1u);
  for (const AlertRecord& a : errors) EXPECT_EQ(a.state, "resolved") << a.id;
}

TEST_F(MonitorServiceTest, ErrorRateAndLatencySlos) {
  NewService();
  PutConfig(R"({"window": {"size": 10}, "slo": {"error_rate": 0.2, "latency_p99_ms": 100}})");
  std::vector<Request> requests = Requests(0, 10, kT0);
  for (int i = 0; i < 3; ++i) requests[i].status = 503;
  requests[9].latency_us = 900'000;  // p99 of nine 2 ms and one 900 ms: 819.18 ms
  Append(requests);
  CatchUp();
  ASSERT_EQ(Windows().size(), 1u);
  bj::object r = Results(Windows()[0]);
  EXPECT_EQ(r.at("errors").as_int64(), 3);
  EXPECT_DOUBLE_EQ(r.at("error_rate").as_double(), 0.3);
  EXPECT_EQ(r.at("rows").as_int64(), 7);  // failed requests are not in the drift sample
  EXPECT_NEAR(r.at("latency_ms").at("p99").as_double(), 819.18, 1e-9);

  std::vector<AlertRecord> errors = AlertsOf("error_rate");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].state, "firing");
  EXPECT_DOUBLE_EQ(bj::parse(errors[0].details_json).at("error_rate").as_double(), 0.3);
  std::vector<AlertRecord> latency = AlertsOf("latency");
  ASSERT_EQ(latency.size(), 1u);
  EXPECT_EQ(latency[0].state, "firing");

  // A healthy window resolves both.
  Append(Requests(10, 10, kT0 + 10));
  CatchUp();
  EXPECT_EQ(AlertsOf("error_rate")[0].state, "resolved");
  EXPECT_EQ(AlertsOf("latency")[0].state, "resolved");
}

TEST_F(MonitorServiceTest, ConceptDriftFromWrongLabelsWithDdm) {
  NewService();
  PutConfig(R"({"window": {"size": 200}, "concept_drift": {"detector": "ddm"}})");
  Append(Requests(0, 200, kT0));
  CatchUp();
  // 100 right answers (with a few misses), then a run of wrong ones.
  bj::array labels;
  for (int i = 0; i < 200; ++i) {
    const bool right = i < 100 ? i % 10 != 0 : false;
    labels.push_back(bj::object{{"request_id", "r" + std::to_string(i)}, {"label", right ? 1 : 0}});
  }
  EXPECT_TRUE(AlertsOf("concept_drift").empty());
  Feedback(bj::serialize(bj::object{{"labels", std::move(labels)}}));
  std::vector<AlertRecord> alerts = AlertsOf("concept_drift");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "firing");
  bj::value details = bj::parse(alerts[0].details_json);
  EXPECT_EQ(details.at("detector").as_string(), "ddm");
  const std::string first_wrong = std::string(details.at("request_id").as_string());
  EXPECT_GE(std::stoi(first_wrong.substr(1)), 100);

  // The detection came after the first window closed, so the second window saw it; the third
  // is a whole window without one and resolves the alert.
  Append(Requests(200, 200, kT0 + 200));
  CatchUp();
  EXPECT_EQ(AlertsOf("concept_drift")[0].state, "firing");
  Append(Requests(400, 200, kT0 + 400));
  CatchUp();
  EXPECT_EQ(AlertsOf("concept_drift")[0].state, "resolved");
}

// Labels posted to a process that does not monitor the deployment (a replica with --monitor
// false, or one whose consumer group gave the partition to another member) reach the monitor
// that does through the labels topic: it feeds its detector and judges the windows again.
TEST_F(MonitorServiceTest, LabelsTakenByAnotherProcessReachTheMonitorThroughTheLabelsTopic) {
  labels_ = std::make_unique<stream::EventLogger>(
      *events_, stream::EventLoggerOptions{.topic = std::string(stream::kLabelsTopic)});
  MonitorOptions options;
  options.poll_interval = 10s;  // the test drives the consumer with CatchUp
  NewService(options);
  ASSERT_OK(service_->Start());
  const std::string config =
      PutConfig(R"({"window": {"size": 200}, "concept_drift": {"detector": "ddm"},
                    "performance": {"metric": "accuracy", "min": 0.8, "min_labels": 10}})");
  Append(Requests(0, 200, kT0));
  CatchUp();
  ASSERT_EQ(Windows().size(), 1u);
  std::unique_ptr<MonitorService> api = MakeService();  // never started: the API only
  bj::array labels;
  for (int i = 0; i < 200; ++i) {
    const bool right = i < 100 ? i % 10 != 0 : false;
    labels.push_back(bj::object{{"request_id", "r" + std::to_string(i)}, {"label", right ? 1 : 0}});
  }
  ASSERT_OK_AND_ASSIGN(bj::object out,
                       api->Feedback(scope_, bj::serialize(bj::object{{"labels", labels}})));
  EXPECT_EQ(out.at("matched").as_int64(), 200);
  // The process that took them stored the join and the window's performance (45% accuracy)...
  EXPECT_EQ(Results(Windows()[0]).at("performance").at("labels").as_int64(), 200);
  // ...but holds no detector or alert state for the deployment.
  EXPECT_TRUE(AlertsOf("concept_drift").empty());
  EXPECT_TRUE(AlertsOf("performance").empty());
  ASSERT_OK(labels_->Flush());
  CatchUp();
  std::vector<AlertRecord> drift = AlertsOf("concept_drift");
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].state, "firing");
  std::vector<AlertRecord> performance = AlertsOf("performance");
  ASSERT_EQ(performance.size(), 1u);
  EXPECT_EQ(performance[0].state, "firing");
  // Labels are applied once: the consumer's place in the labels topic is committed.
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> committed,
                       events_->CommittedOffset("cairn-monitor-labels", stream::kLabelsTopic, 0));
  EXPECT_EQ(committed, 200);

  // Labels the monitoring process takes itself are applied at once, and not again from the
  // topic: the detector's stored state changes with Feedback, not with the next read.
  Append(Requests(200, 10, kT0 + 200));
  CatchUp();
  auto detector_state = [&] {
    StatusOr<std::optional<std::string>> state =
        stores_.monitoring->GetMonitorState(kTenant, config, kDeploymentId);
    EXPECT_OK(state);
    return state.ok() ? state->value_or("") : "";
  };
  const std::string before = detector_state();
  Feedback(Labels(200, 10, "0"));
  ASSERT_OK(labels_->Flush());
  const std::string after = detector_state();
  EXPECT_NE(before, after);
  CatchUp();
  EXPECT_EQ(detector_state(), after);
  ASSERT_OK_AND_ASSIGN(committed,
                       events_->CommittedOffset("cairn-monitor-labels", stream::kLabelsTopic, 0));
  EXPECT_EQ(committed, 210);
}

struct Hook {
  std::string event;
  std::string timestamp;
  std::string signature;
  std::string body;
};

TEST_F(MonitorServiceTest, AlertsAreDeliveredToASignedWebhook) {
  std::mutex mu;
  std::vector<Hook> hooks;
  router_.Add(http::Method::kPost, "/hook", [&](http::Request& request) {
    std::lock_guard lock(mu);
    hooks.push_back(Hook{std::string(request.headers.Get("X-Cairn-Event").value_or("")),
                         std::string(request.headers.Get("X-Cairn-Timestamp").value_or("")),
                         std::string(request.headers.Get("X-Cairn-Signature").value_or("")),
                         request.body});
    return http::Response::Json(200, "{}");
  });
  http::ServerOptions server_options;
  server_options.host = "127.0.0.1";
  server_options.port = 0;
  server_options.io_threads = 1;
  server_options.threads = 2;
  server_options.drain_timeout = 2s;
  server_ =
      std::make_unique<http::HttpServer>(server_options, router_, std::vector<http::Middleware*>{});
  ASSERT_OK_AND_ASSIGN(uint16_t port, server_->Start());
  WebhookSenderOptions sender_options;
  sender_options.clock = &clock_;
  sender_options.attempt_timeout = 2s;
  sender_options.shutdown_grace = 1s;
  ASSERT_OK_AND_ASSIGN(sender_, WebhookSender::Create(sender_options));
  NewService();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  PutConfig(R"({"window": {"size": 10}, "slo": {"error_rate": 0.1},
                "sinks": [{"type": "log"}, {"type": "webhook", "url": ")" +
            url + R"(", "secret": "whsec_1"}]})");

  std::vector<Request> requests = Requests(0, 10, kT0);
  requests[0].status = 500;
  requests[1].status = 500;
  Append(requests);
  CatchUp();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return hooks.size() >= 1;
  }));
  Append(Requests(10, 10, kT0 + 10));
  CatchUp();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return hooks.size() >= 2;
  }));
  std::vector<AlertRecord> alerts = AlertsOf("error_rate");
  ASSERT_EQ(alerts.size(), 1u);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(hooks.size(), 2u);
    EXPECT_EQ(hooks[0].event, "alert.fired");
    EXPECT_EQ(hooks[1].event, "alert.resolved");
    for (const Hook& hook : hooks) {
      EXPECT_EQ(hook.timestamp, std::to_string(kT0 / 1000));
      EXPECT_TRUE(VerifyWebhookSignature("whsec_1", kT0 / 1000, hook.body, hook.signature));
      bj::value body = bj::parse(hook.body);
      EXPECT_EQ(body.at("tenant").as_string(), kTenant);
      EXPECT_EQ(body.at("alert").at("id").as_string(), alerts[0].id);
      EXPECT_EQ(body.at("alert").at("kind").as_string(), "error_rate");
    }
    EXPECT_EQ(bj::parse(hooks[0].body).at("alert").at("state").as_string(), "firing");
    EXPECT_EQ(bj::parse(hooks[1].body).at("alert").at("state").as_string(), "resolved");
  }
  // Each delivery is recorded as an action of the alert.
  std::vector<metadata::ActionRecord> actions;
  ASSERT_TRUE(WaitFor([&] {
    auto listed = service_->Actions(scope_, alerts[0].id, 10);
    if (!listed.ok()) return false;
    actions = *listed;
    return actions.size() == 2 && actions[0].status == "delivered" &&
           actions[1].status == "delivered";
  })) << actions.size();
  EXPECT_EQ(actions[0].action, "webhook");
  EXPECT_EQ(actions[0].target, url);
  EXPECT_EQ(actions[0].attempts, 1);
}

TEST_F(MonitorServiceTest, AlertsLaunchRetrainingCommandsWithACooldown) {
  ASSERT_OK_AND_ASSIGN(launcher_, CommandLauncher::Create());
  NewService();
  const std::string work = dir_.path() + "/work";
  std::filesystem::create_directories(work);
  PutConfig(R"({"window": {"size": 10}, "slo": {"error_rate": 0.1},
                "retrain": {"type": "command", "working_dir": ")" +
            work + R"(", "command": ["/bin/sh", "-c",
                "printf '%s %s %s' \"$CAIRN_ALERT_KIND\" \"$CAIRN_DEPLOYMENT_NAME\" \"$CAIRN_MODEL_VERSION\" > out.txt"],
                "on": ["error_rate"], "cooldown": "1h"}})");
  auto failing = [&](int first) {
    std::vector<Request> requests = Requests(first, 10, kT0 + first);
    requests[0].status = 500;
    requests[1].status = 500;
    return requests;
  };
  Append(failing(0));
  CatchUp();
  std::vector<metadata::ActionRecord> actions;
  ASSERT_TRUE(WaitFor([&] {
    auto listed = stores_.monitoring->ListActions(kTenant, "", "", "retrain_command", 10);
    if (!listed.ok()) return false;
    actions = *listed;
    return actions.size() == 1 && actions[0].status == "finished";
  }));
  EXPECT_EQ(actions[0].target, "/bin/sh");
  EXPECT_EQ(actions[0].alert_id, AlertsOf("error_rate")[0].id);
  bj::value detail = bj::parse(actions[0].detail_json);
  EXPECT_EQ(detail.at("exit_code").as_int64(), 0);
  EXPECT_FALSE(detail.at("timed_out").as_bool());
  std::ifstream out(work + "/out.txt");
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "error_rate prod 3");

  // Resolved, then firing again within the cooldown: a new alert, no second launch.
  Append(Requests(10, 10, kT0 + 10));
  Append(failing(20));
  CatchUp();
  EXPECT_EQ(AlertsOf("error_rate").size(), 2u);
  ASSERT_OK_AND_ASSIGN(actions,
                       stores_.monitoring->ListActions(kTenant, "", "", "retrain_command", 10));
  EXPECT_EQ(actions.size(), 1u);
  // After the cooldown the next alert launches again.
  clock_.AdvanceMillis(3'600'000);
  Append(Requests(30, 10, kT0 + 30));
  Append(failing(40));
  CatchUp();
  ASSERT_TRUE(WaitFor([&] {
    auto listed = stores_.monitoring->ListActions(kTenant, "", "", "retrain_command", 10);
    return listed.ok() && listed->size() == 2 && (*listed)[0].status == "finished";
  }));
}

}  // namespace
}  // namespace cairn::monitor
