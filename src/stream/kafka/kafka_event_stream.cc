#include "stream/kafka/kafka_event_stream.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <utility>

#include "stream/kafka/kafka_client.h"
#include "stream/kafka/kafka_topic_lease.h"

namespace cairn::stream {

namespace bj = boost::json;
using kafka::ErrorStatus;

namespace {

constexpr int kMaxReaders = 8;
constexpr const char* kTenantHeader = "cairn.tenant";
constexpr const char* kSubjectHeader = "cairn.subject";
constexpr const char* kTimestampHeader = "cairn.ts";
constexpr std::string_view kDeletionsTopic = "__cairn-deletions";

void DestroyHandle(rd_kafka_s* rk) { rd_kafka_destroy(rk); }

// Reads one header's value; nullopt when the record does not carry it.
std::optional<std::string> Header(rd_kafka_headers_t* headers, const char* name) {
  if (headers == nullptr) return std::nullopt;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string(static_cast<const char*>(value), value == nullptr ? 0 : size);
}

// The event a record holds; nullopt for a record Cairn did not write (no tenant header).
std::optional<Event> DecodeRecord(const rd_kafka_message_t& m) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) headers = nullptr;
  std::optional<std::string> tenant = Header(headers, kTenantHeader);
  if (!tenant || tenant->empty()) return std::nullopt;
  Event e;
  e.tenant = std::move(*tenant);
  if (m.key != nullptr) e.key.assign(static_cast<const char*>(m.key), m.key_len);
  if (m.payload != nullptr) e.payload.assign(static_cast<const char*>(m.payload), m.len);
  e.subject_id = Header(headers, kSubjectHeader);
  rd_kafka_timestamp_type_t type;
  e.timestamp_ms = rd_kafka_message_timestamp(&m, &type);
  if (std::optional<std::string> ts = Header(headers, kTimestampHeader)) {
    e.timestamp_ms = std::strtoll(ts->c_str(), nullptr, 10);
  }
  return e;
}

}  // namespace

// What a deletion hides: records of `tenant` with key (kKey) or subject (kSubject) `value`, or
// records of `topic` older than `before_ms` (kBefore); in each partition of each topic only
// below the end offset it had when the deletion was made.
struct KafkaEventStream::Deletion {
  enum class Kind { kKey, kSubject, kBefore };
  Kind kind = Kind::kKey;
  std::string tenant;
  std::string value;
  std::string topic;
  int64_t before_ms = 0;
  // (topic, partition) -> end offset; encoded as "topic:partition" (a topic name has no ':';
  // a bare "topic" is partition 0).
  std::map<std::pair<std::string, int>, int64_t> ends;

  bool Covers(std::string_view in_topic, int partition, int64_t offset, const Event& e) const {
    auto end = ends.find(std::make_pair(std::string(in_topic), partition));
    if (end == ends.end() || offset >= end->second) return false;
    switch (kind) {
      case Kind::kKey:
        return e.tenant == tenant && e.key == value;
      case Kind::kSubject:
        return e.tenant == tenant && e.subject_id && *e.subject_id == value;
      case Kind::kBefore:
        return in_topic == topic && e.timestamp_ms < before_ms;
    }
    return false;
  }

  std::string Encode() const {
    bj::object o;
    o["kind"] = kind == Kind::kKey ? "key" : kind == Kind::kSubject ? "subject" : "before";
    o["tenant"] = tenant;
    o["value"] = value;
    o["topic"] = topic;
    o["before_ms"] = before_ms;
    bj::object e;
    for (const auto& [at, offset] : ends) e[at.first + ":" + std::to_string(at.second)] = offset;
    o["ends"] = std::move(e);
    return bj::serialize(o);
  }

  static std::optional<Deletion> Decode(std::string_view text) {
    bj::error_code ec;
    bj::value v = bj::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const bj::object& o = v.get_object();
    Deletion d;
    const bj::value* kind = o.if_contains("kind");
    if (kind == nullptr || !kind->is_string()) return std::nullopt;
    if (kind->get_string() == "key") {
      d.kind = Kind::kKey;
    } else if (kind->get_string() == "subject") {
      d.kind = Kind::kSubject;
    } else if (kind->get_string() == "before") {
      d.kind = Kind::kBefore;
    } else {
      return std::nullopt;
    }
    auto str = [&](const char* name, std::string& out) {
      if (const bj::value* s = o.if_contains(name); s != nullptr && s->is_string()) {
        out = std::string(s->get_string());
      }
    };
    str("tenant", d.tenant);
    str("value", d.value);
    str("topic", d.topic);
    if (const bj::value* b = o.if_contains("before_ms"); b != nullptr && b->is_int64()) {
      d.before_ms = b->get_int64();
    }
    if (const bj::value* e = o.if_contains("ends"); e != nullptr && e->is_object()) {
      for (const auto& [name, offset] : e->get_object()) {
        if (!offset.is_int64()) continue;
        std::string_view t = name;
        int partition = 0;
        if (size_t colon = t.rfind(':'); colon != std::string_view::npos) {
          auto [end, ec] = std::from_chars(t.data() + colon + 1, t.data() + t.size(), partition);
          if (ec != std::errc() || end != t.data() + t.size() || partition < 0) continue;
          t = t.substr(0, colon);
        }
        d.ends[std::make_pair(std::string(t), partition)] = offset.get_int64();
      }
    }
    return d;
  }
};

