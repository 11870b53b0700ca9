#include "stream/sqlite/sqlite_event_stream.h"

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "sqlite/connection.h"
#include "sqlite/migrator.h"
#include "sqlite/sqlite_uri.h"

namespace cairn::stream {
namespace {

// Append only: a released step is never edited (see sqlite/migrator.h).
const std::vector<sqlite::Migration>& SqliteEventStreamMigrations() {
  static const std::vector<sqlite::Migration> kSteps = {
      {1, "topics, events, consumer offsets", R"sql(
CREATE TABLE topics (
  topic TEXT PRIMARY KEY,
  next_offset INTEGER NOT NULL
) WITHOUT ROWID;
-- A rowid table: payloads are often larger than a WITHOUT ROWID row should be.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  event_offset INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  event_key TEXT NOT NULL,
  subject TEXT,
  timestamp_ms INTEGER NOT NULL,
  payload BLOB NOT NULL
);
CREATE UNIQUE INDEX events_by_offset ON events (topic, event_offset);
CREATE INDEX events_by_key ON events (tenant, event_key, topic, event_offset);
CREATE INDEX events_by_subject ON events (tenant, subject) WHERE subject IS NOT NULL;
CREATE INDEX events_by_time ON events (topic, timestamp_ms, event_offset);
CREATE TABLE consumer_offsets (
  consumer TEXT NOT NULL,
  topic TEXT NOT NULL,
  committed_offset INTEGER NOT NULL,
  PRIMARY KEY (consumer, topic)
) WITHOUT ROWID;
)sql"},
  };
  return kSteps;
}

constexpr std::string_view kColumns =
    "SELECT event_offset, tenant, event_key, subject, timestamp_ms, payload FROM events ";

// One statement text per (filter, direction), each kept prepared by the connections. ?1 topic,
// ?2 from offset, ?3 limit, ?4 tenant, ?5 key. The key reads name their index: the planner
// could otherwise prefer walking (topic, offset) for the ORDER BY.
const std::string& ReadSql(bool tenant, bool key, ReadDirection direction) {
  static const std::string kSql[3][2] = {
      {std::string(kColumns) +
           "INDEXED BY events_by_offset WHERE topic = ?1 AND event_offset >= ?2 "
           "ORDER BY event_offset ASC LIMIT ?3",
       std::string(kColumns) +
           "INDEXED BY events_by_offset WHERE topic = ?1 AND event_offset <= ?2 "
           "ORDER BY event_offset DESC LIMIT ?3"},
      {std::string(kColumns) +
           "INDEXED BY events_by_offset WHERE topic = ?1 AND event_offset >= ?2 AND tenant = ?4 "
           "ORDER BY event_offset ASC LIMIT ?3",
       std::string(kColumns) +
           "INDEXED BY events_by_offset WHERE topic = ?1 AND event_offset <= ?2 AND tenant = ?4 "
           "ORDER BY event_offset DESC LIMIT ?3"},
      {std::string(kColumns) +
           "INDEXED BY events_by_key WHERE tenant = ?4 AND event_key = ?5 AND topic = ?1 "
           "AND event_offset >= ?2 ORDER BY event_offset ASC LIMIT ?3",
       std::string(kColumns) +
           "INDEXED BY events_by_key WHERE tenant = ?4 AND event_key = ?5 AND topic = ?1 "
           "AND event_offset <= ?2 ORDER BY event_offset DESC LIMIT ?3"},
  };
  int filter = key ? 2 : (tenant ? 1 : 0);
  return kSql[filter][direction == ReadDirection::kOldestFirst ? 0 : 1];
}

Status CreateParentDirectory(const std::string& path) {
  if (path == ":memory:") return Status::Ok();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Unavailable("cannot create directory '" + parent.string() + "': " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<SqliteEventStream>> SqliteEventStream::Open(
    const std::string& path, sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                   sqlite::Database::Open(path, SqliteEventStreamMigrations(), options));
  // Erased events (DeleteBySubject) must not stay readable in free pages of the file. Only the
  // writer connection deletes.
  RETURN_IF_ERROR(db->Write(
      [](sqlite::Connection& c) -> Status { return c.Exec("PRAGMA secure_delete = ON"); }));
  return std::unique_ptr<SqliteEventStream>(new SqliteEventStream(std::move(db)));
}

StatusOr<std::vector<int64_t>> SqliteEventStream::Append(std::string_view topic,
                                                         std::span<const Event> events) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidateEvents(events));
  std::vector<int64_t> offsets;
  if (events.empty()) return offsets;
  RETURN_IF_ERROR(db_->Write([&](sqlite::Connection& c) -> Status {
    offsets.clear();
    const auto count = static_cast<int64_t>(events.size());
    // Reserves [end - count, end) for this batch; the writer runs one write at a time.
    ASSIGN_OR_RETURN(sqlite::Statement reserve,
                     c.Prepare("INSERT INTO topics (topic, next_offset) VALUES (?1, ?2) "
                               "ON CONFLICT (topic) DO UPDATE SET next_offset = next_offset + ?2 "
                               "RETURNING next_offset"));
    reserve.Bind(topic, count);
    ASSIGN_OR_RETURN(bool row, reserve.Step());
    if (!row) return Internal("reserving offsets returned no row");
    int64_t next = reserve.Int(0) - count;
    reserve.Reset();
    ASSIGN_OR_RETURN(sqlite::Statement insert,
                     c.Prepare("INSERT INTO events (topic, event_offset, tenant, event_key, "
                               "subject, timestamp_ms, payload) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    offsets.reserve(events.size());
    for (const Event& e : events) {
      insert.Bind(topic, next, e.tenant, e.key, e.subject_id, e.timestamp_ms,
                  sqlite::Blob{e.payload});
      RETURN_IF_ERROR(insert.Run());
      insert.Reset();
      offsets.push_back(next++);
    }
    return Status::Ok();
  }));
  return offsets;
}

StatusOr<ReadResult> SqliteEventStream::Read(std::string_view topic, const ReadOptions& options) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidateReadOptions(options));
  if (!options.key) RETURN_IF_ERROR(ValidatePartition(options.partition, 1));
  ReadResult result;
  RETURN_IF_ERROR(db_->Read([&](sqlite::Connection& c) -> Status {
    result.events.clear();
    ASSIGN_OR_RETURN(
        sqlite::Statement st,
        c.Prepare(ReadSql(options.tenant.has_value(), options.key.has_value(), options.direction)));
    st.BindText(1, topic);
    st.BindInt(2, options.from_offset);
    st.BindInt(3, options.max_events);
    if (options.tenant) st.BindText(4, *options.tenant);
    if (options.key) st.BindText(5, *options.key);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      StoredEvent& out = result.events.emplace_back();
      out.offset = st.Int(0);
      out.event.tenant = st.Text(1);
      out.event.key = st.Text(2);
      out.event.subject_id = st.OptionalText(3);
      out.event.timestamp_ms = st.Int(4);
      out.event.payload = std::string(st.BlobView(5));
    }
    return Status::Ok();
  }));
  if (result.events.empty()) {
    result.next_offset = options.from_offset;
  } else if (options.direction == ReadDirection::kOldestFirst) {
    result.next_offset = result.events.back().offset + 1;
  } else {
    result.next_offset = result.events.back().offset - 1;
  }
  return result;
}

