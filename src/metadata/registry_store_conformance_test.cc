// The RegistryStore conformance suite, part 1: models, versions, stages, aliases and promotions.
// Every metadata backend must pass it (backends in metadata_store_test_backends.h; helpers and
// fixture in registry_store_conformance.h; part 2 in registry_store_search_conformance_test.cc).

#include "metadata/registry_store_conformance.h"

namespace cairn::metadata {
namespace {

TEST_P(RegistryStoreConformanceTest, CreateAndGetRegisteredModel) {
  ASSERT_OK_AND_ASSIGN(
      RegisteredModel created,
      store().CreateRegisteredModel(kTenant, "churn", "predicts churn",
                                    {{"team", "growth"}, {"b", "1"}}, "alice", 5000));
  EXPECT_EQ(created.name, "churn");
  EXPECT_EQ(created.description, "predicts churn");
  EXPECT_EQ(created.user_id, "alice");
  EXPECT_EQ(created.creation_timestamp, 5000);
  EXPECT_EQ(created.last_updated_timestamp, 5000);
  EXPECT_EQ(created.tags, (std::vector<Tag>{{"b", "1"}, {"team", "growth"}}));
  EXPECT_TRUE(created.aliases.empty());
  EXPECT_TRUE(created.latest_versions.empty());

  RegisteredModel got = MustGetModel("churn");
  EXPECT_EQ(got.name, "churn");
  EXPECT_EQ(got.description, "predicts churn");
  EXPECT_EQ(got.creation_timestamp, 5000);
  EXPECT_EQ(got.tags, created.tags);

  ExpectStatus(store().GetRegisteredModel(kTenant, "nope").status(), StatusCode::kNotFound,
               "Registered Model with name=nope not found");
  // Names are case-sensitive.
  EXPECT_EQ(store().GetRegisteredModel(kTenant, "Churn").status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformanceTest, DuplicateNameIsAlreadyExistsAndChangesNothing) {
  ASSERT_OK(store().CreateRegisteredModel(kTenant, "m", "first", {{"k", "1"}}, "alice", 100));
  auto again = store().CreateRegisteredModel(kTenant, "m", "second", {{"k", "2"}}, "bob", 200);
  ExpectStatus(again.status(), StatusCode::kAlreadyExists,
               "Registered Model (name=m) already exists.");
  RegisteredModel m = MustGetModel("m");
  EXPECT_EQ(m.description, "first");
  EXPECT_EQ(m.user_id, "alice");
  EXPECT_EQ(m.last_updated_timestamp, 100);
  EXPECT_EQ(m.tags, (std::vector<Tag>{{"k", "1"}}));
}

TEST_P(RegistryStoreConformanceTest, UpdateRegisteredModel) {
  ASSERT_OK(store().CreateRegisteredModel(kTenant, "m", "old", {}, "alice", 100));
  ASSERT_OK_AND_ASSIGN(RegisteredModel updated,
                       store().UpdateRegisteredModel(kTenant, "m", "new", 300));
  EXPECT_EQ(updated.description, "new");
  EXPECT_EQ(updated.creation_timestamp, 100);
  EXPECT_EQ(updated.last_updated_timestamp, 300);
  // No description: nothing changes.
  ASSERT_OK_AND_ASSIGN(updated, store().UpdateRegisteredModel(kTenant, "m", std::nullopt, 400));
  EXPECT_EQ(updated.description, "new");
  EXPECT_EQ(updated.last_updated_timestamp, 300);
  ASSERT_OK_AND_ASSIGN(updated, store().UpdateRegisteredModel(kTenant, "m", "", 500));
  EXPECT_EQ(updated.description, "");
  ExpectStatus(store().UpdateRegisteredModel(kTenant, "nope", "x", 1).status(),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
}

TEST_P(RegistryStoreConformanceTest, RenameMovesVersionsTagsAliasesAndPromotions) {
  NewModel("old", kTenant, {{"team", "a"}});
  NewVersion("old", kTenant, "run1", {{"v", "1"}});
  NewVersion("old", kTenant, "run2", {{"v", "2"}});
  NewVersion("old");
  ASSERT_OK(store().DeleteModelVersion(kTenant, "old", 3, Now()));
  Transition("old", 2, ModelStage::kProduction);
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "old", "champion", 2, Now()));
  RegistryStore::PromoteRequest promote{
      .name = "old", .version = 1, .alias = "challenger", .principal = "carol"};
  ASSERT_OK(store().PromoteModelVersion(kTenant, promote, Now()));

  int64_t rename_time = Now();
  ASSERT_OK_AND_ASSIGN(RegisteredModel renamed,
                       store().RenameRegisteredModel(kTenant, "old", "new", rename_time));
  EXPECT_EQ(renamed.name, "new");
  EXPECT_EQ(renamed.last_updated_timestamp, rename_time);
  EXPECT_EQ(renamed.tags, (std::vector<Tag>{{"team", "a"}}));
  ASSERT_EQ(renamed.aliases.size(), 2u);
  EXPECT_EQ(renamed.aliases[0].alias, "challenger");
  EXPECT_EQ(renamed.aliases[0].version, 1);
  EXPECT_EQ(renamed.aliases[1].alias, "champion");
  EXPECT_EQ(renamed.aliases[1].version, 2);
  EXPECT_EQ(Ids(renamed.latest_versions), (std::vector<std::string>{"new/1", "new/2"}));

  EXPECT_EQ(store().GetRegisteredModel(kTenant, "old").status().code(), StatusCode::kNotFound);
  ExpectStatus(store().GetModelVersion(kTenant, "old", 1).status(), StatusCode::kNotFound,
               "Model Version (name=old, version=1) not found");
  ModelVersion v1 = MustGetVersion("new", 1);
  EXPECT_EQ(v1.name, "new");
  EXPECT_EQ(v1.run_id, "run1");
  EXPECT_EQ(v1.tags, (std::vector<Tag>{{"v", "1"}}));
  EXPECT_EQ(v1.aliases, (std::vector<std::string>{"challenger"}));
  EXPECT_EQ(v1.last_updated_timestamp, rename_time);
  ASSERT_OK_AND_ASSIGN(ModelVersion champion,
                       store().GetModelVersionByAlias(kTenant, "new", "champion"));
  EXPECT_EQ(champion.version, 2);
  EXPECT_EQ(champion.current_stage, ModelStage::kProduction);
  EXPECT_EQ(Targets(Promotions("new")), (std::vector<std::string>{"1->alias:challenger"}));
  EXPECT_EQ(Promotions("new")[0].name, "new");
  // The deleted version 3 moved too: numbering continues after it.
  EXPECT_EQ(NewVersion("new"), 4);
  EXPECT_EQ(Ids(SearchVersions(F({Attr("name", Comparator::kEq, "new")}),
                               {{Entity::kAttribute, "version_number", true}})),
            (std::vector<std::string>{"new/1", "new/2", "new/4"}));
  EXPECT_TRUE(SearchVersions(F({Attr("name", Comparator::kEq, "old")})).empty());
  // The old name is free again and starts from scratch.
  NewModel("old");
  EXPECT_EQ(NewVersion("old"), 1);
  EXPECT_TRUE(MustGetModel("old").aliases.empty());
  EXPECT_TRUE(Promotions("old").empty());
}

TEST_P(RegistryStoreConformanceTest, RenameCollisionsAndMissingModels) {
  NewModel("a");
  NewVersion("a");
  NewModel("b");
  NewVersion("b");
  NewVersion("b");
  ExpectStatus(store().RenameRegisteredModel(kTenant, "a", "b", Now()).status(),
               StatusCode::kAlreadyExists, "Registered Model (name=b) already exists.");
  EXPECT_EQ(MustGetModel("a").latest_versions.size(), 1u);
  EXPECT_EQ(Numbers(SearchVersions(F({Attr("name", Comparator::kEq, "b")}))),
            (std::vector<int64_t>{2, 1}));
  ExpectStatus(store().RenameRegisteredModel(kTenant, "nope", "c", Now()).status(),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
  // Renaming to its own name is allowed.
  ASSERT_OK(store().RenameRegisteredModel(kTenant, "a", "a", Now()));
  EXPECT_EQ(MustGetVersion("a", 1).name, "a");
}

TEST_P(RegistryStoreConformanceTest, DeleteRegisteredModelRemovesEverything) {
  NewModel("m", kTenant, {{"k", "v"}});
  NewVersion("m", kTenant, "r", {{"vk", "vv"}});
  NewVersion("m");
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 1, Now()));
  RegistryStore::PromoteRequest promote{
      .name = "m", .version = 2, .stage = ModelStage::kProduction, .principal = "p"};
  ASSERT_OK(store().PromoteModelVersion(kTenant, promote, Now()));

