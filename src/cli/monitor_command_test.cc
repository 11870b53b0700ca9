#include "cli/monitor_command.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cairn::cli {
namespace {

namespace bj = boost::json;

MonitorCommand MustParse(const std::vector<std::string>& args,
                         std::optional<std::string> env_server = std::nullopt) {
  ParsedMonitorArgs parsed = ParseMonitorArgs(args, std::move(env_server));
  EXPECT_TRUE(parsed.command.has_value()) << parsed.message;
  return parsed.command.value_or(MonitorCommand{});
}

void ExpectUsageError(const std::vector<std::string>& args, std::string_view needle = "") {
  ParsedMonitorArgs parsed = ParseMonitorArgs(args, std::nullopt);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  EXPECT_FALSE(parsed.command.has_value()) << joined;
  EXPECT_EQ(parsed.exit_code, 2) << joined;
  EXPECT_NE(parsed.message.find(needle), std::string::npos) << joined << "-> " << parsed.message;
}

std::string Render(const std::vector<std::string>& args, std::string_view body) {
  StatusOr<std::string> text = FormatMonitorReply(MustParse(args), body);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(MonitorCommandTest, StatusCallsTheMonitorRouteWithTheWorkspace) {
  MonitorCommand cmd = MustParse(
      {"monitor", "--workspace", "team-a", "status", "iris prod", "--server", "http://h:1"});
  EXPECT_EQ(cmd.action, MonitorAction::kStatus);
  EXPECT_EQ(cmd.server, "http://h:1");
  HttpCall call = BuildMonitorCall(cmd);
  EXPECT_EQ(call.method, http::Method::kGet);
  EXPECT_EQ(call.target, "/api/v1/deployments/iris%20prod/monitor");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0],
            std::make_pair(std::string("X-MLflow-Workspace"), std::string("team-a")));
}

TEST(MonitorCommandTest, MetricsAndAlertsSendOnlyTheFiltersGiven) {
  EXPECT_EQ(BuildMonitorCall(MustParse({"monitor", "metrics", "team/iris"})).target,
            "/api/v1/models/team%2Firis/metrics");
  EXPECT_EQ(BuildMonitorCall(MustParse({"monitor", "metrics", "iris", "--deployment", "prod",
                                        "--from", "1000", "--to", "2000"}))
                .target,
            "/api/v1/models/iris/metrics?deployment=prod&from=1000&to=2000");
  EXPECT_EQ(BuildMonitorCall(MustParse({"monitor", "alerts"})).target, "/api/v1/alerts");
  EXPECT_EQ(BuildMonitorCall(MustParse({"monitor", "alerts", "--model", "iris", "--kind",
                                        "data_drift", "--state", "firing"}))
                .target,
            "/api/v1/alerts?model=iris&kind=data_drift&state=firing");
  HttpCall ack = BuildMonitorCall(MustParse({"monitor", "ack", "al-1"}));
  EXPECT_EQ(ack.method, http::Method::kPost);
  EXPECT_EQ(ack.target, "/api/v1/alerts/al-1/acknowledge");
}

TEST(MonitorCommandTest, ConfigWithAFileSavesWithoutListsAndReferenceUploadsOrShows) {
  MonitorCommand set = MustParse({"monitor", "config", "iris", "--file", "spec.json"});
  EXPECT_EQ(set.action, MonitorAction::kConfigSet);
  HttpCall post = BuildMonitorCall(set, R"({"window":{"size":100}})");
  EXPECT_EQ(post.method, http::Method::kPost);
  EXPECT_EQ(post.target, "/api/v1/models/iris/drift-config");
  EXPECT_EQ(post.body, R"({"window":{"size":100}})");
  MonitorCommand list = MustParse({"monitor", "config", "iris"});
  EXPECT_EQ(list.action, MonitorAction::kConfigList);
  EXPECT_EQ(BuildMonitorCall(list).method, http::Method::kGet);

  MonitorCommand show = MustParse({"monitor", "reference", "prod"});
  EXPECT_EQ(show.action, MonitorAction::kReferenceShow);
  EXPECT_EQ(BuildMonitorCall(show).target, "/api/v1/deployments/prod/reference");
  MonitorCommand upload = MustParse({"monitor", "reference", "prod", "--file", "data/Train.CSV",
                                     "--exclude", "target,row id", "--exclude", "when"});
  EXPECT_EQ(upload.action, MonitorAction::kReferenceUpload);
  EXPECT_EQ(upload.exclude, (std::vector<std::string>{"target", "row id", "when"}));
  StatusOr<HttpCall> call = ReferenceUploadCall(upload);
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  EXPECT_EQ(call->target, "/api/v1/deployments/prod/reference?exclude=target,row%20id,when");
  EXPECT_EQ(call->content_type, "text/csv");
  upload.file = "rows.jsonl";
  EXPECT_EQ(ReferenceUploadCall(upload)->content_type, "application/x-ndjson");
}

