#include "cli/models_command.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cairn::cli {
namespace {

namespace bj = boost::json;

ModelsCommand MustParse(const std::vector<std::string>& args,
                        std::optional<std::string> env_server = std::nullopt) {
  ParsedModelsArgs parsed = ParseModelsArgs(args, std::move(env_server));
  EXPECT_TRUE(parsed.command.has_value()) << parsed.message;
  return parsed.command.value_or(ModelsCommand{});
}

void ExpectUsageError(const std::vector<std::string>& args, std::string_view needle = "") {
  ParsedModelsArgs parsed = ParseModelsArgs(args, std::nullopt);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  EXPECT_FALSE(parsed.command.has_value()) << joined;
  EXPECT_EQ(parsed.exit_code, 2) << joined;
  EXPECT_NE(parsed.message.find(needle), std::string::npos) << joined << "-> " << parsed.message;
}

TEST(ModelsCommandTest, RegisterFromRun) {
  ModelsCommand cmd =
      MustParse({"models", "register", "--name", "iris", "--run-id", "R", "--artifact-path",
                 "model", "--description", "first", "--tag", "a=1", "--tag", "b=x=y"});
  EXPECT_EQ(cmd.action, ModelsAction::kRegister);
  EXPECT_EQ(cmd.name, "iris");
  EXPECT_EQ(cmd.run_id, "R");
  EXPECT_EQ(cmd.artifact_path, "model");
  EXPECT_EQ(cmd.description, "first");
  ASSERT_EQ(cmd.tags.size(), 2u);
  EXPECT_EQ(cmd.tags[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(cmd.tags[1], (std::pair<std::string, std::string>{"b", "x=y"}));
  EXPECT_EQ(cmd.server, kDefaultServer);
  EXPECT_FALSE(cmd.json);

  HttpCall call = BuildHttpCall(cmd);
  EXPECT_EQ(call.method, http::Method::kPost);
  EXPECT_EQ(call.target, "/api/v1/models/register");
  EXPECT_EQ(bj::parse(call.body),
            bj::parse(R"({"name": "iris", "source": {"run_id": "R", "artifact_path": "model"},
                          "description": "first",
                          "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "x=y"}]})"));
}

TEST(ModelsCommandTest, RegisterFromLoggedModelOrUri) {
  ModelsCommand by_model =
      MustParse({"models", "register", "--name", "iris", "--logged-model-id", "m-1"});
  EXPECT_EQ(bj::parse(BuildHttpCall(by_model).body),
            bj::parse(R"({"name": "iris", "source": {"logged_model_id": "m-1"}})"));
  ModelsCommand by_uri = MustParse(
      {"models", "register", "--name", "iris", "--artifact-uri", "mlflow-artifacts:/0/r/model"});
  EXPECT_EQ(bj::parse(BuildHttpCall(by_uri).body), bj::parse(R"({"name": "iris",
                          "source": {"artifact_uri": "mlflow-artifacts:/0/r/model"}})"));
}

TEST(ModelsCommandTest, RegisterUsageErrors) {
  ExpectUsageError({"models", "register", "--run-id", "R", "--artifact-path", "m"}, "--name");
  ExpectUsageError({"models", "register", "--name", "iris"}, "exactly one source");
  ExpectUsageError({"models", "register", "--name", "iris", "--run-id", "R"}, "go together");
  ExpectUsageError({"models", "register", "--name", "iris", "--artifact-path", "m"}, "go together");
  ExpectUsageError({"models", "register", "--name", "iris", "--logged-model-id", "m-1",
                    "--artifact-uri", "s3://b/m"},
                   "exactly one source");
  ExpectUsageError({"models", "register", "--name", "iris", "--artifact-uri", "u", "--tag", "k"},
                   "key=value");
  ExpectUsageError({"models", "register", "--name", "iris", "--artifact-uri", "u", "--tag", "=v"},
                   "key=value");
  ExpectUsageError({"models", "register", "--name", "iris", "--artifact-uri", "u", "--bogus"});
}

TEST(ModelsCommandTest, VersionsWithPagingAndEncodedName) {
  ModelsCommand cmd = MustParse(
      {"models", "versions", "team/iris v2", "--max-results", "5", "--page-token", "a b&c"});
  EXPECT_EQ(cmd.action, ModelsAction::kVersions);
  EXPECT_EQ(cmd.name, "team/iris v2");
  HttpCall call = BuildHttpCall(cmd);
  EXPECT_EQ(call.method, http::Method::kGet);
  EXPECT_EQ(call.target,
            "/api/v1/models/team%2Firis%20v2/versions?max_results=5&page_token=a%20b%26c");
  EXPECT_TRUE(call.body.empty());

  EXPECT_EQ(BuildHttpCall(MustParse({"models", "versions", "iris"})).target,
            "/api/v1/models/iris/versions");
  ExpectUsageError({"models", "versions"}, "name");
  ExpectUsageError({"models", "versions", "iris", "--max-results", "0"});
  ExpectUsageError({"models", "versions", "iris", "--max-results", "many"});
}

TEST(ModelsCommandTest, PromoteToStageOrAlias) {
  ModelsCommand stage = MustParse({"models", "promote", "iris", "--version", "2", "--stage",
                                   "Production", "--archive-previous"});
  EXPECT_EQ(stage.action, ModelsAction::kPromote);
  HttpCall call = BuildHttpCall(stage);
  EXPECT_EQ(call.method, http::Method::kPost);
  EXPECT_EQ(call.target, "/api/v1/models/iris/promote");
  EXPECT_EQ(bj::parse(call.body),
            bj::parse(R"({"version": "2", "stage": "Production", "archive_previous": true})"));

  ModelsCommand alias =
      MustParse({"models", "promote", "iris", "--version", "3", "--alias", "champion"});
  EXPECT_EQ(bj::parse(BuildHttpCall(alias).body),
            bj::parse(R"({"version": "3", "alias": "champion"})"));

  ExpectUsageError({"models", "promote", "iris", "--version", "2"}, "--stage or --alias");
  ExpectUsageError(
      {"models", "promote", "iris", "--version", "2", "--stage", "Staging", "--alias", "a"});
  ExpectUsageError({"models", "promote", "iris", "--stage", "Staging"}, "--version");
  ExpectUsageError({"models", "promote", "iris", "--version", "two", "--stage", "Staging"},
                   "version number");
}

TEST(ModelsCommandTest, Delete) {
  ModelsCommand cmd = MustParse({"models", "delete", "my.model", "--version", "7"});
  HttpCall call = BuildHttpCall(cmd);
  EXPECT_EQ(call.method, http::Method::kDelete);
  EXPECT_EQ(call.target, "/api/v1/models/my.model/versions/7");
  EXPECT_TRUE(call.body.empty());
  ExpectUsageError({"models", "delete", "iris"}, "--version");
  ExpectUsageError({"models", "delete", "iris", "--version", "-1"});
}

TEST(ModelsCommandTest, ServerFromFlagThenEnvironmentThenDefault) {
  EXPECT_EQ(MustParse({"models", "versions", "iris"}, "http://env:1").server, "http://env:1");
  EXPECT_EQ(
      MustParse({"models", "--server", "http://flag:2", "versions", "iris"}, "http://env:1").server,
      "http://flag:2");
  // Global options also work after the subcommand.
  ModelsCommand after =
      MustParse({"models", "versions", "iris", "--server", "http://flag:3", "--json"});
  EXPECT_EQ(after.server, "http://flag:3");
  EXPECT_TRUE(after.json);
  ExpectUsageError({"models", "--server", "ftp://files:21", "versions", "iris"}, "https://");
  ExpectUsageError({"models", "--server", "http://host:99999", "versions", "iris"}, "port");
}

TEST(ModelsCommandTest, HelpExitsZeroAndMissingSubcommandIsUsage) {
  ParsedModelsArgs help = ParseModelsArgs({"models", "--help"}, std::nullopt);
  EXPECT_FALSE(help.command.has_value());
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("register"), std::string::npos);
  ParsedModelsArgs sub_help = ParseModelsArgs({"models", "promote", "--help"}, std::nullopt);
  EXPECT_EQ(sub_help.exit_code, 0);
  EXPECT_NE(sub_help.message.find("--archive-previous"), std::string::npos);
  ExpectUsageError({"models"});
  ExpectUsageError({"models", "frobnicate"});
}

TEST(ModelsCommandTest, ServerAddresses) {
  auto plain = ParseServerAddress("http://127.0.0.1:5000");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 5000);
  EXPECT_EQ(plain->base_path, "");
  auto prefixed = ParseServerAddress("HTTP://cairn.internal/ml/");
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ(prefixed->host, "cairn.internal");
  EXPECT_EQ(prefixed->port, 80);
  EXPECT_EQ(prefixed->base_path, "/ml");
  auto bare = ParseServerAddress("localhost:8080");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "localhost");
  EXPECT_EQ(bare->port, 8080);
  auto v6 = ParseServerAddress("http://[::1]:5000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 5000);
  auto tls = ParseServerAddress("https://cairn.internal:8443/ml");
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls->scheme, "https");
  EXPECT_EQ(tls->port, 8443);
  EXPECT_EQ(tls->UrlOf("/api/v1/models"), "https://cairn.internal:8443/ml/api/v1/models");
  EXPECT_EQ(ParseServerAddress("https://h")->port, 443);
  EXPECT_EQ(plain->UrlOf("/x?y=1"), "http://127.0.0.1:5000/x?y=1");
  for (const char* bad : {"ftp://h", "http://", "http://:80", "http://h:0", "http://h:x",
                          "http://h:", "http://u:p@h", "http://[::1", "http://h?x"}) {
    EXPECT_FALSE(ParseServerAddress(bad).ok()) << bad;
  }
}

