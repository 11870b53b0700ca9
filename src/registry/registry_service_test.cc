#include "registry/registry_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>

#include "artifact/local/local_artifact_store.h"
#include "base/clock.h"
#include "filter/filter.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::registry {
namespace {

// The scope of a request from `principal` in `tenant`.
RequestScope Scope(std::string_view tenant, std::string_view principal = "anonymous") {
  return RequestScope::ForTenant(tenant, principal);
}

namespace fs = std::filesystem;
using metadata::ModelStage;

// ---- Against the SQLite store ----

constexpr std::string_view kTenant = "default";
constexpr std::string_view kOtherTenant = "other";
constexpr std::string_view kRunA = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kRunB = "fedcba9876543210fedcba9876543210";

class RegistryServiceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-registry-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores_ = std::move(store).value();
    for (std::string_view t : {kTenant, kOtherTenant}) {
      ASSERT_TRUE(stores_.tracking->EnsureDefaultExperiment(t, "mlflow-artifacts:", 1).ok());
    }
    auto artifacts = artifact::LocalArtifactStore::Open(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    service_ = std::make_unique<RegistryService>(*stores_.registry, *stores_.tracking, clock_);
  }

  void TearDown() override {
    service_.reset();
    stores_ = {};
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A run in experiment 0; its artifact URI defaults to the server's usual one.
  metadata::Run MakeRun(std::string_view run_id, const std::string& artifact_uri = "",
                        std::string_view tenant = kTenant) {
    metadata::RunInfo info;
    info.run_id = std::string(run_id);
    info.experiment_id = "0";
    info.run_name = "run";
    info.start_time = clock_.NowMillis();
    info.artifact_uri = artifact_uri.empty()
                            ? "mlflow-artifacts:/0/" + std::string(run_id) + "/artifacts"
                            : artifact_uri;
    auto run = stores_.tracking->CreateRun(tenant, info, {});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : metadata::Run{};
  }

  metadata::LoggedModel MakeLoggedModel(std::string_view model_id, std::string_view name,
                                        std::string_view source_run_id,
                                        std::string_view tenant = kTenant) {
    metadata::LoggedModel m;
    m.model_id = std::string(model_id);
    m.experiment_id = "0";
    m.name = std::string(name);
    m.creation_timestamp_ms = clock_.NowMillis();
    m.last_updated_timestamp_ms = m.creation_timestamp_ms;
    m.artifact_uri = "mlflow-artifacts:/0/models/" + std::string(model_id) + "/artifacts";
    m.status = metadata::LoggedModelStatus::kReady;
    m.source_run_id = std::string(source_run_id);
    auto created = stores_.tracking->CreateLoggedModel(tenant, m);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : metadata::LoggedModel{};
  }

  metadata::RegisteredModel MustCreateModel(std::string_view name,
                                            std::string_view tenant = kTenant) {
    auto m = service_->CreateRegisteredModel(Scope(tenant, "alice"), name, "", {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : metadata::RegisteredModel{};
  }

  StatusOr<metadata::ModelVersion> NewVersion(std::string_view name, std::string source,
                                              std::string run_id = "",
                                              std::string_view tenant = kTenant) {
    metadata::CreateModelVersionRequest r;
    r.name = std::string(name);
    r.source = std::move(source);
    r.run_id = std::move(run_id);
    clock_.AdvanceMillis(1);
    return service_->CreateModelVersion(Scope(tenant, "alice"), r);
  }

  // Names the run of a runs:/ source and the logged model of a models:/<model_id> source, as
  // MLflow's clients do.
  metadata::ModelVersion MustVersion(std::string_view name, std::string source,
                                     std::string_view tenant = kTenant) {
    metadata::CreateModelVersionRequest r;
    r.name = std::string(name);
    r.source = std::move(source);
    std::string_view rest = r.source;
    if (rest.substr(0, 6) == "runs:/") {
      rest.remove_prefix(6);
      r.run_id = std::string(rest.substr(0, rest.find('/')));
    } else if (rest.substr(0, 9) == "models:/m" && rest.find('/', 8) == std::string_view::npos) {
      r.model_id = std::string(rest.substr(8));
    }
    clock_.AdvanceMillis(1);
    auto v = service_->CreateModelVersion(Scope(tenant, "alice"), r);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : metadata::ModelVersion{};
  }

  void WriteFile(std::string_view path, std::string_view content) {
    auto writer = artifacts_->OpenWriter(path);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Append(content).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  }

  bool FileExists(std::string_view path) { return artifacts_->OpenReader(path).ok(); }

  fs::path dir_;
  ManualClock clock_{1'700'000'000'000};
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::LocalArtifactStore> artifacts_;
  std::unique_ptr<RegistryService> service_;
};

TEST_F(RegistryServiceStoreTest, CreatesAndGetsARegisteredModel) {
  auto created =
      service_->CreateRegisteredModel(Scope(kTenant, "alice"), "churn", "first", {{"team", "x"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "churn");
  EXPECT_EQ(created->description, "first");
  EXPECT_EQ(created->creation_timestamp, clock_.NowMillis());
  auto got = service_->GetRegisteredModel(Scope(kTenant), "churn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<metadata::Tag>{{"team", "x"}}));
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "nope").status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, DuplicateNameIsAlreadyExists) {
  MustCreateModel("churn");
  auto again = service_->CreateRegisteredModel(Scope(kTenant, "bob"), "churn", "", {});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(RegistryServiceStoreTest, InvalidInputStoresNothing) {
  auto bad_tag = service_->CreateRegisteredModel(Scope(kTenant, "alice"), "m", "",
                                                 {{"ok", "1"}, {"bad*key", "2"}});
  EXPECT_EQ(bad_tag.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "m").status().code(),
            StatusCode::kNotFound);

  MustCreateModel("m");
  metadata::CreateModelVersionRequest r;
  r.name = "m";
  r.source = "s3://bucket/model";
  r.tags = {{"ok", "1"}, {"k", std::string(kMaxRegistryTagValueLength + 1, 'x')}};
  EXPECT_EQ(service_->CreateModelVersion(Scope(kTenant, "alice"), r).status().code(),
            StatusCode::kInvalidArgument);
  metadata::SearchModelVersionsQuery all;
  auto versions = service_->SearchModelVersions(Scope(kTenant), all);
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->items.empty());
}

TEST_F(RegistryServiceStoreTest, RenameMovesVersionsTagsAndAliases) {
  MustCreateModel("old");
  MustCreateModel("taken");
  ASSERT_TRUE(service_->SetRegisteredModelTag(Scope(kTenant), "old", {"k", "v"}).ok());
  MustVersion("old", "s3://b/1");
  MustVersion("old", "s3://b/2");
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "old", "champion", "2").ok());

  EXPECT_EQ(service_->RenameRegisteredModel(Scope(kTenant), "old", "taken").status().code(),
            StatusCode::kAlreadyExists);
  auto renamed = service_->RenameRegisteredModel(Scope(kTenant), "old", "new");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "new");
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "old").status().code(),
            StatusCode::kNotFound);
  auto v2 = service_->GetModelVersion(Scope(kTenant), "new", "2");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->name, "new");
  EXPECT_EQ(v2->source, "s3://b/2");
  auto by_alias = service_->GetModelVersionByAlias(Scope(kTenant), "new", "champion");
  ASSERT_TRUE(by_alias.ok()) << by_alias.status().ToString();
  EXPECT_EQ(by_alias->version, 2);
  auto got = service_->GetRegisteredModel(Scope(kTenant), "new");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<metadata::Tag>{{"k", "v"}}));
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "old", "1").status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, DeleteCascadesToVersionsAndAliases) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "a", "1").ok());
  ASSERT_TRUE(service_->DeleteRegisteredModel(Scope(kTenant), "m").ok());
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "m").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "1").status().code(),
            StatusCode::kNotFound);
  auto versions = service_->SearchModelVersions(Scope(kTenant), {});
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->items.empty());
  EXPECT_EQ(service_->DeleteRegisteredModel(Scope(kTenant), "m").code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, VersionNumbersAreNeverReused) {
  MustCreateModel("m");
  EXPECT_EQ(MustVersion("m", "s3://b/1").version, 1);
  EXPECT_EQ(MustVersion("m", "s3://b/2").version, 2);
  ASSERT_TRUE(service_->DeleteModelVersion(Scope(kTenant), "m", "2").ok());
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "2").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(MustVersion("m", "s3://b/3").version, 3);
  EXPECT_EQ(service_->DeleteModelVersion(Scope(kTenant), "m", "2").code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, NewVersionsAreReadyInStageNone) {
  MustCreateModel("m");
  metadata::ModelVersion v = MustVersion("m", "s3://b/1");
  EXPECT_EQ(v.status, metadata::ModelVersionStatus::kReady);
  EXPECT_EQ(v.current_stage, ModelStage::kNone);
  EXPECT_EQ(v.user_id, "alice");
  EXPECT_EQ(NewVersion("missing", "s3://b/1").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, AliasesSetMoveDeleteAndGet) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  MustVersion("m", "s3://b/2");
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "champion", "1").ok());
  EXPECT_EQ(service_->GetModelVersionByAlias(Scope(kTenant), "m", "champion")->version, 1);
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "champion", "2").ok());
  EXPECT_EQ(service_->GetModelVersionByAlias(Scope(kTenant), "m", "champion")->version, 2);
  auto v2 = service_->GetModelVersion(Scope(kTenant), "m", "2");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->aliases, std::vector<std::string>{"champion"});
  EXPECT_TRUE(service_->GetModelVersion(Scope(kTenant), "m", "1")->aliases.empty());
  auto model = service_->GetRegisteredModel(Scope(kTenant), "m");
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(model->aliases.size(), 1u);
  EXPECT_EQ(model->aliases[0].alias, "champion");
  EXPECT_EQ(model->aliases[0].version, 2);

  ASSERT_TRUE(service_->DeleteRegisteredModelAlias(Scope(kTenant), "m", "champion").ok());
  auto gone = service_->GetModelVersionByAlias(Scope(kTenant), "m", "champion");
  EXPECT_EQ(gone.status().code(), StatusCode::kInvalidArgument) << "as MLflow answers";
  EXPECT_EQ(gone.status().message(), "Registered model alias champion not found.");
  ASSERT_TRUE(service_->DeleteRegisteredModelAlias(Scope(kTenant), "m", "champion").ok())
      << "deleting an unknown alias changes nothing";
  EXPECT_EQ(service_->GetModelVersionByAlias(Scope(kTenant), "nope", "champion").status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, AliasRulesAreEnforced) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  for (std::string_view reserved : {"latest", "Latest", "v1", "V2", "bad alias", ""}) {
    EXPECT_EQ(service_->SetRegisteredModelAlias(Scope(kTenant), "m", reserved, "1").code(),
              StatusCode::kInvalidArgument)
        << reserved;
  }
  EXPECT_EQ(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "a", "one").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "a", "9").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->SetRegisteredModelAlias(Scope(kTenant), "nope", "a", "1").code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, DeletedVersionsLoseTheirAliasesAndCannotTakeNewOnes) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  MustVersion("m", "s3://b/2");
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "champion", "1").ok());
  ASSERT_TRUE(service_->DeleteModelVersion(Scope(kTenant), "m", "1").ok());
  EXPECT_EQ(service_->GetModelVersionByAlias(Scope(kTenant), "m", "champion").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->GetRegisteredModel(Scope(kTenant), "m")->aliases.empty());
  EXPECT_EQ(service_->SetRegisteredModelAlias(Scope(kTenant), "m", "champion", "1").code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, StagesWithArchiveExistingAndLatestVersions) {
  MustCreateModel("m");
  for (int i = 1; i <= 4; ++i) MustVersion("m", "s3://b/" + std::to_string(i));
  ASSERT_TRUE(
      service_->TransitionModelVersionStage(Scope(kTenant), "m", "1", "production", false).ok());
  ASSERT_TRUE(
      service_->TransitionModelVersionStage(Scope(kTenant), "m", "2", "Production", false).ok());
  ASSERT_TRUE(
      service_->TransitionModelVersionStage(Scope(kTenant), "m", "3", "Staging", false).ok());

  auto latest = service_->GetLatestVersions(Scope(kTenant), "m", {"Production"});
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].version, 2);

  auto all = service_->GetLatestVersions(Scope(kTenant), "m", {});
  ASSERT_TRUE(all.ok());
  std::set<std::pair<int64_t, ModelStage>> got;
  for (const auto& v : *all) got.emplace(v.version, v.current_stage);
  EXPECT_EQ(got,
            (std::set<std::pair<int64_t, ModelStage>>{
                {2, ModelStage::kProduction}, {3, ModelStage::kStaging}, {4, ModelStage::kNone}}));

  auto moved = service_->TransitionModelVersionStage(Scope(kTenant), "m", "4", "Production", true);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->current_stage, ModelStage::kProduction);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "1")->current_stage,
            ModelStage::kArchived);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "2")->current_stage,
            ModelStage::kArchived);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "3")->current_stage,
            ModelStage::kStaging);

  EXPECT_EQ(service_->TransitionModelVersionStage(Scope(kTenant), "m", "1", "prod", false)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->GetLatestVersions(Scope(kTenant), "m", {"Nope"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->GetLatestVersions(Scope(kTenant), "missing", {}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, SearchWithPromptExclusionKeepsModelsWithoutTheTag) {
  MustCreateModel("plain");
  ASSERT_TRUE(service_
                  ->CreateRegisteredModel(Scope(kTenant, "alice"), "prompt", "",
                                          {{"mlflow.prompt.is_prompt", "true"}})
                  .ok());
  ASSERT_TRUE(service_
                  ->CreateRegisteredModel(Scope(kTenant, "alice"), "not-prompt", "",
                                          {{"mlflow.prompt.is_prompt", "false"}})
                  .ok());
  metadata::SearchRegisteredModelsQuery q;
  auto f = filter::ParseFilter("tag.`mlflow.prompt.is_prompt` != 'true'",
                               filter::SearchKind::kRegisteredModels);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  q.filter = *f;
  auto page = service_->SearchRegisteredModels(Scope(kTenant), q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> names;
  for (const auto& m : page->items) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"not-prompt", "plain"}));

  q.page.max_results = 1001;
  EXPECT_EQ(service_->SearchRegisteredModels(Scope(kTenant), q).status().code(),
            StatusCode::kInvalidArgument);
  q.page.max_results = 0;
  EXPECT_EQ(service_->SearchRegisteredModels(Scope(kTenant), q).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceStoreTest, RunsSourceNeedsItsRunIdAndIsKeptAsSent) {
  MakeRun(kRunA);
  MustCreateModel("m");
  const std::string source = "runs:/" + std::string(kRunA) + "/model";
  EXPECT_EQ(NewVersion("m", source).status().code(), StatusCode::kInvalidArgument)
      << "MLflow needs the run_id of a runs:/ source";
  EXPECT_EQ(NewVersion("m", source, std::string(kRunB)).status().code(),
            StatusCode::kInvalidArgument);
  auto v = NewVersion("m", source, std::string(kRunA));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->source, source);
  EXPECT_EQ(v->run_id, kRunA);
  EXPECT_EQ(v->storage_location, "mlflow-artifacts:/0/" + std::string(kRunA) + "/artifacts/model")
      << "Cairn reads the files from the run's artifacts";
  EXPECT_EQ(*service_->GetModelVersionDownloadUri(Scope(kTenant), "m", "1"), source)
      << "MLflow answers the source";

  // A run kept elsewhere is not looked up, and neither is the run of a remote source.
  const std::string remote = "runs:/" + std::string(kRunB) + "/model";
  auto elsewhere = NewVersion("m", remote, std::string(kRunB));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString();
  EXPECT_EQ(elsewhere->storage_location, remote);
  EXPECT_TRUE(NewVersion("m", "s3://b/x", std::string(kRunB)).ok());
  EXPECT_EQ(
      NewVersion("m", "runs:/" + std::string(kRunA) + "/../x", std::string(kRunA)).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceStoreTest, LoggedModelSourceNeedsItsModelIdAndTagsTheModel) {
  MakeRun(kRunA);
  MakeLoggedModel("m-0123", "model", kRunA);
  MustCreateModel("m");
  EXPECT_EQ(NewVersion("m", "models:/m-0123").status().code(), StatusCode::kInvalidArgument)
      << "MLflow needs the model_id of a models:/<model_id> source";
  metadata::CreateModelVersionRequest r;
  r.name = "m";
  r.source = "models:/m-0123";
  r.model_id = "m-0123";
  auto v = service_->CreateModelVersion(Scope(kTenant, "alice"), r);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->model_id, "m-0123");
  EXPECT_EQ(v->run_id, kRunA);
  EXPECT_EQ(*service_->GetModelVersionDownloadUri(Scope(kTenant), "m", "1"),
            "mlflow-artifacts:/0/models/m-0123/artifacts");
  r.source = "s3://b/copy";
  ASSERT_TRUE(service_->CreateModelVersion(Scope(kTenant, "alice"), r).ok());
  auto model = stores_.tracking->GetLoggedModel(kTenant, "m-0123", false);
  ASSERT_TRUE(model.ok());
  std::string tag;
  for (const auto& t : model->tags) {
    if (t.key == "mlflow.modelVersions") tag = t.value;
  }
  EXPECT_EQ(tag, R"([{"name": "m", "version": 1}, {"name": "m", "version": 2}])");

  r.model_id = "m-missing";
  r.source = "models:/m-missing";
  EXPECT_EQ(service_->CreateModelVersion(Scope(kTenant, "alice"), r).status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, RegisteredModelSourcesArePinnedAndResolveThroughTheRegistry) {
  MakeRun(kRunA);
  MustCreateModel("base");
  const std::string source = "runs:/" + std::string(kRunA) + "/model";
  MustVersion("base", source);
  ASSERT_TRUE(service_->SetRegisteredModelAlias(Scope(kTenant), "base", "champion", "1").ok());
  MustCreateModel("copy");
  std::string expected = "mlflow-artifacts:/0/" + std::string(kRunA) + "/artifacts/model";
  auto first = MustVersion("copy", "models:/base/1");
  EXPECT_EQ(first.storage_location, expected);
  EXPECT_EQ(first.run_id, kRunA) << "inherited from the version the source names";
  auto by_alias = MustVersion("copy", "models:/base@champion");
  EXPECT_EQ(by_alias.source, "models:/base/1") << "pinned to the version, as MLflow does";
  EXPECT_EQ(by_alias.storage_location, expected);
  EXPECT_EQ(MustVersion("copy", "models:/base/latest/MLmodel").storage_location,
            expected + "/MLmodel");
  EXPECT_EQ(*service_->GetModelVersionDownloadUri(Scope(kTenant), "copy", "2"), source);
  EXPECT_EQ(NewVersion("copy", "models:/base/1", std::string(kRunB)).status().code(),
            StatusCode::kInvalidArgument)
      << "a given run_id must match the referenced version's";
  EXPECT_EQ(NewVersion("copy", "models:/base@nope").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewVersion("copy", "models:/base/7").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(NewVersion("copy", "models:/base/Production").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(NewVersion("copy", "models:/base/bogus").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceStoreTest, SourceValidationRejectsTraversalAndForeignLocalPaths) {
  MustCreateModel("m");
  for (std::string bad :
       {"s3://bucket/../x", "mlflow-artifacts:/0/%2e%2e/%2e%2e/other", "s3://b/a%2f..%2fb",
        "s3://b/a%00b", "/etc/passwd", "file:///etc/passwd", "relative/dir"}) {
    EXPECT_EQ(NewVersion("m", bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  MakeRun(kRunA);  // remote artifact URI: local sources stay rejected even with the run
  EXPECT_EQ(NewVersion("m", "/tmp/model", std::string(kRunA)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NewVersion("m", "s3://b/x", "bad id!").status().code(), StatusCode::kInvalidArgument);
  auto versions = service_->SearchModelVersions(Scope(kTenant), {});
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->items.empty());
}

TEST_F(RegistryServiceStoreTest, LocalSourceIsAcceptedInsideALocalRunDirectory) {
  std::string root = (dir_ / "local-runs" / std::string(kRunB) / "artifacts").string();
  MakeRun(kRunB, root);
  MustCreateModel("m");
  auto inside = NewVersion("m", root + "/model", std::string(kRunB));
  ASSERT_TRUE(inside.ok()) << inside.status().ToString();
  EXPECT_EQ(inside->storage_location, root + "/model");
  EXPECT_TRUE(NewVersion("m", "file://" + root + "/model", std::string(kRunB)).ok());
  EXPECT_EQ(NewVersion("m", root + "/../../elsewhere", std::string(kRunB)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NewVersion("m", root + "/model").status().code(), StatusCode::kInvalidArgument)
      << "without run_id a local path is never trusted";
}

TEST_F(RegistryServiceStoreTest, TenantsAreIsolated) {
  MustCreateModel("shared", kTenant);
  MustCreateModel("shared", kOtherTenant);
  MustVersion("shared", "s3://a/1", kTenant);
  MustVersion("shared", "s3://a/2", kTenant);
  EXPECT_EQ(MustVersion("shared", "s3://b/1", kOtherTenant).version, 1);
  EXPECT_EQ(*service_->GetModelVersionDownloadUri(Scope(kOtherTenant), "shared", "1"), "s3://b/1");
  EXPECT_EQ(service_->GetModelVersion(Scope(kOtherTenant), "shared", "2").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(service_->DeleteRegisteredModel(Scope(kTenant), "shared").ok());
  EXPECT_TRUE(service_->GetRegisteredModel(Scope(kOtherTenant), "shared").ok());

  MakeRun(kRunA, "", kTenant);
  const std::string source = "runs:/" + std::string(kRunA) + "/model";
  auto foreign = NewVersion("shared", source, std::string(kRunA), kOtherTenant);
  ASSERT_TRUE(foreign.ok()) << foreign.status().ToString();
  EXPECT_EQ(foreign->storage_location, source) << "another tenant's run is invisible";
}

TEST_F(RegistryServiceStoreTest, RegisterFromARunPrefersTheLoggedModelOfThatName) {
  MakeRun(kRunA);
  MakeLoggedModel("m-aaa", "model", kRunA);
  MakeLoggedModel("m-bbb", "other", kRunA);
  ASSERT_TRUE(stores_.tracking->LogOutputs(kTenant, kRunA, {{"m-aaa", 0}, {"m-bbb", 0}}).ok());
  RegisterRequest r;
  r.name = "reg";
  r.source.run_id = std::string(kRunA);
  r.source.artifact_path = "model";
  r.tags = {{"k", "v"}};
  auto v = service_->Register(Scope(kTenant, "alice"), r);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, 1);
  EXPECT_EQ(v->source, "models:/m-aaa");
  EXPECT_EQ(v->model_id, "m-aaa");
  EXPECT_EQ(v->run_id, kRunA);
  EXPECT_EQ(v->storage_location, "mlflow-artifacts:/0/models/m-aaa/artifacts");
  EXPECT_EQ(v->tags, (std::vector<metadata::Tag>{{"k", "v"}}));

  r.source.artifact_path = "plain-dir";
  auto plain = service_->Register(Scope(kTenant, "alice"), r);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->version, 2) << "the existing model is reused";
  EXPECT_EQ(plain->source, "runs:/" + std::string(kRunA) + "/plain-dir");
  EXPECT_EQ(plain->storage_location,
            "mlflow-artifacts:/0/" + std::string(kRunA) + "/artifacts/plain-dir");
}

TEST_F(RegistryServiceStoreTest, RegisterFromLoggedModelOrUri) {
  MakeRun(kRunA);
  MakeLoggedModel("m-aaa", "model", kRunA);
  RegisterRequest from_model;
  from_model.name = "a";
  from_model.source.logged_model_id = "m-aaa";
  auto v = service_->Register(Scope(kTenant, "alice"), from_model);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->source, "models:/m-aaa");
  EXPECT_EQ(v->run_id, kRunA);

  RegisterRequest from_uri;
  from_uri.name = "b";
  from_uri.source.artifact_uri = "s3://bucket/model";
  auto u = service_->Register(Scope(kTenant, "alice"), from_uri);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->source, "s3://bucket/model");
  EXPECT_EQ(u->storage_location, "s3://bucket/model");
}

TEST_F(RegistryServiceStoreTest, RegisterNeedsExactlyOneValidSourceAndLeavesNothingOnError) {
  RegisterRequest none;
  none.name = "x";
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), none).status().code(),
            StatusCode::kInvalidArgument);
  RegisterRequest two = none;
  two.source.artifact_uri = "s3://b/x";
  two.source.logged_model_id = "m-1";
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), two).status().code(),
            StatusCode::kInvalidArgument);
  RegisterRequest run_only = none;
  run_only.source.run_id = std::string(kRunA);
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), run_only).status().code(),
            StatusCode::kInvalidArgument);

  RegisterRequest missing_run = none;
  missing_run.source.run_id = std::string(kRunB);
  missing_run.source.artifact_path = "model";
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), missing_run).status().code(),
            StatusCode::kNotFound);
  RegisterRequest traversal = none;
  traversal.source.artifact_uri = "s3://b/../../x";
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), traversal).status().code(),
            StatusCode::kInvalidArgument);
  RegisterRequest missing_model = none;
  missing_model.source.logged_model_id = "m-missing";
  EXPECT_EQ(service_->Register(Scope(kTenant, "alice"), missing_model).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "x").status().code(),
            StatusCode::kNotFound)
      << "a failed register must not leave an empty model behind";
}