  ASSERT_OK(store().DeleteRegisteredModel(kTenant, "m"));
  EXPECT_EQ(store().GetRegisteredModel(kTenant, "m").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().GetModelVersion(kTenant, "m", 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(SearchVersions({}).empty());
  EXPECT_TRUE(SearchModels({}).empty());
  EXPECT_EQ(store().ListPromotions(kTenant, "m", std::nullopt).status().code(),
            StatusCode::kNotFound);
  ExpectStatus(store().DeleteRegisteredModel(kTenant, "m"), StatusCode::kNotFound,
               "Registered Model with name=m not found");

  // A new model of the same name inherits nothing.
  NewModel("m");
  EXPECT_EQ(NewVersion("m"), 1);
  RegisteredModel fresh = MustGetModel("m");
  EXPECT_TRUE(fresh.tags.empty());
  EXPECT_TRUE(fresh.aliases.empty());
  EXPECT_TRUE(MustGetVersion("m", 1).tags.empty());
  EXPECT_TRUE(Promotions("m").empty());
}

TEST_P(RegistryStoreConformanceTest, RegisteredModelTags) {
  NewModel("m");
  ASSERT_OK(store().SetRegisteredModelTag(kTenant, "m", {"k", "1"}, Now()));
  ASSERT_OK(store().SetRegisteredModelTag(kTenant, "m", {"k", "2"}, Now()));
  ASSERT_OK(store().SetRegisteredModelTag(kTenant, "m", {"empty", ""}, Now()));
  EXPECT_EQ(MustGetModel("m").tags, (std::vector<Tag>{{"empty", ""}, {"k", "2"}}));
  ASSERT_OK(store().DeleteRegisteredModelTag(kTenant, "m", "k"));
  EXPECT_EQ(MustGetModel("m").tags, (std::vector<Tag>{{"empty", ""}}));
  EXPECT_EQ(store().DeleteRegisteredModelTag(kTenant, "m", "k").code(), StatusCode::kNotFound);
  ExpectStatus(store().SetRegisteredModelTag(kTenant, "nope", {"k", "v"}, Now()),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
  ExpectStatus(store().DeleteRegisteredModelTag(kTenant, "nope", "k"), StatusCode::kNotFound,
               "Registered Model with name=nope not found");
}

// ---------------------------------------------------------------------------------------------
// Model versions

TEST_P(RegistryStoreConformanceTest, CreateModelVersionStoresEveryField) {
  NewModel("m");
  CreateModelVersionRequest request;
  request.name = "m";
  request.source = "models:/m-0123";
  request.storage_location = "file:///artifacts/1/models/m-0123/artifacts";
  request.run_id = "abc";
  request.run_link = "http://runs/abc";
  request.model_id = "m-0123";
  request.description = "first";
  request.user_id = "bob";
  request.tags = {{"b", "2"}, {"a", "1"}};
  ASSERT_OK_AND_ASSIGN(ModelVersion created, store().CreateModelVersion(kTenant, request, 7000));
  EXPECT_EQ(created.name, "m");
  EXPECT_EQ(created.version, 1);
  EXPECT_EQ(created.creation_timestamp, 7000);
  EXPECT_EQ(created.last_updated_timestamp, 7000);
  EXPECT_EQ(created.user_id, "bob");
  EXPECT_EQ(created.current_stage, ModelStage::kNone);
  EXPECT_EQ(created.description, "first");
  EXPECT_EQ(created.source, request.source);
  EXPECT_EQ(created.storage_location, request.storage_location);
  EXPECT_EQ(created.run_id, "abc");
  EXPECT_EQ(created.run_link, "http://runs/abc");
  EXPECT_EQ(created.model_id, "m-0123");
  EXPECT_EQ(created.status, ModelVersionStatus::kReady);
  EXPECT_EQ(created.status_message, "");
  EXPECT_EQ(created.tags, (std::vector<Tag>{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(created.aliases.empty());

  ModelVersion got = MustGetVersion("m", 1);
  EXPECT_EQ(got.source, request.source);
  EXPECT_EQ(got.tags, created.tags);
  // Registering a version updates the model.
  EXPECT_EQ(MustGetModel("m").last_updated_timestamp, 7000);

  ExpectStatus(store().CreateModelVersion(kTenant, Request("nope"), Now()).status(),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
  ExpectStatus(store().GetModelVersion(kTenant, "m", 2).status(), StatusCode::kNotFound,
               "Model Version (name=m, version=2) not found");
}

TEST_P(RegistryStoreConformanceTest, VersionNumbersCountDeletedVersions) {
  NewModel("m");
  EXPECT_EQ(NewVersion("m"), 1);
  EXPECT_EQ(NewVersion("m"), 2);
  EXPECT_EQ(NewVersion("m"), 3);
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 3, Now()));
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 2, Now()));
  EXPECT_EQ(NewVersion("m"), 4);
  ExpectStatus(store().GetModelVersion(kTenant, "m", 3).status(), StatusCode::kNotFound,
               "Model Version (name=m, version=3) not found");
  ExpectStatus(store().DeleteModelVersion(kTenant, "m", 3, Now()), StatusCode::kNotFound,
               "Model Version (name=m, version=3) not found");
  EXPECT_EQ(store().DeleteModelVersion(kTenant, "m", 99, Now()).code(), StatusCode::kNotFound);
  // Numbers are per model.
  NewModel("other");
  EXPECT_EQ(NewVersion("other"), 1);
}

TEST_P(RegistryStoreConformanceTest, UpdateModelVersion) {
  NewModel("m");
  NewVersion("m");
  ASSERT_OK_AND_ASSIGN(ModelVersion updated,
                       store().UpdateModelVersion(kTenant, "m", 1, "better", 9000));
  EXPECT_EQ(updated.description, "better");
  EXPECT_EQ(updated.last_updated_timestamp, 9000);
  ASSERT_OK_AND_ASSIGN(updated, store().UpdateModelVersion(kTenant, "m", 1, std::nullopt, 9500));
  EXPECT_EQ(updated.description, "better");
  EXPECT_EQ(updated.last_updated_timestamp, 9000);
  EXPECT_EQ(MustGetVersion("m", 1).description, "better");
  ExpectStatus(store().UpdateModelVersion(kTenant, "m", 2, "x", 1).status(), StatusCode::kNotFound,
               "Model Version (name=m, version=2) not found");
}

TEST_P(RegistryStoreConformanceTest, ModelVersionTags) {
  NewModel("m");
  NewVersion("m");
  ASSERT_OK(store().SetModelVersionTag(kTenant, "m", 1, {"k", "1"}, Now()));
  ASSERT_OK(store().SetModelVersionTag(kTenant, "m", 1, {"k", "2"}, Now()));
  ASSERT_OK(store().SetModelVersionTag(kTenant, "m", 1, {"a", ""}, Now()));
  EXPECT_EQ(MustGetVersion("m", 1).tags, (std::vector<Tag>{{"a", ""}, {"k", "2"}}));
  ASSERT_OK(store().DeleteModelVersionTag(kTenant, "m", 1, "k"));
  EXPECT_EQ(MustGetVersion("m", 1).tags, (std::vector<Tag>{{"a", ""}}));
  EXPECT_EQ(store().DeleteModelVersionTag(kTenant, "m", 1, "k").code(), StatusCode::kNotFound);
  ExpectStatus(store().SetModelVersionTag(kTenant, "m", 5, {"k", "v"}, Now()),
               StatusCode::kNotFound, "Model Version (name=m, version=5) not found");
  ExpectStatus(store().DeleteModelVersionTag(kTenant, "m", 5, "a"), StatusCode::kNotFound,
               "Model Version (name=m, version=5) not found");
}

TEST_P(RegistryStoreConformanceTest, DeletedVersionDisappearsEverywhere) {
  NewModel("m");
  NewVersion("m", kTenant, "r1", {{"k", "v"}});
  NewVersion("m", kTenant, "r2", {{"k", "v"}});
  Transition("m", 1, ModelStage::kProduction);
  Transition("m", 2, ModelStage::kProduction);
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 2, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "also", 2, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "old", 1, Now()));

  int64_t delete_time = Now();
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 2, delete_time));
  EXPECT_EQ(store().GetModelVersion(kTenant, "m", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Numbers(SearchVersions({})), (std::vector<int64_t>{1}));
  EXPECT_EQ(Numbers(SearchVersions(F({TagClause("k", Comparator::kEq, "v")}))),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(Numbers(SearchVersions(F({Attr("run_id", Comparator::kEq, "r2")}))),
            (std::vector<int64_t>{}));
  // Latest falls back to the older version in the stage.
  ASSERT_OK_AND_ASSIGN(auto latest,
                       store().GetLatestVersions(kTenant, "m", {ModelStage::kProduction}));
  EXPECT_EQ(Numbers(latest), (std::vector<int64_t>{1}));
  RegisteredModel m = MustGetModel("m");
  EXPECT_EQ(Numbers(m.latest_versions), (std::vector<int64_t>{1}));
  EXPECT_EQ(m.last_updated_timestamp, delete_time);
  // Its aliases are gone; others stay.
  ASSERT_EQ(m.aliases.size(), 1u);
  EXPECT_EQ(m.aliases[0].alias, "old");
  ExpectStatus(store().GetModelVersionByAlias(kTenant, "m", "champion").status(),
               StatusCode::kNotFound, "Registered model alias champion not found.");
  // Writes to it are NOT_FOUND.
  EXPECT_EQ(store().SetModelVersionTag(kTenant, "m", 2, {"a", "b"}, Now()).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store()
                .TransitionModelVersionStage(kTenant, "m", 2, ModelStage::kStaging, false, Now())
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().UpdateModelVersion(kTenant, "m", 2, "d", Now()).status().code(),
            StatusCode::kNotFound);
  ExpectStatus(store().SetRegisteredModelAlias(kTenant, "m", "champion", 2, Now()),
               StatusCode::kNotFound, "Model Version (name=m, version=2) not found");
}

// ---------------------------------------------------------------------------------------------
// Stages

TEST_P(RegistryStoreConformanceTest, TransitionWithAndWithoutArchivingExisting) {
  NewModel("m");
  for (int i = 0; i < 5; ++i) NewVersion("m");
  Transition("m", 1, ModelStage::kStaging);
  Transition("m", 2, ModelStage::kStaging);
  Transition("m", 3, ModelStage::kProduction);
  EXPECT_EQ(StageOf("m", 1), ModelStage::kStaging);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kStaging);

  int64_t when = Now();
  ASSERT_OK_AND_ASSIGN(ModelVersion moved, store().TransitionModelVersionStage(
                                               kTenant, "m", 4, ModelStage::kStaging, true, when));
  EXPECT_EQ(moved.current_stage, ModelStage::kStaging);
  EXPECT_EQ(moved.last_updated_timestamp, when);
  // Only versions in the target stage are archived.
  EXPECT_EQ(StageOf("m", 1), ModelStage::kArchived);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kArchived);
  EXPECT_EQ(MustGetVersion("m", 1).last_updated_timestamp, when);
  EXPECT_EQ(StageOf("m", 3), ModelStage::kProduction);
  EXPECT_EQ(StageOf("m", 5), ModelStage::kNone);
  EXPECT_EQ(MustGetModel("m").last_updated_timestamp, when);

