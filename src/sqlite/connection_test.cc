#include "sqlite/connection.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <limits>

namespace cairn::sqlite {
namespace {

class SqliteDbTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-db-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto db = Connection::Open(dir_ + "/t.db", {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v REAL)").ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  int64_t Count() {
    auto s = db_->Prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(*s->Step());
    return s->Int(0);
  }

  std::string dir_;
  std::unique_ptr<Connection> db_;
};

TEST_F(SqliteDbTest, CachedStatementInUseIsNotHandedOutTwice) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('a', 1), ('b', 2)").ok());
  auto outer = db_->Prepare("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Text(0), "a");
  {
    // The same SQL while the first is mid-iteration gets its own statement.
    auto inner = db_->Prepare("SELECT k FROM t ORDER BY k");
    ASSERT_TRUE(inner.ok());
    ASSERT_TRUE(*inner->Step());
    EXPECT_EQ(inner->Text(0), "a");
  }
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Text(0), "b");
}

TEST_F(SqliteDbTest, FullCacheEvictsTheLeastRecentlyUsedStatement) {
  ConnectionOptions options;
  options.statement_cache_capacity = 2;
  auto opened = Connection::Open(dir_ + "/small.db", options);
  ASSERT_TRUE(opened.ok());
  Connection& db = **opened;
  auto use = [&](const std::string& sql) { ASSERT_TRUE(db.Prepare(sql).ok()) << sql; };
  use("SELECT 1");
  use("SELECT 2");
  use("SELECT 1");  // "SELECT 2" is now the least recently used
  use("SELECT 3");
  EXPECT_TRUE(db.IsCachedForTest("SELECT 1"));
  EXPECT_FALSE(db.IsCachedForTest("SELECT 2"));
  EXPECT_TRUE(db.IsCachedForTest("SELECT 3"));
  {
    // A statement in use is never evicted, even when it is the oldest.
    auto held = db.Prepare("SELECT 1");
    ASSERT_TRUE(held.ok());
    use("SELECT 3");
    use("SELECT 4");
    EXPECT_TRUE(db.IsCachedForTest("SELECT 1"));
    EXPECT_FALSE(db.IsCachedForTest("SELECT 3"));
    EXPECT_TRUE(db.IsCachedForTest("SELECT 4"));
    ASSERT_TRUE(*held->Step());
    EXPECT_EQ(held->Int(0), 1);
  }
}

TEST_F(SqliteDbTest, ReusedStatementStartsFresh) {
  for (int i = 0; i < 3; ++i) {
    auto insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
    ASSERT_TRUE(insert.ok());
    ASSERT_TRUE(insert->Bind(std::to_string(i), 1.5 * i).Run().ok());
  }
  EXPECT_EQ(Count(), 3);
  auto insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert.ok());
  for (int i = 3; i < 6; ++i) {
    insert->Reset();
    ASSERT_TRUE(insert->Bind(std::to_string(i), 0.0).Run().ok());
  }
  EXPECT_EQ(Count(), 6);
}

TEST_F(SqliteDbTest, InfinityRoundTripsAndNaNBindsAsNull) {
  auto insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert->Bind("inf", std::numeric_limits<double>::infinity()).Run().ok());
  insert->Reset();
  ASSERT_TRUE(insert->Bind("nan", std::numeric_limits<double>::quiet_NaN()).Run().ok());
  auto s = db_->Prepare("SELECT v FROM t ORDER BY k");
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->Double(0), std::numeric_limits<double>::infinity());
  ASSERT_TRUE(*s->Step());
  EXPECT_TRUE(s->IsNull(0));
}

TEST_F(SqliteDbTest, ErrorsBecomeStatuses) {
  auto bad = db_->Prepare("SELECT nope FROM t");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('a', 1)").ok());
  auto dup = db_->Prepare("INSERT INTO t VALUES ('a', 2)");
  ASSERT_TRUE(dup.ok());
  Status s = dup->Run();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("UNIQUE"), std::string::npos) << s.message();
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  {
    auto txn = Transaction::Begin(*db_, Transaction::Kind::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('x', 1)").ok());
  }
  EXPECT_EQ(Count(), 0);
  {
    auto txn = Transaction::Begin(*db_, Transaction::Kind::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('x', 1)").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteDbTest, LikeFunctionFollowsTheSearchGrammar) {
  auto like = [&](const std::string& value, const std::string& pattern, int ci) {
    auto s = db_->Prepare("SELECT cairn_like(?, ?, ?)");
    s->Bind(value, pattern, int64_t{ci});
    EXPECT_TRUE(*s->Step());
    return s->Int(0) == 1;
  };
  EXPECT_TRUE(like("Adam", "A%", 0));
  EXPECT_FALSE(like("adam", "A%", 0));
  EXPECT_TRUE(like("adam", "A%", 1));
  EXPECT_TRUE(like("beta-run", "_eta-ru_", 0));
  EXPECT_FALSE(like("beta-run", "eta%", 0));
  EXPECT_TRUE(like("100%", "100%", 0));
  auto null = db_->Prepare("SELECT cairn_like(NULL, 'a', 0)");
  ASSERT_TRUE(*null->Step());
  EXPECT_TRUE(null->IsNull(0));
}

TEST_F(SqliteDbTest, JsonArraysSurviveJsonEach) {
  std::vector<std::string> values = {"plain", "quo\"te", "back\\slash", "ctl\x01", "é"};
  auto s = db_->Prepare("SELECT value FROM json_each(?) ORDER BY key");
  s->Bind(JsonArray(values));
  for (const std::string& v : values) {
    ASSERT_TRUE(*s->Step());
    EXPECT_EQ(s->Text(0), v);
  }
  EXPECT_FALSE(*s->Step());
  EXPECT_EQ(JsonArray(std::vector<int64_t>{1, -2, 3}), "[1,-2,3]");
  EXPECT_EQ(JsonArray(std::vector<std::string>{}), "[]");
}

TEST_F(SqliteDbTest, JsonPairsSurviveJsonExtract) {
  std::vector<std::pair<std::string, int64_t>> values = {{"a\"b", 1}, {"c", -7}};
  EXPECT_EQ(JsonArray(values), R"([["a\"b",1],["c",-7]])");
  auto s = db_->Prepare(
      "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) ORDER "
      "BY key");
  s->Bind(JsonArray(values));
  for (const auto& [text, number] : values) {
    ASSERT_TRUE(*s->Step());
    EXPECT_EQ(s->Text(0), text);
    EXPECT_EQ(s->Int(1), number);
  }
  EXPECT_FALSE(*s->Step());
}

}  // namespace
}  // namespace cairn::sqlite
