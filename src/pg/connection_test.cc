#include "pg/connection.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/status_testing.h"
#include "base/test_services.h"
#include "pg/database.h"

namespace cairn::pg {
namespace {

TEST(NumberPlaceholdersTest, NumbersBarePlaceholdersOutsideQuotes) {
  int n = 0;
  EXPECT_EQ(NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)", &n),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(NumberPlaceholders("SELECT '?', \"a?b\", 'it''s ?' -- ?\n, ?", &n),
            "SELECT '?', \"a?b\", 'it''s ?' -- ?\n, $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(NumberPlaceholders("WHERE a = ?1 AND (?2 IS NULL OR b = ?2) AND c = ?", &n),
            "WHERE a = $1 AND ($2 IS NULL OR b = $2) AND c = $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(NumberPlaceholders("SELECT 'unterminated ?", &n), "SELECT 'unterminated ?");
  EXPECT_EQ(n, 0);
}

TEST(QuoteTest, DoublesQuotes) {
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
}

class PgTest : public testing::Test {
 protected:
  void SetUp() override {
    CAIRN_TEST_SERVICE(uri_, "POSTGRES");
    // A schema of its own, so tests never see each other's tables.
    static std::atomic<int> counter{0};
    schema_ = "conn_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    ASSERT_OK_AND_ASSIGN(auto admin, Connection::Open(uri_, {}));
    ASSERT_OK(
        admin->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_));
    options_.session_setup = "SET search_path TO " + schema_;
  }

  std::string uri_;
  std::string schema_;
  ConnectionOptions options_;
};

