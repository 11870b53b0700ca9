#include "server/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace cairn::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CAIRN_PORT");
    unsetenv("CAIRN_HOST");
    unsetenv("CAIRN_CONFIG");
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    unsetenv("CAIRN_PORT");
    unsetenv("CAIRN_HOST");
    unsetenv("CAIRN_CONFIG");
    std::filesystem::remove_all(dir_);
  }
  std::string WriteYaml(const std::string& text) {
    auto path = dir_ / "cairn.yaml";
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsAreEmbedded) {
  auto parsed = ParseServerArgs({"server"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config.host, "127.0.0.1");
  EXPECT_EQ(parsed->config.port, 5000);
  EXPECT_EQ(parsed->config.data_dir, "./cairn-data");
  EXPECT_TRUE(parsed->config.backend_store_uri.empty());
}

TEST_F(ConfigTest, FlagBeatsEnvBeatsYaml) {
  std::string yaml = WriteYaml("port: 7001\nhost: 0.0.0.0\nlog_level: debug\n");
  setenv("CAIRN_PORT", "7002", 1);
  auto parsed = ParseServerArgs({"server", "--config", yaml, "--port", "7003"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config.port, 7003);
  EXPECT_EQ(parsed->config.host, "0.0.0.0");
  EXPECT_EQ(parsed->config.log_level, "debug");

  parsed = ParseServerArgs({"server", "--config", yaml});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->config.port, 7002);

  unsetenv("CAIRN_PORT");
  setenv("CAIRN_CONFIG", yaml.c_str(), 1);
  parsed = ParseServerArgs({"server"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->config.port, 7001);
}

TEST_F(ConfigTest, BooleanFlagsMayBeGivenBareOrWithAValue) {
  auto bare = ParseServerArgs({"server", "--sqlite-synchronous-full", "--port", "7004"});
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_TRUE(bare->config.sqlite_synchronous_full);
  EXPECT_EQ(bare->config.port, 7004);
  auto last = ParseServerArgs({"server", "--sqlite-synchronous-full"});
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->config.sqlite_synchronous_full);
  auto valued = ParseServerArgs({"server", "--sqlite-synchronous-full=false"});
  ASSERT_TRUE(valued.ok()) << valued.status().ToString();
  EXPECT_FALSE(valued->config.sqlite_synchronous_full);
  auto spaced = ParseServerArgs({"server", "--sqlite-synchronous-full", "true"});
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  EXPECT_TRUE(spaced->config.sqlite_synchronous_full);
  EXPECT_FALSE(ParseServerArgs({"server", "--sqlite-synchronous-full=maybe"}).ok());
}

TEST_F(ConfigTest, RejectsBadValues) {
  EXPECT_FALSE(ParseServerArgs({"server", "--port", "70000"}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--port", "abc"}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--log-format", "xml"}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--no-such-flag"}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--config", WriteYaml("bogus_key: 1\n")}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--config", WriteYaml("port: [1, 2]\n")}).ok());
  EXPECT_FALSE(ParseServerArgs({"server", "--config", (dir_ / "missing.yaml").string()}).ok());
  setenv("CAIRN_PORT", "-1", 1);
  EXPECT_FALSE(ParseServerArgs({"server"}).ok());
}

TEST_F(ConfigTest, RedisUriIsCheckedWhenParsed) {
  auto parsed = ParseServerArgs({"server", "--redis-uri", "redis://:pw@127.0.0.1:6380/2"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config.redis_uri, "redis://:pw@127.0.0.1:6380/2");
  auto bad = ParseServerArgs({"server", "--redis-uri", "redis://:secret@host:0"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("invalid Redis URI"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("secret"), std::string::npos);
  EXPECT_FALSE(ParseServerArgs({"server", "--config", WriteYaml("redis_uri: mysql://x\n")}).ok());
}

TEST_F(ConfigTest, TableListsEveryOption) {
  std::string table = ConfigTableMarkdown();
  for (const char* s : {"--backend-store-uri", "CAIRN_ARTIFACTS_URI", "data_dir", "--config"}) {
    EXPECT_NE(table.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace cairn::server
