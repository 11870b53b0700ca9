#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::stream {

// Topics Cairn writes. A topic is one append-only log with its own offsets.
inline constexpr std::string_view kPredictionsTopic = "predictions";
inline constexpr std::string_view kLabelsTopic = "labels";
inline constexpr std::string_view kAlertsTopic = "alerts";

// The largest payload a backend must accept. A Kafka backend raises message.max.bytes to fit.
inline constexpr size_t kMaxPayloadBytes = 8 << 20;

// One record to append. `tenant` must be non-empty; `key` groups the records of one entity
// (for predictions, labels and alerts: the deployment id) and may be empty. `subject_id`, when
// set, names the person the record is about, so an erasure request can find it. `payload` is
// opaque bytes (for predictions: EncodePredictionEvent's JSON).
struct Event {
  std::string tenant;
  std::string key;
  int64_t timestamp_ms = 0;  // set by the producer (Kafka's CreateTime), not by the log
  std::optional<std::string> subject_id;
  std::string payload;

  bool operator==(const Event&) const = default;
};

// An event as read back, with the partition and offset the log gave it.
struct StoredEvent {
  int partition = 0;
  int64_t offset = 0;
  Event event;
};

enum class ReadDirection {
  kOldestFirst,  // offsets >= ReadOptions::from_offset, ascending
  kNewestFirst,  // offsets <= ReadOptions::from_offset, descending
};

// Start offset of a newest-first read that begins at the end of the topic.
inline constexpr int64_t kLatestOffset = std::numeric_limits<int64_t>::max();

struct ReadOptions {
  // The partition read (0 .. Partitions(topic) - 1). With a key filter the key's partition is
  // read and this is ignored: all the events of one key are in one partition.
  int partition = 0;
  int64_t from_offset = 0;  // inclusive; kLatestOffset with kNewestFirst reads from the end
  ReadDirection direction = ReadDirection::kOldestFirst;
  int max_events = 1000;  // 1 .. kMaxReadEvents
  // Filters. `key` requires `tenant`: one deployment's events are read within their tenant.
  std::optional<std::string> tenant;
  std::optional<std::string> key;
};

inline constexpr int kMaxReadEvents = 10000;

struct ReadResult {
  std::vector<StoredEvent> events;  // in the order asked for, at most max_events
  // Where the next page starts: past the last event returned (offset + 1 oldest-first, offset - 1
  // newest-first), or from_offset when none was returned. A page shorter than max_events means
  // the log held no more matching events when it was read; newest-first, next_offset < 0 also
  // means the beginning was reached.
  int64_t next_offset = 0;
};

// One process's place in a group of consumers that share a topic (Kafka's consumer group, named
// by the consumer name of CommitOffset): the group divides the topic's partitions among its
// members, each partition owned by at most one member at a time, which processes it; a member
// with none stands by. When a member leaves or stops answering, the group divides again.
// Ownership is what makes a commit count: a member that lost a partition cannot overwrite the
// offset its successor resumes from.
//
// Thread-compatible: one thread uses a lease (the consumer's loop). Destroying it leaves the
// group at once, so the others take over without waiting for a timeout.
class TopicLease {
 public:
  virtual ~TopicLease() = default;

  // Serves the group protocol (call it at least every few seconds; a member that stops calling
  // is taken out of the group) and returns the partitions this member owns now, ascending
  // (empty: standing by). When a partition appears, or Generation() changed since the last
  // call, the caller drops everything it built from the partitions it owns and resumes each
  // from its CommittedOffset: another member may have moved on meanwhile. UNAVAILABLE when the
  // group cannot be reached (the caller treats it as owning nothing).
  virtual StatusOr<std::vector<int>> Owned() = 0;
  // How many times the group has given this member its partitions; a change between two
  // Owned() calls means the partitions may have been someone else's in between.
  virtual int64_t Generation() const = 0;
  // CommitOffset of `partition` as its owner. FAILED_PRECONDITION when this member does not own
  // the partition (any more): the commit is refused, so a stale owner never rewinds or skips
  // its successor.
  virtual Status Commit(int partition, int64_t offset) = 0;
};

