#include "api/v1/model_handlers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/v1/model_test_env.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;
using http::Method;

constexpr std::string_view kRun1 = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kRun2 = "fedcba9876543210fedcba9876543210";

std::string Str(const bj::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "<not a string: " + bj::serialize(v) + ">";
}

class ModelHandlersTest : public ::testing::Test {
 protected:
  http::Response Register(std::string_view name, std::string_view run_id,
                          std::string_view artifact_path = "model") {
    bj::object body{{"name", name},
                    {"source", bj::object{{"run_id", run_id}, {"artifact_path", artifact_path}}}};
    return env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  }

  // Registers and returns the new version number (or -1 with a test failure).
  int64_t MustRegister(std::string_view name, std::string_view run_id,
                       std::string_view artifact_path = "model") {
    http::Response r = Register(name, run_id, artifact_path);
    EXPECT_EQ(r.status, 201) << r.body;
    bj::object body = ModelApiEnv::Body(r);
    if (!body.contains("model_version")) return -1;
    return body.at("model_version").as_object().at("version").as_int64();
  }

  std::vector<int64_t> VersionNumbers(const bj::object& page) {
    std::vector<int64_t> out;
    for (const auto& v : page.at("versions").as_array()) {
      out.push_back(v.as_object().at("version").as_int64());
    }
    return out;
  }

  void WriteArtifact(const std::string& path, std::string_view content) {
    auto writer = env_.artifacts().OpenWriter(path);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Append(content).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }

  static void ExpectError(const http::Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    bj::object body = ModelApiEnv::Body(r);
    EXPECT_EQ(Str(body["error_code"]), code) << r.body;
    EXPECT_TRUE(body["message"].is_string()) << r.body;
  }

  ModelApiEnv env_;
};

TEST_F(ModelHandlersTest, RegisterFromRunCreatesModelAndNumberedVersions) {
  env_.CreateRun(kRun1);
  bj::object body{
      {"name", "iris"},
      {"source", bj::object{{"run_id", kRun1}, {"artifact_path", "model"}}},
      {"description", "first"},
      {"tags", bj::object{{"team", "ml"}}},
  };
  http::Response r = env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  bj::object v = ModelApiEnv::Body(r).at("model_version").as_object();
  EXPECT_EQ(v.at("name"), "iris");
  EXPECT_EQ(v.at("version"), 1);
  EXPECT_EQ(Str(v.at("source")), "runs:/" + std::string(kRun1) + "/model");
  EXPECT_EQ(Str(v.at("storage_location")),
            "mlflow-artifacts:/0/" + std::string(kRun1) + "/artifacts/model");
  EXPECT_EQ(Str(v.at("run_id")), kRun1);
  EXPECT_EQ(v.at("user_id"), "alice");
  EXPECT_EQ(v.at("description"), "first");
  EXPECT_EQ(v.at("current_stage"), "None");
  EXPECT_EQ(v.at("tags"), (bj::object{{"team", "ml"}}));
  EXPECT_EQ(v.at("creation_timestamp"), ModelApiEnv::kStartMillis);

  // The list form of tags works too, and the model is reused.
  body["tags"] = bj::array{bj::object{{"key", "team"}, {"value", "ops"}}};
  r = env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  v = ModelApiEnv::Body(r).at("model_version").as_object();
  EXPECT_EQ(v.at("version"), 2);
  EXPECT_EQ(v.at("tags"), (bj::object{{"team", "ops"}}));
}

TEST_F(ModelHandlersTest, RegisterFromArtifactUriKeepsTheUri) {
  bj::object body{{"name", "iris"},
                  {"source", bj::object{{"artifact_uri", "s3://bucket/models/iris"}}}};
  http::Response r = env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  bj::object v = ModelApiEnv::Body(r).at("model_version").as_object();
  EXPECT_EQ(v.at("source"), "s3://bucket/models/iris");
  EXPECT_EQ(v.at("run_id"), "");
}

