// Search grammar tests, part 1: parsing and validation of filters per search kind, IN lists,
// structure errors and hostile input (helpers in filter_test_util.h; part 2: filter_order_test.cc).

#include "filter/filter_test_util.h"

namespace cairn::filter {
namespace {

TEST(ParseFilterTest, EmptyAndBlankFiltersAreEmpty) {
  for (SearchKind kind : kAllKinds) {
    EXPECT_TRUE(MustParse("", kind).empty());
    EXPECT_TRUE(MustParse("   \t\n\r ", kind).empty());
  }
}

TEST(ParseFilterTest, ReferenceExamplesParse) {
  Filter f = MustParse(
      "metrics.rmse < 0.8 AND params.alpha = '0.5' AND tags.`mlflow.source.type` = 'NOTEBOOK' "
      "AND attributes.status = 'FINISHED'",
      SearchKind::kRuns);
  ASSERT_EQ(f.clauses.size(), 4u);
  EXPECT_EQ(f.clauses[0].entity, Entity::kMetric);
  EXPECT_EQ(f.clauses[0].key, "rmse");
  EXPECT_EQ(f.clauses[0].op, Comparator::kLt);
  EXPECT_DOUBLE_EQ(Number(f.clauses[0]), 0.8);
  EXPECT_EQ(f.clauses[1].entity, Entity::kParam);
  EXPECT_EQ(f.clauses[1].key, "alpha");
  EXPECT_EQ(Str(f.clauses[1]), "0.5");
  EXPECT_EQ(f.clauses[2].entity, Entity::kTag);
  EXPECT_EQ(f.clauses[2].key, "mlflow.source.type");
  EXPECT_EQ(Str(f.clauses[2]), "NOTEBOOK");
  EXPECT_EQ(f.clauses[3].entity, Entity::kAttribute);
  EXPECT_EQ(f.clauses[3].key, "status");

  Clause in = One("attributes.run_id IN ('a1b2','c3d4')", SearchKind::kRuns);
  EXPECT_EQ(in.op, Comparator::kIn);
  EXPECT_EQ(List(in), (Strings{"a1b2", "c3d4"}));

  Clause name = One("name ILIKE '%churn%'", SearchKind::kExperiments);
  EXPECT_EQ(name.op, Comparator::kILike);
  EXPECT_EQ(Str(name), "%churn%");

  Filter two = MustParse("run_id = 'abc' AND tags.stage = 'prod'", SearchKind::kRuns);
  ASSERT_EQ(two.clauses.size(), 2u);
  EXPECT_EQ(two.clauses[0].key, "run_id");
  EXPECT_EQ(two.clauses[1].key, "stage");
}

TEST(ParseFilterTest, AndIsCaseInsensitiveAndWhitespaceIsFree) {
  Filter f = MustParse("metrics.a>1 and metrics.b<2 AnD\n\tmetrics.c\n>=\t3   AND metrics.d=4",
                       SearchKind::kRuns);
  ASSERT_EQ(f.clauses.size(), 4u);
  EXPECT_EQ(f.clauses[0].key, "a");
  EXPECT_EQ(f.clauses[0].op, Comparator::kGt);
  EXPECT_EQ(f.clauses[1].key, "b");
  EXPECT_EQ(f.clauses[2].key, "c");
  EXPECT_EQ(f.clauses[2].op, Comparator::kGe);
  EXPECT_EQ(f.clauses[3].key, "d");
  EXPECT_DOUBLE_EQ(Number(f.clauses[3]), 4);
}

TEST(ParseFilterTest, KeywordComparatorsAreCaseInsensitive) {
  EXPECT_EQ(One("params.p like 'a%'", SearchKind::kRuns).op, Comparator::kLike);
  EXPECT_EQ(One("params.p iLiKe 'a%'", SearchKind::kRuns).op, Comparator::kILike);
  EXPECT_EQ(One("run_id in ('a')", SearchKind::kRuns).op, Comparator::kIn);
  EXPECT_EQ(One("run_id not In ('a')", SearchKind::kRuns).op, Comparator::kNotIn);
  EXPECT_EQ(One("tags.t is null", SearchKind::kRuns).op, Comparator::kIsNull);
  EXPECT_EQ(One("tags.t Is Not Null", SearchKind::kRuns).op, Comparator::kIsNotNull);
}

TEST(ParseFilterTest, NumbersInAllForms) {
  struct Case {
    std::string text;
    double value;
  };
  const Case cases[] = {
      {"0", 0},
      {"42", 42},
      {"-7", -7},
      {"3.25", 3.25},
      {"-0.5", -0.5},
      {".5", 0.5},
      {"-.5", -0.5},
      {"1.", 1},
      {"1e3", 1000},
      {"1E+3", 1000},
      {"2.5e-3", 0.0025},
      {"-1e2", -100},
      {"1700000000123", 1700000000123.0},
  };
  for (const Case& c : cases) {
    EXPECT_DOUBLE_EQ(Number(One("metrics.m = " + c.text, SearchKind::kRuns)), c.value) << c.text;
  }
  ExpectInvalid("metrics.m = 1e400", SearchKind::kRuns, {"Invalid number"});
  ExpectInvalid("metrics.m = 1abc", SearchKind::kRuns, {"Invalid number", "1abc"});
  ExpectInvalid("metrics.m = 1.2.3", SearchKind::kRuns, {"Invalid number"});
  ExpectInvalid("metrics.m = 1e", SearchKind::kRuns, {"Invalid number"});
  ExpectInvalid("metrics.m = +1", SearchKind::kRuns, {"Invalid character '+'"});
  ExpectInvalid("metrics.m = - 1", SearchKind::kRuns, {"Invalid character '-'"});
  ExpectInvalid("metrics.m = nan", SearchKind::kRuns, {"Expected numeric value type"});
  ExpectInvalid("metrics.m = inf", SearchKind::kRuns, {"Expected numeric value type"});
  ExpectInvalid("metrics.m = 0x10", SearchKind::kRuns, {"Invalid number"});
  ExpectInvalid("metrics.m = 1'a'", SearchKind::kRuns, {"Invalid number"});
}

TEST(ParseFilterTest, StringQuotingForms) {
  auto value = [](std::string_view text) { return Str(One(text, SearchKind::kRuns)); };
  EXPECT_EQ(value("params.p = 'plain'"), "plain");
  EXPECT_EQ(value("params.p = \"double\""), "double");
  EXPECT_EQ(value("params.p = ''"), "");
  EXPECT_EQ(value("params.p = \"\""), "");
  EXPECT_EQ(value("params.p = 'it''s'"), "it's");
  EXPECT_EQ(value(R"(params.p = 'it\'s')"), "it's");
  EXPECT_EQ(value(R"(params.p = "say ""hi""")"), "say \"hi\"");
  EXPECT_EQ(value(R"(params.p = "it's")"), "it's");
  EXPECT_EQ(value(R"(params.p = 'say "hi"')"), "say \"hi\"");
  EXPECT_EQ(value(R"(params.p = 'C:\temp\x')"), R"(C:\temp\x)");
  EXPECT_EQ(value(R"(params.p = 'back\\slash')"), R"(back\slash)");
  EXPECT_EQ(value("params.p = 'has spaces AND keywords OR 1=1'"), "has spaces AND keywords OR 1=1");
  EXPECT_EQ(value("params.p = '\xc3\xa9t\xc3\xa9'"), "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(value("params.p = 'tab\there'"), "tab\there");
  EXPECT_EQ(value("params.p = '%_'"), "%_");
}

// ---------------------------------------------------------------------------------------------
// Identifiers

TEST(ParseFilterTest, EntityPrefixSynonymsForRuns) {
  struct Case {
    std::string prefix;
    Entity entity;
    std::string clause_tail;
  };
  const Case cases[] = {
      {"metric", Entity::kMetric, "k > 1"},
      {"metrics", Entity::kMetric, "k > 1"},
      {"parameter", Entity::kParam, "k = 'v'"},
      {"parameters", Entity::kParam, "k = 'v'"},
      {"param", Entity::kParam, "k = 'v'"},
      {"params", Entity::kParam, "k = 'v'"},
      {"tag", Entity::kTag, "k = 'v'"},
      {"tags", Entity::kTag, "k = 'v'"},
      {"attribute", Entity::kAttribute, "status = 'v'"},
      {"attributes", Entity::kAttribute, "status = 'v'"},
      {"attr", Entity::kAttribute, "status = 'v'"},
      {"run", Entity::kAttribute, "status = 'v'"},
      {"dataset", Entity::kDataset, "name = 'v'"},
      {"datasets", Entity::kDataset, "name = 'v'"},
      {"METRICS", Entity::kMetric, "k > 1"},
      {"Tags", Entity::kTag, "k = 'v'"},
  };
  for (const Case& c : cases) {
    Clause clause = One(c.prefix + "." + c.clause_tail, SearchKind::kRuns);
    EXPECT_EQ(clause.entity, c.entity) << c.prefix;
  }
  ExpectInvalid("foo.k = 'v'", SearchKind::kRuns, {"Invalid entity type 'foo'"});
  ExpectInvalid("metricz.k > 1", SearchKind::kRuns, {"Invalid entity type 'metricz'"});
  ExpectInvalid("`tags`.k = 'v'", SearchKind::kRuns);
}

TEST(ParseFilterTest, BareKeyAfterPrefixSplitsAtFirstDot) {
  Clause c = One("tags.mlflow.user = 'alice'", SearchKind::kRuns);
  EXPECT_EQ(c.entity, Entity::kTag);
  EXPECT_EQ(c.key, "mlflow.user");
  EXPECT_EQ(One("metrics.a.b.c > 0", SearchKind::kRuns).key, "a.b.c");
  EXPECT_EQ(One("params.lr_2 = '1'", SearchKind::kRuns).key, "lr_2");
  EXPECT_EQ(One("params._x = '1'", SearchKind::kRuns).key, "_x");
  EXPECT_EQ(One("metrics.0 > 1", SearchKind::kRuns).key, "0");
}

TEST(ParseFilterTest, QuotedKeys) {
  Clause backtick = One("tags.`mlflow.runName` = 'x'", SearchKind::kRuns);
  EXPECT_EQ(backtick.entity, Entity::kTag);
  EXPECT_EQ(backtick.key, "mlflow.runName");
  Clause dq = One(R"(tags."mlflow.runName" = 'x')", SearchKind::kRuns);
  EXPECT_EQ(dq.entity, Entity::kTag);
  EXPECT_EQ(dq.key, "mlflow.runName");
  EXPECT_EQ(One("params.`learning rate` = '0.1'", SearchKind::kRuns).key, "learning rate");
  EXPECT_EQ(One("metrics.`val/loss:1-x` < 1", SearchKind::kRuns).key, "val/loss:1-x");
  EXPECT_EQ(One("params.`a``b` = '1'", SearchKind::kRuns).key, "a`b");
  EXPECT_EQ(One("params.`AND` = '1'", SearchKind::kRuns).key, "AND");
  EXPECT_EQ(One("params.`'; DROP TABLE runs; --` = '1'", SearchKind::kRuns).key,
            "'; DROP TABLE runs; --");
  // A lone quoted identifier is an attribute.
  Clause run_name = One("`run name` = 'x'", SearchKind::kRuns);
  EXPECT_EQ(run_name.entity, Entity::kAttribute);
  EXPECT_EQ(run_name.key, "run_name");
  EXPECT_EQ(One(R"("status" = 'x')", SearchKind::kRuns).key, "status");
  // Keys with spaces must be quoted.
  ExpectInvalid("params.learning rate = '0.1'", SearchKind::kRuns);
  ExpectInvalid("run name = 'x'", SearchKind::kRuns);
  // The prefix must touch the quoted key.
  ExpectInvalid("tags. `a` = 'x'", SearchKind::kRuns);
  ExpectInvalid("params.a-b = '1'", SearchKind::kRuns, {"Invalid character '-'"});
}

TEST(ParseFilterTest, EmptyKeysAreRejected) {
  ExpectInvalid("params. = 'x'", SearchKind::kRuns, {"Missing key"});
  ExpectInvalid("tags.`` = 'x'", SearchKind::kRuns, {"Missing key"});
  ExpectInvalid("`` = 'x'", SearchKind::kRuns, {"Missing key"});
}

// ---------------------------------------------------------------------------------------------
// Runs: every row of the table

TEST(RunsFilterTest, MetricsAreNumeric) {
  CheckNumericKey(SearchKind::kRuns, "metrics.acc", Entity::kMetric, "acc");
  CheckNumericKey(SearchKind::kRuns, "metric.`a b`", Entity::kMetric, "a b");
  ExpectInvalid("metrics.acc = 'x'", SearchKind::kRuns,
                {"Expected numeric value type for metric. Found 'x'"});
}

TEST(RunsFilterTest, ParamsAndTagsAreStringsWithNullChecks) {
  CheckStringKey(SearchKind::kRuns, "params.alpha", Entity::kParam, "alpha", false, true);
  CheckStringKey(SearchKind::kRuns, "tags.team", Entity::kTag, "team", false, true);
  CheckStringKey(SearchKind::kRuns, "tag.`mlflow.user`", Entity::kTag, "mlflow.user", false, true);
  ExpectInvalid("params.alpha = 0.5", SearchKind::kRuns,
                {"Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.5"});
}

TEST(RunsFilterTest, StringAttributes) {
  CheckStringKey(SearchKind::kRuns, "run_id", Entity::kAttribute, "run_id", true, false);
  CheckStringKey(SearchKind::kRuns, "attributes.run_id", Entity::kAttribute, "run_id", true, false);
  CheckStringKey(SearchKind::kRuns, "run_uuid", Entity::kAttribute, "run_id", true, false);
  for (const std::string key : {"run_name", "status", "user_id", "artifact_uri"}) {
    CheckStringKey(SearchKind::kRuns, key, Entity::kAttribute, key, false, false);
    CheckStringKey(SearchKind::kRuns, "attributes." + key, Entity::kAttribute, key, false, false);
    ExpectInvalid(key + " IN ('a')", SearchKind::kRuns,
                  {"Only ['run_id'] attributes support comparison with a list"});
  }
}

TEST(RunsFilterTest, RunNameAliases) {
  for (const std::string alias : {"`run name`", "`Run name`", "`Run Name`", "\"run name\"",
                                  "attributes.`run name`", "run.`Run Name`", "run_name"}) {
    Clause c = One(alias + " = 'my run'", SearchKind::kRuns);
    EXPECT_EQ(c.entity, Entity::kAttribute) << alias;
    EXPECT_EQ(c.key, "run_name") << alias;
    EXPECT_EQ(Str(c), "my run");
  }
  ExpectInvalid("`RUN NAME` = 'x'", SearchKind::kRuns, {"Invalid attribute key 'RUN NAME'"});
}

TEST(RunsFilterTest, NumericAttributesAndCreatedAlias) {
  CheckNumericKey(SearchKind::kRuns, "start_time", Entity::kAttribute, "start_time");
  CheckNumericKey(SearchKind::kRuns, "attributes.start_time", Entity::kAttribute, "start_time");
  CheckNumericKey(SearchKind::kRuns, "end_time", Entity::kAttribute, "end_time");
  CheckNumericKey(SearchKind::kRuns, "created", Entity::kAttribute, "start_time");
  CheckNumericKey(SearchKind::kRuns, "Created", Entity::kAttribute, "start_time");
  ExpectInvalid("start_time > 'yesterday'", SearchKind::kRuns,
                {"Expected numeric value type for numeric attribute", "start_time"});
}

TEST(RunsFilterTest, UnfilterableAndUnknownAttributes) {
  ExpectInvalid("experiment_id = '1'", SearchKind::kRuns,
                {"Invalid attribute key 'experiment_id'"});
  ExpectInvalid("lifecycle_stage = 'active'", SearchKind::kRuns,
                {"Invalid attribute key 'lifecycle_stage'"});
  ExpectInvalid("attributes.foo = 'x'", SearchKind::kRuns, {"Invalid attribute key 'foo'"});
  ExpectInvalid("Status = 'x'", SearchKind::kRuns, {"Invalid attribute key 'Status'"});
  ExpectInvalid("name = 'x'", SearchKind::kRuns, {"Invalid attribute key 'name'"});
}

TEST(RunsFilterTest, Datasets) {
  for (const std::string key : {"name", "digest", "context"}) {
    CheckStringKey(SearchKind::kRuns, "datasets." + key, Entity::kDataset, key, true, false);
    CheckStringKey(SearchKind::kRuns, "dataset." + key, Entity::kDataset, key, true, false);
  }
  ExpectInvalid("datasets.source = 'x'", SearchKind::kRuns, {"Invalid dataset key 'source'"});
}

// ---------------------------------------------------------------------------------------------
// Experiments

TEST(ExperimentsFilterTest, Attributes) {
  CheckStringKey(SearchKind::kExperiments, "name", Entity::kAttribute, "name", false, false);
  CheckStringKey(SearchKind::kExperiments, "attribute.name", Entity::kAttribute, "name", false,
                 false);
  CheckNumericKey(SearchKind::kExperiments, "creation_time", Entity::kAttribute, "creation_time");
  CheckNumericKey(SearchKind::kExperiments, "last_update_time", Entity::kAttribute,
                  "last_update_time");
  ExpectInvalid("experiment_id = '1'", SearchKind::kExperiments,
                {"Invalid attribute key 'experiment_id'"});
  ExpectInvalid("status = 'x'", SearchKind::kExperiments, {"Invalid attribute key 'status'"});
}

TEST(ExperimentsFilterTest, TagsWithNullChecks) {
  CheckStringKey(SearchKind::kExperiments, "tags.team", Entity::kTag, "team", false, true);
  CheckStringKey(SearchKind::kExperiments, "tag.`a.b`", Entity::kTag, "a.b", false, true);
}

TEST(ExperimentsFilterTest, OnlyAttributeAndTagPrefixes) {
  for (const std::string prefix :
       {"metrics", "metric", "params", "param", "datasets", "attributes", "attr", "run"}) {
    ExpectInvalid(prefix + ".name = 'x'", SearchKind::kExperiments,
                  {"Invalid entity type '" + prefix + "'", "('attribute', 'tag', 'tags')"});
  }
}

// ---------------------------------------------------------------------------------------------
// Registered models

TEST(RegisteredModelsFilterTest, NameAndTags) {
  CheckStringKey(SearchKind::kRegisteredModels, "name", Entity::kAttribute, "name", false, false);
  CheckStringKey(SearchKind::kRegisteredModels, "tags.stage", Entity::kTag, "stage", false, false);
  CheckStringKey(SearchKind::kRegisteredModels, "tag.stage", Entity::kTag, "stage", false, false);
  for (const std::string key :
       {"creation_timestamp", "last_updated_timestamp", "timestamp", "description"}) {
    ExpectInvalid(key + " = 1", SearchKind::kRegisteredModels,
                  {"Invalid attribute key '" + key + "'"});
  }
  ExpectInvalid("metrics.x > 1", SearchKind::kRegisteredModels, {"Invalid entity type"});
  ExpectInvalid("params.x = '1'", SearchKind::kRegisteredModels, {"Invalid entity type"});
}

TEST(RegisteredModelsFilterTest, PromptExclusionFilterParses) {
  Clause c = One("tag.`mlflow.prompt.is_prompt` != 'true'", SearchKind::kRegisteredModels);
  EXPECT_EQ(c.entity, Entity::kTag);
  EXPECT_EQ(c.key, "mlflow.prompt.is_prompt");
  EXPECT_EQ(c.op, Comparator::kNe);
  EXPECT_EQ(Str(c), "true");
  EXPECT_TRUE(IsPromptExclusionClause(c));

  // The client ANDs it onto the user's filter.
  Filter f = MustParse("name LIKE 'churn%' AND tag.`mlflow.prompt.is_prompt` != 'true'",
                       SearchKind::kRegisteredModels);
  ASSERT_EQ(f.clauses.size(), 2u);
  EXPECT_FALSE(IsPromptExclusionClause(f.clauses[0]));
  EXPECT_TRUE(IsPromptExclusionClause(f.clauses[1]));

  EXPECT_TRUE(IsPromptExclusionClause(
      One("tags.mlflow.prompt.is_prompt != 'true'", SearchKind::kRegisteredModels)));
  EXPECT_FALSE(IsPromptExclusionClause(
      One("tag.`mlflow.prompt.is_prompt` = 'true'", SearchKind::kRegisteredModels)));
  EXPECT_FALSE(IsPromptExclusionClause(
      One("tag.`mlflow.prompt.is_prompt` != 'false'", SearchKind::kRegisteredModels)));
  EXPECT_FALSE(IsPromptExclusionClause(One("tag.other != 'true'", SearchKind::kRegisteredModels)));
  // Model versions carry the same tag.
  EXPECT_TRUE(IsPromptExclusionClause(
      One("tags.`mlflow.prompt.is_prompt` != 'true'", SearchKind::kModelVersions)));
}

// ---------------------------------------------------------------------------------------------
// Model versions

TEST(ModelVersionsFilterTest, EveryKey) {
  CheckStringKey(SearchKind::kModelVersions, "name", Entity::kAttribute, "name", false, false);
  CheckStringKey(SearchKind::kModelVersions, "source_path", Entity::kAttribute, "source_path",
                 false, false);
  CheckStringKey(SearchKind::kModelVersions, "tags.k", Entity::kTag, "k", false, false);
  CheckNumericKey(SearchKind::kModelVersions, "version_number", Entity::kAttribute,
                  "version_number");
  ExpectInvalid("name IN ('a')", SearchKind::kModelVersions,
                {"Invalid comparator for attribute: IN"});
}

TEST(ModelVersionsFilterTest, RunIdTakesEqualityAndIn) {
  EXPECT_EQ(One("run_id = 'r1'", SearchKind::kModelVersions).op, Comparator::kEq);
  EXPECT_EQ(One("run_id != 'r1'", SearchKind::kModelVersions).op, Comparator::kNe);
  Clause in = One("run_id IN ('r1', \"r2\", 'r3')", SearchKind::kModelVersions);
  EXPECT_EQ(in.op, Comparator::kIn);
  EXPECT_EQ(List(in), (Strings{"r1", "r2", "r3"}));
  ExpectInvalid("run_id NOT IN ('r1')", SearchKind::kModelVersions,
                {"Invalid comparator for attribute: NOT IN"});
  ExpectInvalid("run_id LIKE 'r%'", SearchKind::kModelVersions,
                {"Invalid comparator for attribute: LIKE"});
  ExpectInvalid("run_id ILIKE 'r%'", SearchKind::kModelVersions,
                {"Invalid comparator for attribute: ILIKE"});
  ExpectInvalid("run_id > 'r'", SearchKind::kModelVersions,
                {"Invalid comparator for attribute: >"});
}

TEST(ModelVersionsFilterTest, UnknownOrUnfilterableKeys) {
  for (const std::string key : {"current_stage", "creation_timestamp", "last_updated_timestamp",
                                "version", "source", "status"}) {
    ExpectInvalid(key + " = 'x'", SearchKind::kModelVersions,
                  {"Invalid attribute key '" + key + "'"});
  }
  ExpectInvalid("metrics.m > 1", SearchKind::kModelVersions, {"Invalid entity type 'metrics'"});
}

// ---------------------------------------------------------------------------------------------
// Logged models

TEST(LoggedModelsFilterTest, EveryKey) {
  for (const std::string key : {"name", "model_id", "model_type", "status", "source_run_id"}) {
    CheckStringKey(SearchKind::kLoggedModels, key, Entity::kAttribute, key, true, false);
    CheckStringKey(SearchKind::kLoggedModels, "attributes." + key, Entity::kAttribute, key, true,
                   false);
  }
  CheckNumericKey(SearchKind::kLoggedModels, "creation_timestamp", Entity::kAttribute,
                  "creation_timestamp");
  CheckNumericKey(SearchKind::kLoggedModels, "creation_time", Entity::kAttribute,
                  "creation_timestamp");
  CheckNumericKey(SearchKind::kLoggedModels, "last_updated_timestamp", Entity::kAttribute,
                  "last_updated_timestamp");
  CheckNumericKey(SearchKind::kLoggedModels, "last_updated_time", Entity::kAttribute,
                  "last_updated_timestamp");
  CheckNumericKey(SearchKind::kLoggedModels, "metrics.accuracy", Entity::kMetric, "accuracy");
  CheckStringKey(SearchKind::kLoggedModels, "params.lr", Entity::kParam, "lr", false, false);
  CheckStringKey(SearchKind::kLoggedModels, "tags.t", Entity::kTag, "t", false, false);
  ExpectInvalid("datasets.name = 'x'", SearchKind::kLoggedModels, {"Invalid entity type"});
  ExpectInvalid("run_id = 'x'", SearchKind::kLoggedModels, {"Invalid attribute key 'run_id'"});
}

// ---------------------------------------------------------------------------------------------
// IN lists

TEST(ParseFilterTest, InListForms) {
  EXPECT_EQ(List(One("run_id IN ('only')", SearchKind::kRuns)), (Strings{"only"}));
  EXPECT_EQ(List(One("run_id IN('a','b')", SearchKind::kRuns)), (Strings{"a", "b"}));
  EXPECT_EQ(List(One("run_id IN ( 'a' ,\n 'b' )", SearchKind::kRuns)), (Strings{"a", "b"}));
  EXPECT_EQ(List(One("run_id IN ('a''b', \"c\")", SearchKind::kRuns)), (Strings{"a'b", "c"}));
  Filter in_then_more = MustParse("run_id IN ('x') AND metrics.m > 1", SearchKind::kRuns);
  ASSERT_EQ(in_then_more.clauses.size(), 2u);
  EXPECT_EQ(List(in_then_more.clauses[0]), (Strings{"x"}));
  EXPECT_EQ(in_then_more.clauses[1].entity, Entity::kMetric);

  ExpectInvalid("run_id IN ()", SearchKind::kRuns, {"expected a quoted string"});
  ExpectInvalid("run_id IN ('a',)", SearchKind::kRuns, {"expected a quoted string"});
  ExpectInvalid("run_id IN ('a' 'b')", SearchKind::kRuns, {"expected ',' or ')'"});
  ExpectInvalid("run_id IN ('a', 1)", SearchKind::kRuns, {"expected a quoted string", "'1'"});
  ExpectInvalid("run_id IN (bare)", SearchKind::kRuns, {"expected a quoted string"});
  ExpectInvalid("run_id IN ('a'", SearchKind::kRuns, {"end of the filter"});
  ExpectInvalid("run_id IN (", SearchKind::kRuns, {"end of the filter"});
  ExpectInvalid("run_id IN", SearchKind::kRuns, {"parenthesised list"});
  ExpectInvalid("run_id IN 'a'", SearchKind::kRuns, {"parenthesised list"});
  ExpectInvalid("run_id IN (('a'))", SearchKind::kRuns, {"expected a quoted string"});
  ExpectInvalid("run_id IN ('a'))", SearchKind::kRuns, {"expected AND"});
  ExpectInvalid("run_id = ('a')", SearchKind::kRuns, {"Expected a quoted string value"});
}

// ---------------------------------------------------------------------------------------------
// Structure errors

TEST(ParseFilterTest, OrNotAndGroupingAreRejected) {
  ExpectInvalid("metrics.a > 1 OR metrics.b > 1", SearchKind::kRuns,
                {"Invalid clause(s) in filter string", "'OR'"});
  ExpectInvalid("metrics.a > 1 or metrics.b > 1", SearchKind::kRuns, {"'OR'"});
  ExpectInvalid("NOT metrics.a > 1", SearchKind::kRuns, {"'NOT'"});
  ExpectInvalid("metrics.a NOT > 1", SearchKind::kRuns, {"NOT is only allowed in NOT IN"});
  ExpectInvalid("(metrics.a > 1)", SearchKind::kRuns, {"Expected an identifier", "'('"});
  ExpectInvalid("metrics.a > 1 AND (metrics.b > 1)", SearchKind::kRuns);
  ExpectInvalid("metrics.a > (1)", SearchKind::kRuns, {"Expected numeric value type"});
}

TEST(ParseFilterTest, TildeIsAComparatorNoSearchTakes) {
  ExpectInvalid("metrics.a ~ 1", SearchKind::kRuns, {"Invalid comparator '~' not one of '{"});
  ExpectInvalid("params.a !~ 'x'", SearchKind::kRuns, {"Invalid comparator '!~' not one of"});
  ExpectInvalid("tags.a ~ 'x'", SearchKind::kExperiments, {"Invalid comparator for tag: ~"});
  ExpectInvalid("name ~ 'x'", SearchKind::kLoggedModels,
                {"Invalid comparison operator for attributes.name: '~'"});
  ExpectInvalid("params.p = 'x' ~", SearchKind::kRuns, {"Invalid clause(s) in filter string: '~'"});
  ExpectInvalid("~", SearchKind::kRuns, {"Invalid clause(s) in filter string: '~'"});
  ExpectInvalid("~", SearchKind::kExperiments, {"Expected an identifier"});
}

TEST(ParseFilterTest, RunAndExperimentSearchesJudgeTheValueBeforeTheComparator) {
  ExpectInvalid("metrics.a LIKE 'x'", SearchKind::kRuns,
                {"Expected numeric value type for metric. Found 'x'"});
  ExpectInvalid("metrics.a ~ 'x'", SearchKind::kRuns,
                {"Expected numeric value type for metric. Found 'x'"});
  ExpectInvalid("metrics.a LIKE 1", SearchKind::kRuns, {"Invalid comparator 'LIKE' not one of"});
  ExpectInvalid("params.a > 1", SearchKind::kRuns,
                {"Expected a quoted string value for parameter"});
  ExpectInvalid("creation_time LIKE 'x'", SearchKind::kExperiments,
                {"Expected numeric value type for numeric attribute: creation_time. Found 'x'"});
  // Lists keep the comparator's message.
  ExpectInvalid("metrics.a IN ('x')", SearchKind::kRuns, {"Invalid comparator 'IN'"});
}

TEST(ParseFilterTest, EvaluationDatasetFilters) {
  Filter f = MustParse(
      "name LIKE 'qa%' AND tags.team = 'x' AND created_time > 5 AND created_by >= 'a' AND "
      "name IN ('a', 'b')",
      SearchKind::kEvaluationDatasets);
  ASSERT_EQ(f.clauses.size(), 5u);
  EXPECT_EQ(f.clauses[1].entity, Entity::kTag);
  EXPECT_EQ(f.clauses[2].key, "created_time");
  EXPECT_DOUBLE_EQ(Number(f.clauses[2]), 5);
  EXPECT_EQ(f.clauses[3].op, Comparator::kGe);
  EXPECT_EQ(List(f.clauses[4]), (Strings{"a", "b"}));
  ExpectInvalid("digest = 'x'", SearchKind::kEvaluationDatasets,
                {"Invalid attribute key 'digest' specified. Valid keys are: {"});
  ExpectInvalid("tag.a = 'x'", SearchKind::kEvaluationDatasets,
                {"Invalid identifier token 'tag' specified"});
  ExpectInvalid("attributes.name = 'x'", SearchKind::kEvaluationDatasets,
                {"Invalid identifier token 'attributes' specified"});
  ExpectInvalid("tags.a > 'x'", SearchKind::kEvaluationDatasets, {"Invalid comparator for tag: >"});
  ExpectInvalid("created_time LIKE 1", SearchKind::kEvaluationDatasets,
                {"Invalid comparator for numeric attribute: LIKE"});
  ExpectInvalid("created_by IN ('a')", SearchKind::kEvaluationDatasets,
                {"Only ['name'] attributes support comparison"});
  ExpectInvalid("name NOT IN ('a')", SearchKind::kEvaluationDatasets,
                {"List values for 'name' are only supported with the IN comparator."});
  StatusOr<OrderBy> order = ParseOrderBy("last_update_time DESC", SearchKind::kEvaluationDatasets);
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_FALSE(order->ascending);
  EXPECT_FALSE(ParseOrderBy("created_by", SearchKind::kEvaluationDatasets).ok());
}

TEST(ParseFilterTest, MalformedClauses) {
  ExpectInvalid("metrics.a > 1 AND", SearchKind::kRuns, {"ends with AND"});
  ExpectInvalid("AND metrics.a > 1", SearchKind::kRuns, {"'AND'"});
  ExpectInvalid("metrics.a > 1 AND AND metrics.b > 1", SearchKind::kRuns, {"'AND'"});
  ExpectInvalid("metrics.a > 1 metrics.b > 1", SearchKind::kRuns, {"expected AND"});
  ExpectInvalid("metrics.a > 1, metrics.b > 1", SearchKind::kRuns, {"expected AND", "','"});
  ExpectInvalid("metrics.a", SearchKind::kRuns, {"a comparator"});
  ExpectInvalid("metrics.a >", SearchKind::kRuns, {"a value"});
  ExpectInvalid("metrics.a 1", SearchKind::kRuns, {"expected a comparator"});
  // A run of = ! < > ~ is one operator, as in MLflow's tokenizer.
  ExpectInvalid("metrics.a == 1", SearchKind::kRuns, {"Invalid comparator '==' not one of"});
  ExpectInvalid("metrics.a <> 1", SearchKind::kRuns, {"Invalid comparator '<>'"});
  ExpectInvalid("metrics.a => 1", SearchKind::kRuns, {"Invalid comparator '=>'"});
  ExpectInvalid("metrics.a ! 1", SearchKind::kRuns, {"Invalid comparator '!'"});
  ExpectInvalid("params.p IS 'x'", SearchKind::kRuns, {"IS must be followed by NULL"});
  ExpectInvalid("params.p IS NOT", SearchKind::kRuns, {"IS must be followed by NULL"});
  ExpectInvalid("params.p IS NULL 'x'", SearchKind::kRuns, {"expected AND"});
  ExpectInvalid("'x' = params.p", SearchKind::kRuns, {"Expected an identifier"});
  ExpectInvalid("1 = 1", SearchKind::kRuns, {"Expected an identifier"});
  ExpectInvalid("params.p = 'a' 'b'", SearchKind::kRuns, {"expected AND"});
  ExpectInvalid("params.p LIKE", SearchKind::kRuns, {"a value"});
  ExpectInvalid("params.p = NULL", SearchKind::kRuns, {"Expected a quoted string value"});
}

// ---------------------------------------------------------------------------------------------
// Hostile input

TEST(HostileFilterTest, InjectionAttemptsAreRejected) {
  const Strings attempts = {
      "name = 'a' OR 1=1 --",
      "name = 'x'; DROP TABLE runs",
      "name = 'x' --",
      "name = 'x' -- comment",
      "name = 'x' /* c */",
      "name = 'x' UNION SELECT * FROM runs",
      "name = 'x' OR 'a'='a'",
      "name = 'x'' OR ''1''=''1",
      "name = 'x\\' OR 1=1 --",
      "name = x OR 1=1",
      "name = 'x' AND 1=1",
      "name = 'x' AND name = 'y'; SELECT 1",
      "name = 'x'\nOR name = 'y'",
      "name = 'x' || 'y'",
      "name = 'x' # mysql comment",
      "name = 'x' AND sleep(5) = 1",
  };
  for (const std::string& a : attempts) ExpectInvalid(a, SearchKind::kExperiments);
  // Injection text inside a quoted value is only data.
  Clause c = One("name = 'a''; DROP TABLE experiments; --'", SearchKind::kExperiments);
  EXPECT_EQ(Str(c), "a'; DROP TABLE experiments; --");
  Clause d = One("name = \"x' OR 1=1 --\"", SearchKind::kExperiments);
  EXPECT_EQ(Str(d), "x' OR 1=1 --");
}

TEST(HostileFilterTest, UnterminatedQuotes) {
  ExpectInvalid("params.p = 'abc", SearchKind::kRuns, {"Unterminated quoted string"});
  ExpectInvalid("params.p = \"abc", SearchKind::kRuns, {"Unterminated quoted string"});
  ExpectInvalid("params.`abc = 'x'", SearchKind::kRuns);
  ExpectInvalid("`abc = 'x'", SearchKind::kRuns);
  ExpectInvalid("params.p = 'abc\\'", SearchKind::kRuns, {"Unterminated quoted string"});
  ExpectInvalid("params.p = '", SearchKind::kRuns, {"Unterminated quoted string"});
  ExpectInvalid("'", SearchKind::kRuns, {"Unterminated quoted string"});
}

TEST(HostileFilterTest, StrayCharactersAndBytes) {
  for (const std::string c :
       {";", "*", "|", "#", "$",  "@", "{", "}",    "[",    "]",    "?",
        "^", "&", "+", "/", "\\", ":", "%", "\x01", "\x7f", "\xff", "\xc3\xa9"}) {
    ExpectInvalid("params.p = 'x' " + c, SearchKind::kRuns, {"Invalid character"});
    ExpectInvalid(c + "params.p = 'x'", SearchKind::kRuns);
  }
  ExpectInvalid("params.p = 'x' \xc3\xa9", SearchKind::kRuns, {"\\xc3"});
}

TEST(HostileFilterTest, NulBytesAreRejectedEverywhere) {
  using namespace std::string_literals;
  ExpectInvalid("params.p = 'a\0b'"s, SearchKind::kRuns, {"NUL"});
  ExpectInvalid("params.p\0 = 'ab'"s, SearchKind::kRuns, {"NUL"});
  ExpectInvalid("\0"s, SearchKind::kRuns, {"NUL"});
  ExpectInvalid("params.p = 'a' AND\0"s, SearchKind::kRuns, {"NUL"});
  StatusOr<OrderBy> o = ParseOrderBy("name\0 ASC"s, SearchKind::kExperiments);
  EXPECT_FALSE(o.ok());
}

TEST(HostileFilterTest, LengthLimit) {
  const std::string megabyte_value = "params.p = '" + std::string(1 << 20, 'a') + "'";
  ExpectInvalid(megabyte_value, SearchKind::kRuns, {"bytes long", "limit"});
  ExpectInvalid(std::string(kMaxFilterLength + 1, ' '), SearchKind::kRuns, {"limit"});
  // Just under the limit is fine, and the value survives intact.
  const std::string prefix = "params.p = '";
  const std::string big(kMaxFilterLength - prefix.size() - 1, 'b');
  Clause c = One(prefix + big + "'", SearchKind::kRuns);
  EXPECT_EQ(Str(c).size(), big.size());
  // A megabyte of unterminated quote or of garbage is rejected quickly.
  ExpectInvalid("params.p = '" + std::string(kMaxFilterLength - 20, 'x'), SearchKind::kRuns,
                {"Unterminated"});
}

TEST(HostileFilterTest, ClauseLimit) {
  auto clauses = [](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) s += " AND ";
      s += "metrics.m" + std::to_string(i) + " > " + std::to_string(i);
    }
    return s;
  };
  Filter f = MustParse(clauses(kMaxClauses), SearchKind::kRuns);
  ASSERT_EQ(f.clauses.size(), kMaxClauses);
  EXPECT_EQ(f.clauses.back().key, "m" + std::to_string(kMaxClauses - 1));
  ExpectInvalid(clauses(kMaxClauses + 1), SearchKind::kRuns, {"more than 100 clauses"});
  ExpectInvalid(clauses(5000), SearchKind::kRuns, {"more than 100 clauses"});

  std::string ands = "metrics.m > 1";
  for (int i = 0; i < 20000; ++i) ands += " AND";
  ExpectInvalid(ands, SearchKind::kRuns);
  ExpectInvalid(std::string(100000, '('), SearchKind::kRuns);
  std::string nested = "run_id IN " + std::string(50000, '(') + "'a'" + std::string(50000, ')');
  ExpectInvalid(nested, SearchKind::kRuns);
}

TEST(HostileFilterTest, InListLimit) {
  auto list = [](std::size_t n) {
    std::string s = "run_id IN (";
    for (std::size_t i = 0; i < n; ++i) s += (i > 0 ? ",'" : "'") + std::to_string(i) + "'";
    return s + ")";
  };
  EXPECT_EQ(List(One(list(kMaxInListValues), SearchKind::kRuns)).size(), kMaxInListValues);
  ExpectInvalid(list(kMaxInListValues + 1), SearchKind::kRuns, {"at most 10000 values"});
}

TEST(HostileFilterTest, LongTokensInMessagesAreCut) {
  StatusOr<Filter> f =
      ParseFilter("metrics.m = '" + std::string(100000, 'z') + "'", SearchKind::kRuns);
  ASSERT_FALSE(f.ok());
  EXPECT_LT(f.status().message().size(), 400u);
  EXPECT_NE(f.status().message().find("..."), std::string::npos);
}

// Random strings over the grammar's alphabet must never crash, and must either parse or give
// INVALID_ARGUMENT. Anything accepted respects the limits.
TEST(HostileFilterTest, RandomInputNeverCrashes) {
  const Strings pieces = {"metrics.m",
                          "params.p",
                          "tags.`t`",
                          "run_id",
                          "start_time",
                          "name",
                          " ",
                          "=",
                          "!=",
                          "<",
                          ">=",
                          "<>",
                          "LIKE",
                          "IN",
                          "NOT",
                          "IS",
                          "NULL",
                          "AND",
                          "OR",
                          "(",
                          ")",
                          ",",
                          "'v'",
                          "\"v\"",
                          "'",
                          "\"",
                          "`",
                          "1",
                          "-2.5e3",
                          ".",
                          "\\",
                          "\x01",
                          "\xff",
                          ";",
                          "--",
                          "tag.",
                          "datasets.name"};
  std::mt19937 rng(12345);
  for (SearchKind kind : kAllKinds) {
    for (int iteration = 0; iteration < 3000; ++iteration) {
      std::string text;
      const int n = static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
      StatusOr<Filter> f = ParseFilter(text, kind);
      if (f.ok()) {
        EXPECT_LE(f->clauses.size(), kMaxClauses);
      } else {
        EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << text;
        EXPECT_FALSE(f.status().message().empty());
      }
      StatusOr<OrderBy> o = ParseOrderBy(text, kind);
      if (!o.ok()) {
        EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << text;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// order_by

}  // namespace
}  // namespace cairn::filter