  ASSERT_OK(
      store().TransitionModelVersionStage(kTenant, "m", 5, ModelStage::kProduction, true, Now()));
  EXPECT_EQ(StageOf("m", 3), ModelStage::kArchived);
  EXPECT_EQ(StageOf("m", 4), ModelStage::kStaging);

  // Archiving is only for Staging and Production; nothing changes on the error.
  for (ModelStage stage : {ModelStage::kNone, ModelStage::kArchived}) {
    EXPECT_EQ(
        store().TransitionModelVersionStage(kTenant, "m", 4, stage, true, Now()).status().code(),
        StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(StageOf("m", 4), ModelStage::kStaging);
  // Back to None without archiving.
  Transition("m", 4, ModelStage::kNone);
  EXPECT_EQ(StageOf("m", 4), ModelStage::kNone);
  ExpectStatus(store()
                   .TransitionModelVersionStage(kTenant, "m", 9, ModelStage::kStaging, false, Now())
                   .status(),
               StatusCode::kNotFound, "Model Version (name=m, version=9) not found");
}

TEST_P(RegistryStoreConformanceTest, LatestVersionsPerStage) {
  NewModel("m");
  for (int i = 0; i < 7; ++i) NewVersion("m");
  Transition("m", 1, ModelStage::kProduction);
  Transition("m", 2, ModelStage::kStaging);
  Transition("m", 3, ModelStage::kProduction);
  Transition("m", 5, ModelStage::kArchived);
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 7, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "prod", 3, Now()));
  ASSERT_OK(store().SetModelVersionTag(kTenant, "m", 3, {"k", "v"}, Now()));
  // None: 4, 6 (7 deleted); Staging: 2; Production: 1, 3; Archived: 5.

