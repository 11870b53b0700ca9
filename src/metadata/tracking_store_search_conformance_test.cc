// The TrackingStore conformance suite, part 2: searches, inputs and outputs, logged models,
// concurrency and durability (helpers and fixture in tracking_store_conformance.h).

#include "metadata/tracking_store_conformance.h"

namespace cairn::metadata {
namespace {

class SearchRunsTest : public TrackingStoreConformanceTest {
 protected:
  void SetUp() override {
    TrackingStoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    exp_ = NewExperiment("search");
    r1_ = NewRun(exp_, 1000, "alpha-run", "alice");
    r2_ = NewRun(exp_, 2000, "beta-run", "bob");
    r3_ = NewRun(exp_, 3000, "Gamma", "alice");
    r4_ = NewRun(exp_, 4000, "delta", "carol");
    NewRun("0", 5000, "elsewhere");
    ASSERT_OK(store().UpdateRun(kTenant, r1_, RunStatus::kFinished, 2500, std::nullopt));
    ASSERT_OK(store().UpdateRun(kTenant, r3_, RunStatus::kFailed, std::nullopt, std::nullopt));
    ASSERT_OK(store().LogBatch(kTenant, r1_, {M("acc", 0.9, 1), M("loss", 0.1, 1)},
                               {{"lr", "0.1"}, {"opt", "Adam"}}, {{"team", "Vision"}}));
    ASSERT_OK(store().LogBatch(kTenant, r2_, {M("acc", 0.5, 1)}, {{"lr", "0.01"}, {"opt", "adam"}},
                               {{"team", "nlp"}}));
    ASSERT_OK(store().LogBatch(kTenant, r3_, {M("acc", kNaN, 1)}, {{"lr", "0.1"}}, {}));
    ASSERT_OK(store().LogBatch(kTenant, r4_, {}, {}, {{"other", "x"}}));
    DatasetInput train;
    train.dataset = {"train-ds", "d1", "local", "/data/train", std::nullopt, std::nullopt};
    train.tags = {{"mlflow.data.context", "train"}};
    DatasetInput eval;
    eval.dataset = {"eval-ds", "d2", "local", "/data/eval", "{}", std::nullopt};
    eval.tags = {{"mlflow.data.context", "eval"}};
    ASSERT_OK(store().LogInputs(kTenant, r1_, {train}, {}));
    ASSERT_OK(store().LogInputs(kTenant, r2_, {eval}, {}));
  }

  std::vector<std::string> Search(std::vector<Clause> clauses,
                                  std::vector<filter::OrderBy> order_by = {},
                                  ViewType view_type = ViewType::kActiveOnly) {
    SearchRunsQuery query;
    query.experiment_ids = {exp_};
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order_by);
    query.view_type = view_type;
    auto page = store().SearchRuns(kTenant, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> names;
    if (page.ok()) {
      for (const metadata::Run& run : page->items) names.push_back(run.info.run_name);
    }
    return names;
  }

  std::vector<std::string> SearchText(std::string_view text) {
    auto f = filter::ParseFilter(text, filter::SearchKind::kRuns);
    EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
    if (!f.ok()) return {"<parse error>"};
    return Search(f->clauses);
  }

  using Names = std::vector<std::string>;
  std::string exp_, r1_, r2_, r3_, r4_;
};

TEST_P(SearchRunsTest, DefaultOrderIsStartTimeDescending) {
  EXPECT_EQ(Search({}), (Names{"delta", "Gamma", "beta-run", "alpha-run"}));
}

TEST_P(SearchRunsTest, MetricFiltersUseLatestValuesAndSkipNaN) {
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kGt, 0.6)}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kLe, 0.9)}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kEq, 0.5)}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kNe, 0.5)}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "loss", Comparator::kLt, 1.0)}), (Names{"alpha-run"}));
  EXPECT_TRUE(Search({C(Entity::kMetric, "nope", Comparator::kGt, -1e300)}).empty());
}

TEST_P(SearchRunsTest, ParamAndTagFilters) {
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kEq, "0.1")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kNe, "Adam")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kEq, "nlp")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kIsNull)}), (Names{"delta", "Gamma"}));
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kIsNotNull)}),
            (Names{"Gamma", "beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kIsNull)}), (Names{"delta"}));
}

TEST_P(SearchRunsTest, LikeIsCaseSensitiveAndILikeIsNot) {
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kLike, "A%")}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kILike, "a%")}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kLike, "vision")}), Names{});
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kILike, "VISION")}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "%-run")}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "gamma")}), Names{});
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kILike, "gamma")}),
            (Names{"Gamma"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "_eta-ru_")}),
            (Names{"beta-run"}));
}

