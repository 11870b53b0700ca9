// The TrackingStore conformance suite: every backend must pass it. A backend joins by adding a
// Backend to kConformanceBackends (metadata_store_test_backends.h); a backend that cannot start
// here (no server) skips in SetUp. Registry: registry_store_conformance_test.cc; traces:
// trace_store_conformance_test.cc.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <thread>

#include "base/ids.h"
#include "filter/filter.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/tracking_store.h"

namespace cairn::metadata {
namespace {

using filter::Clause;
using filter::Comparator;
using filter::Entity;

using testing_util::Backend;
using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";
constexpr std::string_view kRoot = "file:///artifacts";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Metric M(std::string key, double value, int64_t timestamp, int64_t step = 0) {
  Metric m;
  m.key = std::move(key);
  m.value = value;
  m.timestamp = timestamp;
  m.step = step;
  return m;
}

Clause C(Entity entity, std::string key, Comparator op, filter::Value value = {}) {
  Clause c;
  c.entity = entity;
  c.key = std::move(key);
  c.op = op;
  c.value = std::move(value);
  return c;
}

filter::Filter F(std::vector<Clause> clauses) {
  filter::Filter f;
  f.clauses = std::move(clauses);
  return f;
}

const Metric* FindMetric(const std::vector<Metric>& metrics, std::string_view key) {
  for (const Metric& m : metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

std::optional<std::string> FindTag(const std::vector<Tag>& tags, std::string_view key) {
  for (const Tag& t : tags) {
    if (t.key == key) return t.value;
  }
  return std::nullopt;
}

std::optional<std::string> FindParam(const std::vector<Param>& params, std::string_view key) {
  for (const Param& p : params) {
    if (p.key == key) return p.value;
  }
  return std::nullopt;
}

class TrackingStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK(store().EnsureDefaultExperiment(kTenant, kRoot, 1000));
  }

  TrackingStore& store() { return tracking(); }

  std::string NewExperiment(const std::string& name, int64_t now = 2000,
                            std::string_view tenant = kTenant, std::vector<Tag> tags = {}) {
    auto id = store().CreateExperiment(tenant, name, "", kRoot, tags, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  RunInfo NewRunInfo(const std::string& experiment_id, int64_t start_time,
                     const std::string& name = "", const std::string& user = "alice") {
    RunInfo info;
    info.run_id = ids_.Hex32();
    info.experiment_id = experiment_id;
    info.run_name = name;
    info.user_id = user;
    info.start_time = start_time;
    info.artifact_uri = std::string(kRoot) + "/" + experiment_id + "/" + info.run_id;
    return info;
  }

  std::string NewRun(const std::string& experiment_id, int64_t start_time = 5000,
                     const std::string& name = "", const std::string& user = "alice",
                     std::string_view tenant = kTenant) {
    auto run = store().CreateRun(tenant, NewRunInfo(experiment_id, start_time, name, user), {});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->info.run_id : "";
  }

  metadata::Run MustGetRun(const std::string& run_id, std::string_view tenant = kTenant) {
    auto run = store().GetRun(tenant, run_id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : metadata::Run{};
  }

  std::vector<Metric> History(const std::string& run_id, const std::string& key) {
    auto page = store().GetMetricHistory(kTenant, run_id, key, Page{100000, 0});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<Metric>{};
  }

  IdGenerator ids_{42};
};

// ---------------------------------------------------------------------------------------------
// Experiments

TEST_P(TrackingStoreConformanceTest, DefaultExperimentExistsAndEnsureIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, "0"));
  EXPECT_EQ(e.experiment_id, "0");
  EXPECT_EQ(e.name, "Default");
  EXPECT_EQ(e.artifact_location, "file:///artifacts/0");
  EXPECT_EQ(e.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(e.creation_time, 1000);
  ASSERT_OK(store().EnsureDefaultExperiment(kTenant, kRoot, 9999));
  ASSERT_OK_AND_ASSIGN(Experiment again, store().GetExperiment(kTenant, "0"));
  EXPECT_EQ(again.creation_time, 1000);
  SearchExperimentsQuery query;
  query.view_type = ViewType::kAll;
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchExperiments(kTenant, query));
  EXPECT_EQ(page.items.size(), 1u);
}

TEST_P(TrackingStoreConformanceTest, CreateExperimentAssignsIncreasingIdsAndLocations) {
  ASSERT_OK_AND_ASSIGN(std::string first, store().CreateExperiment(kTenant, "first", "",
                                                                   "s3://bucket/root/", {}, 2000));
  ASSERT_OK_AND_ASSIGN(std::string second,
                       store().CreateExperiment(kTenant, "second", "s3://elsewhere/x", kRoot,
                                                {{"owner", "ann"}, {"team", "ml"}}, 3000));
  EXPECT_EQ(first, "1");
  EXPECT_EQ(second, "2");
  ASSERT_OK_AND_ASSIGN(Experiment e1, store().GetExperiment(kTenant, first));
  EXPECT_EQ(e1.artifact_location, "s3://bucket/root/1");
  EXPECT_EQ(e1.creation_time, 2000);
  EXPECT_EQ(e1.last_update_time, 2000);
  ASSERT_OK_AND_ASSIGN(Experiment e2, store().GetExperiment(kTenant, second));
  EXPECT_EQ(e2.name, "second");
  EXPECT_EQ(e2.artifact_location, "s3://elsewhere/x");
  EXPECT_EQ(e2.tags, (std::vector<Tag>{{"owner", "ann"}, {"team", "ml"}}));
}

TEST_P(TrackingStoreConformanceTest, CreateExperimentRejectsTakenNamesIncludingDeleted) {
  std::string id = NewExperiment("dup");
  auto again = store().CreateExperiment(kTenant, "dup", "", kRoot, {}, 2000);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  ASSERT_OK(store().DeleteExperiment(kTenant, id, 3000));
  EXPECT_EQ(store().CreateExperiment(kTenant, "dup", "", kRoot, {}, 4000).status().code(),
            StatusCode::kAlreadyExists);
  // Ids are not reused after a failed create.
  EXPECT_EQ(NewExperiment("fresh"), "2");
}

TEST_P(TrackingStoreConformanceTest, UnknownExperimentIsNotFound) {
  for (const char* id : {"999", "abc", "", "-1"}) {
    auto e = store().GetExperiment(kTenant, id);
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound) << id;
  }
  EXPECT_EQ(store().GetExperiment(kTenant, "999").status().message(),
            "No Experiment with id=999 exists");
  EXPECT_EQ(store().RenameExperiment(kTenant, "999", "x", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteExperiment(kTenant, "999", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().SetExperimentTag(kTenant, "999", {"k", "v"}).code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, GetExperimentByName) {
  std::string id = NewExperiment("by-name");
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperimentByName(kTenant, "by-name"));
  EXPECT_EQ(e.experiment_id, id);
  EXPECT_EQ(store().GetExperimentByName(kTenant, "missing").status().code(), StatusCode::kNotFound);
  ASSERT_OK(store().DeleteExperiment(kTenant, id, 3000));
  ASSERT_OK_AND_ASSIGN(Experiment deleted, store().GetExperimentByName(kTenant, "by-name"));
  EXPECT_EQ(deleted.lifecycle_stage, LifecycleStage::kDeleted);
}

TEST_P(TrackingStoreConformanceTest, RenameExperiment) {
  std::string id = NewExperiment("old-name");
  NewExperiment("taken");
  ASSERT_OK(store().RenameExperiment(kTenant, id, "new-name", 7000));
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, id));
  EXPECT_EQ(e.name, "new-name");
  EXPECT_EQ(e.last_update_time, 7000);
  EXPECT_EQ(store().GetExperimentByName(kTenant, "old-name").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().RenameExperiment(kTenant, id, "taken", 8000).code(),
            StatusCode::kAlreadyExists);
  ASSERT_OK(store().RenameExperiment(kTenant, id, "new-name", 8000));  // same name: fine
  ASSERT_OK(store().DeleteExperiment(kTenant, id, 9000));
  EXPECT_EQ(store().RenameExperiment(kTenant, id, "again", 9500).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreConformanceTest, DeleteAndRestoreExperimentCascadeToRuns) {
  std::string exp = NewExperiment("cascade");
  std::string r1 = NewRun(exp, 100);
  std::string r2 = NewRun(exp, 200);
  std::string other = NewRun("0", 300);
  ASSERT_OK(store().DeleteExperiment(kTenant, exp, 5000));
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(e.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(e.last_update_time, 5000);
  EXPECT_EQ(MustGetRun(r1).info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(MustGetRun(r2).info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(MustGetRun(other).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(store().LogBatch(kTenant, r1, {M("m", 1, 1)}, {}, {}).code(),
            StatusCode::kInvalidArgument);
  // Creating runs in, tagging, deleting again: the experiment must be active.
  EXPECT_EQ(store().CreateRun(kTenant, NewRunInfo(exp, 1), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().SetExperimentTag(kTenant, exp, {"k", "v"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().DeleteExperiment(kTenant, exp, 5001).code(), StatusCode::kNotFound);

  ASSERT_OK(store().RestoreExperiment(kTenant, exp, 6000));
  ASSERT_OK_AND_ASSIGN(Experiment restored, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(restored.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(MustGetRun(r1).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(MustGetRun(r2).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_OK(store().LogBatch(kTenant, r1, {M("m", 1, 1)}, {}, {}));
  EXPECT_EQ(store().RestoreExperiment(kTenant, exp, 6001).code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, ExperimentTags) {
  std::string exp = NewExperiment("tagged");
  ASSERT_OK(store().SetExperimentTag(kTenant, exp, {"a", "1"}));
  ASSERT_OK(store().SetExperimentTag(kTenant, exp, {"b", ""}));
  ASSERT_OK(store().SetExperimentTag(kTenant, exp, {"a", "2"}));
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(e.tags, (std::vector<Tag>{{"a", "2"}, {"b", ""}}));
  ASSERT_OK(store().DeleteExperimentTag(kTenant, exp, "a"));
  Status missing = store().DeleteExperimentTag(kTenant, exp, "a");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(e, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(e.tags, (std::vector<Tag>{{"b", ""}}));
}

// ---------------------------------------------------------------------------------------------
// Tenants

TEST_P(TrackingStoreConformanceTest, TenantsAreIsolated) {
  ASSERT_OK(store().EnsureDefaultExperiment(kOtherTenant, "file:///other", 1500));
  std::string a_exp = NewExperiment("shared-name");
  std::string a_run = NewRun(a_exp, 100, "a-run");
  ASSERT_OK(store().LogBatch(kTenant, a_run, {M("m", 1, 1)}, {{"p", "1"}}, {}));
  std::string a_default_run = NewRun("0", 100, "a-default");

  // Each tenant has its own "0" and its own id sequence; names are unique per tenant only.
  ASSERT_OK_AND_ASSIGN(Experiment b_default, store().GetExperiment(kOtherTenant, "0"));
  EXPECT_EQ(b_default.artifact_location, "file:///other/0");
  EXPECT_EQ(b_default.creation_time, 1500);
  std::string b_exp = NewExperiment("shared-name", 2000, kOtherTenant);
  EXPECT_EQ(b_exp, "1");
  EXPECT_EQ(a_exp, "1");
  std::string b_run = NewRun(b_exp, 100, "b-run", "bob", kOtherTenant);

  // B cannot see or touch A's runs.
  EXPECT_EQ(store().GetRun(kOtherTenant, a_run).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().LogBatch(kOtherTenant, a_run, {M("m", 2, 2)}, {}, {}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteRun(kOtherTenant, a_run, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().GetMetricHistory(kOtherTenant, a_run, "m", Page{}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().GetMetricHistoryForRuns(kOtherTenant, {a_run}, "m", {}, {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(History(a_run, "m").size(), 1u);

  SearchRunsQuery query;
  query.experiment_ids = {"0", "1"};
  ASSERT_OK_AND_ASSIGN(auto b_runs, store().SearchRuns(kOtherTenant, query));
  ASSERT_EQ(b_runs.items.size(), 1u);
  EXPECT_EQ(b_runs.items[0].info.run_id, b_run);
  ASSERT_OK_AND_ASSIGN(auto a_runs, store().SearchRuns(kTenant, query));
  EXPECT_EQ(a_runs.items.size(), 2u);

  // Deleting A's experiment leaves B's experiment of the same id alone.
  ASSERT_OK(store().DeleteExperiment(kTenant, a_exp, 3000));
  ASSERT_OK_AND_ASSIGN(Experiment b_e, store().GetExperiment(kOtherTenant, b_exp));
  EXPECT_EQ(b_e.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(MustGetRun(b_run, kOtherTenant).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(MustGetRun(a_default_run).info.lifecycle_stage, LifecycleStage::kActive);

  SearchExperimentsQuery eq;
  eq.view_type = ViewType::kAll;
  ASSERT_OK_AND_ASSIGN(auto b_exps, store().SearchExperiments(kOtherTenant, eq));
  EXPECT_EQ(b_exps.items.size(), 2u);
  // A tenant that never ran EnsureDefaultExperiment sees nothing.
  ASSERT_OK_AND_ASSIGN(auto none, store().SearchExperiments("nobody", eq));
  EXPECT_TRUE(none.items.empty());
}

// ---------------------------------------------------------------------------------------------
// Runs

TEST_P(TrackingStoreConformanceTest, CreateAndGetRun) {
  RunInfo info = NewRunInfo("0", 12345, "my-run", "carol");
  ASSERT_OK_AND_ASSIGN(metadata::Run created,
                       store().CreateRun(kTenant, info, {{"source", "test"}}));
  EXPECT_EQ(created.info.run_id, info.run_id);
  ASSERT_OK_AND_ASSIGN(metadata::Run run, store().GetRun(kTenant, info.run_id));
  EXPECT_EQ(run.info.run_id, info.run_id);
  EXPECT_EQ(run.info.experiment_id, "0");
  EXPECT_EQ(run.info.run_name, "my-run");
  EXPECT_EQ(run.info.user_id, "carol");
  EXPECT_EQ(run.info.status, RunStatus::kRunning);
  EXPECT_EQ(run.info.start_time, 12345);
  EXPECT_FALSE(run.info.end_time.has_value());
  EXPECT_EQ(run.info.artifact_uri, info.artifact_uri);
  EXPECT_EQ(run.info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(FindTag(run.tags, "source"), "test");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "my-run");
  EXPECT_TRUE(run.metrics.empty());
  EXPECT_TRUE(run.params.empty());
  // The same id twice is refused.
  EXPECT_EQ(store().CreateRun(kTenant, info, {}).status().code(), StatusCode::kAlreadyExists);
}

TEST_P(TrackingStoreConformanceTest, CreateRunTakesNameFromTag) {
  RunInfo info = NewRunInfo("0", 1);
  ASSERT_OK(store().CreateRun(kTenant, info, {{"mlflow.runName", "from-tag"}}));
  metadata::Run run = MustGetRun(info.run_id);
  EXPECT_EQ(run.info.run_name, "from-tag");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "from-tag");
}

TEST_P(TrackingStoreConformanceTest, CreateRunNeedsAnActiveExperiment) {
  EXPECT_EQ(store().CreateRun(kTenant, NewRunInfo("77", 1), {}).status().code(),
            StatusCode::kNotFound);
  std::string exp = NewExperiment("gone");
  ASSERT_OK(store().DeleteExperiment(kTenant, exp, 3000));
  auto run = store().CreateRun(kTenant, NewRunInfo(exp, 1), {});
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.status().message().find("must be in the 'active' state"), std::string::npos);
}

TEST_P(TrackingStoreConformanceTest, UnknownRunIsNotFound) {
  auto run = store().GetRun(kTenant, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(run.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(run.status().message(), "Run with id=0123456789abcdef0123456789abcdef not found");
  EXPECT_EQ(store().LogBatch(kTenant, "nope", {}, {{"a", "b"}}, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().UpdateRun(kTenant, "nope", RunStatus::kFinished, {}, {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().RestoreRun(kTenant, "nope").code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, UpdateRunChangesOnlyGivenFields) {
  std::string id = NewRun("0", 100, "before");
  ASSERT_OK_AND_ASSIGN(RunInfo info,
                       store().UpdateRun(kTenant, id, RunStatus::kFinished, 900, std::nullopt));
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_EQ(info.end_time, 900);
  EXPECT_EQ(info.run_name, "before");
  ASSERT_OK_AND_ASSIGN(
      info, store().UpdateRun(kTenant, id, std::nullopt, std::nullopt, std::string("after")));
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_EQ(info.end_time, 900);
  EXPECT_EQ(info.run_name, "after");
  metadata::Run run = MustGetRun(id);
  EXPECT_EQ(run.info.run_name, "after");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "after");
}

TEST_P(TrackingStoreConformanceTest, DeleteAndRestoreRun) {
  std::string id = NewRun("0", 100);
  ASSERT_OK(store().DeleteRun(kTenant, id, 500));
  metadata::Run run = MustGetRun(id);  // deleted runs are still returned
  EXPECT_EQ(run.info.lifecycle_stage, LifecycleStage::kDeleted);
  std::string expected =
      "The run " + id + " must be in the 'active' state. Current state is deleted.";
  Status s = store().LogBatch(kTenant, id, {M("m", 1, 1)}, {}, {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), expected);
  EXPECT_EQ(store().LogBatch(kTenant, id, {}, {{"p", "v"}}, {}).message(), expected);
  EXPECT_EQ(store().LogBatch(kTenant, id, {}, {}, {{"t", "v"}}).message(), expected);
  EXPECT_EQ(store().DeleteRunTag(kTenant, id, "mlflow.runName").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().UpdateRun(kTenant, id, RunStatus::kFailed, {}, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().LogInputs(kTenant, id, {}, {{"m-1"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store().LogOutputs(kTenant, id, {{"m-1", 0}}).code(), StatusCode::kInvalidArgument);
  run = MustGetRun(id);
  EXPECT_TRUE(run.metrics.empty());
  EXPECT_TRUE(run.params.empty());
  EXPECT_FALSE(FindTag(run.tags, "t").has_value());

  ASSERT_OK(store().RestoreRun(kTenant, id));
  EXPECT_EQ(MustGetRun(id).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_OK(store().LogBatch(kTenant, id, {M("m", 1, 1)}, {}, {}));
}

// ---------------------------------------------------------------------------------------------
// LogBatch

TEST_P(TrackingStoreConformanceTest, ParamsAreWriteOnce) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {{"lr", "0.1"}, {"empty", ""}}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {{"lr", "0.1"}}, {}));  // same value: no-op
  Status changed = store().LogBatch(kTenant, id, {}, {{"lr", "0.2"}}, {});
  EXPECT_EQ(changed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(changed.message(),
            "Changing param values is not allowed. Param with key='lr' was already logged with "
            "value='0.1' for run ID='" +
                id + "'. Attempted logging new value '0.2'.");
  metadata::Run run = MustGetRun(id);
  EXPECT_EQ(FindParam(run.params, "lr"), "0.1");
  EXPECT_EQ(FindParam(run.params, "empty"), "");
}

TEST_P(TrackingStoreConformanceTest, ConflictingParamsInOneBatchAreRejected) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {{"a", "1"}, {"a", "1"}}, {}));  // identical: ok
  Status s = store().LogBatch(kTenant, id, {}, {{"b", "1"}, {"b", "2"}}, {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(FindParam(MustGetRun(id).params, "b").has_value());
}

TEST_P(TrackingStoreConformanceTest, FailedBatchStoresNothing) {
  std::string id = NewRun("0", 1, "original");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {{"fixed", "1"}}, {}));
  Status s = store().LogBatch(kTenant, id, {M("loss", 0.5, 10), M("loss", 0.4, 20, 1)},
                              {{"new", "x"}, {"fixed", "2"}},
                              {{"tag", "v"}, {"mlflow.runName", "renamed"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  metadata::Run run = MustGetRun(id);
  EXPECT_TRUE(run.metrics.empty());
  EXPECT_EQ(run.params.size(), 1u);
  EXPECT_FALSE(FindTag(run.tags, "tag").has_value());
  EXPECT_EQ(run.info.run_name, "original");
  EXPECT_TRUE(History(id, "loss").empty());
}

// LogBatchAsync, waited for.
Status LogBatchAndWait(TrackingStore& store, std::string_view tenant, RunBatch batch) {
  std::promise<Status> answer;
  std::future<Status> future = answer.get_future();
  store.LogBatchAsync(std::string(tenant), std::move(batch),
                      [&answer](Status s) { answer.set_value(std::move(s)); });
  return future.get();
}

TEST_P(TrackingStoreConformanceTest, LogBatchAsyncHasLogBatchsSemantics) {
  std::string id = NewRun("0", 1, "original");
  ASSERT_OK(LogBatchAndWait(store(), kTenant,
                            {id,
                             {M("loss", 0.5, 10), M("loss", 0.4, 20, 1)},
                             {{"fixed", "1"}},
                             {{"mlflow.runName", "renamed"}}}));
  // Answered after the commit: a new read sees all of it.
  metadata::Run run = MustGetRun(id);
  EXPECT_EQ(run.info.run_name, "renamed");
  ASSERT_EQ(run.metrics.size(), 1u);
  EXPECT_EQ(run.metrics[0].value, 0.4);
  EXPECT_EQ(History(id, "loss").size(), 2u);
  // The same errors as LogBatch, and nothing of a failed batch is stored.
  Status changed = LogBatchAndWait(store(), kTenant, {id, {M("x", 1, 30)}, {{"fixed", "2"}}, {}});
  EXPECT_EQ(changed.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(History(id, "x").empty());
  EXPECT_EQ(
      LogBatchAndWait(store(), kTenant, {"0123456789abcdef0123456789abcdef", {}, {}, {}}).code(),
      StatusCode::kNotFound);
  EXPECT_EQ(LogBatchAndWait(store(), kOtherTenant, {id, {M("y", 1, 1)}, {}, {}}).code(),
            StatusCode::kNotFound);
  ASSERT_OK(store().DeleteRun(kTenant, id, 50));
  EXPECT_EQ(LogBatchAndWait(store(), kTenant, {id, {M("z", 1, 1)}, {}, {}}).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreConformanceTest, ConcurrentAsyncBatchesAllLand) {
  std::string id = NewRun("0");
  constexpr int kBatches = 200;
  std::atomic<int> answered{0};
  std::promise<void> done;
  for (int i = 0; i < kBatches; ++i) {
    store().LogBatchAsync(std::string(kTenant), {id, {M("step", i, 1000 + i, i)}, {}, {}},
                          [&](Status s) {
                            EXPECT_TRUE(s.ok()) << s.ToString();
                            if (++answered == kBatches) done.set_value();
                          });
  }
  done.get_future().wait();
  EXPECT_EQ(History(id, "step").size(), static_cast<size_t>(kBatches));
}

TEST_P(TrackingStoreConformanceTest, IdenticalMetricRowsAreDeduplicated) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 1.5, 10, 1), M("m", 1.5, 10, 1)}, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 1.5, 10, 1)}, {}, {}));
  EXPECT_EQ(History(id, "m").size(), 1u);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 1.5, 11, 1), M("m", 2.5, 10, 1)}, {}, {}));
  EXPECT_EQ(History(id, "m").size(), 3u);
}

TEST_P(TrackingStoreConformanceTest, LatestMetricIsMaxOfStepTimestampValue) {
  std::string id = NewRun("0");
  auto latest = [&](const std::string& key) {
    metadata::Run run = MustGetRun(id);
    const Metric* m = FindMetric(run.metrics, key);
    return m != nullptr ? m->value : -12345.0;
  };
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 1.0, 100, 1)}, {}, {}));
  EXPECT_EQ(latest("m"), 1.0);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 2.0, 50, 2)}, {}, {}));  // higher step wins
  EXPECT_EQ(latest("m"), 2.0);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 3.0, 999, 1)}, {}, {}));  // lower step loses
  EXPECT_EQ(latest("m"), 2.0);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 0.5, 60, 2)}, {}, {}));  // later timestamp
  EXPECT_EQ(latest("m"), 0.5);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 0.7, 60, 2)}, {}, {}));  // larger value
  EXPECT_EQ(latest("m"), 0.7);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("m", 0.6, 60, 2)}, {}, {}));  // smaller value
  EXPECT_EQ(latest("m"), 0.7);
  // Within one batch.
  ASSERT_OK(store().LogBatch(
      kTenant, id, {M("k", 5, 1, 3), M("k", 1, 2, 3), M("k", 9, 1, 2), M("k", 0, 2, 3)}, {}, {}));
  EXPECT_EQ(latest("k"), 1.0);
  metadata::Run run = MustGetRun(id);
  const Metric* k = FindMetric(run.metrics, "k");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->step, 3);
  EXPECT_EQ(k->timestamp, 2);
  EXPECT_EQ(run.metrics.size(), 2u);
}

