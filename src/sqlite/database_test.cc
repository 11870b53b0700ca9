#include "sqlite/database.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace cairn::sqlite {
namespace {

// A store of its own, on its own file: what the prediction log will do with events.db.
const std::vector<Migration>& EventMigrations() {
  static const std::vector<Migration> kSteps = {
      {1, "events", "CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"},
      {2, "event kind", "ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'prediction'"},
  };
  return kSteps;
}

class DatabaseTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-database-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> MustOpen(DatabaseOptions options = {}) {
    auto db = Database::Open(dir_ + "/events.db", EventMigrations(), options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  static int64_t Count(Database& db) {
    int64_t count = -1;
    Status s = db.Read([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT COUNT(*) FROM events"));
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) count = st.Int(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return count;
  }

  std::string dir_;
};

TEST_F(DatabaseTest, MigratesItsOwnSchemaOnItsOwnFile) {
  auto db = MustOpen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->SchemaVersionForTest(), 2);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/events.db"));
  EXPECT_EQ(db->path(), dir_ + "/events.db");
}

TEST_F(DatabaseTest, ConcurrentWritesAllCommitAndAFailedOneLeavesTheOthers) {
  auto db = MustOpen();
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&db, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool fail = i % 10 == 9;
        Status s = db->Write([&](Connection& c) -> Status {
          ASSIGN_OR_RETURN(Statement st, c.Prepare("INSERT INTO events (body) VALUES (?)"));
          RETURN_IF_ERROR(st.Bind("t" + std::to_string(t)).Run());
          if (fail) return InvalidArgument("rejected after the insert");
          return Status::Ok();
        });
        EXPECT_EQ(s.ok(), !fail) << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  // Each rejected write was rolled back alone; every other write of its group stands.
  EXPECT_EQ(Count(*db), kThreads * kPerThread * 9 / 10);
}

TEST_F(DatabaseTest, AcknowledgedWritesSurviveReopenAndOptionsReachTheWriter) {
  {
    DatabaseOptions options;
    options.synchronous_full = true;
    auto db = MustOpen(options);
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(*db->SynchronousForTest(), 2);
    ASSERT_TRUE(db->Write([](Connection& c) {
                    return c.Exec("INSERT INTO events (body, kind) VALUES ('x', 'label')");
                  }).ok());
  }
  DatabaseOptions single;
  single.reader_connections = 0;
  single.checkpoint_frames = 0;
  auto db = MustOpen(single);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->SynchronousForTest(), 1);
  EXPECT_EQ(Count(*db), 1);
}

TEST_F(DatabaseTest, RefusesADatabaseMigratedByANewerSchema) {
  {
    std::vector<Migration> newer = EventMigrations();
    newer.push_back({3, "from the future", "CREATE TABLE later (x INTEGER)"});
    auto db = Database::Open(dir_ + "/events.db", newer, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
  }
  auto db = Database::Open(dir_ + "/events.db", EventMigrations(), {});
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
}

Database::ConnectionFn Insert(std::string body, bool fail = false) {
  return [body = std::move(body), fail](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement st, c.Prepare("INSERT INTO events (body) VALUES (?)"));
    RETURN_IF_ERROR(st.Bind(body).Run());
    if (fail) return InvalidArgument("rejected");
    return Status::Ok();
  };
}

TEST_F(DatabaseTest, AsyncWritesAreAnsweredAfterTheirCommitAndMixWithWaitingOnes) {
  auto db = MustOpen();
  ASSERT_NE(db, nullptr);
  constexpr int kAsync = 300;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::promise<void> all_answered;
  std::atomic<int> answered{0};
  std::thread waiting([&db] {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(db->Write(Insert("sync")).ok());
  });
  for (int i = 0; i < kAsync; ++i) {
    bool fail = i % 7 == 6;
    db->WriteAsync(Insert("async", fail), [&, fail](Status s) {
      EXPECT_EQ(s.ok(), !fail) << s.ToString();
      // Answered only once the write is readable by a new transaction.
      if (s.ok()) {
        ++ok;
      } else {
        ++failed;
      }
      if (++answered == kAsync) all_answered.set_value();
    });
  }
  waiting.join();
  all_answered.get_future().wait();
  EXPECT_EQ(failed.load(), kAsync / 7);
  EXPECT_EQ(Count(*db), 100 + ok.load());
}

TEST_F(DatabaseTest, AsyncWritesQueuedAtDestructionAreRunAndAnswered) {
  std::atomic<int> answered{0};
  {
    auto db = MustOpen();
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 50; ++i) {
      db->WriteAsync(Insert("late"), [&](Status s) {
        EXPECT_TRUE(s.ok()) << s.ToString();
        ++answered;
      });
    }
  }
  EXPECT_EQ(answered.load(), 50);
  auto db = MustOpen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Count(*db), 50);
}

}  // namespace
}  // namespace cairn::sqlite
