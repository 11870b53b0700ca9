#include "cli/cli.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <sstream>

#include "api/v1/model_test_env.h"
#include "http/server.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

constexpr std::string_view kRun = "0123456789abcdef0123456789abcdef";

// The CLI against a real server: HttpServer on a free port serving the real /api/v1 routes
// over SQLite.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<http::HttpServer>(options, env_.router(),
                                                 std::vector<http::Middleware*>{});
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    url_ = "http://127.0.0.1:" + std::to_string(*port);
  }

  void TearDown() override { server_->Stop(); }

  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };

  Outcome Run(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    int code = CliMain(args, out, err, url_);
    return {code, out.str(), err.str()};
  }

  api::v1::ModelApiEnv env_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
};

TEST_F(CliTest, RegisterListPromoteDelete) {
  env_.CreateRun(kRun);
  Outcome reg = Run({"models", "register", "--name", "iris flowers", "--run-id", std::string(kRun),
                     "--artifact-path", "model", "--tag", "team=ml"});
  ASSERT_EQ(reg.code, 0) << reg.err;
  EXPECT_EQ(reg.out,
            "NAME          VERSION  STAGE  STATUS  CREATED              SOURCE\n"
            "iris flowers  1        None   READY   2023-11-14 22:13:20  runs:/" +
                std::string(kRun) + "/model\n");
  EXPECT_EQ(
      Run({"models", "register", "--name", "iris flowers", "--artifact-uri", "s3://b/m"}).code, 0);

  Outcome promoted =
      Run({"models", "promote", "iris flowers", "--version", "2", "--stage", "Production"});
  ASSERT_EQ(promoted.code, 0) << promoted.err;
  EXPECT_NE(promoted.out.find("stage:Production"), std::string::npos) << promoted.out;
  EXPECT_NE(promoted.out.find("anonymous"), std::string::npos) << promoted.out;
  ASSERT_EQ(
      Run({"models", "promote", "iris flowers", "--version", "1", "--alias", "champion"}).code, 0);

  Outcome listed = Run({"models", "versions", "iris flowers"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out,
            "VERSION  STAGE       ALIASES   STATUS  CREATED              USER       SOURCE\n"
            "2        Production  -         READY   2023-11-14 22:13:20  anonymous  s3://b/m\n"
            "1        None        champion  READY   2023-11-14 22:13:20  anonymous  runs:/" +
                std::string(kRun) + "/model\n");

  Outcome page = Run({"models", "versions", "iris flowers", "--max-results", "1"});
  ASSERT_EQ(page.code, 0) << page.err;
  EXPECT_NE(page.out.find("More versions: --page-token 2\n"), std::string::npos) << page.out;

  Outcome deleted = Run({"models", "delete", "iris flowers", "--version", "2"});
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "Deleted iris flowers version 2.\n");

  Outcome json = Run({"models", "versions", "iris flowers", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  bj::value parsed = bj::parse(json.out);
  ASSERT_EQ(parsed.at("versions").as_array().size(), 1u);
  EXPECT_EQ(parsed.at("versions").as_array()[0].at("version"), 1);
}

TEST_F(CliTest, NamesNeedingEncodingReachTheServerIntact) {
  ASSERT_EQ(Run({"models", "register", "--name", "iris #1?&", "--artifact-uri", "s3://b/m"}).code,
            0);
  Outcome listed = Run({"models", "versions", "iris #1?&", "--json"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(bj::parse(listed.out).at("versions").as_array()[0].at("name"), "iris #1?&");
}

TEST_F(CliTest, ServerErrorsExitOneWithTheEnvelope) {
  Outcome missing = Run({"models", "versions", "nope"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err.rfind("error: RESOURCE_DOES_NOT_EXIST: ", 0), 0u) << missing.err;

  Outcome bad = Run(
      {"models", "register", "--name", "iris", "--run-id", "not-a-run!", "--artifact-path", "m"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err.rfind("error: INVALID_PARAMETER_VALUE: ", 0), 0u) << bad.err;
}

TEST_F(CliTest, UsageErrorsExitTwoWithoutCallingTheServer) {
  Outcome usage = Run({"models", "promote", "iris", "--version", "1"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.err.find("--stage or --alias"), std::string::npos);
  Outcome help = Run({"models", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("versions"), std::string::npos);
}

TEST_F(CliTest, UnreachableServerExitsOne) {
  server_->Stop();
  std::ostringstream out;
  std::ostringstream err;
  int code = CliMain({"models", "versions", "iris"}, out, err, url_);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str().rfind("error: cannot connect to " + url_, 0), 0u) << err.str();
}

TEST_F(CliTest, ServerFlagBeatsEnvironment) {
  std::ostringstream out;
  std::ostringstream err;
  int code =
      CliMain({"models", "--server", url_, "versions", "nope"}, out, err, "http://127.0.0.1:1");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str().rfind("error: RESOURCE_DOES_NOT_EXIST", 0), 0u) << err.str();
}

}  // namespace
}  // namespace cairn::cli