// One Append's records waiting for their delivery reports; each record's opaque is its Slot.
struct KafkaEventStream::Pending {
  struct Slot {
    Pending* pending = nullptr;
    size_t index = 0;
  };
  explicit Pending(size_t n) : slots(n), offsets(n, -1), remaining(n) {
    for (size_t i = 0; i < n; ++i) slots[i] = Slot{this, i};
  }
  std::vector<Slot> slots;
  Mutex mu;
  std::condition_variable done;
  std::vector<int64_t> offsets GUARDED_BY(mu);
  size_t remaining GUARDED_BY(mu);
  rd_kafka_resp_err_t error GUARDED_BY(mu) = RD_KAFKA_RESP_ERR_NO_ERROR;
};

KafkaEventStream::KafkaEventStream(KafkaOptions options, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)),
      deletions_topic_(options_.prefix + "." + std::string(kDeletionsTopic)),
      producer_(nullptr, &DestroyHandle) {
  if (metrics != nullptr) {
    delivered_metric_ = &metrics->GetCounter("cairn_event_stream_kafka_delivered_total",
                                             "Event records acknowledged by Kafka.");
    const char* help =
        "Event records not appended to Kafka: timeout (the cluster stayed away longer than "
        "delivery_timeout_ms), buffer_full (the producer's buffer bound was reached) or error.";
    timeout_metric_ = &metrics->GetCounter("cairn_event_stream_kafka_failed_total", help,
                                           {{"reason", "timeout"}});
    buffer_full_metric_ = &metrics->GetCounter("cairn_event_stream_kafka_failed_total", help,
                                               {{"reason", "buffer_full"}});
    error_metric_ =
        &metrics->GetCounter("cairn_event_stream_kafka_failed_total", help, {{"reason", "error"}});
    buffered_metric_ = &metrics->GetGauge(
        "cairn_event_stream_kafka_buffered_messages",
        "Event records queued in the Kafka producer or in flight (grows while Kafka is away).");
  }
}

StatusOr<std::unique_ptr<KafkaEventStream>> KafkaEventStream::Open(
    KafkaOptions options, metrics::MetricsRegistry* metrics) {
  std::unique_ptr<KafkaEventStream> stream(new KafkaEventStream(std::move(options), metrics));
  RETURN_IF_ERROR(stream->Start());
  return stream;
}

Status KafkaEventStream::Start() {
  KafkaEventStream* self = this;
  const KafkaOptions& o = options_;
  ASSIGN_OR_RETURN(
      kafka::Handle producer,
      kafka::CreateClient(RD_KAFKA_PRODUCER, o,
                          {{"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", std::to_string(o.linger_ms)},
                           {"batch.size", std::to_string(o.batch_bytes)},
                           {"queue.buffering.max.messages", std::to_string(o.buffer_messages)},
                           {"queue.buffering.max.kbytes", std::to_string(o.buffer_kbytes)},
                           {"message.timeout.ms", std::to_string(o.delivery_timeout_ms)},
                           {"message.max.bytes", std::to_string(kMaxPayloadBytes + (1 << 20))},
                           {"compression.type", o.compression},
                           {"allow.auto.create.topics", "false"}},
                          [self](rd_kafka_conf_t* conf) {
                            rd_kafka_conf_set_opaque(conf, self);
                            rd_kafka_conf_set_dr_msg_cb(conf, &KafkaEventStream::OnDelivery);
                          }));
  producer_.reset(producer.release());
  // The cluster must answer now; later outages are buffered.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_.get(), 0, nullptr, &metadata, options_.request_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(std::string("kafka: no answer from ") + options_.brokers + ": " +
                       rd_kafka_err2str(err));
  }
  rd_kafka_metadata_destroy(metadata);
  poller_ = std::thread([this] { PollLoop(); });
  return Status::Ok();
}

