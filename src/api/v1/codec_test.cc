#include "api/v1/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

metadata::ModelVersion SampleVersion() {
  metadata::ModelVersion v;
  v.name = "iris";
  v.version = 7;
  v.creation_timestamp = 1000;
  v.last_updated_timestamp = 2000;
  v.user_id = "alice";
  v.current_stage = metadata::ModelStage::kProduction;
  v.source = "runs:/r1/model";
  v.storage_location = "mlflow-artifacts:/0/r1/artifacts/model";
  v.run_id = "r1";
  v.tags = {{"team", "ml"}, {"owner", "bob"}};
  v.aliases = {"champion"};
  return v;
}

TEST(CodecTest, ModelVersionHasEveryFieldWithIntegerVersionAndTagObject) {
  bj::object v = ModelVersionToJson(SampleVersion());
  EXPECT_EQ(v.at("name"), "iris");
  EXPECT_EQ(v.at("version"), 7);
  EXPECT_TRUE(v.at("version").is_int64());
  EXPECT_EQ(v.at("creation_timestamp"), 1000);
  EXPECT_EQ(v.at("last_updated_timestamp"), 2000);
  EXPECT_EQ(v.at("current_stage"), "Production");
  EXPECT_EQ(v.at("status"), "READY");
  EXPECT_EQ(v.at("storage_location"), "mlflow-artifacts:/0/r1/artifacts/model");
  EXPECT_EQ(v.at("tags"), (bj::object{{"team", "ml"}, {"owner", "bob"}}));
  EXPECT_EQ(v.at("aliases"), (bj::array{"champion"}));
  // Empty strings are present, not omitted.
  EXPECT_EQ(v.at("description"), "");
  EXPECT_EQ(v.at("model_id"), "");
  EXPECT_EQ(v.at("run_link"), "");
  EXPECT_EQ(v.at("status_message"), "");
  EXPECT_EQ(v.size(), 16u);
}

TEST(CodecTest, PromotionHasPreviousVersionOnlyWhenThereWasOne) {
  metadata::PromotionRecord p{.name = "iris",
                              .version = 3,
                              .target = "stage:Production",
                              .principal = "alice",
                              .timestamp = 42};
  bj::object first = PromotionToJson(p);
  EXPECT_EQ(first, (bj::object{{"name", "iris"},
                               {"version", 3},
                               {"target", "stage:Production"},
                               {"principal", "alice"},
                               {"timestamp", 42}}));
  p.previous_version = 2;
  EXPECT_EQ(PromotionToJson(p).at("previous_version"), 2);
}

TEST(CodecTest, LineageWithRunCarriesExperimentParamsLatestMetricsAndDatasets) {
  registry::Lineage lineage;
  lineage.version = SampleVersion();
  metadata::Run run;
  run.info.run_id = "r1";
  run.info.run_name = "brave-owl-1";
  run.info.experiment_id = "4";
  run.info.status = metadata::RunStatus::kFinished;
  run.info.start_time = 10;
  run.info.end_time = 20;
  run.params = {{"lr", "0.1"}};
  run.metrics = {{.key = "acc", .value = 0.9}, {.key = "loss", .value = std::nan("")}};
  run.tags = {{"mlflow.user", "alice"}};
  run.dataset_inputs = {
      {.tags = {{"mlflow.data.context", "train"}},
       .dataset = {.name = "iris", .digest = "abc", .source_type = "local", .source = "/d"}},
      {.tags = {}, .dataset = {.name = "extra", .digest = "def"}}};
  lineage.run = run;
  lineage.experiment = metadata::Experiment{.experiment_id = "4", .name = "flowers"};

  bj::object out = LineageToJson(lineage);
  EXPECT_EQ(out.at("model_version").as_object().at("version"), 7);
  const bj::object& r = out.at("run").as_object();
  EXPECT_EQ(r.at("run_id"), "r1");
  EXPECT_EQ(r.at("run_name"), "brave-owl-1");
  EXPECT_EQ(r.at("status"), "FINISHED");
  EXPECT_EQ(r.at("start_time"), 10);
  EXPECT_EQ(r.at("end_time"), 20);
  EXPECT_EQ(r.at("experiment"), (bj::object{{"experiment_id", "4"}, {"name", "flowers"}}));
  EXPECT_EQ(r.at("params"), (bj::object{{"lr", "0.1"}}));
  EXPECT_EQ(r.at("metrics"), (bj::object{{"acc", 0.9}, {"loss", "NaN"}}));
  EXPECT_EQ(r.at("tags"), (bj::object{{"mlflow.user", "alice"}}));
  const bj::array& datasets = r.at("datasets").as_array();
  ASSERT_EQ(datasets.size(), 2u);
  EXPECT_EQ(datasets[0], (bj::object{{"name", "iris"},
                                     {"digest", "abc"},
                                     {"source_type", "local"},
                                     {"source", "/d"},
                                     {"context", "train"}}));
  EXPECT_EQ(datasets[1].as_object().at("context"), "");
  EXPECT_EQ(out.at("deployments"), bj::array());
  EXPECT_FALSE(out.contains("logged_model"));
}