// An append-only log of events in named topics: the prediction log of the embedded server
// (SQLite, events.db) and, scaled out, Kafka. Shaped after Kafka so both fit: a topic is split
// into partitions, each one totally ordered log with its own int64 offsets; reads go by
// partition and offset; consumers commit, per partition, the offset they have processed. An
// event's partition follows from its key (the same key, the same partition), so all the events
// of one deployment are in one partition, in order. The embedded log has one partition per
// topic; a Kafka topic has as many as it was created with.
//
// Offsets: Append gives each event an offset greater than that of every event of its partition
// appended before (by any caller, in any process sharing the log); within a batch, the events
// of one partition ascend in batch order. They start at 0 and may have gaps (deleted events,
// Kafka transaction markers); they are never reused, even after the newest events are deleted.
//
// Errors: INVALID_ARGUMENT for a malformed topic or consumer name (see IsValidTopicName), an
// empty tenant, a payload over kMaxPayloadBytes or bad ReadOptions; UNAVAILABLE for a transient
// storage failure (the caller may retry); INTERNAL for anything else. A failed Append appended
// nothing, except on Kafka, which has no multi-record atomicity without transactions: there an
// UNAVAILABLE Append may have appended a prefix of its batch (KafkaEventStream says when).
//
// Thread-safety: every method may be called concurrently from any thread.
class EventStream {
 public:
  virtual ~EventStream() = default;

  // Appends `events` to `topic` (created on first use) as one unit, each to its key's partition:
  // on success all are durable (as durable as the backend's configuration: SQLite
  // synchronous=NORMAL survives a crash of the process) and the result holds their offsets
  // within their partitions, in batch order; on error none is appended. An empty batch returns
  // no offsets.
  virtual StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                                std::span<const Event> events) = 0;

  // Reads up to options.max_events events of one partition of `topic` (options.partition, or
  // the key filter's) from options.from_offset in the direction asked for, keeping those that
  // match the filters. A topic never written reads as empty. INVALID_ARGUMENT for a partition
  // the topic does not have.
  virtual StatusOr<ReadResult> Read(std::string_view topic, const ReadOptions& options) = 0;

  // How many partitions `topic` has (or will have when it is created by the first append).
  virtual StatusOr<int> Partitions(std::string_view topic) = 0;

  // The offset the next event appended to `partition` of `topic` would get at the earliest
  // (Kafka's high watermark): 0 for an empty partition. Every event appended so far has a
  // smaller offset.
  virtual StatusOr<int64_t> EndOffset(std::string_view topic, int partition) = 0;

  // The offset of the first event of `partition` of `topic` (in offset order) whose timestamp is
  // at least `timestamp_ms`, for starting a read at a point in time (Kafka's offsetsForTimes);
  // nullopt when there is none. Exact when producers append in timestamp order.
  virtual StatusOr<std::optional<int64_t>> OffsetForTimestamp(std::string_view topic, int partition,
                                                              int64_t timestamp_ms) = 0;

  // Records that `consumer` has processed `partition` of `topic` up to, not including, `offset`:
  // the offset it resumes reading from after a restart (Kafka's committed offset). Overwrites
  // the previous commit, including with a smaller offset (a rewind). Durable on return.
  virtual Status CommitOffset(std::string_view consumer, std::string_view topic, int partition,
                              int64_t offset) = 0;
  // The offset last committed by `consumer` for `partition` of `topic`; nullopt when it never
  // committed one.
  virtual StatusOr<std::optional<int64_t>> CommittedOffset(std::string_view consumer,
                                                           std::string_view topic,
                                                           int partition) = 0;

  // Removes every event of `tenant` with key `key`, in every topic (a deployment was deleted).
  // After it returns, no Read returns them. Idempotent; deleting nothing is OK. Offsets are not
  // reused; committed offsets are untouched.
  virtual Status DeleteByKey(std::string_view tenant, std::string_view key) = 0;
  // Removes every event of `tenant` whose subject_id is `subject_id`, in every topic (erasure of
  // a person's data). Same guarantees as DeleteByKey. A backend that cannot delete in place
  // (Kafka) must still hide them from Read from then on, and drop them when it compacts.
  virtual Status DeleteBySubject(std::string_view tenant, std::string_view subject_id) = 0;
  // Retention: removes every event of `topic` whose timestamp is before `before_ms`, in every
  // tenant. Same guarantees as DeleteByKey. A Kafka backend leaves this to the topic's
  // retention.ms and answers OK.
  virtual Status DeleteBefore(std::string_view topic, int64_t before_ms) = 0;

  // Joins the group of consumers named `consumer` that share `topic` (see TopicLease). The
  // default suits a log that one process uses at a time (the embedded SQLite log): the lease
  // always owns every partition and commits through CommitOffset. INVALID_ARGUMENT for a malformed
  // name; UNAVAILABLE when the group cannot be joined.
  virtual StatusOr<std::unique_ptr<TopicLease>> JoinGroup(std::string_view consumer,
                                                          std::string_view topic);
};

