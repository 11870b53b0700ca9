#include "filter/filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "filter/lexer.h"

namespace cairn::filter {
namespace {

using Strings = std::vector<std::string>;

Filter MustParse(std::string_view text, SearchKind kind) {
  StatusOr<Filter> f = ParseFilter(text, kind);
  EXPECT_TRUE(f.ok()) << "filter: " << text << "\nerror: " << f.status().ToString();
  return f.ok() ? *f : Filter{};
}

Clause One(std::string_view text, SearchKind kind) {
  Filter f = MustParse(text, kind);
  EXPECT_EQ(f.clauses.size(), 1u) << text;
  return f.clauses.empty() ? Clause{} : f.clauses[0];
}

// Expects INVALID_ARGUMENT whose message contains every one of `needles`.
void ExpectInvalid(std::string_view text, SearchKind kind, const Strings& needles = {}) {
  StatusOr<Filter> f = ParseFilter(text, kind);
  ASSERT_FALSE(f.ok()) << "accepted: " << text;
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << text;
  for (const std::string& n : needles) {
    EXPECT_NE(f.status().message().find(n), std::string::npos)
        << "filter: " << text << "\nmessage: " << f.status().message() << "\nmissing: " << n;
  }
}

OrderBy MustOrder(std::string_view text, SearchKind kind) {
  StatusOr<OrderBy> o = ParseOrderBy(text, kind);
  EXPECT_TRUE(o.ok()) << "order_by: " << text << "\nerror: " << o.status().ToString();
  return o.ok() ? *o : OrderBy{};
}

void ExpectOrderInvalid(std::string_view text, SearchKind kind, const Strings& needles = {}) {
  StatusOr<OrderBy> o = ParseOrderBy(text, kind);
  ASSERT_FALSE(o.ok()) << "accepted: " << text;
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << text;
  for (const std::string& n : needles) {
    EXPECT_NE(o.status().message().find(n), std::string::npos)
        << "order_by: " << text << "\nmessage: " << o.status().message() << "\nmissing: " << n;
  }
}

double Number(const Clause& c) {
  const double* d = std::get_if<double>(&c.value);
  EXPECT_NE(d, nullptr);
  return d != nullptr ? *d : -12345;
}

std::string Str(const Clause& c) {
  const std::string* s = std::get_if<std::string>(&c.value);
  EXPECT_NE(s, nullptr);
  return s != nullptr ? *s : "<not a string>";
}

Strings List(const Clause& c) {
  const Strings* l = std::get_if<Strings>(&c.value);
  EXPECT_NE(l, nullptr);
  return l != nullptr ? *l : Strings{};
}

struct OpCase {
  std::string text;
  Comparator op;
};

const std::vector<OpCase> kNumericOpCases = {
    {"=", Comparator::kEq},  {"!=", Comparator::kNe}, {"<", Comparator::kLt},
    {"<=", Comparator::kLe}, {">", Comparator::kGt},  {">=", Comparator::kGe},
};
const std::vector<OpCase> kStringOpCases = {
    {"=", Comparator::kEq},
    {"!=", Comparator::kNe},
    {"LIKE", Comparator::kLike},
    {"ILIKE", Comparator::kILike},
};
const Strings kOrderingOps = {"<", "<=", ">", ">="};
const Strings kPatternOps = {"LIKE", "ILIKE"};

constexpr SearchKind kAllKinds[] = {SearchKind::kRuns, SearchKind::kExperiments,
                                    SearchKind::kRegisteredModels, SearchKind::kModelVersions,
                                    SearchKind::kLoggedModels};

// Checks `<ident> <op> <value>` for every op in `ok` and rejection of every op in `bad`.
void CheckNumericKey(SearchKind kind, const std::string& ident, Entity entity,
                     const std::string& key) {
  for (const OpCase& oc : kNumericOpCases) {
    Clause c = One(ident + " " + oc.text + " 42", kind);
    EXPECT_EQ(c.entity, entity) << ident;
    EXPECT_EQ(c.key, key) << ident;
    EXPECT_EQ(c.op, oc.op) << ident;
    EXPECT_DOUBLE_EQ(Number(c), 42);
  }
  for (const std::string& op : kPatternOps) {
    ExpectInvalid(ident + " " + op + " '4%'", kind, {"Invalid comparator '" + op + "'"});
  }
  ExpectInvalid(ident + " IN ('1')", kind, {"Invalid comparator 'IN'"});
  ExpectInvalid(ident + " NOT IN ('1')", kind, {"Invalid comparator 'NOT IN'"});
  ExpectInvalid(ident + " IS NULL", kind, {"Invalid comparator 'IS NULL'"});
  ExpectInvalid(ident + " = '42'", kind, {"Expected numeric value type", "'42'"});
  ExpectInvalid(ident + " = \"42\"", kind, {"Expected numeric value type"});
}

void CheckStringKey(SearchKind kind, const std::string& ident, Entity entity,
                    const std::string& key, bool in_lists, bool null_checks) {
  for (const OpCase& oc : kStringOpCases) {
    Clause c = One(ident + " " + oc.text + " 'v%'", kind);
    EXPECT_EQ(c.entity, entity) << ident;
    EXPECT_EQ(c.key, key) << ident;
    EXPECT_EQ(c.op, oc.op) << ident;
    EXPECT_EQ(Str(c), "v%");
  }
  for (const std::string& op : kOrderingOps) {
    ExpectInvalid(ident + " " + op + " 'v'", kind, {"Invalid comparator '" + op + "'"});
  }
  if (in_lists) {
    Clause in = One(ident + " IN ('a', 'b')", kind);
    EXPECT_EQ(in.op, Comparator::kIn);
    EXPECT_EQ(List(in), (Strings{"a", "b"}));
    Clause not_in = One(ident + " NOT IN ('c')", kind);
    EXPECT_EQ(not_in.op, Comparator::kNotIn);
    EXPECT_EQ(List(not_in), (Strings{"c"}));
  } else {
    ExpectInvalid(ident + " IN ('a')", kind, {"Invalid comparator 'IN'"});
    ExpectInvalid(ident + " NOT IN ('a')", kind, {"Invalid comparator 'NOT IN'"});
  }
  if (null_checks) {
    Clause is_null = One(ident + " IS NULL", kind);
    EXPECT_EQ(is_null.op, Comparator::kIsNull);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(is_null.value));
    Clause not_null = One(ident + " IS NOT NULL", kind);
    EXPECT_EQ(not_null.op, Comparator::kIsNotNull);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(not_null.value));
  } else {
    ExpectInvalid(ident + " IS NULL", kind, {"Invalid comparator 'IS NULL'"});
    ExpectInvalid(ident + " IS NOT NULL", kind, {"Invalid comparator 'IS NOT NULL'"});
  }
  ExpectInvalid(ident + " = 1", kind, {"Expected a quoted string value", "'1'"});
  ExpectInvalid(ident + " = bare", kind, {"Expected a quoted string value", "'bare'"});
}