TEST_P(SearchRunsTest, AttributeFilters) {
  EXPECT_EQ(Search({C(Entity::kAttribute, "status", Comparator::kEq, "FINISHED")}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "status", Comparator::kNe, "RUNNING")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "user_id", Comparator::kEq, "alice")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "start_time", Comparator::kGe, 2000.0),
                    C(Entity::kAttribute, "start_time", Comparator::kLt, 4000.0)}),
            (Names{"Gamma", "beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "end_time", Comparator::kGt, 0.0)}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "artifact_uri", Comparator::kLike, "%" + r2_)}),
            (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kIn, Names{r1_, r4_, "zzz"})}),
            (Names{"delta", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kNotIn, Names{r1_})}),
            (Names{"delta", "Gamma", "beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kEq, r3_)}), (Names{"Gamma"}));
}

TEST_P(SearchRunsTest, DatasetFilters) {
  EXPECT_EQ(Search({C(Entity::kDataset, "name", Comparator::kEq, "train-ds")}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "digest", Comparator::kIn, Names{"d1", "d2"})}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "context", Comparator::kEq, "eval")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "name", Comparator::kLike, "%-ds"),
                    C(Entity::kDataset, "context", Comparator::kNe, "eval")}),
            (Names{"alpha-run"}));
}

TEST_P(SearchRunsTest, ConjunctionsCombineFamilies) {
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kGt, 0.1),
                    C(Entity::kParam, "lr", Comparator::kEq, "0.1"),
                    C(Entity::kAttribute, "user_id", Comparator::kEq, "alice")}),
            (Names{"alpha-run"}));
}

TEST_P(SearchRunsTest, InvalidFiltersAreInvalidArgument) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.filter = F({C(Entity::kAttribute, "no_such", Comparator::kEq, "x")});
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
  query.filter = F({C(Entity::kMetric, "acc", Comparator::kGt, "high")});
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
  query.filter = {};
  query.order_by = {{Entity::kAttribute, "no_such", true}};
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(SearchRunsTest, OrderByPutsNullsAndNaNLastInBothDirections) {
  // acc: alpha 0.9, beta 0.5, Gamma NaN, delta none; ties fall back to start_time DESC.
  EXPECT_EQ(Search({}, {{Entity::kMetric, "acc", true}}),
            (Names{"beta-run", "alpha-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kMetric, "acc", false}}),
            (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kParam, "lr", true}}),
            (Names{"beta-run", "Gamma", "alpha-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kParam, "lr", false}}),
            (Names{"Gamma", "alpha-run", "beta-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kTag, "team", true}}),
            (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "run_name", true}}),
            (Names{"Gamma", "alpha-run", "beta-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "start_time", true}}),
            (Names{"alpha-run", "beta-run", "Gamma", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "end_time", false}}),
            (Names{"alpha-run", "delta", "Gamma", "beta-run"}));
  EXPECT_EQ(
      Search({}, {{Entity::kAttribute, "status", true}, {Entity::kAttribute, "user_id", false}}),
      (Names{"Gamma", "alpha-run", "delta", "beta-run"}));
}

TEST_P(SearchRunsTest, PagesWithHasMore) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.page = {3, 0};
  ASSERT_OK_AND_ASSIGN(auto p1, store().SearchRuns(kTenant, query));
  ASSERT_EQ(p1.items.size(), 3u);
  EXPECT_TRUE(p1.has_more);
  EXPECT_EQ(p1.items[0].info.run_name, "delta");
  query.page = {3, 3};
  ASSERT_OK_AND_ASSIGN(auto p2, store().SearchRuns(kTenant, query));
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_FALSE(p2.has_more);
  EXPECT_EQ(p2.items[0].info.run_name, "alpha-run");
  query.page = {4, 0};
  ASSERT_OK_AND_ASSIGN(auto all, store().SearchRuns(kTenant, query));
  EXPECT_EQ(all.items.size(), 4u);
  EXPECT_FALSE(all.has_more);
  query.page = {10, 10};
  ASSERT_OK_AND_ASSIGN(auto past, store().SearchRuns(kTenant, query));
  EXPECT_TRUE(past.items.empty());
  EXPECT_FALSE(past.has_more);
}

TEST_P(SearchRunsTest, ViewTypeAndExperimentScope) {
  ASSERT_OK(store().DeleteRun(kTenant, r2_, 9000));
  EXPECT_EQ(Search({}), (Names{"delta", "Gamma", "alpha-run"}));
  EXPECT_EQ(Search({}, {}, ViewType::kDeletedOnly), (Names{"beta-run"}));
  EXPECT_EQ(Search({}, {}, ViewType::kAll).size(), 4u);
  SearchRunsQuery query;
  query.experiment_ids = {exp_, "0"};
  ASSERT_OK_AND_ASSIGN(auto both, store().SearchRuns(kTenant, query));
  EXPECT_EQ(both.items.size(), 4u);
  EXPECT_EQ(both.items[0].info.run_name, "elsewhere");
  query.experiment_ids = {"424242"};
  ASSERT_OK_AND_ASSIGN(auto none, store().SearchRuns(kTenant, query));
  EXPECT_TRUE(none.items.empty());
}

TEST_P(SearchRunsTest, ResultsCarryTheWholeRun) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.filter = F({C(Entity::kAttribute, "run_id", Comparator::kEq, r1_)});
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchRuns(kTenant, query));
  ASSERT_EQ(page.items.size(), 1u);
  const metadata::Run& run = page.items[0];
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(run.info.end_time, 2500);
  EXPECT_EQ(run.metrics.size(), 2u);
  EXPECT_EQ(FindMetric(run.metrics, "acc")->value, 0.9);
  EXPECT_EQ(FindParam(run.params, "opt"), "Adam");
  EXPECT_EQ(FindTag(run.tags, "team"), "Vision");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "alpha-run");
  ASSERT_EQ(run.dataset_inputs.size(), 1u);
  EXPECT_EQ(run.dataset_inputs[0].dataset.name, "train-ds");
  EXPECT_EQ(run.dataset_inputs[0].tags, (std::vector<Tag>{{"mlflow.data.context", "train"}}));
}

