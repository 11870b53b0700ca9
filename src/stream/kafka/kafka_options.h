#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/uri.h"

namespace cairn::stream {

// How KafkaEventStream reaches and uses a Kafka cluster, parsed from
//   kafka://host:port[,host:port...]/topic-prefix[?key=value&...]
// Topics are named <topic-prefix>.<topic> (cairn.predictions), consumer groups
// <topic-prefix>.<consumer>. Query keys (all optional):
//   linger_ms            producer batching delay (linger.ms), default 5
//   batch_bytes          producer batch size per partition (batch.size), default 1 MiB
//   buffer_messages      messages the producer holds while the cluster is away
//                        (queue.buffering.max.messages), default 100000
//   buffer_kbytes        the same bound in KiB (queue.buffering.max.kbytes), default 262144
//   delivery_timeout_ms  how long an append waits for the cluster to come back before it fails
//                        (message.timeout.ms), default 120000
//   request_timeout_ms   bound of reads, offset look-ups, commits and topic creation, 10000
//   compression          none|gzip|snappy|lz4|zstd (compression.type), default lz4
//   partitions           of the topics Cairn creates; -1 (default): the broker's default
//                        (num.partitions). Monitors in one consumer group share a topic's
//                        partitions, so this bounds how many of them work at once. Records go
//                        to partitions by their key (the deployment id) with Kafka's murmur2
//                        partitioner; a topic's count must not change once it holds records.
//   replication_factor   of the topics Cairn creates; -1 (default): the broker's default
//   session_timeout_ms   consumer-group session timeout (session.timeout.ms), default 10000
//   rdkafka.<property>   any other librdkafka property, passed as it is (security.protocol,
//                        sasl.mechanism, ssl.ca.location, ...), to every client
struct KafkaOptions {
  std::string brokers;  // bootstrap.servers
  std::string prefix = "cairn";
  int linger_ms = 5;
  int64_t batch_bytes = 1 << 20;
  int64_t buffer_messages = 100000;
  int64_t buffer_kbytes = 262144;
  int delivery_timeout_ms = 120000;
  int request_timeout_ms = 10000;
  std::string compression = "lz4";
  int partitions = -1;
  int replication_factor = -1;
  int session_timeout_ms = 10000;
  std::vector<std::pair<std::string, std::string>> extra;  // rdkafka.<property>

  // Parses a kafka:// URI. INVALID_ARGUMENT naming the problem: another scheme, no broker, a
  // prefix outside [a-zA-Z0-9._-], an unknown key, a value out of range.
  static StatusOr<KafkaOptions> FromUri(const Uri& uri);
};

}  // namespace cairn::stream