TEST(ModelsCommandTest, FormatsVersionsAsATable) {
  ModelsCommand cmd = MustParse({"models", "versions", "iris"});
  auto text = FormatReply(cmd, R"({"versions": [
      {"name": "iris", "version": 2, "current_stage": "Production", "aliases": ["champion", "b"],
       "status": "READY", "creation_timestamp": 1700000000000, "user_id": "alice",
       "source": "runs:/r/model"},
      {"name": "iris", "version": 1, "current_stage": "None", "aliases": [],
       "status": "READY", "creation_timestamp": 1700000060000, "user_id": "",
       "source": "s3://b/m"}],
    "next_page_token": "1"})");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "VERSION  STAGE       ALIASES     STATUS  CREATED              USER   SOURCE\n"
            "2        Production  champion,b  READY   2023-11-14 22:13:20  alice  runs:/r/model\n"
            "1        None        -           READY   2023-11-14 22:14:20  -      s3://b/m\n"
            "More versions: --page-token 1\n");
  auto empty = FormatReply(cmd, R"({"versions": []})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "No versions.\n");
}

TEST(ModelsCommandTest, FormatsRegisterPromoteAndDelete) {
  ModelsCommand reg = MustParse({"models", "register", "--name", "iris", "--artifact-uri", "u"});
  auto registered = FormatReply(reg, R"({"model_version": {"name": "iris", "version": 3,
      "current_stage": "None", "status": "READY", "creation_timestamp": 1700000000000,
      "source": "u"}})");
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(*registered,
            "NAME  VERSION  STAGE  STATUS  CREATED              SOURCE\n"
            "iris  3        None   READY   2023-11-14 22:13:20  u\n");

  ModelsCommand promote =
      MustParse({"models", "promote", "iris", "--version", "3", "--alias", "champion"});
  auto promoted = FormatReply(promote, R"({"promotion": {"name": "iris", "version": 3,
      "target": "alias:champion", "principal": "bob", "timestamp": 1700000000000}})");
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(*promoted,
            "NAME  VERSION  TARGET          PREVIOUS  BY   AT\n"
            "iris  3        alias:champion  -         bob  2023-11-14 22:13:20\n");

  ModelsCommand del = MustParse({"models", "delete", "iris", "--version", "3"});
  auto deleted = FormatReply(del, "{}");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, "Deleted iris version 3.\n");
}

