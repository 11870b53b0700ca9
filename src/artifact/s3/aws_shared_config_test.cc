#include "artifact/s3/aws_shared_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "artifact/s3/s3_store_config.h"
#include "base/status_testing.h"

namespace cairn::artifact {
namespace {

class AwsSharedConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "aws_shared_config_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    env_["HOME"] = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` as ~/.aws/<name>.
  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(dir_ / ".aws");
    std::filesystem::path path = dir_ / ".aws" / name;
    std::ofstream(path) << text;
    return path.string();
  }

  StatusOr<AwsProfile> Load() {
    return LoadAwsProfile([this](const char* name) {
      auto it = env_.find(name);
      return it == env_.end() ? std::string() : it->second;
    });
  }

  StatusOr<S3StoreConfig> Config(const std::string& uri_text = "s3://bucket") {
    auto uri = Uri::Parse(uri_text);
    if (!uri.ok()) return uri.status();
    return ParseS3StoreConfig(*uri, [this](const char* name) {
      auto it = env_.find(name);
      return it == env_.end() ? std::string() : it->second;
    });
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST(AwsIniParseTest, SectionsKeysCommentsAndWhitespace) {
  ASSERT_OK_AND_ASSIGN(AwsIniSections sections, ParseAwsIniFile("# leading comment\n"
                                                                "; another\n"
                                                                "\n"
                                                                "[default]  # trailing\n"
                                                                "  Region   =   eu-west-1  \r\n"
                                                                "output: json\n"
                                                                "empty =\n"
                                                                "\t# indented comment\n"
                                                                "[ profile dev ]\n"
                                                                "s3 =\n"
                                                                "    addressing_style = path\n"
                                                                "region = us-west-2 # kept\n",
                                                                "f"));
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections["default"]["region"], "eu-west-1");
  EXPECT_EQ(sections["default"]["output"], "json");
  EXPECT_EQ(sections["default"]["empty"], "");
  EXPECT_EQ(sections["profile dev"]["s3"], "\naddressing_style = path");
  // As in botocore: a '#' after a value belongs to the value.
  EXPECT_EQ(sections["profile dev"]["region"], "us-west-2 # kept");
}

TEST(AwsIniParseTest, MalformedLinesNameTheFileAndLineButNotTheText) {
  const std::pair<const char*, const char*> cases[] = {
      {"aws_access_key_id = SECRETKEY\n", "line 1"},             // before any section
      {"[default]\nSECRETKEY\n", "line 2"},                      // no separator
      {"[default]\n= SECRETKEY\n", "line 2"},                    // no key
      {"[default\nk = v\n", "line 1"},                           // unclosed header
      {"[]\n", "line 1"},                                        // empty header
      {"[default] SECRETKEY\n", "line 1"},                       // text after ']'
      {"[a]\nk = v\n[a]\n", "line 3"},                           // repeated section
      {"[a]\nk = SECRETKEY\n\n# c\nK = SECRETKEY\n", "line 5"},  // repeated key
  };
  for (const auto& [text, line] : cases) {
    auto parsed = ParseAwsIniFile(text, "/home/u/.aws/credentials");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    const std::string message = parsed.status().message();
    EXPECT_NE(message.find("/home/u/.aws/credentials"), std::string::npos) << message;
    EXPECT_NE(message.find(line), std::string::npos) << message;
    EXPECT_EQ(message.find("SECRETKEY"), std::string::npos) << message;
  }
}

TEST_F(AwsSharedConfigTest, MissingFilesAreFineForTheDefaultProfile) {
  ASSERT_OK_AND_ASSIGN(AwsProfile profile, Load());
  EXPECT_EQ(profile.name, "default");
  EXPECT_FALSE(profile.found);
  EXPECT_FALSE(profile.credentials.has_value());
  EXPECT_EQ(profile.region, "");
  env_.erase("HOME");  // no HOME: no default paths at all
  ASSERT_OK_AND_ASSIGN(profile, Load());
  EXPECT_FALSE(profile.found);
}

TEST_F(AwsSharedConfigTest, NamedProfileMissingFromBothFilesIsAnError) {
  Write("credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n");
  Write("config", "[profile other]\nregion = eu-north-1\n");
  env_["AWS_PROFILE"] = "prod";
  auto profile = Load();
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.status().code(), StatusCode::kInvalidArgument);
  const std::string message = profile.status().message();
  EXPECT_NE(message.find("'prod'"), std::string::npos) << message;
  EXPECT_NE(message.find(dir_.string() + "/.aws/credentials"), std::string::npos) << message;
  EXPECT_NE(message.find(dir_.string() + "/.aws/config"), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
  // Named explicitly, "default" must exist too.
  env_["AWS_PROFILE"] = "default";
  std::filesystem::remove(dir_ / ".aws" / "credentials");
  EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AwsSharedConfigTest, CredentialsFileWinsOverConfigFile) {
  Write("credentials",
        "[default]\naws_access_key_id = CRED_ID\naws_secret_access_key = CRED_SECRET\n");
  Write("config",
        "[default]\naws_access_key_id = CONF_ID\naws_secret_access_key = CONF_SECRET\n"
        "region = ap-south-1\n");
  ASSERT_OK_AND_ASSIGN(AwsProfile profile, Load());
  ASSERT_TRUE(profile.credentials.has_value());
  EXPECT_EQ(profile.credentials->access_key_id, "CRED_ID");
  EXPECT_EQ(profile.credentials->secret_access_key, "CRED_SECRET");
  EXPECT_EQ(profile.credentials->session_token, "");
  EXPECT_EQ(profile.credentials_from, dir_.string() + "/.aws/credentials");
  EXPECT_EQ(profile.region, "ap-south-1");
}

TEST_F(AwsSharedConfigTest, NamedProfileFromConfigFileWithSessionToken) {
  Write("credentials",
        "[default]\naws_access_key_id = DEFAULT_ID\naws_secret_access_key = DEFAULT_SECRET\n");
  std::string config = Write("my-config",
                             "[default]\nregion = us-west-1\n"
                             "[profile dev]\n"
                             "aws_access_key_id = DEV_ID\n"
                             "aws_secret_access_key = DEV_SECRET\n"
                             "aws_session_token = DEV_TOKEN\n"
                             "region = eu-central-1\n"
                             "endpoint_url = http://127.0.0.1:9000\n"
                             // In the config file a bare [dev] is not the profile.
                             "[dev]\nregion = wrong\n");
  env_["AWS_CONFIG_FILE"] = config;
  env_["AWS_PROFILE"] = "dev";
  ASSERT_OK_AND_ASSIGN(AwsProfile profile, Load());
  EXPECT_TRUE(profile.found);
  ASSERT_TRUE(profile.credentials.has_value());
  EXPECT_EQ(profile.credentials->access_key_id, "DEV_ID");
  EXPECT_EQ(profile.credentials->session_token, "DEV_TOKEN");
  EXPECT_EQ(profile.credentials_from, config);
  EXPECT_EQ(profile.region, "eu-central-1");
  EXPECT_EQ(profile.endpoint_url, "http://127.0.0.1:9000");
}

TEST_F(AwsSharedConfigTest, CredentialsFileSectionsHaveNoProfilePrefix) {
  std::string credentials = Write("elsewhere",
                                  "[profile dev]\naws_access_key_id = WRONG\n"
                                  "aws_secret_access_key = WRONG\n"
                                  "[dev]\naws_access_key_id = DEV_ID\n"
                                  "aws_secret_access_key = DEV_SECRET\n"
                                  "aws_security_token = LEGACY_TOKEN\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = "~/.aws/elsewhere";
  env_["AWS_PROFILE"] = "dev";
  ASSERT_OK_AND_ASSIGN(AwsProfile profile, Load());
  ASSERT_TRUE(profile.credentials.has_value());
  EXPECT_EQ(profile.credentials->access_key_id, "DEV_ID");
  EXPECT_EQ(profile.credentials->session_token, "LEGACY_TOKEN");
  EXPECT_EQ(profile.credentials_from, credentials);
}

TEST_F(AwsSharedConfigTest, HalfKeyPairsAndWhitespaceInKeysAreErrorsWithoutSecrets) {
  Write("credentials", "[default]\naws_secret_access_key = SECRET\n");
  auto profile = Load();
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.status().message().find("no aws_access_key_id"), std::string::npos);
  Write("credentials", "[default]\naws_access_key_id = ID\naws_secret_access_key = SECRET # x\n");
  profile = Load();
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.status().message().find("whitespace"), std::string::npos);
  EXPECT_EQ(profile.status().message().find("SECRET"), std::string::npos);
}