// ---------------------------------------------------------------------------------------------
// Basics

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
                {"Expected numeric value type for metric", "acc"});
}

TEST(RunsFilterTest, ParamsAndTagsAreStringsWithNullChecks) {
  CheckStringKey(SearchKind::kRuns, "params.alpha", Entity::kParam, "alpha", false, true);
  CheckStringKey(SearchKind::kRuns, "tags.team", Entity::kTag, "team", false, true);
  CheckStringKey(SearchKind::kRuns, "tag.`mlflow.user`", Entity::kTag, "mlflow.user", false, true);
  ExpectInvalid("params.alpha = 0.5", SearchKind::kRuns,
                {"Expected a quoted string value for param", "alpha"});
}

TEST(RunsFilterTest, StringAttributes) {
  CheckStringKey(SearchKind::kRuns, "run_id", Entity::kAttribute, "run_id", true, false);
  CheckStringKey(SearchKind::kRuns, "attributes.run_id", Entity::kAttribute, "run_id", true, false);
  CheckStringKey(SearchKind::kRuns, "run_uuid", Entity::kAttribute, "run_id", true, false);
  for (const std::string key : {"run_name", "status", "user_id", "artifact_uri"}) {
    CheckStringKey(SearchKind::kRuns, key, Entity::kAttribute, key, false, false);
    CheckStringKey(SearchKind::kRuns, "attributes." + key, Entity::kAttribute, key, false, false);
    ExpectInvalid(key + " IN ('a')", SearchKind::kRuns, {"Only the 'run_id' attribute"});
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
                  {"Invalid entity type '" + prefix + "'", "attribute, tag, tags"});
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
  ExpectInvalid("name IN ('a')", SearchKind::kModelVersions, {"Invalid comparator 'IN'"});
}