  ASSERT_OK_AND_ASSIGN(auto all, store().GetLatestVersions(kTenant, "m", {}));
  EXPECT_EQ(Numbers(all), (std::vector<int64_t>{6, 2, 3, 5}));
  EXPECT_EQ(Stages(all), (std::vector<ModelStage>{ModelStage::kNone, ModelStage::kStaging,
                                                  ModelStage::kProduction, ModelStage::kArchived}));
  EXPECT_EQ(all[2].aliases, (std::vector<std::string>{"prod"}));
  EXPECT_EQ(all[2].tags, (std::vector<Tag>{{"k", "v"}}));

  ASSERT_OK_AND_ASSIGN(
      auto some,
      store().GetLatestVersions(
          kTenant, "m", {ModelStage::kProduction, ModelStage::kNone, ModelStage::kProduction}));
  EXPECT_EQ(Numbers(some), (std::vector<int64_t>{3, 6}));

  Transition("m", 2, ModelStage::kNone);
  ASSERT_OK_AND_ASSIGN(auto staging,
                       store().GetLatestVersions(kTenant, "m", {ModelStage::kStaging}));
  EXPECT_TRUE(staging.empty());

  RegisteredModel model = MustGetModel("m");
  EXPECT_EQ(Numbers(model.latest_versions), (std::vector<int64_t>{6, 3, 5}));
  EXPECT_EQ(model.latest_versions[1].aliases, (std::vector<std::string>{"prod"}));

