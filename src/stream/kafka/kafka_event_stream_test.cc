// KafkaEventStream beyond the conformance suite: outages (librdkafka's mock cluster, whose
// brokers can be taken down and brought back in-process), the producer's buffer bound and its
// counters, the PredictionLogger in front of a stream whose cluster is away, and consumer groups
// and cross-process deletions on the real broker of scripts/services/kafka.sh.

#include "stream/kafka/kafka_event_stream.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status_testing.h"
#include "base/test_services.h"
#include "metrics/metrics_registry.h"
#include "stream/kafka/kafka_client.h"
#include "stream/prediction_logger.h"

namespace cairn::stream {
namespace {

using std::chrono::milliseconds;

Event MakeEvent(int i) {
  return Event{.tenant = "t", .key = "d", .timestamp_ms = 1000 + i, .payload = std::to_string(i)};
}

std::vector<Event> MakeEvents(int from, int count) {
  std::vector<Event> events;
  for (int i = from; i < from + count; ++i) events.push_back(MakeEvent(i));
  return events;
}

// A one-broker mock cluster; the broker's id is 1.
class MockCluster {
 public:
  MockCluster() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  std::string Bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void CreateTopic(const std::string& name) {
    rd_kafka_mock_topic_create(cluster_, name.c_str(), 1, 1);
  }
  void Down() { rd_kafka_mock_broker_set_down(cluster_, 1); }
  void Up() { rd_kafka_mock_broker_set_up(cluster_, 1); }

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

class KafkaOutageTest : public testing::Test {
 protected:
  std::unique_ptr<KafkaEventStream> Open(int delivery_timeout_ms,
                                         int64_t buffer_messages = 100000) {
    cluster_.CreateTopic("cairn.predictions");
    KafkaOptions options;
    options.brokers = cluster_.Bootstraps();
    options.linger_ms = 1;
    options.delivery_timeout_ms = delivery_timeout_ms;
    options.buffer_messages = buffer_messages;
    options.request_timeout_ms = 2000;
    options.extra = {{"reconnect.backoff.ms", "50"}, {"reconnect.backoff.max.ms", "200"}};
    auto opened = KafkaEventStream::Open(options, &metrics_);
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  double FailedMetric(const std::string& reason) {
    return metrics_.GetCounter("cairn_event_stream_kafka_failed_total", "", {{"reason", reason}})
        .Value();
  }

  MockCluster cluster_;
  metrics::MetricsRegistry metrics_;
};

TEST_F(KafkaOutageTest, BuffersDuringAnOutageAndDeliversInOrderOnRecovery) {
  auto stream = Open(/*delivery_timeout_ms=*/30000);
  ASSERT_NE(stream, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> before,
                       stream->Append("predictions", MakeEvents(0, 1)));
  EXPECT_EQ(before, std::vector<int64_t>{0});

  cluster_.Down();
  auto pending = std::async(std::launch::async,
                            [&] { return stream->Append("predictions", MakeEvents(1, 10)); });
  // The batch waits in the producer's buffer while the broker is away.
  EXPECT_EQ(pending.wait_for(milliseconds(1500)), std::future_status::timeout);
  EXPECT_EQ(stream->Buffered(), 10);

  cluster_.Up();
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> offsets, pending.get());
  EXPECT_EQ(offsets, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream->Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 11u);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(read.events[i].event.payload, std::to_string(i));
  EXPECT_EQ(stream->Delivered(), 11);
  EXPECT_EQ(stream->Failed(), 0);
  EXPECT_EQ(metrics_.GetCounter("cairn_event_stream_kafka_delivered_total", "").Value(), 11);
}

TEST_F(KafkaOutageTest, AnOutageLongerThanTheDeliveryTimeoutFailsTheAppendAndCountsIt) {
  auto stream = Open(/*delivery_timeout_ms=*/1000);
  ASSERT_NE(stream, nullptr);
  ASSERT_OK(stream->Append("predictions", MakeEvents(0, 1)));
  cluster_.Down();
  StatusOr<std::vector<int64_t>> failed = stream->Append("predictions", MakeEvents(1, 4));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_EQ(stream->Failed(), 4);
  EXPECT_EQ(FailedMetric("timeout"), 4);

  cluster_.Up();
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> after, stream->Append("predictions", MakeEvents(5, 1)));
  ASSERT_EQ(after.size(), 1u);
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream->Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[1].event.payload, "5");
}

TEST_F(KafkaOutageTest, AFullBufferRejectsAtOnceAndCountsTheRecords) {
  auto stream = Open(/*delivery_timeout_ms=*/30000, /*buffer_messages=*/5);
  ASSERT_NE(stream, nullptr);
  ASSERT_OK(stream->Append("predictions", MakeEvents(0, 1)));
  cluster_.Down();
  auto filling = std::async(std::launch::async,
                            [&] { return stream->Append("predictions", MakeEvents(1, 5)); });
  for (int i = 0; i < 100 && stream->Buffered() < 5; ++i)
    std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(stream->Buffered(), 5);

  auto start = std::chrono::steady_clock::now();
  StatusOr<std::vector<int64_t>> rejected = stream->Append("predictions", MakeEvents(6, 3));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(rejected.status().message().find("buffer is full"), std::string::npos);
  EXPECT_EQ(stream->Failed(), 3);
  EXPECT_EQ(FailedMetric("buffer_full"), 3);

  cluster_.Up();
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> offsets, filling.get());
  EXPECT_EQ(offsets, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// The serving path's logger in front of Kafka: while the cluster is away its queue holds what
// the producer cannot take, drops beyond its capacity are counted, and everything it kept is
// appended once the cluster is back.
TEST_F(KafkaOutageTest, PredictionLoggerKeepsWhatFitsAndCountsDropsThroughAnOutage) {
  auto stream = Open(/*delivery_timeout_ms=*/30000);
  ASSERT_NE(stream, nullptr);
  PredictionLogger logger(
      *stream, PredictionLoggerOptions{.queue_capacity = 20, .max_batch = 5, .metrics = &metrics_});
  cluster_.Down();
  int accepted = 0;
  for (int i = 0; i < 50; ++i) {
    PredictionEvent e{.tenant = "t",
                      .deployment_id = "d",
                      .request_id = "r" + std::to_string(i),
                      .timestamp_ms = 1000 + i,
                      .protocol = "v2",
                      .status_code = 200,
                      .inputs_json = "{}",
                      .outputs_json = "{}"};
    if (logger.Log(std::move(e))) ++accepted;
  }
  EXPECT_EQ(accepted, 20);
  EXPECT_EQ(logger.Dropped(), 30);
  EXPECT_EQ(logger.DroppedFor("d"), 30);

  cluster_.Up();
  ASSERT_OK(logger.Flush(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  EXPECT_EQ(logger.Appended(), 20);
  EXPECT_EQ(logger.Failed(), 0);
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream->Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(PredictionEvent e, DecodePredictionEvent(read.events[i].event.payload));
    EXPECT_EQ(e.request_id, "r" + std::to_string(i));  // in the order they were logged
  }
}

TEST_F(KafkaOutageTest, RejectsReservedAndOverlongTopicsBeforeAnyIo) {
  auto stream = Open(/*delivery_timeout_ms=*/30000);
  ASSERT_NE(stream, nullptr);
  std::vector<Event> one = MakeEvents(0, 1);
  // Cairn's own deletions topic cannot be written or read as an event topic.
  EXPECT_EQ(stream->Append("__cairn-deletions", one).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->Read("__cairn-deletions", {}).status().code(), StatusCode::kInvalidArgument);
  // The prefix counts against Kafka's 249 characters.
  EXPECT_EQ(stream->Append(std::string(245, 'a'), one).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->JoinGroup("bad group", "predictions").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->JoinGroup("monitor", "bad topic").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->OffsetForTimestamp("bad topic", 0, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->DeleteBefore("", 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(stream->Delivered() + stream->Failed(), 0);
}

TEST(KafkaEventStreamTest, OpenAnswersUnavailableWhenNoBrokerAnswers) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.request_timeout_ms = 500;
  auto opened = KafkaEventStream::Open(options);
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable);
}

// On the real broker: two processes' streams on one prefix.
class KafkaBrokerTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string uri;
    CAIRN_TEST_SERVICE(uri, "KAFKA");
    ASSERT_OK_AND_ASSIGN(Uri parsed, Uri::Parse(uri));
    ASSERT_OK_AND_ASSIGN(options_, KafkaOptions::FromUri(parsed));
    options_.prefix += ".stream-test-" + std::to_string(::getpid()) + "-" +
                       testing::UnitTest::GetInstance()->current_test_info()->name();
    options_.linger_ms = 1;
    options_.session_timeout_ms = 3000;
  }

  std::unique_ptr<KafkaEventStream> Open() {
    auto opened = KafkaEventStream::Open(options_);
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // Polls `lease` until it owns `partitions`, for up to 30 s.
  static bool WaitOwned(TopicLease& lease, const std::vector<int>& partitions) {
    for (int i = 0; i < 300; ++i) {
      StatusOr<std::vector<int>> now = lease.Owned();
      if (now.ok() && *now == partitions) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  static bool Owns(TopicLease& lease) {
    StatusOr<std::vector<int>> now = lease.Owned();
    EXPECT_OK(now);
    return now.ok() && *now == std::vector<int>{0};
  }

  KafkaOptions options_;
};

TEST_F(KafkaBrokerTest, OneMemberOfAGroupOwnsTheTopicAndTheOtherTakesOverWhenItLeaves) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_OK(a->Append("predictions", MakeEvents(0, 3)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TopicLease> first, a->JoinGroup("monitor", "predictions"));
  ASSERT_TRUE(WaitOwned(*first, {0}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TopicLease> second, b->JoinGroup("monitor", "predictions"));
  // Both poll (as every member does) until the group has settled on one owner; never both.
  TopicLease* owner = nullptr;
  int stable = 0;
  for (int i = 0; i < 300 && stable < 10; ++i) {
    const bool one = Owns(*first);
    const bool two = Owns(*second);
    EXPECT_FALSE(one && two);
    TopicLease* now = one ? first.get() : two ? second.get() : nullptr;
    stable = now != nullptr && now == owner ? stable + 1 : 0;
    owner = now;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_NE(owner, nullptr);
  TopicLease* standby = owner == first.get() ? second.get() : first.get();
  ASSERT_OK(owner->Commit(0, 2));
  EXPECT_EQ(standby->Commit(0, 1).code(), StatusCode::kFailedPrecondition);
  // With members, a commit from outside the group is refused too.
  EXPECT_EQ(a->CommitOffset("monitor", "predictions", 0, 1).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> committed,
                       b->CommittedOffset("monitor", "predictions", 0));
  EXPECT_EQ(committed, 2);

  // The owner leaves: the other takes over and resumes from the commit.
  if (owner == first.get()) {
    first.reset();
  } else {
    second.reset();
  }
  TopicLease& successor = first ? *first : *second;
  ASSERT_TRUE(WaitOwned(successor, {0}));
  ASSERT_OK(successor.Commit(0, 3));
  ASSERT_OK_AND_ASSIGN(committed, a->CommittedOffset("monitor", "predictions", 0));
  EXPECT_EQ(committed, 3);
}

TEST_F(KafkaBrokerTest, KeysStayInTheirPartitionAndTheGroupSharesThePartitions) {
  options_.partitions = 4;
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_OK_AND_ASSIGN(int partitions, a->Partitions("predictions"));
  EXPECT_EQ(partitions, 4);
  // 8 keys, 5 events each, interleaved.
  std::vector<Event> events;
  events.reserve(40);
  for (int i = 0; i < 40; ++i) {
    events.push_back(Event{.tenant = "t",
                           .key = "deployment-" + std::to_string(i % 8),
                           .timestamp_ms = 1000 + i,
                           .payload = std::to_string(i)});
  }
  ASSERT_OK(a->Append("predictions", events));
  std::set<int> used;
  size_t total = 0;
  for (int p = 0; p < 4; ++p) {
    ASSERT_OK_AND_ASSIGN(ReadResult page, b->Read("predictions", {.partition = p}));
    total += page.events.size();
    for (const StoredEvent& e : page.events) {
      EXPECT_EQ(e.partition, p);
      EXPECT_EQ(kafka::PartitionForKey(e.event.key, 4), p) << e.event.key;
      used.insert(p);
    }
    ASSERT_OK_AND_ASSIGN(int64_t end, b->EndOffset("predictions", p));
    EXPECT_EQ(end, static_cast<int64_t>(page.events.size()));
  }
  EXPECT_EQ(total, 40u);
  EXPECT_GT(used.size(), 1u);  // 8 keys do not all hash to one of 4 partitions
  // A key's events, in order, from its own partition, whatever partition the options name.
  ASSERT_OK_AND_ASSIGN(
      ReadResult three,
      b->Read("predictions", {.partition = 0, .tenant = "t", .key = "deployment-3"}));
  ASSERT_EQ(three.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(three.events[i].event.payload, std::to_string(3 + 8 * i));
    EXPECT_EQ(three.events[i].partition, kafka::PartitionForKey("deployment-3", 4));
  }
  EXPECT_EQ(b->Read("predictions", {.partition = 4}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->EndOffset("predictions", 7).status().code(), StatusCode::kInvalidArgument);
  // Deleting a key hides its events in its partition only.
  ASSERT_OK(a->DeleteByKey("t", "deployment-3"));
  ASSERT_OK_AND_ASSIGN(three, b->Read("predictions", {.tenant = "t", .key = "deployment-3"}));
  EXPECT_TRUE(three.events.empty());
  ASSERT_OK_AND_ASSIGN(ReadResult five,
                       b->Read("predictions", {.tenant = "t", .key = "deployment-5"}));
  EXPECT_EQ(five.events.size(), 5u);

  // Two members share the four partitions: disjoint, together all of them.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TopicLease> first, a->JoinGroup("monitor", "predictions"));
  ASSERT_TRUE(WaitOwned(*first, {0, 1, 2, 3}));
  const int64_t generation = first->Generation();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TopicLease> second, b->JoinGroup("monitor", "predictions"));
  std::vector<int> one;
  std::vector<int> two;
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK_AND_ASSIGN(one, first->Owned());
    ASSERT_OK_AND_ASSIGN(two, second->Owned());
    if (one.size() == 2 && two.size() == 2) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_GT(first->Generation(), generation);
  std::set<int> all(one.begin(), one.end());
  all.insert(two.begin(), two.end());
  EXPECT_EQ(all, (std::set<int>{0, 1, 2, 3}));
  // Each commits its own partitions only.
  ASSERT_OK(first->Commit(one[0], 1));
  ASSERT_OK(second->Commit(two[0], 2));
  EXPECT_EQ(first->Commit(two[1], 3).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second->Commit(one[1], 3).code(), StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> committed,
                       a->CommittedOffset("monitor", "predictions", two[0]));
  EXPECT_EQ(committed, 2);
  // One leaves: the other gets all four.
  second.reset();
  ASSERT_TRUE(WaitOwned(*first, {0, 1, 2, 3}));
  ASSERT_OK(first->Commit(two[0], 4));
}

TEST(KafkaPartitionerTest, MatchesKafkasMurmur2Partitioner) {
  // Kafka's own test vectors for Utils.murmur2.
  EXPECT_EQ(kafka::Murmur2("21"), -973932308);
  EXPECT_EQ(kafka::Murmur2("foobar"), -790332482);
  EXPECT_EQ(kafka::Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(kafka::Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(kafka::Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(kafka::Murmur2("abc"), 479470107);
  // librdkafka's murmur2 partitioner agrees for every length and count.
  for (int partitions : {1, 2, 3, 7, 64}) {
    for (int length = 1; length < 40; ++length) {
      std::string key;
      for (int i = 0; i < length; ++i)
        key.push_back(static_cast<char>('a' + (i * 7 + length) % 26));
      EXPECT_EQ(kafka::PartitionForKey(key, partitions),
                rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions,
                                                 nullptr, nullptr))
          << key << " / " << partitions;
    }
  }
  EXPECT_EQ(kafka::PartitionForKey("", 8), 0);
}

TEST_F(KafkaBrokerTest, DeletionsByOneProcessHideRecordsFromAnother) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_OK(a->Append(
      "predictions",
      std::vector<Event>{{.tenant = "t", .key = "gone", .timestamp_ms = 5, .payload = "x"},
                         {.tenant = "t", .key = "kept", .timestamp_ms = 6, .payload = "y"}}));
  ASSERT_OK_AND_ASSIGN(ReadResult before, b->Read("predictions", {}));
  EXPECT_EQ(before.events.size(), 2u);
  ASSERT_OK(a->DeleteByKey("t", "gone"));
  ASSERT_OK_AND_ASSIGN(ReadResult after, b->Read("predictions", {}));
  ASSERT_EQ(after.events.size(), 1u);
  EXPECT_EQ(after.events[0].event.key, "kept");
}

// The broker's retention (here DeleteRecords, which moves a partition's start as retention does)
// removes records that a pooled reader fetched before: reads answer with what is left, in order.
TEST_F(KafkaBrokerTest, ReadsAnswerWhatTheBrokersRetentionLeft) {
  auto a = Open();
  ASSERT_TRUE(a);
  ASSERT_OK(a->Append("predictions", MakeEvents(0, 5)));
  // A first read leaves the pooled reader with this partition's earlier assignment.
  ASSERT_OK_AND_ASSIGN(ReadResult all, a->Read("predictions", {}));
  ASSERT_EQ(all.events.size(), 5u);

  auto remove_before = [&](int64_t offset) {
    ASSERT_OK_AND_ASSIGN(kafka::Handle admin, kafka::CreateClient(RD_KAFKA_PRODUCER, options_, {}));
    kafka::PartitionList before = kafka::OnePartition(options_.prefix + ".predictions", 0, offset);
    rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before.get());
    rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
    rd_kafka_DeleteRecords(admin.get(), &request, 1, nullptr, queue);
    rd_kafka_event_t* answer = rd_kafka_queue_poll(queue, 10000);
    ASSERT_NE(answer, nullptr);
    EXPECT_EQ(rd_kafka_event_error(answer), RD_KAFKA_RESP_ERR_NO_ERROR);
    const rd_kafka_topic_partition_list_t* moved =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(answer));
    ASSERT_NE(moved, nullptr);
    EXPECT_EQ(moved->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(moved->elems[0].offset, offset);
    rd_kafka_event_destroy(answer);
    rd_kafka_DeleteRecords_destroy(request);
    rd_kafka_queue_destroy(queue);
  };
  auto offsets = [](const ReadResult& result) {
    std::vector<int64_t> found;
    for (const StoredEvent& e : result.events) found.push_back(e.offset);
    return found;
  };

  remove_before(3);
  ASSERT_OK_AND_ASSIGN(ReadResult oldest, a->Read("predictions", {}));
  EXPECT_EQ(offsets(oldest), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(oldest.events[0].event.payload, "3");
  ASSERT_OK_AND_ASSIGN(ReadResult newest,
                       a->Read("predictions", {.from_offset = kLatestOffset,
                                               .direction = ReadDirection::kNewestFirst}));
  EXPECT_EQ(offsets(newest), (std::vector<int64_t>{4, 3}));

  remove_before(5);
  ASSERT_OK_AND_ASSIGN(ReadResult none, a->Read("predictions", {}));
  EXPECT_TRUE(none.events.empty());
  ASSERT_OK(a->Append("predictions", MakeEvents(5, 1)));
  ASSERT_OK_AND_ASSIGN(ReadResult after, a->Read("predictions", {}));
  EXPECT_EQ(offsets(after), (std::vector<int64_t>{5}));
}

TEST_F(KafkaBrokerTest, RepeatedRetentionKeepsOneCutOffPerTopic) {
  auto a = Open();
  ASSERT_TRUE(a);
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(a->Append("predictions", MakeEvents(i * 10, 10)));
    ASSERT_OK(a->DeleteBefore("predictions", 1000 + i * 10 + 5));
  }
  EXPECT_EQ(a->DeletionCountForTest(), 1u);
  ASSERT_OK(a->DeleteByKey("t", "nobody"));
  EXPECT_EQ(a->DeletionCountForTest(), 2u);
  // Only the newest cut-off hides: events 0..44 are gone, 45..49 stay.
  ASSERT_OK_AND_ASSIGN(ReadResult read, a->Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 5u);
  EXPECT_EQ(read.events[0].event.payload, "45");
  // Another process reading the deletions topic from the start ends with the same list.
  auto b = Open();
  ASSERT_TRUE(b);
  ASSERT_OK_AND_ASSIGN(ReadResult other, b->Read("predictions", {}));
  EXPECT_EQ(other.events.size(), 5u);
  EXPECT_EQ(b->DeletionCountForTest(), 2u);
}

}  // namespace
}  // namespace cairn::stream
