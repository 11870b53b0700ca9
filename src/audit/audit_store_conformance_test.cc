// The AuditStore conformance suite: every implementation must pass it. A backend joins by adding
// an entry to kBackends (a PostgreSQL store would open its database and return UNAVAILABLE when
// none is reachable, which skips the suite).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "audit/audit_store.h"
#include "audit/sql_audit_store.h"
#include "base/status_testing.h"
#include "base/test_services.h"
#include "pg/connection.h"

namespace cairn::audit {
namespace {

struct Backend {
  std::string name;
  // Opens the store kept under `dir`; opening the same dir again sees the same data.
  std::function<StatusOr<std::unique_ptr<AuditStore>>(const std::string& dir)> open;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

StatusOr<std::unique_ptr<AuditStore>> OpenSqlite(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, SqlAuditStore::OpenSqlite(dir + "/audit.db"));
  return std::unique_ptr<AuditStore>(std::move(store));
}

StatusOr<std::unique_ptr<AuditStore>> OpenSqliteSingleConnection(const std::string& dir) {
  sqlite::DatabaseOptions options;
  options.reader_connections = 0;
  options.checkpoint_frames = 0;
  ASSIGN_OR_RETURN(auto store, SqlAuditStore::OpenSqlite(dir + "/audit.db", options));
  return std::unique_ptr<AuditStore>(std::move(store));
}

// PostgreSQL from scripts/test_services.sh, a schema per directory (named after it).
std::string SchemaFor(const std::string& dir) {
  return testing_services::TestSchemaName("audit_", dir);
}

StatusOr<std::unique_ptr<AuditStore>> OpenPostgres(const std::string& dir) {
  auto uri = testing_services::ServiceUri("POSTGRES");
  if (!uri) {
    if (testing_services::ServicesRequired()) {
      return FailedPrecondition("CAIRN_TEST_POSTGRES_URI is unset but CAIRN_REQUIRE_SERVICES=1");
    }
    return Unavailable("CAIRN_TEST_POSTGRES_URI is unset (scripts/test_services.sh starts it)");
  }
  ASSIGN_OR_RETURN(auto admin, pg::Connection::Open(*uri, {}));
  RETURN_IF_ERROR(admin->Exec("CREATE SCHEMA IF NOT EXISTS " + SchemaFor(dir)));
  pg::DatabaseOptions options;
  options.reader_connections = 2;
  options.session_setup = "SET search_path TO " + SchemaFor(dir);
  ASSIGN_OR_RETURN(auto store, SqlAuditStore::OpenPostgres(*uri, options));
  return std::unique_ptr<AuditStore>(std::move(store));
}

const Backend kBackends[] = {
    {"Sqlite", OpenSqlite},
    {"SqliteSingleConnection", OpenSqliteSingleConnection},
    {"Postgres", OpenPostgres},
};

// Entries seq first..first+n-1 chained after `prev`, with a few fields varying by seq.
std::vector<AuditEntry> Chained(int64_t first, int n, std::string prev) {
  static const char* const kTenants[] = {"acme", "globex"};
  static const char* const kOutcomes[] = {"ok", "ok", "denied", "error"};
  std::vector<AuditEntry> out;
  for (int64_t seq = first; seq < first + n; ++seq) {
    AuditEntry e;
    e.seq = seq;
    e.time_ms = 1000 * seq;
    e.principal = seq % 3 == 0 ? "bob" : "alice";
    e.tenant = kTenants[seq % 2];
    e.action = seq % 5 == 0 ? "GET /api/2.0/mlflow/runs/get" : "POST /api/2.0/mlflow/runs/create";
    e.resource = "run-" + std::to_string(seq);
    e.outcome = kOutcomes[seq % 4];
    e.status = e.outcome == "ok" ? 200 : 403;
    e.request_id = "req-" + std::to_string(seq);
    e.client = "10.0.0.1:5000";
    e.prev_hash = prev;
    e.hash = EntryHash(e, "");
    prev = e.hash;
    out.push_back(std::move(e));
  }
  return out;
}

class AuditStoreConformanceTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-audit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = GetParam().open(dir_);
    if (!opened.ok() && opened.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << GetParam().name << " unavailable: " << opened.status().ToString();
    }
    ASSERT_OK(opened);
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    ASSERT_OK_AND_ASSIGN(store_, GetParam().open(dir_));
  }
  // Appends entries 1..n.
  void Fill(int n) { ASSERT_OK(store_->AppendBatch(Chained(1, n, std::string(kGenesisHash)))); }
  std::vector<AuditEntry> All() {
    std::vector<AuditEntry> out;
    EXPECT_OK(store_->Scan(1, [&](const AuditEntry& e) {
      out.push_back(e);
      return Status::Ok();
    }));
    return out;
  }
  static std::vector<int64_t> Seqs(const std::vector<AuditEntry>& entries) {
    std::vector<int64_t> out;
    for (const AuditEntry& e : entries) out.push_back(e.seq);
    return out;
  }