  ExpectStatus(store().GetLatestVersions(kTenant, "nope", {}).status(), StatusCode::kNotFound,
               "Registered Model with name=nope not found");
  NewModel("empty");
  ASSERT_OK_AND_ASSIGN(auto none, store().GetLatestVersions(kTenant, "empty", {}));
  EXPECT_TRUE(none.empty());
}

// ---------------------------------------------------------------------------------------------
// Aliases

TEST_P(RegistryStoreConformanceTest, AliasesPointMoveAndDelete) {
  NewModel("m");
  NewVersion("m");
  NewVersion("m");
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 1, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "challenger", 2, Now()));
  ASSERT_OK_AND_ASSIGN(ModelVersion champion,
                       store().GetModelVersionByAlias(kTenant, "m", "champion"));
  EXPECT_EQ(champion.version, 1);
  EXPECT_EQ(champion.aliases, (std::vector<std::string>{"champion"}));

  // Moving an alias.
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 2, Now()));
  ASSERT_OK_AND_ASSIGN(champion, store().GetModelVersionByAlias(kTenant, "m", "champion"));
  EXPECT_EQ(champion.version, 2);
  EXPECT_EQ(champion.aliases, (std::vector<std::string>{"challenger", "champion"}));
  EXPECT_TRUE(MustGetVersion("m", 1).aliases.empty());
  RegisteredModel m = MustGetModel("m");
  ASSERT_EQ(m.aliases.size(), 2u);
  EXPECT_EQ(m.aliases[0].alias, "challenger");
  EXPECT_EQ(m.aliases[1].alias, "champion");
  EXPECT_EQ(m.aliases[1].version, 2);

  ASSERT_OK(store().DeleteRegisteredModelAlias(kTenant, "m", "champion"));
  ExpectStatus(store().GetModelVersionByAlias(kTenant, "m", "champion").status(),
               StatusCode::kNotFound, "Registered model alias champion not found.");
  EXPECT_EQ(MustGetVersion("m", 2).aliases, (std::vector<std::string>{"challenger"}));
  // Deleting an absent alias is fine; an absent model is not.
  ASSERT_OK(store().DeleteRegisteredModelAlias(kTenant, "m", "champion"));
  ExpectStatus(store().DeleteRegisteredModelAlias(kTenant, "nope", "champion"),
               StatusCode::kNotFound, "Registered Model with name=nope not found");

  ExpectStatus(store().SetRegisteredModelAlias(kTenant, "m", "x", 3, Now()), StatusCode::kNotFound,
               "Model Version (name=m, version=3) not found");
  ExpectStatus(store().SetRegisteredModelAlias(kTenant, "nope", "x", 1, Now()),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
  EXPECT_EQ(store().GetModelVersionByAlias(kTenant, "nope", "x").status().code(),
            StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Promotions

TEST_P(RegistryStoreConformanceTest, PromoteToStage) {
  NewModel("m");
  for (int i = 0; i < 3; ++i) NewVersion("m");
  RegistryStore::PromoteRequest request{
      .name = "m", .version = 1, .stage = ModelStage::kProduction, .principal = "alice"};
  ASSERT_OK_AND_ASSIGN(PromotionRecord first, store().PromoteModelVersion(kTenant, request, 100));
  EXPECT_EQ(first.name, "m");
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.target, "stage:Production");
  EXPECT_EQ(first.principal, "alice");
  EXPECT_EQ(first.timestamp, 100);
  EXPECT_EQ(first.previous_version, std::nullopt);
  EXPECT_EQ(StageOf("m", 1), ModelStage::kProduction);

  // Archiving the previous holder.
  request.version = 2;
  request.archive_previous = true;
  request.principal = "bob";
  ASSERT_OK_AND_ASSIGN(PromotionRecord second, store().PromoteModelVersion(kTenant, request, 200));
  EXPECT_EQ(second.previous_version, 1);
  EXPECT_EQ(StageOf("m", 1), ModelStage::kArchived);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kProduction);

  // Without archiving, the previous holder keeps the stage.
  request.version = 3;
  request.archive_previous = false;
  ASSERT_OK_AND_ASSIGN(PromotionRecord third, store().PromoteModelVersion(kTenant, request, 300));
  EXPECT_EQ(third.previous_version, 2);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kProduction);
  EXPECT_EQ(StageOf("m", 3), ModelStage::kProduction);
  EXPECT_EQ(MustGetModel("m").last_updated_timestamp, 300);

  std::vector<PromotionRecord> records = Promotions("m");
  EXPECT_EQ(Targets(records),
            (std::vector<std::string>{"1->stage:Production", "2->stage:Production",
                                      "3->stage:Production"}));
  EXPECT_EQ(records[1].principal, "bob");
  EXPECT_EQ(records[1].timestamp, 200);
  EXPECT_EQ(records[1].previous_version, 1);
  EXPECT_EQ(records[0].previous_version, std::nullopt);
  EXPECT_EQ(Targets(Promotions("m", 2)), (std::vector<std::string>{"2->stage:Production"}));
  EXPECT_TRUE(Promotions("m", 7).empty());
}

