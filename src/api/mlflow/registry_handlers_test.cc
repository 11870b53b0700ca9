#include "api/mlflow/registry_handlers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "base/clock.h"
#include "base/uri.h"
#include "http/error_response.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

// A JSON string's text, for comparisons with std::string and std::string_view.
std::string Str(const bj::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

TEST(RegistryJsonTest, ModelVersionAlwaysCarriesVersionStageAndStatus) {
  metadata::ModelVersion v;
  v.name = "m";
  v.version = 3;
  v.creation_timestamp = 10;
  v.last_updated_timestamp = 20;
  v.source = "models:/m-1";
  bj::object o = ModelVersionToJson(v);
  EXPECT_EQ(o.at("name"), "m");
  EXPECT_EQ(o.at("version"), "3") << "version is a string on the wire";
  EXPECT_EQ(o.at("creation_timestamp"), 10);
  EXPECT_EQ(o.at("last_updated_timestamp"), 20);
  EXPECT_EQ(o.at("current_stage"), "None");
  EXPECT_EQ(o.at("status"), "READY");
  EXPECT_EQ(o.at("source"), "models:/m-1");
  for (std::string_view absent : {"user_id", "status_message", "tags", "aliases", "model_id"}) {
    EXPECT_FALSE(o.contains(absent)) << absent;
  }
  v.user_id = "anonymous";
  EXPECT_FALSE(ModelVersionToJson(v).contains("user_id")) << "no author without authentication";
  // As MLflow sends them: present and empty.
  for (std::string_view empty : {"description", "run_id", "run_link"}) {
    EXPECT_EQ(o.at(empty), "") << empty;
  }
}

TEST(RegistryJsonTest, ModelVersionWritesSetFields) {
  metadata::ModelVersion v;
  v.name = "m";
  v.version = 1;
  v.user_id = "alice";
  v.current_stage = metadata::ModelStage::kProduction;
  v.description = "d";
  v.source = "runs:/r/model";
  v.storage_location = "mlflow-artifacts:/0/r/artifacts/model";
  v.run_id = "r";
  v.run_link = "http://x";
  v.model_id = "m-1";
  v.status = metadata::ModelVersionStatus::kPendingRegistration;
  v.status_message = "wait";
  v.tags = {{"k", "v"}};
  v.aliases = {"champion", "prod"};
  bj::object o = ModelVersionToJson(v);
  EXPECT_EQ(o.at("user_id"), "alice");
  EXPECT_EQ(o.at("current_stage"), "Production");
  EXPECT_EQ(o.at("description"), "d");
  EXPECT_EQ(o.at("run_id"), "r");
  EXPECT_EQ(o.at("run_link"), "http://x");
  EXPECT_EQ(o.at("model_id"), "m-1");
  EXPECT_EQ(o.at("status"), "PENDING_REGISTRATION");
  EXPECT_EQ(o.at("status_message"), "wait");
  EXPECT_EQ(o.at("tags"), (bj::array{bj::object{{"key", "k"}, {"value", "v"}}}));
  EXPECT_EQ(o.at("aliases"), (bj::array{"champion", "prod"}));
  EXPECT_FALSE(o.contains("storage_location")) << "not part of MLflow's message";
}

TEST(RegistryJsonTest, RegisteredModelShape) {
  metadata::RegisteredModel m;
  m.name = "m";
  m.creation_timestamp = 1;
  m.last_updated_timestamp = 2;
  bj::object bare = RegisteredModelToJson(m);
  EXPECT_EQ(bare,
            (bj::object{{"name", "m"}, {"creation_timestamp", 1}, {"last_updated_timestamp", 2}}));

  m.description = "desc";
  m.tags = {{"a", "b"}};
  m.aliases = {{"champion", 7}};
  metadata::ModelVersion v;
  v.name = "m";
  v.version = 7;
  m.latest_versions = {v};
  bj::object o = RegisteredModelToJson(m);
  EXPECT_EQ(o.at("description"), "desc");
  EXPECT_EQ(o.at("aliases"), (bj::array{bj::object{{"alias", "champion"}, {"version", "7"}}}));
  ASSERT_EQ(o.at("latest_versions").as_array().size(), 1u);
  EXPECT_EQ(o.at("latest_versions").as_array()[0].at("version"), "7");
  EXPECT_EQ(o.at("tags").as_array().size(), 1u);
}

// ---- End to end through the router, against the SQLite store ----

constexpr std::string_view kApi = "/api/2.0/mlflow/";
constexpr std::string_view kRunId = "0123456789abcdef0123456789abcdef";

class RegistryHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-registry-api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores_ = std::move(store).value();
    ASSERT_TRUE(stores_.tracking->EnsureDefaultExperiment("default", "mlflow-artifacts:", 1).ok());
    service_ =
        std::make_unique<registry::RegistryService>(*stores_.registry, *stores_.tracking, clock_);
    handlers_ = std::make_unique<RegistryHandlers>(*service_);
    handlers_->Register(router_);
  }

  void TearDown() override {
    handlers_.reset();
    service_.reset();
    stores_ = {};
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Routes and runs a request as the server would hand it over. `target` is relative to
  // /api/2.0/mlflow/ unless it starts with '/'.
  http::Response Call(http::Method method, std::string_view target, std::string_view body = "",
                      std::string_view tenant = "default") {
    std::string full =
        target.starts_with("/") ? std::string(target) : std::string(kApi) + std::string(target);
    http::Request request;
    request.method = method;
    request.target = full;
    request.headers.Set("Content-Type", "application/json");
    request.body = std::string(body);
    request.scope.tenant = std::string(tenant);
    request.scope.principal = "alice";
    clock_.AdvanceMillis(1);
    return http::CallRouteForTest(router_, std::move(request));
  }

  http::Response Post(std::string_view path, const bj::object& body,
                      std::string_view tenant = "default") {
    return Call(http::Method::kPost, path, bj::serialize(body), tenant);
  }
  http::Response Get(std::string_view path_and_query, std::string_view tenant = "default") {
    return Call(http::Method::kGet, path_and_query, "", tenant);
  }

  static bj::object Json(const http::Response& r) {
    boost::system::error_code ec;
    bj::value v = bj::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return !ec && v.is_object() ? v.as_object() : bj::object{};
  }

  void ExpectError(const http::Response& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(Str(Json(r)["error_code"]), code) << r.body;
  }

  void CreateModel(std::string_view name, std::string_view tenant = "default") {
    auto r = Post("registered-models/create", {{"name", name}}, tenant);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  bj::object CreateVersion(std::string_view name, std::string_view source,
                           std::string_view tenant = "default") {
    auto r = Post("model-versions/create", {{"name", name}, {"source", source}}, tenant);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["model_version"].as_object();
  }

  fs::path dir_;
  ManualClock clock_{1'700'000'000'000};
  metadata::MetadataStores stores_;
  std::unique_ptr<registry::RegistryService> service_;
  std::unique_ptr<RegistryHandlers> handlers_;
  http::Router router_;
};

TEST_F(RegistryHandlersTest, CreateGetAndDuplicate) {
  auto created = Post("registered-models/create",
                      {{"name", "churn"},
                       {"description", "d"},
                       {"tags", bj::array{bj::object{{"key", "team"}, {"value", "x"}}}}});
  ASSERT_EQ(created.status, 200) << created.body;
  bj::object model = Json(created)["registered_model"].as_object();
  EXPECT_EQ(model["name"], "churn");
  EXPECT_EQ(model["description"], "d");
  EXPECT_EQ(model["user_id"], "alice");
  EXPECT_TRUE(model["creation_timestamp"].is_int64());

  auto got = Get("registered-models/get?name=churn");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Json(got)["registered_model"].at("tags"),
            (bj::array{bj::object{{"key", "team"}, {"value", "x"}}}));

  ExpectError(Post("registered-models/create", {{"name", "churn"}}), 400,
              "RESOURCE_ALREADY_EXISTS");
  ExpectError(Get("registered-models/get?name=nope"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post("registered-models/create", bj::object{}), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, AjaxPrefixServesTheSameRoutes) {
  CreateModel("m");
  auto got = Get("/ajax-api/2.0/mlflow/registered-models/get?name=m");
  EXPECT_EQ(got.status, 200) << got.body;
}

TEST_F(RegistryHandlersTest, PostWithoutJsonContentTypeIs400) {
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/api/2.0/mlflow/registered-models/create";
  request.body = R"({"name":"m"})";
  auto match = router_.Find(http::Method::kPost, request.path);
  ASSERT_NE(match.route, nullptr);
  auto r = match.route->handler(request);
  ExpectError(r, 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, RenameUpdateAndDeleteWithJsonBodies) {
  CreateModel("m");
  CreateVersion("m", "s3://b/1");
  auto renamed = Post("registered-models/rename", {{"name", "m"}, {"new_name", "n"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Json(renamed)["registered_model"].at("name"), "n");
  auto v = Get("model-versions/get?name=n&version=1");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(Json(v)["model_version"].at("name"), "n");

  auto updated = Call(http::Method::kPatch, "registered-models/update",
                      R"({"name":"n","description":"new text"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Json(updated)["registered_model"].at("description"), "new text");

  auto mv_updated = Call(http::Method::kPatch, "model-versions/update",
                         R"({"name":"n","version":"1","description":"v text"})");
  ASSERT_EQ(mv_updated.status, 200) << mv_updated.body;
  EXPECT_EQ(Json(mv_updated)["model_version"].at("description"), "v text");

  auto deleted = Call(http::Method::kDelete, "registered-models/delete", R"({"name":"n"})");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, "{}");
  ExpectError(Get("registered-models/get?name=n"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get("model-versions/get?name=n&version=1"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call(http::Method::kDelete, "registered-models/delete", R"({"name":"n"})"), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(RegistryHandlersTest, ModelVersionShapeOnTheWire) {
  CreateModel("m");
  auto r = Post("model-versions/create",
                {{"name", "m"},
                 {"source", "s3://bucket/model"},
                 {"run_link", "http://link"},
                 {"description", "first"},
                 {"tags", bj::array{bj::object{{"key", "k"}, {"value", "v"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  bj::object v = Json(r)["model_version"].as_object();
  EXPECT_EQ(v["name"], "m");
  EXPECT_EQ(v["version"], "1");
  EXPECT_EQ(v["current_stage"], "None");
  EXPECT_EQ(v["status"], "READY");
  EXPECT_EQ(v["source"], "s3://bucket/model");
  EXPECT_EQ(v["run_link"], "http://link");
  EXPECT_EQ(v["description"], "first");
  EXPECT_EQ(v["user_id"], "alice");
  EXPECT_TRUE(v["creation_timestamp"].is_int64());
  EXPECT_EQ(v["run_id"], "");

  // The client polls model-versions/get until the status leaves PENDING_REGISTRATION.
  auto polled = Get("model-versions/get?name=m&version=1");
  ASSERT_EQ(polled.status, 200);
  EXPECT_EQ(Json(polled)["model_version"].at("status"), "READY");
  ExpectError(Get("model-versions/get?name=m&version=x"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("model-versions/get?name=m&version=2"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post("model-versions/create", {{"name", "m"}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("model-versions/create", {{"name", "zz"}, {"source", "s3://b/x"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(RegistryHandlersTest, VersionMayBeSentAsANumber) {
  CreateModel("m");
  CreateVersion("m", "s3://b/1");
  auto r = Post("registered-models/alias", {{"name", "m"}, {"alias", "a"}, {"version", 1}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(RegistryHandlersTest, SourceResolutionAndDownloadUri) {
  metadata::RunInfo info;
  info.run_id = std::string(kRunId);
  info.experiment_id = "0";
  info.start_time = 1;
  info.artifact_uri = "mlflow-artifacts:/0/" + std::string(kRunId) + "/artifacts";
  ASSERT_TRUE(stores_.tracking->CreateRun("default", info, {}).ok());
  CreateModel("m");
  const std::string runs_source = "runs:/" + std::string(kRunId) + "/model";
  // As in MLflow, a runs:/ source needs the same run_id in the request.
  ExpectError(Post("model-versions/create", {{"name", "m"}, {"source", runs_source}}), 400,
              "INVALID_PARAMETER_VALUE");
  auto r = Post("model-versions/create",
                {{"name", "m"}, {"source", runs_source}, {"run_id", std::string(kRunId)}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(Json(r)["model_version"].at("run_id")), kRunId);
  EXPECT_EQ(Str(Json(r)["model_version"].at("source")), runs_source);
  auto uri = Get("model-versions/get-download-uri?name=m&version=1");
  ASSERT_EQ(uri.status, 200) << uri.body;
  EXPECT_EQ(Str(Json(uri)["artifact_uri"]), runs_source) << "MLflow answers the source";

  // A run that lives elsewhere is not looked up; an s3 source needs no run at all.
  const std::string elsewhere(32, 'a');
  auto remote =
      Post("model-versions/create",
           {{"name", "m"}, {"source", "runs:/" + elsewhere + "/m"}, {"run_id", elsewhere}});
  ASSERT_EQ(remote.status, 200) << remote.body;
  auto s3 = Post("model-versions/create",
                 {{"name", "m"}, {"source", "s3://b/x"}, {"run_id", std::string(32, 'b')}});
  ASSERT_EQ(s3.status, 200) << s3.body;

  // A models:/<name>/<version> source is pinned and answers what that version answers.
  auto pinned = Post("model-versions/create", {{"name", "m"}, {"source", "models:/m/latest"}});
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(Str(Json(pinned)["model_version"].at("source")), "models:/m/3");
  EXPECT_EQ(Str(Json(pinned)["model_version"].at("run_id")), std::string(32, 'b'));
  auto pinned_uri = Get("model-versions/get-download-uri?name=m&version=4");
  ASSERT_EQ(pinned_uri.status, 200) << pinned_uri.body;
  EXPECT_EQ(Str(Json(pinned_uri)["artifact_uri"]), "s3://b/x");

  ExpectError(Post("model-versions/create", {{"name", "m"}, {"source", "s3://b/%2e%2e/x"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("model-versions/create", {{"name", "m"}, {"source", "/etc"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("model-versions/create", {{"name", "m"}, {"source", "models:/m-nope"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post("model-versions/create",
                   {{"name", "m"}, {"source", "models:/m-nope"}, {"model_id", "m-nope"}}),
              404, "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(RegistryHandlersTest, SearchRegisteredModelsWithPromptFilterAndPaging) {
  for (std::string_view name : {"c", "a", "b"}) CreateModel(name);
  auto prompt = Post(
      "registered-models/create",
      {{"name", "p"},
       {"tags", bj::array{bj::object{{"key", "mlflow.prompt.is_prompt"}, {"value", "true"}}}}});
  ASSERT_EQ(prompt.status, 200);

  std::string filter = "tag.%60mlflow.prompt.is_prompt%60+%21%3D+%27true%27";
  auto page1 = Get("registered-models/search?filter=" + filter + "&max_results=2");
  ASSERT_EQ(page1.status, 200) << page1.body;
  bj::object first = Json(page1);
  ASSERT_EQ(first["registered_models"].as_array().size(), 2u);
  EXPECT_EQ(first["registered_models"].as_array()[0].at("name"), "a");
  EXPECT_EQ(first["registered_models"].as_array()[1].at("name"), "b");
  ASSERT_TRUE(first.contains("next_page_token"));
  std::string token(first["next_page_token"].as_string());

  auto page2 = Get("registered-models/search?filter=" + filter +
                   "&max_results=2&page_token=" + PercentEncode(token, false));
  ASSERT_EQ(page2.status, 200) << page2.body;
  bj::object second = Json(page2);
  ASSERT_EQ(second["registered_models"].as_array().size(), 1u);
  EXPECT_EQ(second["registered_models"].as_array()[0].at("name"), "c");
  EXPECT_FALSE(second.contains("next_page_token"));

  auto desc = Get("registered-models/search?order_by=name+DESC");
  ASSERT_EQ(desc.status, 200) << desc.body;
  EXPECT_EQ(Json(desc)["registered_models"].as_array()[0].at("name"), "p");

  auto by_post = Post("registered-models/search", {{"filter", "name LIKE 'a%'"}});
  ASSERT_EQ(by_post.status, 200) << by_post.body;
  EXPECT_EQ(Json(by_post)["registered_models"].as_array().size(), 1u);

  auto none = Get("registered-models/search?filter=name+%3D+%27zzz%27");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.body, "{}");

  ExpectError(Get("registered-models/search?filter=name+%3D%3D%3D"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Get("registered-models/search?max_results=1001"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("registered-models/search?order_by=bogus"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("registered-models/search?page_token=garbage"), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, SearchModelVersionsFiltersAndDefaults) {
  CreateModel("a");
  CreateModel("b");
  CreateVersion("a", "s3://x/1");
  CreateVersion("a", "s3://x/2");
  CreateVersion("b", "s3://y/1");
  auto all = Get("model-versions/search");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Json(all)["model_versions"].as_array().size(), 3u);

  auto only_a = Get("model-versions/search?filter=name%3D%27a%27&order_by=version_number+ASC");
  ASSERT_EQ(only_a.status, 200) << only_a.body;
  auto arr = Json(only_a)["model_versions"].as_array();
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("version"), "1");
  EXPECT_EQ(arr[1].at("version"), "2");

  ExpectError(Get("model-versions/search?max_results=200001"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("model-versions/search?filter=metrics.x+%3E+1"), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, StagesAndLatestVersions) {
  CreateModel("m");
  for (int i = 0; i < 3; ++i) CreateVersion("m", "s3://b/" + std::to_string(i));
  auto t1 = Post("model-versions/transition-stage", {{"name", "m"},
                                                     {"version", "1"},
                                                     {"stage", "production"},
                                                     {"archive_existing_versions", false}});
  ASSERT_EQ(t1.status, 200) << t1.body;
  EXPECT_EQ(Json(t1)["model_version"].at("current_stage"), "Production");
  auto t2 = Post("model-versions/transition-stage", {{"name", "m"},
                                                     {"version", "2"},
                                                     {"stage", "Production"},
                                                     {"archive_existing_versions", "true"}});
  ASSERT_EQ(t2.status, 200) << t2.body;
  auto v1 = Get("model-versions/get?name=m&version=1");
  EXPECT_EQ(Json(v1)["model_version"].at("current_stage"), "Archived");

  auto latest = Post("registered-models/get-latest-versions",
                     {{"name", "m"}, {"stages", bj::array{"Production"}}});
  ASSERT_EQ(latest.status, 200) << latest.body;
  auto arr = Json(latest)["model_versions"].as_array();
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0].at("version"), "2");

  auto by_get = Get("registered-models/get-latest-versions?name=m&stages=Archived&stages=None");
  ASSERT_EQ(by_get.status, 200) << by_get.body;
  EXPECT_EQ(Json(by_get)["model_versions"].as_array().size(), 2u);

  auto model = Get("registered-models/get?name=m");
  EXPECT_EQ(Json(model)["registered_model"].at("latest_versions").as_array().size(), 3u);

  ExpectError(
      Post("model-versions/transition-stage", {{"name", "m"}, {"version", "1"}, {"stage", "prod"}}),
      400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("registered-models/get-latest-versions?name=m&stages=bogus"), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, AliasEndpoints) {
  CreateModel("m");
  CreateVersion("m", "s3://b/1");
  CreateVersion("m", "s3://b/2");
  auto set =
      Post("registered-models/alias", {{"name", "m"}, {"alias", "champion"}, {"version", "1"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.body, "{}");
  auto moved =
      Post("registered-models/alias", {{"name", "m"}, {"alias", "champion"}, {"version", "2"}});
  ASSERT_EQ(moved.status, 200) << moved.body;

  auto got = Get("registered-models/alias?name=m&alias=champion");
  ASSERT_EQ(got.status, 200) << got.body;
  bj::object v = Json(got)["model_version"].as_object();
  EXPECT_EQ(v["version"], "2");
  EXPECT_EQ(v["aliases"], (bj::array{"champion"}));

  auto model = Get("registered-models/get?name=m");
  EXPECT_EQ(Json(model)["registered_model"].at("aliases"),
            (bj::array{bj::object{{"alias", "champion"}, {"version", "2"}}}));

  ExpectError(
      Post("registered-models/alias", {{"name", "m"}, {"alias", "latest"}, {"version", "1"}}), 400,
      "INVALID_PARAMETER_VALUE");
  ExpectError(Post("registered-models/alias", {{"name", "m"}, {"alias", "v3"}, {"version", "1"}}),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post("registered-models/alias", {{"name", "m"}, {"alias", "x"}, {"version", "9"}}),
              404, "RESOURCE_DOES_NOT_EXIST");

  auto deleted =
      Call(http::Method::kDelete, "registered-models/alias", R"({"name":"m","alias":"champion"})");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  ExpectError(Get("registered-models/alias?name=m&alias=champion"), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, TagEndpoints) {
  CreateModel("m");
  CreateVersion("m", "s3://b/1");
  ASSERT_EQ(Post("registered-models/set-tag", {{"name", "m"}, {"key", "k"}, {"value", "v"}}).status,
            200);
  ASSERT_EQ(Post("model-versions/set-tag",
                 {{"name", "m"}, {"version", "1"}, {"key", "mk"}, {"value", "mv"}})
                .status,
            200);
  EXPECT_EQ(Json(Get("registered-models/get?name=m"))["registered_model"].at("tags"),
            (bj::array{bj::object{{"key", "k"}, {"value", "v"}}}));
  EXPECT_EQ(Json(Get("model-versions/get?name=m&version=1"))["model_version"].at("tags"),
            (bj::array{bj::object{{"key", "mk"}, {"value", "mv"}}}));

  ASSERT_EQ(Call(http::Method::kDelete, "registered-models/delete-tag", R"({"name":"m","key":"k"})")
                .status,
            200);
  ASSERT_EQ(Call(http::Method::kDelete, "model-versions/delete-tag",
                 R"({"name":"m","version":"1","key":"mk"})")
                .status,
            200);
  EXPECT_FALSE(
      Json(Get("registered-models/get?name=m"))["registered_model"].as_object().contains("tags"));
  ExpectError(
      Call(http::Method::kDelete, "registered-models/delete-tag", R"({"name":"m","key":"k"})"), 404,
      "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post("registered-models/set-tag",
                   {{"name", "m"}, {"key", "k"}, {"value", std::string(100001, 'x')}}),
              400, "INVALID_PARAMETER_VALUE");
}

TEST_F(RegistryHandlersTest, DeletedVersionNumbersAreNotReused) {
  CreateModel("m");
  CreateVersion("m", "s3://b/1");
  CreateVersion("m", "s3://b/2");
  auto del = Call(http::Method::kDelete, "model-versions/delete", R"({"name":"m","version":"2"})");
  ASSERT_EQ(del.status, 200) << del.body;
  ExpectError(Get("model-versions/get?name=m&version=2"), 404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(CreateVersion("m", "s3://b/3")["version"], "3");
}

TEST_F(RegistryHandlersTest, TenantsSeeOnlyTheirOwnModels) {
  CreateModel("shared", "default");
  CreateModel("shared", "team-b");
  CreateVersion("shared", "s3://a/1", "default");
  CreateVersion("shared", "s3://a/2", "default");
  EXPECT_EQ(CreateVersion("shared", "s3://b/1", "team-b")["version"], "1");
  auto search = Get("model-versions/search", "team-b");
  ASSERT_EQ(search.status, 200);
  EXPECT_EQ(Json(search)["model_versions"].as_array().size(), 1u);
  ExpectError(Get("model-versions/get?name=shared&version=2", "team-b"), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(RegistryHandlersTest, WrongMethodIsNotRouted) {
  auto r = Call(http::Method::kPost, "registered-models/delete", R"({"name":"m"})");
  EXPECT_EQ(r.status, 405) << r.body;
}

}  // namespace
}  // namespace cairn::api::mlflow
