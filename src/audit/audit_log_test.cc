#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/sql_audit_store.h"
#include "base/status_testing.h"
#include "base/utf8.h"

namespace cairn::audit {
namespace {

AuditEntry Request(int i, std::string tenant = "acme") {
  AuditEntry e;
  e.time_ms = 1'700'000'000'000 + i;
  e.principal = i % 2 == 0 ? "alice" : "bob";
  e.tenant = std::move(tenant);
  e.action = "POST /api/2.0/mlflow/runs/create";
  e.resource = "run-" + std::to_string(i);
  e.outcome = "ok";
  e.status = 200;
  e.request_id = "req-" + std::to_string(i);
  e.client = "192.0.2.7:40000";
  return e;
}

// Runs SQL on the audit file directly, as someone with write access to it would.
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// A store wrapper whose AppendBatch can be held at a gate or made to fail.
class ControlledStore final : public AuditStore {
 public:
  explicit ControlledStore(AuditStore& inner) : inner_(inner) {}
  Status AppendBatch(const std::vector<AuditEntry>& entries) override {
    entered_ = true;
    while (held_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (failures_left_ > 0) {
      --failures_left_;
      return Unavailable("disk on fire");
    }
    return inner_.AppendBatch(entries);
  }
  StatusOr<AuditPage> Query(const AuditFilter& f) override { return inner_.Query(f); }
  Status Scan(int64_t from, const ScanFn& fn) override { return inner_.Scan(from, fn); }
  StatusOr<AuditHead> Head() override { return inner_.Head(); }

  std::atomic<bool> held_{false};
  std::atomic<bool> entered_{false};
  std::atomic<int> failures_left_{0};

 private:
  AuditStore& inner_;
};

// Known answers, computed independently (Python's hashlib and hmac over the documented layout),
// so the serialisation cannot drift without a new format tag.
TEST(EntryHashTest, MatchesTheDocumentedCanonicalForm) {
  AuditEntry e{.seq = 7,
               .time_ms = 1'700'000'000'123,
               .principal = "alice",
               .tenant = "acme",
               .action = "POST /api/2.0/mlflow/runs/create",
               .resource = "",
               .outcome = "ok",
               .status = 200,
               .request_id = "req-7",
               .client = "192.0.2.7:40000",
               .prev_hash = ""};
  for (int i = 0; i < 32; ++i) e.prev_hash += "ab";
  EXPECT_EQ(EntryHash(e, ""), "01f8d893880e674021cf852f8721634d7be7090bb410bf1bd14b9d84e06c9595");
  EXPECT_EQ(EntryHash(e, "secret key"),
            "761d1a88682c765fab2e664ec70b25ae596f97c7e7a88897df09fddf0e5ec45a");
  // A reused hasher gives the same answers, entry after entry.
  EntryHasher hasher("secret key");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(hasher.Hash(e), "761d1a88682c765fab2e664ec70b25ae596f97c7e7a88897df09fddf0e5ec45a");
  }
  // Moving a byte between adjacent fields changes the hash (length prefixes).
  AuditEntry shifted = e;
  shifted.principal = "alic";
  shifted.tenant = "eacme";
  EXPECT_NE(EntryHash(shifted, ""), EntryHash(e, ""));
}

class AuditLogTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-audit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.db";
    OpenStore();
  }
  void TearDown() override {
    log_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenStore() { ASSERT_OK_AND_ASSIGN(store_, SqlAuditStore::OpenSqlite(path_)); }
  void OpenLog(AuditLogOptions options = {}) {
    options.key = key_;
    ASSERT_OK_AND_ASSIGN(log_, AuditLog::Open(*store_, options));
  }
  void CloseAll() {
    log_.reset();
    store_.reset();
  }
  // Appends `n` entries and waits for them; then closes everything, so the file can be altered.
  void WriteAndClose(int n) {
    OpenLog();
    for (int i = 1; i <= n; ++i) log_->Append(Request(i), nullptr);
    ASSERT_OK(log_->Flush());
    CloseAll();
  }
  VerifyResult VerifyFile(std::optional<AuditHead> anchor = std::nullopt) {
    if (store_ == nullptr) OpenStore();
    auto result = VerifyAuditChain(*store_, key_, anchor);
    EXPECT_OK(result);
    return result.ok() ? *result : VerifyResult{};
  }
  std::vector<AuditEntry> All() {
    std::vector<AuditEntry> out;
    EXPECT_OK(store_->Scan(1, [&](const AuditEntry& e) {
      out.push_back(e);
      return Status::Ok();
    }));
    return out;
  }

  std::string dir_;
  std::string path_;
  std::string key_;
  std::unique_ptr<SqlAuditStore> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsFromEightThreadsGetContiguousSeqsAndVerify) {
  OpenLog();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> durable_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        log_->Append(Request(t * kPerThread + i), [&](Status s) {
          if (s.ok()) ++durable_ok;
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_OK(log_->Flush());
  EXPECT_EQ(durable_ok.load(), kThreads * kPerThread);
  const std::vector<AuditEntry> all = All();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(all.front().prev_hash, kGenesisHash);
  AuditLogStats stats = log_->Stats();
  EXPECT_EQ(stats.appended, kThreads * kPerThread);
  EXPECT_LT(stats.batches, kThreads * kPerThread);  // group commit
  EXPECT_EQ(stats.queue_depth, 0);
  EXPECT_EQ(stats.head_seq, kThreads * kPerThread);
  EXPECT_EQ(log_->Head(), (AuditHead{all.back().seq, all.back().hash}));
  ASSERT_OK_AND_ASSIGN(VerifyResult result, log_->Verify());
  EXPECT_TRUE(result.ok) << result.reason;
  EXPECT_EQ(result.entries_checked, kThreads * kPerThread);
}

TEST_F(AuditLogTest, VerifyWhileAppendingSeesAConsistentChain) {
  OpenLog();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) log_->Append(Request(i), nullptr);
    done = true;
  });
  int verifies = 0;
  while (!done || verifies < 3) {
    ASSERT_OK_AND_ASSIGN(VerifyResult r, log_->Verify());
    ASSERT_TRUE(r.ok) << r.reason;
    ++verifies;
  }
  writer.join();
  ASSERT_OK(log_->Flush());
  ASSERT_OK_AND_ASSIGN(VerifyResult r, log_->Verify());
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries_checked, 20000);
}