TEST_F(ModelHandlersTest, RegisterFromLoggedModel) {
  env_.CreateRun(kRun1);
  metadata::LoggedModel model;
  model.model_id = "m-00000000000000000000000000000001";
  model.experiment_id = "0";
  model.name = "clf";
  model.artifact_uri = "mlflow-artifacts:/0/models/m-00000000000000000000000000000001/artifacts";
  model.status = metadata::LoggedModelStatus::kReady;
  model.source_run_id = std::string(kRun1);
  ASSERT_TRUE(env_.store().CreateLoggedModel("default", model).ok());

  bj::object body{{"name", "clf"}, {"source", bj::object{{"logged_model_id", model.model_id}}}};
  http::Response r = env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  bj::object v = ModelApiEnv::Body(r).at("model_version").as_object();
  EXPECT_EQ(Str(v.at("source")), "models:/" + model.model_id);
  EXPECT_EQ(Str(v.at("model_id")), model.model_id);
  EXPECT_EQ(Str(v.at("storage_location")), model.artifact_uri);

  // The lineage shows the logged model and, through it, the run.
  r = env_.Call(Method::kGet, "/api/v1/models/clf/versions/1/lineage");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object lineage = ModelApiEnv::Body(r);
  EXPECT_EQ(Str(lineage.at("logged_model").as_object().at("model_id")), model.model_id);
  EXPECT_EQ(Str(lineage.at("run").as_object().at("run_id")), kRun1);
}

TEST_F(ModelHandlersTest, RegisterRejectsBadRequests) {
  env_.CreateRun(kRun1);
  const std::string run(kRun1);
  for (const std::string& body : {
           std::string(R"({"source": {"artifact_uri": "s3://b/m"}})"),  // no name
           std::string(R"({"name": "iris"})"),                          // no source
           std::string(R"({"name": "iris", "source": "s3://b/m"})"),    // not an object
           std::string(R"({"name": "iris", "source": {}})"),            // empty source
           R"({"name": "iris", "source": {"run_id": ")" + run +
               R"(", "artifact_path": "m", "artifact_uri": "s3://b/m"}})",  // two sources
           R"({"name": "iris", "source": {"run_id": ")" + run + R"("}})",   // no artifact_path
           std::string(R"({"name": "iris", "source": {"artifact_uri": 5}})"),
           std::string(R"({"name": "iris", "source": {"artifact_uri": "s3://b/m"}, "tags": 1})"),
           std::string(R"({"name": 3, "source": {"artifact_uri": "s3://b/m"}})"),
           std::string("{"),
       }) {
    ExpectError(env_.Call(Method::kPost, "/api/v1/models/register", body), 400,
                "INVALID_PARAMETER_VALUE");
  }
  // Nothing was created by the failed calls.
  ExpectError(env_.Call(Method::kGet, "/api/v1/models/iris/versions"), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(ModelHandlersTest, RegisterNeedsJsonContentType) {
  http::Request req;
  req.method = Method::kPost;
  req.body = R"({"name": "iris", "source": {"artifact_uri": "s3://b/m"}})";
  req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
  http::Router::Match match = env_.router().Find(Method::kPost, "/api/v1/models/register");
  ASSERT_NE(match.route, nullptr);
  ExpectError(match.route->handler(req), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(ModelHandlersTest, RegisterFromUnknownRunIsNotFound) {
  ExpectError(Register("iris", kRun2), 404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(ModelHandlersTest, VersionsArePagedNewestFirst) {
  env_.CreateRun(kRun1);
  for (int i = 0; i < 5; ++i) MustRegister("iris", kRun1);

  http::Response r = env_.Call(Method::kGet, "/api/v1/models/iris/versions?max_results=2");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object page = ModelApiEnv::Body(r);
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{5, 4}));
  ASSERT_TRUE(page.contains("next_page_token"));
  std::string token(page.at("next_page_token").as_string());

  // A version registered between two pages does not shift the next one.
  MustRegister("iris", kRun1);
  r = env_.Call(Method::kGet, "/api/v1/models/iris/versions?max_results=2&page_token=" + token);
  ASSERT_EQ(r.status, 200) << r.body;
  page = ModelApiEnv::Body(r);
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{3, 2}));
  token = std::string(page.at("next_page_token").as_string());

  r = env_.Call(Method::kGet, "/api/v1/models/iris/versions?max_results=2&page_token=" + token);
  page = ModelApiEnv::Body(r);
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{1}));
  EXPECT_FALSE(page.contains("next_page_token"));

  r = env_.Call(Method::kGet, "/api/v1/models/iris/versions");
  page = ModelApiEnv::Body(r);
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_FALSE(page.contains("next_page_token"));
}

