// The registry's stateless rules (registry_rules.h): stages, aliases, versions, names, tags,
// version sources and models:/ URIs.

#include "registry/registry_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::registry {
namespace {

using metadata::ModelStage;

TEST(ParseStageTest, AcceptsEveryStageInAnyCase) {
  EXPECT_EQ(*ParseStage("None"), ModelStage::kNone);
  EXPECT_EQ(*ParseStage("none"), ModelStage::kNone);
  EXPECT_EQ(*ParseStage("staging"), ModelStage::kStaging);
  EXPECT_EQ(*ParseStage("PRODUCTION"), ModelStage::kProduction);
  EXPECT_EQ(*ParseStage("Archived"), ModelStage::kArchived);
}

TEST(ParseStageTest, RejectsUnknownStagesWithMlflowsMessage) {
  for (std::string_view bad : {"", "prod", "Deleted_Internal", "Production "}) {
    auto s = ParseStage(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseStage("prod").status().message(),
            "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, "
            "Archived.");
}

TEST(StageNameTest, RoundTripsThroughParseStage) {
  for (ModelStage s :
       {ModelStage::kNone, ModelStage::kStaging, ModelStage::kProduction, ModelStage::kArchived}) {
    EXPECT_EQ(*ParseStage(StageName(s)), s);
  }
  EXPECT_EQ(StageName(ModelStage::kNone), "None");
  EXPECT_EQ(StageName(ModelStage::kProduction), "Production");
}

TEST(ValidateAliasTest, AcceptsWordCharactersAndDashes) {
  for (std::string_view ok :
       {"champion", "Champion_2", "a-b-c", "v", "va1", "v1a", "x", "latest2", "_"}) {
    EXPECT_TRUE(ValidateAlias(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateAlias(std::string(255, 'a')).ok());
}

TEST(ValidateAliasTest, RejectsEmptyBadCharactersAndOverlongNames) {
  EXPECT_EQ(ValidateAlias("").message(), "Registered model alias name cannot be empty.");
  for (std::string_view bad : {"a b", "a.b", "a/b", "a@b", "al:ias", "caf\xc3\xa9"}) {
    Status s = ValidateAlias(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateAlias(std::string(256, 'a')).code(), StatusCode::kInvalidArgument);
}

TEST(ValidateAliasTest, ReservesLatestAndVersionNames) {
  for (std::string_view reserved : {"latest", "LATEST", "Latest", "v1", "V12", "v007"}) {
    Status s = ValidateAlias(reserved);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << reserved;
    EXPECT_NE(s.message().find("reserved"), std::string::npos) << s.message();
  }
}

TEST(ParseVersionTest, ParsesIntegers) {
  EXPECT_EQ(*ParseVersion("1"), 1);
  EXPECT_EQ(*ParseVersion("42"), 42);
  EXPECT_EQ(*ParseVersion("007"), 7);
  EXPECT_EQ(*ParseVersion("+3"), 3);
  EXPECT_EQ(*ParseVersion("-1"), -1);
}

TEST(ParseVersionTest, RejectsNonIntegers) {
  EXPECT_EQ(ParseVersion("").status().message(), "Missing value for required parameter 'version'");
  for (std::string_view bad : {"a", "1.0", "1a", " 1", "-", "99999999999999999999", "latest"}) {
    auto v = ParseVersion(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseVersion("x1").status().message(), "Model version must be an integer, got 'x1'");
}

TEST(ValidateModelNameTest, RequiresANameOfBoundedLength) {
  EXPECT_TRUE(ValidateModelName("my model/with:any.chars").ok());
  EXPECT_EQ(ValidateModelName("").message(), "Missing value for required parameter 'name'");
  EXPECT_EQ(ValidateModelName("", "new_name").message(),
            "Missing value for required parameter 'new_name'");
  EXPECT_TRUE(ValidateModelName(std::string(kMaxModelNameLength, 'n')).ok());
  EXPECT_EQ(ValidateModelName(std::string(kMaxModelNameLength + 1, 'n')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateModelName(std::string("a\0b", 3)).code(), StatusCode::kInvalidArgument);
}

TEST(ValidateRegistryTagTest, AppliesKeyRulesAndTheRegistryValueLimit) {
  EXPECT_TRUE(ValidateRegistryTag({"mlflow.prompt.is_prompt", "true"}).ok());
  EXPECT_TRUE(ValidateRegistryTag({"k", ""}).ok());
  EXPECT_TRUE(ValidateRegistryTag({"k", std::string(kMaxRegistryTagValueLength, 'v')}).ok());
  EXPECT_EQ(ValidateRegistryTag({"k", std::string(kMaxRegistryTagValueLength + 1, 'v')}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRegistryTag({"", "v"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRegistryTag({std::string(251, 'k'), "v"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRegistryTag({"../etc", "v"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRegistryTag({"bad*key", "v"}).code(), StatusCode::kInvalidArgument);
}

TEST(IsLocalSourceTest, BarePathsAndFileUrisAreLocal) {
  EXPECT_TRUE(IsLocalSource("/data/model"));
  EXPECT_TRUE(IsLocalSource("relative/model"));
  EXPECT_TRUE(IsLocalSource("file:///data/model"));
  EXPECT_TRUE(IsLocalSource("FILE:/data/model"));
  EXPECT_TRUE(IsLocalSource("C:/models/x"));  // a drive letter, not a scheme
  EXPECT_FALSE(IsLocalSource("s3://bucket/model"));
  EXPECT_FALSE(IsLocalSource("runs:/abc/model"));
  EXPECT_FALSE(IsLocalSource("models:/m-123"));
  EXPECT_FALSE(IsLocalSource("mlflow-artifacts:/0/abc/artifacts/model"));
  EXPECT_FALSE(IsLocalSource("https://host/x"));
}

TEST(CheckSourceHasNoTraversalTest, AcceptsOrdinarySources) {
  for (std::string_view ok :
       {"s3://bucket/path/to/model", "runs:/0123abc/model", "models:/m-0123",
        "mlflow-artifacts:/0/abc/artifacts/model", "https://host/a/b?x=1", "s3://bucket/a..b/c",
        "gs://bucket/dir%20name/model", "s3://bucket//double/slash", "s3://b/.hidden/x"}) {
    EXPECT_TRUE(CheckSourceHasNoTraversal(ok).ok()) << ok;
  }
}

TEST(CheckSourceHasNoTraversalTest, RejectsPlainAndEncodedTraversal) {
  for (std::string_view bad : {
           "s3://bucket/../secret",
           "s3://bucket/a/..",
           "mlflow-artifacts:/0/../../other-tenant/x",
           "s3://bucket/%2e%2e/secret",
           "s3://bucket/%2E%2E/secret",
           "s3://bucket/%252e%252e/secret",
           "s3://bucket/a%2f..%2fb",
           "s3://bucket/a%2F..%2Fb",
           "s3://bucket/..%2fsecret",
           "s3://bucket/a/%00/b",
           "s3://bucket/a%2500b",
           "s3://bucket/a\\..\\b",
           "s3://bucket/./x",
           "http://host/x/%2e/y",
       }) {
    Status s = CheckSourceHasNoTraversal(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("Invalid model version source"), std::string::npos);
  }
}

TEST(CheckLocalSourceInsideTest, AcceptsPathsInsideALocalArtifactRoot) {
  EXPECT_TRUE(CheckLocalSourceInside("/data/0/run/artifacts/model", "/data/0/run/artifacts").ok());
  EXPECT_TRUE(
      CheckLocalSourceInside("file:///data/0/run/artifacts/model", "/data/0/run/artifacts").ok());
  EXPECT_TRUE(
      CheckLocalSourceInside("/data/0/run/artifacts/model", "file:///data/0/run/artifacts").ok());
  EXPECT_TRUE(
      CheckLocalSourceInside("file://localhost/data/r/artifacts/m", "/data/r/artifacts/").ok());
  EXPECT_TRUE(CheckLocalSourceInside("/data/r/artifacts", "/data/r/artifacts").ok());
  EXPECT_TRUE(CheckLocalSourceInside("/data/r/artifacts/x/../model", "/data/r/artifacts").ok());
}

TEST(CheckLocalSourceInsideTest, RejectsEverythingElse) {
  struct Case {
    std::string_view source;
    std::string_view root;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"/data/r/artifacts/../../other", "/data/r/artifacts"},
           {"/data/r/artifacts-evil/model", "/data/r/artifacts"},
           {"/etc/passwd", "/data/r/artifacts"},
           {"relative/model", "/data/r/artifacts"},
           {"/data/r/artifacts/model", "mlflow-artifacts:/0/r/artifacts"},
           {"/data/r/artifacts/model", "s3://bucket/data/r/artifacts"},
           {"/data/r/artifacts/model", ""},
           {"file://otherhost/data/r/artifacts/model", "/data/r/artifacts"},
           {"s3://bucket/data/r/artifacts/model", "/data/r/artifacts"},
       }) {
    EXPECT_EQ(CheckLocalSourceInside(c.source, c.root).code(), StatusCode::kInvalidArgument)
        << c.source << " in " << c.root;
  }
}

TEST(ParseModelsUriTest, ParsesEveryForm) {
  auto id = ParseModelsUri("models:/m-0123abcd");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->model_id, "m-0123abcd");
  EXPECT_TRUE(id->name.empty());

  auto version = ParseModelsUri("models:/my model/3");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->name, "my model");
  EXPECT_EQ(version->version, "3");
  EXPECT_TRUE(version->sub_path.empty());

  auto stage = ParseModelsUri("models:/m/Production/sub/dir");
  ASSERT_TRUE(stage.ok());
  EXPECT_EQ(stage->name, "m");
  EXPECT_EQ(stage->version, "Production");
  EXPECT_EQ(stage->sub_path, "sub/dir");

  auto latest = ParseModelsUri("models:/m/latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, "latest");

  auto alias = ParseModelsUri("models:/m@champion/MLmodel");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->name, "m");
  EXPECT_EQ(alias->alias, "champion");
  EXPECT_EQ(alias->sub_path, "MLmodel");
}

TEST(ParseModelsUriTest, RejectsMalformedUris) {
  for (std::string_view bad :
       {"models:", "models:/", "models://profile/m/1", "models:m/1", "models:/m/notastage",
        "models:/@alias", "models:/m@", "models:/m//1", "runs:/abc/model", "models:/m/1?x=y"}) {
    EXPECT_EQ(ParseModelsUri(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ArtifactServicePathTest, MapsOwnArtifactUrisIntoTheTenant) {
  EXPECT_EQ(ArtifactServicePath("default", "mlflow-artifacts:/0/abc/artifacts/model"),
            "0/abc/artifacts/model");
  EXPECT_EQ(ArtifactServicePath("t1", "mlflow-artifacts:/1/models/m-1/artifacts/"),
            "t1/1/models/m-1/artifacts");
  EXPECT_EQ(ArtifactServicePath("t1", "mlflow-artifacts:0/a"), "t1/0/a");
}

TEST(ArtifactServicePathTest, LeavesForeignAndUnsafeLocationsAlone) {
  for (std::string_view foreign :
       {"s3://bucket/0/abc", "file:///data/0/abc", "/data/0/abc", "runs:/abc/model", "models:/m-1",
        "mlflow-artifacts://otherhost:5000/0/abc", "mlflow-artifacts:/",
        "mlflow-artifacts:/0/../../other/x", "mlflow-artifacts:/0/%2e%2e/x",
        "https://host/api/2.0/mlflow-artifacts/artifacts/0/abc"}) {
    EXPECT_EQ(ArtifactServicePath("default", foreign), std::nullopt) << foreign;
  }
  EXPECT_EQ(ArtifactServicePath("", "mlflow-artifacts:/0/a"), std::nullopt);
  EXPECT_EQ(ArtifactServicePath("..", "mlflow-artifacts:/0/a"), std::nullopt);
  EXPECT_EQ(ArtifactServicePath("a/b", "mlflow-artifacts:/0/a"), std::nullopt);
  // The default tenant never reaches a tenant folder or the stores' own files.
  EXPECT_EQ(ArtifactServicePath("default", "mlflow-artifacts:/t1/0/a"), std::nullopt);
  EXPECT_EQ(ArtifactServicePath("default", "mlflow-artifacts:/.cairn-keys"), std::nullopt);
  EXPECT_EQ(ArtifactServicePath("12", "mlflow-artifacts:/0/a"), std::nullopt);
}

TEST(PythonJsonDumpsTest, WritesWhatPythonsJsonDumpsWrites) {
  boost::json::value v = boost::json::array{
      boost::json::object{{"name", "m"}, {"version", 1}},
      boost::json::object{{"name", "caf\xc3\xa9 \"q\"\n\xf0\x9f\x98\x80"}, {"version", "2"}}};
  EXPECT_EQ(PythonJsonDumps(v),
            R"([{"name": "m", "version": 1}, {"name": "caf\u00e9 \"q\"\n\ud83d\ude00", )"
            R"("version": "2"}])");
  EXPECT_EQ(PythonJsonDumps(boost::json::array{}), "[]");
}

TEST(AuthorityOfTest, NamesTheHostPartOnly) {
  EXPECT_EQ(AuthorityOf("models://host:5000/m/1"), "host:5000");
  EXPECT_EQ(AuthorityOf("models:/m/1"), "");
  EXPECT_EQ(AuthorityOf("runs:///abc/m"), "");
  EXPECT_EQ(AuthorityOf("/local/path"), "");
}

}  // namespace
}  // namespace cairn::registry