TEST_P(SearchRunsTest, ParsedFiltersAndOrderBy) {
  EXPECT_EQ(SearchText("metrics.acc > 0.6 and params.lr = '0.1'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("tags.`team` ILIKE 'VISION'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("attributes.run_id IN ('" + r2_ + "', '" + r3_ + "')"),
            (Names{"Gamma", "beta-run"}));
  EXPECT_EQ(SearchText("attributes.status = 'FAILED'"), (Names{"Gamma"}));
  EXPECT_EQ(SearchText("`Run name` LIKE 'delta'"), (Names{"delta"}));
  EXPECT_EQ(SearchText("created >= 3000"), (Names{"delta", "Gamma"}));
  EXPECT_EQ(SearchText("datasets.context = 'train'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("params.lr != '0.1' AND metrics.acc < 1"), (Names{"beta-run"}));
  EXPECT_EQ(SearchText(""), (Names{"delta", "Gamma", "beta-run", "alpha-run"}));
  auto order = filter::ParseOrderBy("metrics.acc DESC", filter::SearchKind::kRuns);
  ASSERT_OK(order);
  EXPECT_EQ(Search({}, {*order}), (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
}

// ---------------------------------------------------------------------------------------------
// SearchExperiments

TEST_P(TrackingStoreConformanceTest, SearchExperiments) {
  NewExperiment("exp-a", 2000, kTenant, {{"owner", "ann"}});
  NewExperiment("exp-B", 3000, kTenant, {{"owner", "bo"}});
  std::string other = NewExperiment("other", 4000);
  auto names = [&](std::vector<Clause> clauses, std::vector<filter::OrderBy> order = {},
                   ViewType view = ViewType::kActiveOnly, Page page = {}) {
    SearchExperimentsQuery query;
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order);
    query.view_type = view;
    query.page = page;
    auto result = store().SearchExperiments(kTenant, query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> out;
    if (result.ok()) {
      for (const Experiment& e : result->items) out.push_back(e.name);
      if (result->has_more) out.push_back("<more>");
    }
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names({}), (Names{"other", "exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kLike, "exp-%")}),
            (Names{"exp-B", "exp-a"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kLike, "EXP%")}), Names{});
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kILike, "EXP-A")}), (Names{"exp-a"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kNe, "other")}),
            (Names{"exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({C(Entity::kTag, "owner", Comparator::kEq, "bo")}), (Names{"exp-B"}));
  EXPECT_EQ(names({C(Entity::kTag, "owner", Comparator::kIsNull)}), (Names{"other", "Default"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "creation_time", Comparator::kGt, 2500.0)}),
            (Names{"other", "exp-B"}));
  EXPECT_EQ(names({}, {{Entity::kAttribute, "name", true}}),
            (Names{"Default", "exp-B", "exp-a", "other"}));
  EXPECT_EQ(names({}, {{Entity::kAttribute, "experiment_id", false}}),
            (Names{"other", "exp-B", "exp-a", "Default"}));
  // Ties (no tag) fall back to experiment_id ASC.
  EXPECT_EQ(names({}, {{Entity::kTag, "owner", false}}),
            (Names{"exp-B", "exp-a", "Default", "other"}));
  EXPECT_EQ(names({}, {}, ViewType::kActiveOnly, {2, 0}), (Names{"other", "exp-B", "<more>"}));
  EXPECT_EQ(names({}, {}, ViewType::kActiveOnly, {2, 2}), (Names{"exp-a", "Default"}));
  ASSERT_OK(store().DeleteExperiment(kTenant, other, 5000));
  EXPECT_EQ(names({}), (Names{"exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({}, {}, ViewType::kDeletedOnly), (Names{"other"}));
  EXPECT_EQ(names({}, {}, ViewType::kAll).size(), 4u);

  auto parsed = filter::ParseFilter("name LIKE 'exp-%' AND tags.owner = 'ann'",
                                    filter::SearchKind::kExperiments);
  ASSERT_OK(parsed);
  EXPECT_EQ(names(parsed->clauses), (Names{"exp-a"}));
  // Tags come back with the results.
  SearchExperimentsQuery query;
  query.filter = F({C(Entity::kAttribute, "name", Comparator::kEq, "exp-a")});
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchExperiments(kTenant, query));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].tags, (std::vector<Tag>{{"owner", "ann"}}));
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

TEST_P(TrackingStoreConformanceTest, LogInputsDeduplicates) {
  std::string a = NewRun("0", 1);
  std::string b = NewRun("0", 2);
  DatasetInput input;
  input.dataset = {"ds", "abc", "s3", "s3://b/k", "{\"cols\":1}", "{\"rows\":5}"};
  input.tags = {{"mlflow.data.context", "train"}};
  ASSERT_OK(store().LogInputs(kTenant, a, {input, input}, {{"m-1"}, {"m-1"}}));
  ASSERT_OK(store().LogInputs(kTenant, a, {input}, {{"m-1"}, {"m-2"}}));
  ASSERT_OK(store().LogInputs(kTenant, b, {input}, {}));
  DatasetInput other = input;
  other.dataset.digest = "def";
  ASSERT_OK(store().LogInputs(kTenant, a, {other}, {}));

  metadata::Run run = MustGetRun(a);
  ASSERT_EQ(run.dataset_inputs.size(), 2u);
  EXPECT_EQ(run.dataset_inputs[0].dataset.name, "ds");
  EXPECT_EQ(run.dataset_inputs[0].dataset.digest, "abc");
  EXPECT_EQ(run.dataset_inputs[0].dataset.source_type, "s3");
  EXPECT_EQ(run.dataset_inputs[0].dataset.source, "s3://b/k");
  EXPECT_EQ(run.dataset_inputs[0].dataset.schema, "{\"cols\":1}");
  EXPECT_EQ(run.dataset_inputs[0].dataset.profile, "{\"rows\":5}");
  EXPECT_EQ(run.dataset_inputs[0].tags, input.tags);
  EXPECT_EQ(run.dataset_inputs[1].dataset.digest, "def");
  ASSERT_EQ(run.model_inputs.size(), 2u);
  EXPECT_EQ(run.model_inputs[0].model_id, "m-1");
  EXPECT_EQ(run.model_inputs[1].model_id, "m-2");
  EXPECT_EQ(MustGetRun(b).dataset_inputs.size(), 1u);
}

TEST_P(TrackingStoreConformanceTest, LogOutputs) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogOutputs(kTenant, id, {{"m-1", 3}, {"m-2", 0}, {"m-1", 3}}));
  metadata::Run run = MustGetRun(id);
  ASSERT_EQ(run.model_outputs.size(), 2u);
  EXPECT_EQ(run.model_outputs[0].model_id, "m-2");
  EXPECT_EQ(run.model_outputs[1].model_id, "m-1");
  EXPECT_EQ(run.model_outputs[1].step, 3);
  EXPECT_EQ(store().LogOutputs(kTenant, "nope", {{"m-1", 0}}).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Logged models

LoggedModel NewModel(const std::string& id, const std::string& experiment_id,
                     const std::string& name, int64_t created) {
  LoggedModel m;
  m.model_id = id;
  m.experiment_id = experiment_id;
  m.name = name;
  m.creation_timestamp_ms = created;
  m.last_updated_timestamp_ms = created;
  m.artifact_uri = "file:///artifacts/" + experiment_id + "/models/" + id + "/artifacts";
  m.status = LoggedModelStatus::kPending;
  m.creator_id = "alice";
  m.model_type = "sklearn";
  m.source_run_id = "";
  return m;
}

TEST_P(TrackingStoreConformanceTest, LoggedModelLifecycle) {
  std::string exp = NewExperiment("models");
  LoggedModel model = NewModel("m-1", exp, "clf", 100);
  model.tags = {{"k", "v"}};
  model.params = {{"alpha", "0.5"}, {"beta", "x"}};
  model.source_run_id = NewRun(exp);
  ASSERT_OK_AND_ASSIGN(LoggedModel created, store().CreateLoggedModel(kTenant, model));
  EXPECT_EQ(created.model_id, "m-1");
  EXPECT_EQ(created.experiment_id, exp);
  EXPECT_EQ(created.name, "clf");
  EXPECT_EQ(created.status, LoggedModelStatus::kPending);
  EXPECT_EQ(created.creator_id, "alice");
  EXPECT_EQ(created.model_type, "sklearn");
  EXPECT_EQ(created.source_run_id, model.source_run_id);
  EXPECT_EQ(created.artifact_uri, model.artifact_uri);
  EXPECT_EQ(created.tags, model.tags);
  ASSERT_EQ(created.params.size(), 2u);
  EXPECT_EQ(store().CreateLoggedModel(kTenant, model).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().CreateLoggedModel(kTenant, NewModel("m-x", "99", "x", 1)).status().code(),
            StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(LoggedModel ready,
                       store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 500));
  EXPECT_EQ(ready.status, LoggedModelStatus::kReady);
  EXPECT_EQ(ready.last_updated_timestamp_ms, 500);
  EXPECT_EQ(ready.creation_timestamp_ms, 100);

  ASSERT_OK(store().SetLoggedModelTags(kTenant, "m-1", {{"k", "v2"}, {"n", "1"}}, 600));
  ASSERT_OK(store().DeleteLoggedModelTag(kTenant, "m-1", "n", 700));
  EXPECT_EQ(store().DeleteLoggedModelTag(kTenant, "m-1", "n", 700).code(), StatusCode::kNotFound);
  ASSERT_OK(store().LogLoggedModelParams(kTenant, "m-1", {{"gamma", "1"}, {"alpha", "0.5"}}, 800));
  EXPECT_EQ(store().LogLoggedModelParams(kTenant, "m-1", {{"alpha", "0.6"}}, 900).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(LoggedModel got, store().GetLoggedModel(kTenant, "m-1", false));
  EXPECT_EQ(got.tags, (std::vector<Tag>{{"k", "v2"}}));
  EXPECT_EQ(got.params.size(), 3u);
  EXPECT_EQ(FindParam(got.params, "alpha"), "0.5");
  EXPECT_EQ(got.last_updated_timestamp_ms, 800);

  // Other tenants cannot see it.
  EXPECT_EQ(store().GetLoggedModel(kOtherTenant, "m-1", true).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteLoggedModel(kOtherTenant, "m-1", 1).code(), StatusCode::kNotFound);

  ASSERT_OK(store().DeleteLoggedModel(kTenant, "m-1", 1000));
  auto missing = store().GetLoggedModel(kTenant, "m-1", false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(LoggedModel deleted, store().GetLoggedModel(kTenant, "m-1", true));
  EXPECT_EQ(deleted.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(store().SetLoggedModelTags(kTenant, "m-1", {{"a", "b"}}, 1100).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(
      store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 1).status().code(),
      StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, LoggedModelMetricsComeFromRuns) {
  std::string exp = NewExperiment("models");
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-1", exp, "clf", 100)));
  std::string run = NewRun(exp);
  auto metric = [](double value, int64_t step, std::optional<std::string> dataset) {
    Metric m = M("acc", value, 10, step);
    m.model_id = "m-1";
    if (dataset) {
      m.dataset_name = *dataset;
      m.dataset_digest = "dg";
    }
    return m;
  };
  ASSERT_OK(store().LogBatch(kTenant, run,
                             {metric(0.8, 1, "train"), metric(0.6, 0, "train"),
                              metric(0.7, 0, "eval"), metric(0.1, 0, std::nullopt)},
                             {}, {}));
  ASSERT_OK_AND_ASSIGN(LoggedModel model, store().GetLoggedModel(kTenant, "m-1", false));
  ASSERT_EQ(model.metrics.size(), 3u);  // latest per dataset
  for (const Metric& m : model.metrics) {
    EXPECT_EQ(m.key, "acc");
    EXPECT_EQ(m.run_id, run);
    EXPECT_EQ(m.model_id, "m-1");
    if (m.dataset_name == "train") {
      EXPECT_EQ(m.value, 0.8);
      EXPECT_EQ(m.dataset_digest, "dg");
    } else if (m.dataset_name == "eval") {
      EXPECT_EQ(m.value, 0.7);
    } else {
      EXPECT_FALSE(m.dataset_name.has_value());
      EXPECT_EQ(m.value, 0.1);
    }
  }
}

TEST_P(TrackingStoreConformanceTest, SearchLoggedModels) {
  std::string exp = NewExperiment("models");
  std::string exp2 = NewExperiment("models-2");
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-1", exp, "model-a", 100)));
  LoggedModel b = NewModel("m-2", exp, "model-b", 200);
  b.model_type = "pytorch";
  ASSERT_OK(store().CreateLoggedModel(kTenant, b));
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-3", exp2, "model-c", 300)));
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-4", exp, "model-d", 50)));
  ASSERT_OK(store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 400));
  ASSERT_OK(store().LogLoggedModelParams(kTenant, "m-1", {{"lr", "0.1"}}, 400));
  ASSERT_OK(store().SetLoggedModelTags(kTenant, "m-2", {{"stage", "prod"}}, 400));
  std::string run = NewRun(exp);
  auto metric = [](const std::string& model, double value, const std::string& dataset) {
    Metric m = M("acc", value, 10, 0);
    m.model_id = model;
    m.dataset_name = dataset;
    m.dataset_digest = dataset + "-digest";
    return m;
  };
  ASSERT_OK(store().LogBatch(kTenant, run, {metric("m-1", 0.8, "ds"), metric("m-2", 0.9, "ds2")},
                             {}, {}));

  auto ids = [&](std::vector<Clause> clauses, std::vector<LoggedModelOrder> order = {},
                 std::vector<std::pair<std::string, std::optional<std::string>>> datasets = {},
                 std::vector<std::string> experiments = {}, Page page = {}) {
    SearchLoggedModelsQuery query;
    query.experiment_ids = experiments.empty() ? std::vector<std::string>{exp} : experiments;
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order);
    query.datasets = std::move(datasets);
    query.page = page;
    auto result = store().SearchLoggedModels(kTenant, query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> out;
    if (result.ok()) {
      for (const LoggedModel& m : result->items) out.push_back(m.model_id);
      if (result->has_more) out.push_back("<more>");
    }
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids({}), (Ids{"m-2", "m-1", "m-4"}));
  EXPECT_EQ(ids({}, {}, {}, {exp, exp2}), (Ids{"m-3", "m-2", "m-1", "m-4"}));
  EXPECT_EQ(ids({}, {}, {}, {}, {2, 0}), (Ids{"m-2", "m-1", "<more>"}));
  EXPECT_EQ(ids({}, {}, {}, {}, {2, 2}), (Ids{"m-4"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "name", Comparator::kEq, "model-a")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "status", Comparator::kEq, "READY")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "status", Comparator::kEq, "LOGGED_MODEL_PENDING")}),
            (Ids{"m-2", "m-4"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "model_type", Comparator::kLike, "py%")}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "creation_timestamp", Comparator::kGe, 100.0)}),
            (Ids{"m-2", "m-1"}));
  EXPECT_EQ(ids({C(Entity::kParam, "lr", Comparator::kEq, "0.1")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kTag, "stage", Comparator::kEq, "prod")}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.85)}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.85)}, {}, {{"ds", std::nullopt}}),
            Ids{});
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.7)}, {}, {{"ds", "ds-digest"}}),
            (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.7)}, {}, {{"ds", "other"}}), Ids{});

  LoggedModelOrder by_acc_desc{"metrics.acc", false, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_acc_desc}), (Ids{"m-2", "m-1", "m-4"}));
  LoggedModelOrder by_acc_asc{"metrics.acc", true, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_acc_asc}), (Ids{"m-1", "m-2", "m-4"}));
  LoggedModelOrder by_ds2{"metrics.acc", true, std::string("ds2"), std::nullopt};
  EXPECT_EQ(ids({}, {by_ds2}), (Ids{"m-2", "m-1", "m-4"}));
  LoggedModelOrder by_name{"name", false, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_name}), (Ids{"m-4", "m-2", "m-1"}));
  LoggedModelOrder by_created{"creation_timestamp", true, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_created}), (Ids{"m-4", "m-1", "m-2"}));

  ASSERT_OK(store().DeleteLoggedModel(kTenant, "m-2", 500));
  EXPECT_EQ(ids({}), (Ids{"m-1", "m-4"}));

  SearchLoggedModelsQuery bad;
  bad.experiment_ids = {exp};
  bad.order_by = {{"no_such_field", true, std::nullopt, std::nullopt}};
  EXPECT_EQ(store().SearchLoggedModels(kTenant, bad).status().code(), StatusCode::kInvalidArgument);
  // Other tenants see nothing.
  SearchLoggedModelsQuery other;
  other.experiment_ids = {exp};
  ASSERT_OK_AND_ASSIGN(auto none, store().SearchLoggedModels(kOtherTenant, other));
  EXPECT_TRUE(none.items.empty());
}

