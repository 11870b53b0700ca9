// SQLite-specific behaviour of the SQLite metadata backend: migrations, several processes on one
// file, crash durability, and speed. Interface semantics are in the *_conformance_test.cc suites.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/ids.h"
#include "metadata/migrations/sqlite_migrations.h"
#include "metadata/sql/sql_tracking_store.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "sqlite/connection.h"
#include "sqlite/migrator.h"

namespace cairn::metadata {
namespace {

constexpr std::string_view kTenant = "default";
constexpr std::string_view kRoot = "file:///art";

// The tracking and registry stores of one opened backend behind one pointer, for tests that use
// both.
class OpenedStores : public TrackingStoreWrapper, public RegistryStoreWrapper {
 public:
  explicit OpenedStores(MetadataStores stores)
      : TrackingStoreWrapper(*stores.tracking),
        RegistryStoreWrapper(*stores.registry),
        stores_(std::move(stores)) {}

  StatusOr<int> SchemaVersionForTest() {
    return dynamic_cast<SqlTrackingStore&>(*stores_.tracking)
        .database()
        .SqliteForTest()
        ->SchemaVersionForTest();
  }

 private:
  MetadataStores stores_;
};

StatusOr<std::unique_ptr<OpenedStores>> Open(const std::string& path,
                                             sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(MetadataStores stores, OpenSqliteMetadataStores(path, options));
  return std::make_unique<OpenedStores>(std::move(stores));
}

class SqliteMetadataBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-sqlite-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/meta.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<OpenedStores> MustOpen(sqlite::DatabaseOptions options = {}) {
    auto store = Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    EXPECT_TRUE(store.value()->EnsureDefaultExperiment(kTenant, kRoot, 1).ok());
    return std::move(store).value();
  }