KafkaEventStream::~KafkaEventStream() {
  if (producer_) {
    if (rd_kafka_flush(producer_.get(), options_.request_timeout_ms) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Fail what is left so no Append waits on a record that will never be reported.
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(producer_.get(), 1000);
    }
  }
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_) rd_kafka_poll(producer_.get(), 0);
}

void KafkaEventStream::PollLoop() {
  pthread_setname_np(pthread_self(), "cairn-kafka");
  while (!stopping_.load()) {
    rd_kafka_poll(producer_.get(), 100);
    if (buffered_metric_ != nullptr) buffered_metric_->Set(static_cast<double>(Buffered()));
  }
}

int64_t KafkaEventStream::Buffered() const { return rd_kafka_outq_len(producer_.get()); }

void KafkaEventStream::OnDelivery(rd_kafka_s* /*rk*/, const rd_kafka_message_s* message,
                                  void* opaque) {
  auto* self = static_cast<KafkaEventStream*>(opaque);
  auto* slot = static_cast<Pending::Slot*>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1);
    if (self->delivered_metric_ != nullptr) self->delivered_metric_->Increment();
  } else {
    self->failed_.fetch_add(1);
    if (self->timeout_metric_ != nullptr) {
      (message->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? self->timeout_metric_
                                                        : self->error_metric_)
          ->Increment();
    }
  }
  if (slot == nullptr) return;
  Pending& pending = *slot->pending;
  MutexLock lock(pending.mu);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    pending.offsets[slot->index] = message->offset;
  } else if (pending.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    pending.error = message->err;
  }
  if (--pending.remaining == 0) pending.done.notify_all();
}

std::string KafkaEventStream::FullName(std::string_view topic) const {
  return options_.prefix + "." + std::string(topic);
}

Status KafkaEventStream::CheckTopic(std::string_view topic) const {
  RETURN_IF_ERROR(ValidateTopic(topic));
  // <prefix>.<topic> must fit Kafka's 249 characters; the deletions topic is Cairn's own.
  if (options_.prefix.size() + 1 + topic.size() > 249) {
    return InvalidArgument("topic name '" + std::string(topic) + "' is too long for prefix " +
                           options_.prefix);
  }
  if (topic == kDeletionsTopic) {
    return InvalidArgument("topic name '" + std::string(topic) + "' is reserved");
  }
  return Status::Ok();
}

