// Behaviour every EventStream must show, run once per backend. A backend that cannot start here
// (UNAVAILABLE from its open function) skips its instantiation instead of failing. A backend
// joins by adding an entry to kBackends.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/test_services.h"
#include "stream/event_stream.h"
#include "stream/kafka/kafka_event_stream.h"
#include "stream/sqlite/sqlite_event_stream.h"
#include "stream/stream_test_util.h"

namespace cairn::stream {
namespace {

using testing_util::TempDir;

struct Backend {
  std::string name;
  // Opens the log whose state lives under `dir`; opening the same dir again sees the same data.
  std::function<StatusOr<std::unique_ptr<EventStream>>(const std::string& dir)> open;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

StatusOr<std::unique_ptr<EventStream>> OpenSqlite(const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteEventStream> stream,
                   SqliteEventStream::Open(dir + "/events.db"));
  return std::unique_ptr<EventStream>(std::move(stream));
}

// Reads on the writer connection.
StatusOr<std::unique_ptr<EventStream>> OpenSqliteNoReaders(const std::string& dir) {
  sqlite::DatabaseOptions options;
  options.reader_connections = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteEventStream> stream,
                   SqliteEventStream::Open(dir + "/events.db", options));
  return std::unique_ptr<EventStream>(std::move(stream));
}

// The broker scripts/services/kafka.sh starts (CAIRN_TEST_KAFKA_URI); each test directory gets
// its own topic prefix, so opening the same directory again sees the same topics.
StatusOr<std::unique_ptr<EventStream>> OpenKafka(const std::string& dir) {
  std::optional<std::string> uri = testing_services::ServiceUri("KAFKA");
  if (!uri) {
    if (testing_services::ServicesRequired()) {
      return Internal("CAIRN_TEST_KAFKA_URI is unset but CAIRN_REQUIRE_SERVICES=1");
    }
    return Unavailable("CAIRN_TEST_KAFKA_URI is unset (scripts/test_services.sh starts Kafka)");
  }
  ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(*uri));
  ASSIGN_OR_RETURN(KafkaOptions options, KafkaOptions::FromUri(parsed));
  options.prefix += "." + std::filesystem::path(dir).filename().string();
  options.linger_ms = 1;
  ASSIGN_OR_RETURN(std::unique_ptr<KafkaEventStream> stream,
                   KafkaEventStream::Open(std::move(options)));
  return std::unique_ptr<EventStream>(std::move(stream));
}

const Backend kBackends[] = {
    {"Sqlite", OpenSqlite},
    {"SqliteNoReaders", OpenSqliteNoReaders},
    {"Kafka", OpenKafka},
};

Event MakeEvent(std::string tenant, std::string key, int64_t timestamp_ms, std::string payload,
                std::optional<std::string> subject = std::nullopt) {
  return Event{.tenant = std::move(tenant),
               .key = std::move(key),
               .timestamp_ms = timestamp_ms,
               .subject_id = std::move(subject),
               .payload = std::move(payload)};
}

std::vector<int64_t> Offsets(const std::vector<StoredEvent>& events) {
  std::vector<int64_t> out;
  for (const StoredEvent& e : events) out.push_back(e.offset);
  return out;
}

std::vector<std::string> Payloads(const std::vector<StoredEvent>& events) {
  std::vector<std::string> out;
  for (const StoredEvent& e : events) out.push_back(e.event.payload);
  return out;
}

class EventStreamConformanceTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto opened = GetParam().open(dir_.path());
    if (!opened.ok() && opened.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << GetParam().name << " unavailable: " << opened.status().ToString();
    }
    ASSERT_OK(opened);
    stream_ = std::move(opened).value();
  }

  void Reopen() {
    stream_.reset();
    auto opened = GetParam().open(dir_.path());
    ASSERT_OK(opened);
    stream_ = std::move(opened).value();
  }

  // Every event matching `options`, following next_offset page by page.
  std::vector<StoredEvent> ReadAll(std::string_view topic, ReadOptions options) {
    std::vector<StoredEvent> all;
    for (int pages = 0; pages < 10000; ++pages) {
      auto page = stream_->Read(topic, options);
      EXPECT_OK(page);
      if (!page.ok()) break;
      all.insert(all.end(), page->events.begin(), page->events.end());
      if (static_cast<int>(page->events.size()) < options.max_events || page->next_offset < 0) {
        break;
      }
      options.from_offset = page->next_offset;
    }
    return all;
  }

  EventStream& stream() { return *stream_; }

  TempDir dir_;
  std::unique_ptr<EventStream> stream_;
};