TEST(MonitorCommandTest, UsageErrors) {
  ExpectUsageError({"monitor"}, "subcommand");
  ExpectUsageError({"monitor", "status"}, "deployment");
  ExpectUsageError({"monitor", "metrics", "iris", "--from", "5", "--to", "4"}, "--from is after");
  ExpectUsageError({"monitor", "metrics", "iris", "--from", "-1"});
  ExpectUsageError({"monitor", "reference", "prod", "--file", "data.parquet"}, "format");
  ExpectUsageError({"monitor", "reference", "prod", "--exclude", "a"}, "--exclude goes with");
  ExpectUsageError({"monitor", "feedback"}, "--file");
  ExpectUsageError({"monitor", "drift-report", "--reference", "a.csv"}, "--current");
  ExpectUsageError({"monitor", "drift-report", "--reference", "a.csv", "--current", "b.csv",
                    "--method", "bogus"});
  ExpectUsageError(
      {"monitor", "drift-report", "--reference", "a.csv", "--current", "b.csv", "--threshold", "0"},
      "positive");
  ExpectUsageError({"monitor", "status", "x", "--server", "ftp://h"}, "invalid server URL");
}

TEST(MonitorCommandTest, DriftReportNeedsNoServer) {
  MonitorCommand cmd = MustParse(
      {"monitor", "drift-report", "--reference", "r.csv", "--current", "c.jsonl", "--method", "psi",
       "--threshold", "0.2", "--drift-share", "0.3", "--exclude", "id", "--json"},
      "not a url");
  EXPECT_EQ(cmd.action, MonitorAction::kDriftReport);
  EXPECT_EQ(cmd.method, "psi");
  EXPECT_EQ(cmd.threshold, 0.2);
  EXPECT_EQ(cmd.drift_share, 0.3);
  EXPECT_EQ(cmd.exclude, std::vector<std::string>{"id"});
  EXPECT_TRUE(cmd.json);
}

TEST(MonitorCommandTest, HelpExitsZero) {
  ParsedMonitorArgs parsed = ParseMonitorArgs({"monitor", "--help"}, std::nullopt);
  EXPECT_FALSE(parsed.command.has_value());
  EXPECT_EQ(parsed.exit_code, 0);
  EXPECT_NE(parsed.message.find("drift-report"), std::string::npos);
}

TEST(MonitorCommandTest, RendersStatus) {
  EXPECT_EQ(Render({"monitor", "status", "prod"},
                   R"({"deployment_id":"d-1","deployment_name":"prod","model_name":"iris",
                 "reference_version":2,"reference_source":"upload","configs":[{"config_id":"dc-1",
                 "spec":{"window":{"size":100}},"open_window":{"start_ms":1700000000000,
                 "requests":40,"rows":41}},{"config_id":"dc-2","spec":{"window":{"duration":"5m"}},
                 "reference_building":12}]})"),
            "DEPLOYMENT  NAME  MODEL  REFERENCE\n"
            "d-1         prod  iris   v2 (upload)\n"
            "\n"
            "CONFIG  WINDOW    OPEN_SINCE           REQUESTS  ROWS  BUILDING_REFERENCE\n"
            "dc-1    100 rows  2023-11-14 22:13:20  40        41    -\n"
            "dc-2    5m        -                    -         -     12 rows\n");
  EXPECT_EQ(Render({"monitor", "status", "prod"},
                   R"({"deployment_id":"d-1","deployment_name":"prod","model_name":"iris",
                       "configs":[]})"),
            "DEPLOYMENT  NAME  MODEL  REFERENCE\n"
            "d-1         prod  iris   -\n"
            "\nNo drift configurations.\n");
}

TEST(MonitorCommandTest, RendersMetricsWithPerformanceColumnsOnlyWhenPresent) {
  const std::string two_windows = R"({"model_name":"iris","windows":[
      {"start_ms":1700000000000,"end_ms":1700000060000,"model_version":"1","predictions":100,
       "results":{"error_rate":0.02,"latency_ms":{"p99":12.345},
                  "data_drift":{"status":"ok","drifted":3,"total":30,"drift":false},
                  "performance":{"task":"classification","labels":100,"accuracy":0.9123}}},
      {"start_ms":1700000060000,"end_ms":1700000120000,"model_version":"1","predictions":5,
       "results":{"error_rate":0,"latency_ms":{"p99":1},
                  "data_drift":{"status":"no_reference"}}}]})";
  EXPECT_EQ(Render({"monitor", "metrics", "iris"}, two_windows),
            "START                END                  VERSION  PREDICTIONS  ERRORS  P99_MS  "
            "DRIFTED  DATASET_DRIFT  ACCURACY\n"
            "2023-11-14 22:13:20  2023-11-14 22:14:20  1        100          2.0%    12.3    "
            "3/30     no             0.912\n"
            "2023-11-14 22:14:20  2023-11-14 22:15:20  1        5            0.0%    1.0     "
            "-        no_reference   -\n");
  EXPECT_EQ(Render({"monitor", "metrics", "iris"}, R"({"windows":[]})"), "No closed windows.\n");
  EXPECT_EQ(Render({"monitor", "metrics", "iris", "--json"}, R"({"windows":[]})"),
            "{\"windows\":[]}\n");
}