StatusOr<int> KafkaEventStream::TopicPartitions(const std::string& full) {
  {
    MutexLock lock(topics_mu_);
    if (auto known = known_topics_.find(full); known != known_topics_.end()) return known->second;
  }
  rd_kafka_topic_t* handle = rd_kafka_topic_new(producer_.get(), full.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_.get(), 0, handle, &metadata, options_.request_timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: metadata of " + full);
  int partitions = 0;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (full == t.topic && t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
        t.partition_cnt > 0) {
      partitions = t.partition_cnt;
      // A topic created a moment ago has no leaders yet: offsets cannot be asked for. It counts
      // as existing once every partition has one.
      for (int p = 0; p < t.partition_cnt; ++p) {
        if (t.partitions[p].leader < 0) partitions = 0;
      }
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (partitions > 0) {
    MutexLock lock(topics_mu_);
    known_topics_[full] = partitions;
  }
  return partitions;
}

StatusOr<int> KafkaEventStream::EnsureTopic(const std::string& full, bool compacted) {
  ASSIGN_OR_RETURN(int existing, TopicPartitions(full));
  if (existing > 0) return existing;
  char error[512];
  // The deletions topic is read whole, in order: one partition.
  const int partitions = compacted ? 1 : options_.partitions;
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      full.c_str(), partitions, options_.replication_factor, error, sizeof(error));
  if (topic == nullptr) return InvalidArgument(std::string("kafka: topic ") + full + ": " + error);
  if (compacted) rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "compact");
  rd_kafka_NewTopic_set_config(topic, "max.message.bytes",
                               std::to_string(kMaxPayloadBytes + (1 << 20)).c_str());
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(producer_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(admin, options_.request_timeout_ms, error,
                                            sizeof(error));
  rd_kafka_AdminOptions_set_operation_timeout(admin, options_.request_timeout_ms, error,
                                              sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_.get());
  rd_kafka_CreateTopics(producer_.get(), &topic, 1, admin, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, options_.request_timeout_ms + 1000);
  Status status = Status::Ok();
  if (event == nullptr) {
    status = Unavailable("kafka: creating topic " + full + " timed out");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = ErrorStatus(rd_kafka_event_error(event), "kafka: creating topic " + full);
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = ErrorStatus(err, "kafka: creating topic " + full);
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_NewTopic_destroy(topic);
  RETURN_IF_ERROR(status);
  // The count the topic got (the broker's default with partitions=-1, or another creator's),
  // once its metadata has reached the broker answering.
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(int created, TopicPartitions(full));
    if (created > 0) return created;
    if (attempt == 50) return Unavailable("kafka: topic " + full + " created but not visible");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

StatusOr<KafkaEventStream::Marks> KafkaEventStream::Watermarks(const std::string& full,
                                                               int partition) {
  ASSIGN_OR_RETURN(int partitions, TopicPartitions(full));
  if (partition >= partitions) return Marks{};
  Marks marks;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(producer_.get(), full.c_str(), partition, &marks.low,
                                       &marks.high, options_.request_timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return Marks{};
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: end offset of " + full);
  return marks;
}

Status KafkaEventStream::Scan(const std::string& full, int partition, int64_t from, int64_t to,
                              ScanKind kind, const Visitor& visit) {
  if (from >= to) return Status::Ok();
  HandlePtr reader(nullptr, &DestroyHandle);
  {
    MutexLock lock(readers_mu_);
    while (idle_readers_.empty() && readers_ >= kMaxReaders) lock.Wait(reader_free_);
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++readers_;
    }
  }
  auto give_back = [&](HandlePtr handle) {
    MutexLock lock(readers_mu_);
    if (handle) {
      idle_readers_.push_back(std::move(handle));
    } else {
      --readers_;
    }
    reader_free_.notify_one();
  };
  // A compacted topic may have gaps, so only a reader that never had another assignment can be
  // believed: the pooled one in its slot is replaced.
  if (kind == ScanKind::kCompacted) reader.reset();
  if (!reader) {
    StatusOr<kafka::Handle> created = kafka::CreateClient(
        RD_KAFKA_CONSUMER, options_,
        {{"group.id", options_.prefix + ".cairn-reader"},  // required, never joined or committed
         {"enable.auto.commit", "false"},
         {"enable.auto.offset.store", "false"},
         {"enable.partition.eof", "true"},
         {"auto.offset.reset", "earliest"},
         {"fetch.wait.max.ms", "50"},
         {"fetch.error.backoff.ms", "50"},
         {"fetch.message.max.bytes", std::to_string(kMaxPayloadBytes + (1 << 20))},
         // A read stops at max_events: prefetch little beyond (librdkafka's default is 64 MiB
         // per reader); still room for one record of the largest payload.
         {"queued.min.messages", "10000"},
         {"queued.max.messages.kbytes", "16384"},
         {"allow.auto.create.topics", "false"}});
    if (!created.ok()) {
      give_back(HandlePtr(nullptr, &DestroyHandle));
      return created.status();
    }
    reader.reset(created->release());
  }
  kafka::PartitionList assignment = kafka::OnePartition(full, partition, from);
  Status status = Status::Ok();
  if (rd_kafka_resp_err_t err = rd_kafka_assign(reader.get(), assignment.get())) {
    status = ErrorStatus(err, "kafka: reading " + full);
  }
  // A fetch that brings nothing for this long (no record, no end of partition) fails the read.
  const int idle_ms = options_.request_timeout_ms;
  auto last_progress = std::chrono::steady_clock::now();
  // The offset this scan takes next. librdkafka may hand a pooled reader events of an earlier
  // assignment, even of this same partition: records, and ends of partition at offsets that
  // were the end then. Records are therefore taken in offset order, each once (a record seen
  // again is the same record: Kafka never rewrites an offset).
  int64_t next = from;
  while (status.ok() && next < to) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(reader.get(), 100);
    if (m == nullptr) {
      if (std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(idle_ms)) {
        status = Unavailable("kafka: reading " + full + " timed out");
      }
      continue;
    }
    last_progress = std::chrono::steady_clock::now();
    const std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
        m, &rd_kafka_message_destroy);
    // Another topic's or partition's event, from an earlier assignment.
    if (m->rkt != nullptr && (m->partition != partition || full != rd_kafka_topic_name(m->rkt))) {
      continue;
    }
    const bool record = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!record && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      status = ErrorStatus(m->err, "kafka: reading " + full);
      break;
    }
    if (m->offset < next) continue;  // taken already, or an end this scan has passed
    if (kind == ScanKind::kCompacted) {
      // A fresh reader's events are all this scan's; compaction leaves gaps, but never removes a
      // partition's last record, so an end below `to` is from before the fetch caught up.
      if (!record) {
        if (m->offset >= to) break;
        continue;
      }
    } else if (m->offset > next || !record) {
      // The offsets of a data topic have no gaps (no compaction, no transactions) and `to` is a
      // high watermark, so an end below it, or a jump past `next`, is an earlier assignment's
      // event: unless retention removed the records from `next` on.
      StatusOr<Marks> marks = Watermarks(full, partition);
      if (!marks.ok()) {
        status = marks.status();
        break;
      }
      if (marks->low > next) next = marks->low;
      if (!record || m->offset != next) continue;
    }
    next = m->offset + 1;
    if (!visit(*m)) break;
  }
  rd_kafka_assign(reader.get(), nullptr);
  // A reader that failed may hold a broken connection state; a fresh one replaces it.
  give_back(status.ok() ? std::move(reader) : HandlePtr(nullptr, &DestroyHandle));
  return status;
}