TEST_P(EventStreamConformanceTest, EmptyTopicReadsEmpty) {
  ASSERT_OK_AND_ASSIGN(ReadResult oldest, stream().Read("predictions", {}));
  EXPECT_TRUE(oldest.events.empty());
  EXPECT_EQ(oldest.next_offset, 0);
  ASSERT_OK_AND_ASSIGN(ReadResult newest,
                       stream().Read("predictions", {.from_offset = kLatestOffset,
                                                     .direction = ReadDirection::kNewestFirst}));
  EXPECT_TRUE(newest.events.empty());
  ASSERT_OK_AND_ASSIGN(int64_t end, stream().EndOffset("predictions", 0));
  EXPECT_EQ(end, 0);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> at, stream().OffsetForTimestamp("predictions", 0, 0));
  EXPECT_FALSE(at.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> committed,
                       stream().CommittedOffset("monitor", "predictions", 0));
  EXPECT_FALSE(committed.has_value());
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> none, stream().Append("predictions", {}));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(end, stream().EndOffset("predictions", 0));
  EXPECT_EQ(end, 0);
}

TEST_P(EventStreamConformanceTest, OffsetsAscendPerTopicFromZero) {
  std::vector<Event> batch = {MakeEvent("t", "d", 1, "a"), MakeEvent("t", "d", 2, "b"),
                              MakeEvent("t", "d", 3, "c")};
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> first, stream().Append("predictions", batch));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> other, stream().Append("labels", batch));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> second, stream().Append("predictions", batch));
  EXPECT_EQ(first, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(other, (std::vector<int64_t>{0, 1, 2}));  // topics count on their own
  ASSERT_EQ(second.size(), 3u);
  EXPECT_GT(second[0], first.back());
  EXPECT_TRUE(std::is_sorted(second.begin(), second.end()));
  ASSERT_OK_AND_ASSIGN(int64_t end, stream().EndOffset("predictions", 0));
  EXPECT_GT(end, second.back());

  std::vector<StoredEvent> all = ReadAll("predictions", {.max_events = 2});
  EXPECT_EQ(Offsets(all),
            (std::vector<int64_t>{first[0], first[1], first[2], second[0], second[1], second[2]}));
  EXPECT_EQ(Payloads(all), (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_P(EventStreamConformanceTest, ReadsBackEveryField) {
  std::string binary("\0\x01\xff payload", 11);
  std::vector<Event> batch = {MakeEvent("tenant-1", "dep-1", 1700000000123, binary, "user-9"),
                              MakeEvent("tenant-1", "", -5, "", std::nullopt)};
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> offsets, stream().Append("predictions", batch));
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream().Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[0].offset, offsets[0]);
  EXPECT_EQ(read.events[0].event, batch[0]);
  EXPECT_EQ(read.events[1].event, batch[1]);
  EXPECT_EQ(read.next_offset, offsets[1] + 1);
}

TEST_P(EventStreamConformanceTest, PagesOneDeploymentBothDirections) {
  // Two deployments of one tenant and the same key in another tenant, interleaved.
  std::vector<Event> batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    batch.push_back(MakeEvent("t1", "dep-a", i, "a" + std::to_string(i)));
    batch.push_back(MakeEvent("t1", "dep-b", i, "b" + std::to_string(i)));
    batch.push_back(MakeEvent("t2", "dep-a", i, "x" + std::to_string(i)));
    expected.push_back("a" + std::to_string(i));
  }
  ASSERT_OK(stream().Append("predictions", batch));

  ReadOptions oldest{.max_events = 4, .tenant = "t1", .key = "dep-a"};
  EXPECT_EQ(Payloads(ReadAll("predictions", oldest)), expected);

  ReadOptions newest{.from_offset = kLatestOffset,
                     .direction = ReadDirection::kNewestFirst,
                     .max_events = 4,
                     .tenant = "t1",
                     .key = "dep-a"};
  std::vector<StoredEvent> backwards = ReadAll("predictions", newest);
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(Payloads(backwards), expected);
  std::vector<int64_t> offsets = Offsets(backwards);
  EXPECT_TRUE(std::is_sorted(offsets.rbegin(), offsets.rend()));

  // One page, then the next from where it stopped.
  ASSERT_OK_AND_ASSIGN(ReadResult page, stream().Read("predictions", newest));
  ASSERT_EQ(page.events.size(), 4u);
  EXPECT_EQ(page.next_offset, page.events.back().offset - 1);
  newest.from_offset = page.next_offset;
  ASSERT_OK_AND_ASSIGN(ReadResult next, stream().Read("predictions", newest));
  ASSERT_EQ(next.events.size(), 4u);
  EXPECT_EQ(next.events[0].event.payload, expected[4]);
}

