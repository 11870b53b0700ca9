#include "metadata/sql_filter.h"

#include <gtest/gtest.h>

namespace cairn::metadata {
namespace {

using filter::Clause;
using filter::Comparator;
using filter::Entity;

SqlDialect TestDialect() {
  SqlDialect dialect;
  dialect.like = [](std::string_view lhs, std::string_view pattern, bool ci) {
    return std::string(ci ? "ILIKE(" : "LIKE(") + std::string(lhs) + ", " + std::string(pattern) +
           ")";
  };
  return dialect;
}

SearchSchema TestSchema() {
  SearchSchema schema;
  schema.id_expr = "r.id";
  schema.attributes = {
      {"run_id", {"r.id", ValueKind::kString, /*allow_in=*/true}},
      {"name", {"r.name", ValueKind::kString}},
      {"start_time", {"r.start_time", ValueKind::kNumber}},
  };
  ChildTable metrics;
  metrics.table = "latest";
  metrics.id_columns = "rid";
  metrics.is_nan_column = "is_nan";
  metrics.scope = [](SqlParams& params, std::string& sql) {
    sql += " AND tenant = ";
    sql += params.Add(std::string("t"));
  };
  schema.metrics = metrics;
  ChildTable params;
  params.table = "params";
  params.id_columns = "rid";
  ChildTable tags = params;
  tags.table = "tags";
  schema.tags = tags;  // may hold several rows per key: sorts by the largest
  params.one_row_per_key = true;
  schema.params = params;
  return schema;
}

Clause MakeClause(Entity entity, std::string key, Comparator op, filter::Value value) {
  Clause c;
  c.entity = entity;
  c.key = std::move(key);
  c.op = op;
  c.value = std::move(value);
  return c;
}

struct Compiled {
  std::string sql;
  std::vector<SqlValue> params;
};

Compiled Compile(std::vector<Clause> clauses,
                 PlaceholderStyle style = PlaceholderStyle::kQuestion) {
  filter::Filter f;
  f.clauses = std::move(clauses);
  SqlParams params(style);
  auto sql = CompileFilter(f, TestSchema(), TestDialect(), params);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  return {sql.ok() ? *sql : "", params.values()};
}

Status CompileError(Clause clause) {
  filter::Filter f;
  f.clauses.push_back(std::move(clause));
  SqlParams params(PlaceholderStyle::kQuestion);
  return CompileFilter(f, TestSchema(), TestDialect(), params).status();
}

TEST(SqlFilterTest, EmptyFilterCompilesToEmptyString) {
  Compiled c = Compile({});
  EXPECT_EQ(c.sql, "");
  EXPECT_TRUE(c.params.empty());
}

TEST(SqlFilterTest, StringAttributeIsBoundNotSpliced) {
  Compiled c = Compile({MakeClause(Entity::kAttribute, "name", Comparator::kEq, "x' OR 1=1")});
  EXPECT_EQ(c.sql, "r.name = ?");
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(std::get<std::string>(c.params[0]), "x' OR 1=1");
}

TEST(SqlFilterTest, IntegralNumberBindsAsInteger) {
  Compiled c = Compile({MakeClause(Entity::kAttribute, "start_time", Comparator::kGe, 1700.0),
                        MakeClause(Entity::kAttribute, "start_time", Comparator::kLt, 1.5)});
  EXPECT_EQ(c.sql, "r.start_time >= ? AND r.start_time < ?");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(c.params[0]), 1700);
  EXPECT_EQ(std::get<double>(c.params[1]), 1.5);
}

TEST(SqlFilterTest, ParamClauseBindsKeyAndValue) {
  Compiled c = Compile({MakeClause(Entity::kParam, "a'b", Comparator::kEq, "v")});
  EXPECT_EQ(c.sql, "r.id IN (SELECT rid FROM params WHERE key = ? AND value = ?)");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(std::get<std::string>(c.params[0]), "a'b");
  EXPECT_EQ(std::get<std::string>(c.params[1]), "v");
}

TEST(SqlFilterTest, MetricComparisonsSkipNaNExceptNotEqual) {
  Compiled gt = Compile({MakeClause(Entity::kMetric, "acc", Comparator::kGt, 0.5)});
  EXPECT_EQ(gt.sql,
            "r.id IN (SELECT rid FROM latest WHERE key = ? AND tenant = ? AND is_nan = 0 AND "
            "value > ?)");
  ASSERT_EQ(gt.params.size(), 3u);
  EXPECT_EQ(std::get<std::string>(gt.params[1]), "t");
  Compiled ne = Compile({MakeClause(Entity::kMetric, "acc", Comparator::kNe, 1.0)});
  EXPECT_EQ(ne.sql,
            "r.id IN (SELECT rid FROM latest WHERE key = ? AND tenant = ? AND (is_nan = 1 OR "
            "value != ?))");
}

TEST(SqlFilterTest, NullChecksOnTags) {
  Compiled is_null = Compile({MakeClause(Entity::kTag, "k", Comparator::kIsNull, {})});
  EXPECT_EQ(is_null.sql, "r.id NOT IN (SELECT rid FROM tags WHERE key = ?)");
  Compiled not_null = Compile({MakeClause(Entity::kTag, "k", Comparator::kIsNotNull, {})});
  EXPECT_EQ(not_null.sql, "r.id IN (SELECT rid FROM tags WHERE key = ?)");
}

TEST(SqlFilterTest, LikeUsesTheDialect) {
  Compiled c = Compile({MakeClause(Entity::kAttribute, "name", Comparator::kLike, "a%"),
                        MakeClause(Entity::kTag, "k", Comparator::kILike, "%B")});
  EXPECT_EQ(c.sql,
            "LIKE(r.name, ?) AND r.id IN (SELECT rid FROM tags WHERE key = ? AND "
            "ILIKE(value, ?))");
}

TEST(SqlFilterTest, InListsExpandToPlaceholders) {
  Compiled in = Compile({MakeClause(Entity::kAttribute, "run_id", Comparator::kIn,
                                    std::vector<std::string>{"a", "b", "c"})});
  EXPECT_EQ(in.sql, "r.id IN (?, ?, ?)");
  EXPECT_EQ(in.params.size(), 3u);
  Compiled not_in = Compile({MakeClause(Entity::kAttribute, "run_id", Comparator::kNotIn,
                                        std::vector<std::string>{"a"})});
  EXPECT_EQ(not_in.sql, "r.id NOT IN (?)");
  Compiled empty = Compile(
      {MakeClause(Entity::kAttribute, "run_id", Comparator::kIn, std::vector<std::string>{})});
  EXPECT_EQ(empty.sql, "1 = 0");
}

TEST(SqlFilterTest, DollarPlaceholdersNumberInTextOrder) {
  Compiled c = Compile({MakeClause(Entity::kAttribute, "name", Comparator::kEq, "n"),
                        MakeClause(Entity::kMetric, "m", Comparator::kLe, 2.5)},
                       PlaceholderStyle::kDollar);
  EXPECT_EQ(c.sql,
            "r.name = $1 AND r.id IN (SELECT rid FROM latest WHERE key = $2 AND tenant = $3 AND "
            "is_nan = 0 AND value <= $4)");
  ASSERT_EQ(c.params.size(), 4u);
  EXPECT_EQ(std::get<std::string>(c.params[0]), "n");
  EXPECT_EQ(std::get<std::string>(c.params[1]), "m");
  EXPECT_EQ(std::get<std::string>(c.params[2]), "t");
  EXPECT_EQ(std::get<double>(c.params[3]), 2.5);
}

TEST(SqlFilterTest, RejectsWhatTheSchemaDoesNotSupport) {
  EXPECT_EQ(CompileError(MakeClause(Entity::kAttribute, "nope", Comparator::kEq, "x")).code(),
            StatusCode::kInvalidArgument);
  // IN only where allowed.
  EXPECT_EQ(CompileError(MakeClause(Entity::kAttribute, "name", Comparator::kIn,
                                    std::vector<std::string>{"x"}))
                .code(),
            StatusCode::kInvalidArgument);
  // A string where a number belongs, and the reverse.
  EXPECT_EQ(CompileError(MakeClause(Entity::kAttribute, "start_time", Comparator::kEq, "1")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileError(MakeClause(Entity::kParam, "p", Comparator::kEq, 1.0)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileError(MakeClause(Entity::kMetric, "m", Comparator::kLike, "1%")).code(),
            StatusCode::kInvalidArgument);
  // No dataset support in this schema.
  EXPECT_EQ(CompileError(MakeClause(Entity::kDataset, "name", Comparator::kEq, "d")).code(),
            StatusCode::kInvalidArgument);
}

TEST(SqlFilterTest, OrderByPutsNullsLastAndBindsKeys) {
  std::vector<filter::OrderBy> order = {
      {Entity::kMetric, "acc", false},
      {Entity::kParam, "p", true},
      {Entity::kTag, "t", false},
      {Entity::kAttribute, "name", true},
  };
  SqlParams params(PlaceholderStyle::kQuestion);
  auto sql = CompileOrderBy(order, TestSchema(), params);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(*sql,
            "(SELECT MAX(CASE WHEN is_nan = 1 THEN NULL ELSE value END) FROM latest WHERE (rid) = "
            "r.id AND key = ? AND tenant = ?) DESC NULLS LAST, (SELECT value FROM params WHERE "
            "(rid) = r.id AND key = ?) ASC NULLS LAST, (SELECT MAX(value) FROM tags WHERE (rid) = "
            "r.id AND key = ?) DESC NULLS LAST, r.name ASC NULLS LAST");
  ASSERT_EQ(params.values().size(), 4u);
  EXPECT_EQ(std::get<std::string>(params.values()[0]), "acc");
  EXPECT_EQ(std::get<std::string>(params.values()[2]), "p");
  EXPECT_EQ(std::get<std::string>(params.values()[3]), "t");
}

// The registry shape: a row-value id, tenant-scoped tags, and the prompt-exclusion rule.
SearchSchema RegistrySchema(bool prompt_exclusion_matches_untagged) {
  SearchSchema schema;
  schema.id_expr = "(v.name, v.version)";
  schema.attributes = {{"name", {"v.name", ValueKind::kString}}};
  ChildTable tags;
  tags.table = "version_tags";
  tags.id_columns = "name, version";
  tags.one_row_per_key = true;
  tags.scope = [](SqlParams& params, std::string& sql) {
    sql += " AND tenant = ";
    sql += params.Add(std::string("t"));
  };
  schema.tags = tags;
  schema.prompt_exclusion_matches_untagged = prompt_exclusion_matches_untagged;
  return schema;
}

Compiled CompileWith(const SearchSchema& schema, std::vector<Clause> clauses) {
  filter::Filter f;
  f.clauses = std::move(clauses);
  SqlParams params(PlaceholderStyle::kQuestion);
  auto sql = CompileFilter(f, schema, TestDialect(), params);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  return {sql.ok() ? *sql : "", params.values()};
}

TEST(SqlFilterTest, RowValueIdsSelectEveryIdColumn) {
  Compiled c =
      CompileWith(RegistrySchema(false), {MakeClause(Entity::kTag, "k", Comparator::kEq, "v")});
  EXPECT_EQ(c.sql,
            "(v.name, v.version) IN (SELECT name, version FROM version_tags WHERE key = ? AND "
            "tenant = ? AND value = ?)");
  SqlParams params(PlaceholderStyle::kQuestion);
  auto order = CompileOrderBy({{Entity::kTag, "k", true}}, RegistrySchema(false), params);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order,
            "(SELECT value FROM version_tags WHERE (name, version) = (v.name, v.version) AND key = "
            "? AND tenant = ?) ASC NULLS LAST");
}

TEST(SqlFilterTest, PromptExclusionMatchesUntaggedRowsOnlyWhenTheSchemaSaysSo) {
  Clause prompt =
      MakeClause(Entity::kTag, "mlflow.prompt.is_prompt", Comparator::kNe, std::string("true"));
  Compiled registry = CompileWith(RegistrySchema(true), {prompt});
  EXPECT_EQ(registry.sql,
            "(v.name, v.version) NOT IN (SELECT name, version FROM version_tags WHERE key = ? AND "
            "tenant = ? AND value = ?)");
  ASSERT_EQ(registry.params.size(), 3u);
  EXPECT_EQ(std::get<std::string>(registry.params[0]), "mlflow.prompt.is_prompt");
  EXPECT_EQ(std::get<std::string>(registry.params[1]), "t");
  EXPECT_EQ(std::get<std::string>(registry.params[2]), "true");
  // Without the flag, and for any other tag or value, `!=` needs the tag to be present.
  Compiled plain = CompileWith(RegistrySchema(false), {prompt});
  EXPECT_EQ(plain.sql,
            "(v.name, v.version) IN (SELECT name, version FROM version_tags WHERE key = ? AND "
            "tenant = ? AND value != ?)");
  Compiled other = CompileWith(RegistrySchema(true),
                               {MakeClause(Entity::kTag, "other", Comparator::kNe, "true")});
  EXPECT_EQ(other.sql,
            "(v.name, v.version) IN (SELECT name, version FROM version_tags WHERE key = ? AND "
            "tenant = ? AND value != ?)");
  Compiled other_value =
      CompileWith(RegistrySchema(true),
                  {MakeClause(Entity::kTag, "mlflow.prompt.is_prompt", Comparator::kNe, "false")});
  EXPECT_EQ(other_value.sql, other.sql);
}

TEST(SqlFilterTest, OrderByRejectsUnknownKeys) {
  SqlParams params(PlaceholderStyle::kQuestion);
  EXPECT_EQ(
      CompileOrderBy({{Entity::kAttribute, "nope", true}}, TestSchema(), params).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CompileOrderBy({{Entity::kDataset, "name", true}}, TestSchema(), params).status().code(),
      StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::metadata