StatusOr<std::vector<int64_t>> KafkaEventStream::Produce(const std::string& full, int partitions,
                                                         std::span<const Event> events) {
  Pending pending(events.size());
  size_t queued = 0;
  rd_kafka_resp_err_t queue_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (; queued < events.size(); ++queued) {
    const Event& e = events[queued];
    rd_kafka_headers_t* headers = rd_kafka_headers_new(3);
    rd_kafka_header_add(headers, kTenantHeader, -1, e.tenant.data(),
                        static_cast<ssize_t>(e.tenant.size()));
    if (e.subject_id) {
      rd_kafka_header_add(headers, kSubjectHeader, -1, e.subject_id->data(),
                          static_cast<ssize_t>(e.subject_id->size()));
    }
    // Kafka keeps timestamps of at least 0, and librdkafka reads 0 as "now".
    int64_t timestamp = e.timestamp_ms;
    if (timestamp < 1) {
      std::string exact = std::to_string(timestamp);
      rd_kafka_header_add(headers, kTimestampHeader, -1, exact.data(),
                          static_cast<ssize_t>(exact.size()));
      timestamp = 1;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(full.c_str()),
                          RD_KAFKA_V_PARTITION(kafka::PartitionForKey(e.key, partitions)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(e.key.empty() ? nullptr : e.key.data(), e.key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(e.payload.data()), e.payload.size()),
                          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers),
                          RD_KAFKA_V_OPAQUE(&pending.slots[queued]), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);  // owned by the record only when it was queued
      queue_error = err;
      break;
    }
  }
  if (queued < events.size()) {
    const int64_t rejected = static_cast<int64_t>(events.size() - queued);
    failed_.fetch_add(rejected);
    metrics::Counter* counter =
        queue_error == RD_KAFKA_RESP_ERR__QUEUE_FULL ? buffer_full_metric_ : error_metric_;
    if (counter != nullptr) counter->Increment(static_cast<double>(rejected));
  }
  // Every queued record gets exactly one delivery report, at the latest after
  // delivery_timeout_ms; the slots live on this stack until then.
  MutexLock lock(pending.mu);
  pending.remaining -= events.size() - queued;
  while (pending.remaining > 0) lock.Wait(pending.done);
  if (queue_error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return Unavailable("kafka: the producer's buffer is full (" +
                       std::to_string(options_.buffer_messages) +
                       " records): the cluster is away or slower than the traffic; " +
                       std::to_string(events.size() - queued) + " of " +
                       std::to_string(events.size()) + " records not appended");
  }
  if (queue_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorStatus(queue_error, "kafka: appending to " + full);
  }
  if (pending.error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorStatus(pending.error, "kafka: appending to " + full);
  }
  return std::move(pending.offsets);
}

StatusOr<std::vector<int64_t>> KafkaEventStream::Append(std::string_view topic,
                                                        std::span<const Event> events) {
  RETURN_IF_ERROR(CheckTopic(topic));
  RETURN_IF_ERROR(ValidateEvents(events));
  if (events.empty()) return std::vector<int64_t>{};
  const std::string full = FullName(topic);
  ASSIGN_OR_RETURN(int partitions, EnsureTopic(full));
  return Produce(full, partitions, events);
}

