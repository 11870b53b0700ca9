#include "cli/deployments_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cairn::cli {
namespace {

namespace bj = boost::json;

DeploymentsCommand MustParse(const std::vector<std::string>& args,
                             std::optional<std::string> env_server = std::nullopt) {
  ParsedDeploymentsArgs parsed = ParseDeploymentsArgs(args, std::move(env_server));
  EXPECT_TRUE(parsed.command.has_value()) << parsed.message;
  return parsed.command.value_or(DeploymentsCommand{});
}

void ExpectUsageError(const std::vector<std::string>& args, std::string_view needle = "") {
  ParsedDeploymentsArgs parsed = ParseDeploymentsArgs(args, std::nullopt);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  EXPECT_FALSE(parsed.command.has_value()) << joined;
  EXPECT_EQ(parsed.exit_code, 2) << joined;
  EXPECT_NE(parsed.message.find(needle), std::string::npos) << joined << "-> " << parsed.message;
}

bj::value Body(const HttpCall& call) { return bj::parse(call.body); }

TEST(DeploymentsCommandTest, CreateWithEverything) {
  DeploymentsCommand cmd = MustParse({"deployments",
                                      "create",
                                      "--model-name",
                                      "iris",
                                      "--version",
                                      "3",
                                      "--name",
                                      "iris-prod",
                                      "--runtime",
                                      "onnx",
                                      "--device",
                                      "cpu",
                                      "--replicas",
                                      "2",
                                      "--min",
                                      "1",
                                      "--max",
                                      "4",
                                      "--target-concurrency",
                                      "8",
                                      "--wait",
                                      "--timeout",
                                      "90"});
  EXPECT_EQ(cmd.action, DeploymentsAction::kCreate);
  EXPECT_TRUE(cmd.wait);
  EXPECT_EQ(cmd.timeout_seconds, 90);
  EXPECT_EQ(cmd.wait_seconds, 90);
  EXPECT_EQ(cmd.server, kDefaultServer);
  HttpCall call = BuildDeploymentsCall(cmd);
  EXPECT_EQ(call.method, http::Method::kPost);
  EXPECT_EQ(call.target, "/api/v1/deployments/create");
  EXPECT_EQ(call.content_type, "application/json");
  EXPECT_TRUE(call.headers.empty());
  EXPECT_EQ(Body(call), bj::parse(R"({"model_name": "iris", "version": "3", "name": "iris-prod",
      "runtime": "onnx", "device": "cpu", "deployment_config": {"replicas": 2,
      "autoscaling": {"min": 1, "max": 4, "target_concurrency": 8}}})"));
}

TEST(DeploymentsCommandTest, CreateMinimalByAliasSendsOnlyWhatWasGiven) {
  DeploymentsCommand cmd =
      MustParse({"deployments", "create", "--model-name", "team/iris", "--alias", "champion"});
  EXPECT_FALSE(cmd.wait);
  EXPECT_EQ(cmd.timeout_seconds, 30);
  EXPECT_EQ(cmd.wait_seconds, 300);
  EXPECT_EQ(Body(BuildDeploymentsCall(cmd)),
            bj::parse(R"({"model_name": "team/iris", "alias": "champion"})"));
}

TEST(DeploymentsCommandTest, CreateUsageErrors) {
  ExpectUsageError({"deployments", "create", "--version", "1"}, "--model-name");
  ExpectUsageError({"deployments", "create", "--model-name", "iris"}, "--version or --alias");
  ExpectUsageError(
      {"deployments", "create", "--model-name", "iris", "--version", "1", "--alias", "a"});
  ExpectUsageError({"deployments", "create", "--model-name", "iris", "--version", "v1"},
                   "version number");
  ExpectUsageError(
      {"deployments", "create", "--model-name", "iris", "--version", "1", "--runtime", "tf"});
  ExpectUsageError(
      {"deployments", "create", "--model-name", "iris", "--version", "1", "--device", "tpu"});
  ExpectUsageError(
      {"deployments", "create", "--model-name", "iris", "--version", "1", "--replicas", "0"});
  ExpectUsageError({"deployments", "create", "--model-name", "iris", "--version", "1", "--min", "3",
                    "--max", "2"},
                   "--min must not exceed --max");
  ExpectUsageError({"deployments", "create", "--model-name", "", "--version", "1"}, "empty");
  ExpectUsageError(
      {"deployments", "create", "--model-name", "iris", "--version", "1", "--timeout", "0"});
}

TEST(DeploymentsCommandTest, StatusListDeleteAndEncodedIds) {
  DeploymentsCommand status = MustParse({"deployments", "status", "d-0123"});
  EXPECT_EQ(status.action, DeploymentsAction::kStatus);
  HttpCall call = BuildDeploymentsCall(status);
  EXPECT_EQ(call.method, http::Method::kGet);
  EXPECT_EQ(call.target, "/api/v1/deployments/d-0123/status");
  EXPECT_TRUE(call.body.empty());
  EXPECT_EQ(BuildDeploymentsCall(MustParse({"deployments", "status", "a/b c?"})).target,
            "/api/v1/deployments/a%2Fb%20c%3F/status");

  HttpCall list = BuildDeploymentsCall(MustParse({"deployments", "list"}));
  EXPECT_EQ(list.method, http::Method::kGet);
  EXPECT_EQ(list.target, "/api/v1/deployments");

  HttpCall del = BuildDeploymentsCall(MustParse({"deployments", "delete", "iris-v3"}));
  EXPECT_EQ(del.method, http::Method::kDelete);
  EXPECT_EQ(del.target, "/api/v1/deployments/iris-v3");

  ExpectUsageError({"deployments", "status"}, "deployment");
  ExpectUsageError({"deployments", "delete"}, "deployment");
  ExpectUsageError({"deployments", "status", ""}, "empty");
}

TEST(DeploymentsCommandTest, Scale) {
  HttpCall replicas =
      BuildDeploymentsCall(MustParse({"deployments", "scale", "iris-v3", "--replicas", "3"}));
  EXPECT_EQ(replicas.method, http::Method::kPut);
  EXPECT_EQ(replicas.target, "/api/v1/deployments/iris-v3/scale");
  EXPECT_EQ(Body(replicas), bj::parse(R"({"replicas": 3})"));
  HttpCall bounds = BuildDeploymentsCall(
      MustParse({"deployments", "scale", "iris-v3", "--min", "1", "--max", "5"}));
  EXPECT_EQ(Body(bounds), bj::parse(R"({"autoscaling": {"min": 1, "max": 5}})"));
  EXPECT_EQ(Body(BuildDeploymentsCall(MustParse({"deployments", "scale", "x", "--max", "2"}))),
            bj::parse(R"({"autoscaling": {"max": 2}})"));
  ExpectUsageError({"deployments", "scale", "iris-v3"}, "--replicas");
  ExpectUsageError({"deployments", "scale", "iris-v3", "--replicas", "-1"});
  ExpectUsageError({"deployments", "scale", "iris-v3", "--min", "4", "--max", "2"}, "--min");
  ExpectUsageError({"deployments", "scale", "--replicas", "2"}, "deployment");
}

TEST(DeploymentsCommandTest, Update) {
  DeploymentsCommand cmd =
      MustParse({"deployments", "update", "iris-prod", "--version", "4", "--wait"});
  EXPECT_EQ(cmd.action, DeploymentsAction::kUpdate);
  EXPECT_TRUE(cmd.wait);
  HttpCall call = BuildDeploymentsCall(cmd);
  EXPECT_EQ(call.method, http::Method::kPut);
  EXPECT_EQ(call.target, "/api/v1/deployments/iris-prod");
  EXPECT_EQ(Body(call), bj::parse(R"({"version": "4"})"));
  EXPECT_EQ(Body(BuildDeploymentsCall(MustParse({"deployments", "update", "iris-prod", "--alias",
                                                 "champion", "--model-name", "iris2"}))),
            bj::parse(R"({"model_name": "iris2", "alias": "champion"})"));
  ExpectUsageError({"deployments", "update", "iris-prod"}, "--version or --alias");
  ExpectUsageError({"deployments", "update", "iris-prod", "--version", "1", "--alias", "a"});
  ExpectUsageError({"deployments", "update", "iris-prod", "--alias", ""}, "alias is empty");
  ExpectUsageError({"deployments", "update", "--version", "2"}, "deployment");
}

TEST(DeploymentsCommandTest, PredictionsWithPaging) {
  DeploymentsCommand cmd = MustParse(
      {"deployments", "predictions", "iris-prod", "--max-results", "5", "--page-token", "a b&c"});
  EXPECT_EQ(cmd.action, DeploymentsAction::kPredictions);
  HttpCall call = BuildDeploymentsCall(cmd);
  EXPECT_EQ(call.method, http::Method::kGet);
  EXPECT_EQ(call.target,
            "/api/v1/deployments/iris-prod/predictions?max_results=5&page_token=a%20b%26c");
  EXPECT_EQ(BuildDeploymentsCall(MustParse({"deployments", "predictions", "x"})).target,
            "/api/v1/deployments/x/predictions");
  ExpectUsageError({"deployments", "predictions", "x", "--max-results", "0"});
  ExpectUsageError({"deployments", "predictions", "x", "--max-results", "1001"});
}

TEST(DeploymentsCommandTest, WorkspaceServerAndJsonAreGlobal) {
  DeploymentsCommand cmd = MustParse(
      {"deployments", "--workspace", "team-a", "list", "--server", "http://flag:2", "--json"},
      "http://env:1");
  EXPECT_EQ(cmd.server, "http://flag:2");
  EXPECT_TRUE(cmd.json);
  EXPECT_EQ(cmd.workspace, "team-a");
  HttpCall call = BuildDeploymentsCall(cmd);
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0], (std::pair<std::string, std::string>{"X-MLflow-Workspace", "team-a"}));
  EXPECT_EQ(StatusCall(cmd, "x").headers, call.headers);
  EXPECT_EQ(MustParse({"deployments", "list"}, "http://env:1").server, "http://env:1");
  ExpectUsageError({"deployments", "--server", "ftp://files:21", "list"}, "https://");
}