TEST(ModelVersionsFilterTest, RunIdTakesEqualityAndIn) {
  EXPECT_EQ(One("run_id = 'r1'", SearchKind::kModelVersions).op, Comparator::kEq);
  EXPECT_EQ(One("run_id != 'r1'", SearchKind::kModelVersions).op, Comparator::kNe);
  Clause in = One("run_id IN ('r1', \"r2\", 'r3')", SearchKind::kModelVersions);
  EXPECT_EQ(in.op, Comparator::kIn);
  EXPECT_EQ(List(in), (Strings{"r1", "r2", "r3"}));
  ExpectInvalid("run_id NOT IN ('r1')", SearchKind::kModelVersions,
                {"Invalid comparator 'NOT IN'", "run_id"});
  ExpectInvalid("run_id LIKE 'r%'", SearchKind::kModelVersions,
                {"Invalid comparator 'LIKE'", "run_id"});
  ExpectInvalid("run_id ILIKE 'r%'", SearchKind::kModelVersions, {"Invalid comparator 'ILIKE'"});
  ExpectInvalid("run_id > 'r'", SearchKind::kModelVersions, {"Invalid comparator '>'"});
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

TEST(ParseFilterTest, MalformedClauses) {
  ExpectInvalid("metrics.a > 1 AND", SearchKind::kRuns, {"ends with AND"});
  ExpectInvalid("AND metrics.a > 1", SearchKind::kRuns, {"'AND'"});
  ExpectInvalid("metrics.a > 1 AND AND metrics.b > 1", SearchKind::kRuns, {"'AND'"});
  ExpectInvalid("metrics.a > 1 metrics.b > 1", SearchKind::kRuns, {"expected AND"});
  ExpectInvalid("metrics.a > 1, metrics.b > 1", SearchKind::kRuns, {"expected AND", "','"});
  ExpectInvalid("metrics.a", SearchKind::kRuns, {"a comparator"});
  ExpectInvalid("metrics.a >", SearchKind::kRuns, {"a value"});
  ExpectInvalid("metrics.a 1", SearchKind::kRuns, {"expected a comparator"});
  ExpectInvalid("metrics.a == 1", SearchKind::kRuns, {"Expected numeric value type", "'='"});
  ExpectInvalid("metrics.a <> 1", SearchKind::kRuns, {"Invalid comparator '<>'"});
  ExpectInvalid("metrics.a => 1", SearchKind::kRuns, {"Expected numeric value type"});
  ExpectInvalid("metrics.a ! 1", SearchKind::kRuns, {"Invalid character '!'"});
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
       {";", "*", "|", "#", "$",  "@", "{", "}",    "[",    "]",    "?",       "~",
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

TEST(OrderByTest, DirectionParsing) {
  EXPECT_TRUE(MustOrder("name", SearchKind::kExperiments).ascending);
  EXPECT_TRUE(MustOrder("name ASC", SearchKind::kExperiments).ascending);
  EXPECT_TRUE(MustOrder("name asc", SearchKind::kExperiments).ascending);
  EXPECT_FALSE(MustOrder("name DESC", SearchKind::kExperiments).ascending);
  EXPECT_FALSE(MustOrder("name desc", SearchKind::kExperiments).ascending);
  EXPECT_FALSE(MustOrder("  name \t Desc  ", SearchKind::kExperiments).ascending);
  ExpectOrderInvalid("name DESCENDING", SearchKind::kExperiments, {"ASC or DESC"});
  ExpectOrderInvalid("name ASC DESC", SearchKind::kExperiments, {"after the direction"});
  ExpectOrderInvalid("name 1", SearchKind::kExperiments, {"ASC or DESC"});
  ExpectOrderInvalid("", SearchKind::kExperiments, {"Invalid order_by clause"});
  ExpectOrderInvalid("   ", SearchKind::kExperiments, {"Invalid order_by clause"});
  ExpectOrderInvalid("name, creation_time", SearchKind::kExperiments);
  ExpectOrderInvalid("ASC", SearchKind::kExperiments);
  ExpectOrderInvalid("'name'", SearchKind::kExperiments, {"Expected an identifier"});
  ExpectOrderInvalid("name; DROP TABLE experiments", SearchKind::kExperiments,
                     {"Invalid character ';'"});
  ExpectOrderInvalid("`name", SearchKind::kExperiments, {"Unterminated"});
  ExpectOrderInvalid(std::string(kMaxOrderByLength + 1, 'a'), SearchKind::kExperiments, {"limit"});
}

TEST(OrderByTest, Runs) {
  OrderBy m = MustOrder("metrics.rmse DESC", SearchKind::kRuns);
  EXPECT_EQ(m.entity, Entity::kMetric);
  EXPECT_EQ(m.key, "rmse");
  EXPECT_FALSE(m.ascending);
  OrderBy p = MustOrder("params.alpha", SearchKind::kRuns);
  EXPECT_EQ(p.entity, Entity::kParam);
  EXPECT_EQ(p.key, "alpha");
  OrderBy t = MustOrder("tags.`mlflow.runName` DESC", SearchKind::kRuns);
  EXPECT_EQ(t.entity, Entity::kTag);
  EXPECT_EQ(t.key, "mlflow.runName");
  EXPECT_EQ(MustOrder("metric.`a b` asc", SearchKind::kRuns).key, "a b");
  EXPECT_EQ(MustOrder("tags.mlflow.user", SearchKind::kRuns).key, "mlflow.user");
  for (const std::string key :
       {"run_id", "run_name", "status", "user_id", "start_time", "end_time", "artifact_uri"}) {
    for (const std::string& ident :
         {key, "attributes." + key, "attribute." + key, "`" + key + "`"}) {
      OrderBy o = MustOrder(ident + " DESC", SearchKind::kRuns);
      EXPECT_EQ(o.entity, Entity::kAttribute) << ident;
      EXPECT_EQ(o.key, key) << ident;
      EXPECT_FALSE(o.ascending);
    }
  }
  EXPECT_EQ(MustOrder("created", SearchKind::kRuns).key, "start_time");
  EXPECT_EQ(MustOrder("`run name`", SearchKind::kRuns).key, "run_name");
  ExpectOrderInvalid("datasets.name", SearchKind::kRuns, {"cannot order by datasets"});
  ExpectOrderInvalid("experiment_id", SearchKind::kRuns, {"not orderable"});
  ExpectOrderInvalid("lifecycle_stage", SearchKind::kRuns, {"not orderable"});
  ExpectOrderInvalid("foo", SearchKind::kRuns, {"'foo'"});
  ExpectOrderInvalid("bogus.key", SearchKind::kRuns, {"Invalid entity type 'bogus'"});
  ExpectOrderInvalid("metrics.", SearchKind::kRuns, {"Missing key"});
}

TEST(OrderByTest, Experiments) {
  for (const std::string key : {"name", "experiment_id", "creation_time", "last_update_time"}) {
    OrderBy o = MustOrder(key, SearchKind::kExperiments);
    EXPECT_EQ(o.entity, Entity::kAttribute);
    EXPECT_EQ(o.key, key);
    EXPECT_EQ(MustOrder("attribute." + key + " DESC", SearchKind::kExperiments).key, key);
  }
  ExpectOrderInvalid("tags.t", SearchKind::kExperiments, {"cannot order by tags"});
  ExpectOrderInvalid("last_updated_timestamp", SearchKind::kExperiments, {"not orderable"});
  ExpectOrderInvalid("metrics.m", SearchKind::kExperiments, {"Invalid entity type"});
}

TEST(OrderByTest, RegisteredModels) {
  for (const std::string key : {"name", "creation_timestamp", "last_updated_timestamp"}) {
    EXPECT_EQ(MustOrder(key + " DESC", SearchKind::kRegisteredModels).key, key);
  }
  OrderBy ts = MustOrder("timestamp DESC", SearchKind::kRegisteredModels);
  EXPECT_EQ(ts.key, "last_updated_timestamp");
  EXPECT_FALSE(ts.ascending);
  ExpectOrderInvalid("tags.t", SearchKind::kRegisteredModels, {"cannot order by tags"});
  ExpectOrderInvalid("version_number", SearchKind::kRegisteredModels, {"not orderable"});
}

TEST(OrderByTest, ModelVersions) {
  for (const std::string key :
       {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}) {
    EXPECT_EQ(MustOrder(key, SearchKind::kModelVersions).key, key);
  }
  ExpectOrderInvalid("run_id", SearchKind::kModelVersions, {"not orderable"});
  ExpectOrderInvalid("source_path", SearchKind::kModelVersions, {"not orderable"});
  ExpectOrderInvalid("timestamp", SearchKind::kModelVersions);
  ExpectOrderInvalid("tags.t", SearchKind::kModelVersions, {"cannot order by tags"});
}

TEST(OrderByTest, LoggedModels) {
  for (const std::string key : {"name", "model_id", "model_type", "status", "source_run_id",
                                "creation_timestamp", "last_updated_timestamp"}) {
    EXPECT_EQ(MustOrder(key, SearchKind::kLoggedModels).key, key);
  }
  EXPECT_EQ(MustOrder("creation_time", SearchKind::kLoggedModels).key, "creation_timestamp");
  EXPECT_EQ(MustOrder("last_updated_time", SearchKind::kLoggedModels).key,
            "last_updated_timestamp");
  OrderBy m = MustOrder("metrics.acc DESC", SearchKind::kLoggedModels);
  EXPECT_EQ(m.entity, Entity::kMetric);
  EXPECT_EQ(m.key, "acc");
  ExpectOrderInvalid("params.p", SearchKind::kLoggedModels, {"cannot order by params"});
  ExpectOrderInvalid("tags.t", SearchKind::kLoggedModels, {"cannot order by tags"});
}

// ---------------------------------------------------------------------------------------------
// Helpers

TEST(IsNumericAttributeTest, PerKind) {
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kRuns, "start_time"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kRuns, "end_time"));
  for (const char* key :
       {"run_id", "run_name", "status", "user_id", "artifact_uri", "experiment_id", "nope"}) {
    EXPECT_FALSE(IsNumericAttribute(SearchKind::kRuns, key)) << key;
  }
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kExperiments, "creation_time"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kExperiments, "last_update_time"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kExperiments, "name"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kExperiments, "experiment_id"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kRegisteredModels, "creation_timestamp"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kRegisteredModels, "last_updated_timestamp"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kRegisteredModels, "name"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kModelVersions, "version_number"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kModelVersions, "creation_timestamp"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kModelVersions, "last_updated_timestamp"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kModelVersions, "run_id"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kModelVersions, "source_path"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kLoggedModels, "creation_timestamp"));
  EXPECT_TRUE(IsNumericAttribute(SearchKind::kLoggedModels, "last_updated_timestamp"));
  EXPECT_FALSE(IsNumericAttribute(SearchKind::kLoggedModels, "model_id"));
}