TEST_P(EventStreamConformanceTest, FiltersKeepTenantsApart) {
  ASSERT_OK(stream().Append("predictions", std::vector<Event>{
                                               MakeEvent("t1", "dep", 1, "t1-1"),
                                               MakeEvent("t2", "dep", 2, "t2-1"),
                                               MakeEvent("t1", "other", 3, "t1-2"),
                                               MakeEvent("t2", "dep", 4, "t2-2"),
                                           }));
  EXPECT_EQ(Payloads(ReadAll("predictions", {.tenant = "t1", .key = "dep"})),
            (std::vector<std::string>{"t1-1"}));
  EXPECT_EQ(Payloads(ReadAll("predictions", {.tenant = "t2", .key = "dep"})),
            (std::vector<std::string>{"t2-1", "t2-2"}));
  EXPECT_EQ(Payloads(ReadAll("predictions", {.max_events = 1, .tenant = "t1"})),
            (std::vector<std::string>{"t1-1", "t1-2"}));
  EXPECT_TRUE(ReadAll("predictions", {.tenant = "t3"}).empty());

  // Deleting one tenant's deployment leaves the same key of another tenant alone.
  ASSERT_OK(stream().DeleteByKey("t1", "dep"));
  EXPECT_TRUE(ReadAll("predictions", {.tenant = "t1", .key = "dep"}).empty());
  EXPECT_EQ(ReadAll("predictions", {.tenant = "t2", .key = "dep"}).size(), 2u);
  EXPECT_EQ(ReadAll("predictions", {.tenant = "t1", .key = "other"}).size(), 1u);
}

TEST_P(EventStreamConformanceTest, CommittedOffsetsSurviveReopen) {
  ASSERT_OK(stream().Append("predictions", std::vector<Event>(5, MakeEvent("t", "d", 1, "p"))));
  ASSERT_OK(stream().CommitOffset("monitor", "predictions", 0, 3));
  ASSERT_OK(stream().CommitOffset("monitor", "labels", 0, 7));
  ASSERT_OK(stream().CommitOffset("exporter", "predictions", 0, 1));
  Reopen();
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> monitor,
                       stream().CommittedOffset("monitor", "predictions", 0));
  EXPECT_EQ(monitor, 3);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> labels,
                       stream().CommittedOffset("monitor", "labels", 0));
  EXPECT_EQ(labels, 7);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> exporter,
                       stream().CommittedOffset("exporter", "predictions", 0));
  EXPECT_EQ(exporter, 1);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> nobody,
                       stream().CommittedOffset("nobody", "predictions", 0));
  EXPECT_FALSE(nobody.has_value());

  // A restarted consumer resumes where it committed: neither skipping nor repeating.
  ASSERT_OK_AND_ASSIGN(ReadResult rest, stream().Read("predictions", {.from_offset = *monitor}));
  EXPECT_EQ(Offsets(rest.events), (std::vector<int64_t>{3, 4}));

  // A commit may rewind.
  ASSERT_OK(stream().CommitOffset("monitor", "predictions", 0, 0));
  ASSERT_OK_AND_ASSIGN(monitor, stream().CommittedOffset("monitor", "predictions", 0));
  EXPECT_EQ(monitor, 0);
}

TEST_P(EventStreamConformanceTest, EventsSurviveReopenAndOffsetsContinue) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> before,
      stream().Append("predictions", std::vector<Event>(3, MakeEvent("t", "d", 1, "p"))));
  Reopen();
  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> after,
      stream().Append("predictions", std::vector<Event>(1, MakeEvent("t", "d", 1, "q"))));
  EXPECT_GT(after[0], before.back());
  EXPECT_EQ(ReadAll("predictions", {}).size(), 4u);
}

