// The RegistryStore conformance suite, part 2: searches of models and versions, tenant isolation,
// concurrency and durability (helpers and fixture in registry_store_conformance.h).

#include "metadata/registry_store_conformance.h"

namespace cairn::metadata {
namespace {

class SearchRegisteredModelsTest : public RegistryStoreConformanceTest {
 protected:
  void SetUp() override {
    RegistryStoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // name            created  tags
    // alpha           t+10     team=core
    // Beta            t+20     team=Core, mlflow.prompt.is_prompt=false
    // gamma-prompt    t+30     mlflow.prompt.is_prompt=true
    // delta           t+40     (none)
    NewModel("alpha", kTenant, {{"team", "core"}});
    NewModel("Beta", kTenant, {{"team", "Core"}, {std::string(kPromptTag), "false"}});
    NewModel("gamma-prompt", kTenant, {{std::string(kPromptTag), "true"}});
    NewModel("delta");
  }
};

TEST_P(SearchRegisteredModelsTest, DefaultOrderIsNameAscending) {
  EXPECT_EQ(Names(SearchModels({})),
            (std::vector<std::string>{"Beta", "alpha", "delta", "gamma-prompt"}));
}

TEST_P(SearchRegisteredModelsTest, NameFilters) {
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kEq, "alpha")}))),
            (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kNe, "alpha")}))),
            (std::vector<std::string>{"Beta", "delta", "gamma-prompt"}));
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kLike, "%a")}))),
            (std::vector<std::string>{"Beta", "alpha", "delta"}));
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kLike, "b%")}))),
            (std::vector<std::string>{}));
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kILike, "b%")}))),
            (std::vector<std::string>{"Beta"}));
  EXPECT_EQ(Names(SearchModels(F({Attr("name", Comparator::kLike, "_elta")}))),
            (std::vector<std::string>{"delta"}));
}

