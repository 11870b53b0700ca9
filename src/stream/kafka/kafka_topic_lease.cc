#include "stream/kafka/kafka_topic_lease.h"

#include <spdlog/spdlog.h>

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
    bool owns = rd_kafka_topic_partition_list_find(partitions, self->topic_.c_str(), 0) != nullptr;
    if (owns && !self->owns_.load()) self->generation_.fetch_add(1);
    self->owns_.store(owns);
  } else {
    self->owns_.store(false);
    rd_kafka_assign(rk, nullptr);
  }
}

StatusOr<bool> KafkaTopicLease::Owns() {
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
  return owns_.load();
}

Status KafkaTopicLease::Commit(int64_t offset) {
  RETURN_IF_ERROR(ValidateOffset(offset));
  if (!owns_.load()) {
    return FailedPrecondition("kafka: this member does not own " + topic_ + ": commit refused");
  }
  PartitionList list = OnePartition(topic_, offset);
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt == 1) err = list->elems[0].err;
  if (IsFencedError(err)) {
    owns_.store(false);
    return FailedPrecondition("kafka: the group took " + topic_ +
                              " from this member: " + rd_kafka_err2str(err));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: commit on " + topic_);
  return Status::Ok();
}

}  // namespace cairn::stream::kafka