TEST_P(TrackingStoreConformanceTest, NaNAndInfinityRoundTrip) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogBatch(kTenant, id,
                             {M("nan", kNaN, 10), M("pinf", kInf, 10), M("ninf", -kInf, 10),
                              M("big", 1e308, 10), M("tiny", -5e-324, 10)},
                             {}, {}));
  metadata::Run run = MustGetRun(id);
  ASSERT_EQ(run.metrics.size(), 5u);
  EXPECT_TRUE(std::isnan(FindMetric(run.metrics, "nan")->value));
  EXPECT_EQ(FindMetric(run.metrics, "pinf")->value, kInf);
  EXPECT_EQ(FindMetric(run.metrics, "ninf")->value, -kInf);
  EXPECT_EQ(FindMetric(run.metrics, "big")->value, 1e308);
  EXPECT_EQ(FindMetric(run.metrics, "tiny")->value, -5e-324);
  std::vector<Metric> history = History(id, "nan");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(std::isnan(history[0].value));
  ASSERT_OK(store().LogBatch(kTenant, id, {M("nan", kNaN, 10)}, {}, {}));  // deduplicated
  EXPECT_EQ(History(id, "nan").size(), 1u);
  EXPECT_EQ(History(id, "ninf")[0].value, -kInf);

  // A NaN never beats a number at the same step and timestamp; a number replaces a NaN there.
  ASSERT_OK(store().LogBatch(kTenant, id, {M("x", 1.0, 10, 0)}, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id, {M("x", kNaN, 10, 0)}, {}, {}));
  EXPECT_EQ(FindMetric(MustGetRun(id).metrics, "x")->value, 1.0);
  ASSERT_OK(store().LogBatch(kTenant, id, {M("y", kNaN, 10, 0)}, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id, {M("y", -1.0, 10, 0)}, {}, {}));
  EXPECT_EQ(FindMetric(MustGetRun(id).metrics, "y")->value, -1.0);
  // A NaN at a later step is the latest.
  ASSERT_OK(store().LogBatch(kTenant, id, {M("x", kNaN, 10, 1)}, {}, {}));
  EXPECT_TRUE(std::isnan(FindMetric(MustGetRun(id).metrics, "x")->value));
  // Infinity beats every finite value at the same step and timestamp.
  ASSERT_OK(store().LogBatch(kTenant, id, {M("z", 1e300, 10), M("z", kInf, 10)}, {}, {}));
  EXPECT_EQ(FindMetric(MustGetRun(id).metrics, "z")->value, kInf);
}