TEST_F(RegistryServiceStoreTest, PromoteToStageAndAliasRecordsThePrincipal) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  MustVersion("m", "s3://b/2");
  auto first =
      service_->Promote(Scope(kTenant, "alice"), "m", "1", "Production", std::nullopt, false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->principal, "alice");
  EXPECT_EQ(first->target, "stage:Production");
  auto second =
      service_->Promote(Scope(kTenant, "bob"), "m", "2", "production", std::nullopt, true);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->previous_version, 1);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "1")->current_stage,
            ModelStage::kArchived);
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "2")->current_stage,
            ModelStage::kProduction);

  auto alias =
      service_->Promote(Scope(kTenant, "carol"), "m", "1", std::nullopt, "champion", false);
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->target, "alias:champion");
  EXPECT_EQ(service_->GetModelVersionByAlias(Scope(kTenant), "m", "champion")->version, 1);

  EXPECT_EQ(service_->Promote(Scope(kTenant, "a"), "m", "1", "Staging", "x", false).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Promote(Scope(kTenant, "a"), "m", "1", std::nullopt, std::nullopt, false)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      service_->Promote(Scope(kTenant, "a"), "m", "1", "Prod", std::nullopt, false).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Promote(Scope(kTenant, "a"), "m", "1", std::nullopt, "latest", false)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Promote(Scope(kTenant, "a"), "m", "9", "Staging", std::nullopt, false)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryServiceStoreTest, DeleteVersionAndArtifactsNeverTakesARunsOrLoggedModelsFiles) {
  MakeRun(kRunA);
  MakeLoggedModel("m-0123", "lm", kRunA);
  std::string run_dir = "0/" + std::string(kRunA) + "/artifacts";
  std::string model_dir = "0/models/m-0123/artifacts";
  WriteFile(run_dir + "/model/MLmodel", "flavors: {}");
  WriteFile(run_dir + "/notes.txt", "1");
  WriteFile(model_dir + "/MLmodel", "flavors: {}");
  MustCreateModel("m");
  MustVersion("m", "runs:/" + std::string(kRunA) + "/model");
  MustVersion("m", "models:/m-0123");
  MustVersion("m", "mlflow-artifacts:/0/" + std::string(kRunA) + "/artifacts/model");
  MustVersion("m", "runs:/" + std::string(kRunA) + "/");  // the whole run directory

  for (std::string_view v : {"1", "2", "3", "4"}) {
    ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "m", v, *artifacts_).ok()) << v;
    EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", v).status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_TRUE(FileExists(run_dir + "/model/MLmodel")) << "the run owns its artifacts";
  EXPECT_TRUE(FileExists(run_dir + "/notes.txt"));
  EXPECT_TRUE(FileExists(model_dir + "/MLmodel")) << "the logged model owns its artifacts";
}