TEST_F(AuditLogTest, DurableCallbackRunsOnlyAfterTheCommit) {
  OpenLog();
  std::atomic<int> found{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < 50; ++i) {
    const std::string request_id = "req-" + std::to_string(i);
    log_->Append(Request(i), [&, request_id, path = path_](Status s) {
      ++calls;
      if (!s.ok()) return;
      // A separate connection sees only committed data.
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_entries WHERE request_id = ?", -1, &stmt,
                           nullptr);
        sqlite3_bind_text(stmt, 1, request_id.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1) ++found;
        sqlite3_finalize(stmt);
      }
      sqlite3_close(db);
    });
  }
  ASSERT_OK(log_->Flush());
  EXPECT_EQ(calls.load(), 50);
  EXPECT_EQ(found.load(), 50);
}

TEST_F(AuditLogTest, RestartContinuesTheChainFromTheStoredHead) {
  WriteAndClose(5);
  OpenStore();
  OpenLog();
  EXPECT_EQ(log_->Head().seq, 5);
  for (int i = 6; i <= 8; ++i) log_->Append(Request(i), nullptr);
  ASSERT_OK(log_->Flush());
  const std::vector<AuditEntry> all = All();
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[5].seq, 6);
  EXPECT_EQ(all[5].prev_hash, all[4].hash);
  ASSERT_OK_AND_ASSIGN(VerifyResult result, log_->Verify());
  EXPECT_TRUE(result.ok) << result.reason;
  EXPECT_EQ(result.entries_checked, 8);
}

TEST_F(AuditLogTest, OpenRefusesAChainWrittenWithAnotherKey) {
  key_ = "first key";
  WriteAndClose(3);
  OpenStore();
  AuditLogOptions options;
  options.key = "second key";
  EXPECT_EQ(AuditLog::Open(*store_, options).status().code(), StatusCode::kFailedPrecondition);
  options.key = "";
  EXPECT_EQ(AuditLog::Open(*store_, options).status().code(), StatusCode::kFailedPrecondition);
  options.key = "first key";
  EXPECT_OK(AuditLog::Open(*store_, options));
}

TEST_F(AuditLogTest, UntouchedLogVerifies) {
  WriteAndClose(20);
  VerifyResult r = VerifyFile();
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries_checked, 20);
}

TEST_F(AuditLogTest, TamperEditedFieldIsAHashMismatchAtThatSeq) {
  WriteAndClose(20);
  Tamper(path_, "UPDATE audit_entries SET principal = 'mallory' WHERE seq = 10");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kHashMismatch);
  EXPECT_EQ(r.first_bad_seq, 10);
  EXPECT_EQ(r.entries_checked, 9);
}