  // Runs `sql` on a separate raw connection; returns the first column of the first row.
  std::string RawQuery(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::string out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  RunInfo NewRunInfo(const std::string& experiment_id, int64_t start_time) {
    RunInfo info;
    info.run_id = ids_.Hex32();
    info.experiment_id = experiment_id;
    info.start_time = start_time;
    info.artifact_uri = "file:///art/" + info.run_id;
    return info;
  }

  std::string dir_;
  std::string path_;
  IdGenerator ids_{7};
};

TEST_F(SqliteMetadataBackendTest, MigrationsAreRecordedOnceAndReopenIsIdempotent) {
  int newest = migrations::SqliteMigrations().back().version;
  {
    auto store = MustOpen();
    ASSERT_NE(store, nullptr);
    auto version = store->SchemaVersionForTest();
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, newest);
  }
  {
    auto store = MustOpen();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersionForTest(), newest);
  }
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM schema_version"), std::to_string(newest));
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteMetadataBackendTest, RefusesADatabaseFromANewerBinary) {
  { ASSERT_NE(MustOpen(), nullptr); }
  RawQuery(
      "INSERT INTO schema_version (version, description, applied_at_ms) VALUES (9999, "
      "'future', 0) RETURNING version");
  auto store = Open(path_, {});
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteMetadataBackendTest, InMemoryDatabaseWorks) {
  auto store = Open(":memory:", {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->EnsureDefaultExperiment(kTenant, kRoot, 1).ok());
  auto run = (*store)->CreateRun(kTenant, NewRunInfo("0", 1), {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE((*store)->LogBatch(kTenant, run->info.run_id, {{"m", 1.0, 1, 0}}, {}, {}).ok());
  auto got = (*store)->GetRun(kTenant, run->info.run_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->metrics.size(), 1u);
}

// Several processes open a fresh file at once (each migrating) and write concurrently: none may
// fail, and every write must be there afterwards.
TEST_F(SqliteMetadataBackendTest, ManyProcessesOpenAndWriteOneFileAtOnce) {
  constexpr int kProcesses = 6;
  constexpr int kBatches = 20;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      {
        auto store = Open(path_, {});
        if (!store.ok()) {
          std::fprintf(stderr, "child %d open: %s\n", p, store.status().ToString().c_str());
          _exit(1);
        }
        Status s = (*store)->EnsureDefaultExperiment(kTenant, kRoot, 1);
        auto exp =
            (*store)->CreateExperiment(kTenant, "proc-" + std::to_string(p), "", kRoot, {}, 2);
        if (!s.ok() || !exp.ok()) {
          std::fprintf(stderr, "child %d: %s %s\n", p, s.ToString().c_str(),
                       exp.status().ToString().c_str());
          _exit(2);
        }
        IdGenerator ids(1000 + p);
        RunInfo info;
        info.run_id = ids.Hex32();
        info.experiment_id = *exp;
        info.run_name = "run-" + std::to_string(p);
        auto run = (*store)->CreateRun(kTenant, info, {});
        if (!run.ok()) _exit(3);
        for (int b = 0; b < kBatches && code == 0; ++b) {
          Status logged = (*store)->LogBatch(kTenant, info.run_id, {{"m", 1.0 * b, b, b}}, {}, {});
          if (!logged.ok()) {
            std::fprintf(stderr, "child %d log: %s\n", p, logged.ToString().c_str());
            code = 4;
          }
        }
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  SearchExperimentsQuery eq;
  auto exps = store->SearchExperiments(kTenant, eq);
  ASSERT_TRUE(exps.ok());
  EXPECT_EQ(exps->items.size(), static_cast<size_t>(kProcesses + 1));
  SearchRunsQuery rq;
  for (const Experiment& e : exps->items) rq.experiment_ids.push_back(e.experiment_id);
  auto runs = store->SearchRuns(kTenant, rq);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->items.size(), static_cast<size_t>(kProcesses));
  for (const metadata::Run& run : runs->items) {
    auto history = store->GetMetricHistory(kTenant, run.info.run_id, "m", Page{});
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->items.size(), static_cast<size_t>(kBatches));
  }
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM schema_version"),
            std::to_string(migrations::SqliteMigrations().back().version));
}

// A writer killed with SIGKILL loses nothing it had acknowledged.
TEST_F(SqliteMetadataBackendTest, AcknowledgedWritesSurviveKill9) {
  std::string run_id;
  {
    auto store = MustOpen();
    ASSERT_NE(store, nullptr);
    auto run = store->CreateRun(kTenant, NewRunInfo("0", 1), {});
    ASSERT_TRUE(run.ok());
    run_id = run->info.run_id;
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto store = Open(path_, {});
    if (!store.ok()) _exit(1);
    for (int32_t step = 0;; ++step) {
      Status s = (*store)->LogBatch(kTenant, run_id, {{"m", 1.0 * step, step, step}},
                                    {{"p" + std::to_string(step), "v"}}, {});
      if (!s.ok()) _exit(2);
      // Acknowledge only after LogBatch returned OK.
      if (write(fds[1], &step, sizeof(step)) != sizeof(step)) _exit(3);
    }
  }
  close(fds[1]);
  int32_t acknowledged = -1;
  int32_t step = 0;
  while (acknowledged < 300 && read(fds[0], &step, sizeof(step)) == sizeof(step)) {
    acknowledged = step;
  }
  kill(pid, SIGKILL);
  // Drain what the child acknowledged before it died.
  while (read(fds[0], &step, sizeof(step)) == sizeof(step)) acknowledged = step;
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << status;
  ASSERT_GE(acknowledged, 300);

  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  auto history = store->GetMetricHistory(kTenant, run_id, "m", Page{100000, 0});
  ASSERT_TRUE(history.ok());
  EXPECT_GE(static_cast<int64_t>(history->items.size()), acknowledged + 1);
  auto run = store->GetRun(kTenant, run_id);
  ASSERT_TRUE(run.ok());
  // Each batch is atomic: params and metrics arrive together.
  EXPECT_EQ(run->params.size(), history->items.size());
}

// Writes and searches at scale (10k runs, a 1000-metric batch) give the right answers. The
// timings are printed for a look, not checked: bench/ measures speed.
TEST_F(SqliteMetadataBackendTest, WritesAndSearchesAtScale) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  auto run = store->CreateRun(kTenant, NewRunInfo("0", 1), {});
  ASSERT_TRUE(run.ok());
  const std::string& run_id = run->info.run_id;
  using Clock = std::chrono::steady_clock;

  constexpr int kCalls = 3000;
  auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(store->LogBatch(kTenant, run_id, {{"loss", 0.5, i, i}}, {}, {}).ok());
  }
  double per_call_us =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCalls;

  std::vector<Metric> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({"k" + std::to_string(i % 10), 1.0 * i, i, i});
  start = Clock::now();
  ASSERT_TRUE(store->LogBatch(kTenant, run_id, batch, {}, {}).ok());
  double batch_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

  auto exp = store->CreateExperiment(kTenant, "many", "", kRoot, {}, 1);
  ASSERT_TRUE(exp.ok());
  constexpr int kRuns = 10000;
  for (int i = 0; i < kRuns; ++i) {
    auto r = store->CreateRun(kTenant, NewRunInfo(*exp, i), {});
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(store
                    ->LogBatch(kTenant, r->info.run_id, {{"acc", (i % 1000) / 1000.0, 1, 0}},
                               {{"bucket", std::to_string(i % 100)}}, {})
                    .ok());
  }
  SearchRunsQuery query;
  query.experiment_ids = {*exp};
  query.filter.clauses.push_back(
      {filter::Entity::kParam, "bucket", filter::Comparator::kEq, std::string("7")});
  query.filter.clauses.push_back({filter::Entity::kMetric, "acc", filter::Comparator::kGt, 0.5});
  query.page.max_results = 100;
  start = Clock::now();
  auto page = store->SearchRuns(kTenant, query);
  double search_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 50u);

  query.filter = {};
  query.order_by = {{filter::Entity::kMetric, "acc", false}};
  start = Clock::now();
  page = store->SearchRuns(kTenant, query);
  double sorted_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 100u);
  EXPECT_TRUE(page->has_more);

  std::printf(
      "log-batch(1 metric): %.1f us/call; log-batch(1000 metrics): %.2f ms; "
      "search 10k runs with filter: %.2f ms; sorted by metric: %.2f ms\n",
      per_call_us, batch_ms, search_ms, sorted_ms);
}

