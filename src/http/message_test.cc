#include "http/message.h"

#include <gtest/gtest.h>

namespace cairn::http {
namespace {

TEST(MethodTest, NamesRoundTrip) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                   Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m) << MethodName(m);
  }
  EXPECT_EQ(MethodName(Method::kDelete), "DELETE");
}

TEST(MethodTest, ParseIsCaseSensitiveAndUnknownIsOther) {
  EXPECT_EQ(ParseMethod("get"), Method::kOther);
  EXPECT_EQ(ParseMethod("PROPFIND"), Method::kOther);
  EXPECT_EQ(ParseMethod("OTHER"), Method::kOther);
  EXPECT_EQ(ParseMethod(""), Method::kOther);
}

TEST(HeadersTest, GetIsCaseInsensitiveAndReturnsFirst) {
  Headers headers;
  headers.Add("Content-Type", "application/json");
  headers.Add("X-Thing", "one");
  headers.Add("x-thing", "two");
  EXPECT_EQ(headers.Get("content-type"), "application/json");
  EXPECT_EQ(headers.Get("X-THING"), "one");
  EXPECT_FALSE(headers.Get("X-Missing").has_value());
}

TEST(HeadersTest, SetReplacesEveryCaseVariant) {
  Headers headers;
  headers.Add("X-Thing", "one");
  headers.Add("Other", "keep");
  headers.Add("x-THING", "two");
  headers.Set("x-thing", "three");
  ASSERT_EQ(headers.items().size(), 2u);
  EXPECT_EQ(headers.items()[0].first, "Other");
  EXPECT_EQ(headers.Get("X-Thing"), "three");
}

TEST(QueryStringTest, DecodesKeepingOrderAndRepeats) {
  auto query = ParseQueryString("a=1&b=x+y&a=2&c&&d=%2F%41&=e&f=");
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "1"}, {"b", "x y"}, {"a", "2"}, {"c", ""}, {"d", "/A"}, {"", "e"}, {"f", ""}};
  EXPECT_EQ(*query, expected);
}

TEST(QueryStringTest, PlusInsideEscapeIsLiteral) {
  auto query = ParseQueryString("q=a%2Bb+c");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ((*query)[0].second, "a+b c");
}

TEST(QueryStringTest, MalformedEscapeFails) {
  EXPECT_EQ(ParseQueryString("a=%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQueryString("a=%4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQueryString("%=1").status().code(), StatusCode::kInvalidArgument);
}

TEST(QueryStringTest, EmptyGivesNothing) {
  auto query = ParseQueryString("");
  ASSERT_TRUE(query.ok());
  EXPECT_TRUE(query->empty());
}

TEST(RequestTest, QueryAndPathAccessors) {
  Request request;
  request.query = {{"experiment_ids", "1"}, {"max", "5"}, {"experiment_ids", "2"}};
  request.path_params["run_id"] = "abc";
  EXPECT_EQ(request.QueryParam("max"), "5");
  EXPECT_EQ(request.QueryParam("experiment_ids"), "1");
  EXPECT_FALSE(request.QueryParam("absent").has_value());
  EXPECT_EQ(request.QueryParams("experiment_ids"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(request.QueryParams("absent").empty());
  EXPECT_EQ(request.PathParam("run_id"), "abc");
  EXPECT_EQ(request.PathParam("absent"), "");
}

}  // namespace
}  // namespace cairn::http
