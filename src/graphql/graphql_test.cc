#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "graphql/executor.h"
#include "graphql/parser.h"

namespace cairn::graphql {
namespace {

namespace bj = boost::json;

TEST(GraphqlParserTest, ParsesOperationsFragmentsAliasesAndLiterals) {
  auto doc = Parse(R"(
    # a comment
    query GetRun($data: RunInput!, $n: [Int!] = [1, 2]) @component(name: "x") {
      first: run(input: $data) { ...RunFields info { runId @include(if: true) } }
      run(input: {runId: "a\u00e9\n", flag: true, kind: ACTIVE, f: -1.5e3, none: null}) {
        ... on Run { info { runId } }
      }
    }
    fragment RunFields on Run { __typename }
    mutation { run { info { runId } } }
    { shorthand }
  )");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  ASSERT_EQ(doc->operations.size(), 3u);
  const Operation& op = doc->operations[0];
  EXPECT_EQ(op.type, "query");
  EXPECT_EQ(op.name, "GetRun");
  ASSERT_EQ(op.variables.size(), 2u);
  EXPECT_EQ(op.variables[0].type.ToString(), "RunInput!");
  EXPECT_EQ(op.variables[1].type.ToString(), "[Int!]");
  ASSERT_TRUE(op.variables[1].default_value.has_value());
  EXPECT_EQ(op.variables[1].default_value->list.size(), 2u);
  ASSERT_EQ(op.directives.size(), 1u);
  ASSERT_EQ(op.selections.size(), 2u);
  EXPECT_EQ(op.selections[0].alias, "first");
  EXPECT_EQ(op.selections[0].ResponseKey(), "first");
  EXPECT_EQ(op.selections[0].selections[0].kind, Selection::Kind::kFragmentSpread);
  const Value& input = op.selections[1].arguments[0].value;
  ASSERT_EQ(input.kind, Value::Kind::kObject);
  EXPECT_EQ(input.fields[0].value.text, "a\xC3\xA9\n");
  EXPECT_EQ(input.fields[2].value.kind, Value::Kind::kEnum);
  EXPECT_EQ(input.fields[3].value.kind, Value::Kind::kFloat);
  EXPECT_EQ(input.fields[4].value.kind, Value::Kind::kNull);
  EXPECT_EQ(op.selections[1].selections[0].kind, Selection::Kind::kInlineFragment);
  EXPECT_EQ(op.selections[1].selections[0].type_condition, "Run");
  EXPECT_EQ(doc->operations[1].type, "mutation");
  EXPECT_EQ(doc->operations[2].selections[0].name, "shorthand");
  ASSERT_EQ(doc->fragments.size(), 1u);
  EXPECT_EQ(doc->fragments[0].type_condition, "Run");
}

TEST(GraphqlParserTest, BlockStringsDropCommonIndentation) {
  auto doc = Parse("{ f(s: \"\"\"\n    hello\n      world\n    \"\"\") }");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->operations[0].selections[0].arguments[0].value.text, "hello\n  world");
}

TEST(GraphqlParserTest, RefusesMalformedDocumentsWithLocations) {
  struct Case {
    const char* source;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "Syntax Error: Unexpected <EOF>. (1:1)"},
           Case{"{", "Syntax Error: Expected Name, found <EOF>. (1:2)"},
           Case{"{ a(x: ) }", "Syntax Error: Unexpected \")\". (1:8)"},
           Case{"query {\n  a(x: \"open\n}", "Syntax Error: Unterminated string. (2:13)"},
           Case{"{ a(x: 01) }",
                "Syntax Error: Invalid number, unexpected digit after 0: \"1\". (1:9)"},
           Case{"{ a(x: \"\\q\") }",
                "Syntax Error: Invalid character escape sequence: \"\\q\". (1:11)"},
           Case{"type Query { a: Int }", "Syntax Error: Unexpected Name \"type\". (1:1)"},
           Case{"query Q($v: Int = $w) { a }", "Syntax Error: Unexpected \"$\". (1:19)"},
           Case{"{ a } ..", "Syntax Error: Unexpected \".\". (1:7)"},
       }) {
    auto doc = Parse(c.source);
    ASSERT_FALSE(doc.ok()) << c.source;
    EXPECT_EQ(doc.status().message(), c.message) << c.source;
  }
}

TEST(GraphqlParserTest, RefusesDeepNestingAndTokenFloods) {
  std::string deep(200, '{');
  deep += "a";
  deep += std::string(200, '}');
  EXPECT_FALSE(Parse(deep).ok());
  std::string list = "{ a(x: " + std::string(5000, '[') + std::string(5000, ']') + ") }";
  EXPECT_FALSE(Parse(list).ok());
  std::string wide = "{ ";
  for (int i = 0; i < 120000; ++i) wide += "a ";
  wide += "}";
  auto doc = Parse(wide);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("tokens"), std::string::npos);
}