TEST_F(ModelHandlersTest, VersionsOfOtherModelsAreNotListed) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  MustRegister("iris-2", kRun1);
  MustRegister("iris-2", kRun1);
  bj::object page = ModelApiEnv::Body(env_.Call(Method::kGet, "/api/v1/models/iris/versions"));
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{1}));
}

TEST_F(ModelHandlersTest, VersionsRejectBadPagingAndUnknownModels) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  for (const char* query :
       {"max_results=0", "max_results=1001", "max_results=x", "page_token=abc", "page_token=-1"}) {
    ExpectError(env_.Call(Method::kGet, std::string("/api/v1/models/iris/versions?") + query), 400,
                "INVALID_PARAMETER_VALUE");
  }
  ExpectError(env_.Call(Method::kGet, "/api/v1/models/nope/versions"), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(ModelHandlersTest, NamesNeedingEncodingArePercentDecoded) {
  env_.CreateRun(kRun1);
  for (std::string_view name : {"my model v1.2", "iris #1?&=%"}) {
    MustRegister(name, kRun1);
    std::string encoded = PercentEncode(name, /*keep_slash=*/false);
    http::Response r = env_.Call(Method::kGet, "/api/v1/models/" + encoded + "/versions");
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    bj::object page = ModelApiEnv::Body(r);
    ASSERT_EQ(page.at("versions").as_array().size(), 1u);
    EXPECT_EQ(Str(page.at("versions").as_array()[0].as_object().at("name")), name);

    r = env_.Call(Method::kPost, "/api/v1/models/" + encoded + "/promote",
                  R"({"version": 1, "alias": "champion"})");
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
    r = env_.Call(Method::kGet, "/api/v1/models/" + encoded + "/versions/1/lineage");
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
    r = env_.Call(Method::kDelete, "/api/v1/models/" + encoded + "/versions/1");
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
  }
  // An unencoded slash splits the segment: no route.
  EXPECT_EQ(env_.Call(Method::kGet, "/api/v1/models/team/iris/versions").status, 404);
  // models:/ URIs cannot carry '/' or ':' in a name, so new names may not contain them.
  for (std::string_view bad : {"team/iris", "team:iris"}) {
    http::Response r = env_.Call(
        Method::kPost, "/api/v1/models/register",
        R"({"name": ")" + std::string(bad) + R"(", "source": {"artifact_uri": "s3://b/m"}})");
    ExpectError(r, 400, "INVALID_PARAMETER_VALUE");
  }
}

TEST_F(ModelHandlersTest, PromoteToStageRecordsPrincipalTimeAndPrevious) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  MustRegister("iris", kRun1);

  http::Response r = env_.Call(Method::kPost, "/api/v1/models/iris/promote",
                               R"({"version": 1, "stage": "production"})", "bob");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object p = ModelApiEnv::Body(r).at("promotion").as_object();
  EXPECT_EQ(p.at("name"), "iris");
  EXPECT_EQ(p.at("version"), 1);
  EXPECT_EQ(p.at("target"), "stage:Production");
  EXPECT_EQ(p.at("principal"), "bob");
  EXPECT_EQ(p.at("timestamp"), ModelApiEnv::kStartMillis);
  EXPECT_FALSE(p.contains("previous_version"));

  env_.clock().AdvanceMillis(5000);
  r = env_.Call(Method::kPost, "/api/v1/models/iris/promote",
                R"({"version": "2", "stage": "Production", "archive_previous": true})", "carol");
  ASSERT_EQ(r.status, 200) << r.body;
  p = ModelApiEnv::Body(r).at("promotion").as_object();
  EXPECT_EQ(p.at("version"), 2);
  EXPECT_EQ(p.at("principal"), "carol");
  EXPECT_EQ(p.at("timestamp"), ModelApiEnv::kStartMillis + 5000);
  EXPECT_EQ(p.at("previous_version"), 1);

  bj::object page = ModelApiEnv::Body(env_.Call(Method::kGet, "/api/v1/models/iris/versions"));
  const bj::array& versions = page.at("versions").as_array();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].as_object().at("current_stage"), "Production");
  EXPECT_EQ(versions[1].as_object().at("current_stage"), "Archived");
}

