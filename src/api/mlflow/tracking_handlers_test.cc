#include "api/mlflow/tracking_handlers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/mlflow/artifact_handlers.h"
#include "api/mlflow/request_message.h"
#include "artifact/local/local_artifact_store.h"
#include "base/clock.h"
#include "base/ids.h"
#include "http/error_response.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using http::Method;

constexpr std::string_view kApi = "/api/2.0/mlflow/";
constexpr int64_t kStart = 1'700'000'000'000;

std::string Str(const bj::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

// The MLflow tracking endpoints end to end through the router, against the SQLite store and a
// local artifact store, wired as the server wires them.
class TrackingHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-tracking-api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores_ = std::move(store).value();
    auto artifacts = artifact::LocalArtifactStore::Open(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    artifact_handlers_ = std::make_unique<ArtifactHandlers>(*artifacts_);
    service_ = std::make_unique<tracking::TrackingService>(*stores_.tracking, clock_, ids_,
                                                           tracking::TrackingOptions{});
    ArtifactHandlers* lister = artifact_handlers_.get();
    handlers_ = std::make_unique<TrackingHandlers>(
        *service_,
        [lister](std::string_view tenant, std::string_view rel) {
          return lister->ListRelative(tenant, rel);
        },
        [](std::string_view uri) { return ArtifactUriToRelativePath(uri); });
    handlers_->Register(router_);
  }

  void TearDown() override {
    handlers_.reset();
    service_.reset();
    artifact_handlers_.reset();
    artifacts_.reset();
    stores_ = {};
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Routes and runs a request as the server would hand it over. `target` is relative to
  // /api/2.0/mlflow/ unless it starts with '/'.
  http::Response Call(Method method, std::string_view target, std::string_view body = "",
                      std::string_view tenant = "default",
                      std::string_view content_type = "application/json") {
    std::string full =
        target.starts_with("/") ? std::string(target) : std::string(kApi) + std::string(target);
    http::Request request;
    request.method = method;
    request.target = full;
    if (!content_type.empty()) request.headers.Set("Content-Type", std::string(content_type));
    request.body = std::string(body);
    request.scope.tenant = std::string(tenant);
    request.scope.principal = "alice";
    clock_.AdvanceMillis(1);
    return http::CallRouteForTest(router_, std::move(request));
  }

  http::Response Post(std::string_view path, const bj::object& body,
                      std::string_view tenant = "default") {
    return Call(Method::kPost, path, bj::serialize(body), tenant);
  }
  http::Response Get(std::string_view path_and_query, std::string_view tenant = "default") {
    return Call(Method::kGet, path_and_query, "", tenant);
  }

  static bj::object Json(const http::Response& r) {
    boost::system::error_code ec;
    bj::value v = bj::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return !ec && v.is_object() ? v.as_object() : bj::object{};
  }

  // A 200 answer's JSON body.
  static bj::object Ok(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  // An error in MLflow's envelope; `message` is checked when not empty.
  static void ExpectError(const http::Response& r, int status, std::string_view code,
                          std::string_view message = "") {
    EXPECT_EQ(r.status, status) << r.body;
    bj::object body = Json(r);
    EXPECT_EQ(Str(body["error_code"]), code) << r.body;
    if (!message.empty()) {
      EXPECT_EQ(Str(body["message"]), message) << r.body;
    }
  }

  std::string CreateExperiment(std::string_view name, std::string_view tenant = "default") {
    return Str(Ok(Post("experiments/create", {{"name", name}}, tenant))["experiment_id"]);
  }

  // A run's id; the run is in `experiment_id`.
  std::string CreateRun(std::string_view experiment_id = "0") {
    bj::object run = Ok(Post("runs/create", {{"experiment_id", experiment_id}}))["run"].as_object();
    return Str(run["info"].as_object()["run_id"]);
  }

  bj::object GetRun(std::string_view run_id) {
    return Ok(Get("runs/get?run_id=" + std::string(run_id)))["run"].as_object();
  }

  void WriteArtifact(const std::string& path, std::string_view content) {
    auto writer = artifacts_->OpenWriter(path);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Append(content).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }

  fs::path dir_;
  ManualClock clock_{kStart};
  IdGenerator ids_{7};
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::LocalArtifactStore> artifacts_;
  std::unique_ptr<ArtifactHandlers> artifact_handlers_;
  std::unique_ptr<tracking::TrackingService> service_;
  std::unique_ptr<TrackingHandlers> handlers_;
  http::Router router_;
};

// ---- Experiments ----

TEST_F(TrackingHandlersTest, ExperimentCreateGetAndGetByName) {
  http::Response created =
      Post("experiments/create",
           {{"name", "churn"}, {"tags", bj::array{bj::object{{"key", "team"}, {"value", "ml"}}}}});
  bj::object body = Ok(created);
  EXPECT_EQ(body, (bj::object{{"experiment_id", "1"}}));

  bj::object e = Ok(Get("experiments/get?experiment_id=1"))["experiment"].as_object();
  EXPECT_EQ(e["experiment_id"], "1");
  EXPECT_EQ(e["name"], "churn");
  EXPECT_EQ(e["artifact_location"], "mlflow-artifacts:/1");
  EXPECT_EQ(e["lifecycle_stage"], "active");
  EXPECT_EQ(e["tags"], (bj::array{bj::object{{"key", "team"}, {"value", "ml"}}}));
  EXPECT_TRUE(e["creation_time"].is_int64());

  bj::object by_name = Ok(Get("experiments/get-by-name?experiment_name=churn"));
  EXPECT_EQ(by_name["experiment"].as_object()["experiment_id"], "1");
  // The same routes live under /ajax-api too.
  EXPECT_EQ(Call(Method::kGet, "/ajax-api/2.0/mlflow/experiments/get?experiment_id=1").status, 200);
}

TEST_F(TrackingHandlersTest, ExperimentErrorsUseMlflowsCodesAndMessages) {
  ExpectError(Post("experiments/create", {}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'name'");
  ExpectError(Post("experiments/create", {{"name", 5}}), 400, "INVALID_PARAMETER_VALUE");
  CreateExperiment("dup");
  ExpectError(Post("experiments/create", {{"name", "dup"}}), 400, "RESOURCE_ALREADY_EXISTS",
              "Experiment(name=dup) already exists.");
  ExpectError(Get("experiments/get?experiment_id=42"), 404, "RESOURCE_DOES_NOT_EXIST",
              "No Experiment with id=42 exists");
  ExpectError(Get("experiments/get"), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'experiment_id'");
  ExpectError(Get("experiments/get-by-name?experiment_name=nope"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(
      Call(Method::kPost, "experiments/create", R"({"name": "x"})", "default", "text/plain"), 400,
      "INVALID_PARAMETER_VALUE");
  ExpectError(Call(Method::kPost, "experiments/create", "{not json"), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_F(TrackingHandlersTest, ExperimentUpdateDeleteRestoreAndTags) {
  std::string id = CreateExperiment("old");
  EXPECT_EQ(Ok(Post("experiments/update", {{"experiment_id", id}, {"new_name", "new"}})),
            bj::object{});
  ExpectError(Post("experiments/update", {{"experiment_id", id}}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'new_name'");
  Ok(Post("experiments/set-experiment-tag", {{"experiment_id", id}, {"key", "k"}, {"value", "v"}}));
  bj::object e = Ok(Get("experiments/get?experiment_id=" + id))["experiment"].as_object();
  EXPECT_EQ(e["name"], "new");
  EXPECT_EQ(e["tags"], (bj::array{bj::object{{"key", "k"}, {"value", "v"}}}));
  Ok(Post("experiments/delete-experiment-tag", {{"experiment_id", id}, {"key", "k"}}));
  ExpectError(Post("experiments/delete-experiment-tag", {{"experiment_id", id}, {"key", "k"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");

  Ok(Post("experiments/delete", {{"experiment_id", id}}));
  e = Ok(Get("experiments/get?experiment_id=" + id))["experiment"].as_object();
  EXPECT_EQ(e["lifecycle_stage"], "deleted");
  ExpectError(Post("runs/create", {{"experiment_id", id}}), 400, "INVALID_PARAMETER_VALUE",
              "The experiment " + id + " must be in the 'active' state. Current state is deleted.");
  Ok(Post("experiments/restore", {{"experiment_id", id}}));
  e = Ok(Get("experiments/get?experiment_id=" + id))["experiment"].as_object();
  EXPECT_EQ(e["lifecycle_stage"], "active");
  ExpectError(Post("experiments/delete", {{"experiment_id", "99"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(TrackingHandlersTest, SearchExperimentsPagesWithTokens) {
  for (int i = 0; i < 5; ++i) CreateExperiment("e" + std::to_string(i));
  std::vector<std::string> names;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    bj::object body{
        {"max_results", 2}, {"filter", "name LIKE 'e%'"}, {"order_by", bj::array{"name ASC"}}};
    if (!token.empty()) body["page_token"] = token;
    bj::object out = Ok(Post("experiments/search", body));
    for (const auto& e : out["experiments"].as_array()) {
      names.push_back(Str(e.as_object().at("name")));
    }
    if (!out.contains("next_page_token")) break;
    token = Str(out["next_page_token"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"e0", "e1", "e2", "e3", "e4"}));

  // GET with repeated order_by and the view type.
  Ok(Post("experiments/delete", {{"experiment_id", "1"}}));
  bj::object deleted =
      Ok(Get("experiments/search?max_results=10&view_type=DELETED_ONLY&order_by=name"));
  ASSERT_EQ(deleted["experiments"].as_array().size(), 1u);
  EXPECT_EQ(deleted["experiments"].as_array()[0].as_object().at("name"), "e0");
  bj::object all = Ok(Get("experiments/search?max_results=10&view_type=ALL"));
  EXPECT_EQ(all["experiments"].as_array().size(), 6u);
  EXPECT_FALSE(all.contains("next_page_token"));

  http::Response bad_token = Post("experiments/search", {{"page_token", "garbage"}});
  ExpectError(bad_token, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_TRUE(Str(Json(bad_token)["message"]).starts_with("Invalid page token")) << bad_token.body;
  ExpectError(Post("experiments/search", {{"max_results", 50001}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("experiments/search", {{"max_results", 0}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("experiments/search", {{"filter", "name ="}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("experiments/search", {{"view_type", "SOMETIMES"}}), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_F(TrackingHandlersTest, WorkspacesAreSeparate) {
  std::string id = CreateExperiment("mine", "team-a");
  ExpectError(Get("experiments/get-by-name?experiment_name=mine", "team-b"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(
      Ok(Get("experiments/get?experiment_id=" + id, "team-a"))["experiment"].as_object()["name"],
      "mine");
}

// ---- Runs ----

TEST_F(TrackingHandlersTest, RunCreateGetUpdateDeleteRestore) {
  bj::object created = Ok(Post(
      "runs/create", {{"experiment_id", "0"},
                      {"run_name", "trainer"},
                      {"start_time", 123},
                      {"user_id", "bob"},
                      {"tags", bj::array{bj::object{{"key", "owner"}, {"value", "ml"}}}}}))["run"]
                           .as_object();
  bj::object info = created["info"].as_object();
  std::string id = Str(info["run_id"]);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(Str(info["run_uuid"]), id);
  EXPECT_EQ(info["experiment_id"], "0");
  EXPECT_EQ(info["run_name"], "trainer");
  EXPECT_EQ(info["user_id"], "bob");
  EXPECT_EQ(info["status"], "RUNNING");
  EXPECT_EQ(info["start_time"], 123);
  EXPECT_EQ(Str(info["artifact_uri"]), "mlflow-artifacts:/0/" + id + "/artifacts");
  EXPECT_EQ(info["lifecycle_stage"], "active");

  // run_uuid is accepted for run_id, as MLflow's older clients send it.
  EXPECT_EQ(
      Str(Ok(Get("runs/get?run_uuid=" + id))["run"].as_object()["info"].as_object()["run_id"]), id);
  bj::object updated =
      Ok(Post("runs/update",
              {{"run_id", id}, {"status", "FINISHED"}, {"end_time", 456}, {"run_name", "done"}}));
  bj::object run_info = updated["run_info"].as_object();
  EXPECT_EQ(run_info["status"], "FINISHED");
  EXPECT_EQ(run_info["end_time"], 456);
  EXPECT_EQ(run_info["run_name"], "done");
  ExpectError(Post("runs/update", {{"run_id", id}, {"status", "DONE"}}), 400,
              "INVALID_PARAMETER_VALUE");

  Ok(Post("runs/delete", {{"run_id", id}}));
  EXPECT_EQ(GetRun(id)["info"].as_object()["lifecycle_stage"], "deleted");
  ExpectError(
      Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", 1}, {"timestamp", 1}}), 400,
      "INVALID_PARAMETER_VALUE",
      "The run " + id + " must be in the 'active' state. Current state is deleted.");
  Ok(Post("runs/restore", {{"run_id", id}}));
  EXPECT_EQ(GetRun(id)["info"].as_object()["lifecycle_stage"], "active");
}

TEST_F(TrackingHandlersTest, RunErrorsUseMlflowsCodesAndMessages) {
  std::string missing(32, 'c');
  ExpectError(Get("runs/get?run_id=" + missing), 404, "RESOURCE_DOES_NOT_EXIST",
              "Run with id=" + missing + " not found");
  ExpectError(Get("runs/get"), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'run_id'");
  ExpectError(Get("runs/get?run_id=bad%20id"), 400, "INVALID_PARAMETER_VALUE",
              "Invalid run ID: 'bad id'");
  ExpectError(Post("runs/create", {{"experiment_id", "404"}}), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post("runs/create",
                   {{"run_name", "a"},
                    {"tags", bj::array{bj::object{{"key", "mlflow.runName"}, {"value", "b"}}}}}),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/delete", {{"run_id", missing}}), 404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(TrackingHandlersTest, LogMetricParamAndTagThenReadThemBack) {
  std::string id = CreateRun();
  Ok(Post("runs/log-metric",
          {{"run_id", id}, {"key", "acc"}, {"value", 0.5}, {"timestamp", 10}, {"step", 1}}));
  Ok(Post("runs/log-metric",
          {{"run_id", id}, {"key", "acc"}, {"value", "NaN"}, {"timestamp", 11}, {"step", 0}}));
  Ok(Post("runs/log-parameter", {{"run_id", id}, {"key", "alpha"}, {"value", "0.1"}}));
  Ok(Post("runs/set-tag", {{"run_id", id}, {"key", "note"}, {"value", "hi"}}));
  bj::object data = GetRun(id)["data"].as_object();
  EXPECT_EQ(
      data["metrics"],
      (bj::array{bj::object{{"key", "acc"}, {"value", 0.5}, {"timestamp", 10}, {"step", 1}}}));
  EXPECT_EQ(data["params"], (bj::array{bj::object{{"key", "alpha"}, {"value", "0.1"}}}));

  ExpectError(Post("runs/log-parameter", {{"run_id", id}, {"key", "alpha"}, {"value", "0.2"}}), 400,
              "INVALID_PARAMETER_VALUE",
              "Changing param values is not allowed. Param with key='alpha' was already logged "
              "with value='0.1' for run ID='" +
                  id + "'. Attempted logging new value '0.2'.");
  ExpectError(Post("runs/log-metric", {{"run_id", id}, {"value", 1}, {"timestamp", 1}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/log-parameter", {{"run_id", id}, {"value", "x"}}), 400,
              "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'key'");

  Ok(Post("runs/delete-tag", {{"run_id", id}, {"key", "note"}}));
  ExpectError(Post("runs/delete-tag", {{"run_id", id}, {"key", "note"}}), 404,
              "RESOURCE_DOES_NOT_EXIST", "No tag with name: note in run with id " + id);
}

TEST_F(TrackingHandlersTest, LogBatchAppliesMlflowsLimits) {
  std::string id = CreateRun();
  bj::array metrics;
  for (int i = 0; i < 1001; ++i) {
    metrics.push_back(
        bj::object{{"key", "m" + std::to_string(i)}, {"value", i}, {"timestamp", 1}, {"step", 0}});
  }
  ExpectError(Post("runs/log-batch", {{"run_id", id}, {"metrics", metrics}}), 400,
              "INVALID_PARAMETER_VALUE",
              "A batch logging request can contain at most 1000 metrics. Got 1001 metrics.");
  bj::array params;
  for (int i = 0; i < 101; ++i) {
    params.push_back(bj::object{{"key", "p" + std::to_string(i)}, {"value", "v"}});
  }
  ExpectError(Post("runs/log-batch", {{"run_id", id}, {"params", params}}), 400,
              "INVALID_PARAMETER_VALUE",
              "A batch logging request can contain at most 100 params. Got 101 params.");
  bj::array tags;
  for (int i = 0; i < 101; ++i) {
    tags.push_back(bj::object{{"key", "t" + std::to_string(i)}, {"value", "v"}});
  }
  ExpectError(Post("runs/log-batch", {{"run_id", id}, {"tags", tags}}), 400,
              "INVALID_PARAMETER_VALUE",
              "A batch logging request can contain at most 100 tags. Got 101 tags.");
  ExpectError(Post("runs/log-batch", {{"run_id", id}, {"metrics", bj::array{1}}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/log-batch", {{"metrics", bj::array{}}}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'run_id'");
  EXPECT_FALSE(GetRun(id)["data"].as_object().contains("metrics")) << "nothing was stored";

  metrics.pop_back();
  params.pop_back();
  tags.pop_back();
  Ok(Post("runs/log-batch", {{"run_id", id}, {"metrics", metrics}}));
  Ok(Post("runs/log-batch", {{"run_id", id}, {"params", params}, {"tags", tags}}));
  bj::object data = GetRun(id)["data"].as_object();
  EXPECT_EQ(data["metrics"].as_array().size(), 1000u);
  EXPECT_EQ(data["params"].as_array().size(), 100u);
}

TEST_F(TrackingHandlersTest, LogModelAppendsToTheHistoryTag) {
  std::string id = CreateRun();
  auto model_json = [&id](std::string_view path) {
    return bj::serialize(bj::object{{"artifact_path", path},
                                    {"flavors", bj::object{}},
                                    {"utc_time_created", "2024-01-01 00:00:00"},
                                    {"run_id", id}});
  };
  Ok(Post("runs/log-model", {{"run_id", id}, {"model_json", model_json("a")}}));
  Ok(Post("runs/log-model", {{"run_id", id}, {"model_json", model_json("b")}}));
  std::string history;
  bj::object data = GetRun(id)["data"].as_object();
  for (const auto& t : data["tags"].as_array()) {
    if (t.as_object().at("key") == "mlflow.log-model.history")
      history = Str(t.as_object().at("value"));
  }
  bj::value parsed = bj::parse(history);
  ASSERT_TRUE(parsed.is_array()) << history;
  ASSERT_EQ(parsed.as_array().size(), 2u);
  EXPECT_EQ(parsed.as_array()[1].as_object().at("artifact_path"), "b");

  ExpectError(Post("runs/log-model",
                   {{"run_id", id}, {"model_json", R"({"artifact_path": "x", "run_id": "r"})"}}),
              400, "INVALID_PARAMETER_VALUE", "Model json is missing mandatory fields: flavors");
  ExpectError(Post("runs/log-model", {{"run_id", id}}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'model_json'");
}

TEST_F(TrackingHandlersTest, SearchRunsPagesWithTokensAndFilters) {
  std::string exp = CreateExperiment("runs");
  for (int i = 0; i < 5; ++i) {
    std::string id = CreateRun(exp);
    Ok(Post("runs/log-metric",
            {{"run_id", id}, {"key", "acc"}, {"value", i}, {"timestamp", 1}, {"step", 0}}));
  }
  std::vector<double> accs;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    bj::object body{{"experiment_ids", bj::array{exp}},
                    {"max_results", 2},
                    {"order_by", bj::array{"metrics.acc DESC"}}};
    if (!token.empty()) body["page_token"] = token;
    bj::object out = Ok(Post("runs/search", body));
    for (const auto& r : out["runs"].as_array()) {
      accs.push_back(r.as_object()
                         .at("data")
                         .as_object()
                         .at("metrics")
                         .as_array()[0]
                         .as_object()
                         .at("value")
                         .to_number<double>());
    }
    if (!out.contains("next_page_token")) break;
    token = Str(out["next_page_token"]);
  }
  EXPECT_EQ(accs, (std::vector<double>{4, 3, 2, 1, 0}));

  bj::object filtered =
      Ok(Post("runs/search", {{"experiment_ids", bj::array{exp}}, {"filter", "metrics.acc >= 3"}}));
  EXPECT_EQ(filtered["runs"].as_array().size(), 2u);
  bj::object none = Ok(
      Post("runs/search", {{"experiment_ids", bj::array{exp}}, {"run_view_type", "DELETED_ONLY"}}));
  EXPECT_FALSE(none.contains("runs")) << "empty lists are omitted";

  ExpectError(Post("runs/search", {{"experiment_ids", bj::array{exp}}, {"filter", "acc >"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("runs/search", {{"experiment_ids", bj::array{exp}}, {"max_results", 50001}}),
              400, "INVALID_PARAMETER_VALUE",
              "Invalid value for parameter 'max_results' supplied. It must be at most 50000, but "
              "got value 50001");
  ExpectError(Post("runs/search", {{"experiment_ids", bj::array{exp}}, {"page_token", "%%%"}}), 400,
              "INVALID_PARAMETER_VALUE", "Invalid page token, could not base64-decode");
}

TEST_F(TrackingHandlersTest, MetricHistoryPagesAndBulkEndpoints) {
  std::string a = CreateRun();
  std::string b = CreateRun();
  bj::array points;
  for (int step = 0; step < 5; ++step) {
    points.push_back(
        bj::object{{"key", "loss"}, {"value", step}, {"timestamp", step}, {"step", step}});
  }
  Ok(Post("runs/log-batch", {{"run_id", a}, {"metrics", points}}));
  Ok(Post("runs/log-metric",
          {{"run_id", b}, {"key", "loss"}, {"value", 9}, {"timestamp", 1}, {"step", 0}}));

  std::vector<int64_t> steps;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    std::string target = "metrics/get-history?run_id=" + a + "&metric_key=loss&max_results=2";
    if (!token.empty()) target += "&page_token=" + token;
    bj::object out = Ok(Get(target));
    for (const auto& m : out["metrics"].as_array()) {
      EXPECT_FALSE(m.as_object().contains("run_id"));
      steps.push_back(m.as_object().at("step").as_int64());
    }
    if (!out.contains("next_page_token")) break;
    token = Str(out["next_page_token"]);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  ExpectError(Get("metrics/get-history?run_id=" + a), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'metric_key'");
  ExpectError(Get("metrics/get-history?run_id=" + std::string(32, 'd') + "&metric_key=loss"), 404,
              "RESOURCE_DOES_NOT_EXIST");

  bj::object interval = Ok(Get("metrics/get-history-bulk-interval?run_ids=" + a + "&run_ids=" + b +
                               "&metric_key=loss&max_results=3"));
  size_t from_a = 0;
  for (const auto& m : interval["metrics"].as_array()) {
    if (Str(m.as_object().at("run_id")) == a) ++from_a;
  }
  EXPECT_EQ(from_a, 3u) << "sampled to max_results steps";
  ExpectError(Get("metrics/get-history-bulk-interval?metric_key=loss"), 400,
              "INVALID_PARAMETER_VALUE",
              "GetMetricHistoryBulkInterval request must specify at least one run_id.");
  ExpectError(
      Get("metrics/get-history-bulk-interval?run_ids=" + a + "&metric_key=loss&start_step=3"), 400,
      "INVALID_PARAMETER_VALUE",
      "If either start step or end step are specified, both must be specified.");

  bj::object bulk =
      Ok(Get("metrics/get-history-bulk?run_id=" + a + "&run_id=" + b + "&metric_key=loss"));
  EXPECT_EQ(bulk["metrics"].as_array().size(), 6u);
  ExpectError(Get("metrics/get-history-bulk?metric_key=loss"), 400, "INVALID_PARAMETER_VALUE",
              "GetMetricHistoryBulk request must specify at least one run_id.");
}

TEST_F(TrackingHandlersTest, LogInputsAndOutputs) {
  std::string id = CreateRun();
  bj::object dataset{
      {"name", "iris"}, {"digest", "d1"}, {"source_type", "local"}, {"source", "/x"}};
  Ok(Post("runs/log-inputs",
          {{"run_id", id},
           {"datasets",
            bj::array{bj::object{{"tags", bj::array{bj::object{{"key", "mlflow.data.context"},
                                                               {"value", "training"}}}},
                                 {"dataset", dataset}}}}}));
  bj::object inputs = GetRun(id)["inputs"].as_object();
  ASSERT_EQ(inputs["dataset_inputs"].as_array().size(), 1u);
  EXPECT_EQ(inputs["dataset_inputs"].as_array()[0].as_object().at("dataset").as_object().at("name"),
            "iris");

  bj::object no_digest = dataset;
  no_digest.erase("digest");
  ExpectError(Post("runs/log-inputs",
                   {{"run_id", id}, {"datasets", bj::array{bj::object{{"dataset", no_digest}}}}}),
              400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'digest'");
  ExpectError(Post("runs/log-inputs", {{"run_id", id}, {"datasets", bj::array{bj::object{}}}}), 400,
              "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'dataset'");

  Ok(Post("runs/outputs",
          {{"run_id", id}, {"models", bj::array{bj::object{{"model_id", "m-1"}, {"step", 3}}}}}));
  EXPECT_EQ(GetRun(id)["outputs"].as_object()["model_outputs"],
            (bj::array{bj::object{{"model_id", "m-1"}, {"step", 3}}}));
  ExpectError(Post("runs/outputs", {{"run_id", id}}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'models'");
}

TEST_F(TrackingHandlersTest, ListArtifactsOfARun) {
  std::string id = CreateRun();
  std::string base = "0/" + id + "/artifacts";
  WriteArtifact(base + "/model/MLmodel", "flavors: {}");
  WriteArtifact(base + "/notes.txt", "hello");

  bj::object top = Ok(Get("artifacts/list?run_id=" + id));
  EXPECT_EQ(Str(top["root_uri"]), "mlflow-artifacts:/0/" + id + "/artifacts");
  EXPECT_EQ(top["files"],
            (bj::array{bj::object{{"path", "model"}, {"is_dir", true}},
                       bj::object{{"path", "notes.txt"}, {"is_dir", false}, {"file_size", 5}}}));
  bj::object inner = Ok(Get("artifacts/list?run_id=" + id + "&path=model"));
  EXPECT_EQ(
      inner["files"],
      (bj::array{bj::object{{"path", "model/MLmodel"}, {"is_dir", false}, {"file_size", 11}}}));
  EXPECT_FALSE(Ok(Get("artifacts/list?run_id=" + id + "&path=missing")).contains("files"));
  ExpectError(Get("artifacts/list?run_id=" + id + "&path=../../other"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Get("artifacts/list?run_id=" + std::string(32, 'e')), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get("artifacts/list?run_id=" + id, "team-a"), 404, "RESOURCE_DOES_NOT_EXIST");
}

// ---- Logged models ----

TEST_F(TrackingHandlersTest, LoggedModelLifecycle) {
  std::string exp = CreateExperiment("models");
  std::string run = CreateRun(exp);
  bj::object model = Ok(Post(
      "logged-models", {{"experiment_id", exp},
                        {"name", "clf"},
                        {"model_type", "classifier"},
                        {"source_run_id", run},
                        {"params", bj::array{bj::object{{"key", "alpha"}, {"value", "1"}}}},
                        {"tags", bj::array{bj::object{{"key", "k"}, {"value", "v"}}}}}))["model"]
                         .as_object();
  bj::object info = model["info"].as_object();
  std::string id = Str(info["model_id"]);
  EXPECT_EQ(id.substr(0, 2), "m-");
  EXPECT_EQ(Str(info["experiment_id"]), exp);
  EXPECT_EQ(info["name"], "clf");
  EXPECT_EQ(info["status"], "LOGGED_MODEL_PENDING");
  EXPECT_EQ(Str(info["source_run_id"]), run);
  EXPECT_EQ(Str(info["artifact_uri"]), "mlflow-artifacts:/" + exp + "/models/" + id + "/artifacts");

  bj::object ready =
      Ok(Call(Method::kPatch, "logged-models/" + id,
              bj::serialize(bj::object{{"model_id", id}, {"status", "LOGGED_MODEL_READY"}})));
  EXPECT_EQ(ready["model"].as_object()["info"].as_object()["status"], "LOGGED_MODEL_READY");
  ExpectError(Call(Method::kPatch, "logged-models/" + id, "{}"), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'status'");

  bj::object tagged = Ok(Call(
      Method::kPatch, "logged-models/" + id + "/tags",
      bj::serialize(bj::object{{"tags", bj::array{bj::object{{"key", "k2"}, {"value", "v2"}}}}})));
  EXPECT_EQ(tagged["model"].as_object()["info"].as_object()["tags"].as_array().size(), 2u);
  Ok(Call(Method::kDelete, "logged-models/" + id + "/tags/k2"));
  ExpectError(Call(Method::kDelete, "logged-models/" + id + "/tags/k2"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  Ok(Post("logged-models/" + id + "/params",
          {{"params", bj::array{bj::object{{"key", "beta"}, {"value", "2"}}}}}));
  bj::object got = Ok(Get("logged-models/" + id))["model"].as_object();
  EXPECT_EQ(got["data"].as_object()["params"].as_array().size(), 2u);

  bj::object found = Ok(Post("logged-models/search", {{"experiment_ids", bj::array{exp}}}));
  ASSERT_EQ(found["models"].as_array().size(), 1u);

  WriteArtifact(exp + "/models/" + id + "/artifacts/MLmodel", "x");
  bj::object files = Ok(Get("logged-models/" + id + "/artifacts/directories"));
  EXPECT_EQ(files["files"],
            (bj::array{bj::object{{"path", "MLmodel"}, {"is_dir", false}, {"file_size", 1}}}));

  Ok(Call(Method::kDelete, "logged-models/" + id));
  ExpectError(Get("logged-models/" + id), 404, "RESOURCE_DOES_NOT_EXIST",
              "Logged model with ID '" + id + "' not found.");
  EXPECT_EQ(Get("logged-models/" + id + "?allow_deleted=true").status, 200);
}

TEST_F(TrackingHandlersTest, LoggedModelErrorsAndSearchPaging) {
  std::string exp = CreateExperiment("models");
  ExpectError(Post("logged-models", {{"name", "x"}}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'experiment_id'");
  ExpectError(Post("logged-models", {{"experiment_id", "404"}}), 404, "RESOURCE_DOES_NOT_EXIST");
  bj::array params;
  for (int i = 0; i < 101; ++i) {
    params.push_back(bj::object{{"key", "p" + std::to_string(i)}, {"value", "v"}});
  }
  ExpectError(Post("logged-models", {{"experiment_id", exp}, {"params", params}}), 400,
              "INVALID_PARAMETER_VALUE",
              "A logged model can be created with at most 100 params; log the rest with "
              "LogLoggedModelParams.");
  ExpectError(Post("logged-models/search", {}), 400, "INVALID_PARAMETER_VALUE",
              "Missing value for required parameter 'experiment_ids'");

  for (int i = 0; i < 3; ++i) Ok(Post("logged-models", {{"experiment_id", exp}}));
  size_t seen = 0;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    bj::object body{{"experiment_ids", bj::array{exp}}, {"max_results", 2}};
    if (!token.empty()) body["page_token"] = token;
    bj::object out = Ok(Post("logged-models/search", body));
    seen += out["models"].as_array().size();
    if (!out.contains("next_page_token")) break;
    token = Str(out["next_page_token"]);
  }
  EXPECT_EQ(seen, 3u);
}

}  // namespace
}  // namespace cairn::api::mlflow
