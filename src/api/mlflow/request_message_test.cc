#include "api/mlflow/request_message.h"

#include <gtest/gtest.h>

namespace cairn::api::mlflow {
namespace {

TEST(RequestMessageTest, GetQueryRepeatsBecomeArrays) {
  http::Request req;
  req.method = http::Method::kGet;
  req.query = {{"experiment_ids", "1"}, {"experiment_ids", "2"}, {"filter", "a"}, {"filter", "b"}};
  auto msg = ReadMessage(req, {"experiment_ids"});
  ASSERT_TRUE(msg.ok());
  ASSERT_TRUE(msg->at("experiment_ids").is_array());
  EXPECT_EQ(msg->at("experiment_ids").as_array().size(), 2u);
  EXPECT_EQ(msg->at("filter").as_string(), "a");
}

TEST(RequestMessageTest, GetWithoutQueryReadsJsonBody) {
  http::Request req;
  req.method = http::Method::kGet;
  req.body = R"({"run_id": "abc"})";
  auto msg = ReadMessage(req);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->at("run_id").as_string(), "abc");
}

TEST(RequestMessageTest, PostRequiresJsonContentType) {
  http::Request req;
  req.method = http::Method::kPost;
  req.body = "{}";
  EXPECT_EQ(ReadMessage(req).status().code(), StatusCode::kInvalidArgument);
  req.headers.Add("content-type", "text/plain");
  EXPECT_FALSE(ReadMessage(req).ok());
  req.headers.Set("Content-Type", "Application/JSON; charset=utf-8");
  EXPECT_TRUE(ReadMessage(req).ok());
}

TEST(RequestMessageTest, DeleteBodyNeedsNoContentType) {
  http::Request req;
  req.method = http::Method::kDelete;
  req.body = R"({"name": "m"})";
  EXPECT_TRUE(ReadMessage(req).ok());
}

TEST(RequestMessageTest, MalformedBodyIsInvalidArgument) {
  http::Request req;
  req.method = http::Method::kPost;
  req.headers.Add("Content-Type", "application/json");
  req.body = "{not json";
  EXPECT_EQ(ReadMessage(req).status().code(), StatusCode::kInvalidArgument);
  req.body = "[1]";
  EXPECT_EQ(ReadMessage(req).status().code(), StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(*DecodePageToken(EncodePageToken(1234)), 1234);
  EXPECT_EQ(*DecodePageToken(""), 0);
  EXPECT_FALSE(DecodePageToken("!!!").ok());
  EXPECT_FALSE(DecodePageToken(Base64Encode("not json")).ok());
  EXPECT_FALSE(DecodePageToken(Base64Encode(R"({"offset": -5})")).ok());
  EXPECT_FALSE(DecodePageToken(Base64Encode(R"({"offset": "x"})")).ok());
}

TEST(Base64Test, MatchesKnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
}

}  // namespace
}  // namespace cairn::api::mlflow