TEST_P(RegistryStoreConformanceTest, PromoteToAlias) {
  NewModel("m");
  for (int i = 0; i < 3; ++i) NewVersion("m");
  Transition("m", 1, ModelStage::kProduction);
  RegistryStore::PromoteRequest request{
      .name = "m", .version = 1, .alias = "champion", .principal = "alice"};
  ASSERT_OK_AND_ASSIGN(PromotionRecord first, store().PromoteModelVersion(kTenant, request, 100));
  EXPECT_EQ(first.target, "alias:champion");
  EXPECT_EQ(first.previous_version, std::nullopt);
  ASSERT_OK_AND_ASSIGN(ModelVersion held, store().GetModelVersionByAlias(kTenant, "m", "champion"));
  EXPECT_EQ(held.version, 1);

  request.version = 2;
  request.archive_previous = true;
  ASSERT_OK_AND_ASSIGN(PromotionRecord second, store().PromoteModelVersion(kTenant, request, 200));
  EXPECT_EQ(second.previous_version, 1);
  ASSERT_OK_AND_ASSIGN(held, store().GetModelVersionByAlias(kTenant, "m", "champion"));
  EXPECT_EQ(held.version, 2);
  EXPECT_EQ(held.current_stage, ModelStage::kNone);  // an alias does not change the stage
  EXPECT_EQ(StageOf("m", 1), ModelStage::kArchived);
  EXPECT_TRUE(MustGetVersion("m", 1).aliases.empty());

  // Promoting the holder again: no previous holder, nothing archived.
  ASSERT_OK_AND_ASSIGN(PromotionRecord again, store().PromoteModelVersion(kTenant, request, 300));
  EXPECT_EQ(again.previous_version, std::nullopt);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kNone);

  // Without archiving, the previous holder keeps its stage.
  Transition("m", 2, ModelStage::kStaging);
  request.version = 3;
  request.archive_previous = false;
  ASSERT_OK_AND_ASSIGN(PromotionRecord fourth, store().PromoteModelVersion(kTenant, request, 400));
  EXPECT_EQ(fourth.previous_version, 2);
  EXPECT_EQ(StageOf("m", 2), ModelStage::kStaging);

  EXPECT_EQ(Targets(Promotions("m")),
            (std::vector<std::string>{"1->alias:champion", "2->alias:champion", "2->alias:champion",
                                      "3->alias:champion"}));
}