TEST_F(AwsSharedConfigTest, MalformedFileIsAnErrorEvenWhenTheEnvironmentHasKeys) {
  Write("config", "[default]\nregion = eu-west-1\nthis line is wrong\n");
  env_["AWS_ACCESS_KEY_ID"] = "ENV_ID";
  env_["AWS_SECRET_ACCESS_KEY"] = "ENV_SECRET";
  auto config = Config();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir_.string() + "/.aws/config line 3"),
            std::string::npos)
      << config.status().message();
}

TEST_F(AwsSharedConfigTest, StoreConfigTakesEnvironmentFirstThenTheProfile) {
  Write("credentials",
        "[default]\naws_access_key_id = FILE_ID\naws_secret_access_key = FILE_SECRET\n"
        "aws_session_token = FILE_TOKEN\n");
  Write("config", "[default]\nregion = eu-west-2\nendpoint_url = http://127.0.0.1:1234/\n");
  ASSERT_OK_AND_ASSIGN(S3StoreConfig config, Config());
  ASSERT_TRUE(config.credentials.has_value());
  EXPECT_EQ(config.credentials->access_key_id, "FILE_ID");
  EXPECT_EQ(config.credentials->session_token, "FILE_TOKEN");
  EXPECT_EQ(config.credentials_from, dir_.string() + "/.aws/credentials (AWS profile 'default')");
  EXPECT_EQ(config.client.region, "eu-west-2");
  EXPECT_EQ(config.client.endpoint, "http://127.0.0.1:1234");
  EXPECT_TRUE(config.client.path_style);

  env_["AWS_ACCESS_KEY_ID"] = "ENV_ID";
  env_["AWS_SECRET_ACCESS_KEY"] = "ENV_SECRET";
  env_["AWS_DEFAULT_REGION"] = "sa-east-1";
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5678";
  ASSERT_OK_AND_ASSIGN(config, Config());
  EXPECT_EQ(config.credentials->access_key_id, "ENV_ID");
  EXPECT_EQ(config.credentials->session_token, "");
  EXPECT_EQ(config.credentials_from, "the environment");
  EXPECT_EQ(config.client.region, "sa-east-1");
  EXPECT_EQ(config.client.endpoint, "http://127.0.0.1:5678");
  env_["AWS_REGION"] = "ca-central-1";
  ASSERT_OK_AND_ASSIGN(config, Config());
  EXPECT_EQ(config.client.region, "ca-central-1");
  ASSERT_OK_AND_ASSIGN(config, Config("s3://bucket?region=me-south-1"));
  EXPECT_EQ(config.client.region, "me-south-1");
}

