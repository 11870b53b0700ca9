#include "stream/event_stream.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cairn::stream {
namespace {

// The lease of a log that one process uses at a time: always the owner of every partition.
class SoleOwnerLease final : public TopicLease {
 public:
  SoleOwnerLease(EventStream& stream, std::string consumer, std::string topic)
      : stream_(stream), consumer_(std::move(consumer)), topic_(std::move(topic)) {}

  StatusOr<std::vector<int>> Owned() override {
    ASSIGN_OR_RETURN(int partitions, stream_.Partitions(topic_));
    std::vector<int> all(static_cast<size_t>(partitions));
    for (int p = 0; p < partitions; ++p) all[static_cast<size_t>(p)] = p;
    return all;
  }
  int64_t Generation() const override { return 1; }
  Status Commit(int partition, int64_t offset) override {
    return stream_.CommitOffset(consumer_, topic_, partition, offset);
  }

 private:
  EventStream& stream_;
  const std::string consumer_;
  const std::string topic_;
};

}  // namespace

StatusOr<std::unique_ptr<TopicLease>> EventStream::JoinGroup(std::string_view consumer,
                                                             std::string_view topic) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(ValidateTopic(topic));
  return std::unique_ptr<TopicLease>(
      std::make_unique<SoleOwnerLease>(*this, std::string(consumer), std::string(topic)));
}

bool IsValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > 249) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateTopic(std::string_view topic) {
  if (!IsValidTopicName(topic)) {
    return InvalidArgument("invalid topic name '" + std::string(topic) +
                           "': 1 to 249 characters from [a-zA-Z0-9._-]");
  }
  return Status::Ok();
}

Status ValidateConsumer(std::string_view consumer) {
  if (!IsValidTopicName(consumer)) {
    return InvalidArgument("invalid consumer name '" + std::string(consumer) +
                           "': 1 to 249 characters from [a-zA-Z0-9._-]");
  }
  return Status::Ok();
}

Status ValidateEvents(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.tenant.empty()) {
      return InvalidArgument("event " + std::to_string(i) + " has no tenant");
    }
    if (e.payload.size() > kMaxPayloadBytes) {
      return InvalidArgument("event " + std::to_string(i) + " payload of " +
                             std::to_string(e.payload.size()) + " bytes is over the limit of " +
                             std::to_string(kMaxPayloadBytes));
    }
  }
  return Status::Ok();
}

Status ValidateReadOptions(const ReadOptions& options) {
  if (options.from_offset < 0) return InvalidArgument("read: from_offset must not be negative");
  if (options.partition < 0) return InvalidArgument("read: partition must not be negative");
  if (options.max_events < 1 || options.max_events > kMaxReadEvents) {
    return InvalidArgument("read: max_events must be in [1, " + std::to_string(kMaxReadEvents) +
                           "]");
  }
  if (options.tenant.has_value() && options.tenant->empty()) {
    return InvalidArgument("read: the tenant filter is empty");
  }
  if (options.key.has_value() && !options.tenant.has_value()) {
    return InvalidArgument("read: a key filter needs a tenant filter");
  }
  return Status::Ok();
}

Status ValidateOffset(int64_t offset) {
  if (offset < 0) return InvalidArgument("offset must not be negative");
  return Status::Ok();
}

Status ValidatePartition(int partition, int partitions) {
  if (partition < 0 || partition >= partitions) {
    return InvalidArgument("partition " + std::to_string(partition) +
                           " does not exist: the topic has " + std::to_string(partitions) +
                           (partitions == 1 ? " partition" : " partitions"));
  }
  return Status::Ok();
}

}  // namespace cairn::stream
