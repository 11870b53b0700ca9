#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "stream/event_stream.h"
#include "stream/kafka/kafka_client.h"
#include "stream/kafka/kafka_options.h"

namespace cairn::stream::kafka {

// A TopicLease on a Kafka consumer group: a subscribed consumer in group
// <prefix>.<consumer> on <prefix>.<topic>. The group's assignor divides the topic's partitions
// among the members (members beyond the partition count stand by). The member never fetches
// through this consumer (its partitions are paused as soon as they are assigned: the owner
// reads through EventStream::Read); it only keeps the membership, and commits carry its
// generation, so the broker refuses a commit from a member that has lost the partition.
//
// Rebalances run in Owns() (librdkafka serves them in the polling thread), so ownership only
// changes between the caller's steps, never in the middle of one.
class KafkaTopicLease final : public TopicLease {
 public:
  // Joins the group; the first Owns() calls answer false until the group has assigned.
  static StatusOr<std::unique_ptr<KafkaTopicLease>> Join(const KafkaOptions& options,
                                                         const std::string& group,
                                                         const std::string& topic);
  ~KafkaTopicLease() override;

  StatusOr<std::vector<int>> Owned() override;
  int64_t Generation() const override { return generation_; }
  Status Commit(int partition, int64_t offset) override;

 private:
  KafkaTopicLease(const KafkaOptions& options, std::string topic)
      : options_(options), topic_(std::move(topic)) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);

  const KafkaOptions options_;
  const std::string topic_;
  Handle consumer_;
  // Written by OnRebalance, which runs inside Owned() (or the destructor) on the lease's one
  // thread, as is everything else here.
  std::vector<int> owned_;
  int64_t generation_ = 0;
};

}  // namespace cairn::stream::kafka