TEST_F(PgTest, ValuesRoundTripExactly) {
  ASSERT_OK_AND_ASSIGN(auto db, Connection::Open(uri_, options_));
  ASSERT_OK(
      db->Exec("CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, t TEXT COLLATE \"C\", b BYTEA)"));
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  const double values[] = {0.1, 1e308, -2.5e-310, 1.0 / 3, 123456789.123456789};
  for (double d : values) {
    ASSERT_OK_AND_ASSIGN(Statement ins, db->Prepare("INSERT INTO v VALUES (?, ?, ?, ?)"));
    ins.Bind(std::numeric_limits<int64_t>::min(), d, std::string("é'?\"\\"));
    ins.BindBlob(4, bytes);
    ASSERT_OK(ins.Run());
    EXPECT_EQ(db->Changes(), 1);
    ASSERT_OK_AND_ASSIGN(Statement sel, db->Prepare("SELECT i, d, t, b FROM v WHERE d = ?"));
    ASSERT_OK_AND_ASSIGN(bool row, sel.Bind(d).Step());
    ASSERT_TRUE(row);
    EXPECT_EQ(sel.Int(0), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(sel.Double(1), d);
    EXPECT_EQ(sel.Text(2), "é'?\"\\");
    EXPECT_EQ(sel.BlobView(3), bytes);
  }
  ASSERT_OK_AND_ASSIGN(Statement special, db->Prepare("INSERT INTO v (i, d) VALUES (?, ?)"));
  ASSERT_OK(special.Bind(1, std::nan("")).Run());
  ASSERT_OK(special.Bind(2, std::numeric_limits<double>::infinity()).Run());
  ASSERT_OK_AND_ASSIGN(Statement read, db->Prepare("SELECT d FROM v WHERE i IN (1, 2) ORDER BY i"));
  ASSERT_OK_AND_ASSIGN(bool row, read.Step());
  ASSERT_TRUE(row);
  EXPECT_TRUE(read.IsNull(0));  // NaN binds as NULL, as in SQLite
  EXPECT_FALSE(read.OptionalInt(0).has_value());
  ASSERT_OK_AND_ASSIGN(row, read.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(read.Double(0), std::numeric_limits<double>::infinity());
  ASSERT_OK_AND_ASSIGN(row, read.Step());
  EXPECT_FALSE(row);
}

TEST_F(PgTest, ErrorsAreStatuses) {
  ASSERT_OK_AND_ASSIGN(auto db, Connection::Open(uri_, options_));
  auto bad = db->Prepare("SELEC nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("SQLSTATE 42601"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Statement s, db->Prepare("SELECT ?::text"));
  EXPECT_EQ(s.Bind(std::string("a\0b", 3)).Run().code(), StatusCode::kInvalidArgument);
  auto unreachable = Connection::Open("postgresql://cairn@127.0.0.1:1/none", {});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable);
}

const std::vector<Migration>& TestMigrations() {
  static const std::vector<Migration> steps = {
      {1, "counter",
       "CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL); "
       "INSERT INTO counter VALUES (1, 0);"},
      {2, "log", "CREATE TABLE log (n BIGINT PRIMARY KEY)"},
  };
  return steps;
}

TEST_F(PgTest, ReplicasMigrateAtOnceAndWritesNeverInterleave) {
  DatabaseOptions options;
  options.session_setup = options_.session_setup;
  // Three "replicas" open the same database at once: one migrates, the others find it done.
  std::vector<std::unique_ptr<Database>> dbs(3);
  std::vector<std::thread> openers;
  std::vector<Status> opened(3);
  for (int i = 0; i < 3; ++i) {
    openers.emplace_back([&, i] {
      auto db = Database::Open(uri_, TestMigrations(), options);
      opened[i] = db.status();
      if (db.ok()) dbs[i] = std::move(db).value();
    });
  }
  for (auto& t : openers) t.join();
  for (const Status& s : opened) ASSERT_OK(s);
  ASSERT_OK_AND_ASSIGN(int version, dbs[0]->SchemaVersionForTest());
  EXPECT_EQ(version, 2);

  // Read-increment-write from every replica and thread: the write lock makes it exact.
  constexpr int kPerThread = 40;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int i = 0; i < 6; ++i) {
    writers.emplace_back([&, i] {
      Database& db = *dbs[i % 3];
      for (int k = 0; k < kPerThread; ++k) {
        auto write = [](Connection& c) -> Status {
          ASSIGN_OR_RETURN(Statement get, c.Prepare("SELECT n FROM counter WHERE id = 1"));
          ASSIGN_OR_RETURN(bool row, get.Step());
          if (!row) return Internal("no counter");
          int64_t next = get.Int(0) + 1;
          ASSIGN_OR_RETURN(Statement log, c.Prepare("INSERT INTO log VALUES (?)"));
          RETURN_IF_ERROR(log.Bind(next).Run());
          ASSIGN_OR_RETURN(Statement set, c.Prepare("UPDATE counter SET n = ? WHERE id = 1"));
          return set.Bind(next).Run();
        };
        if (!db.Write(write).ok()) ++failures;
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t n = -1;
  ASSERT_OK(dbs[1]->Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT n, (SELECT COUNT(*) FROM log) FROM counter"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Internal("no row");
    n = s.Int(0);
    EXPECT_EQ(s.Int(1), n);
    return Status::Ok();
  }));
  EXPECT_EQ(n, 6 * kPerThread);

  // A failed write leaves nothing behind, and the group's other writes stand.
  Status failed = dbs[0]->Write([](Connection& c) -> Status {
    RETURN_IF_ERROR(c.Exec("INSERT INTO log VALUES (-1)"));
    return InvalidArgument("no");
  });
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  ASSERT_OK(dbs[0]->Read([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT COUNT(*) FROM log WHERE n = -1"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    EXPECT_TRUE(row);
    EXPECT_EQ(s.Int(0), 0);
    return Status::Ok();
  }));
}

// Writes queued together share one transaction, each in a savepoint; on a pipelined connection a
// write's last statements are checked only with the next write's first round trip. A write whose
// queued statement fails gets that error (and nothing of it stays), the writes after it run again
// and stand, and a write that swallows an error still fails.
class PgGroupTest : public PgTest, public testing::WithParamInterface<bool> {};

TEST_P(PgGroupTest, AFailedWriteInAGroupIsItsOwnAndTheOthersStand) {
  DatabaseOptions options;
  options.session_setup = options_.session_setup;
  options.pipeline = GetParam();
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(uri_, TestMigrations(), options));
  ASSERT_OK(db->Write([](Connection& c) { return c.Exec("INSERT INTO log VALUES (2)"); }));
  auto insert = [](int64_t n) {
    return [n](Connection& c) -> Status {
      ASSIGN_OR_RETURN(Statement s, c.Prepare("INSERT INTO log VALUES (?)"));
      return s.Bind(n).Run();
    };
  };
  for (bool failing_last : {false, true}) {
    SCOPED_TRACE(failing_last ? "the failing write last" : "the failing write inside");
    int64_t base = failing_last ? 100 : 10;
    std::mutex mu;
    std::condition_variable cv;
    bool queued = false;
    std::vector<Status> statuses(6, Internal("not answered"));
    std::atomic<int> answered{0};
    int64_t seen_by_reader = -1;
    auto done = [&](int i) {
      return [&, i](Status s) {
        statuses[i] = std::move(s);
        ++answered;
      };
    };
    // The first write holds the writer until the others are queued, so they form one group.
    db->WriteAsync(
        [&, base](Connection& c) -> Status {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return queued; });
          return insert(base)(c);
        },
        done(0));
    std::vector<Database::ConnectionFn> fns;
    fns.push_back(insert(base + 1));
    if (!failing_last) fns.push_back(insert(2));  // a duplicate: fails when its answer comes
    fns.push_back([&, base](Connection& c) -> Status {
      // Reads what the writes before it left: runs again when one of them failed.
      ASSIGN_OR_RETURN(Statement s, c.Prepare("INSERT INTO log VALUES (?)"));
      RETURN_IF_ERROR(s.Bind(base + 3).Run());
      ASSIGN_OR_RETURN(Statement count, c.Prepare("SELECT COUNT(*) FROM log WHERE n >= ?"));
      count.Bind(base);
      ASSIGN_OR_RETURN(bool row, count.Step());
      if (!row) return Internal("no row");
      seen_by_reader = count.Int(0);
      return Status::Ok();
    });
    fns.push_back([base](Connection& c) -> Status {
      // Defers its check (a failing statement) where it may; runs again checking by reading.
      if (c.DeferCheck()) {
        ASSIGN_OR_RETURN(Statement check,
                         c.Prepare("SELECT 1 / (SELECT COUNT(*) FROM log WHERE n = -5)"));
        RETURN_IF_ERROR(check.Run());
        ASSIGN_OR_RETURN(Statement s, c.Prepare("INSERT INTO log VALUES (?)"));
        return s.Bind(base + 4).Run();
      }
      return NotFound("no row -5");
    });
    fns.push_back([](Connection& c) -> Status {
      // Swallows its own error: still fails.
      ASSIGN_OR_RETURN(Statement s, c.Prepare("INSERT INTO log VALUES (2)"));
      (void)s.Run();
      (void)c.Changes();
      return Status::Ok();
    });
    if (failing_last) fns.push_back(insert(2));
    for (size_t i = 0; i < fns.size(); ++i) db->WriteAsync(fns[i], done(static_cast<int>(i) + 1));
    {
      std::lock_guard<std::mutex> lock(mu);
      queued = true;
    }
    cv.notify_all();
    while (answered.load() < 1 + static_cast<int>(fns.size())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_OK(statuses[0]);
    EXPECT_OK(statuses[1]);
    if (failing_last) {
      EXPECT_OK(statuses[2]);
      EXPECT_EQ(statuses[3].code(), StatusCode::kNotFound) << statuses[3].message();
      EXPECT_EQ(statuses[4].code(), StatusCode::kInternal) << statuses[4].message();
      EXPECT_EQ(statuses[5].code(), StatusCode::kInternal) << statuses[5].message();
    } else {
      EXPECT_EQ(statuses[2].code(), StatusCode::kInternal) << statuses[2].message();
      EXPECT_NE(statuses[2].message().find("log_pkey"), std::string::npos) << statuses[2].message();
      EXPECT_OK(statuses[3]);
      EXPECT_EQ(statuses[4].code(), StatusCode::kNotFound) << statuses[4].message();
      EXPECT_EQ(statuses[5].code(), StatusCode::kInternal) << statuses[5].message();
    }
    EXPECT_EQ(seen_by_reader, 3);  // base, base + 1, base + 3
    std::vector<int64_t> rows;
    ASSERT_OK(db->Read([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT n FROM log ORDER BY n"));
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return Status::Ok();
        rows.push_back(s.Int(0));
      }
    }));
    std::vector<int64_t> expected = {2, 10, 11, 13};
    if (failing_last) expected.insert(expected.end(), {100, 101, 103});
    EXPECT_EQ(rows, expected);
  }
  // Alone in its group: the same.
  Status alone = db->Write([](Connection& c) -> Status {
    if (c.DeferCheck()) {
      ASSIGN_OR_RETURN(Statement check,
                       c.Prepare("SELECT 1 / (SELECT COUNT(*) FROM log WHERE n = -5)"));
      RETURN_IF_ERROR(check.Run());
      return c.Exec("INSERT INTO log VALUES (204)");
    }
    return NotFound("no row -5");
  });
  EXPECT_EQ(alone.code(), StatusCode::kNotFound) << alone.message();
  ASSERT_OK(db->Read([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT COUNT(*) FROM log WHERE n = 204"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    EXPECT_TRUE(row);
    EXPECT_EQ(s.Int(0), 0);
    return Status::Ok();
  }));
}