// ---------------------------------------------------------------------------------------------
// Concurrency and durability

TEST_P(TrackingStoreConformanceTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 40;
  constexpr int kMetricsPerBatch = 5;
  std::string exp = NewExperiment("concurrent");
  std::string shared = NewRun(exp, 1, "shared");
  std::vector<std::string> own;
  for (int i = 0; i < kThreads; ++i) own.push_back(NewRun(exp, 2 + i));

  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string& run = t % 2 == 0 ? shared : own[t];
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Metric> metrics;
        for (int j = 0; j < kMetricsPerBatch; ++j) {
          int step = b * kMetricsPerBatch + j;
          metrics.push_back(M("m" + std::to_string(t), step * 0.5, 1000 + step, step));
        }
        std::vector<Param> params = {{"p" + std::to_string(t) + "_" + std::to_string(b), "v"}};
        std::vector<Tag> tags = {{"t" + std::to_string(t), std::to_string(b)}};
        Status s = store().LogBatch(kTenant, run, metrics, params, tags);
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s.ToString();
        }
      }
    });
  }
  std::thread reader([&] {
    SearchRunsQuery query;
    query.experiment_ids = {exp};
    query.filter = F({C(Entity::kMetric, "m0", Comparator::kGe, 0.0)});
    while (!done.load()) {
      auto page = store().SearchRuns(kTenant, query);
      if (!page.ok()) {
        ++failures;
        ADD_FAILURE() << page.status().ToString();
        return;
      }
      auto run = store().GetRun(kTenant, shared);
      if (!run.ok()) {
        ++failures;
        ADD_FAILURE() << run.status().ToString();
        return;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);

  for (int t = 0; t < kThreads; ++t) {
    const std::string& run = t % 2 == 0 ? shared : own[t];
    std::string key = "m" + std::to_string(t);
    EXPECT_EQ(History(run, key).size(), static_cast<size_t>(kBatches * kMetricsPerBatch)) << key;
    metadata::Run r = MustGetRun(run);
    const Metric* latest = FindMetric(r.metrics, key);
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(latest->step, kBatches * kMetricsPerBatch - 1);
    EXPECT_EQ(FindTag(r.tags, "t" + std::to_string(t)), std::to_string(kBatches - 1));
  }
  EXPECT_EQ(MustGetRun(shared).params.size(), static_cast<size_t>(kThreads / 2 * kBatches));
}

TEST_P(TrackingStoreConformanceTest, ConcurrentExperimentCreationGetsDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = store().CreateExperiment(
            kTenant, "e" + std::to_string(t) + "-" + std::to_string(i), "", kRoot, {}, 1);
        EXPECT_TRUE(id.ok()) << id.status().ToString();
        if (id.ok()) ids[t].push_back(*id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> all;
  for (const auto& v : ids) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_P(TrackingStoreConformanceTest, DataSurvivesReopen) {
  std::string exp = NewExperiment("durable", 2000, kTenant, {{"k", "v"}});
  std::string run = NewRun(exp, 10, "kept");
  ASSERT_OK(store().LogBatch(kTenant, run, {M("m", kNaN, 1), M("m", 2, 2, 1)}, {{"p", "1"}},
                             {{"t", "x"}}));
  metadata::Run before = MustGetRun(run);
  Reopen();
  ASSERT_NE(stores_.tracking, nullptr);
  ASSERT_OK(store().EnsureDefaultExperiment(kTenant, kRoot, 99));
  metadata::Run after = MustGetRun(run);
  EXPECT_EQ(after.info.run_name, "kept");
  EXPECT_EQ(after.params.size(), before.params.size());
  EXPECT_EQ(after.tags.size(), before.tags.size());
  ASSERT_EQ(after.metrics.size(), 1u);
  EXPECT_EQ(after.metrics[0].value, 2);
  EXPECT_EQ(History(run, "m").size(), 2u);
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(e.tags, (std::vector<Tag>{{"k", "v"}}));
  ASSERT_OK_AND_ASSIGN(Experiment d, store().GetExperiment(kTenant, "0"));
  EXPECT_EQ(d.creation_time, 1000);
  EXPECT_EQ(NewExperiment("next"), "2");
}

// Backends may evaluate a clause differently depending on how many rows it matches (the SQLite
// store switches from IN lists to correlated EXISTS for broad clauses); the answers must not
// change. 1500 runs: p = 'x' on 1400 of them, tag t on every third, metric m NaN on every
// tenth; pages of 97 are collected to the end and compared with what was logged.
TEST_P(TrackingStoreConformanceTest, SearchAnswersDoNotDependOnHowBroadAClauseIs) {
  std::string exp = NewExperiment("breadth");
  struct Logged {
    std::string id;
    int64_t start_time;
    std::string p;
    bool tagged;
    std::optional<double> m;  // absent on every seventh run
  };
  std::vector<Logged> runs;
  for (int i = 0; i < 1500; ++i) {
    Logged r{NewRun(exp, 10000 + i), 10000 + i, i % 15 == 0 ? "y" : "x", i % 3 == 0, std::nullopt};
    if (i % 7 != 0) r.m = i % 10 == 0 ? kNaN : (i % 100) / 100.0;  // many ties
    std::vector<Tag> tags;
    if (r.tagged) tags.push_back({"t", "v"});
    Metric metric = r.m ? M("m", *r.m, 1) : M("other", 1, 1);
    ASSERT_OK(store().LogBatch(kTenant, r.id, {metric}, {{"p", r.p}}, tags));
    runs.push_back(std::move(r));
  }
  ASSERT_OK(store().DeleteRun(kTenant, runs[5].id, 20000));

  auto search = [&](std::string_view filter_text, std::string_view order_text = "") {
    SearchRunsQuery q;
    q.experiment_ids = {exp};
    auto parsed = filter::ParseFilter(filter_text, filter::SearchKind::kRuns);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (parsed.ok()) q.filter = *parsed;
    if (!order_text.empty()) {
      auto order = filter::ParseOrderBy(order_text, filter::SearchKind::kRuns);
      EXPECT_TRUE(order.ok()) << order.status().ToString();
      if (order.ok()) q.order_by = {*order};
    }
    q.page = Page{97, 0};
    std::vector<std::string> ids;
    while (true) {
      auto page = store().SearchRuns(kTenant, q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const metadata::Run& r : page->items) ids.push_back(r.info.run_id);
      if (!page->has_more) break;
      q.page.offset += 97;
    }
    return ids;
  };
  // Newest first; with `by_m`, runs with a non-NaN m first in m order (ties newest first), then
  // the others newest first.
  auto expect = [&](const std::function<bool(const Logged&)>& match, int by_m = 0) {
    std::vector<const Logged*> hits;
    for (const Logged& r : runs) {
      if (r.id != runs[5].id && match(r)) hits.push_back(&r);
    }
    auto valued = [](const Logged* r) { return r->m && !std::isnan(*r->m); };
    std::stable_sort(hits.begin(), hits.end(), [&](const Logged* a, const Logged* b) {
      if (by_m != 0 && valued(a) != valued(b)) return valued(a);
      if (by_m != 0 && valued(a) && *a->m != *b->m) return by_m > 0 ? *a->m < *b->m : *a->m > *b->m;
      return a->start_time > b->start_time;
    });
    std::vector<std::string> ids;
    for (const Logged* r : hits) ids.push_back(r->id);
    return ids;
  };
  auto any = [](const Logged&) { return true; };
  auto has_m = [](const Logged& r) { return r.m.has_value(); };
  EXPECT_EQ(search("params.p = 'x'"), expect([](const Logged& r) { return r.p == "x"; }));
  EXPECT_EQ(search("params.p != 'x'"), expect([](const Logged& r) { return r.p != "x"; }));
  EXPECT_EQ(search("tags.t IS NULL"), expect([](const Logged& r) { return !r.tagged; }));
  EXPECT_EQ(search("params.p IS NULL"), std::vector<std::string>{});
  EXPECT_EQ(search("params.p IS NOT NULL"), expect(any));
  EXPECT_EQ(search("tags.t IS NOT NULL AND params.p = 'x'"),
            expect([](const Logged& r) { return r.tagged && r.p == "x"; }));
  EXPECT_EQ(search("metrics.m != 0.5"),
            expect([&](const Logged& r) { return has_m(r) && (std::isnan(*r.m) || *r.m != 0.5); }));
  EXPECT_EQ(search("metrics.m > 0.2 AND params.p = 'x' AND tags.t = 'v'"),
            expect([](const Logged& r) { return r.m > 0.2 && r.p == "x" && r.tagged; }));
  EXPECT_EQ(search("metrics.m >= 0.99 AND params.p = 'x'"),
            expect([](const Logged& r) { return r.m >= 0.99 && r.p == "x"; }));
  // Ordered by the metric: with no filter, a broad one, a selective one, and a filter on the
  // metric itself; runs without m (or with NaN) come last in both directions.
  EXPECT_EQ(search("", "metrics.m DESC"), expect(any, -1));
  EXPECT_EQ(search("", "metrics.m ASC"), expect(any, 1));
  EXPECT_EQ(search("params.p = 'x'", "metrics.m DESC"),
            expect([](const Logged& r) { return r.p == "x"; }, -1));
  EXPECT_EQ(search("tags.t = 'v'", "metrics.m"),
            expect([](const Logged& r) { return r.tagged; }, 1));
  EXPECT_EQ(search("metrics.m > 0.5 AND params.p = 'x'", "metrics.m DESC"),
            expect([](const Logged& r) { return r.m > 0.5 && r.p == "x"; }, -1));
}

// ---------------------------------------------------------------------------------------------
// Backends

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRunsTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
