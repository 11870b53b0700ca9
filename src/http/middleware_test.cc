#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "http/access_log_middleware.h"
#include "http/request_id_middleware.h"
#include "http/tenant_middleware.h"

namespace cairn::http {
namespace {

TEST(RequestIdMiddlewareTest, KeepsSaneIncomingIdAndEchoesIt) {
  IdGenerator ids(7);
  RequestIdMiddleware middleware(ids);
  Request request;
  request.headers.Add("x-request-id", "abc.DEF_123-x");
  EXPECT_FALSE(middleware.OnRequest(request).has_value());
  EXPECT_EQ(request.scope.request_id, "abc.DEF_123-x");
  Response response;
  middleware.OnResponse(request, response, 0);
  EXPECT_EQ(response.headers.Get("X-Request-Id"), "abc.DEF_123-x");
}

TEST(RequestIdMiddlewareTest, ReplacesInsaneIdsWithGeneratedHex) {
  IdGenerator ids(7);
  RequestIdMiddleware middleware(ids);
  for (const std::string& bad :
       {std::string("has space"), std::string("quote\""), std::string(129, 'a'), std::string(""),
        std::string("new\nline")}) {
    Request request;
    request.headers.Add("X-Request-Id", bad);
    middleware.OnRequest(request);
    EXPECT_NE(request.scope.request_id, bad);
    ASSERT_EQ(request.scope.request_id.size(), 32u);
    EXPECT_EQ(request.scope.request_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  Request none;
  middleware.OnRequest(none);
  EXPECT_EQ(none.scope.request_id.size(), 32u);
  Request other;
  middleware.OnRequest(other);
  EXPECT_NE(none.scope.request_id, other.scope.request_id);
  EXPECT_TRUE(RequestIdMiddleware::IsValidRequestId(std::string(128, 'a')));
}

TEST(RequestIdMiddlewareTest, ResponseHeaderReplacesHandlerValue) {
  RequestIdMiddleware middleware;
  Request request;
  middleware.OnRequest(request);
  Response response;
  response.headers.Add("X-Request-Id", "from-handler");
  middleware.OnResponse(request, response, 0);
  EXPECT_EQ(response.headers.items().size(), 1u);
  EXPECT_EQ(response.headers.Get("X-Request-Id"), request.scope.request_id);
}

TEST(TenantMiddlewareTest, DefaultsWithoutHeader) {
  TenantMiddleware middleware;
  Request request;
  request.scope.tenant = "something-else";
  EXPECT_FALSE(middleware.OnRequest(request).has_value());
  EXPECT_EQ(request.scope.tenant, "default");
}

TEST(TenantMiddlewareTest, UsesValidWorkspaceHeader) {
  TenantMiddleware middleware;
  Request request;
  request.headers.Add("x-mlflow-workspace", "team_a-1");
  EXPECT_FALSE(middleware.OnRequest(request).has_value());
  EXPECT_EQ(request.scope.tenant, "team_a-1");
  Request longest;
  longest.headers.Add("X-MLFLOW-WORKSPACE", std::string(63, 'w'));
  EXPECT_FALSE(middleware.OnRequest(longest).has_value());
}

TEST(TenantMiddlewareTest, WorkspaceNamesAreCaseInsensitiveAndFoldedToLowerCase) {
  TenantMiddleware middleware;
  for (const auto& [header, tenant] : std::vector<std::pair<std::string, std::string>>{
           {"Team-A", "team-a"},
           {"team-a", "team-a"},
           {"TEAM-A", "team-a"},
           {"team_A-1", "team_a-1"},
           {"DEFAULT", "default"},
           {"Default", "default"},
           {"MiXeD_Case_0123456789", "mixed_case_0123456789"}}) {
    Request request;
    request.headers.Add("X-MLFLOW-WORKSPACE", header);
    EXPECT_FALSE(middleware.OnRequest(request).has_value()) << header;
    EXPECT_EQ(request.scope.tenant, tenant) << header;
  }
}

TEST(TenantMiddlewareTest, RejectsInvalidWorkspaceWith400) {
  TenantMiddleware middleware;
  for (const std::string& bad : {std::string(""), std::string(64, 'w'), std::string("a.b"),
                                 std::string("a/b"), std::string("sp ace"), std::string("\"x\"")}) {
    Request request;
    request.headers.Add("X-MLFLOW-WORKSPACE", bad);
    auto response = middleware.OnRequest(request);
    ASSERT_TRUE(response.has_value()) << bad;
    EXPECT_EQ(response->status, 400);
    auto body = boost::json::parse(response->body).as_object();
    EXPECT_EQ(body.at("error_code").as_string(), "INVALID_PARAMETER_VALUE");
    EXPECT_EQ(request.scope.tenant, "default");
  }
}

class AccessLogTest : public ::testing::Test {
 protected:
  AccessLogTest() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    logger_ = std::make_shared<spdlog::logger>("access-test", sink);
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::info);
  }
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(AccessLogTest, LogsOneLinePerRequestWithEscapedValues) {
  AccessLogMiddleware middleware(logger_);
  Request request;
  request.method = Method::kPost;
  request.path = "/a \"quoted\"\npath";
  request.scope.request_id = "rid1";
  request.scope.tenant = "default";
  EXPECT_FALSE(middleware.OnRequest(request).has_value());
  Response response = Response::Json(201, "12345");
  middleware.OnResponse(request, response, 1'234'567);
  EXPECT_EQ(out_.str(),
            "access method=POST path=/a \\\"quoted\\\"\\npath status=201 bytes=5 ms=1.23 rid=rid1 "
            "tenant=default\n");
}

TEST_F(AccessLogTest, StreamsReportDeclaredSizeOrMinusOne) {
  struct Source : BodySource {
    std::optional<uint64_t> size;
    StatusOr<size_t> Read(char*, size_t) override { return size_t{0}; }
    std::optional<uint64_t> Size() const override { return size; }
  };
  AccessLogMiddleware middleware(logger_);
  Request request;
  Response known;
  auto source = std::make_unique<Source>();
  source->size = 4096;
  known.stream = std::move(source);
  middleware.OnResponse(request, known, 0);
  Response unknown;
  unknown.stream = std::make_unique<Source>();
  middleware.OnResponse(request, unknown, 0);
  std::string text = out_.str();
  EXPECT_NE(text.find("bytes=4096 "), std::string::npos) << text;
  EXPECT_NE(text.find("bytes=-1 "), std::string::npos) << text;
}

TEST_F(AccessLogTest, SilentWhenInfoIsDisabled) {
  logger_->set_level(spdlog::level::warn);
  AccessLogMiddleware middleware(logger_);
  Request request;
  Response response;
  middleware.OnResponse(request, response, 0);
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace cairn::http