TEST_P(TrackingStoreConformanceTest, TagsOverwriteAndLastInBatchWins) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {}, {{"t", "1"}, {"t", "2"}, {"u", ""}}));
  metadata::Run run = MustGetRun(id);
  EXPECT_EQ(FindTag(run.tags, "t"), "2");
  EXPECT_EQ(FindTag(run.tags, "u"), "");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {}, {{"t", "3"}}));
  EXPECT_EQ(FindTag(MustGetRun(id).tags, "t"), "3");
  ASSERT_OK(store().DeleteRunTag(kTenant, id, "t"));
  EXPECT_FALSE(FindTag(MustGetRun(id).tags, "t").has_value());
  EXPECT_EQ(store().DeleteRunTag(kTenant, id, "t").code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, RunNameTagRenamesTheRun) {
  std::string id = NewRun("0", 1, "first");
  ASSERT_OK(store().LogBatch(kTenant, id, {}, {}, {{"mlflow.runName", "second"}}));
  metadata::Run run = MustGetRun(id);
  EXPECT_EQ(run.info.run_name, "second");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "second");
  ASSERT_OK(store().UpdateRun(kTenant, id, std::nullopt, std::nullopt, std::string("third")));
  run = MustGetRun(id);
  EXPECT_EQ(run.info.run_name, "third");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "third");
}