// A database written by a binary that knew only the tracking schema (version 1) gains the
// registry on open and keeps its data.
TEST_F(SqliteMetadataBackendTest, VersionOneDatabaseUpgradesToTheRegistry) {
  {
    auto connection = sqlite::Connection::Open(path_, {});
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    std::vector<sqlite::Migration> v1(migrations::SqliteMigrations().begin(),
                                      migrations::SqliteMigrations().begin() + 1);
    ASSERT_TRUE(sqlite::Migrate(**connection, v1).ok());
    ASSERT_TRUE((*connection)
                    ->Exec("INSERT INTO experiments VALUES ('default', 1, 'old', 'file:///art/1', "
                           "'active', 1, 1)")
                    .ok());
  }
  EXPECT_EQ(RawQuery("SELECT MAX(version) FROM schema_version"), "1");
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersionForTest(), migrations::SqliteMigrations().back().version);
  EXPECT_TRUE(store->GetExperimentByName(kTenant, "old").ok());
  ASSERT_TRUE(store->CreateRegisteredModel(kTenant, "m", "", {}, "u", 1).ok());
  CreateModelVersionRequest request;
  request.name = "m";
  request.source = "s3://b/m";
  auto version = store->CreateModelVersion(kTenant, request, 2);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->version, 1);
}

// Metric history written by a version-2 binary (one row per point in `metrics`) reads back merged
// with the chunks written after the upgrade; re-logged points still collapse.
TEST_F(SqliteMetadataBackendTest, VersionTwoMetricRowsReadTogetherWithChunks) {
  std::string run_id(32, 'a');
  {
    auto connection = sqlite::Connection::Open(path_, {});
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    std::vector<sqlite::Migration> v2(migrations::SqliteMigrations().begin(),
                                      migrations::SqliteMigrations().begin() + 2);
    ASSERT_TRUE(sqlite::Migrate(**connection, v2).ok());
    std::string sql =
        "INSERT INTO experiments VALUES ('default', 1, 'old', 'file:///art/1', 'active', 1, 1);"
        "INSERT INTO runs (run_uuid, tenant_id, experiment_id, name, user_id, status, "
        "start_time, lifecycle_stage, artifact_uri) VALUES ('" +
        run_id +
        "', 'default', 1, 'r', 'u', 'RUNNING', 1, 'active', 'file:///art/1/r');"
        "INSERT INTO metrics (run_uuid, key, timestamp, step, value, is_nan, tenant_id, "
        "dataset_name) VALUES ('" +
        run_id + "', 'loss', 10, 0, 1.0, 0, 'default', 'train'), ('" + run_id +
        "', 'loss', 12, 2, 0, 1, 'default', NULL);";
    ASSERT_TRUE((*connection)->Exec(sql).ok());
  }
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  Metric again{"loss", 1.0, 10, 0};  // the same point as the first old row
  again.dataset_name = "eval";
  ASSERT_TRUE(store->LogBatch(kTenant, run_id, {{"loss", 0.5, 11, 1}, again}, {}, {}).ok());
  auto history = store->GetMetricHistory(kTenant, run_id, "loss", Page{100, 0});
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->items.size(), 3u);
  EXPECT_EQ(history->items[0].value, 1.0);
  EXPECT_EQ(history->items[0].dataset_name, "train");
  EXPECT_EQ(history->items[1].value, 0.5);
  EXPECT_TRUE(std::isnan(history->items[2].value));
  auto range = store->GetMetricHistoryForRuns(kTenant, {run_id}, "loss", 1, 5);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  ASSERT_EQ(range->size(), 2u);
  EXPECT_EQ((*range)[0].step, 1);
  EXPECT_EQ((*range)[1].step, 2);
}