TEST_F(RegistryServiceStoreTest, DeleteVersionAndArtifactsSparesEveryExperimentsTree) {
  // A deleted experiment keeps its runs (they can be restored), so its tree is spared too.
  auto deleted = stores_.tracking->CreateExperiment(kTenant, "old", "mlflow-artifacts:/90/old",
                                                    "mlflow-artifacts:", {}, 1);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  ASSERT_TRUE(stores_.tracking->DeleteExperiment(kTenant, *deleted, 2).ok());
  ASSERT_TRUE(stores_.tracking
                  ->CreateExperiment(kTenant, "team", "mlflow-artifacts:/91/a/exp",
                                     "mlflow-artifacts:", {}, 3)
                  .ok());
  WriteFile("90/old/r1/artifacts/model/MLmodel", "x");
  WriteFile("91/a/exp/r2/artifacts/model/MLmodel", "x");
  WriteFile("91/a/notes.txt", "x");
  MustCreateModel("m");
  MustVersion("m", "mlflow-artifacts:/90/old/r1/artifacts/model");  // inside a deleted one
  MustVersion("m", "mlflow-artifacts:/91/a");                       // around an experiment
  MustVersion("m", "mlflow-artifacts:/0");                          // an experiment's root
  for (std::string_view v : {"1", "2", "3"}) {
    ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "m", v, *artifacts_).ok()) << v;
    EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", v).status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_TRUE(FileExists("90/old/r1/artifacts/model/MLmodel"));
  EXPECT_TRUE(FileExists("91/a/exp/r2/artifacts/model/MLmodel"));
  EXPECT_TRUE(FileExists("91/a/notes.txt"));
}

