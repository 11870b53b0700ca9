#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "stream/event_stream.h"
#include "stream/kafka/kafka_client.h"
#include "stream/kafka/kafka_options.h"

namespace cairn::stream::kafka {

// A TopicLease on a Kafka consumer group: a subscribed consumer in group
// <prefix>.<consumer> on <prefix>.<topic>. The topic has one partition, so the group's
// assignor gives it to one member; the others stand by. The member never fetches through this
// consumer (the partition is paused as soon as it is assigned: the owner reads through
// EventStream::Read); it only keeps the membership, and commits carry its generation, so the
// broker refuses a commit from a member that has lost the partition.
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

  StatusOr<bool> Owns() override;
  int64_t Generation() const override { return generation_.load(); }
  Status Commit(int64_t offset) override;

 private:
  KafkaTopicLease(const KafkaOptions& options, std::string topic)
      : options_(options), topic_(std::move(topic)) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);

  const KafkaOptions options_;
  const std::string topic_;
  Handle consumer_;
  // Written by OnRebalance, which runs inside Owns() on the caller's thread.
  std::atomic<bool> owns_{false};
  std::atomic<int64_t> generation_{0};
};

}  // namespace cairn::stream::kafka
