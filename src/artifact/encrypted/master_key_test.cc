#include "artifact/encrypted/master_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "artifact/encrypted/chunk_cipher.h"
#include "base/status_testing.h"

namespace cairn::artifact {
namespace {

// bytes 0x00..0x1f; the id is the first 8 hex characters of its SHA-256 (from Python's hashlib).
constexpr std::string_view kHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kId = "630dcd29";

void ExpectSequentialBytes(const MasterKey& key) {
  for (size_t i = 0; i < MasterKey::kSize; ++i) EXPECT_EQ(key.bytes()[i], i);
}

TEST(MasterKeyTest, ParsesHexAndBase64WithDerivedId) {
  ASSERT_OK_AND_ASSIGN(MasterKey hex, ParseMasterKey(kHex, "test"));
  ExpectSequentialBytes(hex);
  EXPECT_EQ(hex.id(), kId);
  std::string upper(kHex);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ASSERT_OK_AND_ASSIGN(MasterKey hex_upper, ParseMasterKey(upper, "test"));
  ExpectSequentialBytes(hex_upper);
  ASSERT_OK_AND_ASSIGN(MasterKey b64, ParseMasterKey(kBase64, "test"));
  ExpectSequentialBytes(b64);
  EXPECT_EQ(b64.id(), kId);
  ASSERT_OK_AND_ASSIGN(MasterKey spaced, ParseMasterKey("  " + std::string(kBase64) + "\n", "t"));
  ExpectSequentialBytes(spaced);
}

TEST(MasterKeyTest, ExplicitIdIsKeptAndChecked) {
  ASSERT_OK_AND_ASSIGN(MasterKey key, ParseMasterKey(kHex, "test", "prod-2025.1"));
  EXPECT_EQ(key.id(), "prod-2025.1");
  EXPECT_EQ(ParseMasterKey(kHex, "test", "bad id").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMasterKey(kHex, "test", std::string(65, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MasterKeyTest, RejectsWrongLengthsWithoutEchoingTheKey) {
  const std::string too_short_hex(kHex.substr(0, 62));
  const std::string too_long_b64 = encrypted_format::Base64Encode(std::string(33, 'z'));
  const std::string short_b64 = encrypted_format::Base64Encode(std::string(16, 'z'));
  for (const std::string& text :
       {too_short_hex, too_long_b64, short_b64, std::string(kHex) + "00", std::string("not a key"),
        std::string(""), std::string(kBase64.substr(0, 43))}) {
    auto key = ParseMasterKey(text, "environment variable X");
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(key.status().message().find("environment variable X"), std::string::npos);
    if (text.size() > 8) {
      EXPECT_EQ(key.status().message().find(text), std::string::npos) << "message echoes the key";
    }
  }
  EXPECT_EQ(MasterKey::FromBytes(std::string(31, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MasterKeyTest, LoadsFromFile) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-mk-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  {
    std::ofstream(dir / "key") << kBase64 << "\n";
    std::ofstream(dir / "short") << kHex.substr(2) << "\n";
    std::ofstream(dir / "huge") << std::string(10000, 'A');
  }
  ASSERT_OK_AND_ASSIGN(MasterKey key, LoadMasterKeyFromFile((dir / "key").string()));
  ExpectSequentialBytes(key);
  EXPECT_EQ(LoadMasterKeyFromFile((dir / "short").string()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadMasterKeyFromFile((dir / "huge").string()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadMasterKeyFromFile((dir / "missing").string()).status().code(),
            StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(MasterKeyTest, LoadsFromEnvironment) {
  ::unsetenv("CAIRN_TEST_MASTER_KEY");
  EXPECT_EQ(LoadMasterKeyFromEnv("CAIRN_TEST_MASTER_KEY").status().code(), StatusCode::kNotFound);
  ::setenv("CAIRN_TEST_MASTER_KEY", std::string(kHex).c_str(), 1);
  ASSERT_OK_AND_ASSIGN(MasterKey key, LoadMasterKeyFromEnv("CAIRN_TEST_MASTER_KEY", "env"));
  ExpectSequentialBytes(key);
  EXPECT_EQ(key.id(), "env");
  ::unsetenv("CAIRN_TEST_MASTER_KEY");
}

TEST(Base64Test, RoundTripsAndRejectsNonCanonical) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i * 37 + 11));
    auto decoded = encrypted_format::Base64Decode(encrypted_format::Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(encrypted_format::Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(encrypted_format::Base64Encode("fo"), "Zm8=");
  EXPECT_FALSE(encrypted_format::Base64Decode("Zm9=").has_value());  // stray bits in padding
  EXPECT_FALSE(encrypted_format::Base64Decode("Zm8").has_value());
  EXPECT_FALSE(encrypted_format::Base64Decode("Zm-_").has_value());
  EXPECT_FALSE(encrypted_format::Base64Decode("Z=8=").has_value());
}

}  // namespace
}  // namespace cairn::artifact