StatusOr<int> SqliteEventStream::Partitions(std::string_view topic) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  return 1;
}

StatusOr<int64_t> SqliteEventStream::EndOffset(std::string_view topic, int partition) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidatePartition(partition, 1));
  return db_->ReadValue([&](sqlite::Connection& c) -> StatusOr<int64_t> {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("SELECT next_offset FROM topics WHERE topic = ?"));
    st.Bind(topic);
    ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? st.Int(0) : int64_t{0};
  });
}

StatusOr<std::optional<int64_t>> SqliteEventStream::OffsetForTimestamp(std::string_view topic,
                                                                       int partition,
                                                                       int64_t timestamp_ms) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidatePartition(partition, 1));
  return db_->ReadValue([&](sqlite::Connection& c) -> StatusOr<std::optional<int64_t>> {
    // Index-only over the events at or after the timestamp.
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("SELECT MIN(event_offset) FROM events INDEXED BY events_by_time "
                               "WHERE topic = ? AND timestamp_ms >= ?"));
    st.Bind(topic, timestamp_ms);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<int64_t>();
    return st.OptionalInt(0);
  });
}

Status SqliteEventStream::CommitOffset(std::string_view consumer, std::string_view topic,
                                       int partition, int64_t offset) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidatePartition(partition, 1));
  RETURN_IF_ERROR(ValidateOffset(offset));
  return db_->Write([&](sqlite::Connection& c) -> Status {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("INSERT INTO consumer_offsets (consumer, topic, committed_offset) "
                               "VALUES (?, ?, ?) ON CONFLICT (consumer, topic) DO UPDATE SET "
                               "committed_offset = excluded.committed_offset"));
    st.Bind(consumer, topic, offset);
    return st.Run();
  });
}