StatusOr<ReadResult> KafkaEventStream::Read(std::string_view topic, const ReadOptions& options) {
  RETURN_IF_ERROR(CheckTopic(topic));
  RETURN_IF_ERROR(ValidateReadOptions(options));
  RETURN_IF_ERROR(RefreshDeletions());
  const std::string full = FullName(topic);
  ReadResult result;
  result.next_offset = options.from_offset;
  ASSIGN_OR_RETURN(int partitions, TopicPartitions(full));
  if (partitions == 0) return result;  // never written
  const int partition =
      options.key ? kafka::PartitionForKey(*options.key, partitions) : options.partition;
  RETURN_IF_ERROR(ValidatePartition(partition, partitions));
  ASSIGN_OR_RETURN(Marks marks, Watermarks(full, partition));
  const size_t max = static_cast<size_t>(options.max_events);
  // Keeps a record when it passes the filters and no deletion hides it.
  auto keep = [&](const rd_kafka_message_t& m) -> std::optional<StoredEvent> {
    std::optional<Event> e = DecodeRecord(m);
    if (!e) return std::nullopt;
    if (options.tenant && e->tenant != *options.tenant) return std::nullopt;
    if (options.key && e->key != *options.key) return std::nullopt;
    if (Hidden(topic, partition, m.offset, *e)) return std::nullopt;
    return StoredEvent{.partition = partition, .offset = m.offset, .event = std::move(*e)};
  };

  if (options.direction == ReadDirection::kOldestFirst) {
    const int64_t from = std::max(options.from_offset, marks.low);
    RETURN_IF_ERROR(
        Scan(full, partition, from, marks.high, ScanKind::kData, [&](const rd_kafka_message_t& m) {
          if (std::optional<StoredEvent> e = keep(m)) result.events.push_back(std::move(*e));
          return result.events.size() < max;
        }));
    if (!result.events.empty()) result.next_offset = result.events.back().offset + 1;
    return result;
  }

  // Newest first: scan chunks backwards from the start, each forwards, and reverse them.
  int64_t top = std::min(options.from_offset, marks.high - 1);
  const int64_t chunk =
      std::max<int64_t>(options.max_events, options.tenant || options.key ? 1000 : 0);
  while (top >= marks.low && result.events.size() < max) {
    const int64_t bottom = std::max(marks.low, top - chunk + 1);
    std::vector<StoredEvent> found;
    RETURN_IF_ERROR(
        Scan(full, partition, bottom, top + 1, ScanKind::kData, [&](const rd_kafka_message_t& m) {
          if (std::optional<StoredEvent> e = keep(m)) found.push_back(std::move(*e));
          return true;
        }));
    for (auto it = found.rbegin(); it != found.rend() && result.events.size() < max; ++it) {
      result.events.push_back(std::move(*it));
    }
    top = bottom - 1;
  }
  if (!result.events.empty()) result.next_offset = result.events.back().offset - 1;
  return result;
}

StatusOr<int> KafkaEventStream::Partitions(std::string_view topic) {
  RETURN_IF_ERROR(CheckTopic(topic));
  return EnsureTopic(FullName(topic));
}

Status KafkaEventStream::CheckPartition(const std::string& full, int partition) {
  if (partition < 0) return ValidatePartition(partition, 1);
  ASSIGN_OR_RETURN(int partitions, TopicPartitions(full));
  // A topic not created yet: what it will have (unknown with the broker's default).
  if (partitions == 0) partitions = options_.partitions > 0 ? options_.partitions : partition + 1;
  return ValidatePartition(partition, partitions);
}

StatusOr<int64_t> KafkaEventStream::EndOffset(std::string_view topic, int partition) {
  RETURN_IF_ERROR(CheckTopic(topic));
  const std::string full = FullName(topic);
  RETURN_IF_ERROR(CheckPartition(full, partition));
  ASSIGN_OR_RETURN(Marks marks, Watermarks(full, partition));
  return marks.high;
}