TEST_F(AuditLogTest, TamperDeletedMiddleRowIsAGapAtItsSeq) {
  WriteAndClose(20);
  Tamper(path_, "DELETE FROM audit_entries WHERE seq = 10");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kSeqGap);
  EXPECT_EQ(r.first_bad_seq, 10);
}

TEST_F(AuditLogTest, TamperDeletedTailIsATruncationWhenTheHeadIsUntouched) {
  WriteAndClose(20);
  Tamper(path_, "DELETE FROM audit_entries WHERE seq > 17");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kTruncated);
  EXPECT_EQ(r.first_bad_seq, 18);
  // The log also refuses to extend the truncated chain.
  OpenStore();
  EXPECT_EQ(AuditLog::Open(*store_, {}).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(AuditLogTest, TamperSwappedRowsAreAHashMismatchAtTheFirst) {
  WriteAndClose(20);
  Tamper(path_,
         "UPDATE audit_entries SET seq = -1 WHERE seq = 10;"
         "UPDATE audit_entries SET seq = 10 WHERE seq = 11;"
         "UPDATE audit_entries SET seq = 11 WHERE seq = -1;");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kHashMismatch);
  EXPECT_EQ(r.first_bad_seq, 10);
}

TEST_F(AuditLogTest, TamperDeleteAndRenumberIsAHashMismatchAtTheDeletedSeq) {
  WriteAndClose(20);
  std::string sql = "DELETE FROM audit_entries WHERE seq = 10;";
  for (int seq = 11; seq <= 20; ++seq) {
    sql += "UPDATE audit_entries SET seq = " + std::to_string(seq - 1) +
           " WHERE seq = " + std::to_string(seq) + ";";
  }
  sql += "UPDATE audit_head SET seq = 19, hash = (SELECT hash FROM audit_entries WHERE seq = 19);";
  Tamper(path_, sql);
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kHashMismatch);  // seq is hashed: old 11 is not a valid 10
  EXPECT_EQ(r.first_bad_seq, 10);
}

TEST_F(AuditLogTest, TamperRowsPastTheHeadAreAHeadMismatch) {
  WriteAndClose(20);
  Tamper(path_,
         "UPDATE audit_head SET seq = 15, hash = (SELECT hash FROM audit_entries "
         "WHERE seq = 15)");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kHeadMismatch);
  EXPECT_EQ(r.first_bad_seq, 16);
  Tamper(path_, "DELETE FROM audit_head");
  r = VerifyFile();
  EXPECT_EQ(r.failure, VerifyFailure::kHeadMismatch);
  EXPECT_EQ(r.first_bad_seq, 1);
}

// Rewrites entry `seq` with principal "mallory", hashing with `key`, and re-links the rest of
// the chain and the head (what an attacker who can write the file, and knows `key`, can do).
void ForgeFrom(SqlAuditStore& store, const std::string& path, int64_t seq, const std::string& key) {
  std::vector<AuditEntry> all;
  ASSERT_OK(store.Scan(1, [&](const AuditEntry& e) {
    all.push_back(e);
    return Status::Ok();
  }));
  std::string sql;
  for (size_t i = static_cast<size_t>(seq - 1); i < all.size(); ++i) {
    AuditEntry& e = all[i];
    if (e.seq == seq) e.principal = "mallory";
    if (i > 0) e.prev_hash = all[i - 1].hash;
    e.hash = EntryHash(e, key);
    sql += "UPDATE audit_entries SET principal = '" + e.principal + "', prev_hash = '" +
           e.prev_hash + "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq) + ";";
  }
  sql += "UPDATE audit_head SET hash = '" + all.back().hash + "';";
  Tamper(path, sql);
}

TEST_F(AuditLogTest, TamperRecomputedWithoutTheKeyIsAHashMismatchWhenKeyed) {
  key_ = "audit key from the vault";
  WriteAndClose(20);
  OpenStore();
  ForgeFrom(*store_, path_, 10, /*key=*/"");
  VerifyResult r = VerifyFile();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kHashMismatch);
  EXPECT_EQ(r.first_bad_seq, 10);
}

