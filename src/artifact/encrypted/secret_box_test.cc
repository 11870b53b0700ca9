#include "artifact/encrypted/secret_box.h"

#include <gtest/gtest.h>

#include <string>

#include "base/status_testing.h"

namespace cairn::artifact {
namespace {

MasterKey Key(char fill, std::string id) {
  auto key = MasterKey::FromBytes(std::string(MasterKey::kSize, fill), std::move(id));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return *key;
}

TEST(SecretBoxTest, SealsAndOpensForTheSameContextOnly) {
  ASSERT_OK_AND_ASSIGN(SecretBox box, SecretBox::Create({Key('a', "k1")}));
  ASSERT_OK_AND_ASSIGN(std::string sealed, box.Seal("t1/hook-1", "whsec-123"));
  EXPECT_TRUE(SecretBox::IsSealed(sealed));
  EXPECT_TRUE(sealed.starts_with("cairn-sealed:v1:k1:")) << sealed;
  EXPECT_EQ(sealed.find("whsec"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(std::string plain, box.Open("t1/hook-1", sealed));
  EXPECT_EQ(plain, "whsec-123");
  // Copied to another record, it does not open.
  auto moved = box.Open("t1/hook-2", sealed);
  EXPECT_EQ(moved.status().code(), StatusCode::kInternal);
  // Two seals of one secret differ (random nonce).
  ASSERT_OK_AND_ASSIGN(std::string again, box.Seal("t1/hook-1", "whsec-123"));
  EXPECT_NE(again, sealed);
}

TEST(SecretBoxTest, OpensAfterRotationWhileTheOldKeyIsInTheRing) {
  ASSERT_OK_AND_ASSIGN(SecretBox old_box, SecretBox::Create({Key('a', "old")}));
  ASSERT_OK_AND_ASSIGN(std::string sealed, old_box.Seal("c", ""));
  ASSERT_OK_AND_ASSIGN(SecretBox rotated, SecretBox::Create({Key('b', "new"), Key('a', "old")}));
  ASSERT_OK_AND_ASSIGN(std::string plain, rotated.Open("c", sealed));
  EXPECT_EQ(plain, "");
  ASSERT_OK_AND_ASSIGN(std::string resealed, rotated.Seal("c", "x"));
  EXPECT_TRUE(resealed.starts_with("cairn-sealed:v1:new:")) << resealed;
  ASSERT_OK_AND_ASSIGN(SecretBox without_old, SecretBox::Create({Key('b', "new")}));
  auto missing = without_old.Open("c", sealed);
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal);
  EXPECT_NE(missing.status().message().find("'old'"), std::string::npos);
  // Same id, other key bytes: the tag does not verify.
  ASSERT_OK_AND_ASSIGN(SecretBox impostor, SecretBox::Create({Key('z', "old")}));
  EXPECT_EQ(impostor.Open("c", sealed).status().code(), StatusCode::kInternal);
}

TEST(SecretBoxTest, RejectsMalformedAndTamperedValues) {
  EXPECT_EQ(SecretBox::Create({}).status().code(), StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(SecretBox box, SecretBox::Create({Key('a', "k1")}));
  ASSERT_OK_AND_ASSIGN(std::string sealed, box.Seal("c", "secret"));
  for (const std::string& bad :
       {std::string("secret"), std::string("cairn-sealed:v1:"), std::string("cairn-sealed:v1:k1:"),
        std::string("cairn-sealed:v1:k1:AAAA:AAAA"), std::string("cairn-sealed:v1:k1:!!:??"),
        sealed.substr(0, sealed.size() - 3)}) {
    EXPECT_EQ(box.Open("c", bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Flip one ciphertext character (staying valid base64): the tag check fails.
  std::string tampered = sealed;
  char& c = tampered[tampered.rfind(':') + 2];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(box.Open("c", tampered).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace cairn::artifact