// The rename cascade reaches every registry table, and deleting the model leaves no row behind.
TEST_F(SqliteMetadataBackendTest, RegistryRenameAndDeleteReachEveryTable) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateRegisteredModel(kTenant, "a", "", {{"k", "v"}}, "u", 1).ok());
  CreateModelVersionRequest request;
  request.name = "a";
  request.tags = {{"vk", "vv"}};
  ASSERT_TRUE(store->CreateModelVersion(kTenant, request, 2).ok());
  ASSERT_TRUE(store->SetRegisteredModelAlias(kTenant, "a", "champion", 1, 3).ok());
  RegistryStore::PromoteRequest promote{
      .name = "a", .version = 1, .stage = ModelStage::kStaging, .principal = "p"};
  ASSERT_TRUE(store->PromoteModelVersion(kTenant, promote, 4).ok());
  ASSERT_TRUE(store->RenameRegisteredModel(kTenant, "a", "b", 5).ok());
  const char* tables[] = {"registered_models",        "registered_model_tags",
                          "model_versions",           "model_version_tags",
                          "registered_model_aliases", "model_version_promotions"};
  for (const char* table : tables) {
    EXPECT_EQ(RawQuery(std::string("SELECT group_concat(DISTINCT name) FROM ") + table), "b")
        << table;
  }
  EXPECT_EQ(RawQuery("PRAGMA foreign_key_check"), "");
  ASSERT_TRUE(store->DeleteRegisteredModel(kTenant, "b").ok());
  for (const char* table : tables) {
    EXPECT_EQ(RawQuery(std::string("SELECT COUNT(*) FROM ") + table), "0") << table;
  }
}

// The registry's hot reads answer correctly with 1k models; timings are printed, not checked.
TEST_F(SqliteMetadataBackendTest, RegistryReadsAtScale) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  constexpr int kModels = 1000;
  int64_t now = 1;
  for (int m = 0; m < kModels; ++m) {
    std::string name = "model-" + std::to_string(m);
    ASSERT_TRUE(store
                    ->CreateRegisteredModel(kTenant, name, "",
                                            {{"team", "t" + std::to_string(m % 10)}}, "u", now++)
                    .ok());
    for (int v = 1; v <= 3; ++v) {
      CreateModelVersionRequest request;
      request.name = name;
      request.source = "s3://bucket/" + name + "/" + std::to_string(v);
      request.run_id = ids_.Hex32();
      request.tags = {{"build", name + "-" + std::to_string(v)}, {"env", "ci"}};
      ASSERT_TRUE(store->CreateModelVersion(kTenant, request, now++).ok());
    }
    ASSERT_TRUE(
        store->TransitionModelVersionStage(kTenant, name, 2, ModelStage::kProduction, false, now++)
            .ok());
    ASSERT_TRUE(store->SetRegisteredModelAlias(kTenant, name, "champion", 2, now++).ok());
  }
  using Clock = std::chrono::steady_clock;
  constexpr int kCalls = 2000;
  auto per_call_us = [&](auto&& call) {
    auto start = Clock::now();
    for (int i = 0; i < kCalls; ++i) call("model-" + std::to_string((i * 7919) % kModels));
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCalls;
  };
  double by_alias_us = per_call_us([&](const std::string& name) {
    auto v = store->GetModelVersionByAlias(kTenant, name, "champion");
    ASSERT_TRUE(v.ok());
    ASSERT_EQ(v->version, 2);
  });
  double latest_us = per_call_us([&](const std::string& name) {
    auto latest = store->GetLatestVersions(kTenant, name, {});
    ASSERT_TRUE(latest.ok());
    ASSERT_EQ(latest->size(), 2u);
  });
  double by_tag_us = per_call_us([&](const std::string& name) {
    SearchModelVersionsQuery query;
    query.filter.clauses.push_back(
        {filter::Entity::kTag, "build", filter::Comparator::kEq, name + "-3"});
    auto page = store->SearchModelVersions(kTenant, query);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->items.size(), 1u);
  });
  SearchRegisteredModelsQuery models_query;
  models_query.page.max_results = 100;
  auto start = Clock::now();
  auto models = store->SearchRegisteredModels(kTenant, models_query);
  double models_page_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->items.size(), 100u);
  EXPECT_EQ(models->items[0].latest_versions.size(), 2u);

  std::printf(
      "registry, 1k models: get-by-alias %.1f us; get-latest-versions %.1f us; search versions "
      "by tag %.1f us; a page of 100 models with children %.2f ms\n",
      by_alias_us, latest_us, by_tag_us, models_page_ms);
}

}  // namespace
}  // namespace cairn::metadata