TEST_P(RegistryStoreConformanceTest, FailedPromotionChangesNothing) {
  NewModel("m");
  NewVersion("m");
  NewVersion("m");
  Transition("m", 1, ModelStage::kProduction);
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 1, Now()));
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 2, Now()));
  int64_t updated = MustGetModel("m").last_updated_timestamp;

  RegistryStore::PromoteRequest to_stage{.name = "m",
                                         .version = 9,
                                         .stage = ModelStage::kProduction,
                                         .archive_previous = true,
                                         .principal = "p"};
  ExpectStatus(store().PromoteModelVersion(kTenant, to_stage, Now()).status(),
               StatusCode::kNotFound, "Model Version (name=m, version=9) not found");
  to_stage.version = 2;  // deleted
  EXPECT_EQ(store().PromoteModelVersion(kTenant, to_stage, Now()).status().code(),
            StatusCode::kNotFound);
  RegistryStore::PromoteRequest to_alias{
      .name = "m", .version = 2, .alias = "champion", .archive_previous = true, .principal = "p"};
  EXPECT_EQ(store().PromoteModelVersion(kTenant, to_alias, Now()).status().code(),
            StatusCode::kNotFound);
  RegistryStore::PromoteRequest missing_model{
      .name = "nope", .version = 1, .stage = ModelStage::kStaging, .principal = "p"};
  ExpectStatus(store().PromoteModelVersion(kTenant, missing_model, Now()).status(),
               StatusCode::kNotFound, "Registered Model with name=nope not found");

  // Malformed requests.
  RegistryStore::PromoteRequest both{
      .name = "m", .version = 1, .stage = ModelStage::kStaging, .alias = "a", .principal = "p"};
  EXPECT_EQ(store().PromoteModelVersion(kTenant, both, Now()).status().code(),
            StatusCode::kInvalidArgument);
  RegistryStore::PromoteRequest neither{.name = "m", .version = 1, .principal = "p"};
  EXPECT_EQ(store().PromoteModelVersion(kTenant, neither, Now()).status().code(),
            StatusCode::kInvalidArgument);
  RegistryStore::PromoteRequest archive_none{.name = "m",
                                             .version = 1,
                                             .stage = ModelStage::kNone,
                                             .archive_previous = true,
                                             .principal = "p"};
  EXPECT_EQ(store().PromoteModelVersion(kTenant, archive_none, Now()).status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_TRUE(Promotions("m").empty());
  EXPECT_EQ(StageOf("m", 1), ModelStage::kProduction);
  ASSERT_OK_AND_ASSIGN(ModelVersion champion,
                       store().GetModelVersionByAlias(kTenant, "m", "champion"));
  EXPECT_EQ(champion.version, 1);
  EXPECT_EQ(MustGetModel("m").last_updated_timestamp, updated);
  ExpectStatus(store().ListPromotions(kTenant, "nope", std::nullopt).status(),
               StatusCode::kNotFound, "Registered Model with name=nope not found");
}

