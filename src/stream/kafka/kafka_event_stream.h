#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metrics/metrics_registry.h"
#include "stream/event_stream.h"
#include "stream/event_stream_factory.h"
#include "stream/kafka/kafka_options.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace cairn::stream {

// The event log on Apache Kafka (or anything that speaks its protocol), through librdkafka.
//
// Layout: topic T is the Kafka topic <prefix>.T; its partitions and offsets are the interface's.
// An event is one record: the event's key as the record key (and its partition by Kafka's
// murmur2 partitioner, so a deployment's events stay in one partition, in order), the payload
// as the value, the timestamp as CreateTime, the tenant and the subject in headers
// (cairn.tenant, cairn.subject; cairn.ts keeps a timestamp below 1, which Kafka cannot hold).
// Committed offsets are Kafka's, for the consumer group <prefix>.<consumer>. Topics are created
// on first use with the URI's partition count and replication factor (the broker's defaults
// when not given); records without a cairn.tenant header (written by something else) are
// skipped by reads.
//
// Producing: one idempotent producer (enable.idempotence, acks=all) batching by linger_ms and
// batch_bytes; Append queues the batch and waits for every delivery report, so on success the
// events are acknowledged by the cluster and their offsets are known. While the cluster is
// unreachable, librdkafka keeps the queued records (up to buffer_messages / buffer_kbytes) and
// delivers them when it comes back, in order and without duplicates; an Append waits up to
// delivery_timeout_ms for that. A record that cannot be queued (buffer full) or whose delivery
// times out fails its Append with UNAVAILABLE and is counted: nothing is dropped silently.
// Unlike SQLite, a failed Append may have appended the batch's first records (Kafka has no
// multi-record atomicity without transactions); a caller that retries may duplicate those.
//
// Deletion: Kafka cannot delete records in place. DeleteByKey, DeleteBySubject and DeleteBefore
// append a deletion record to the compacted topic <prefix>.__cairn-deletions, naming what to
// hide and each topic's end offset at that moment; every Read hides the records such a
// deletion covers (records appended later are not hidden), after catching up with deletions
// written by other processes (the deletions topic has one partition). The records themselves
// leave the cluster with the topics'
// retention (retention.ms), which the operator sets.
//
// Consumer groups: JoinGroup returns a KafkaTopicLease, a member of the group <prefix>.<consumer>;
// the group's assignor divides the partitions among the members. CommitOffset commits outside
// the group
// (generation -1), which Kafka accepts only while the group has no member: with members, commit
// through the lease (FAILED_PRECONDITION otherwise).
//
// Metrics (with a registry): cairn_event_stream_kafka_delivered_total,
// cairn_event_stream_kafka_failed_total{reason="timeout|buffer_full|error"} and the gauge
// cairn_event_stream_kafka_buffered_messages (queued or in flight in the producer).
//
// Reads fetch from the partition with a pool of unsubscribed consumers; filters are applied
// while fetching (Kafka has no index by tenant or key), so a filtered read of a sparse key
// scans the topic.
//
// Thread-safe, as EventStream requires.
class KafkaEventStream final : public EventStream {
 public:
  // Connects (checks that the cluster answers within request_timeout_ms: UNAVAILABLE when not)
  // and starts the producer's polling thread. `metrics` may be null; it must outlive the stream.
  static StatusOr<std::unique_ptr<KafkaEventStream>> Open(
      KafkaOptions options, metrics::MetricsRegistry* metrics = nullptr);
  // Waits up to request_timeout_ms for queued records to be delivered; fails the rest.
  ~KafkaEventStream() override;

  StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                        std::span<const Event> events) override;
  StatusOr<ReadResult> Read(std::string_view topic, const ReadOptions& options) override;
  // Creates the topic when it does not exist yet.
  StatusOr<int> Partitions(std::string_view topic) override;
  StatusOr<int64_t> EndOffset(std::string_view topic, int partition) override;
  StatusOr<std::optional<int64_t>> OffsetForTimestamp(std::string_view topic, int partition,
                                                      int64_t timestamp_ms) override;
  Status CommitOffset(std::string_view consumer, std::string_view topic, int partition,
                      int64_t offset) override;
  StatusOr<std::optional<int64_t>> CommittedOffset(std::string_view consumer,
                                                   std::string_view topic, int partition) override;
  Status DeleteByKey(std::string_view tenant, std::string_view key) override;
  Status DeleteBySubject(std::string_view tenant, std::string_view subject_id) override;
  Status DeleteBefore(std::string_view topic, int64_t before_ms) override;
  StatusOr<std::unique_ptr<TopicLease>> JoinGroup(std::string_view consumer,
                                                  std::string_view topic) override;

  // Counters since Open: records acknowledged, and records that failed (never queued because
  // the buffer was full, or not delivered in time).
  int64_t Delivered() const { return delivered_.load(); }
  int64_t Failed() const { return failed_.load(); }
  // Records queued in the producer or in flight now.
  int64_t Buffered() const;

  const KafkaOptions& options() const { return options_; }
  // Deletion records Reads check against now.
  size_t DeletionCountForTest() const EXCLUDES(deletions_mu_);

 private:
  struct Deletion;
  struct Pending;
  struct Marks {
    int64_t low = 0;
    int64_t high = 0;
  };
  using HandlePtr = std::unique_ptr<rd_kafka_s, void (*)(rd_kafka_s*)>;
  // Called with each fetched record in offset order; false stops the scan.
  using Visitor = std::function<bool(const rd_kafka_message_s& message)>;

  KafkaEventStream(KafkaOptions options, metrics::MetricsRegistry* metrics);
  Status Start();
  void PollLoop();
  static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);

  std::string FullName(std::string_view topic) const;
  Status CheckTopic(std::string_view topic) const;
  // The partition count of `full`; 0 when the topic does not exist.
  StatusOr<int> TopicPartitions(const std::string& full) EXCLUDES(topics_mu_);
  // Creates `full` when it does not exist; its partition count.
  StatusOr<int> EnsureTopic(const std::string& full, bool compacted = false) EXCLUDES(topics_mu_);
  // INVALID_ARGUMENT for a partition `full` does not have (or will not have once created).
  Status CheckPartition(const std::string& full, int partition);
  StatusOr<Marks> Watermarks(const std::string& full, int partition);
  // What a scanned topic's offsets are like: a data topic's have no gaps; a compacted one's do.
  enum class ScanKind { kData, kCompacted };
  // Fetches the records of a partition of `full` with offsets in [from, to), each once, in
  // offset order; `to` is at most the partition's end (a high watermark).
  Status Scan(const std::string& full, int partition, int64_t from, int64_t to, ScanKind kind,
              const Visitor& visit) EXCLUDES(readers_mu_);
  // Appends each event to its key's partition among `partitions`.
  StatusOr<std::vector<int64_t>> Produce(const std::string& full, int partitions,
                                         std::span<const Event> events);
  StatusOr<rd_kafka_s*> GroupClient(std::string_view consumer) EXCLUDES(groups_mu_);

  Status AddDeletion(Deletion deletion) EXCLUDES(deletions_mu_);
  Status RefreshDeletions() EXCLUDES(deletions_mu_);
  bool Hidden(std::string_view topic, int partition, int64_t offset, const Event& event) const
      EXCLUDES(deletions_mu_);

  const KafkaOptions options_;
  const std::string deletions_topic_;
  HandlePtr producer_;

  mutable Mutex topics_mu_;
  std::map<std::string, int, std::less<>> known_topics_ GUARDED_BY(topics_mu_);  // -> partitions

  // Idle read consumers; at most kMaxReaders exist, a Read waits for one beyond that.
  Mutex readers_mu_;
  std::condition_variable reader_free_;
  std::vector<HandlePtr> idle_readers_ GUARDED_BY(readers_mu_);
  int readers_ GUARDED_BY(readers_mu_) = 0;

  Mutex groups_mu_;
  std::map<std::string, HandlePtr, std::less<>> groups_ GUARDED_BY(groups_mu_);

  mutable Mutex deletions_mu_;
  std::vector<std::shared_ptr<const Deletion>> deletions_ GUARDED_BY(deletions_mu_);
  int64_t deletions_next_ GUARDED_BY(deletions_mu_) = 0;

  std::atomic<bool> stopping_{false};
  std::thread poller_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  metrics::Counter* delivered_metric_ = nullptr;
  metrics::Counter* timeout_metric_ = nullptr;
  metrics::Counter* buffer_full_metric_ = nullptr;
  metrics::Counter* error_metric_ = nullptr;
  metrics::Gauge* buffered_metric_ = nullptr;
};

// Registers "kafka" in `registry` (kafka://host:port/topic-prefix?options, see KafkaOptions).
// `metrics`, when set, receives the streams' series and must outlive them.
Status RegisterKafkaEventStream(EventStreamRegistry& registry,
                                metrics::MetricsRegistry* metrics = nullptr);

}  // namespace cairn::stream
