// What is particular to the SQLite log: how it is named by URI and registered, and what it
// leaves in its file. Behaviour shared with every backend is in event_stream_conformance_test.cc.

#include "stream/sqlite/sqlite_event_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "stream/event_stream_factory.h"
#include "stream/stream_test_util.h"

namespace cairn::stream {
namespace {

using testing_util::TempDir;

std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(SqliteEventStreamTest, OpensByUriAndByBarePath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  EventStreamRegistry registry;
  ASSERT_OK(RegisterSqliteEventStream(registry));
  EXPECT_EQ(RegisterSqliteEventStream(registry).code(), StatusCode::kAlreadyExists);

  // Four slashes: an absolute path; missing parent directories are created.
  std::string by_uri = dir.path() + "/a/b/events.db";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventStream> stream,
                       CreateEventStream(registry, "sqlite:///" + by_uri + "?readers=2"));
  ASSERT_OK(stream->Append("predictions", std::vector<Event>{{.tenant = "t", .payload = "p"}}));
  EXPECT_TRUE(std::filesystem::exists(by_uri));
  stream.reset();

  std::string bare = dir.path() + "/data/events.db";
  ASSERT_OK_AND_ASSIGN(stream, CreateEventStream(registry, bare));
  ASSERT_OK(stream->Append("predictions", std::vector<Event>{{.tenant = "t", .payload = "p"}}));
  EXPECT_TRUE(std::filesystem::exists(bare));
  stream.reset();

  ASSERT_OK_AND_ASSIGN(stream, CreateEventStream(registry, "sqlite:///:memory:"));
  ASSERT_OK(stream->Append("predictions", std::vector<Event>{{.tenant = "t", .payload = "p"}}));
  ASSERT_OK_AND_ASSIGN(ReadResult read, stream->Read("predictions", {}));
  EXPECT_EQ(read.events.size(), 1u);
}

TEST(SqliteEventStreamTest, RefusesUnknownSchemesAndOptions) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  EventStreamRegistry registry;
  ASSERT_OK(RegisterSqliteEventStream(registry));
  EXPECT_EQ(CreateEventStream(registry, "kafka://broker:9092").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CreateEventStream(registry, "sqlite:///" + dir.path() + "/e.db?fast=yes").status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateEventStream(registry, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteEventStreamTest, KeepsItsOwnSchemaInItsOwnFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteEventStream> stream,
                       SqliteEventStream::Open(dir.path() + "/events.db"));
  ASSERT_OK_AND_ASSIGN(int version, stream->DatabaseForTest().SchemaVersionForTest());
  EXPECT_EQ(version, 1);
  EXPECT_EQ(stream->DatabaseForTest().path(), dir.path() + "/events.db");
}

// An erased person's payloads do not stay in free pages of the file.
TEST(SqliteEventStreamTest, ErasedPayloadsAreOverwrittenInTheFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.path() + "/events.db";
  const std::string secret = "very-secret-personal-data-0123456789";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteEventStream> stream, SqliteEventStream::Open(path));
    std::vector<Event> batch;
    for (int i = 0; i < 50; ++i) {
      batch.push_back({.tenant = "t", .key = "d", .subject_id = "alice", .payload = secret});
      batch.push_back({.tenant = "t", .key = "d", .payload = std::string(3000, 'k')});
    }
    batch.push_back({.tenant = "t",
                     .key = "d",
                     .subject_id = "alice",
                     .payload = secret + std::string(20000, 'z')});  // overflow pages too
    ASSERT_OK(stream->Append("predictions", batch));
  }
  // Closed: the WAL has been checkpointed into the file.
  ASSERT_NE(FileContents(path).find(secret), std::string::npos);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteEventStream> stream, SqliteEventStream::Open(path));
    ASSERT_OK(stream->DeleteBySubject("t", "alice"));
    ASSERT_OK_AND_ASSIGN(ReadResult read, stream->Read("predictions", {.max_events = 1000}));
    EXPECT_EQ(read.events.size(), 50u);
  }
  EXPECT_EQ(FileContents(path).find(secret), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal") &&
               FileContents(path + "-wal").find(secret) != std::string::npos);
}

}  // namespace
}  // namespace cairn::stream