TEST(ComparatorSqlTest, Names) {
  EXPECT_EQ(ComparatorSql(Comparator::kEq), "=");
  EXPECT_EQ(ComparatorSql(Comparator::kNe), "!=");
  EXPECT_EQ(ComparatorSql(Comparator::kLt), "<");
  EXPECT_EQ(ComparatorSql(Comparator::kLe), "<=");
  EXPECT_EQ(ComparatorSql(Comparator::kGt), ">");
  EXPECT_EQ(ComparatorSql(Comparator::kGe), ">=");
  EXPECT_EQ(ComparatorSql(Comparator::kLike), "LIKE");
  EXPECT_EQ(ComparatorSql(Comparator::kILike), "ILIKE");
  EXPECT_EQ(ComparatorSql(Comparator::kIn), "IN");
  EXPECT_EQ(ComparatorSql(Comparator::kNotIn), "NOT IN");
  EXPECT_EQ(ComparatorSql(Comparator::kIsNull), "IS NULL");
  EXPECT_EQ(ComparatorSql(Comparator::kIsNotNull), "IS NOT NULL");
}

TEST(LikeMatchTest, Wildcards) {
  EXPECT_TRUE(LikeMatch("abc", "abc", false));
  EXPECT_FALSE(LikeMatch("abc", "ab", false));
  EXPECT_FALSE(LikeMatch("ab", "abc", false));
  EXPECT_TRUE(LikeMatch("", "", false));
  EXPECT_TRUE(LikeMatch("", "%", false));
  EXPECT_TRUE(LikeMatch("", "%%", false));
  EXPECT_FALSE(LikeMatch("", "_", false));
  EXPECT_FALSE(LikeMatch("a", "", false));
  EXPECT_TRUE(LikeMatch("anything", "%", false));
  EXPECT_TRUE(LikeMatch("churn-model", "%churn%", false));
  EXPECT_TRUE(LikeMatch("churn", "%churn%", false));
  EXPECT_TRUE(LikeMatch("my-churn", "%churn", false));
  EXPECT_FALSE(LikeMatch("churn-x", "%churn", false));
  EXPECT_TRUE(LikeMatch("churn-x", "churn%", false));
  EXPECT_TRUE(LikeMatch("abc", "a_c", false));
  EXPECT_FALSE(LikeMatch("ac", "a_c", false));
  EXPECT_FALSE(LikeMatch("abbc", "a_c", false));
  EXPECT_TRUE(LikeMatch("abbc", "a__c", false));
  EXPECT_TRUE(LikeMatch("abcbcd", "a%bcd", false));
  EXPECT_TRUE(LikeMatch("mississippi", "m%iss%ppi", false));
  EXPECT_FALSE(LikeMatch("mississippi", "m%iss%ppx", false));
  EXPECT_TRUE(LikeMatch("aXbXc", "a%b%c", false));
  EXPECT_TRUE(LikeMatch("100%", "100%", false));  // % is always a wildcard
  EXPECT_TRUE(LikeMatch("a_b", "a_b", false));
  EXPECT_TRUE(LikeMatch("axb", "a_b", false));
  EXPECT_TRUE(LikeMatch("abc", "%_", false));
  EXPECT_TRUE(LikeMatch("abc", "_%_", false));
  EXPECT_FALSE(LikeMatch("a", "_%_", false));
  EXPECT_TRUE(LikeMatch(R"(a\b)", R"(a\b)", false));  // no escape character
}