TEST_F(RegistryServiceStoreTest, DeleteVersionAndArtifactsSparesAllOfAnExperimentAtTheTop) {
  ASSERT_TRUE(
      stores_.tracking
          ->CreateExperiment(kTenant, "top", "mlflow-artifacts:/", "mlflow-artifacts:", {}, 1)
          .ok());
  WriteFile("92/churn/v1/MLmodel", "x");
  MustCreateModel("m");
  MustVersion("m", "mlflow-artifacts:/92/churn/v1");
  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "m", "1", *artifacts_).ok());
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "m", "1").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(FileExists("92/churn/v1/MLmodel"));
}

TEST_F(RegistryServiceStoreTest, DeleteVersionAndArtifactsDeletesFilesNothingElseOwns) {
  // Files uploaded to the artifact service outside every experiment's tree belong to the
  // versions that use them; they go with the last of those versions.
  std::string dir = "92/churn/v1";
  WriteFile(dir + "/MLmodel", "flavors: {}");
  WriteFile(dir + "/weights/w.bin", "w");
  WriteFile("92/churn/readme.txt", "keep");
  MustCreateModel("a");
  MustCreateModel("b");
  MustVersion("a", "mlflow-artifacts:/92/churn/v1");
  MustVersion("b", "mlflow-artifacts:/92/churn/v1/weights");  // inside version a/1's

  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "a", "1", *artifacts_).ok());
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "a", "1").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(FileExists(dir + "/MLmodel")) << "b/1 uses a directory inside";
  EXPECT_TRUE(FileExists(dir + "/weights/w.bin"));

  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "b", "1", *artifacts_).ok());
  EXPECT_FALSE(FileExists(dir + "/weights/w.bin"));
  EXPECT_TRUE(FileExists(dir + "/MLmodel")) << "only the version's own directory goes";
  EXPECT_TRUE(FileExists("92/churn/readme.txt"));

  // A version whose files lie outside the artifact service keeps nothing from being deleted.
  MustVersion("a", "s3://bucket/model");
  MustVersion("a", "mlflow-artifacts:/92/churn/v1");
  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "a", "2", *artifacts_).ok());
  EXPECT_EQ(service_->GetModelVersion(Scope(kTenant), "a", "2").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "a", "3", *artifacts_).ok());
  EXPECT_FALSE(FileExists(dir + "/MLmodel"));
  EXPECT_TRUE(FileExists("92/churn/readme.txt"));
}