TEST(ModelsCommandTest, JsonPrintsTheBodyAsIs) {
  ModelsCommand cmd = MustParse({"models", "versions", "iris", "--json"});
  auto text = FormatReply(cmd, R"({"versions":[]})");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "{\"versions\":[]}\n");
}

TEST(ModelsCommandTest, MalformedAnswersAreErrors) {
  ModelsCommand cmd = MustParse({"models", "versions", "iris"});
  EXPECT_FALSE(FormatReply(cmd, "<html>").ok());
  EXPECT_FALSE(FormatReply(cmd, R"({"versions": 3})").ok());
  ModelsCommand reg = MustParse({"models", "register", "--name", "iris", "--artifact-uri", "u"});
  EXPECT_FALSE(FormatReply(reg, "{}").ok());
}

TEST(ModelsCommandTest, FormatsErrors) {
  EXPECT_EQ(FormatError(404, R"({"error_code": "RESOURCE_DOES_NOT_EXIST",
                                 "message": "Registered Model with name=x not found"})"),
            "error: RESOURCE_DOES_NOT_EXIST: Registered Model with name=x not found");
  EXPECT_EQ(FormatError(502, "Bad Gateway\n"), "error: HTTP 502: Bad Gateway");
  EXPECT_EQ(FormatError(500, ""), "error: HTTP 500");
  EXPECT_EQ(FormatError(400, R"({"error_code": "X", "message": "line1\nline2"})"),
            "error: X: line1 line2");
}

}  // namespace
}  // namespace cairn::cli