TEST(CodecTest, LineageOfRunningRunHasNullEndTime) {
  registry::Lineage lineage;
  lineage.version = SampleVersion();
  lineage.run = metadata::Run{};
  bj::object out = LineageToJson(lineage);
  EXPECT_TRUE(out.at("run").as_object().at("end_time").is_null());
  EXPECT_EQ(out.at("run").as_object().at("experiment").as_object().at("name"), "");
}

TEST(CodecTest, LineageWithoutRunOmitsItAndShowsLoggedModel) {
  registry::Lineage lineage;
  lineage.version = SampleVersion();
  metadata::LoggedModel model;
  model.model_id = "m-1";
  model.name = "model";
  model.status = metadata::LoggedModelStatus::kReady;
  model.params = {{"depth", "3"}};
  model.metrics = {{.key = "acc", .value = 0.5, .timestamp = 5, .step = 2, .dataset_name = "eval"},
                   {.key = "acc", .value = std::numeric_limits<double>::infinity()}};
  lineage.logged_model = model;
  bj::object out = LineageToJson(lineage);
  EXPECT_FALSE(out.contains("run"));
  const bj::object& m = out.at("logged_model").as_object();
  EXPECT_EQ(m.at("model_id"), "m-1");
  EXPECT_EQ(m.at("status"), "LOGGED_MODEL_READY");
  EXPECT_EQ(m.at("params"), (bj::object{{"depth", "3"}}));
  const bj::array& metrics = m.at("metrics").as_array();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0], (bj::object{{"key", "acc"},
                                    {"value", 0.5},
                                    {"step", 2},
                                    {"timestamp", 5},
                                    {"dataset_name", "eval"}}));
  EXPECT_EQ(metrics[1].as_object().at("value"), "Infinity");
}

TEST(CodecTest, TagsReadFromObjectOrList) {
  auto from_object =
      TagsFromJson(bj::parse(R"({"tags": {"a": "1", "b": ""}})").as_object(), "tags");
  ASSERT_TRUE(from_object.ok()) << from_object.status().ToString();
  EXPECT_EQ(*from_object, (std::vector<metadata::Tag>{{"a", "1"}, {"b", ""}}));

  auto from_list = TagsFromJson(
      bj::parse(R"({"tags": [{"key": "a", "value": "1"}, {"key": "b"}]})").as_object(), "tags");
  ASSERT_TRUE(from_list.ok()) << from_list.status().ToString();
  EXPECT_EQ(*from_list, (std::vector<metadata::Tag>{{"a", "1"}, {"b", ""}}));

  auto absent = TagsFromJson(bj::object{}, "tags");
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->empty());
  auto null = TagsFromJson(bj::parse(R"({"tags": null})").as_object(), "tags");
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->empty());
}

TEST(CodecTest, TagsRejectWrongShapes) {
  for (const char* body : {R"({"tags": {"a": 1}})", R"({"tags": "a=1"})", R"({"tags": ["a"]})",
                           R"({"tags": [{"value": "1"}]})", R"({"tags": [{"key": 5}]})"}) {
    auto tags = TagsFromJson(bj::parse(body).as_object(), "tags");
    ASSERT_FALSE(tags.ok()) << body;
    EXPECT_EQ(tags.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(tags.status().message().find("tags"), std::string::npos) << body;
  }
}

http::Request JsonRequest(std::string body, std::string content_type) {
  http::Request req;
  req.method = http::Method::kPost;
  req.body = std::move(body);
  if (!content_type.empty()) req.headers.Add("Content-Type", std::move(content_type));
  return req;
}

TEST(CodecTest, ReadJsonBodyNeedsJsonContentType) {
  auto ok = ReadJsonBody(JsonRequest(R"({"a": 1})", "Application/JSON; charset=utf-8"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at("a"), 1);

  auto form = ReadJsonBody(JsonRequest(R"({"a": 1})", "application/x-www-form-urlencoded"));
  ASSERT_FALSE(form.ok());
  EXPECT_EQ(form.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ReadJsonBody(JsonRequest(R"({"a": 1})", "")).ok());

  auto empty = ReadJsonBody(JsonRequest("", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  auto broken = ReadJsonBody(JsonRequest("{", "application/json"));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ReadJsonBody(JsonRequest("[1]", "application/json")).ok());
}

TEST(CodecTest, VersionPageTokensRoundTripAndRejectGarbage) {
  auto none = DecodeVersionPageToken("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto back = DecodeVersionPageToken(EncodeVersionPageToken(12));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value(), 12);
  for (const char* bad : {"x", "0", "-3", "+3", "3x", " 3", "99999999999999999999"}) {
    auto token = DecodeVersionPageToken(bad);
    ASSERT_FALSE(token.ok()) << bad;
    EXPECT_EQ(token.status().message(), "Invalid page token");
  }
}

}  // namespace
}  // namespace cairn::api::v1