TEST(LikeMatchTest, CaseSensitivity) {
  EXPECT_FALSE(LikeMatch("Churn", "churn", false));
  EXPECT_TRUE(LikeMatch("Churn", "churn", true));
  EXPECT_TRUE(LikeMatch("CHURN-Model", "%churn%", true));
  EXPECT_FALSE(LikeMatch("CHURN-Model", "%churn%", false));
  EXPECT_TRUE(LikeMatch("abc", "A_C", true));
  // Only ASCII letters fold.
  EXPECT_FALSE(LikeMatch("\xc3\x89", "\xc3\xa9", true));  // É vs é
  EXPECT_TRUE(LikeMatch("\xc3\xa9", "\xc3\xa9", true));
}

TEST(LikeMatchTest, UnderscoreMatchesOneUtf8Character) {
  EXPECT_TRUE(LikeMatch("caf\xc3\xa9", "caf_", false));  // é is two bytes
  EXPECT_FALSE(LikeMatch("caf\xc3\xa9", "caf__", false));
  EXPECT_TRUE(
      LikeMatch("\xe2\x82\xac"
                "1",
                "_1", false));                                 // € is three bytes
  EXPECT_TRUE(LikeMatch("x\xf0\x9f\x98\x80y", "x_y", false));  // emoji is four bytes
  EXPECT_TRUE(LikeMatch("\xc3\xa9\xc3\xa9\xc3\xa9", "%\xc3\xa9_", false));
  // Malformed UTF-8 does not crash.
  EXPECT_TRUE(LikeMatch("\xc3", "_", false));
  EXPECT_TRUE(LikeMatch("\xf0\x9f", "_", false));
  EXPECT_TRUE(LikeMatch("\x80\x80", "__", false));
}