// Documents the limit of an unkeyed chain: rewriting the whole tail and the head is consistent,
// and only a head recorded elsewhere beforehand (the anchor) reveals it.
TEST_F(AuditLogTest, UnkeyedFullRewriteNeedsAnAnchorToBeDetected) {
  WriteAndClose(20);
  OpenStore();
  ASSERT_OK_AND_ASSIGN(AuditHead anchor, store_->Head());
  ForgeFrom(*store_, path_, 10, /*key=*/"");
  EXPECT_TRUE(VerifyFile().ok);
  VerifyResult r = VerifyFile(anchor);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, VerifyFailure::kAnchorMismatch);
  EXPECT_EQ(r.first_bad_seq, 20);
  // A truncation that also rewinds the head is caught the same way.
  Tamper(path_,
         "DELETE FROM audit_entries WHERE seq > 18; UPDATE audit_head SET seq = 18, "
         "hash = (SELECT hash FROM audit_entries WHERE seq = 18)");
  EXPECT_TRUE(VerifyFile().ok);
  r = VerifyFile(anchor);
  EXPECT_EQ(r.failure, VerifyFailure::kTruncated);
  EXPECT_EQ(r.first_bad_seq, 19);
}

TEST_F(AuditLogTest, QueryAndExportPageThroughTheLog) {
  OpenLog();
  for (int i = 1; i <= 30; ++i) log_->Append(Request(i, i % 3 == 0 ? "globex" : "acme"), nullptr);
  ASSERT_OK(log_->Flush());
  ASSERT_OK_AND_ASSIGN(AuditPage page, log_->Query({.tenant = "globex", .limit = 4}));
  ASSERT_EQ(page.entries.size(), 4u);
  EXPECT_EQ(page.entries[0].seq, 3);
  EXPECT_EQ(page.next_after_seq, 12);
  std::vector<int64_t> exported;
  ASSERT_OK(log_->ExportJsonLines({.tenant = "globex", .limit = 4}, [&](std::string_view line) {
    auto parsed = boost::json::parse(line);
    exported.push_back(parsed.as_object().at("seq").as_int64());
    return Status::Ok();
  }));
  EXPECT_EQ(exported, (std::vector<int64_t>{3, 6, 9, 12, 15, 18, 21, 24, 27, 30}));
  Status stop = log_->ExportJsonLines({}, [](std::string_view) { return Internal("full"); });
  EXPECT_EQ(stop.code(), StatusCode::kInternal);
}