TEST_F(ModelHandlersTest, PromoteToAliasMovesIt) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  MustRegister("iris", kRun1);
  http::Response r = env_.Call(Method::kPost, "/api/v1/models/iris/promote",
                               R"({"version": 1, "alias": "champion"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ModelApiEnv::Body(r).at("promotion").as_object().at("target"), "alias:champion");

  r = env_.Call(Method::kPost, "/api/v1/models/iris/promote",
                R"({"version": 2, "alias": "champion"})");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object p = ModelApiEnv::Body(r).at("promotion").as_object();
  EXPECT_EQ(p.at("previous_version"), 1);

  bj::object page = ModelApiEnv::Body(env_.Call(Method::kGet, "/api/v1/models/iris/versions"));
  EXPECT_EQ(page.at("versions").as_array()[0].as_object().at("aliases"), bj::array{"champion"});
  EXPECT_EQ(page.at("versions").as_array()[1].as_object().at("aliases"), bj::array());
}

TEST_F(ModelHandlersTest, PromoteRejectsBadRequests) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  for (const char* body : {
           R"({"version": 1})",                                              // no target
           R"({"version": 1, "stage": "Production", "alias": "champion"})",  // both
           R"({"stage": "Production"})",                                     // no version
           R"({"version": "one", "stage": "Production"})",
           R"({"version": 1, "stage": "Gold"})",
           R"({"version": 1, "alias": "latest"})",
           R"({"version": 1, "stage": "Staging", "archive_previous": "maybe"})",
       }) {
    ExpectError(env_.Call(Method::kPost, "/api/v1/models/iris/promote", body), 400,
                "INVALID_PARAMETER_VALUE");
  }
  ExpectError(env_.Call(Method::kPost, "/api/v1/models/iris/promote",
                        R"({"version": 9, "stage": "Staging"})"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(env_.Call(Method::kPost, "/api/v1/models/nope/promote",
                        R"({"version": 1, "stage": "Staging"})"),
              404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(ModelHandlersTest, DeleteRemovesTheVersionButNotItsRunsArtifacts) {
  env_.CreateRun(kRun1);
  env_.CreateRun(kRun2);
  MustRegister("iris", kRun1);
  MustRegister("iris", kRun2);
  const std::string dir1 = "0/" + std::string(kRun1) + "/artifacts/model";
  const std::string dir2 = "0/" + std::string(kRun2) + "/artifacts/model";
  WriteArtifact(dir1 + "/MLmodel", "flavors: {}");
  WriteArtifact(dir2 + "/MLmodel", "flavors: {}");

  http::Response r = env_.Call(Method::kDelete, "/api/v1/models/iris/versions/1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ModelApiEnv::Body(r), bj::object());

  for (const std::string& dir : {dir1, dir2}) {
    auto listed = env_.artifacts().List(dir);
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(listed->size(), 1u) << dir << ": the run owns its files";
  }

  bj::object page = ModelApiEnv::Body(env_.Call(Method::kGet, "/api/v1/models/iris/versions"));
  EXPECT_EQ(VersionNumbers(page), (std::vector<int64_t>{2}));
  ExpectError(env_.Call(Method::kDelete, "/api/v1/models/iris/versions/1"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(env_.Call(Method::kGet, "/api/v1/models/iris/versions/1/lineage"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(env_.Call(Method::kDelete, "/api/v1/models/iris/versions/x"), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_F(ModelHandlersTest, DeleteRemovesFilesUploadedForTheVersionAlone) {
  const std::string dir = "92/iris/v1";
  WriteArtifact(dir + "/MLmodel", "flavors: {}");
  bj::object body{{"name", "iris"},
                  {"source", bj::object{{"artifact_uri", "mlflow-artifacts:/92/iris/v1"}}}};
  http::Response created = env_.Call(Method::kPost, "/api/v1/models/register", bj::serialize(body));
  ASSERT_EQ(created.status, 201) << created.body;

  http::Response r = env_.Call(Method::kDelete, "/api/v1/models/iris/versions/1");
  ASSERT_EQ(r.status, 200) << r.body;
  auto listed = env_.artifacts().List(dir);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ModelHandlersTest, DeleteIsRefusedWhileTheGuardSaysInUse) {
  env_.CreateRun(kRun1);
  MustRegister("iris", kRun1);
  env_.registry().SetDeletionGuard([](std::string_view, const metadata::ModelVersion& v) -> Status {
    return FailedPrecondition("Model version " + v.name + "/" + std::to_string(v.version) +
                              " is used by deployment d1");
  });
  http::Response r = env_.Call(Method::kDelete, "/api/v1/models/iris/versions/1");
  ExpectError(r, 400, "INVALID_STATE");
  EXPECT_NE(r.body.find("deployment d1"), std::string::npos);

  env_.registry().SetDeletionGuard({});
  EXPECT_EQ(env_.Call(Method::kGet, "/api/v1/models/iris/versions/1/lineage").status, 200);
}

TEST_F(ModelHandlersTest, LineageShowsRunExperimentParamsMetricsAndDatasets) {
  env_.CreateRun(kRun1);
  ASSERT_TRUE(env_.store()
                  .LogBatch("default", kRun1,
                            {{.key = "acc", .value = 0.5, .timestamp = 1, .step = 0},
                             {.key = "acc", .value = 0.9, .timestamp = 2, .step = 1}},
                            {{"lr", "0.1"}}, {{"purpose", "demo"}})
                  .ok());
  metadata::DatasetInput input;
  input.tags = {{"mlflow.data.context", "train"}};
  input.dataset = {.name = "iris-data", .digest = "d1", .source_type = "local", .source = "/x"};
  ASSERT_TRUE(env_.store().LogInputs("default", kRun1, {input}, {}).ok());
  MustRegister("iris", kRun1);

  http::Response r = env_.Call(Method::kGet, "/api/v1/models/iris/versions/1/lineage");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object lineage = ModelApiEnv::Body(r);
  EXPECT_EQ(lineage.at("model_version").as_object().at("version"), 1);
  const bj::object& run = lineage.at("run").as_object();
  EXPECT_EQ(Str(run.at("run_id")), kRun1);
  EXPECT_EQ(run.at("status"), "RUNNING");
  EXPECT_TRUE(run.at("end_time").is_null());
  EXPECT_EQ(run.at("experiment"), (bj::object{{"experiment_id", "0"}, {"name", "Default"}}));
  EXPECT_EQ(run.at("params"), (bj::object{{"lr", "0.1"}}));
  EXPECT_EQ(run.at("metrics"), (bj::object{{"acc", 0.9}}));
  EXPECT_EQ(run.at("tags").as_object().at("purpose"), "demo");
  ASSERT_EQ(run.at("datasets").as_array().size(), 1u);
  EXPECT_EQ(run.at("datasets").as_array()[0], (bj::object{{"name", "iris-data"},
                                                          {"digest", "d1"},
                                                          {"source_type", "local"},
                                                          {"source", "/x"},
                                                          {"context", "train"}}));
  EXPECT_EQ(lineage.at("deployments"), bj::array());
  EXPECT_FALSE(lineage.contains("logged_model"));
}

TEST_F(ModelHandlersTest, LineageOfUriSourceHasNoRun) {
  http::Response r = env_.Call(Method::kPost, "/api/v1/models/register",
                               R"({"name": "ext", "source": {"artifact_uri": "s3://b/m"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = env_.Call(Method::kGet, "/api/v1/models/ext/versions/1/lineage");
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object lineage = ModelApiEnv::Body(r);
  EXPECT_FALSE(lineage.contains("run"));
  EXPECT_EQ(lineage.at("deployments"), bj::array());
}

TEST_F(ModelHandlersTest, TenantsDoNotSeeEachOthersModels) {
  http::Response r =
      env_.Call(Method::kPost, "/api/v1/models/register",
                R"({"name": "iris", "source": {"artifact_uri": "s3://b/m"}})", "alice", "t1");
  ASSERT_EQ(r.status, 201) << r.body;
  ExpectError(env_.Call(Method::kGet, "/api/v1/models/iris/versions", "", "bob", "t2"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(env_.Call(Method::kGet, "/api/v1/models/iris/versions/1/lineage", "", "bob", "t2"),
              404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(env_.Call(Method::kGet, "/api/v1/models/iris/versions", "", "alice", "t1").status, 200);
}

}  // namespace
}  // namespace cairn::api::v1