// Textbook dynamic-programming LIKE over ASCII, as an oracle for the greedy matcher.
bool ReferenceLike(const std::string& v, const std::string& p) {
  std::vector<std::vector<bool>> m(v.size() + 1, std::vector<bool>(p.size() + 1, false));
  m[0][0] = true;
  for (std::size_t j = 1; j <= p.size(); ++j) m[0][j] = m[0][j - 1] && p[j - 1] == '%';
  for (std::size_t i = 1; i <= v.size(); ++i) {
    for (std::size_t j = 1; j <= p.size(); ++j) {
      if (p[j - 1] == '%') {
        m[i][j] = m[i][j - 1] || m[i - 1][j];
      } else {
        m[i][j] = m[i - 1][j - 1] && (p[j - 1] == '_' || p[j - 1] == v[i - 1]);
      }
    }
  }
  return m[v.size()][p.size()];
}

TEST(LikeMatchTest, AgreesWithReferenceOnRandomInputs) {
  std::mt19937 rng(7);
  const std::string value_chars = "ab";
  const std::string pattern_chars = "ab%_";
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string v;
    std::string p;
    for (int n = static_cast<int>(rng() % 9); n > 0; --n) v += value_chars[rng() % 2];
    for (int n = static_cast<int>(rng() % 7); n > 0; --n) p += pattern_chars[rng() % 4];
    EXPECT_EQ(LikeMatch(v, p, false), ReferenceLike(v, p))
        << "value '" << v << "' pattern '" << p << "'";
  }
}