INSTANTIATE_TEST_SUITE_P(Pipeline, PgGroupTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Pipelined") : std::string("Waiting");
                         });

TEST_F(PgTest, AStepBackwardsIsRefusedAndConnectionsRecoverFromTermination) {
  DatabaseOptions options;
  options.session_setup = options_.session_setup;
  options.application_name = schema_;
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(uri_, TestMigrations(), options));
  std::vector<Migration> older(TestMigrations().begin(), TestMigrations().begin() + 1);
  auto refused = Database::Open(uri_, older, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);

  // Kill every other session of this database (as a server restart would).
  ASSERT_OK(db->Write([](Connection& c) { return c.Exec("INSERT INTO log VALUES (1)"); }));
  ASSERT_OK(db->Read([](Connection& c) { return c.Exec("SELECT 1"); }));
  ASSERT_OK_AND_ASSIGN(auto admin, Connection::Open(uri_, {}));
  ASSERT_OK(admin->Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
      "datname = current_database() AND application_name = " +
      QuoteLiteral(schema_)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // The writer retries a transaction that never reached COMMIT; a read fails once at most.
  ASSERT_OK(db->Write([](Connection& c) { return c.Exec("INSERT INTO log VALUES (2)"); }));
  Status read = db->Read([](Connection& c) { return c.Exec("SELECT 1"); });
  if (!read.ok()) {
    EXPECT_EQ(read.code(), StatusCode::kUnavailable);
    ASSERT_OK(db->Read([](Connection& c) { return c.Exec("SELECT 1"); }));
  }
}

}  // namespace
}  // namespace cairn::pg