TEST(DeploymentsCommandTest, HelpAndUnknownSubcommands) {
  ParsedDeploymentsArgs help = ParseDeploymentsArgs({"deployments", "--help"}, std::nullopt);
  EXPECT_FALSE(help.command.has_value());
  EXPECT_EQ(help.exit_code, 0);
  for (const char* sub :
       {"create", "status", "list", "scale", "update", "delete", "predict", "predictions"}) {
    EXPECT_NE(help.message.find(sub), std::string::npos) << sub;
  }
  ParsedDeploymentsArgs create_help =
      ParseDeploymentsArgs({"deployments", "create", "--help"}, std::nullopt);
  EXPECT_EQ(create_help.exit_code, 0);
  EXPECT_NE(create_help.message.find("--target-concurrency"), std::string::npos);
  ExpectUsageError({"deployments"});
  ExpectUsageError({"deployments", "frobnicate"});
}

TEST(DeploymentsCommandTest, PredictBodies) {
  std::istringstream no_stdin;
  DeploymentsCommand data =
      MustParse({"deployments", "predict", "iris-prod", "--data", R"({"inputs": [[1, 2]]})"});
  EXPECT_EQ(data.action, DeploymentsAction::kPredict);
  EXPECT_EQ(data.protocol, PredictProtocol::kInvocations);
  auto body = ReadPredictBody(data, no_stdin);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->content_type, "application/json");
  EXPECT_EQ(body->data, R"({"inputs": [[1, 2]]})");
  HttpCall call = BuildPredictCall(data, "iris-prod", *body);
  EXPECT_EQ(call.method, http::Method::kPost);
  EXPECT_EQ(call.target, "/endpoints/iris-prod/invocations");
  EXPECT_EQ(call.content_type, "application/json");
  EXPECT_EQ(call.body, R"({"inputs": [[1, 2]]})");

  std::istringstream piped(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32",
                                           "data": [1]}]})");
  DeploymentsCommand v2 = MustParse({"deployments", "predict", "d-1", "--protocol", "v2"});
  auto from_stdin = ReadPredictBody(v2, piped);
  ASSERT_TRUE(from_stdin.ok()) << from_stdin.status().ToString();
  EXPECT_EQ(BuildPredictCall(v2, "iris-prod", *from_stdin).target, "/v2/models/iris-prod/infer");

  // Files: JSON, or CSV by the extension (any case) or --csv.
  const auto dir =
      std::filesystem::temp_directory_path() / ("cairn_cli_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "rows.CSV") << "a,b\n1,2\n";
  std::ofstream(dir / "rows.txt") << "a,b\n1,2\n";
  std::ofstream(dir / "body.json") << R"({"instances": [1]})";
  DeploymentsCommand csv =
      MustParse({"deployments", "predict", "x", "--file", (dir / "rows.CSV").string()});
  EXPECT_TRUE(csv.csv);
  auto csv_body = ReadPredictBody(csv, no_stdin);
  ASSERT_TRUE(csv_body.ok());
  EXPECT_EQ(csv_body->content_type, "text/csv");
  EXPECT_EQ(csv_body->data, "a,b\n1,2\n");
  EXPECT_EQ(BuildPredictCall(csv, "x", *csv_body).content_type, "text/csv");
  DeploymentsCommand txt =
      MustParse({"deployments", "predict", "x", "--file", (dir / "rows.txt").string(), "--csv"});
  ASSERT_TRUE(ReadPredictBody(txt, no_stdin).ok());
  EXPECT_EQ(ReadPredictBody(txt, no_stdin)->content_type, "text/csv");
  DeploymentsCommand json =
      MustParse({"deployments", "predict", "x", "--file", (dir / "body.json").string()});
  EXPECT_EQ(ReadPredictBody(json, no_stdin)->content_type, "application/json");

  // Bad bodies: nothing is sent.
  DeploymentsCommand not_json =
      MustParse({"deployments", "predict", "x", "--file", (dir / "rows.txt").string()});
  EXPECT_EQ(ReadPredictBody(not_json, no_stdin).status().code(), StatusCode::kInvalidArgument);
  DeploymentsCommand missing =
      MustParse({"deployments", "predict", "x", "--file", (dir / "nope.json").string()});
  EXPECT_EQ(ReadPredictBody(missing, no_stdin).status().code(), StatusCode::kNotFound);
  DeploymentsCommand empty = MustParse({"deployments", "predict", "x"});
  auto nothing = ReadPredictBody(empty, no_stdin);
  EXPECT_EQ(nothing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nothing.status().message().find("--data"), std::string::npos);
  DeploymentsCommand v2_array =
      MustParse({"deployments", "predict", "x", "--protocol", "v2", "--data", "[1]"});
  EXPECT_FALSE(ReadPredictBody(v2_array, no_stdin).ok());
  std::filesystem::remove_all(dir);

  ExpectUsageError({"deployments", "predict", "x", "--data", "{}", "--file", "f.json"});
  ExpectUsageError({"deployments", "predict", "x", "--protocol", "grpc"});
  ExpectUsageError({"deployments", "predict", "x", "--protocol", "v2", "--file", "a.csv"}, "CSV");
  ExpectUsageError({"deployments", "predict", "--data", "{}"}, "deployment");
}