TEST_F(AuditLogTest, ExportEscapesHostileStringsAndStaysVerifiable) {
  key_ = "k";
  OpenLog();
  AuditEntry e = Request(1);
  const std::string hostile = std::string("q\"uote\\ \n{\"seq\":0}\r\t\x01\x1f\x7f nul:") +
                              std::string(1, '\0') + " bad:\xff\xfe\xc3 ok:\xc3\xa9";
  e.principal = hostile;
  e.resource = "\n";
  e.action = "\xe2\x80\xa8";  // U+2028, valid UTF-8
  log_->Append(e, nullptr);
  ASSERT_OK(log_->Flush());
  std::vector<std::string> lines;
  ASSERT_OK(log_->ExportJsonLines({}, [&](std::string_view line) {
    lines.emplace_back(line);
    return Status::Ok();
  }));
  ASSERT_EQ(lines.size(), 1u);
  const std::string& line = lines[0];
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the only newline ends the line
  EXPECT_EQ(line.find('\r'), std::string::npos);
  for (char c : line.substr(0, line.size() - 1)) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  EXPECT_TRUE(IsValidUtf8(line));
  boost::json::object o = boost::json::parse(line).as_object();
  EXPECT_EQ(std::string(o.at("principal").as_string()), ToValidUtf8(hostile));
  EXPECT_EQ(std::string(o.at("resource").as_string()), "\n");
  // The export alone suffices to recompute the hash.
  AuditEntry back;
  back.seq = o.at("seq").as_int64();
  back.time_ms = o.at("time_ms").as_int64();
  back.status = static_cast<int>(o.at("status").as_int64());
  auto text = [&](const char* name) { return std::string(o.at(name).as_string()); };
  back.principal = text("principal");
  back.tenant = text("tenant");
  back.action = text("action");
  back.resource = text("resource");
  back.outcome = text("outcome");
  back.request_id = text("request_id");
  back.client = text("client");
  back.prev_hash = text("prev_hash");
  EXPECT_EQ(EntryHash(back, key_), text("hash"));
  ASSERT_OK_AND_ASSIGN(VerifyResult r, log_->Verify());
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST_F(AuditLogTest, FullQueueRejectsOrDropsAndCountsWithoutBlocking) {
  ControlledStore controlled(*store_);
  AuditLogOptions options;
  options.queue_capacity = 2;
  options.block_when_full = false;
  metrics::MetricsRegistry registry;
  options.metrics = &registry;
  ASSERT_OK_AND_ASSIGN(auto log, AuditLog::Open(controlled, options));
  controlled.held_ = true;
  std::atomic<int> ok{0};
  auto count_ok = [&](Status s) {
    if (s.ok()) ++ok;
  };
  log->Append(Request(1), count_ok);
  while (!controlled.entered_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log->Append(Request(2), count_ok);
  log->Append(Request(3), count_ok);
  Status refused;
  log->Append(Request(4), [&](Status s) { refused = s; });
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(log->Record(Request(5)));
  AuditLogStats stats = log->Stats();
  EXPECT_EQ(stats.rejected, 1);
  EXPECT_EQ(stats.dropped, 1);
  EXPECT_EQ(stats.queue_depth, 3);
  controlled.held_ = false;
  ASSERT_OK(log->Flush());
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(log->Stats().appended, 3);
  const std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("cairn_audit_appended_total 3"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_audit_rejected_total 1"), std::string::npos);
  EXPECT_NE(text.find("cairn_audit_dropped_total 1"), std::string::npos);
  EXPECT_NE(text.find("cairn_audit_head_seq 3"), std::string::npos);
}

TEST_F(AuditLogTest, FullQueueBlocksAppendUntilThereIsRoom) {
  ControlledStore controlled(*store_);
  AuditLogOptions options;
  options.queue_capacity = 1;
  ASSERT_OK_AND_ASSIGN(auto log, AuditLog::Open(controlled, options));
  controlled.held_ = true;
  log->Append(Request(1), nullptr);
  while (!controlled.entered_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log->Append(Request(2), nullptr);  // fills the queue
  std::atomic<bool> returned{false};
  std::thread blocked([&] {
    log->Append(Request(3), nullptr);
    returned = true;
  });
  while (log->Stats().blocked == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  controlled.held_ = false;
  blocked.join();
  ASSERT_OK(log->Flush());
  EXPECT_EQ(log->Stats().appended, 3);
  EXPECT_EQ(log->Stats().rejected, 0);
}

TEST_F(AuditLogTest, StoreFailuresAreRetriedThenReportedAndTheChainStaysWhole) {
  ControlledStore controlled(*store_);
  AuditLogOptions options;
  options.retry_backoff = std::chrono::milliseconds(1);
  ASSERT_OK_AND_ASSIGN(auto log, AuditLog::Open(controlled, options));
  controlled.failures_left_ = 2;  // the third attempt succeeds
  Status first = Internal("not called");
  log->Append(Request(1), [&](Status s) { first = s; });
  ASSERT_OK(log->Flush());
  EXPECT_OK(first);
  controlled.failures_left_ = 3;  // every attempt fails
  Status second;
  log->Append(Request(2), [&](Status s) { second = s; });
  EXPECT_EQ(log->Flush().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.code(), StatusCode::kUnavailable);
  EXPECT_EQ(log->Stats().failed, 1);
  log->Append(Request(3), nullptr);
  ASSERT_OK(log->Flush());
  EXPECT_EQ(log->Head().seq, 2);
  ASSERT_OK_AND_ASSIGN(VerifyResult r, log->Verify());
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries_checked, 2);
}

TEST_F(AuditLogTest, StopDrainsTheQueueAndRefusesLaterAppends) {
  OpenLog();
  std::atomic<int> ok{0};
  for (int i = 0; i < 1000; ++i) {
    log_->Append(Request(i), [&](Status s) {
      if (s.ok()) ++ok;
    });
  }
  log_->Stop();
  EXPECT_EQ(ok.load(), 1000);
  Status after;
  log_->Append(Request(0), [&](Status s) { after = s; });
  EXPECT_EQ(after.code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(log_->Record(Request(0)));
  log_->Stop();  // idempotent
  ASSERT_OK_AND_ASSIGN(AuditHead head, store_->Head());
  EXPECT_EQ(head.seq, 1000);
}

TEST_F(AuditLogTest, FillsTimeFromTheClockWhenUnset) {
  ManualClock clock(42'000);
  AuditLogOptions options;
  options.clock = &clock;
  OpenLog(options);
  AuditEntry e = Request(1);
  e.time_ms = 0;
  log_->Append(e, nullptr);
  ASSERT_OK(log_->Flush());
  EXPECT_EQ(All().at(0).time_ms, 42'000);
}

}  // namespace
}  // namespace cairn::audit
