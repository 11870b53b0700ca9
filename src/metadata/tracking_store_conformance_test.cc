// The TrackingStore conformance suite: every backend must pass it. A backend joins by adding a
// Backend to kConformanceBackends (metadata_store_test_backends.h); a backend that cannot start
// here (no server) skips in SetUp. Registry: registry_store_conformance_test.cc; traces:
// trace_store_conformance_test.cc.

#include "metadata/tracking_store_conformance.h"

namespace cairn::metadata {
namespace {

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

TEST_P(TrackingStoreConformanceTest, CreateRunDerivesAnEmptyArtifactUriFromTheExperiment) {
  std::string exp = NewExperiment("derived-uri");
  ASSERT_OK_AND_ASSIGN(metadata::Experiment e, store().GetExperiment(kTenant, exp));
  RunInfo info = NewRunInfo(exp, 1);
  info.artifact_uri.clear();
  ASSERT_OK_AND_ASSIGN(metadata::Run created, store().CreateRun(kTenant, info, {}));
  const std::string expected = e.artifact_location + "/" + info.run_id + "/artifacts";
  EXPECT_EQ(created.info.artifact_uri, expected);
  EXPECT_EQ(MustGetRun(info.run_id).info.artifact_uri, expected);
}

TEST_P(TrackingStoreConformanceTest, CreateRunTakesNameFromTag) {
  RunInfo info = NewRunInfo("0", 1);
  ASSERT_OK(store().CreateRun(kTenant, info, {{"mlflow.runName", "from-tag"}}));
  metadata::Run run = MustGetRun(info.run_id);
  EXPECT_EQ(run.info.run_name, "from-tag");
  EXPECT_EQ(FindTag(run.tags, "mlflow.runName"), "from-tag");
}

TEST_P(TrackingStoreConformanceTest, RunTagsComeBackInTheOrderFirstSet) {
  RunInfo info = NewRunInfo("0", 1, "named");
  ASSERT_OK(store().CreateRun(kTenant, info,
                              {{"zeta", "1"}, {"mlflow.runName", "named"}, {"alpha", "2"}}));
  ASSERT_OK(store().LogBatch(kTenant, info.run_id, {}, {}, {{"mid", "v"}, {"beta", "v"}}));
  ASSERT_OK(store().LogBatch(kTenant, info.run_id, {}, {}, {{"alpha", "changed"}, {"aa", "v"}}));
  std::vector<std::string> keys;
  for (const Tag& t : MustGetRun(info.run_id).tags) keys.push_back(t.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"zeta", "mlflow.runName", "alpha", "mid", "beta", "aa"}));
  EXPECT_EQ(FindTag(MustGetRun(info.run_id).tags, "alpha"), "changed");
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
  // No such run is NOT_FOUND, not an empty history (the service relies on it).
  EXPECT_EQ(store().GetMetricHistory(kTenant, "no-such-run", "h", Page{}).status().code(),
            StatusCode::kNotFound);
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

// ---- Import ----

TEST_P(TrackingStoreConformanceTest, ImportExperimentKeepsIdStateTimesAndTags) {
  Experiment e;
  e.experiment_id = "7";
  e.name = "imported";
  e.artifact_location = "mlflow-artifacts:/7";
  e.lifecycle_stage = LifecycleStage::kDeleted;
  e.creation_time = 11;
  e.last_update_time = 22;
  e.tags = {{"team", "a"}};
  ASSERT_OK(store().ImportExperiment(kTenant, e));
  ASSERT_OK_AND_ASSIGN(Experiment got, store().GetExperiment(kTenant, "7"));
  EXPECT_EQ(got.name, "imported");
  EXPECT_EQ(got.artifact_location, "mlflow-artifacts:/7");
  EXPECT_EQ(got.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(got.creation_time, 11);
  EXPECT_EQ(got.last_update_time, 22);
  EXPECT_EQ(got.tags, (std::vector<Tag>{{"team", "a"}}));
  // Importing it again (a resumed import) is harmless; the next created id follows.
  ASSERT_OK(store().ImportExperiment(kTenant, e));
  EXPECT_EQ(NewExperiment("fresh"), "8");
  // The Default experiment a tenant starts with takes the imported fields.
  Experiment zero;
  zero.experiment_id = "0";
  zero.name = "Default";
  zero.artifact_location = "mlflow-artifacts:/0";
  zero.creation_time = 5;
  zero.last_update_time = 6;
  ASSERT_OK(store().ImportExperiment(kTenant, zero));
  EXPECT_EQ(store().GetExperiment(kTenant, "0")->artifact_location, "mlflow-artifacts:/0");
  // Not in another tenant.
  EXPECT_EQ(store().GetExperiment(kOtherTenant, "7").status().code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, ImportExperimentRefusesConflicts) {
  std::string id = NewExperiment("taken");
  Experiment other_name;
  other_name.experiment_id = id;
  other_name.name = "another";
  other_name.artifact_location = "x";
  EXPECT_EQ(store().ImportExperiment(kTenant, other_name).code(), StatusCode::kAlreadyExists);
  Experiment other_id = other_name;
  other_id.experiment_id = "99";
  other_id.name = "taken";
  EXPECT_EQ(store().ImportExperiment(kTenant, other_id).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store().GetExperiment(kTenant, id)->name, "taken");
  EXPECT_EQ(store().GetExperiment(kTenant, "99").status().code(), StatusCode::kNotFound);
  other_id.experiment_id = "-1";
  other_id.name = "neg";
  EXPECT_EQ(store().ImportExperiment(kTenant, other_id).code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreConformanceTest, ImportRunKeepsEverythingInAnyExperimentState) {
  std::string exp = NewExperiment("gone");
  ASSERT_OK(store().DeleteExperiment(kTenant, exp, 3000));
  RunImport run;
  run.info = NewRunInfo(exp, 100, "named");
  run.info.status = RunStatus::kFinished;
  run.info.end_time = 200;
  run.info.lifecycle_stage = LifecycleStage::kDeleted;
  run.deleted_time = 300;
  run.tags = {{"mlflow.runName", "named"}, {"k", "v"}};
  run.params = {{"lr", "0.1"}};
  run.metric_history = {M("loss", 3, 10, 0), M("loss", 2, 11, 1), M("loss", kNaN, 12, 2),
                        M("acc", 0.5, 10, 0)};
  DatasetInput input;
  input.tags = {{"mlflow.data.context", "train"}};
  input.dataset = {"ds", "abc", "local", "{}", "{\"s\":1}", std::nullopt};
  run.dataset_inputs = {input};
  run.model_outputs = {{"m-1", 2}};
  ASSERT_OK(store().ImportRun(kTenant, run));

  metadata::Run got = MustGetRun(run.info.run_id);
  EXPECT_EQ(got.info.run_name, "named");
  EXPECT_EQ(got.info.status, RunStatus::kFinished);
  EXPECT_EQ(got.info.start_time, 100);
  EXPECT_EQ(got.info.end_time, 200);
  EXPECT_EQ(got.info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(FindTag(got.tags, "k"), "v");
  EXPECT_EQ(FindParam(got.params, "lr"), "0.1");
  ASSERT_NE(FindMetric(got.metrics, "loss"), nullptr);
  EXPECT_TRUE(std::isnan(FindMetric(got.metrics, "loss")->value));  // step 2 is the latest
  std::vector<Metric> loss = History(run.info.run_id, "loss");
  ASSERT_EQ(loss.size(), 3u);
  EXPECT_EQ(loss[0].value, 3);
  EXPECT_EQ(loss[1].value, 2);
  ASSERT_EQ(got.dataset_inputs.size(), 1u);
  EXPECT_EQ(got.dataset_inputs[0].dataset.digest, "abc");
  ASSERT_EQ(got.model_outputs.size(), 1u);
  EXPECT_EQ(got.model_outputs[0].step, 2);

  // A second import of the same id changes nothing; a missing experiment is NOT_FOUND.
  run.params = {{"lr", "0.2"}};
  EXPECT_EQ(store().ImportRun(kTenant, run).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(FindParam(MustGetRun(run.info.run_id).params, "lr"), "0.1");
  EXPECT_EQ(store().ImportRun(kOtherTenant, run).code(), StatusCode::kNotFound);
  RunImport orphan;
  orphan.info = NewRunInfo("4242", 1);
  EXPECT_EQ(store().ImportRun(kTenant, orphan).code(), StatusCode::kNotFound);
}

TEST_P(TrackingStoreConformanceTest, ImportLoggedModelKeepsIdLifecycleAndMetricHistory) {
  std::string exp = NewExperiment("models");
  std::string run_id = NewRun(exp);
  LoggedModel model;
  model.model_id = "m-" + ids_.Hex32();
  model.experiment_id = exp;
  model.name = "clf";
  model.creation_timestamp_ms = 10;
  model.last_updated_timestamp_ms = 20;
  model.artifact_uri = "mlflow-artifacts:/" + exp + "/models/" + model.model_id + "/artifacts";
  model.status = LoggedModelStatus::kReady;
  model.source_run_id = run_id;
  model.lifecycle_stage = LifecycleStage::kDeleted;
  model.tags = {{"t", "1"}};
  model.params = {{"p", "2"}};
  Metric m1 = M("acc", 0.5, 100, 0);
  m1.run_id = run_id;
  Metric m2 = M("acc", 0.7, 101, 1);
  m2.run_id = run_id;
  m2.dataset_name = "eval";
  m2.dataset_digest = "d1";
  model.metrics = {m1, m2};
  ASSERT_OK(store().ImportLoggedModel(kTenant, model));
  EXPECT_EQ(store().GetLoggedModel(kTenant, model.model_id).status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(LoggedModel got, store().GetLoggedModel(kTenant, model.model_id, true));
  EXPECT_EQ(got.name, "clf");
  EXPECT_EQ(got.creation_timestamp_ms, 10);
  EXPECT_EQ(got.last_updated_timestamp_ms, 20);
  EXPECT_EQ(got.status, LoggedModelStatus::kReady);
  EXPECT_EQ(got.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(got.tags, (std::vector<Tag>{{"t", "1"}}));
  EXPECT_EQ(FindParam(got.params, "p"), "2");
  EXPECT_EQ(got.metrics.size(), 2u);
  EXPECT_EQ(store().ImportLoggedModel(kTenant, model).code(), StatusCode::kAlreadyExists);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