TEST(DeploymentsCommandTest, ServingVersionCall) {
  DeploymentsCommand cmd = MustParse({"deployments", "--workspace", "w", "list"});
  HttpCall call = ServingVersionCall(cmd, "iris-prod", "4");
  EXPECT_EQ(call.method, http::Method::kGet);
  EXPECT_EQ(call.target, "/v2/models/iris-prod/versions/4/ready");
  EXPECT_EQ(call.headers.size(), 1u);
}

bj::object Status(std::string_view json) { return bj::parse(json).as_object(); }

TEST(DeploymentsCommandTest, WaitDecisions) {
  EXPECT_EQ(CheckWait(Status(R"({"name": "a", "state": "PENDING"})"), "").outcome,
            WaitCheck::kWaiting);
  EXPECT_EQ(CheckWait(Status(R"({"name": "a", "state": "LOADING"})"), "").outcome,
            WaitCheck::kWaiting);
  EXPECT_EQ(CheckWait(Status(R"({"name": "a", "state": "READY"})"), "").outcome, WaitCheck::kReady);
  WaitCheck failed =
      CheckWait(Status(R"({"name": "a", "state": "FAILED", "reason": "no MLmodel"})"), "");
  EXPECT_EQ(failed.outcome, WaitCheck::kFailed);
  EXPECT_EQ(failed.message, "deployment a failed: no MLmodel");
  EXPECT_EQ(CheckWait(Status(R"({"name": "a", "state": "FAILED"})"), "").message,
            "deployment a failed: no reason given");
  EXPECT_EQ(CheckWait(Status(R"({"name": "a", "state": "DELETING"})"), "").outcome,
            WaitCheck::kFailed);

  // Update: READY at the wanted version still needs the serving check; back at the old version
  // means the update failed.
  EXPECT_EQ(
      CheckWait(Status(R"({"name": "a", "state": "READY", "model_version": "4"})"), "4").outcome,
      WaitCheck::kCheckServing);
  EXPECT_EQ(
      CheckWait(Status(R"({"name": "a", "state": "LOADING", "model_version": "4"})"), "4").outcome,
      WaitCheck::kWaiting);
  WaitCheck reverted = CheckWait(Status(R"({"name": "a", "state": "READY", "model_version": "3",
      "reason": "update to version 4 failed: bad model"})"),
                                 "4");
  EXPECT_EQ(reverted.outcome, WaitCheck::kFailed);
  EXPECT_EQ(reverted.message,
            "deployment a is at version 3, not 4: update to version 4 failed: bad model");

  // An update sent to a FAILED deployment: the FAILED answered with it is stale until the
  // status changes.
  bj::object stale = Status(R"({"name": "a", "state": "FAILED", "model_version": "4",
      "reason": "old failure", "updated_at": 1000})");
  EXPECT_EQ(CheckWait(stale, "4", 1000).outcome, WaitCheck::kWaiting);
  stale["updated_at"] = 2000;
  EXPECT_EQ(CheckWait(stale, "4", 1000).outcome, WaitCheck::kFailed);
  EXPECT_EQ(CheckWait(stale, "4").outcome, WaitCheck::kFailed);
}