TEST_F(RegistryServiceStoreTest, DeleteVersionAndArtifactsLooksOnlyAtTheTenantsExperiments) {
  // Another tenant's experiment at the same relative location owns nothing here.
  ASSERT_TRUE(stores_.tracking
                  ->CreateExperiment(kOtherTenant, "e", "mlflow-artifacts:/92/x",
                                     "mlflow-artifacts:", {}, 1)
                  .ok());
  WriteFile("92/x/MLmodel", "x");
  WriteFile("other/registry/x/r/artifacts/f", "x");
  MustCreateModel("m");
  MustVersion("m", "mlflow-artifacts:/92/x");
  ASSERT_TRUE(service_->DeleteVersionAndArtifacts(Scope(kTenant), "m", "1", *artifacts_).ok());
  EXPECT_FALSE(FileExists("92/x/MLmodel"));
  EXPECT_TRUE(FileExists("other/registry/x/r/artifacts/f"));
}

TEST_F(RegistryServiceStoreTest, DeletionGuardCanRefuse) {
  MustCreateModel("m");
  MustVersion("m", "s3://b/1");
  MustVersion("m", "s3://b/2");
  std::vector<int64_t> asked;
  service_->SetDeletionGuard([&asked](std::string_view tenant, const metadata::ModelVersion& v) {
    EXPECT_EQ(tenant, kTenant);
    asked.push_back(v.version);
    if (v.version == 1) return FailedPrecondition("version 1 is deployed");
    return Status::Ok();
  });
  EXPECT_EQ(service_->DeleteModelVersion(Scope(kTenant), "m", "1").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->DeleteVersionAndArtifacts(Scope(kTenant), "m", "1", *artifacts_).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->DeleteRegisteredModel(Scope(kTenant), "m").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(service_->GetModelVersion(Scope(kTenant), "m", "1").ok());
  EXPECT_TRUE(service_->GetModelVersion(Scope(kTenant), "m", "2").ok());
  ASSERT_TRUE(service_->DeleteModelVersion(Scope(kTenant), "m", "2").ok());
  EXPECT_FALSE(asked.empty());

  service_->SetDeletionGuard(nullptr);
  EXPECT_TRUE(service_->DeleteRegisteredModel(Scope(kTenant), "m").ok());
}

TEST_F(RegistryServiceStoreTest, LineageFollowsTheLoggedModelToItsRun) {
  MakeRun(kRunA);
  ASSERT_TRUE(
      stores_.tracking->LogBatch(kTenant, kRunA, {{"rmse", 0.5, 1, 0}}, {{"alpha", "0.1"}}, {})
          .ok());
  MakeLoggedModel("m-aaa", "model", kRunA);
  MustCreateModel("m");
  metadata::CreateModelVersionRequest r;
  r.name = "m";
  r.source = "s3://b/x";
  r.model_id = "m-aaa";
  ASSERT_TRUE(service_->CreateModelVersion(Scope(kTenant, "alice"), r).ok());
  auto lineage = service_->GetLineage(Scope(kTenant), "m", "1");
  ASSERT_TRUE(lineage.ok()) << lineage.status().ToString();
  EXPECT_EQ(lineage->version.version, 1);
  ASSERT_TRUE(lineage->logged_model.has_value());
  EXPECT_EQ(lineage->logged_model->model_id, "m-aaa");
  ASSERT_TRUE(lineage->run.has_value());
  EXPECT_EQ(lineage->run->info.run_id, kRunA);
  ASSERT_EQ(lineage->run->params.size(), 1u);
  EXPECT_EQ(lineage->run->params[0].key, "alpha");
  ASSERT_TRUE(lineage->experiment.has_value());
  EXPECT_EQ(lineage->experiment->experiment_id, "0");

  MustVersion("m", "s3://b/y");
  auto bare = service_->GetLineage(Scope(kTenant), "m", "2");
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->run.has_value());
  EXPECT_FALSE(bare->logged_model.has_value());
  EXPECT_FALSE(bare->experiment.has_value());
}

