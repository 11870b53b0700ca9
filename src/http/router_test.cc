#include "http/router.h"

#include <gtest/gtest.h>

#include <thread>

namespace cairn::http {
namespace {

Handler Named(const std::string& name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string Call(const Router::Match& match) {
  if (match.route == nullptr) return "<none>";
  Request request;
  return match.route->handler(request).body;
}

TEST(RouterTest, LiteralRoutesMatchExactly) {
  Router router;
  router.Add(Method::kGet, "/api/2.0/mlflow/runs/get", Named("get"));
  router.Add(Method::kPost, "/api/2.0/mlflow/runs/create", Named("create"));
  EXPECT_EQ(Call(router.Find(Method::kGet, "/api/2.0/mlflow/runs/get")), "get");
  EXPECT_EQ(Call(router.Find(Method::kPost, "/api/2.0/mlflow/runs/create")), "create");
  EXPECT_EQ(router.Find(Method::kGet, "/api/2.0/mlflow/runs/get/").route, nullptr);
  EXPECT_EQ(router.Find(Method::kGet, "/api/2.0/mlflow/runs").route, nullptr);
  EXPECT_FALSE(router.Find(Method::kGet, "/nope").method_not_allowed);
}

TEST(RouterTest, MethodMismatchIsMethodNotAllowed) {
  Router router;
  router.Add(Method::kPost, "/runs/create", Named("create"));
  router.Add(Method::kDelete, "/models/{name}", Named("delete"));
  auto literal = router.Find(Method::kGet, "/runs/create");
  EXPECT_EQ(literal.route, nullptr);
  EXPECT_TRUE(literal.method_not_allowed);
  auto patterned = router.Find(Method::kGet, "/models/m1");
  EXPECT_EQ(patterned.route, nullptr);
  EXPECT_TRUE(patterned.method_not_allowed);
  EXPECT_TRUE(patterned.params.empty());
}

TEST(RouterTest, SingleSegmentCaptures) {
  Router router;
  router.Add(Method::kGet, "/models/{name}/versions/{version}", Named("version"));
  auto match = router.Find(Method::kGet, "/models/m1/versions/3");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/models/{name}/versions/{version}");
  EXPECT_EQ(match.params.at("name"), "m1");
  EXPECT_EQ(match.params.at("version"), "3");
  EXPECT_EQ(router.Find(Method::kGet, "/models//versions/3").route, nullptr);
  EXPECT_EQ(router.Find(Method::kGet, "/models/m1/versions/3/x").route, nullptr);
  EXPECT_EQ(router.Find(Method::kGet, "/models/m1/versions").route, nullptr);
  EXPECT_EQ(router.Find(Method::kGet, "/models/m1/versions/").route, nullptr);
}

TEST(RouterTest, EncodedSlashStaysInsideItsSegmentAndCapturesAreDecoded) {
  Router router;
  router.Add(Method::kGet, "/models/{name}", Named("model"));
  auto match = router.Find(Method::kGet, "/models/team%2Fmodel%20one");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params.at("name"), "team/model one");
  // A real slash is a new segment.
  EXPECT_EQ(router.Find(Method::kGet, "/models/team/model").route, nullptr);
  // "%252F" is the text "%2F", not a slash.
  auto literal_percent = router.Find(Method::kGet, "/models/a%252Fb");
  ASSERT_NE(literal_percent.route, nullptr);
  EXPECT_EQ(literal_percent.params.at("name"), "a%2Fb");
}

TEST(RouterTest, MalformedEscapeMatchesNoRoute) {
  Router router;
  router.Add(Method::kGet, "/models/{name}", Named("model"));
  router.Add(Method::kGet, "/files/{path...}", Named("files"));
  for (const char* path : {"/models/a%zz", "/models/a%2", "/models/%", "/files/x/%2F%",
                           "/files/%%2F", "/models/%2%2F"}) {
    auto match = router.Find(Method::kGet, path);
    EXPECT_EQ(match.route, nullptr) << path;
    EXPECT_FALSE(match.method_not_allowed) << path;
  }
  // A NUL is well-formed here; refusing it is the server's (and the handler's) business.
  auto nul = router.Find(Method::kGet, "/models/a%00b");
  ASSERT_NE(nul.route, nullptr);
  EXPECT_EQ(nul.params.at("name"), std::string("a\0b", 3));
}

TEST(RouterTest, EncodedCharactersInLiteralSegmentsStillMatch) {
  Router router;
  router.Add(Method::kGet, "/api/2.0/mlflow/experiments/get-by-name", Named("by-name"));
  router.Add(Method::kGet, "/a/{x}/get-by-name", Named("patterned"));
  EXPECT_EQ(Call(router.Find(Method::kGet, "/api/2.0/mlflow/experiments/get%2Dby%2dname")),
            "by-name");
  EXPECT_EQ(Call(router.Find(Method::kGet, "/a/1/get%2Dby-name")), "patterned");
  EXPECT_EQ(router.Find(Method::kGet, "/api/2.0/mlflow%2Fexperiments/get-by-name").route, nullptr);
}

TEST(RouterTest, RestCaptureTakesTheRemainderIncludingEmpty) {
  Router router;
  router.Add(Method::kGet, "/artifacts/{path...}", Named("artifact"));
  auto deep = router.Find(Method::kGet, "/artifacts/1/abc/artifacts/model/MLmodel");
  ASSERT_NE(deep.route, nullptr);
  EXPECT_EQ(deep.params.at("path"), "1/abc/artifacts/model/MLmodel");
  auto trailing = router.Find(Method::kGet, "/artifacts/");
  ASSERT_NE(trailing.route, nullptr);
  EXPECT_EQ(trailing.params.at("path"), "");
  auto bare = router.Find(Method::kGet, "/artifacts");
  ASSERT_NE(bare.route, nullptr);
  EXPECT_EQ(bare.params.at("path"), "");
  auto encoded = router.Find(Method::kGet, "/artifacts/dir%20x/a%2Fb.txt");
  ASSERT_NE(encoded.route, nullptr);
  EXPECT_EQ(encoded.params.at("path"), "dir x/a/b.txt");
  auto with_empty_segments = router.Find(Method::kGet, "/artifacts/a//b/");
  ASSERT_NE(with_empty_segments.route, nullptr);
  EXPECT_EQ(with_empty_segments.params.at("path"), "a//b/");
  EXPECT_EQ(router.Find(Method::kGet, "/artifactsX/a").route, nullptr);
}

TEST(RouterTest, MixedCapturesBeforeRest) {
  Router router;
  router.Add(Method::kPut, "/runs/{run_id}/files/{path...}", Named("put"));
  auto match = router.Find(Method::kPut, "/runs/r1/files/a/b");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params.at("run_id"), "r1");
  EXPECT_EQ(match.params.at("path"), "a/b");
  auto empty_rest = router.Find(Method::kPut, "/runs/r1/files");
  ASSERT_NE(empty_rest.route, nullptr);
  EXPECT_EQ(empty_rest.params.at("path"), "");
  EXPECT_EQ(router.Find(Method::kPut, "/runs/r1").route, nullptr);
}

TEST(RouterTest, ExactRouteBeatsPatternAndPatternsGoInRegistrationOrder) {
  Router router;
  router.Add(Method::kGet, "/models/{name}", Named("by-name"));
  router.Add(Method::kGet, "/models/search", Named("search"));
  router.Add(Method::kGet, "/x/{a}", Named("first"));
  router.Add(Method::kGet, "/x/{b...}", Named("second"));
  EXPECT_EQ(Call(router.Find(Method::kGet, "/models/search")), "search");
  EXPECT_EQ(Call(router.Find(Method::kGet, "/models/other")), "by-name");
  EXPECT_EQ(Call(router.Find(Method::kGet, "/x/1")), "first");
  EXPECT_EQ(Call(router.Find(Method::kGet, "/x/1/2")), "second");
}

TEST(RouterTest, RightMethodOnPatternBeatsLiteralWithOtherMethod) {
  Router router;
  router.Add(Method::kGet, "/runs/search", Named("literal"));
  router.Add(Method::kPost, "/runs/{id}", Named("pattern"));
  auto match = router.Find(Method::kPost, "/runs/search");
  EXPECT_EQ(Call(match), "pattern");
  EXPECT_FALSE(match.method_not_allowed);
}

TEST(RouterTest, StreamingRoutesAreFound) {
  Router router;
  router.AddStreaming(
      Method::kPut, "/upload/{path...}",
      [](Request&) -> StatusOr<std::unique_ptr<BodySink>> { return Unimplemented("x"); },
      RouteOptions{.max_body_bytes = 5});
  auto match = router.Find(Method::kPut, "/upload/a");
  ASSERT_NE(match.route, nullptr);
  EXPECT_TRUE(static_cast<bool>(match.route->streaming_handler));
  EXPECT_FALSE(static_cast<bool>(match.route->handler));
  EXPECT_EQ(match.route->options.max_body_bytes, 5u);
}

TEST(RouterTest, RoutesListsEverythingInOrder) {
  Router router;
  router.Add(Method::kGet, "/a", Named("a"));
  router.Add(Method::kPost, "/b/{id}", Named("b"));
  router.Add(Method::kPost, "/a", Named("a2"));
  auto routes = router.Routes();
  std::vector<std::pair<Method, std::string>> expected = {
      {Method::kGet, "/a"}, {Method::kPost, "/b/{id}"}, {Method::kPost, "/a"}};
  EXPECT_EQ(routes, expected);
}

TEST(RouterDeathTest, DuplicateRouteAborts) {
  EXPECT_DEATH(
      {
        Router router;
        router.Add(Method::kGet, "/a/{x}", Named("1"));
        router.Add(Method::kGet, "/a/{x}", Named("2"));
      },
      "duplicate route");
}

TEST(RouterDeathTest, MalformedPatternsAbort) {
  EXPECT_DEATH({ Router().Add(Method::kGet, "no-slash", Named("x")); }, "malformed");
  EXPECT_DEATH({ Router().Add(Method::kGet, "/a/{rest...}/b", Named("x")); }, "malformed");
  EXPECT_DEATH({ Router().Add(Method::kGet, "/a/x{y}", Named("x")); }, "malformed");
  EXPECT_DEATH({ Router().Add(Method::kGet, "/a/{}", Named("x")); }, "malformed");
}

TEST(CallRouteForTest, WaitsForAnAsyncRouteAndAnswers500WhenItDropsTheResponder) {
  Router router;
  router.AddAsync(Method::kPost, "/later", [](Request& req, Responder responder) {
    std::thread([responder, body = req.body] {
      responder.Send(Response::Json(200, "{\"echo\":\"" + body + "\"}"));
    }).detach();
  });
  router.AddAsync(Method::kPost, "/never", [](Request&, Responder) {});
  Request later;
  later.method = Method::kPost;
  later.target = "/later";
  later.body = "x";
  Response answered = CallRouteForTest(router, later);
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(answered.body, R"({"echo":"x"})");
  Request never;
  never.method = Method::kPost;
  never.target = "/never";
  EXPECT_EQ(CallRouteForTest(router, never).status, 500);
}

}  // namespace
}  // namespace cairn::http