class TestContext : public ExecutionContext {
 public:
  int calls = 0;
};

Schema MakeSchema() {
  Schema schema;
  schema.AddScalar("LongString", [](const bj::value& v) -> std::optional<bj::value> {
    if (v.is_number()) return bj::value(bj::serialize(v));
    if (v.is_string()) return v;
    return std::nullopt;
  });
  schema.AddEnum("Status", {"RUNNING", "FINISHED"});
  schema.AddInput("RunInput", {{.name = "runId", .type = {.name = "String"}},
                               {.name = "maxResults", .type = {.name = "LongString"}},
                               {.name = "ids", .type = {.name = "String", .list = true}}});
  auto& info = schema.AddObject("RunInfo");
  info.fields = {{.name = "runId", .type = {.name = "String"}, .key = "run_id"},
                 {.name = "status", .type = {.name = "Status"}, .key = "status"},
                 {.name = "startTime", .type = {.name = "LongString"}, .key = "start_time"},
                 {.name = "value", .type = {.name = "Float"}, .key = "value"}};
  auto& run = schema.AddObject("Run");
  run.fields = {{.name = "info", .type = {.name = "RunInfo"}, .key = "info"},
                {.name = "tags", .type = {.name = "RunInfo", .list = true}, .key = "tags"}};
  auto& query = schema.AddObject("Query");
  query.fields = {
      {.name = "run",
       .type = {.name = "Run"},
       .arguments = {{.name = "input", .type = {.name = "RunInput"}}},
       .resolve = [](ExecutionContext& ctx, const bj::object&,
                     const bj::object& args) -> StatusOr<bj::value> {
         static_cast<TestContext&>(ctx).calls++;
         const bj::object& input = args.at("input").as_object();
         if (input.at("run_id").as_string() == "missing") {
           return NotFound("Run with id=missing not found");
         }
         return bj::value(bj::object{
             {"info",
              {{"run_id", input.at("run_id")},
               {"status", "FINISHED"},
               {"start_time", 1700000000123},
               {"value", "NaN"}}},
             {"tags", bj::array{bj::object{{"run_id", "t1"}}, bj::object{{"run_id", "t2"}}}},
             {"echo", input}});
       }},
      {.name = "echo",
       .type = {.name = "String"},
       .arguments = {{.name = "input", .type = {.name = "RunInput"}}},
       .resolve = [](ExecutionContext&, const bj::object&, const bj::object& args)
           -> StatusOr<bj::value> { return bj::value(bj::serialize(args.at("input"))); }}};
  schema.SetRoots("Query", "");
  return schema;
}

bj::object Exec(const std::string& query, const bj::object& variables = {},
                std::optional<std::string_view> operation = std::nullopt) {
  static const Schema schema = MakeSchema();
  TestContext context;
  return Execute(schema, query, operation, variables, context);
}

TEST(GraphqlExecutorTest, ResolvesVariablesAliasesFragmentsAndScalars) {
  bj::object out = Exec(R"(
      query Q($data: RunInput!) {
        a: run(input: $data) { __typename info { ...F } }
        b: run(input: {runId: "lit"}) { info { runId } tags { runId } }
      }
      fragment F on RunInfo { runId status startTime value id: runId })",
                        bj::object{{"data", bj::object{{"runId", "r1"}}}});
  EXPECT_EQ(
      bj::serialize(out),
      R"({"data":{"a":{"__typename":"Run","info":{"runId":"r1","status":"FINISHED",)"
      R"("startTime":"1700000000123","value":null,"id":"r1"}},)"
      R"("b":{"info":{"runId":"lit"},"tags":[{"runId":"t1"},{"runId":"t2"}]}},"errors":null})");
}

TEST(GraphqlExecutorTest, CoercesInputObjectsToResolverKeys) {
  bj::object out = Exec(R"({ echo(input: {runId: "x", maxResults: "25", ids: "one"}) })");
  EXPECT_EQ(out.at("data").at("echo").as_string(),
            R"({"run_id":"x","max_results":25,"ids":["one"]})");
}

TEST(GraphqlExecutorTest, SkipAndIncludeDirectives) {
  bj::object out = Exec(R"(query Q($yes: Boolean = true) {
      run(input: {runId: "r"}) { info { runId @skip(if: $yes) status @include(if: $yes) } } })");
  EXPECT_EQ(bj::serialize(out.at("data")), R"({"run":{"info":{"status":"FINISHED"}}})");
}