StatusOr<std::optional<int64_t>> KafkaEventStream::OffsetForTimestamp(std::string_view topic,
                                                                      int partition,
                                                                      int64_t timestamp_ms) {
  RETURN_IF_ERROR(CheckTopic(topic));
  const std::string full = FullName(topic);
  RETURN_IF_ERROR(CheckPartition(full, partition));
  ASSIGN_OR_RETURN(int partitions, TopicPartitions(full));
  if (partitions == 0) return std::optional<int64_t>();
  kafka::PartitionList list =
      kafka::OnePartition(full, partition, std::max<int64_t>(timestamp_ms, 0));
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(producer_.get(), list.get(), options_.request_timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorStatus(err, "kafka: offset for a time in " + full);
  }
  if (list->elems[0].offset < 0) return std::optional<int64_t>();
  // The first record at that time may be hidden by a deletion: the first visible one after it.
  ASSIGN_OR_RETURN(ReadResult first, Read(topic, ReadOptions{.partition = partition,
                                                             .from_offset = list->elems[0].offset,
                                                             .max_events = 1}));
  if (first.events.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(first.events[0].offset);
}

StatusOr<rd_kafka_s*> KafkaEventStream::GroupClient(std::string_view consumer) {
  MutexLock lock(groups_mu_);
  auto it = groups_.find(consumer);
  if (it != groups_.end()) return it->second.get();
  ASSIGN_OR_RETURN(kafka::Handle handle,
                   kafka::CreateClient(RD_KAFKA_CONSUMER, options_,
                                       {{"group.id", options_.prefix + "." + std::string(consumer)},
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"},
                                        {"allow.auto.create.topics", "false"}}));
  rd_kafka_s* raw = handle.get();
  groups_.emplace(std::string(consumer), HandlePtr(handle.release(), &DestroyHandle));
  return raw;
}

Status KafkaEventStream::CommitOffset(std::string_view consumer, std::string_view topic,
                                      int partition, int64_t offset) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(CheckTopic(topic));
  RETURN_IF_ERROR(ValidateOffset(offset));
  const std::string full = FullName(topic);
  // Kafka refuses commits for a topic it does not know.
  ASSIGN_OR_RETURN(int partitions, EnsureTopic(full));
  RETURN_IF_ERROR(ValidatePartition(partition, partitions));
  ASSIGN_OR_RETURN(rd_kafka_s * client, GroupClient(consumer));
  kafka::PartitionList list = kafka::OnePartition(full, partition, offset);
  rd_kafka_resp_err_t err = rd_kafka_commit(client, list.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (kafka::IsFencedError(err)) {
    return FailedPrecondition("kafka: consumer group " + std::string(consumer) +
                              " has members; commit through its lease (" + rd_kafka_err2str(err) +
                              ")");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: commit on " + full);
  return Status::Ok();
}

StatusOr<std::optional<int64_t>> KafkaEventStream::CommittedOffset(std::string_view consumer,
                                                                   std::string_view topic,
                                                                   int partition) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(CheckTopic(topic));
  const std::string full = FullName(topic);
  RETURN_IF_ERROR(CheckPartition(full, partition));
  ASSIGN_OR_RETURN(rd_kafka_s * client, GroupClient(consumer));
  kafka::PartitionList list = kafka::OnePartition(full, partition, RD_KAFKA_OFFSET_INVALID);
  rd_kafka_resp_err_t err = rd_kafka_committed(client, list.get(), options_.request_timeout_ms);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::optional<int64_t>();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ErrorStatus(err, "kafka: committed offset on " + full);
  }
  if (list->elems[0].offset < 0) return std::optional<int64_t>();
  return std::optional<int64_t>(list->elems[0].offset);
}

StatusOr<std::unique_ptr<TopicLease>> KafkaEventStream::JoinGroup(std::string_view consumer,
                                                                  std::string_view topic) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(CheckTopic(topic));
  const std::string full = FullName(topic);
  RETURN_IF_ERROR(EnsureTopic(full).status());
  ASSIGN_OR_RETURN(
      std::unique_ptr<kafka::KafkaTopicLease> lease,
      kafka::KafkaTopicLease::Join(options_, options_.prefix + "." + std::string(consumer), full));
  return std::unique_ptr<TopicLease>(std::move(lease));
}

Status KafkaEventStream::AddDeletion(Deletion deletion) {
  RETURN_IF_ERROR(EnsureTopic(deletions_topic_, /*compacted=*/true).status());
  // The end of every topic under the prefix now: what is below it is hidden.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_.get(), 1, nullptr, &metadata, options_.request_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ErrorStatus(err, "kafka: listing topics");
  std::vector<std::string> topics;
  const std::string head = options_.prefix + ".";
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    std::string_view name = metadata->topics[i].topic;
    if (name.starts_with(head) && name != deletions_topic_) {
      std::string_view topic = name.substr(head.size());
      if (deletion.kind == Deletion::Kind::kBefore && topic != deletion.topic) continue;
      topics.emplace_back(topic);
    }
  }
  rd_kafka_metadata_destroy(metadata);
  // A topic this process created a moment ago may not be in the cluster-wide listing yet.
  {
    MutexLock lock(topics_mu_);
    for (const auto& [full, partitions] : known_topics_) {
      if (!full.starts_with(head) || full == deletions_topic_) continue;
      std::string topic = full.substr(head.size());
      if (deletion.kind == Deletion::Kind::kBefore && topic != deletion.topic) continue;
      if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
    }
  }
  for (const std::string& topic : topics) {
    const std::string full = FullName(topic);
    ASSIGN_OR_RETURN(int partitions, TopicPartitions(full));
    for (int p = 0; p < partitions; ++p) {
      ASSIGN_OR_RETURN(Marks marks, Watermarks(full, p));
      if (marks.high > 0) deletion.ends[std::make_pair(topic, p)] = marks.high;
    }
  }
  if (deletion.ends.empty()) return Status::Ok();  // nothing to hide
  static std::atomic<uint64_t> sequence{0};
  // Erasures must all be kept (unique keys); a topic's newest retention cut-off covers the older
  // ones (one key per topic, so compaction keeps only it).
  std::string key =
      deletion.kind == Deletion::Kind::kBefore
          ? "before:" + deletion.topic
          : std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
                std::to_string(sequence.fetch_add(1));
  Event record{.tenant = deletion.tenant.empty() ? "-" : deletion.tenant,
               .key = std::move(key),
               .timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count(),
               .payload = deletion.Encode()};
  RETURN_IF_ERROR(Produce(deletions_topic_, 1, std::span<const Event>(&record, 1)).status());
  return RefreshDeletions();
}