// Forwards every call to a target; tests derive from it and override one method to count calls,
// delay or inject a fault.
class EventStreamWrapper : public EventStream {
 public:
  explicit EventStreamWrapper(EventStream& target) : target_(target) {}

  StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                        std::span<const Event> events) override {
    return target_.Append(topic, events);
  }
  StatusOr<ReadResult> Read(std::string_view topic, const ReadOptions& options) override {
    return target_.Read(topic, options);
  }
  StatusOr<int> Partitions(std::string_view topic) override { return target_.Partitions(topic); }
  StatusOr<int64_t> EndOffset(std::string_view topic, int partition) override {
    return target_.EndOffset(topic, partition);
  }
  StatusOr<std::optional<int64_t>> OffsetForTimestamp(std::string_view topic, int partition,
                                                      int64_t timestamp_ms) override {
    return target_.OffsetForTimestamp(topic, partition, timestamp_ms);
  }
  Status CommitOffset(std::string_view consumer, std::string_view topic, int partition,
                      int64_t offset) override {
    return target_.CommitOffset(consumer, topic, partition, offset);
  }
  StatusOr<std::optional<int64_t>> CommittedOffset(std::string_view consumer,
                                                   std::string_view topic, int partition) override {
    return target_.CommittedOffset(consumer, topic, partition);
  }
  Status DeleteByKey(std::string_view tenant, std::string_view key) override {
    return target_.DeleteByKey(tenant, key);
  }
  Status DeleteBySubject(std::string_view tenant, std::string_view subject_id) override {
    return target_.DeleteBySubject(tenant, subject_id);
  }
  Status DeleteBefore(std::string_view topic, int64_t before_ms) override {
    return target_.DeleteBefore(topic, before_ms);
  }
  StatusOr<std::unique_ptr<TopicLease>> JoinGroup(std::string_view consumer,
                                                  std::string_view topic) override {
    return target_.JoinGroup(consumer, topic);
  }

  EventStream& target() { return target_; }

 private:
  EventStream& target_;
};

// Kafka's rule for topic names, also applied to consumer names: 1 to 249 characters from
// [a-zA-Z0-9._-].
bool IsValidTopicName(std::string_view name);

// The checks every backend applies before touching storage; INVALID_ARGUMENT naming the problem.
Status ValidateTopic(std::string_view topic);
Status ValidateConsumer(std::string_view consumer);
Status ValidateEvents(std::span<const Event> events);
Status ValidateReadOptions(const ReadOptions& options);
Status ValidateOffset(int64_t offset);
// INVALID_ARGUMENT unless 0 <= partition < partitions.
Status ValidatePartition(int partition, int partitions);

}  // namespace cairn::stream