TEST(MonitorCommandTest, RendersAlertsAckAndConfigs) {
  const std::string alert = R"({"id":"al-1","kind":"data_drift","severity":"warning",
      "state":"firing","model_name":"iris","deployment_id":"d-1","fired_at_ms":1700000000000,
      "details":{}})";
  EXPECT_EQ(Render({"monitor", "alerts"}, R"({"alerts":[)" + alert + "]}"),
            "ID    KIND        SEVERITY  STATE   MODEL  DEPLOYMENT  FIRED                "
            "ACKED_BY\n"
            "al-1  data_drift  warning   firing  iris   d-1         2023-11-14 22:13:20  -\n");
  EXPECT_EQ(Render({"monitor", "alerts"}, R"({"alerts":[]})"), "No alerts.\n");
  std::string acked = alert;
  acked.insert(acked.size() - 1, R"(,"acknowledged_by":"alice")");
  EXPECT_NE(Render({"monitor", "ack", "al-1"}, acked).find("alice"), std::string::npos);
  EXPECT_EQ(Render({"monitor", "config", "iris"},
                   R"({"configs":[{"config_id":"dc-1","model_name":"iris",
                       "spec":{"window":{"size":100},"method":"psi","drift_share":0.3,
                               "sinks":[{"type":"webhook","secret":"s3cret"}]},
                       "updated_at":1700000000000}]})"),
            "CONFIG  DEPLOYMENT  WINDOW    METHOD  DRIFT_SHARE  UPDATED\n"
            "dc-1    -           100 rows  psi     0.30         2023-11-14 22:13:20\n");
  EXPECT_EQ(Render({"monitor", "config", "iris"}, R"({"configs":[]})"),
            "No drift configurations.\n");
}

TEST(MonitorCommandTest, RendersAReferenceSummary) {
  EXPECT_EQ(Render({"monitor", "reference", "prod"},
                   R"({"deployment_id":"d-1","version":3,"source":"upload","created_at":0,
                       "profile":{"row_count":10,"source_detail":"csv upload of 10 rows",
                       "features":[{"name":"a","kind":"numeric","count":9,"missing":1,
                       "missing_rate":0.1,"mean":1.5,"std":"NaN"},{"name":"b",
                       "kind":"categorical","count":10,"missing":0,"missing_rate":0,
                       "n_unique":4}]}})"),
            "Reference v3 of deployment d-1: upload (csv upload of 10 rows), 10 rows, created -\n"
            "FEATURE  KIND         COUNT  MISSING  SUMMARY\n"
            "a        numeric      9      10.0%    mean 1.5000, std -\n"
            "b        categorical  10     0.0%     4 distinct\n");
}

TEST(MonitorCommandTest, UnexpectedAnswersAreInternal) {
  for (auto args : std::vector<std::vector<std::string>>{{"monitor", "status", "x"},
                                                         {"monitor", "metrics", "m"},
                                                         {"monitor", "alerts"},
                                                         {"monitor", "reference", "x"}}) {
    StatusOr<std::string> text = FormatMonitorReply(MustParse(args), R"({"nope":1})");
    EXPECT_EQ(text.status().code(), StatusCode::kInternal) << args[1];
  }
}

TEST(MonitorCommandTest, FeedbackLinesBatchesAndTotals) {
  EXPECT_EQ(ParseFeedbackLine("  \r", 1).value(), std::nullopt);
  EXPECT_EQ(ParseFeedbackLine(R"({"request_id": "r1", "label": 1})", 1).value(),
            std::optional<std::string>(R"({"request_id":"r1","label":1})"));
  for (std::string_view bad :
       {"{", "[1]", R"({"label":1})", R"({"request_id":"r"})", R"({"request_id":"","label":1})"}) {
    auto parsed = ParseFeedbackLine(bad, 7);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find("line 7"), std::string::npos) << bad;
  }
  HttpCall call =
      FeedbackCall(MustParse({"monitor", "feedback", "--file", "l.jsonl"}),
                   {R"({"request_id":"a","label":1})", R"({"request_id":"b","label":0})"});
  EXPECT_EQ(call.target, "/api/v1/feedback");
  EXPECT_EQ(bj::parse(call.body), bj::parse(R"({"labels":[{"request_id":"a","label":1},
                                                         {"request_id":"b","label":0}]})"));

  FeedbackTotals totals;
  ASSERT_TRUE(totals.Add(R"({"received":2,"matched":1,"pending":["b"],"windows_updated":1})").ok());
  ASSERT_TRUE(totals.Add(R"({"received":1,"matched":1,"pending":[],"windows_updated":0})").ok());
  EXPECT_EQ(totals.Add(R"({"received":1})").code(), StatusCode::kInternal);
  EXPECT_EQ(FormatFeedbackTotals(totals, false),
            "Sent 3 labels in 2 batches: 2 matched, 1 pending, 1 windows updated.\n"
            "Pending (no prediction with that request id yet): b\n");
  EXPECT_EQ(bj::parse(FormatFeedbackTotals(totals, true)),
            bj::parse(R"({"received":3,"matched":2,"pending":["b"],"windows_updated":1,
                          "batches":2})"));
}

}  // namespace
}  // namespace cairn::cli