// A backtracking matcher would not finish these (exponential in the number of '%'); the test
// presets' per-test timeout reports that as a failure.
TEST(LikeMatchTest, HostilePatternsRunInPolynomialTime) {
  const std::string value(20000, 'a');
  std::string pattern;
  for (int i = 0; i < 200; ++i) pattern += "%a";
  pattern += "%b";
  EXPECT_FALSE(LikeMatch(value, pattern, false));
  EXPECT_FALSE(LikeMatch(value, pattern, true));
  EXPECT_FALSE(LikeMatch(value, std::string(5000, '_') + "b%", false));
  EXPECT_TRUE(LikeMatch(value, pattern.substr(0, pattern.size() - 2), false));
}

// ---------------------------------------------------------------------------------------------
// Lexer

TEST(LexerTest, TokenKindsAndPositions) {
  StatusOr<std::vector<Token>> t =
      Lex("tags.`a b` != 'x' AND metrics.m >= -1.5 AND run_id IN (\"p\", 'q')");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 15u);
  EXPECT_EQ((*t)[0].kind, TokenKind::kQualified);
  EXPECT_EQ((*t)[0].prefix, "tags");
  EXPECT_EQ((*t)[0].text, "a b");
  EXPECT_EQ((*t)[0].pos, 0u);
  EXPECT_EQ((*t)[1].kind, TokenKind::kOperator);
  EXPECT_EQ((*t)[1].text, "!=");
  EXPECT_EQ((*t)[2].kind, TokenKind::kSingleQuoted);
  EXPECT_EQ((*t)[3].kind, TokenKind::kWord);
  EXPECT_EQ((*t)[6].kind, TokenKind::kNumber);
  EXPECT_DOUBLE_EQ((*t)[6].number, -1.5);
  EXPECT_EQ((*t)[10].kind, TokenKind::kLeftParen);
  EXPECT_EQ((*t)[11].kind, TokenKind::kDoubleQuoted);
  EXPECT_EQ((*t)[12].kind, TokenKind::kComma);
  EXPECT_EQ((*t)[14].kind, TokenKind::kRightParen);
}