  std::string dir_;
  std::unique_ptr<AuditStore> store_;
};

TEST_P(AuditStoreConformanceTest, EmptyStoreHasGenesisHead) {
  ASSERT_OK_AND_ASSIGN(AuditHead head, store_->Head());
  EXPECT_EQ(head, AuditHead{});
  EXPECT_EQ(head.hash, kGenesisHash);
  EXPECT_TRUE(All().empty());
}

TEST_P(AuditStoreConformanceTest, AppendBatchStoresEntriesAndMovesHeadDurably) {
  const std::vector<AuditEntry> first = Chained(1, 3, std::string(kGenesisHash));
  ASSERT_OK(store_->AppendBatch(first));
  const std::vector<AuditEntry> second = Chained(4, 2, first.back().hash);
  ASSERT_OK(store_->AppendBatch(second));
  Reopen();
  ASSERT_OK_AND_ASSIGN(AuditHead head, store_->Head());
  EXPECT_EQ(head, (AuditHead{5, second.back().hash}));
  std::vector<AuditEntry> expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(All(), expected);
}

TEST_P(AuditStoreConformanceTest, AppendBatchRejectsBatchesThatDoNotFollowTheHead) {
  Fill(3);
  ASSERT_OK_AND_ASSIGN(AuditHead head, store_->Head());
  EXPECT_EQ(store_->AppendBatch({}).code(), StatusCode::kInvalidArgument);
  // A seq already taken, one skipped, and a wrong link.
  EXPECT_EQ(store_->AppendBatch(Chained(3, 2, head.hash)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AppendBatch(Chained(5, 2, head.hash)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AppendBatch(Chained(4, 2, std::string(kGenesisHash))).code(),
            StatusCode::kFailedPrecondition);
  // A good first entry followed by a bad one stores neither.
  std::vector<AuditEntry> broken = Chained(4, 3, head.hash);
  broken[2].prev_hash = broken[0].hash;
  EXPECT_EQ(store_->AppendBatch(broken).code(), StatusCode::kFailedPrecondition);
  broken = Chained(4, 3, head.hash);
  broken[1].seq = 6;
  EXPECT_EQ(store_->AppendBatch(broken).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Seqs(All()), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_OK_AND_ASSIGN(AuditHead after, store_->Head());
  EXPECT_EQ(after, head);
}

TEST_P(AuditStoreConformanceTest, StringsRoundTripByteForByte) {
  std::vector<AuditEntry> entries = Chained(1, 1, std::string(kGenesisHash));
  entries[0].principal = std::string("nul\0inside", 10);
  entries[0].resource = "quote\" back\\slash\nnewline \xc3\xa9 \xf0\x9f\x94\x92";
  entries[0].request_id = "";
  entries[0].hash = EntryHash(entries[0], "");
  ASSERT_OK(store_->AppendBatch(entries));
  Reopen();
  EXPECT_EQ(All(), entries);
}

TEST_P(AuditStoreConformanceTest, QueryFiltersByEachFieldAndTheirConjunction) {
  Fill(20);
  auto seqs = [&](AuditFilter f) {
    f.limit = 1000;
    auto page = store_->Query(f);
    EXPECT_OK(page);
    return page.ok() ? Seqs(page->entries) : std::vector<int64_t>{};
  };
  EXPECT_EQ(seqs({}).size(), 20u);
  EXPECT_EQ(seqs({.tenant = "acme"}), (std::vector<int64_t>{2, 4, 6, 8, 10, 12, 14, 16, 18, 20}));
  EXPECT_EQ(seqs({.principal = "bob"}), (std::vector<int64_t>{3, 6, 9, 12, 15, 18}));
  EXPECT_EQ(seqs({.action_prefix = "GET "}), (std::vector<int64_t>{5, 10, 15, 20}));
  EXPECT_EQ(seqs({.action_prefix = "POST /api/2.0/mlflow/runs/create"}).size(), 16u);
  EXPECT_TRUE(seqs({.action_prefix = "get "}).empty());  // bytes, not case-folded
  EXPECT_TRUE(seqs({.action_prefix = "%"}).empty());     // no wildcards
  EXPECT_TRUE(seqs({.action_prefix = "_ET"}).empty());
  EXPECT_EQ(seqs({.outcome = "denied"}), (std::vector<int64_t>{2, 6, 10, 14, 18}));
  EXPECT_EQ(seqs({.from_ms = 3000, .to_ms = 6000}), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(seqs({.tenant = "acme", .principal = "bob", .outcome = "denied"}),
            (std::vector<int64_t>{6, 18}));
  EXPECT_TRUE(seqs({.tenant = "initech"}).empty());
}

TEST_P(AuditStoreConformanceTest, QueryPagesWithTheCursor) {
  Fill(10);
  AuditFilter f{.tenant = "acme", .limit = 2};
  std::vector<int64_t> seen;
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(AuditPage page, store_->Query(f));
    ++pages;
    for (const AuditEntry& e : page.entries) seen.push_back(e.seq);
    if (!page.next_after_seq) break;
    EXPECT_EQ(*page.next_after_seq, page.entries.back().seq);
    f.after_seq = *page.next_after_seq;
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 4, 6, 8, 10}));
  EXPECT_EQ(pages, 3);
  // A page that ends exactly at the last match says there is no more.
  ASSERT_OK_AND_ASSIGN(AuditPage exact, store_->Query({.after_seq = 5, .limit = 5}));
  EXPECT_EQ(Seqs(exact.entries), (std::vector<int64_t>{6, 7, 8, 9, 10}));
  EXPECT_FALSE(exact.next_after_seq.has_value());
}

TEST_P(AuditStoreConformanceTest, QueryRejectsLimitsOutOfRange) {
  Fill(2);
  EXPECT_EQ(store_->Query({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Query({.limit = kMaxQueryLimit + 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Query({.after_seq = -1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_OK(store_->Query({.limit = kMaxQueryLimit}));
}

TEST_P(AuditStoreConformanceTest, ScanStreamsFromASeqAcrossChunksAndStopsOnError) {
  std::string prev(kGenesisHash);
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<AuditEntry> entries = Chained(1 + batch * 700, 700, prev);
    prev = entries.back().hash;
    ASSERT_OK(store_->AppendBatch(entries));
  }
  int64_t expected = 1000;
  ASSERT_OK(store_->Scan(1000, [&](const AuditEntry& e) {
    EXPECT_EQ(e.seq, expected++);
    return Status::Ok();
  }));
  EXPECT_EQ(expected, 2101);
  int calls = 0;
  Status stopped = store_->Scan(1, [&](const AuditEntry& e) {
    ++calls;
    return e.seq == 600 ? Internal("enough") : Status::Ok();
  });
  EXPECT_EQ(stopped.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 600);
  calls = 0;
  ASSERT_OK(store_->Scan(5000, [&](const AuditEntry&) {
    ++calls;
    return Status::Ok();
  }));
  EXPECT_EQ(calls, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditStoreConformanceTest, testing::ValuesIn(kBackends),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace cairn::audit