Status KafkaEventStream::RefreshDeletions() {
  MutexLock lock(deletions_mu_);
  ASSIGN_OR_RETURN(Marks marks, Watermarks(deletions_topic_, 0));
  if (marks.high <= deletions_next_) return Status::Ok();
  std::vector<std::shared_ptr<const Deletion>> added;
  int64_t next = deletions_next_;
  RETURN_IF_ERROR(Scan(deletions_topic_, 0, std::max(deletions_next_, marks.low), marks.high,
                       ScanKind::kCompacted, [&](const rd_kafka_message_t& m) {
                         next = m.offset + 1;
                         std::string_view text(static_cast<const char*>(m.payload),
                                               m.payload == nullptr ? 0 : m.len);
                         if (std::optional<Deletion> d = Deletion::Decode(text)) {
                           added.push_back(std::make_shared<const Deletion>(std::move(*d)));
                         } else {
                           spdlog::warn("kafka: unreadable deletion record at offset {} of {}",
                                        m.offset, deletions_topic_);
                         }
                         return true;
                       }));
  for (std::shared_ptr<const Deletion>& d : added) {
    if (d->kind == Deletion::Kind::kBefore) {
      // Retention runs every minute: a newer cut-off of a topic replaces the ones it covers,
      // so the list (and each Read's check) stays short. The topic's compaction does the same
      // on the broker, as these records share the key before:<topic>.
      std::erase_if(deletions_, [&](const std::shared_ptr<const Deletion>& old) {
        if (old->kind != Deletion::Kind::kBefore || old->topic != d->topic ||
            old->before_ms > d->before_ms) {
          return false;
        }
        for (const auto& [at, end] : old->ends) {
          auto it = d->ends.find(at);
          if (it == d->ends.end() || it->second < end) return false;
        }
        return true;
      });
    }
    deletions_.push_back(std::move(d));
  }
  deletions_next_ = std::max(next, marks.high);
  return Status::Ok();
}

size_t KafkaEventStream::DeletionCountForTest() const {
  MutexLock lock(deletions_mu_);
  return deletions_.size();
}

bool KafkaEventStream::Hidden(std::string_view topic, int partition, int64_t offset,
                              const Event& event) const {
  MutexLock lock(deletions_mu_);
  for (const auto& d : deletions_) {
    if (d->Covers(topic, partition, offset, event)) return true;
  }
  return false;
}

Status KafkaEventStream::DeleteByKey(std::string_view tenant, std::string_view key) {
  if (tenant.empty()) return InvalidArgument("delete: tenant is empty");
  return AddDeletion(Deletion{
      .kind = Deletion::Kind::kKey, .tenant = std::string(tenant), .value = std::string(key)});
}

Status KafkaEventStream::DeleteBySubject(std::string_view tenant, std::string_view subject_id) {
  if (tenant.empty()) return InvalidArgument("delete: tenant is empty");
  return AddDeletion(Deletion{.kind = Deletion::Kind::kSubject,
                              .tenant = std::string(tenant),
                              .value = std::string(subject_id)});
}

Status KafkaEventStream::DeleteBefore(std::string_view topic, int64_t before_ms) {
  RETURN_IF_ERROR(CheckTopic(topic));
  return AddDeletion(Deletion{
      .kind = Deletion::Kind::kBefore, .topic = std::string(topic), .before_ms = before_ms});
}

Status RegisterKafkaEventStream(EventStreamRegistry& registry, metrics::MetricsRegistry* metrics) {
  return registry.Register("kafka",
                           [metrics](const Uri& uri) -> StatusOr<std::unique_ptr<EventStream>> {
                             ASSIGN_OR_RETURN(KafkaOptions options, KafkaOptions::FromUri(uri));
                             ASSIGN_OR_RETURN(std::unique_ptr<KafkaEventStream> stream,
                                              KafkaEventStream::Open(std::move(options), metrics));
                             return std::unique_ptr<EventStream>(std::move(stream));
                           });
}

}  // namespace cairn::stream