TEST(LexerTest, ExcerptEscapesAndCuts) {
  EXPECT_EQ(Excerpt("plain"), "plain");
  EXPECT_EQ(Excerpt(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Excerpt("\xff\n"), "\\xff\\x0a");
  EXPECT_EQ(Excerpt("abcdef", 3), "abc...");
}

// ---------------------------------------------------------------------------------------------
// Traces

TEST(ParseFilterTest, TraceAttributesTagsAndMetadata) {
  auto f = ParseFilter(
      "trace.status = 'OK' AND attributes.timestamp > 5 AND execution_time_ms <= 9 AND "
      "trace.end_time >= 1 AND tags.team = 'a' AND metadata.`mlflow.user` LIKE 'b%' AND "
      "request_metadata.k IS NULL AND trace.request_id IN ('tr-1')",
      SearchKind::kTraces);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->clauses.size(), 8u);
  EXPECT_EQ(f->clauses[0].key, "status");
  EXPECT_EQ(f->clauses[1].key, "timestamp_ms");
  EXPECT_EQ(std::get<double>(f->clauses[1].value), 5);
  EXPECT_EQ(f->clauses[2].key, "execution_time_ms");
  EXPECT_EQ(f->clauses[3].key, "end_time_ms");
  EXPECT_EQ(f->clauses[4].entity, Entity::kTag);
  EXPECT_EQ(f->clauses[5].entity, Entity::kMetadata);
  EXPECT_EQ(f->clauses[5].key, "mlflow.user");
  EXPECT_EQ(f->clauses[6].entity, Entity::kMetadata);
  EXPECT_EQ(f->clauses[6].op, Comparator::kIsNull);
  EXPECT_EQ(f->clauses[7].op, Comparator::kIn);
}

TEST(ParseFilterTest, TraceNameRunIdAndPromptAreTheirTagsAndMetadata) {
  auto f = ParseFilter("trace.name = 'f' AND run_id = 'r' AND trace.prompt LIKE 'p%'",
                       SearchKind::kTraces);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->clauses[0].entity, Entity::kTag);
  EXPECT_EQ(f->clauses[0].key, "mlflow.traceName");
  EXPECT_EQ(f->clauses[1].entity, Entity::kMetadata);
  EXPECT_EQ(f->clauses[1].key, "mlflow.sourceRun");
  EXPECT_EQ(f->clauses[2].key, "mlflow.linkedPrompts");
  auto order = ParseOrderBy("name DESC", SearchKind::kTraces);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->entity, Entity::kTag);
  EXPECT_EQ(order->key, "mlflow.traceName");
  EXPECT_FALSE(order->ascending);
  auto meta = ParseOrderBy("metadata.k", SearchKind::kTraces);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->entity, Entity::kMetadata);
}

TEST(ParseFilterTest, TraceFiltersRejectWhatTheGrammarDoesNotAllow) {
  for (const char* bad :
       {"trace.bogus = 1", "trace.status > 'OK'", "trace.timestamp_ms LIKE '1%'",
        "tags.foo IN ('bar')", "trace.name IN ('a')", "span.name = 'x'", "feedback.x = 'y'",
        "metrics.m > 1", "params.p = 'x'", "run.status = 'OK'", "trace.status = OK"}) {
    EXPECT_EQ(ParseFilter(bad, SearchKind::kTraces).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  for (const char* bad : {"client_request_id", "prompt", "bogus", "span.name"}) {
    EXPECT_EQ(ParseOrderBy(bad, SearchKind::kTraces).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  // The trace prefixes belong to traces only.
  EXPECT_FALSE(ParseFilter("trace.status = 'OK'", SearchKind::kRuns).ok());
  EXPECT_FALSE(ParseFilter("metadata.k = 'v'", SearchKind::kRuns).ok());
}

}  // namespace
}  // namespace cairn::filter