TEST_F(AwsSharedConfigTest, UnsupportedCredentialSourceIsAnErrorWithoutEnvironmentKeys) {
  Write("config",
        "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nsource_profile = default\n");
  env_["AWS_PROFILE"] = "ci";
  auto config = Config();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("role_arn"), std::string::npos);
  env_["AWS_ACCESS_KEY_ID"] = "ENV_ID";
  env_["AWS_SECRET_ACCESS_KEY"] = "ENV_SECRET";
  EXPECT_OK(Config());
}

TEST_F(AwsSharedConfigTest, NoKeysInTheProfileFallsBackToTheInstanceProfile) {
  Write("config", "[default]\nregion = eu-west-1\n");
  ASSERT_OK_AND_ASSIGN(S3StoreConfig config, Config());
  EXPECT_FALSE(config.credentials.has_value());
  EXPECT_EQ(config.imds_endpoint, "http://169.254.169.254");
  EXPECT_EQ(config.credentials_from, "the EC2 instance profile");
  EXPECT_EQ(config.client.region, "eu-west-1");
}

TEST_F(AwsSharedConfigTest, OversizedOrUnreadableFilesAreErrors) {
  Write("credentials", "[default]\n# " + std::string(size_t{1} << 20, 'x') + "\n");
  EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove(dir_ / ".aws" / "credentials");
  // A directory where a file should be is skipped, as the AWS SDKs do.
  std::filesystem::create_directories(dir_ / ".aws" / "credentials");
  EXPECT_OK(Load());
}

}  // namespace
}  // namespace cairn::artifact