// ---------------------------------------------------------------------------------------------
// Metric history

TEST_P(TrackingStoreConformanceTest, MetricHistoryIsOrderedAndPaged) {
  std::string id = NewRun("0");
  // (timestamp, step, value), logged out of order.
  std::vector<Metric> metrics = {M("h", 3, 30, 0),   M("h", 1, 10, 5), M("h", 2, 20, 1),
                                 M("h", 9, 10, 2),   M("h", 4, 10, 2), M("h", 0, 40, 0),
                                 M("other", 1, 1, 1)};
  ASSERT_OK(store().LogBatch(kTenant, id, metrics, {}, {}));
  std::vector<double> values;
  for (const Metric& m : History(id, "h")) {
    values.push_back(m.value);
    EXPECT_EQ(m.key, "h");
  }
  EXPECT_EQ(values, (std::vector<double>{4, 9, 1, 2, 3, 0}));

  ASSERT_OK_AND_ASSIGN(auto p1, store().GetMetricHistory(kTenant, id, "h", Page{4, 0}));
  EXPECT_EQ(p1.items.size(), 4u);
  EXPECT_TRUE(p1.has_more);
  ASSERT_OK_AND_ASSIGN(auto p2, store().GetMetricHistory(kTenant, id, "h", Page{4, 4}));
  ASSERT_EQ(p2.items.size(), 2u);
  EXPECT_FALSE(p2.has_more);
  EXPECT_EQ(p2.items[0].value, 3);
  EXPECT_EQ(p2.items[0].timestamp, 30);
  ASSERT_OK_AND_ASSIGN(auto exact, store().GetMetricHistory(kTenant, id, "h", Page{6, 0}));
  EXPECT_FALSE(exact.has_more);
  ASSERT_OK_AND_ASSIGN(auto none, store().GetMetricHistory(kTenant, id, "missing", Page{}));
  EXPECT_TRUE(none.items.empty());
}

// History written by many calls (each its own stored unit in some backends) reads back as one
// ordered sequence: duplicates across calls collapse, pages and step ranges span the calls.
TEST_P(TrackingStoreConformanceTest, MetricHistorySpansManyWritesAndPagesAcrossThem) {
  std::string id = NewRun("0");
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (int call = 9; call >= 0; --call) {
    std::vector<Metric> batch;
    for (int i = 0; i < 10; ++i) {
      int64_t step = call * 10 + i;
      batch.push_back(M("a", step * 0.5, 1000 + step, step));
      batch.push_back(M("b", -step, 1000, step));
    }
    ASSERT_OK(store().LogBatch(kTenant, id, batch, {}, {}));
  }
  // Re-logging points already stored adds nothing.
  ASSERT_OK(store().LogBatch(kTenant, id, {M("a", 0.0, 1000, 0), M("a", 24.5, 1049, 49)}, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id,
                             {M("a", std::nan(""), 1049, 49), M("a", kInf, 1049, 49),
                              M("a", std::nan(""), 1049, 49), M("a", -kInf, 2000, 100)},
                             {}, {}));

  std::vector<Metric> all = History(id, "a");
  ASSERT_EQ(all.size(), 103u);
  for (size_t i = 0; i < 49; ++i) {
    EXPECT_EQ(all[i].step, static_cast<int64_t>(i));
    EXPECT_EQ(all[i].value, i * 0.5);
  }
  // Timestamp 1049 holds NaN (ordered as 0), 24.5 and inf; -inf at timestamp 2000 is the end.
  EXPECT_TRUE(std::isnan(all[49].value));
  EXPECT_EQ(all[50].value, 24.5);
  EXPECT_EQ(all[51].value, kInf);
  EXPECT_EQ(all[52].step, 50);
  EXPECT_EQ(all.back().value, -kInf);

  std::vector<Metric> paged;
  Page page{7, 0};
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto got, store().GetMetricHistory(kTenant, id, "a", page));
    paged.insert(paged.end(), got.items.begin(), got.items.end());
    if (!got.has_more) break;
    page.offset += 7;
  }
  ASSERT_EQ(paged.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(paged[i].timestamp, all[i].timestamp);
    EXPECT_EQ(paged[i].step, all[i].step);
  }
  ASSERT_OK_AND_ASSIGN(auto past_end, store().GetMetricHistory(kTenant, id, "a", Page{5, 500}));
  EXPECT_TRUE(past_end.items.empty());
  EXPECT_FALSE(past_end.has_more);

  ASSERT_OK_AND_ASSIGN(std::vector<Metric> range,
                       store().GetMetricHistoryForRuns(kTenant, {id}, "b", 15, 34));
  ASSERT_EQ(range.size(), 20u);
  for (size_t i = 0; i < range.size(); ++i) EXPECT_EQ(range[i].step, 15 + static_cast<int64_t>(i));
  ASSERT_OK_AND_ASSIGN(range, store().GetMetricHistoryForRuns(kTenant, {id}, "a", 49, 49));
  ASSERT_EQ(range.size(), 3u);
  EXPECT_TRUE(std::isnan(range[0].value));
  EXPECT_EQ(range[1].value, 24.5);
  EXPECT_EQ(range[2].value, kInf);
}

// Of identical points, the first logged is kept with its model and dataset.
TEST_P(TrackingStoreConformanceTest, DuplicatePointKeepsTheFirstLogged) {
  std::string id = NewRun("0");
  Metric first = M("acc", 0.5, 5, 1);
  first.dataset_name = "train";
  Metric second = first;
  second.dataset_name = "eval";
  ASSERT_OK(store().LogBatch(kTenant, id, {first}, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, id, {second}, {}, {}));
  std::vector<Metric> history = History(id, "acc");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].dataset_name, "train");
}

TEST_P(TrackingStoreConformanceTest, MetricHistoryKeepsModelAndDataset) {
  std::string id = NewRun("0");
  Metric m = M("acc", 0.9, 5, 1);
  m.model_id = "m-abc";
  m.dataset_name = "train";
  m.dataset_digest = "d1";
  ASSERT_OK(store().LogBatch(kTenant, id, {m}, {}, {}));
  std::vector<Metric> history = History(id, "acc");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].model_id, "m-abc");
  EXPECT_EQ(history[0].dataset_name, "train");
  EXPECT_EQ(history[0].dataset_digest, "d1");
}

TEST_P(TrackingStoreConformanceTest, MetricHistoryForRunsFiltersStepsAndOrders) {
  std::string a = NewRun("0", 1);
  std::string b = NewRun("0", 2);
  std::vector<Metric> ma, mb;
  for (int step = 9; step >= 0; --step) {
    ma.push_back(M("loss", step * 1.0, 100 + step, step));
    mb.push_back(M("loss", step * 10.0, 200 + step, step));
  }
  ma.push_back(M("loss", 55, 50, 5));  // same step, earlier timestamp
  ASSERT_OK(store().LogBatch(kTenant, a, ma, {}, {}));
  ASSERT_OK(store().LogBatch(kTenant, b, mb, {}, {}));
  ASSERT_OK_AND_ASSIGN(std::vector<Metric> got,
                       store().GetMetricHistoryForRuns(kTenant, {b, a}, "loss", 3, 6));
  ASSERT_EQ(got.size(), 9u);
  std::vector<std::pair<std::string, int64_t>> order;
  for (const Metric& m : got) order.emplace_back(m.run_id, m.step);
  EXPECT_EQ(order, (std::vector<std::pair<std::string, int64_t>>{
                       {b, 3}, {b, 4}, {b, 5}, {b, 6}, {a, 3}, {a, 4}, {a, 5}, {a, 5}, {a, 6}}));
  EXPECT_EQ(got[6].timestamp, 50);
  EXPECT_EQ(got[6].value, 55);
  ASSERT_OK_AND_ASSIGN(got, store().GetMetricHistoryForRuns(kTenant, {a}, "loss", {}, {}));
  EXPECT_EQ(got.size(), 11u);
  EXPECT_EQ(
      store()
          .GetMetricHistoryForRuns(kTenant, {a, "ffffffffffffffffffffffffffffffff"}, "loss", {}, {})
          .status()
          .code(),
      StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// SearchRuns

class SearchRunsTest : public TrackingStoreConformanceTest {
 protected:
  void SetUp() override {
    TrackingStoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    exp_ = NewExperiment("search");
    r1_ = NewRun(exp_, 1000, "alpha-run", "alice");
    r2_ = NewRun(exp_, 2000, "beta-run", "bob");
    r3_ = NewRun(exp_, 3000, "Gamma", "alice");
    r4_ = NewRun(exp_, 4000, "delta", "carol");
    NewRun("0", 5000, "elsewhere");
    ASSERT_OK(store().UpdateRun(kTenant, r1_, RunStatus::kFinished, 2500, std::nullopt));
    ASSERT_OK(store().UpdateRun(kTenant, r3_, RunStatus::kFailed, std::nullopt, std::nullopt));
    ASSERT_OK(store().LogBatch(kTenant, r1_, {M("acc", 0.9, 1), M("loss", 0.1, 1)},
                               {{"lr", "0.1"}, {"opt", "Adam"}}, {{"team", "Vision"}}));
    ASSERT_OK(store().LogBatch(kTenant, r2_, {M("acc", 0.5, 1)}, {{"lr", "0.01"}, {"opt", "adam"}},
                               {{"team", "nlp"}}));
    ASSERT_OK(store().LogBatch(kTenant, r3_, {M("acc", kNaN, 1)}, {{"lr", "0.1"}}, {}));
    ASSERT_OK(store().LogBatch(kTenant, r4_, {}, {}, {{"other", "x"}}));
    DatasetInput train;
    train.dataset = {"train-ds", "d1", "local", "/data/train", std::nullopt, std::nullopt};
    train.tags = {{"mlflow.data.context", "train"}};
    DatasetInput eval;
    eval.dataset = {"eval-ds", "d2", "local", "/data/eval", "{}", std::nullopt};
    eval.tags = {{"mlflow.data.context", "eval"}};
    ASSERT_OK(store().LogInputs(kTenant, r1_, {train}, {}));
    ASSERT_OK(store().LogInputs(kTenant, r2_, {eval}, {}));
  }

  std::vector<std::string> Search(std::vector<Clause> clauses,
                                  std::vector<filter::OrderBy> order_by = {},
                                  ViewType view_type = ViewType::kActiveOnly) {
    SearchRunsQuery query;
    query.experiment_ids = {exp_};
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order_by);
    query.view_type = view_type;
    auto page = store().SearchRuns(kTenant, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> names;
    if (page.ok()) {
      for (const metadata::Run& run : page->items) names.push_back(run.info.run_name);
    }
    return names;
  }

  std::vector<std::string> SearchText(std::string_view text) {
    auto f = filter::ParseFilter(text, filter::SearchKind::kRuns);
    EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
    if (!f.ok()) return {"<parse error>"};
    return Search(f->clauses);
  }

  using Names = std::vector<std::string>;
  std::string exp_, r1_, r2_, r3_, r4_;
};

TEST_P(SearchRunsTest, DefaultOrderIsStartTimeDescending) {
  EXPECT_EQ(Search({}), (Names{"delta", "Gamma", "beta-run", "alpha-run"}));
}

TEST_P(SearchRunsTest, MetricFiltersUseLatestValuesAndSkipNaN) {
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kGt, 0.6)}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kLe, 0.9)}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kEq, 0.5)}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kNe, 0.5)}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kMetric, "loss", Comparator::kLt, 1.0)}), (Names{"alpha-run"}));
  EXPECT_TRUE(Search({C(Entity::kMetric, "nope", Comparator::kGt, -1e300)}).empty());
}

