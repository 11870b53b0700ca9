#pragma once

// librdkafka plumbing shared by the Kafka backend's classes (not an interface: only
// src/stream/kafka includes it).

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "stream/kafka/kafka_options.h"

namespace cairn::stream::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
// A librdkafka client; destroying it closes a consumer's group membership first.
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

using Properties = std::vector<std::pair<std::string, std::string>>;

// Creates a client of `type` with bootstrap.servers, the timeouts of `options`, then
// `properties`, then options.extra (the URI's rdkafka.* keys, which win). `customize` may set
// callbacks and the opaque on the configuration before the client is created. INVALID_ARGUMENT
// for a property librdkafka rejects.
StatusOr<Handle> CreateClient(rd_kafka_type_t type, const KafkaOptions& options,
                              const Properties& properties,
                              const std::function<void(rd_kafka_conf_t*)>& customize = nullptr);

// A one-entry list: `partition` of `topic` at `offset`.
PartitionList OnePartition(const std::string& topic, int partition, int64_t offset);

// Kafka's murmur2 hash (the Java client's Utils.murmur2, seed 0x9747b28c).
int32_t Murmur2(std::string_view data);
// The partition Kafka's default partitioner gives a record with `key` among `partitions`: the
// positive murmur2 hash modulo the count, as the Java client and librdkafka's murmur2
// partitioner do, so other clients agree on where a deployment's records are. An empty key goes
// to partition 0.
int PartitionForKey(std::string_view key, int partitions);

// Maps a librdkafka error to a Status: UNAVAILABLE for what passes (the cluster or a broker is
// away, a timeout, a full buffer, a rebalance), INVALID_ARGUMENT for a request the cluster
// refuses as malformed, INTERNAL otherwise. `what` says which call failed.
Status ErrorStatus(rd_kafka_resp_err_t err, std::string_view what);

// Whether `err` means that a commit came from a member the group no longer counts on.
bool IsFencedError(rd_kafka_resp_err_t err);

}  // namespace cairn::stream::kafka
