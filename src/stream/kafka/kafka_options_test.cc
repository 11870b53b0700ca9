#include "stream/kafka/kafka_options.h"

#include <gtest/gtest.h>

#include "base/status_testing.h"

namespace cairn::stream {
namespace {

StatusOr<KafkaOptions> Parse(std::string_view text) {
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse(text));
  return KafkaOptions::FromUri(uri);
}

TEST(KafkaOptionsTest, ReadsBrokersPrefixAndOptions) {
  ASSERT_OK_AND_ASSIGN(
      KafkaOptions o,
      Parse("kafka://k1:9092,k2:9093/prod.cairn?linger_ms=20&batch_bytes=65536&buffer_messages=7"
            "&buffer_kbytes=1024&delivery_timeout_ms=60000&request_timeout_ms=2000"
            "&compression=zstd&replication_factor=3&session_timeout_ms=6000"
            "&rdkafka.security.protocol=SASL_SSL&rdkafka.sasl.mechanism=PLAIN"));
  EXPECT_EQ(o.brokers, "k1:9092,k2:9093");
  EXPECT_EQ(o.prefix, "prod.cairn");
  EXPECT_EQ(o.linger_ms, 20);
  EXPECT_EQ(o.batch_bytes, 65536);
  EXPECT_EQ(o.buffer_messages, 7);
  EXPECT_EQ(o.buffer_kbytes, 1024);
  EXPECT_EQ(o.delivery_timeout_ms, 60000);
  EXPECT_EQ(o.request_timeout_ms, 2000);
  EXPECT_EQ(o.compression, "zstd");
  EXPECT_EQ(o.replication_factor, 3);
  EXPECT_EQ(o.session_timeout_ms, 6000);
  ASSERT_EQ(o.extra.size(), 2u);
  EXPECT_EQ(o.extra[0], (std::pair<std::string, std::string>{"security.protocol", "SASL_SSL"}));
  EXPECT_EQ(o.extra[1], (std::pair<std::string, std::string>{"sasl.mechanism", "PLAIN"}));
}

TEST(KafkaOptionsTest, DefaultsWithoutPathOrQuery) {
  ASSERT_OK_AND_ASSIGN(KafkaOptions o, Parse("kafka://127.0.0.1:9092"));
  EXPECT_EQ(o.prefix, "cairn");
  EXPECT_EQ(o.linger_ms, 5);
  EXPECT_EQ(o.compression, "lz4");
  EXPECT_TRUE(o.extra.empty());
}

TEST(KafkaOptionsTest, RejectsMalformedAndHostileUris) {
  for (const char* bad : {
           "sqlite:///x.db",                                   // another scheme
           "kafka:///prefix",                                  // no broker
           "kafka://user:secret@k:9092/p",                     // credentials in the authority
           "kafka://k:9092/bad prefix",                        // prefix characters
           "kafka://k:9092/a%2Fb",                             // an escaped slash in the prefix
           "kafka://k:9092/p?linger_ms=-1",                    // out of range
           "kafka://k:9092/p?linger_ms=5x",                    // trailing garbage
           "kafka://k:9092/p?linger_ms=99999999999999999999",  // overflow
           "kafka://k:9092/p?batch_bytes=0", "kafka://k:9092/p?replication_factor=0",
           "kafka://k:9092/p?compression=brotli",
           "kafka://k:9092/p?unknown=1",      // unknown key
           "kafka://k:9092/p?linger_ms",      // no value
           "kafka://k:9092/p?rdkafka.=x",     // empty property name
           "kafka://k:9092/p?linger_ms=%zz",  // bad escape
       }) {
    StatusOr<KafkaOptions> parsed = Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  std::string long_prefix = "kafka://k:9092/" + std::string(201, 'a');
  EXPECT_EQ(Parse(long_prefix).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::stream