StatusOr<std::optional<int64_t>> SqliteEventStream::CommittedOffset(std::string_view consumer,
                                                                    std::string_view topic,
                                                                    int partition) {
  RETURN_IF_ERROR(ValidateConsumer(consumer));
  RETURN_IF_ERROR(ValidateTopic(topic));
  RETURN_IF_ERROR(ValidatePartition(partition, 1));
  return db_->ReadValue([&](sqlite::Connection& c) -> StatusOr<std::optional<int64_t>> {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("SELECT committed_offset FROM consumer_offsets "
                               "WHERE consumer = ? AND topic = ?"));
    st.Bind(consumer, topic);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(st.Int(0));
  });
}

Status SqliteEventStream::DeleteByKey(std::string_view tenant, std::string_view key) {
  if (tenant.empty()) return InvalidArgument("delete: tenant is empty");
  return db_->Write([&](sqlite::Connection& c) -> Status {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("DELETE FROM events WHERE tenant = ? AND event_key = ?"));
    st.Bind(tenant, key);
    return st.Run();
  });
}

Status SqliteEventStream::DeleteBySubject(std::string_view tenant, std::string_view subject_id) {
  if (tenant.empty()) return InvalidArgument("delete: tenant is empty");
  RETURN_IF_ERROR(db_->Write([&](sqlite::Connection& c) -> Status {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("DELETE FROM events WHERE tenant = ? AND subject = ?"));
    st.Bind(tenant, subject_id);
    return st.Run();
  }));
  // The deleted rows' old pages are still in the WAL until it is checkpointed and truncated.
  return db_->CheckpointTruncate();
}

Status SqliteEventStream::DeleteBefore(std::string_view topic, int64_t before_ms) {
  RETURN_IF_ERROR(ValidateTopic(topic));
  return db_->Write([&](sqlite::Connection& c) -> Status {
    ASSIGN_OR_RETURN(sqlite::Statement st,
                     c.Prepare("DELETE FROM events WHERE topic = ? AND timestamp_ms < ?"));
    st.Bind(topic, before_ms);
    return st.Run();
  });
}

Status RegisterSqliteEventStream(EventStreamRegistry& registry) {
  return registry.Register("sqlite", [](const Uri& uri) -> StatusOr<std::unique_ptr<EventStream>> {
    std::string path;
    sqlite::DatabaseOptions options;
    if (uri.scheme.empty()) {
      // A bare path: the text itself, '?' and '#' included.
      path = uri.ToString();
    } else {
      ASSIGN_OR_RETURN(path, sqlite::PathFromUri(uri));
      ASSIGN_OR_RETURN(sqlite::UriOptions from_uri, sqlite::ParseUriQuery(uri.query));
      if (from_uri.synchronous_full) options.synchronous_full = *from_uri.synchronous_full;
      if (from_uri.reader_connections) options.reader_connections = *from_uri.reader_connections;
    }
    RETURN_IF_ERROR(CreateParentDirectory(path));
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteEventStream> stream,
                     SqliteEventStream::Open(path, options));
    return std::unique_ptr<EventStream>(std::move(stream));
  });
}

}  // namespace cairn::stream