constexpr std::string_view kStatus = R"({"deployment_id": "d-1f", "name": "iris-v3",
    "state": "READY", "reason": "", "model_name": "iris", "model_version": "3",
    "runtime": "onnx", "device": "cpu",
    "replicas": {"desired": 2, "ready": 2, "min": 1, "max": 4},
    "endpoints": {"invocations": "/endpoints/iris-v3/invocations",
                  "v2_infer": "/v2/models/iris-v3/infer"},
    "created_at": 1700000000000, "updated_at": 1700000060000})";

TEST(DeploymentsCommandTest, FormatsStatus) {
  DeploymentsCommand status =
      MustParse({"deployments", "status", "iris-v3", "--server", "http://h:5000/ml"});
  auto text = FormatDeploymentsReply(status, kStatus);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(
      *text,
      "ID    NAME     STATE  MODEL  VERSION  RUNTIME  DEVICE  REPLICAS   UPDATED\n"
      "d-1f  iris-v3  READY  iris   3        onnx     cpu     2/2 (1-4)  2023-11-14 22:14:20\n"
      "Invocations: http://h:5000/ml/endpoints/iris-v3/invocations\n"
      "V2 infer: http://h:5000/ml/v2/models/iris-v3/infer\n");

  DeploymentsCommand scale = MustParse({"deployments", "scale", "iris-v3", "--replicas", "1"});
  auto failed = FormatDeploymentsReply(
      scale, R"({"deployment_id": "d-2", "name": "x", "state": "FAILED", "reason": "bad\nmodel",
                 "model_name": "m", "model_version": "1", "runtime": "auto",
                 "replicas": {"desired": 1, "ready": 0, "min": 1, "max": 1}})");
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(*failed,
            "ID   NAME  STATE   MODEL  VERSION  RUNTIME  DEVICE  REPLICAS  UPDATED\n"
            "d-2  x     FAILED  m      1        auto     -       0/1       -\n"
            "Reason: bad model\n");
}

