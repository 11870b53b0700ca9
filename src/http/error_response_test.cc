#include "http/error_response.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cairn::http {
namespace {

boost::json::object Body(const Response& response) {
  return boost::json::parse(response.body).as_object();
}

TEST(ErrorResponseTest, MapsEveryCodeAsDocumented) {
  struct Case {
    StatusCode code;
    int http;
    std::string_view wire;
  };
  const Case cases[] = {
      {StatusCode::kInvalidArgument, 400, "INVALID_PARAMETER_VALUE"},
      {StatusCode::kAlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"},
      {StatusCode::kFailedPrecondition, 400, "INVALID_STATE"},
      {StatusCode::kNotFound, 404, "RESOURCE_DOES_NOT_EXIST"},
      {StatusCode::kUnauthenticated, 401, "UNAUTHENTICATED"},
      {StatusCode::kPermissionDenied, 403, "PERMISSION_DENIED"},
      {StatusCode::kPayloadTooLarge, 413, "REQUEST_LIMIT_EXCEEDED"},
      {StatusCode::kResourceExhausted, 429, "RESOURCE_EXHAUSTED"},
      {StatusCode::kUnimplemented, 501, "NOT_IMPLEMENTED"},
      {StatusCode::kUnavailable, 503, "TEMPORARILY_UNAVAILABLE"},
      {StatusCode::kInternal, 500, "INTERNAL_ERROR"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(HttpStatusFor(c.code), c.http) << StatusCodeName(c.code);
    EXPECT_EQ(WireCodeFor(c.code), c.wire);
    Response response = ErrorResponse(Status(c.code, "boom"));
    EXPECT_EQ(response.status, c.http);
    EXPECT_EQ(response.content_type, "application/json");
    auto body = Body(response);
    EXPECT_EQ(body.at("error_code").as_string(), c.wire);
    EXPECT_EQ(body.at("message").as_string(), "boom");
  }
}

TEST(ErrorResponseTest, WireCodeOverrideKeepsHttpStatus) {
  Response response = ErrorResponse(NotFound("gone").WithWireCode("ENDPOINT_NOT_FOUND"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Body(response).at("error_code").as_string(), "ENDPOINT_NOT_FOUND");
}

TEST(ErrorResponseTest, OpenInferenceFormatIsErrorOnlyWithTheSameStatus) {
  Response response = ErrorResponse(Status(StatusCode::kInvalidArgument, "bad \"shape\" [2,3]"),
                                    ErrorFormat::kOpenInference);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/json");
  auto body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.size(), 1u);
  EXPECT_EQ(body["error"].as_string(), "bad \"shape\" [2,3]");
  EXPECT_EQ(ErrorResponse(Unavailable("busy"), ErrorFormat::kOpenInference).status, 503);
  auto mlflow =
      boost::json::parse(ErrorResponse(Unavailable("busy"), ErrorFormat::kMlflow).body).as_object();
  EXPECT_EQ(mlflow["error_code"].as_string(), "TEMPORARILY_UNAVAILABLE");
}

TEST(ErrorResponseTest, MessageIsEscaped) {
  Response response = ErrorResponse(InvalidArgument("bad \"name\"\n\\ \x01 end"));
  EXPECT_EQ(response.body,
            R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad \"name\"\n\\ \u0001 end"})");
  EXPECT_EQ(Body(response).at("message").as_string(), "bad \"name\"\n\\ \x01 end");
}

TEST(ErrorResponseTest, InvalidUtf8IsReplaced) {
  Response response = ErrorResponse(NotFound("path /\xff\xfe/x \xc3\xa9"));
  auto message = Body(response).at("message").as_string();
  EXPECT_EQ(std::string(message), "path /\xEF\xBF\xBD\xEF\xBF\xBD/x \xc3\xa9");
}

TEST(ErrorResponseTest, EndpointNotFoundEnvelope) {
  Response response = EndpointNotFound("GET", "/api/2.0/mlflow/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(
      response.body,
      R"({"error_code":"ENDPOINT_NOT_FOUND","message":"No API route for GET /api/2.0/mlflow/nope"})");
}

TEST(ErrorResponseTest, MethodNotAllowedEnvelope) {
  Response response = MethodNotAllowed("PUT", "/x");
  EXPECT_EQ(response.status, 405);
  auto body = Body(response);
  EXPECT_EQ(body.at("error_code").as_string(), "BAD_REQUEST");
  EXPECT_EQ(body.at("message").as_string(), "Method PUT is not allowed for /x");
}

TEST(ErrorResponseTest, OkStatusIsNotSentAsSuccess) {
  Response response = ErrorResponse(Status::Ok());
  EXPECT_EQ(response.status, 500);
}

}  // namespace
}  // namespace cairn::http