TEST_P(SearchRunsTest, ParamAndTagFilters) {
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kEq, "0.1")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kNe, "Adam")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kEq, "nlp")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kIsNull)}), (Names{"delta", "Gamma"}));
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kIsNotNull)}),
            (Names{"Gamma", "beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "lr", Comparator::kIsNull)}), (Names{"delta"}));
}

TEST_P(SearchRunsTest, LikeIsCaseSensitiveAndILikeIsNot) {
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kLike, "A%")}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kParam, "opt", Comparator::kILike, "a%")}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kLike, "vision")}), Names{});
  EXPECT_EQ(Search({C(Entity::kTag, "team", Comparator::kILike, "VISION")}), (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "%-run")}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "gamma")}), Names{});
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kILike, "gamma")}),
            (Names{"Gamma"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_name", Comparator::kLike, "_eta-ru_")}),
            (Names{"beta-run"}));
}

TEST_P(SearchRunsTest, AttributeFilters) {
  EXPECT_EQ(Search({C(Entity::kAttribute, "status", Comparator::kEq, "FINISHED")}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "status", Comparator::kNe, "RUNNING")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "user_id", Comparator::kEq, "alice")}),
            (Names{"Gamma", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "start_time", Comparator::kGe, 2000.0),
                    C(Entity::kAttribute, "start_time", Comparator::kLt, 4000.0)}),
            (Names{"Gamma", "beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "end_time", Comparator::kGt, 0.0)}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "artifact_uri", Comparator::kLike, "%" + r2_)}),
            (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kIn, Names{r1_, r4_, "zzz"})}),
            (Names{"delta", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kNotIn, Names{r1_})}),
            (Names{"delta", "Gamma", "beta-run"}));
  EXPECT_EQ(Search({C(Entity::kAttribute, "run_id", Comparator::kEq, r3_)}), (Names{"Gamma"}));
}

