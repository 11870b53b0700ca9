// Every route the server registers, called by every role, in its own tenant and in another:
// the route's declared permission decides, through the real middleware chain of a running
// server with API tokens on. A route added later is covered without touching this test.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "auth/roles.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "cli/http_client.h"
#include "http/client.h"
#include "server/cairn_server.h"

namespace cairn::server {
namespace {

namespace fs = std::filesystem;
using http::Permission;

// The route's pattern with every capture filled in.
std::string PathOf(std::string_view pattern) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t end = pattern.find('}', i);
      out += pattern.substr(i, end - i + 1).ends_with("...}") ? "x/y.txt" : "x";
      i = end + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

class RoutePermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ServerConfig config;
    config.port = 0;
    config.data_dir = (dir_ / "data").string();
    config.threads = 4;
    config.auth = "token";
    config.monitor = false;
    config.python_prestart = false;
    // No model runtime is needed to check permissions; without ONNX Runtime no thread of its
    // (uninstrumented) library outlives the test into exit-time destructors under TSan.
    config.onnxruntime_library = (dir_ / "no-onnxruntime.so").string();
    auto server = CairnServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    address_.host = "127.0.0.1";
    address_.port = server_->port();

    auth::SecurityService security(*server_->MetadataStoresForTest().security, nullptr, nullptr,
                                   SystemClock::Get());
    auto admin = security.Bootstrap("root", false);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    server_admin_ = admin->text;
    RequestScope root = RequestScope::ForTenant("default", "root");
    for (const char* tenant : {"a", "b"}) {
      ASSERT_TRUE(security.CreateTenant(root, tenant, "").ok());
    }
    for (std::string_view role : auth::kRoles) {
      auto token =
          security.CreateToken(root, auth::TokenRequest{.principal = std::string(role) + "-bot",
                                                        .tenant = "a",
                                                        .roles = {std::string(role)}});
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      tokens_[std::string(role)] = token->text;
    }
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Sends one request; records how many audit entries it must leave: one for a mutation (any
  // answer but 429) and for every 401 and 403, none for anything else.
  int Call(const http::Route& route, const std::string& token, const std::string& workspace) {
    std::string request_id = "matrix-" + std::to_string(++calls_);
    cli::HttpCall call;
    call.headers.emplace_back("X-Request-Id", request_id);
    call.method = route.method;
    call.target = PathOf(route.pattern);
    if (route.method == http::Method::kPost || route.method == http::Method::kPut ||
        route.method == http::Method::kPatch) {
      call.body = "{}";
    }
    if (!token.empty()) call.headers.emplace_back("Authorization", "Bearer " + token);
    if (!workspace.empty()) call.headers.emplace_back("X-MLflow-Workspace", workspace);
    auto reply = Send(call);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    const int status = reply.ok() ? reply->status : 0;
    const bool read_only = route.method == http::Method::kGet;
    const bool audited = status == 401 || status == 403 ||
                         (http::IsMutation(route.options.permission, read_only) && status != 429);
    expected_audit_[request_id] = audited ? 1 : 0;
    routes_[request_id] = std::string(http::MethodName(route.method)) + " " + route.pattern +
                          " -> " + std::to_string(status);
    return status;
  }

  // request id -> entries in the audit log, all pages.
  std::map<std::string, int> AuditCounts() {
    std::map<std::string, int> counts;
    std::string page;
    while (true) {
      cli::HttpCall call;
      call.target = "/api/v1/audit?max_results=1000" + page;
      call.headers.emplace_back("Authorization", "Bearer " + server_admin_);
      auto reply = Send(call);
      EXPECT_TRUE(reply.ok() && reply->status == 200);
      if (!reply.ok() || reply->status != 200) return counts;
      boost::json::value body = boost::json::parse(reply->body);
      for (const auto& entry : body.at("entries").as_array()) {
        ++counts[std::string(entry.at("request_id").as_string())];
      }
      const boost::json::value* next = body.as_object().if_contains("next_page_token");
      if (next == nullptr) return counts;
      page = "&page_token=" + std::string(next->as_string());
    }
  }

  // One kept-alive client for the thousands of calls (making one costs tens of milliseconds).
  StatusOr<http::ClientResponse> Send(const cli::HttpCall& call) {
    if (client_ == nullptr) {
      auto client = http::Client::Create({});
      EXPECT_TRUE(client.ok());
      client_ = std::move(client).value();
    }
    http::ClientRequest request{.method = call.method,
                                .url = address_.UrlOf(call.target),
                                .headers = call.headers,
                                .body = call.body};
    if (!call.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    return client_->Send(request);
  }

  std::unique_ptr<http::Client> client_;
  int calls_ = 0;
  std::map<std::string, int> expected_audit_;
  std::map<std::string, std::string> routes_;

  fs::path dir_;
  std::unique_ptr<CairnServer> server_;
  cli::ServerAddress address_;
  std::string server_admin_;
  std::map<std::string, std::string> tokens_;
};

bool Refused(int status) { return status == 401 || status == 403; }

TEST_F(RoutePermissionsTest, EveryRouteAgainstEveryRoleAndTenant) {
  int checked = 0;
  for (const http::Route* route : server_->RouterForTest().AllRoutes()) {
    const Permission permission = route->options.permission;
    ASSERT_NE(permission, Permission::kUnset) << route->pattern;
    const std::string name = std::string(http::MethodName(route->method)) + " " + route->pattern +
                             " (" + std::string(http::PermissionName(permission)) + ")";
    SCOPED_TRACE(name);
    const bool is_public = permission == Permission::kPublic;

    // No credentials: only public routes answer.
    int anonymous = Call(*route, "", "");
    if (is_public) {
      EXPECT_FALSE(Refused(anonymous)) << anonymous;
    } else {
      EXPECT_EQ(anonymous, 401);
    }

    for (const auto& [role, token] : tokens_) {
      std::vector<RoleGrant> grants = {{"a", role}};
      // In the tenant the role is held in.
      int own = Call(*route, token, "a");
      bool allowed = auth::Allows(grants, "a", permission);
      EXPECT_EQ(!Refused(own), allowed) << role << " in its tenant: " << own;
      if (!is_public && !allowed) {
        EXPECT_EQ(own, 403) << role;
      }
      // In another tenant: never, except what needs no tenant role.
      int other = Call(*route, token, "b");
      bool tenant_free = is_public || permission == Permission::kAuthenticated;
      EXPECT_EQ(!Refused(other), tenant_free) << role << " in another tenant: " << other;
      // With no header, the token's own tenant.
      int implied = Call(*route, token, "");
      EXPECT_EQ(!Refused(implied), allowed) << role << " without a workspace: " << implied;
    }
    // The server administrator reaches everything, in any tenant.
    EXPECT_FALSE(Refused(Call(*route, server_admin_, "b")));
    ++checked;
  }
  EXPECT_GT(checked, 100);

  // Every mutation, authentication failure and denial left exactly one audit entry; nothing
  // else left any.
  std::map<std::string, int> counts = AuditCounts();
  int audited = 0;
  for (const auto& [request_id, expected] : expected_audit_) {
    auto it = counts.find(request_id);
    int found = it == counts.end() ? 0 : it->second;
    EXPECT_EQ(found, expected) << routes_[request_id];
    audited += expected;
  }
  EXPECT_GT(audited, 500);
}

TEST(CheckRoutePermissionsTest, ARouteWithoutAPermissionIsRefused) {
  http::Router router;
  router.Add(
      http::Method::kGet, "/ok", [](http::Request&) { return http::Response::Json(200, "{}"); },
      http::RouteOptions{.permission = Permission::kRead});
  EXPECT_TRUE(CheckRoutePermissions(router).ok());
  router.Add(http::Method::kPost, "/forgotten",
             [](http::Request&) { return http::Response::Json(200, "{}"); });
  Status status = CheckRoutePermissions(router);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("POST /forgotten"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace cairn::server