TEST_P(EventStreamConformanceTest, DeleteByKeyRemovesEveryTopicAndNeverReusesOffsets) {
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> first,
                       stream().Append("predictions", std::vector<Event>{
                                                          MakeEvent("t", "keep", 1, "k"),
                                                          MakeEvent("t", "gone", 2, "g1"),
                                                          MakeEvent("t", "gone", 3, "g2"),
                                                      }));
  ASSERT_OK(stream().Append("labels", std::vector<Event>{MakeEvent("t", "gone", 4, "label")}));
  ASSERT_OK(stream().DeleteByKey("t", "gone"));
  ASSERT_OK(stream().DeleteByKey("t", "gone"));  // idempotent
  EXPECT_EQ(Payloads(ReadAll("predictions", {})), (std::vector<std::string>{"k"}));
  EXPECT_TRUE(ReadAll("labels", {}).empty());

  // The newest events were deleted; their offsets still are not handed out again.
  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> next,
      stream().Append("predictions", std::vector<Event>{MakeEvent("t", "gone", 5, "new")}));
  EXPECT_GT(next[0], first.back());
  EXPECT_EQ(Payloads(ReadAll("predictions", {.tenant = "t", .key = "gone"})),
            (std::vector<std::string>{"new"}));
}

TEST_P(EventStreamConformanceTest, DeleteBySubjectErasesOnlyThatPersonInThatTenant) {
  ASSERT_OK(stream().Append("predictions", std::vector<Event>{
                                               MakeEvent("t", "d1", 1, "alice-1", "alice"),
                                               MakeEvent("t", "d2", 2, "bob", "bob"),
                                               MakeEvent("t", "d1", 3, "anon"),
                                               MakeEvent("u", "d1", 4, "other-alice", "alice"),
                                           }));
  ASSERT_OK(stream().Append("labels",
                            std::vector<Event>{MakeEvent("t", "d2", 5, "alice-label", "alice")}));
  ASSERT_OK(stream().DeleteBySubject("t", "alice"));
  EXPECT_EQ(Payloads(ReadAll("predictions", {})),
            (std::vector<std::string>{"bob", "anon", "other-alice"}));
  EXPECT_TRUE(ReadAll("labels", {}).empty());
  ASSERT_OK(stream().DeleteBySubject("t", "nobody"));
}

TEST_P(EventStreamConformanceTest, DeleteBeforeRemovesOldEventsOfOneTopic) {
  ASSERT_OK(stream().Append("predictions", std::vector<Event>{
                                               MakeEvent("t", "d1", 100, "old"),
                                               MakeEvent("u", "d2", 150, "old-other-tenant"),
                                               MakeEvent("t", "d1", 200, "new"),
                                           }));
  ASSERT_OK(stream().Append("labels", std::vector<Event>{MakeEvent("t", "d1", 50, "label")}));
  ASSERT_OK(stream().DeleteBefore("predictions", 200));
  EXPECT_EQ(Payloads(ReadAll("predictions", {})), (std::vector<std::string>{"new"}));
  EXPECT_EQ(Payloads(ReadAll("labels", {})), (std::vector<std::string>{"label"}));
  // Offsets are not reused.
  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> offsets,
      stream().Append("predictions", std::vector<Event>{MakeEvent("t", "d1", 300, "newer")}));
  EXPECT_EQ(offsets, std::vector<int64_t>{3});
  EXPECT_EQ(stream().DeleteBefore("bad topic!", 0).code(), StatusCode::kInvalidArgument);
}

TEST_P(EventStreamConformanceTest, KeepsLargePayloads) {
  std::string large(1 << 20, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 % 251);
  ASSERT_OK(stream().Append("predictions", std::vector<Event>{MakeEvent("t", "d", 1, large),
                                                              MakeEvent("t", "d", 2, "small")}));
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream().Read("predictions", {}));
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_TRUE(read.events[0].event.payload == large);
  EXPECT_EQ(read.events[1].event.payload, "small");
}

TEST_P(EventStreamConformanceTest, FindsTheFirstOffsetAtATime) {
  ASSERT_OK(stream().Append("predictions", std::vector<Event>{
                                               MakeEvent("t", "d", 100, "a"),
                                               MakeEvent("t", "d", 200, "b"),
                                               MakeEvent("t", "d", 200, "c"),
                                               MakeEvent("t", "d", 300, "d"),
                                           }));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> at, stream().OffsetForTimestamp("predictions", 0, 0));
  EXPECT_EQ(at, 0);
  ASSERT_OK_AND_ASSIGN(at, stream().OffsetForTimestamp("predictions", 0, 150));
  EXPECT_EQ(at, 1);
  ASSERT_OK_AND_ASSIGN(at, stream().OffsetForTimestamp("predictions", 0, 300));
  EXPECT_EQ(at, 3);
  ASSERT_OK_AND_ASSIGN(at, stream().OffsetForTimestamp("predictions", 0, 301));
  EXPECT_FALSE(at.has_value());
}