TEST_P(SearchRunsTest, DatasetFilters) {
  EXPECT_EQ(Search({C(Entity::kDataset, "name", Comparator::kEq, "train-ds")}),
            (Names{"alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "digest", Comparator::kIn, Names{"d1", "d2"})}),
            (Names{"beta-run", "alpha-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "context", Comparator::kEq, "eval")}), (Names{"beta-run"}));
  EXPECT_EQ(Search({C(Entity::kDataset, "name", Comparator::kLike, "%-ds"),
                    C(Entity::kDataset, "context", Comparator::kNe, "eval")}),
            (Names{"alpha-run"}));
}

TEST_P(SearchRunsTest, ConjunctionsCombineFamilies) {
  EXPECT_EQ(Search({C(Entity::kMetric, "acc", Comparator::kGt, 0.1),
                    C(Entity::kParam, "lr", Comparator::kEq, "0.1"),
                    C(Entity::kAttribute, "user_id", Comparator::kEq, "alice")}),
            (Names{"alpha-run"}));
}

TEST_P(SearchRunsTest, InvalidFiltersAreInvalidArgument) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.filter = F({C(Entity::kAttribute, "no_such", Comparator::kEq, "x")});
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
  query.filter = F({C(Entity::kMetric, "acc", Comparator::kGt, "high")});
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
  query.filter = {};
  query.order_by = {{Entity::kAttribute, "no_such", true}};
  EXPECT_EQ(store().SearchRuns(kTenant, query).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(SearchRunsTest, OrderByPutsNullsAndNaNLastInBothDirections) {
  // acc: alpha 0.9, beta 0.5, Gamma NaN, delta none; ties fall back to start_time DESC.
  EXPECT_EQ(Search({}, {{Entity::kMetric, "acc", true}}),
            (Names{"beta-run", "alpha-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kMetric, "acc", false}}),
            (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kParam, "lr", true}}),
            (Names{"beta-run", "Gamma", "alpha-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kParam, "lr", false}}),
            (Names{"Gamma", "alpha-run", "beta-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kTag, "team", true}}),
            (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "run_name", true}}),
            (Names{"Gamma", "alpha-run", "beta-run", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "start_time", true}}),
            (Names{"alpha-run", "beta-run", "Gamma", "delta"}));
  EXPECT_EQ(Search({}, {{Entity::kAttribute, "end_time", false}}),
            (Names{"alpha-run", "delta", "Gamma", "beta-run"}));
  EXPECT_EQ(
      Search({}, {{Entity::kAttribute, "status", true}, {Entity::kAttribute, "user_id", false}}),
      (Names{"Gamma", "alpha-run", "delta", "beta-run"}));
}

TEST_P(SearchRunsTest, PagesWithHasMore) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.page = {3, 0};
  ASSERT_OK_AND_ASSIGN(auto p1, store().SearchRuns(kTenant, query));
  ASSERT_EQ(p1.items.size(), 3u);
  EXPECT_TRUE(p1.has_more);
  EXPECT_EQ(p1.items[0].info.run_name, "delta");
  query.page = {3, 3};
  ASSERT_OK_AND_ASSIGN(auto p2, store().SearchRuns(kTenant, query));
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_FALSE(p2.has_more);
  EXPECT_EQ(p2.items[0].info.run_name, "alpha-run");
  query.page = {4, 0};
  ASSERT_OK_AND_ASSIGN(auto all, store().SearchRuns(kTenant, query));
  EXPECT_EQ(all.items.size(), 4u);
  EXPECT_FALSE(all.has_more);
  query.page = {10, 10};
  ASSERT_OK_AND_ASSIGN(auto past, store().SearchRuns(kTenant, query));
  EXPECT_TRUE(past.items.empty());
  EXPECT_FALSE(past.has_more);
}

TEST_P(SearchRunsTest, ViewTypeAndExperimentScope) {
  ASSERT_OK(store().DeleteRun(kTenant, r2_, 9000));
  EXPECT_EQ(Search({}), (Names{"delta", "Gamma", "alpha-run"}));
  EXPECT_EQ(Search({}, {}, ViewType::kDeletedOnly), (Names{"beta-run"}));
  EXPECT_EQ(Search({}, {}, ViewType::kAll).size(), 4u);
  SearchRunsQuery query;
  query.experiment_ids = {exp_, "0"};
  ASSERT_OK_AND_ASSIGN(auto both, store().SearchRuns(kTenant, query));
  EXPECT_EQ(both.items.size(), 4u);
  EXPECT_EQ(both.items[0].info.run_name, "elsewhere");
  query.experiment_ids = {"424242"};
  ASSERT_OK_AND_ASSIGN(auto none, store().SearchRuns(kTenant, query));
  EXPECT_TRUE(none.items.empty());
}

TEST_P(SearchRunsTest, ResultsCarryTheWholeRun) {
  SearchRunsQuery query;
  query.experiment_ids = {exp_};
  query.filter = F({C(Entity::kAttribute, "run_id", Comparator::kEq, r1_)});
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchRuns(kTenant, query));
  ASSERT_EQ(page.items.size(), 1u);
  const metadata::Run& run = page.items[0];
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(run.info.end_time, 2500);
  EXPECT_EQ(run.metrics.size(), 2u);
  EXPECT_EQ(FindMetric(run.metrics, "acc")->value, 0.9);
  EXPECT_EQ(FindParam(run.params, "opt"), "Adam");
  EXPECT_EQ(FindTag(run.tags, "team"), "Vision");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "alpha-run");
  ASSERT_EQ(run.dataset_inputs.size(), 1u);
  EXPECT_EQ(run.dataset_inputs[0].dataset.name, "train-ds");
  EXPECT_EQ(run.dataset_inputs[0].tags, (std::vector<Tag>{{"mlflow.data.context", "train"}}));
}

TEST_P(SearchRunsTest, ParsedFiltersAndOrderBy) {
  EXPECT_EQ(SearchText("metrics.acc > 0.6 and params.lr = '0.1'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("tags.`team` ILIKE 'VISION'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("attributes.run_id IN ('" + r2_ + "', '" + r3_ + "')"),
            (Names{"Gamma", "beta-run"}));
  EXPECT_EQ(SearchText("attributes.status = 'FAILED'"), (Names{"Gamma"}));
  EXPECT_EQ(SearchText("`Run name` LIKE 'delta'"), (Names{"delta"}));
  EXPECT_EQ(SearchText("created >= 3000"), (Names{"delta", "Gamma"}));
  EXPECT_EQ(SearchText("datasets.context = 'train'"), (Names{"alpha-run"}));
  EXPECT_EQ(SearchText("params.lr != '0.1' AND metrics.acc < 1"), (Names{"beta-run"}));
  EXPECT_EQ(SearchText(""), (Names{"delta", "Gamma", "beta-run", "alpha-run"}));
  auto order = filter::ParseOrderBy("metrics.acc DESC", filter::SearchKind::kRuns);
  ASSERT_OK(order);
  EXPECT_EQ(Search({}, {*order}), (Names{"alpha-run", "beta-run", "delta", "Gamma"}));
}

// ---------------------------------------------------------------------------------------------
// SearchExperiments

TEST_P(TrackingStoreConformanceTest, SearchExperiments) {
  NewExperiment("exp-a", 2000, kTenant, {{"owner", "ann"}});
  NewExperiment("exp-B", 3000, kTenant, {{"owner", "bo"}});
  std::string other = NewExperiment("other", 4000);
  auto names = [&](std::vector<Clause> clauses, std::vector<filter::OrderBy> order = {},
                   ViewType view = ViewType::kActiveOnly, Page page = {}) {
    SearchExperimentsQuery query;
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order);
    query.view_type = view;
    query.page = page;
    auto result = store().SearchExperiments(kTenant, query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> out;
    if (result.ok()) {
      for (const Experiment& e : result->items) out.push_back(e.name);
      if (result->has_more) out.push_back("<more>");
    }
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names({}), (Names{"other", "exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kLike, "exp-%")}),
            (Names{"exp-B", "exp-a"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kLike, "EXP%")}), Names{});
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kILike, "EXP-A")}), (Names{"exp-a"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "name", Comparator::kNe, "other")}),
            (Names{"exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({C(Entity::kTag, "owner", Comparator::kEq, "bo")}), (Names{"exp-B"}));
  EXPECT_EQ(names({C(Entity::kTag, "owner", Comparator::kIsNull)}), (Names{"other", "Default"}));
  EXPECT_EQ(names({C(Entity::kAttribute, "creation_time", Comparator::kGt, 2500.0)}),
            (Names{"other", "exp-B"}));
  EXPECT_EQ(names({}, {{Entity::kAttribute, "name", true}}),
            (Names{"Default", "exp-B", "exp-a", "other"}));
  EXPECT_EQ(names({}, {{Entity::kAttribute, "experiment_id", false}}),
            (Names{"other", "exp-B", "exp-a", "Default"}));
  // Ties (no tag) fall back to experiment_id ASC.
  EXPECT_EQ(names({}, {{Entity::kTag, "owner", false}}),
            (Names{"exp-B", "exp-a", "Default", "other"}));
  EXPECT_EQ(names({}, {}, ViewType::kActiveOnly, {2, 0}), (Names{"other", "exp-B", "<more>"}));
  EXPECT_EQ(names({}, {}, ViewType::kActiveOnly, {2, 2}), (Names{"exp-a", "Default"}));
  ASSERT_OK(store().DeleteExperiment(kTenant, other, 5000));
  EXPECT_EQ(names({}), (Names{"exp-B", "exp-a", "Default"}));
  EXPECT_EQ(names({}, {}, ViewType::kDeletedOnly), (Names{"other"}));
  EXPECT_EQ(names({}, {}, ViewType::kAll).size(), 4u);

  auto parsed = filter::ParseFilter("name LIKE 'exp-%' AND tags.owner = 'ann'",
                                    filter::SearchKind::kExperiments);
  ASSERT_OK(parsed);
  EXPECT_EQ(names(parsed->clauses), (Names{"exp-a"}));
  // Tags come back with the results.
  SearchExperimentsQuery query;
  query.filter = F({C(Entity::kAttribute, "name", Comparator::kEq, "exp-a")});
  ASSERT_OK_AND_ASSIGN(auto page, store().SearchExperiments(kTenant, query));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].tags, (std::vector<Tag>{{"owner", "ann"}}));
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

TEST_P(TrackingStoreConformanceTest, LogInputsDeduplicates) {
  std::string a = NewRun("0", 1);
  std::string b = NewRun("0", 2);
  DatasetInput input;
  input.dataset = {"ds", "abc", "s3", "s3://b/k", "{\"cols\":1}", "{\"rows\":5}"};
  input.tags = {{"mlflow.data.context", "train"}};
  ASSERT_OK(store().LogInputs(kTenant, a, {input, input}, {{"m-1"}, {"m-1"}}));
  ASSERT_OK(store().LogInputs(kTenant, a, {input}, {{"m-1"}, {"m-2"}}));
  ASSERT_OK(store().LogInputs(kTenant, b, {input}, {}));
  DatasetInput other = input;
  other.dataset.digest = "def";
  ASSERT_OK(store().LogInputs(kTenant, a, {other}, {}));

  metadata::Run run = MustGetRun(a);
  ASSERT_EQ(run.dataset_inputs.size(), 2u);
  EXPECT_EQ(run.dataset_inputs[0].dataset.name, "ds");
  EXPECT_EQ(run.dataset_inputs[0].dataset.digest, "abc");
  EXPECT_EQ(run.dataset_inputs[0].dataset.source_type, "s3");
  EXPECT_EQ(run.dataset_inputs[0].dataset.source, "s3://b/k");
  EXPECT_EQ(run.dataset_inputs[0].dataset.schema, "{\"cols\":1}");
  EXPECT_EQ(run.dataset_inputs[0].dataset.profile, "{\"rows\":5}");
  EXPECT_EQ(run.dataset_inputs[0].tags, input.tags);
  EXPECT_EQ(run.dataset_inputs[1].dataset.digest, "def");
  ASSERT_EQ(run.model_inputs.size(), 2u);
  EXPECT_EQ(run.model_inputs[0].model_id, "m-1");
  EXPECT_EQ(run.model_inputs[1].model_id, "m-2");
  EXPECT_EQ(MustGetRun(b).dataset_inputs.size(), 1u);
}

TEST_P(TrackingStoreConformanceTest, LogOutputs) {
  std::string id = NewRun("0");
  ASSERT_OK(store().LogOutputs(kTenant, id, {{"m-1", 3}, {"m-2", 0}, {"m-1", 3}}));
  metadata::Run run = MustGetRun(id);
  ASSERT_EQ(run.model_outputs.size(), 2u);
  EXPECT_EQ(run.model_outputs[0].model_id, "m-2");
  EXPECT_EQ(run.model_outputs[1].model_id, "m-1");
  EXPECT_EQ(run.model_outputs[1].step, 3);
  EXPECT_EQ(store().LogOutputs(kTenant, "nope", {{"m-1", 0}}).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Logged models

LoggedModel NewModel(const std::string& id, const std::string& experiment_id,
                     const std::string& name, int64_t created) {
  LoggedModel m;
  m.model_id = id;
  m.experiment_id = experiment_id;
  m.name = name;
  m.creation_timestamp_ms = created;
  m.last_updated_timestamp_ms = created;
  m.artifact_uri = "file:///artifacts/" + experiment_id + "/models/" + id + "/artifacts";
  m.status = LoggedModelStatus::kPending;
  m.creator_id = "alice";
  m.model_type = "sklearn";
  m.source_run_id = "";
  return m;
}

TEST_P(TrackingStoreConformanceTest, LoggedModelLifecycle) {
  std::string exp = NewExperiment("models");
  LoggedModel model = NewModel("m-1", exp, "clf", 100);
  model.tags = {{"k", "v"}};
  model.params = {{"alpha", "0.5"}, {"beta", "x"}};
  model.source_run_id = NewRun(exp);
  ASSERT_OK_AND_ASSIGN(LoggedModel created, store().CreateLoggedModel(kTenant, model));
  EXPECT_EQ(created.model_id, "m-1");
  EXPECT_EQ(created.experiment_id, exp);
  EXPECT_EQ(created.name, "clf");
  EXPECT_EQ(created.status, LoggedModelStatus::kPending);
  EXPECT_EQ(created.creator_id, "alice");
  EXPECT_EQ(created.model_type, "sklearn");
  EXPECT_EQ(created.source_run_id, model.source_run_id);
  EXPECT_EQ(created.artifact_uri, model.artifact_uri);
  EXPECT_EQ(created.tags, model.tags);
  ASSERT_EQ(created.params.size(), 2u);
  EXPECT_EQ(store().CreateLoggedModel(kTenant, model).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().CreateLoggedModel(kTenant, NewModel("m-x", "99", "x", 1)).status().code(),
            StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(LoggedModel ready,
                       store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 500));
  EXPECT_EQ(ready.status, LoggedModelStatus::kReady);
  EXPECT_EQ(ready.last_updated_timestamp_ms, 500);
  EXPECT_EQ(ready.creation_timestamp_ms, 100);

  ASSERT_OK(store().SetLoggedModelTags(kTenant, "m-1", {{"k", "v2"}, {"n", "1"}}, 600));
  ASSERT_OK(store().DeleteLoggedModelTag(kTenant, "m-1", "n", 700));
  EXPECT_EQ(store().DeleteLoggedModelTag(kTenant, "m-1", "n", 700).code(), StatusCode::kNotFound);
  ASSERT_OK(store().LogLoggedModelParams(kTenant, "m-1", {{"gamma", "1"}, {"alpha", "0.5"}}, 800));
  EXPECT_EQ(store().LogLoggedModelParams(kTenant, "m-1", {{"alpha", "0.6"}}, 900).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(LoggedModel got, store().GetLoggedModel(kTenant, "m-1", false));
  EXPECT_EQ(got.tags, (std::vector<Tag>{{"k", "v2"}}));
  EXPECT_EQ(got.params.size(), 3u);
  EXPECT_EQ(FindParam(got.params, "alpha"), "0.5");
  EXPECT_EQ(got.last_updated_timestamp_ms, 800);

  // Other tenants cannot see it.
  EXPECT_EQ(store().GetLoggedModel(kOtherTenant, "m-1", true).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteLoggedModel(kOtherTenant, "m-1", 1).code(), StatusCode::kNotFound);

  ASSERT_OK(store().DeleteLoggedModel(kTenant, "m-1", 1000));
  auto missing = store().GetLoggedModel(kTenant, "m-1", false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(LoggedModel deleted, store().GetLoggedModel(kTenant, "m-1", true));
  EXPECT_EQ(deleted.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(store().SetLoggedModelTags(kTenant, "m-1", {{"a", "b"}}, 1100).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(
      store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 1).status().code(),
      StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, LoggedModelMetricsComeFromRuns) {
  std::string exp = NewExperiment("models");
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-1", exp, "clf", 100)));
  std::string run = NewRun(exp);
  auto metric = [](double value, int64_t step, std::optional<std::string> dataset) {
    Metric m = M("acc", value, 10, step);
    m.model_id = "m-1";
    if (dataset) {
      m.dataset_name = *dataset;
      m.dataset_digest = "dg";
    }
    return m;
  };
  ASSERT_OK(store().LogBatch(kTenant, run,
                             {metric(0.8, 1, "train"), metric(0.6, 0, "train"),
                              metric(0.7, 0, "eval"), metric(0.1, 0, std::nullopt)},
                             {}, {}));
  ASSERT_OK_AND_ASSIGN(LoggedModel model, store().GetLoggedModel(kTenant, "m-1", false));
  ASSERT_EQ(model.metrics.size(), 3u);  // latest per dataset
  for (const Metric& m : model.metrics) {
    EXPECT_EQ(m.key, "acc");
    EXPECT_EQ(m.run_id, run);
    EXPECT_EQ(m.model_id, "m-1");
    if (m.dataset_name == "train") {
      EXPECT_EQ(m.value, 0.8);
      EXPECT_EQ(m.dataset_digest, "dg");
    } else if (m.dataset_name == "eval") {
      EXPECT_EQ(m.value, 0.7);
    } else {
      EXPECT_FALSE(m.dataset_name.has_value());
      EXPECT_EQ(m.value, 0.1);
    }
  }
}

TEST_P(TrackingStoreConformanceTest, SearchLoggedModels) {
  std::string exp = NewExperiment("models");
  std::string exp2 = NewExperiment("models-2");
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-1", exp, "model-a", 100)));
  LoggedModel b = NewModel("m-2", exp, "model-b", 200);
  b.model_type = "pytorch";
  ASSERT_OK(store().CreateLoggedModel(kTenant, b));
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-3", exp2, "model-c", 300)));
  ASSERT_OK(store().CreateLoggedModel(kTenant, NewModel("m-4", exp, "model-d", 50)));
  ASSERT_OK(store().FinalizeLoggedModel(kTenant, "m-1", LoggedModelStatus::kReady, 400));
  ASSERT_OK(store().LogLoggedModelParams(kTenant, "m-1", {{"lr", "0.1"}}, 400));
  ASSERT_OK(store().SetLoggedModelTags(kTenant, "m-2", {{"stage", "prod"}}, 400));
  std::string run = NewRun(exp);
  auto metric = [](const std::string& model, double value, const std::string& dataset) {
    Metric m = M("acc", value, 10, 0);
    m.model_id = model;
    m.dataset_name = dataset;
    m.dataset_digest = dataset + "-digest";
    return m;
  };
  ASSERT_OK(store().LogBatch(kTenant, run, {metric("m-1", 0.8, "ds"), metric("m-2", 0.9, "ds2")},
                             {}, {}));

  auto ids = [&](std::vector<Clause> clauses, std::vector<LoggedModelOrder> order = {},
                 std::vector<std::pair<std::string, std::optional<std::string>>> datasets = {},
                 std::vector<std::string> experiments = {}, Page page = {}) {
    SearchLoggedModelsQuery query;
    query.experiment_ids = experiments.empty() ? std::vector<std::string>{exp} : experiments;
    query.filter = F(std::move(clauses));
    query.order_by = std::move(order);
    query.datasets = std::move(datasets);
    query.page = page;
    auto result = store().SearchLoggedModels(kTenant, query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> out;
    if (result.ok()) {
      for (const LoggedModel& m : result->items) out.push_back(m.model_id);
      if (result->has_more) out.push_back("<more>");
    }
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids({}), (Ids{"m-2", "m-1", "m-4"}));
  EXPECT_EQ(ids({}, {}, {}, {exp, exp2}), (Ids{"m-3", "m-2", "m-1", "m-4"}));
  EXPECT_EQ(ids({}, {}, {}, {}, {2, 0}), (Ids{"m-2", "m-1", "<more>"}));
  EXPECT_EQ(ids({}, {}, {}, {}, {2, 2}), (Ids{"m-4"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "name", Comparator::kEq, "model-a")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "status", Comparator::kEq, "READY")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "status", Comparator::kEq, "LOGGED_MODEL_PENDING")}),
            (Ids{"m-2", "m-4"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "model_type", Comparator::kLike, "py%")}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kAttribute, "creation_timestamp", Comparator::kGe, 100.0)}),
            (Ids{"m-2", "m-1"}));
  EXPECT_EQ(ids({C(Entity::kParam, "lr", Comparator::kEq, "0.1")}), (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kTag, "stage", Comparator::kEq, "prod")}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.85)}), (Ids{"m-2"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.85)}, {}, {{"ds", std::nullopt}}),
            Ids{});
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.7)}, {}, {{"ds", "ds-digest"}}),
            (Ids{"m-1"}));
  EXPECT_EQ(ids({C(Entity::kMetric, "acc", Comparator::kGt, 0.7)}, {}, {{"ds", "other"}}), Ids{});

  LoggedModelOrder by_acc_desc{"metrics.acc", false, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_acc_desc}), (Ids{"m-2", "m-1", "m-4"}));
  LoggedModelOrder by_acc_asc{"metrics.acc", true, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_acc_asc}), (Ids{"m-1", "m-2", "m-4"}));
  LoggedModelOrder by_ds2{"metrics.acc", true, std::string("ds2"), std::nullopt};
  EXPECT_EQ(ids({}, {by_ds2}), (Ids{"m-2", "m-1", "m-4"}));
  LoggedModelOrder by_name{"name", false, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_name}), (Ids{"m-4", "m-2", "m-1"}));
  LoggedModelOrder by_created{"creation_timestamp", true, std::nullopt, std::nullopt};
  EXPECT_EQ(ids({}, {by_created}), (Ids{"m-4", "m-1", "m-2"}));

  ASSERT_OK(store().DeleteLoggedModel(kTenant, "m-2", 500));
  EXPECT_EQ(ids({}), (Ids{"m-1", "m-4"}));

  SearchLoggedModelsQuery bad;
  bad.experiment_ids = {exp};
  bad.order_by = {{"no_such_field", true, std::nullopt, std::nullopt}};
  EXPECT_EQ(store().SearchLoggedModels(kTenant, bad).status().code(), StatusCode::kInvalidArgument);
  // Other tenants see nothing.
  SearchLoggedModelsQuery other;
  other.experiment_ids = {exp};
  ASSERT_OK_AND_ASSIGN(auto none, store().SearchLoggedModels(kOtherTenant, other));
  EXPECT_TRUE(none.items.empty());
}

