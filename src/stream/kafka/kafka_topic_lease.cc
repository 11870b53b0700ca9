#include "stream/kafka/kafka_topic_lease.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace cairn::stream::kafka {

StatusOr<std::unique_ptr<KafkaTopicLease>> KafkaTopicLease::Join(const KafkaOptions& options,
                                                                 const std::string& group,
                                                                 const std::string& topic) {
  std::unique_ptr<KafkaTopicLease> lease(new KafkaTopicLease(options, topic));
  KafkaTopicLease* raw = lease.get();
  ASSIGN_OR_RETURN(
      lease->consumer_,
      CreateClient(
          RD_KAFKA_CONSUMER, options,
          {{"group.id", group},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"auto.offset.reset", "earliest"},
           {"session.timeout.ms", std::to_string(options.session_timeout_ms)},
           {"heartbeat.interval.ms", std::to_string(std::max(options.session_timeout_ms / 5, 50))},
           {"allow.auto.create.topics", "false"}},
          [raw](rd_kafka_conf_t* conf) {
            rd_kafka_conf_set_opaque(conf, raw);
            rd_kafka_conf_set_rebalance_cb(conf, &KafkaTopicLease::OnRebalance);
          }));
  rd_kafka_poll_set_consumer(lease->consumer_.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(lease->consumer_.get(), topics.get())) {
    return ErrorStatus(err, "kafka: joining consumer group " + group);
  }
  return lease;
}

KafkaTopicLease::~KafkaTopicLease() {
  // Leave the group now, so another member gets the partition without a session timeout.
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

void KafkaTopicLease::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaTopicLease*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, partitions);
    // Membership only: the owner reads through EventStream::Read.
    rd_kafka_pause_partitions(rk, partitions);
    std::vector<int> owned;
    for (int i = 0; i < partitions->cnt; ++i) {
      if (self->topic_ == partitions->elems[i].topic)
        owned.push_back(partitions->elems[i].partition);
    }
    std::sort(owned.begin(), owned.end());
    // Every assignment is a new generation: between the revocation before it and now, the
    // partitions may have been another member's.
    ++self->generation_;
    self->owned_ = std::move(owned);
  } else {
    self->owned_.clear();
    rd_kafka_assign(rk, nullptr);
  }
}

StatusOr<std::vector<int>> KafkaTopicLease::Owned() {
  // Serves rebalances and errors; no message is fetched (the partition is paused).
  for (int i = 0; i < 100; ++i) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 0);
    if (message == nullptr) break;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      spdlog::warn("kafka consumer group of {}: {}", topic_, rd_kafka_message_errstr(message));
    }
    rd_kafka_message_destroy(message);
  }
  return owned_;
}

Status KafkaTopicLease::Commit(int partition, int64_t offset) {
  RETURN_IF_ERROR(ValidateOffset(offset));
  const std::string what = topic_ + " partition " + std::to_string(partition);
  if (!std::binary_search(owned_.begin(), owned_.end(), partition)) {
    return FailedPrecondition("kafka: this member does not own " + what + ": commit refused");
  }
  PartitionList list = OnePartition(topic_, partition, offset);
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt == 1) err = list->elems[0].err;
  if (IsFencedError(err)) {
    owned_.clear();
    return FailedPrecondition("kafka: the group took " + what +
                              " from this member: " + rd_kafka_err2str(err));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: commit on " + what);
  return Status::Ok();
}

}  // namespace cairn::stream::kafka