TEST_P(EventStreamConformanceTest, RejectsInvalidArguments) {
  auto expect_invalid = [](const Status& s) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  };
  std::vector<Event> one = {MakeEvent("t", "d", 1, "p")};
  expect_invalid(stream().Append("", one).status());
  expect_invalid(stream().Append("has space", one).status());
  expect_invalid(stream().Append(std::string(250, 'a'), one).status());
  expect_invalid(
      stream().Append("predictions", std::vector<Event>{MakeEvent("", "d", 1, "p")}).status());
  expect_invalid(
      stream()
          .Append("predictions", std::vector<Event>{MakeEvent(
                                     "t", "d", 1, std::string(kMaxPayloadBytes + 1, 'x'))})
          .status());
  expect_invalid(stream().Read("predictions", {.key = "d"}).status());
  expect_invalid(stream().Read("predictions", {.tenant = ""}).status());
  expect_invalid(stream().Read("predictions", {.max_events = 0}).status());
  expect_invalid(stream().Read("predictions", {.max_events = kMaxReadEvents + 1}).status());
  expect_invalid(stream().Read("predictions", {.from_offset = -1}).status());
  expect_invalid(stream().CommitOffset("bad consumer", "predictions", 0, 1));
  expect_invalid(stream().CommitOffset("monitor", "predictions", 0, -1));
  expect_invalid(stream().CommittedOffset("", "predictions", 0).status());
  expect_invalid(stream().DeleteByKey("", "d"));
  expect_invalid(stream().DeleteBySubject("", "s"));
  // Partitions the topic does not have (the backends of this suite give topics one).
  ASSERT_OK(stream().Append("labels", one).status());
  ASSERT_OK_AND_ASSIGN(int partitions, stream().Partitions("labels"));
  EXPECT_EQ(partitions, 1);
  expect_invalid(stream().Read("labels", {.partition = -1}).status());
  expect_invalid(stream().Read("labels", {.partition = 1}).status());
  expect_invalid(stream().EndOffset("labels", 1).status());
  expect_invalid(stream().CommitOffset("monitor", "labels", 1, 0));
  expect_invalid(stream().CommittedOffset("monitor", "labels", -1).status());
  expect_invalid(stream().OffsetForTimestamp("labels", 2, 0).status());
  // Nothing of the rejected batches was appended.
  ASSERT_OK_AND_ASSIGN(int64_t end, stream().EndOffset("predictions", 0));
  EXPECT_EQ(end, 0);
}

// Several threads append and read at once: every event gets one distinct offset, each batch's
// offsets ascend, and each thread sees its own events in the order it appended them.
TEST_P(EventStreamConformanceTest, ConcurrentAppendsAndReads) {
  constexpr int kThreads = 6;
  constexpr int kBatches = 30;
  constexpr int kBatchSize = 7;
  std::atomic<bool> failed{false};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> offsets(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Event> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(MakeEvent("t", "dep-" + std::to_string(t), b,
                                    std::to_string(t) + ":" + std::to_string(b * kBatchSize + i)));
        }
        auto appended = stream().Append("predictions", batch);
        if (!appended.ok() || !std::is_sorted(appended->begin(), appended->end())) {
          failed = true;
          return;
        }
        offsets[t].insert(offsets[t].end(), appended->begin(), appended->end());
      }
    });
  }
  std::thread reader([&] {
    int64_t next = 0;
    while (writing) {
      auto page = stream().Read("predictions", {.from_offset = next, .max_events = 50});
      if (!page.ok()) {
        failed = true;
        return;
      }
      for (const StoredEvent& e : page->events) {
        if (e.offset < next) failed = true;  // a reader never sees offsets go backwards
      }
      next = page->next_offset;
    }
  });
  for (std::thread& th : threads) th.join();
  writing = false;
  reader.join();
  ASSERT_FALSE(failed);

  std::set<int64_t> distinct;
  for (const auto& per_thread : offsets) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    distinct.insert(per_thread.begin(), per_thread.end());
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kBatches * kBatchSize));
  std::vector<StoredEvent> all = ReadAll("predictions", {.max_events = 500});
  ASSERT_EQ(all.size(), distinct.size());
  std::map<std::string, int> next_index;
  for (const StoredEvent& e : all) {
    size_t colon = e.event.payload.find(':');
    std::string thread = e.event.payload.substr(0, colon);
    EXPECT_EQ(std::stoi(e.event.payload.substr(colon + 1)), next_index[thread]++);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EventStreamConformanceTest, testing::ValuesIn(kBackends),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace cairn::stream
