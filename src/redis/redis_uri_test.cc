#include "redis/redis_uri.h"

#include <gtest/gtest.h>

namespace cairn::redis {
namespace {

TEST(RedisUriTest, ParsesHostPortPasswordAndDb) {
  auto uri = RedisUri::Parse("redis://:s%40cret@cache.internal:6380/3");
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(uri->host, "cache.internal");
  EXPECT_EQ(uri->port, 6380);
  EXPECT_EQ(uri->user, "");
  EXPECT_EQ(uri->password, "s@cret");
  EXPECT_EQ(uri->db, 3);
  EXPECT_EQ(uri->Redacted(), "redis://***@cache.internal:6380/3");
}

TEST(RedisUriTest, DefaultsPortAndDb) {
  auto uri = RedisUri::Parse("redis://127.0.0.1");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->port, 6379);
  EXPECT_EQ(uri->db, 0);
  auto v6 = RedisUri::Parse("redis://alice:pw@[::1]:7000/");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->user, "alice");
  EXPECT_EQ(v6->port, 7000);
}

TEST(RedisUriTest, RejectsMalformedAndHostileUris) {
  for (const char* bad :
       {"", "redis:/", "redis://", "http://host:6379", "rediss://host:6379", "redis://host:0",
        "redis://host:65536", "redis://host:port", "redis://host:6379/db", "redis://host:6379/-1",
        "redis://host:/0", "redis://pw@host", "redis://:@host", "redis://ho st:1",
        "redis://host:6379/0?timeout=1", "redis://host\r\nFLUSHALL:6379", "redis://:%zz@host",
        "redis://[::1", "redis://host;rm:1"}) {
    auto uri = RedisUri::Parse(bad);
    EXPECT_FALSE(uri.ok()) << bad;
    if (!uri.ok()) {
      EXPECT_EQ(uri.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(RedisUri::Parse("redis://host/" + std::string(5000, '1')).ok());
}

TEST(RedisUriTest, ErrorsNeverEchoThePassword) {
  auto uri = RedisUri::Parse("redis://:topsecret@host:99999");
  ASSERT_FALSE(uri.ok());
  EXPECT_EQ(uri.status().message().find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace cairn::redis
