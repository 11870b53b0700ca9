#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sqlite/database.h"
#include "stream/event_stream.h"
#include "stream/event_stream_factory.h"

namespace cairn::stream {

// The embedded event log: every topic in one SQLite file of its own (`<data-dir>/events.db`,
// never meta.db, so prediction traffic does not contend with the metadata writer), through
// sqlite::Database (one writer with group commit, so concurrent appends share commits; a pool
// of readers that read while it writes).
//
// Layout: every topic has one partition (0). One row per event with the indexed fields in columns
// (topic, offset, tenant, key, subject, timestamp) and the payload as a BLOB; a per-topic counter
// of the next offset, so offsets are never reused after deletes; committed offsets per (consumer,
// topic). Reads filtered by tenant and key walk the (tenant, key, topic, offset) index in either
// direction; unfiltered reads walk (topic, offset); a tenant-only filter also walks (topic, offset)
// and skips other tenants' rows. Deleted payloads are overwritten with zeros in the file
// (secure_delete). Schema history: kSqliteEventStreamMigrations in the .cc, applied at open.
//
// Thread-safe, as EventStream requires; several processes may open the same file (SQLite's
// locks; the busy timeout waits for the other writer).
class SqliteEventStream final : public EventStream {
 public:
  // Opens or creates the log at `path` (the parent directory must exist; ":memory:" gives a
  // private in-memory log, for tests).
  static StatusOr<std::unique_ptr<SqliteEventStream>> Open(const std::string& path,
                                                           sqlite::DatabaseOptions options = {});

  StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                        std::span<const Event> events) override;
  StatusOr<ReadResult> Read(std::string_view topic, const ReadOptions& options) override;
  // One partition per topic.
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

  sqlite::Database& DatabaseForTest() { return *db_; }

 private:
  explicit SqliteEventStream(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Database> db_;
};

// Registers "sqlite" in `registry`: sqlite:///relative/events.db, sqlite:////abs/events.db,
// sqlite:///:memory: (tests), with the query options of sqlite/sqlite_uri.h (synchronous,
// readers); a bare path (CreateEventStream maps it to "sqlite") is the file path itself.
// Parent directories are created.
Status RegisterSqliteEventStream(EventStreamRegistry& registry);

}  // namespace cairn::stream