TEST_F(RegistryServiceStoreTest, PromptVersionsKeepTheirPlaceholderSource) {
  ASSERT_TRUE(service_
                  ->CreateRegisteredModel(Scope(kTenant, "alice"), "greeting", "",
                                          {{"mlflow.prompt.is_prompt", "true"}})
                  .ok());
  metadata::CreateModelVersionRequest r;
  r.name = "greeting";
  r.source = "dummy-source";
  r.tags = {{"mlflow.prompt.is_prompt", "true"}, {"mlflow.prompt.text", "Hello {{name}}"}};
  auto v = service_->CreateModelVersion(Scope(kTenant, "alice"), r);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->source, "dummy-source");
  r.tags.clear();
  EXPECT_EQ(service_->CreateModelVersion(Scope(kTenant, "alice"), r).status().code(),
            StatusCode::kInvalidArgument)
      << "without the prompt tag the same source is a local path";
}

// Fails version creation as a broken database would, after the model was created.
class FailingVersionStore : public metadata::RegistryStoreWrapper {
 public:
  using RegistryStoreWrapper::RegistryStoreWrapper;
  StatusOr<metadata::ModelVersion> CreateModelVersion(std::string_view,
                                                      const metadata::CreateModelVersionRequest&,
                                                      int64_t) override {
    return Unavailable("disk gone");
  }
};

TEST_F(RegistryServiceStoreTest, RegisterRemovesTheModelItCreatedWhenTheVersionFails) {
  FailingVersionStore failing(*stores_.registry);
  RegistryService service(failing, *stores_.tracking, clock_);
  RegisterRequest r;
  r.name = "fresh";
  r.source.artifact_uri = "s3://bucket/model";
  EXPECT_EQ(service.Register(Scope(kTenant, "alice"), r).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(service_->GetRegisteredModel(Scope(kTenant), "fresh").status().code(),
            StatusCode::kNotFound);

  MustCreateModel("existing");
  r.name = "existing";
  EXPECT_EQ(service.Register(Scope(kTenant, "alice"), r).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(service_->GetRegisteredModel(Scope(kTenant), "existing").ok())
      << "a model that existed before is left alone";
}

}  // namespace
}  // namespace cairn::registry
