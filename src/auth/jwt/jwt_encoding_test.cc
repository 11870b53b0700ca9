#include "auth/jwt/jwt_encoding.h"

#include <gtest/gtest.h>

namespace cairn::auth::internal {
namespace {

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(bytes), "t");
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 200));
  }
}

TEST(Base64UrlTest, DecodesKnownVectors) {
  EXPECT_EQ(*Base64UrlDecode("", "t"), "");
  EXPECT_EQ(*Base64UrlDecode("Zg", "t"), "f");
  EXPECT_EQ(*Base64UrlDecode("Zm8", "t"), "fo");
  EXPECT_EQ(*Base64UrlDecode("Zm9v", "t"), "foo");
  EXPECT_EQ(*Base64UrlDecode("-_8", "t"), "\xfb\xff");
}

TEST(Base64UrlTest, RejectsPaddingStandardAlphabetAndBadLengths) {
  EXPECT_FALSE(Base64UrlDecode("Zg==", "t").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm8=", "t").ok());
  EXPECT_FALSE(Base64UrlDecode("+/8", "t").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY", "t").ok());  // 1 mod 4
  EXPECT_FALSE(Base64UrlDecode("Zm 9v", "t").ok());
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4), "t").ok());
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  // "Zg" is 'f'; "Zh".."Zv" decode to 'f' too with non-zero unused bits.
  EXPECT_FALSE(Base64UrlDecode("Zh", "t").ok());
  EXPECT_FALSE(Base64UrlDecode("Zv", "t").ok());
  // "Zm8" is "fo"; "Zm9" sets an unused bit.
  EXPECT_FALSE(Base64UrlDecode("Zm9", "t").ok());
}

TEST(StrictJsonTest, ParsesObjects) {
  auto obj = ParseStrictJsonObject(R"({"a":1,"b":{"c":[1,{"d":2}]}})", "t");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(obj->size(), 2u);
}

TEST(StrictJsonTest, RejectsDuplicateNamesAtAnyDepth) {
  EXPECT_FALSE(ParseStrictJsonObject(R"({"a":1,"a":2})", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject(R"({"a":{"b":1,"b":1}})", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject(R"({"a":[{"b":1,"b":1}]})", "t").ok());
  // Equal after unescaping.
  EXPECT_FALSE(ParseStrictJsonObject(R"({"sub":"a","\u0073ub":"b"})", "t").ok());
  // Same names in sibling objects are fine.
  EXPECT_TRUE(ParseStrictJsonObject(R"({"a":{"x":1},"b":{"x":1}})", "t").ok());
}

TEST(StrictJsonTest, RejectsNonObjectsAndMalformedText) {
  EXPECT_FALSE(ParseStrictJsonObject("[]", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("\"x\"", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("{} {}", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("{\"a\":1,}", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("{/*c*/}", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("{\"a\":\"\xff\"}", "t").ok());
  EXPECT_FALSE(ParseStrictJsonObject("", "t").ok());
  std::string deep(40, '[');
  EXPECT_FALSE(ParseStrictJsonObject("{\"a\":" + deep + std::string(40, ']') + "}", "t").ok());
}

}  // namespace
}  // namespace cairn::auth::internal