// ---------------------------------------------------------------------------------------------
// Concurrency and durability

TEST_P(TrackingStoreConformanceTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 40;
  constexpr int kMetricsPerBatch = 5;
  std::string exp = NewExperiment("concurrent");
  std::string shared = NewRun(exp, 1, "shared");
  std::vector<std::string> own;
  for (int i = 0; i < kThreads; ++i) own.push_back(NewRun(exp, 2 + i));

  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string& run = t % 2 == 0 ? shared : own[t];
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Metric> metrics;
        for (int j = 0; j < kMetricsPerBatch; ++j) {
          int step = b * kMetricsPerBatch + j;
          metrics.push_back(M("m" + std::to_string(t), step * 0.5, 1000 + step, step));
        }
        std::vector<Param> params = {{"p" + std::to_string(t) + "_" + std::to_string(b), "v"}};
        std::vector<Tag> tags = {{"t" + std::to_string(t), std::to_string(b)}};
        Status s = store().LogBatch(kTenant, run, metrics, params, tags);
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s.ToString();
        }
      }
    });
  }
  std::thread reader([&] {
    SearchRunsQuery query;
    query.experiment_ids = {exp};
    query.filter = F({C(Entity::kMetric, "m0", Comparator::kGe, 0.0)});
    while (!done.load()) {
      auto page = store().SearchRuns(kTenant, query);
      if (!page.ok()) {
        ++failures;
        ADD_FAILURE() << page.status().ToString();
        return;
      }
      auto run = store().GetRun(kTenant, shared);
      if (!run.ok()) {
        ++failures;
        ADD_FAILURE() << run.status().ToString();
        return;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);

  for (int t = 0; t < kThreads; ++t) {
    const std::string& run = t % 2 == 0 ? shared : own[t];
    std::string key = "m" + std::to_string(t);
    EXPECT_EQ(History(run, key).size(), static_cast<size_t>(kBatches * kMetricsPerBatch)) << key;
    metadata::Run r = MustGetRun(run);
    const Metric* latest = FindMetric(r.metrics, key);
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(latest->step, kBatches * kMetricsPerBatch - 1);
    EXPECT_EQ(FindTag(r.tags, "t" + std::to_string(t)), std::to_string(kBatches - 1));
  }
  EXPECT_EQ(MustGetRun(shared).params.size(), static_cast<size_t>(kThreads / 2 * kBatches));
}

TEST_P(TrackingStoreConformanceTest, ConcurrentExperimentCreationGetsDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = store().CreateExperiment(
            kTenant, "e" + std::to_string(t) + "-" + std::to_string(i), "", kRoot, {}, 1);
        EXPECT_TRUE(id.ok()) << id.status().ToString();
        if (id.ok()) ids[t].push_back(*id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> all;
  for (const auto& v : ids) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_P(TrackingStoreConformanceTest, DataSurvivesReopen) {
  std::string exp = NewExperiment("durable", 2000, kTenant, {{"k", "v"}});
  std::string run = NewRun(exp, 10, "kept");
  ASSERT_OK(store().LogBatch(kTenant, run, {M("m", kNaN, 1), M("m", 2, 2, 1)}, {{"p", "1"}},
                             {{"t", "x"}}));
  metadata::Run before = MustGetRun(run);
  Reopen();
  ASSERT_NE(stores_.tracking, nullptr);
  ASSERT_OK(store().EnsureDefaultExperiment(kTenant, kRoot, 99));
  metadata::Run after = MustGetRun(run);
  EXPECT_EQ(after.info.run_name, "kept");
  EXPECT_EQ(after.params.size(), before.params.size());
  EXPECT_EQ(after.tags.size(), before.tags.size());
  ASSERT_EQ(after.metrics.size(), 1u);
  EXPECT_EQ(after.metrics[0].value, 2);
  EXPECT_EQ(History(run, "m").size(), 2u);
  ASSERT_OK_AND_ASSIGN(Experiment e, store().GetExperiment(kTenant, exp));
  EXPECT_EQ(e.tags, (std::vector<Tag>{{"k", "v"}}));
  ASSERT_OK_AND_ASSIGN(Experiment d, store().GetExperiment(kTenant, "0"));
  EXPECT_EQ(d.creation_time, 1000);
  EXPECT_EQ(NewExperiment("next"), "2");
}

// Backends may evaluate a clause differently depending on how many rows it matches (the SQLite
// store switches from IN lists to correlated EXISTS for broad clauses); the answers must not
// change. 1500 runs: p = 'x' on 1400 of them, tag t on every third, metric m NaN on every
// tenth; pages of 97 are collected to the end and compared with what was logged.
TEST_P(TrackingStoreConformanceTest, SearchAnswersDoNotDependOnHowBroadAClauseIs) {
  std::string exp = NewExperiment("breadth");
  struct Logged {
    std::string id;
    int64_t start_time;
    std::string p;
    bool tagged;
    std::optional<double> m;  // absent on every seventh run
  };
  std::vector<Logged> runs;
  for (int i = 0; i < 1500; ++i) {
    Logged r{NewRun(exp, 10000 + i), 10000 + i, i % 15 == 0 ? "y" : "x", i % 3 == 0, std::nullopt};
    if (i % 7 != 0) r.m = i % 10 == 0 ? kNaN : (i % 100) / 100.0;  // many ties
    std::vector<Tag> tags;
    if (r.tagged) tags.push_back({"t", "v"});
    Metric metric = r.m ? M("m", *r.m, 1) : M("other", 1, 1);
    ASSERT_OK(store().LogBatch(kTenant, r.id, {metric}, {{"p", r.p}}, tags));
    runs.push_back(std::move(r));
  }
  ASSERT_OK(store().DeleteRun(kTenant, runs[5].id, 20000));

  auto search = [&](std::string_view filter_text, std::string_view order_text = "") {
    SearchRunsQuery q;
    q.experiment_ids = {exp};
    auto parsed = filter::ParseFilter(filter_text, filter::SearchKind::kRuns);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (parsed.ok()) q.filter = *parsed;
    if (!order_text.empty()) {
      auto order = filter::ParseOrderBy(order_text, filter::SearchKind::kRuns);
      EXPECT_TRUE(order.ok()) << order.status().ToString();
      if (order.ok()) q.order_by = {*order};
    }
    q.page = Page{97, 0};
    std::vector<std::string> ids;
    while (true) {
      auto page = store().SearchRuns(kTenant, q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const metadata::Run& r : page->items) ids.push_back(r.info.run_id);
      if (!page->has_more) break;
      q.page.offset += 97;
    }
    return ids;
  };
  // Newest first; with `by_m`, runs with a non-NaN m first in m order (ties newest first), then
  // the others newest first.
  auto expect = [&](const std::function<bool(const Logged&)>& match, int by_m = 0) {
    std::vector<const Logged*> hits;
    for (const Logged& r : runs) {
      if (r.id != runs[5].id && match(r)) hits.push_back(&r);
    }
    auto valued = [](const Logged* r) { return r->m && !std::isnan(*r->m); };
    std::stable_sort(hits.begin(), hits.end(), [&](const Logged* a, const Logged* b) {
      if (by_m != 0 && valued(a) != valued(b)) return valued(a);
      if (by_m != 0 && valued(a) && *a->m != *b->m) return by_m > 0 ? *a->m < *b->m : *a->m > *b->m;
      return a->start_time > b->start_time;
    });
    std::vector<std::string> ids;
    for (const Logged* r : hits) ids.push_back(r->id);
    return ids;
  };
  auto any = [](const Logged&) { return true; };
  auto has_m = [](const Logged& r) { return r.m.has_value(); };
  EXPECT_EQ(search("params.p = 'x'"), expect([](const Logged& r) { return r.p == "x"; }));
  EXPECT_EQ(search("params.p != 'x'"), expect([](const Logged& r) { return r.p != "x"; }));
  EXPECT_EQ(search("tags.t IS NULL"), expect([](const Logged& r) { return !r.tagged; }));
  EXPECT_EQ(search("params.p IS NULL"), std::vector<std::string>{});
  EXPECT_EQ(search("params.p IS NOT NULL"), expect(any));
  EXPECT_EQ(search("tags.t IS NOT NULL AND params.p = 'x'"),
            expect([](const Logged& r) { return r.tagged && r.p == "x"; }));
  EXPECT_EQ(search("metrics.m != 0.5"),
            expect([&](const Logged& r) { return has_m(r) && (std::isnan(*r.m) || *r.m != 0.5); }));
  EXPECT_EQ(search("metrics.m > 0.2 AND params.p = 'x' AND tags.t = 'v'"),
            expect([](const Logged& r) { return r.m > 0.2 && r.p == "x" && r.tagged; }));
  EXPECT_EQ(search("metrics.m >= 0.99 AND params.p = 'x'"),
            expect([](const Logged& r) { return r.m >= 0.99 && r.p == "x"; }));
  // Ordered by the metric: with no filter, a broad one, a selective one, and a filter on the
  // metric itself; runs without m (or with NaN) come last in both directions.
  EXPECT_EQ(search("", "metrics.m DESC"), expect(any, -1));
  EXPECT_EQ(search("", "metrics.m ASC"), expect(any, 1));
  EXPECT_EQ(search("params.p = 'x'", "metrics.m DESC"),
            expect([](const Logged& r) { return r.p == "x"; }, -1));
  EXPECT_EQ(search("tags.t = 'v'", "metrics.m"),
            expect([](const Logged& r) { return r.tagged; }, 1));
  EXPECT_EQ(search("metrics.m > 0.5 AND params.p = 'x'", "metrics.m DESC"),
            expect([](const Logged& r) { return r.m > 0.5 && r.p == "x"; }, -1));
}

// ---------------------------------------------------------------------------------------------
// Backends

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRunsTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