// ---------------------------------------------------------------------------------------------
// Searching registered models

TEST_P(RegistryStoreConformanceTest, ImportRegisteredModelKeepsNumbersStagesAliasesAndTimes) {
  RegisteredModelImport in;
  in.model.name = "imported";
  in.model.creation_timestamp = 5;
  in.model.last_updated_timestamp = 50;
  in.model.user_id = "u";
  in.model.description = "d";
  in.model.tags = {{"k", "v"}};
  in.model.aliases = {{"champion", 3}};
  for (int64_t n : {1, 2, 3}) {
    ImportedModelVersion v;
    v.version.name = "imported";
    v.version.version = n;
    v.version.creation_timestamp = 10 * n;
    v.version.last_updated_timestamp = 10 * n + 1;
    v.version.source = "models:/m-" + std::to_string(n);
    v.version.storage_location = "mlflow-artifacts:/1/models/m-" + std::to_string(n);
    v.version.current_stage = n == 3 ? ModelStage::kProduction : ModelStage::kNone;
    v.version.tags = {{"n", std::to_string(n)}};
    v.deleted = n == 2;
    in.versions.push_back(v);
  }
  ASSERT_OK(store().ImportRegisteredModel(kTenant, in));
  ASSERT_OK_AND_ASSIGN(RegisteredModel got, store().GetRegisteredModel(kTenant, "imported"));
  EXPECT_EQ(got.creation_timestamp, 5);
  EXPECT_EQ(got.last_updated_timestamp, 50);
  EXPECT_EQ(got.description, "d");
  EXPECT_EQ(got.tags, (std::vector<Tag>{{"k", "v"}}));
  ASSERT_EQ(got.aliases.size(), 1u);
  EXPECT_EQ(got.aliases[0].version, 3);
  ModelVersion v3 = MustGetVersion("imported", 3);
  EXPECT_EQ(v3.current_stage, ModelStage::kProduction);
  EXPECT_EQ(v3.creation_timestamp, 30);
  EXPECT_EQ(v3.storage_location, "mlflow-artifacts:/1/models/m-3");
  EXPECT_EQ(v3.tags, (std::vector<Tag>{{"n", "3"}}));
  EXPECT_EQ(store().GetModelVersion(kTenant, "imported", 2).status().code(), StatusCode::kNotFound);
  // The deleted number stays taken.
  EXPECT_EQ(NewVersion("imported"), 4);
  EXPECT_EQ(store().ImportRegisteredModel(kTenant, in).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().GetRegisteredModel(kOtherTenant, "imported").status().code(),
            StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformanceTest, ImportRegisteredModelRefusesAliasesOfDeadVersions) {
  RegisteredModelImport in;
  in.model.name = "bad";
  in.model.aliases = {{"a", 2}};
  ImportedModelVersion v;
  v.version.name = "bad";
  v.version.version = 1;
  in.versions = {v};
  EXPECT_EQ(store().ImportRegisteredModel(kTenant, in).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store().GetRegisteredModel(kTenant, "bad").status().code(), StatusCode::kNotFound);
  in.model.aliases.clear();
  in.versions[0].version.version = 0;
  EXPECT_EQ(store().ImportRegisteredModel(kTenant, in).code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