TEST(DeploymentsCommandTest, FormatsListDeleteAndJson) {
  DeploymentsCommand list = MustParse({"deployments", "list"});
  auto listed = FormatDeploymentsReply(list, "{\"deployments\": [" + std::string(kStatus) + "]}");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(
      *listed,
      "ID    NAME     STATE  MODEL  VERSION  RUNTIME  DEVICE  REPLICAS   UPDATED\n"
      "d-1f  iris-v3  READY  iris   3        onnx     cpu     2/2 (1-4)  2023-11-14 22:14:20\n");
  EXPECT_EQ(*FormatDeploymentsReply(list, R"({"deployments": []})"), "No deployments.\n");

  DeploymentsCommand del = MustParse({"deployments", "delete", "iris-v3"});
  EXPECT_EQ(*FormatDeploymentsReply(del, R"({"deployment_id": "d-1f", "state": "DELETED"})"),
            "Deleted deployment d-1f.\n");

  DeploymentsCommand json = MustParse({"deployments", "list", "--json"});
  EXPECT_EQ(*FormatDeploymentsReply(json, R"({"deployments":[]})"), "{\"deployments\":[]}\n");
}

TEST(DeploymentsCommandTest, FormatsPredictions) {
  DeploymentsCommand cmd = MustParse({"deployments", "predictions", "iris-v3"});
  auto text = FormatDeploymentsReply(cmd, R"({"predictions": [
      {"request_id": "r1", "timestamp_ms": 1700000000000, "latency_us": 1534,
       "model_version": "3", "status_code": 200, "inputs": {"inputs": [[5.1, 3.5, 1.4, 0.2]]},
       "outputs": {"predictions": [0]}},
      {"request_id": "r2", "timestamp_ms": 1700000001000, "latency_us": 90,
       "model_version": "3", "status_code": 400,
       "inputs": "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n",
       "outputs": null}],
    "next_page_token": "tok"})");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "TIME                 REQUEST_ID  VERSION  STATUS  LATENCY_MS  INPUTS                "
            "                    OUTPUTS\n"
            "2023-11-14 22:13:20  r1          3        200     1.5         "
            "{\"inputs\":[[5.1,3.5,1.4,0.2]]}            {\"predictions\":[0]}\n"
            "2023-11-14 22:13:21  r2          3        400     0.1         "
            "\"sepal_length,sepal_width,petal_lengt...  -\n"
            "More predictions: --page-token tok\n");
  EXPECT_EQ(*FormatDeploymentsReply(cmd, R"({"predictions": []})"), "No predictions.\n");
}

TEST(DeploymentsCommandTest, MalformedAnswersAreErrors) {
  EXPECT_FALSE(FormatDeploymentsReply(MustParse({"deployments", "list"}), "<html>").ok());
  EXPECT_FALSE(FormatDeploymentsReply(MustParse({"deployments", "list"}), "{}").ok());
  EXPECT_FALSE(FormatDeploymentsReply(MustParse({"deployments", "status", "x"}), "{}").ok());
  EXPECT_FALSE(FormatDeploymentsReply(MustParse({"deployments", "delete", "x"}), "{}").ok());
  EXPECT_FALSE(
      FormatDeploymentsReply(MustParse({"deployments", "predictions", "x"}), R"({"p": 1})").ok());
}

TEST(DeploymentsCommandTest, FormatsOpenInferenceErrors) {
  EXPECT_EQ(FormatError(400, R"({"error": "input 'x' is missing"})"),
            "error: HTTP 400: input 'x' is missing");
}

}  // namespace
}  // namespace cairn::cli