TEST_P(SearchRegisteredModelsTest, TagFilters) {
  EXPECT_EQ(Names(SearchModels(F({TagClause("team", Comparator::kEq, "core")}))),
            (std::vector<std::string>{"alpha"}));
  // A plain `!=` needs the tag.
  EXPECT_EQ(Names(SearchModels(F({TagClause("team", Comparator::kNe, "core")}))),
            (std::vector<std::string>{"Beta"}));
  EXPECT_EQ(Names(SearchModels(F({TagClause("team", Comparator::kLike, "c%")}))),
            (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(Names(SearchModels(F({TagClause("team", Comparator::kILike, "c%")}))),
            (std::vector<std::string>{"Beta", "alpha"}));
  EXPECT_EQ(Names(SearchModels(F({TagClause("missing", Comparator::kEq, "x")}))),
            (std::vector<std::string>{}));
  EXPECT_EQ(Names(SearchModels(F({TagClause("team", Comparator::kILike, "core"),
                                  Attr("name", Comparator::kLike, "a%")}))),
            (std::vector<std::string>{"alpha"}));
}

TEST_P(SearchRegisteredModelsTest, PromptExclusionMatchesModelsWithoutTheTag) {
  EXPECT_EQ(Names(SearchModels(F({TagClause(std::string(kPromptTag), Comparator::kNe, "true")}))),
            (std::vector<std::string>{"Beta", "alpha", "delta"}));
  // As the client sends it, ANDed onto a user filter.
  ASSERT_OK_AND_ASSIGN(
      filter::Filter parsed,
      filter::ParseFilter("name ILIKE '%A%' AND tag.`mlflow.prompt.is_prompt` != 'true'",
                          filter::SearchKind::kRegisteredModels));
  EXPECT_EQ(Names(SearchModels(parsed)), (std::vector<std::string>{"Beta", "alpha", "delta"}));
  // Prompts themselves.
  EXPECT_EQ(Names(SearchModels(F({TagClause(std::string(kPromptTag), Comparator::kEq, "true")}))),
            (std::vector<std::string>{"gamma-prompt"}));
  // Any other `!=` on the prompt tag still needs the tag.
  EXPECT_EQ(Names(SearchModels(F({TagClause(std::string(kPromptTag), Comparator::kNe, "false")}))),
            (std::vector<std::string>{"gamma-prompt"}));
}

TEST_P(SearchRegisteredModelsTest, OrderByWithNameTieBreaker) {
  using filter::OrderBy;
  EXPECT_EQ(Names(SearchModels({}, {{Entity::kAttribute, "creation_timestamp", false}})),
            (std::vector<std::string>{"delta", "gamma-prompt", "Beta", "alpha"}));
  EXPECT_EQ(Names(SearchModels({}, {{Entity::kAttribute, "name", false}})),
            (std::vector<std::string>{"gamma-prompt", "delta", "alpha", "Beta"}));
  // Equal timestamps fall back to name ASC, whatever the direction.
  ASSERT_OK(store().UpdateRegisteredModel(kTenant, "delta", "d", 5));
  ASSERT_OK(store().UpdateRegisteredModel(kTenant, "alpha", "a", 5));
  EXPECT_EQ(Names(SearchModels({}, {{Entity::kAttribute, "last_updated_timestamp", true}})),
            (std::vector<std::string>{"alpha", "delta", "Beta", "gamma-prompt"}));
  EXPECT_EQ(Names(SearchModels({}, {{Entity::kAttribute, "last_updated_timestamp", false}})),
            (std::vector<std::string>{"gamma-prompt", "Beta", "alpha", "delta"}));
  ASSERT_OK_AND_ASSIGN(OrderBy parsed, filter::ParseOrderBy("timestamp DESC",
                                                            filter::SearchKind::kRegisteredModels));
  EXPECT_EQ(Names(SearchModels({}, {parsed})),
            (std::vector<std::string>{"gamma-prompt", "Beta", "alpha", "delta"}));
}

TEST_P(SearchRegisteredModelsTest, PagesWithHasMoreAndCarriesChildren) {
  NewVersion("alpha");
  NewVersion("alpha");
  Transition("alpha", 2, ModelStage::kProduction);
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "alpha", "champion", 2, Now()));
  NewVersion("delta");

  SearchRegisteredModelsQuery query;
  query.page.max_results = 3;
  ASSERT_OK_AND_ASSIGN(auto first, store().SearchRegisteredModels(kTenant, query));
  EXPECT_EQ(Names(first.items), (std::vector<std::string>{"Beta", "alpha", "delta"}));
  EXPECT_TRUE(first.has_more);
  query.page.offset = 3;
  ASSERT_OK_AND_ASSIGN(auto second, store().SearchRegisteredModels(kTenant, query));
  EXPECT_EQ(Names(second.items), (std::vector<std::string>{"gamma-prompt"}));
  EXPECT_FALSE(second.has_more);
  query.page = {.max_results = 4, .offset = 0};
  ASSERT_OK_AND_ASSIGN(auto exact, store().SearchRegisteredModels(kTenant, query));
  EXPECT_EQ(exact.items.size(), 4u);
  EXPECT_FALSE(exact.has_more);

  const RegisteredModel& beta = first.items[0];
  EXPECT_EQ(FindTag(beta.tags, "team"), "Core");
  EXPECT_TRUE(beta.latest_versions.empty());
  const RegisteredModel& alpha = first.items[1];
  EXPECT_EQ(alpha.tags, (std::vector<Tag>{{"team", "core"}}));
  ASSERT_EQ(alpha.aliases.size(), 1u);
  EXPECT_EQ(alpha.aliases[0].alias, "champion");
  EXPECT_EQ(Numbers(alpha.latest_versions), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(alpha.latest_versions[1].aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(Ids(first.items[2].latest_versions), (std::vector<std::string>{"delta/1"}));
}

TEST_P(SearchRegisteredModelsTest, InvalidFilterIsInvalidArgument) {
  SearchRegisteredModelsQuery query;
  query.filter = F({Attr("run_id", Comparator::kEq, "x")});
  EXPECT_EQ(store().SearchRegisteredModels(kTenant, query).status().code(),
            StatusCode::kInvalidArgument);
  query.filter = {};
  query.order_by = {{Entity::kAttribute, "nope", true}};
  EXPECT_EQ(store().SearchRegisteredModels(kTenant, query).status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Searching model versions

class SearchModelVersionsTest : public RegistryStoreConformanceTest {
 protected:
  void SetUp() override {
    RegistryStoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // a/1 run r1 src .../r1/model  env=prod   t+20
    // a/2 run r2                   env=dev    t+30
    // a/3 run r1                   (deleted)
    // b/1 run r3                   env=Prod   t+50
    // b/2 run r2                   (no tags)  t+60
    NewModel("a");
    NewModel("b");
    NewVersion("a", kTenant, "r1", {{"env", "prod"}});
    NewVersion("a", kTenant, "r2", {{"env", "dev"}});
    NewVersion("a", kTenant, "r1", {{"env", "prod"}});
    NewVersion("b", kTenant, "r3", {{"env", "Prod"}});
    NewVersion("b", kTenant, "r2");
    ASSERT_OK(store().DeleteModelVersion(kTenant, "a", 3, 1));
  }
};

TEST_P(SearchModelVersionsTest, DefaultOrderIsLastUpdatedDescending) {
  EXPECT_EQ(Ids(SearchVersions({})), (std::vector<std::string>{"b/2", "b/1", "a/2", "a/1"}));
  // Ties on the timestamp: name ASC, then version DESC.
  ASSERT_OK(store().UpdateModelVersion(kTenant, "a", 1, "x", 5));
  ASSERT_OK(store().UpdateModelVersion(kTenant, "a", 2, "x", 5));
  ASSERT_OK(store().UpdateModelVersion(kTenant, "b", 1, "x", 5));
  EXPECT_EQ(Ids(SearchVersions({})), (std::vector<std::string>{"b/2", "a/2", "a/1", "b/1"}));
}

TEST_P(SearchModelVersionsTest, AttributeFilters) {
  EXPECT_EQ(Ids(SearchVersions(F({Attr("name", Comparator::kEq, "a")}))),
            (std::vector<std::string>{"a/2", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("name", Comparator::kNe, "a")}))),
            (std::vector<std::string>{"b/2", "b/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("name", Comparator::kLike, "A")}))),
            (std::vector<std::string>{}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("name", Comparator::kILike, "A")}))),
            (std::vector<std::string>{"a/2", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("run_id", Comparator::kEq, "r1")}))),
            (std::vector<std::string>{"a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("run_id", Comparator::kNe, "r2")}))),
            (std::vector<std::string>{"b/1", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions(
                F({Attr("run_id", Comparator::kIn, std::vector<std::string>{"r1", "r3", "zz"})}))),
            (std::vector<std::string>{"b/1", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("source_path", Comparator::kEq,
                                       std::string("mlflow-artifacts:/1/r2/model"))}))),
            (std::vector<std::string>{"b/2", "a/2"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("source_path", Comparator::kLike, "%/r3/%")}))),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("source_path", Comparator::kILike, "MLFLOW%R1%")}))),
            (std::vector<std::string>{"a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("version_number", Comparator::kGt, 1.0)}))),
            (std::vector<std::string>{"b/2", "a/2"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("version_number", Comparator::kEq, 1.0),
                                  Attr("name", Comparator::kEq, "b")}))),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("version_number", Comparator::kGe, 3.0)}))),
            (std::vector<std::string>{}));  // a/3 is deleted
}