TEST(GraphqlExecutorTest, FieldErrorsNullTheFieldAndKeepTheRest) {
  bj::object out = Exec(R"({ ok: run(input: {runId: "r"}) { info { runId } }
                            bad: run(input: {runId: "missing"}) { info { runId } } })");
  EXPECT_EQ(bj::serialize(out.at("data")), R"({"ok":{"info":{"runId":"r"}},"bad":null})");
  const bj::object& error = out.at("errors").as_array().at(0).as_object();
  EXPECT_EQ(error.at("message").as_string(), "Run with id=missing not found");
  EXPECT_EQ(bj::serialize(error.at("path")), R"(["bad"])");
  EXPECT_EQ(bj::serialize(error.at("locations")), R"([{"line":2,"column":29}])");
}

std::string FirstError(const bj::object& out) {
  EXPECT_TRUE(out.at("data").is_null()) << bj::serialize(out);
  return std::string(out.at("errors").as_array().at(0).at("message").as_string());
}

TEST(GraphqlExecutorTest, RequestErrorsStopExecution) {
  EXPECT_EQ(FirstError(Exec("{ run(input: {runId: \"r\"}) { nope } }")),
            "Cannot query field 'nope' on type 'Run'.");
  EXPECT_EQ(FirstError(Exec("{ run(input: {runId: \"r\"}) }")),
            "Field 'run' of type 'Run' must have a selection of subfields. Did you mean "
            "'run { ... }'?");
  EXPECT_EQ(FirstError(Exec("{ run(input: {runId: \"r\"}) { info { runId { x } } } }")),
            "Field 'runId' must not have a selection since type 'String' has no subfields.");
  EXPECT_EQ(FirstError(Exec("query Q($d: RunInput!) { run(input: $d) { info { runId } } }")),
            "Variable '$d' of required type 'RunInput!' was not provided.");
  EXPECT_EQ(FirstError(Exec("query Q($d: RunInput!) { run(input: $d) { info { runId } } }",
                            bj::object{{"d", bj::object{{"bogus", 1}}}})),
            "Variable '$d' got invalid value {\"bogus\":1}; Field 'bogus' is not defined by type "
            "'RunInput'.");
  EXPECT_EQ(FirstError(Exec("{ run(input: $undefined) { info { runId } } }")),
            "Variable '$undefined' is not defined.");
  EXPECT_EQ(FirstError(Exec("{ run(input: {runId: \"r\"}) { ...Missing } }")),
            "Unknown fragment 'Missing'.");
  EXPECT_EQ(FirstError(Exec("{ run(input: {runId: \"r\"}) { ...A } } fragment A on Run { ...A }")),
            "Cannot spread fragment 'A' within itself.");
  EXPECT_EQ(
      FirstError(Exec("{ run(input: {runId: \"r\"}) { ...A } } fragment A on RunInfo { runId }")),
      "Fragment 'A' cannot be spread here as objects of type 'Run' can never be of type "
      "'RunInfo'.");
  EXPECT_EQ(FirstError(Exec("query A { echo } query B { echo }")),
            "Must provide operation name if query contains multiple operations.");
  EXPECT_EQ(FirstError(Exec("query A { echo }", {}, "C")), "Unknown operation named 'C'.");
  EXPECT_EQ(FirstError(Exec("mutation { echo }")),
            "Schema is not configured to execute mutation operation.");
  EXPECT_EQ(FirstError(Exec("{ run(bogus: 1) { info { runId } } }")),
            "Unknown argument 'bogus' on field 'Query.run'.");
  EXPECT_EQ(FirstError(Exec("{ echo @bogus }")), "Unknown directive '@bogus'.");
  bj::object syntax = Exec("{ echo(");
  EXPECT_EQ(FirstError(syntax), "Syntax Error: Expected Name, found <EOF>.");
  EXPECT_EQ(bj::serialize(syntax.at("errors").at(0).at("locations")), R"([{"line":1,"column":8}])");
}

TEST(GraphqlExecutorTest, EnforcesMlflowQueryLimits) {
  std::string aliases = "{ run(input: {runId: \"r\"}) { info { ";
  for (int i = 0; i < 11; ++i) aliases += "a" + std::to_string(i) + ": runId ";
  aliases += "} } }";
  EXPECT_EQ(FirstError(Exec(aliases)),
            "GraphQL queries should have at most 10 aliases, got 11 aliases.");
  std::string roots = "{ ";
  for (int i = 0; i < 11; ++i) roots += "e" + std::to_string(i) + ": echo ";
  roots += "}";
  EXPECT_EQ(FirstError(Exec(roots)),
            "GraphQL queries should have at most 10 root fields, got 11 root fields.");
  std::string spread =
      "{ run(input: {runId: \"r\"}) { info { ...F ...G } } } "
      "fragment F on RunInfo { a0: runId a1: runId a2: runId a3: runId a4: runId "
      "a5: runId } fragment G on RunInfo { b0: runId b1: runId b2: runId "
      "b3: runId b4: runId b5: runId }";
  EXPECT_EQ(FirstError(Exec(spread)),
            "GraphQL queries should have at most 10 aliases, got 12 aliases.");
}

}  // namespace
}  // namespace cairn::graphql
