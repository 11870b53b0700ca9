// Search grammar tests, part 2: order_by, the helpers, the lexer and the trace search keys (shared
// helpers in filter_test_util.h).

#include "filter/filter_test_util.h"

namespace cairn::filter {
namespace {

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
        "tags.foo IN ('bar')", "trace.name IN ('a')", "span.bogus = 'x'", "feedback.x = 'y'",
        "span.content = 'x'", "trace.text = 'x'", "span.attributes. = 'x'", "span.name > 'x'",
        "metrics.m > 1", "params.p = 'x'", "run.status = 'OK'", "trace.status = OK"}) {
    EXPECT_EQ(ParseFilter(bad, SearchKind::kTraces).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  for (const char* bad : {"client_request_id", "prompt", "bogus", "span.name"}) {
    EXPECT_EQ(ParseOrderBy(bad, SearchKind::kTraces).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  // Span clauses: name, type, status, content and attributes.<name>; trace.text is the content.
  auto spans = ParseFilter(
      "span.name = 'a' AND span.type IN ('LLM') AND span.status != 'OK' AND span.content LIKE "
      "'%x%' AND span.attributes.model ILIKE '%gpt%' AND trace.text LIKE '%y%'",
      SearchKind::kTraces);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_EQ(spans->clauses.size(), 6u);
  for (const Clause& c : spans->clauses) EXPECT_EQ(c.entity, Entity::kSpan);
  EXPECT_EQ(spans->clauses[4].key, "attributes.model");
  EXPECT_EQ(spans->clauses[5].key, "content");
  EXPECT_FALSE(ParseFilter("span.name = 'a'", SearchKind::kRuns).ok());
  // The trace prefixes belong to traces only.
  EXPECT_FALSE(ParseFilter("trace.status = 'OK'", SearchKind::kRuns).ok());
  EXPECT_FALSE(ParseFilter("metadata.k = 'v'", SearchKind::kRuns).ok());
}

}  // namespace
}  // namespace cairn::filter