TEST_P(SearchModelVersionsTest, TagFilters) {
  EXPECT_EQ(Ids(SearchVersions(F({TagClause("env", Comparator::kEq, "prod")}))),
            (std::vector<std::string>{"a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({TagClause("env", Comparator::kNe, "prod")}))),
            (std::vector<std::string>{"b/1", "a/2"}));
  EXPECT_EQ(Ids(SearchVersions(F({TagClause("env", Comparator::kLike, "P%")}))),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({TagClause("env", Comparator::kILike, "p%")}))),
            (std::vector<std::string>{"b/1", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions(F({TagClause("env", Comparator::kILike, "p%"),
                                  Attr("run_id", Comparator::kEq, "r3")}))),
            (std::vector<std::string>{"b/1"}));
  ASSERT_OK_AND_ASSIGN(filter::Filter parsed,
                       filter::ParseFilter("tags.env = 'dev' AND name = 'a' AND run_id IN ('r2')",
                                           filter::SearchKind::kModelVersions));
  EXPECT_EQ(Ids(SearchVersions(parsed)), (std::vector<std::string>{"a/2"}));
}

TEST_P(SearchModelVersionsTest, OrderByAndPaging) {
  using filter::OrderBy;
  EXPECT_EQ(Ids(SearchVersions({}, {{Entity::kAttribute, "version_number", true}})),
            (std::vector<std::string>{"a/1", "b/1", "a/2", "b/2"}));
  EXPECT_EQ(Ids(SearchVersions({}, {{Entity::kAttribute, "name", false}})),
            (std::vector<std::string>{"b/2", "b/1", "a/2", "a/1"}));
  EXPECT_EQ(Ids(SearchVersions({}, {{Entity::kAttribute, "creation_timestamp", true}})),
            (std::vector<std::string>{"a/1", "a/2", "b/1", "b/2"}));

  SearchModelVersionsQuery query;
  query.page.max_results = 3;
  ASSERT_OK_AND_ASSIGN(auto first, store().SearchModelVersions(kTenant, query));
  EXPECT_EQ(Ids(first.items), (std::vector<std::string>{"b/2", "b/1", "a/2"}));
  EXPECT_TRUE(first.has_more);
  query.page.offset = 3;
  ASSERT_OK_AND_ASSIGN(auto second, store().SearchModelVersions(kTenant, query));
  EXPECT_EQ(Ids(second.items), (std::vector<std::string>{"a/1"}));
  EXPECT_FALSE(second.has_more);
  EXPECT_EQ(second.items[0].tags, (std::vector<Tag>{{"env", "prod"}}));

  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "b", "champion", 1, Now()));
  std::vector<ModelVersion> bs = SearchVersions(F({Attr("name", Comparator::kEq, "b")}));
  ASSERT_EQ(bs.size(), 2u);
  EXPECT_EQ(bs[1].aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(bs[1].tags, (std::vector<Tag>{{"env", "Prod"}}));
  EXPECT_TRUE(bs[0].tags.empty());

  query.page = {};
  query.filter = F({Attr("status", Comparator::kEq, "READY")});
  EXPECT_EQ(store().SearchModelVersions(kTenant, query).status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Tenants, concurrency, durability

TEST_P(RegistryStoreConformanceTest, TenantsAreIsolated) {
  NewModel("shared", kTenant, {{"owner", "acme"}});
  NewModel("shared", kOtherTenant, {{"owner", "globex"}});
  EXPECT_EQ(NewVersion("shared", kTenant, "r-acme"), 1);
  EXPECT_EQ(NewVersion("shared", kTenant, "r-acme"), 2);
  EXPECT_EQ(NewVersion("shared", kOtherTenant, "r-globex"), 1);
  NewModel("acme-only");
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "shared", "champion", 2, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kOtherTenant, "shared", "champion", 1, Now()));

  EXPECT_EQ(FindTag(MustGetModel("shared", kOtherTenant).tags, "owner"), "globex");
  EXPECT_EQ(MustGetVersion("shared", 1, kOtherTenant).run_id, "r-globex");
  EXPECT_EQ(store().GetModelVersion(kOtherTenant, "shared", 2).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().GetRegisteredModel(kOtherTenant, "acme-only").status().code(),
            StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(ModelVersion champion,
                       store().GetModelVersionByAlias(kOtherTenant, "shared", "champion"));
  EXPECT_EQ(champion.run_id, "r-globex");
  EXPECT_EQ(Names(SearchModels({}, {}, kOtherTenant)), (std::vector<std::string>{"shared"}));
  EXPECT_EQ(Ids(SearchVersions({}, {}, kOtherTenant)), (std::vector<std::string>{"shared/1"}));
  EXPECT_EQ(Names(SearchModels(F({TagClause("owner", Comparator::kEq, "acme")}), {}, kOtherTenant)),
            (std::vector<std::string>{}));
  EXPECT_EQ(Ids(SearchVersions(F({Attr("run_id", Comparator::kEq, "r-acme")}), {}, kOtherTenant)),
            (std::vector<std::string>{}));

  // Writes in one tenant leave the other alone.
  ASSERT_OK(store().RenameRegisteredModel(kTenant, "shared", "renamed", Now()));
  EXPECT_EQ(MustGetModel("shared", kOtherTenant).aliases.size(), 1u);
  ASSERT_OK(store().DeleteRegisteredModel(kOtherTenant, "shared"));
  EXPECT_EQ(MustGetVersion("renamed", 2).aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(Names(SearchModels({})), (std::vector<std::string>{"acme-only", "renamed"}));
  EXPECT_EQ(store().DeleteRegisteredModel(kOtherTenant, "renamed").code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformanceTest, ConcurrentVersionCreationHasNoGapsOrDuplicates) {
  NewModel("m");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto v =
            store().CreateModelVersion(kTenant, Request("m", "run" + std::to_string(t)), 1000 + i);
        if (!v.ok()) {
          ++failures;
          continue;
        }
        got[t].push_back(v->version);
        // Reads interleave with the writes.
        if (!store().GetModelVersion(kTenant, "m", v->version).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<int64_t> all;
  for (const auto& g : got) {
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
    all.insert(all.end(), g.begin(), g.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(kThreads * kPerThread);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(all, expected);
  SearchModelVersionsQuery query;
  query.filter = F({Attr("name", Comparator::kEq, "m")});
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchModelVersions(kTenant, query));
  EXPECT_EQ(page.items.size(), expected.size());
}

TEST_P(RegistryStoreConformanceTest, RegistrySurvivesReopen) {
  NewModel("m", kTenant, {{"k", "v"}});
  NewVersion("m", kTenant, "r", {{"vk", "vv"}});
  NewVersion("m");
  ASSERT_OK(store().DeleteModelVersion(kTenant, "m", 2, Now()));
  ASSERT_OK(store().SetRegisteredModelAlias(kTenant, "m", "champion", 1, Now()));
  RegistryStore::PromoteRequest promote{
      .name = "m", .version = 1, .stage = ModelStage::kStaging, .principal = "p"};
  ASSERT_OK(store().PromoteModelVersion(kTenant, promote, Now()));
  Reopen();
  ASSERT_NE(stores_.registry, nullptr);
  RegisteredModel m = MustGetModel("m");
  EXPECT_EQ(m.tags, (std::vector<Tag>{{"k", "v"}}));
  ASSERT_EQ(m.aliases.size(), 1u);
  EXPECT_EQ(Numbers(m.latest_versions), (std::vector<int64_t>{1}));
  EXPECT_EQ(m.latest_versions[0].current_stage, ModelStage::kStaging);
  EXPECT_EQ(MustGetVersion("m", 1).tags, (std::vector<Tag>{{"vk", "vv"}}));
  EXPECT_EQ(Targets(Promotions("m")), (std::vector<std::string>{"1->stage:Staging"}));
  EXPECT_EQ(NewVersion("m"), 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRegisteredModelsTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchModelVersionsTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
