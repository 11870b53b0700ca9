#include "tracking/tracking_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "tracking/validation.h"

namespace cairn::tracking {
namespace {

// The scope of a request from `principal` in `tenant`.
RequestScope Scope(std::string_view tenant, std::string_view principal = "anonymous") {
  return RequestScope::ForTenant(tenant, principal);
}

namespace fs = std::filesystem;
using metadata::LifecycleStage;
using metadata::Metric;
using metadata::Param;
using metadata::RunStatus;
using metadata::Tag;

constexpr std::string_view kTenant = "default";
constexpr int64_t kStart = 1'700'000'000'000;

// Expects `status` to fail with `code` and exactly `message`.
void ExpectError(const Status& status, StatusCode code, std::string_view message) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

class TrackingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-tracking-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    stores_ = std::move(store).value();
    service_ =
        std::make_unique<TrackingService>(*stores_.tracking, clock_, ids_, TrackingOptions{});
  }

  void TearDown() override {
    service_.reset();
    stores_ = {};
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string MustCreateExperiment(std::string_view name, std::string_view tenant = kTenant) {
    auto id = service_->CreateExperiment(Scope(tenant), name, "", {});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  metadata::Run MustCreateRun(std::string experiment_id = "0", std::vector<Tag> tags = {}) {
    TrackingService::CreateRunRequest request;
    request.experiment_id = std::move(experiment_id);
    request.tags = std::move(tags);
    auto run = service_->CreateRun(Scope(kTenant), std::move(request));
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : metadata::Run{};
  }

  metadata::Run MustGetRun(std::string_view run_id) {
    auto run = service_->GetRun(Scope(kTenant), run_id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : metadata::Run{};
  }

  static Metric M(std::string key, double value, int64_t step, int64_t timestamp = 1) {
    Metric m;
    m.key = std::move(key);
    m.value = value;
    m.step = step;
    m.timestamp = timestamp;
    return m;
  }

  static std::string ParamValue(const metadata::Run& run, std::string_view key) {
    for (const auto& p : run.params) {
      if (p.key == key) return p.value;
    }
    return "<absent>";
  }

  static std::string TagValue(const std::vector<Tag>& tags, std::string_view key) {
    for (const auto& t : tags) {
      if (t.key == key) return t.value;
    }
    return "<absent>";
  }

  fs::path dir_;
  ManualClock clock_{kStart};
  IdGenerator ids_{42};
  metadata::MetadataStores stores_;
  std::unique_ptr<TrackingService> service_;
};

// ---- Experiments ----

TEST_F(TrackingServiceTest, EveryTenantStartsWithTheDefaultExperiment) {
  for (std::string_view tenant : {"default", "team-a"}) {
    auto e = service_->GetExperiment(Scope(tenant), "0");
    ASSERT_TRUE(e.ok()) << tenant << ": " << e.status().ToString();
    EXPECT_EQ(e->name, "Default");
    EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
    EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kActive);
  }
}

TEST_F(TrackingServiceTest, CreateExperimentAssignsIdsLocationsAndTags) {
  auto id = service_->CreateExperiment(Scope(kTenant), "churn", "", {{"team", "ml"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1");
  auto e = service_->GetExperiment(Scope(kTenant), *id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "churn");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/1");
  EXPECT_EQ(e->creation_time, kStart);
  EXPECT_EQ(e->tags, (std::vector<Tag>{{"team", "ml"}}));

  auto custom = service_->CreateExperiment(Scope(kTenant), "custom", "s3://bucket/exp", {});
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(service_->GetExperiment(Scope(kTenant), *custom)->artifact_location, "s3://bucket/exp");
  auto by_name = service_->GetExperimentByName(Scope(kTenant), "custom");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->experiment_id, *custom);
}

TEST_F(TrackingServiceTest, CreateExperimentRejectsBadInputWithMlflowsMessages) {
  ExpectError(service_->CreateExperiment(Scope(kTenant), "", "", {}).status(),
              StatusCode::kInvalidArgument,
              "Invalid experiment name: ''. Experiment name must not be empty.");
  ExpectError(service_->CreateExperiment(Scope(kTenant), std::string(501, 'e'), "", {}).status(),
              StatusCode::kInvalidArgument,
              "Experiment name exceeds the maximum length of 500 characters");
  EXPECT_TRUE(service_->CreateExperiment(Scope(kTenant), std::string(500, 'e'), "", {}).ok());
  ExpectError(service_->CreateExperiment(Scope(kTenant), "x", "s3://b/p#frag", {}).status(),
              StatusCode::kInvalidArgument,
              "'artifact_location' URL can't include fragments or params.");
  ExpectError(service_->CreateExperiment(Scope(kTenant), "x", "runs:/abc/model", {}).status(),
              StatusCode::kInvalidArgument, "'artifact_location' value cannot be a runs:/ URI.");
  ExpectError(service_->CreateExperiment(Scope(kTenant), "x", "s3://b/../other", {}).status(),
              StatusCode::kInvalidArgument, "'artifact_location' must not contain '..'.");
  EXPECT_EQ(service_->CreateExperiment(Scope(kTenant), "x", "", {{"bad*key", "v"}}).status().code(),
            StatusCode::kInvalidArgument);
  ExpectError(
      service_->CreateExperiment(Scope(kTenant), "x", "", {{"k", std::string(5001, 'v')}}).status(),
      StatusCode::kInvalidArgument,
      "Tag value for key 'k' exceeds the maximum length of 5000 characters");
  EXPECT_EQ(service_->GetExperimentByName(Scope(kTenant), "x").status().code(),
            StatusCode::kNotFound)
      << "nothing was stored";

  MustCreateExperiment("taken");
  ExpectError(service_->CreateExperiment(Scope(kTenant), "taken", "", {}).status(),
              StatusCode::kAlreadyExists, "Experiment(name=taken) already exists.");
}

TEST_F(TrackingServiceTest, ExperimentLookupsValidateIdsAndReportMissingOnes) {
  ExpectError(service_->GetExperiment(Scope(kTenant), "").status(), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'experiment_id'");
  ExpectError(service_->GetExperiment(Scope(kTenant), "bad id!").status(),
              StatusCode::kInvalidArgument, "Invalid experiment ID: 'bad id!'");
  ExpectError(service_->GetExperiment(Scope(kTenant), "42").status(), StatusCode::kNotFound,
              "No Experiment with id=42 exists");
  ExpectError(service_->GetExperimentByName(Scope(kTenant), "").status(),
              StatusCode::kInvalidArgument,
              "Missing value for required parameter 'experiment_name'");
  ExpectError(service_->GetExperimentByName(Scope(kTenant), "nope").status(), StatusCode::kNotFound,
              "Could not find experiment with name 'nope'");
}

TEST_F(TrackingServiceTest, RenameDeleteAndRestoreAnExperiment) {
  std::string id = MustCreateExperiment("old");
  MustCreateExperiment("other");
  ASSERT_TRUE(service_->RenameExperiment(Scope(kTenant), id, "new").ok());
  EXPECT_EQ(service_->GetExperiment(Scope(kTenant), id)->name, "new");
  ExpectError(service_->RenameExperiment(Scope(kTenant), id, "other"), StatusCode::kAlreadyExists,
              "Experiment(name=other) already exists.");
  ExpectError(service_->RenameExperiment(Scope(kTenant), id, ""), StatusCode::kInvalidArgument,
              "Invalid experiment name: ''. Experiment name must not be empty.");

  metadata::Run run = MustCreateRun(id);
  ASSERT_TRUE(service_->DeleteExperiment(Scope(kTenant), id).ok());
  EXPECT_EQ(service_->GetExperiment(Scope(kTenant), id)->lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(MustGetRun(run.info.run_id).info.lifecycle_stage, LifecycleStage::kDeleted)
      << "deleting an experiment deletes its runs";
  ExpectError(service_->RenameExperiment(Scope(kTenant), id, "again"), StatusCode::kInvalidArgument,
              "Cannot rename a non-active experiment.");
  TrackingService::CreateRunRequest request;
  request.experiment_id = id;
  ExpectError(service_->CreateRun(Scope(kTenant), request).status(), StatusCode::kInvalidArgument,
              "The experiment " + id + " must be in the 'active' state. Current state is deleted.");
  EXPECT_EQ(service_->DeleteExperiment(Scope(kTenant), id).code(), StatusCode::kNotFound)
      << "already deleted";

  ASSERT_TRUE(service_->RestoreExperiment(Scope(kTenant), id).ok());
  EXPECT_EQ(service_->GetExperiment(Scope(kTenant), id)->lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(MustGetRun(run.info.run_id).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(service_->RestoreExperiment(Scope(kTenant), id).code(), StatusCode::kNotFound)
      << "not deleted";
  EXPECT_EQ(service_->DeleteExperiment(Scope(kTenant), "99").code(), StatusCode::kNotFound);
}

TEST_F(TrackingServiceTest, ExperimentTagsSetOverwriteAndDelete) {
  std::string id = MustCreateExperiment("e");
  ASSERT_TRUE(service_->SetExperimentTag(Scope(kTenant), id, {"k", "v1"}).ok());
  ASSERT_TRUE(service_->SetExperimentTag(Scope(kTenant), id, {"k", "v2"}).ok());
  EXPECT_EQ(service_->GetExperiment(Scope(kTenant), id)->tags, (std::vector<Tag>{{"k", "v2"}}));
  ASSERT_TRUE(service_->DeleteExperimentTag(Scope(kTenant), id, "k").ok());
  EXPECT_TRUE(service_->GetExperiment(Scope(kTenant), id)->tags.empty());
  ExpectError(service_->DeleteExperimentTag(Scope(kTenant), id, "k"), StatusCode::kNotFound,
              "No tag with name: k in experiment with id " + id);
  EXPECT_EQ(service_->SetExperimentTag(Scope(kTenant), id, {"../x", "v"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->SetExperimentTag(Scope(kTenant), "99", {"k", "v"}).code(),
            StatusCode::kNotFound);
}

TEST_F(TrackingServiceTest, SearchExperimentsPagesAndBoundsMaxResults) {
  ASSERT_TRUE(service_->GetExperiment(Scope(kTenant), "0").ok());  // creates Default first
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceMillis(1);
    MustCreateExperiment("e" + std::to_string(i));
  }
  metadata::SearchExperimentsQuery query;
  query.page.max_results = 2;
  std::vector<std::string> seen;
  for (int page_number = 0; page_number < 10; ++page_number) {
    auto page = service_->SearchExperiments(Scope(kTenant), query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->items.size(), 2u);
    for (const auto& e : page->items) seen.push_back(e.name);
    if (!page->has_more) break;
    query.page.offset += 2;
  }
  // Newest first, the Default experiment (created first) last.
  EXPECT_EQ(seen, (std::vector<std::string>{"e4", "e3", "e2", "e1", "e0", "Default"}));

  for (int64_t bad : {int64_t{0}, int64_t{-1}, kMaxSearchExperimentsResults + 1}) {
    query.page = {.max_results = bad, .offset = 0};
    ExpectError(service_->SearchExperiments(Scope(kTenant), query).status(),
                StatusCode::kInvalidArgument,
                "Invalid value for parameter 'max_results' supplied. It must be a positive "
                "integer no greater than 50000");
  }
  query.page = {.max_results = kMaxSearchExperimentsResults, .offset = 0};
  EXPECT_TRUE(service_->SearchExperiments(Scope(kTenant), query).ok());
}

TEST_F(TrackingServiceTest, TenantsDoNotSeeEachOthersExperimentsOrRuns) {
  std::string id = MustCreateExperiment("mine", "team-a");
  EXPECT_EQ(service_->GetExperimentByName(Scope("team-b"), "mine").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(service_->CreateExperiment(Scope("team-b"), "mine", "", {}).ok())
      << "names are per tenant";
  metadata::Run run = MustCreateRun();
  EXPECT_EQ(service_->GetRun(Scope("team-a"), run.info.run_id).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->LogBatch(Scope("team-a"), run.info.run_id, {M("m", 1, 0)}, {}, {}).code(),
            StatusCode::kNotFound);
}

// ---- Runs ----

TEST_F(TrackingServiceTest, CreateRunFillsIdsNameTimesAndArtifactUri) {
  TrackingService::CreateRunRequest request;
  request.user_id = "alice";
  request.run_name = "trainer";
  request.tags = {{"owner", "ml"}};
  auto run = service_->CreateRun(Scope(kTenant), request);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const metadata::RunInfo& info = run->info;
  EXPECT_EQ(info.run_id.size(), 32u);
  EXPECT_EQ(info.experiment_id, "0") << "an empty experiment id is the Default experiment";
  EXPECT_EQ(info.run_name, "trainer");
  EXPECT_EQ(info.user_id, "alice");
  EXPECT_EQ(info.status, RunStatus::kRunning);
  EXPECT_EQ(info.start_time, kStart);
  EXPECT_EQ(info.artifact_uri, "mlflow-artifacts:/0/" + info.run_id + "/artifacts");
  EXPECT_EQ(info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(TagValue(run->tags, "mlflow.runName"), "trainer");
  EXPECT_EQ(TagValue(run->tags, "owner"), "ml");

  TrackingService::CreateRunRequest from_tags;
  from_tags.start_time = 5;
  from_tags.tags = {{"mlflow.runName", "tagged"}, {"mlflow.user", "bob"}};
  auto tagged = service_->CreateRun(Scope(kTenant), from_tags);
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->info.run_name, "tagged");
  EXPECT_EQ(tagged->info.user_id, "bob");
  EXPECT_EQ(tagged->info.start_time, 5);

  auto unnamed = service_->CreateRun(Scope(kTenant), {});
  ASSERT_TRUE(unnamed.ok());
  EXPECT_FALSE(unnamed->info.run_name.empty()) << "a generated adjective-noun-NNN name";
  EXPECT_EQ(TagValue(unnamed->tags, "mlflow.runName"), unnamed->info.run_name);
  EXPECT_NE(unnamed->info.run_id, run->info.run_id);
}

TEST_F(TrackingServiceTest, CreateRunRejectsContradictionsAndUnknownExperiments) {
  TrackingService::CreateRunRequest request;
  request.run_name = "a";
  request.tags = {{"mlflow.runName", "b"}};
  ExpectError(service_->CreateRun(Scope(kTenant), request).status(), StatusCode::kInvalidArgument,
              "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
              "different values (run_name='a', mlflow.runName='b').");
  request = {};
  request.experiment_id = "77";
  ExpectError(service_->CreateRun(Scope(kTenant), request).status(), StatusCode::kNotFound,
              "No Experiment with id=77 exists");
  request.experiment_id = "no way";
  ExpectError(service_->CreateRun(Scope(kTenant), request).status(), StatusCode::kInvalidArgument,
              "Invalid experiment ID: 'no way'");
  request = {};
  request.tags.resize(101, {"k", "v"});
  ExpectError(service_->CreateRun(Scope(kTenant), request).status(), StatusCode::kInvalidArgument,
              "A batch logging request can contain at most 100 tags. Got 101 tags.");
}

TEST_F(TrackingServiceTest, RunLookupsValidateIds) {
  ExpectError(service_->GetRun(Scope(kTenant), "").status(), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'run_id'");
  ExpectError(service_->GetRun(Scope(kTenant), "not a run").status(), StatusCode::kInvalidArgument,
              "Invalid run ID: 'not a run'");
  std::string missing(32, 'a');
  ExpectError(service_->GetRun(Scope(kTenant), missing).status(), StatusCode::kNotFound,
              "Run with id=" + missing + " not found");
  EXPECT_EQ(service_->DeleteRun(Scope(kTenant), missing).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->UpdateRun(Scope(kTenant), missing, RunStatus::kFinished, 1, std::nullopt)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(TrackingServiceTest, UpdateRunSetsStatusEndTimeAndName) {
  metadata::Run run = MustCreateRun();
  auto info = service_->UpdateRun(Scope(kTenant), run.info.run_id, RunStatus::kFinished,
                                  kStart + 10, std::string("renamed"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, RunStatus::kFinished);
  EXPECT_EQ(info->end_time, kStart + 10);
  EXPECT_EQ(info->run_name, "renamed");
  EXPECT_EQ(TagValue(MustGetRun(run.info.run_id).tags, "mlflow.runName"), "renamed");

  auto unchanged = service_->UpdateRun(Scope(kTenant), run.info.run_id, std::nullopt, std::nullopt,
                                       std::string(""));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->run_name, "renamed") << "an empty name changes nothing";
  EXPECT_EQ(unchanged->status, RunStatus::kFinished);
}

TEST_F(TrackingServiceTest, LogBatchStoresMetricsParamsAndTags) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(service_
                  ->LogBatch(Scope(kTenant), id, {M("acc", 0.5, 0, 10), M("acc", 0.9, 1, 20)},
                             {{"alpha", "0.1"}}, {{"note", "first"}})
                  .ok());
  ASSERT_TRUE(service_
                  ->LogBatch(Scope(kTenant), id, {M("acc", 0.7, 1, 15)}, {{"alpha", "0.1"}},
                             {{"note", "second"}})
                  .ok())
      << "the same param value again is allowed";
  metadata::Run got = MustGetRun(id);
  ASSERT_EQ(got.metrics.size(), 1u);
  EXPECT_EQ(got.metrics[0].value, 0.9) << "latest by (step, timestamp)";
  EXPECT_EQ(ParamValue(got, "alpha"), "0.1");
  EXPECT_EQ(TagValue(got.tags, "note"), "second") << "tags overwrite";

  ExpectError(service_->LogBatch(Scope(kTenant), id, {}, {{"alpha", "0.2"}}, {}),
              StatusCode::kInvalidArgument,
              "Changing param values is not allowed. Param with key='alpha' was already logged "
              "with value='0.1' for run ID='" +
                  id + "'. Attempted logging new value '0.2'.");

  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, {}, {}, {{"mlflow.runName", "via-tag"}}).ok());
  EXPECT_EQ(MustGetRun(id).info.run_name, "via-tag");
}

TEST_F(TrackingServiceTest, LogBatchEnforcesMlflowsBatchLimits) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  std::vector<Metric> metrics;
  metrics.reserve(1001);
  for (int i = 0; i < 1001; ++i) metrics.push_back(M("m" + std::to_string(i), 1, 0));
  ExpectError(service_->LogBatch(Scope(kTenant), id, metrics, {}, {}), StatusCode::kInvalidArgument,
              "A batch logging request can contain at most 1000 metrics. Got 1001 metrics.");
  std::vector<Param> params;
  params.reserve(101);
  for (int i = 0; i < 101; ++i) params.push_back({"p" + std::to_string(i), "v"});
  ExpectError(service_->LogBatch(Scope(kTenant), id, {}, params, {}), StatusCode::kInvalidArgument,
              "A batch logging request can contain at most 100 params. Got 101 params.");
  std::vector<Tag> tags;
  tags.reserve(101);
  for (int i = 0; i < 101; ++i) tags.push_back({"t" + std::to_string(i), "v"});
  ExpectError(service_->LogBatch(Scope(kTenant), id, {}, {}, tags), StatusCode::kInvalidArgument,
              "A batch logging request can contain at most 100 tags. Got 101 tags.");
  metrics.pop_back();
  params.pop_back();
  ExpectError(service_->LogBatch(Scope(kTenant), id, metrics, {params[0]}, {}),
              StatusCode::kInvalidArgument,
              "A batch logging request can contain at most 1000 metrics, params and tags in "
              "total. Got 1001.");
  EXPECT_TRUE(MustGetRun(id).metrics.empty()) << "a rejected batch stores nothing";

  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, metrics, {}, {}).ok())
      << "exactly at the limit";
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, {}, params, {}).ok());
  EXPECT_EQ(MustGetRun(id).metrics.size(), 1000u);
  EXPECT_EQ(MustGetRun(id).params.size(), 100u);
}

TEST_F(TrackingServiceTest, LogBatchValidatesKeysAndTimestampsAndTruncatesLongValues) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  ExpectError(service_->LogBatch(Scope(kTenant), id, {M("bad*key", 1, 0)}, {}, {}),
              StatusCode::kInvalidArgument,
              "Invalid metric name: 'bad*key'. Names may only contain alphanumerics, underscores "
              "(_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).");
  ExpectError(service_->LogBatch(Scope(kTenant), id, {}, {{"../up", "v"}}, {}),
              StatusCode::kInvalidArgument,
              "Invalid param name: '../up'. Names cannot contain '..' segments, start with '/' or "
              "be '.'.");
  ExpectError(service_->LogBatch(Scope(kTenant), id, {}, {}, {{"", "v"}}),
              StatusCode::kInvalidArgument,
              "Missing value for required parameter 'key'. Invalid tag name: ''.");
  ExpectError(service_->LogBatch(Scope(kTenant), id, {M("m", 1, 0, -1)}, {}, {}),
              StatusCode::kInvalidArgument, "Invalid timestamp for metric 'm': must be >= 0");
  ExpectError(service_->LogBatch(Scope(""), "", {}, {}, {}), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'run_id'");

  ASSERT_TRUE(service_
                  ->LogBatch(Scope(kTenant), id, {M("nan", std::nan(""), 0)},
                             {{"long", std::string(7000, 'p')}}, {{"long", std::string(9000, 't')}})
                  .ok());
  metadata::Run got = MustGetRun(id);
  EXPECT_EQ(ParamValue(got, "long").size(), kMaxParamValueLength);
  EXPECT_EQ(TagValue(got.tags, "long").size(), kMaxTagValueLength);
  ASSERT_EQ(got.metrics.size(), 1u);
  EXPECT_TRUE(std::isnan(got.metrics[0].value));
}

TEST_F(TrackingServiceTest, DeletedRunsAreReadableButNotWritableUntilRestored) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, {}, {}, {{"k", "v"}}).ok());
  ASSERT_TRUE(service_->DeleteRun(Scope(kTenant), id).ok());
  metadata::Run deleted = MustGetRun(id);
  EXPECT_EQ(deleted.info.lifecycle_stage, LifecycleStage::kDeleted);

  const std::string not_active =
      "The run " + id + " must be in the 'active' state. Current state is deleted.";
  ExpectError(service_->LogBatch(Scope(kTenant), id, {M("m", 1, 0)}, {}, {}),
              StatusCode::kInvalidArgument, not_active);
  ExpectError(service_->DeleteRunTag(Scope(kTenant), id, "k"), StatusCode::kInvalidArgument,
              not_active);
  ExpectError(service_->LogInputs(Scope(kTenant), id, {}, {{"m-1"}}), StatusCode::kInvalidArgument,
              not_active);

  metadata::SearchRunsQuery query;
  query.experiment_ids = {"0"};
  EXPECT_TRUE(service_->SearchRuns(Scope(kTenant), query)->items.empty())
      << "active only by default";
  query.view_type = metadata::ViewType::kDeletedOnly;
  ASSERT_EQ(service_->SearchRuns(Scope(kTenant), query)->items.size(), 1u);

  ASSERT_TRUE(service_->RestoreRun(Scope(kTenant), id).ok());
  EXPECT_EQ(MustGetRun(id).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_TRUE(service_->LogBatch(Scope(kTenant), id, {M("m", 1, 0)}, {}, {}).ok());
}

TEST_F(TrackingServiceTest, DeleteRunTagRemovesOneTag) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, {}, {}, {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(service_->DeleteRunTag(Scope(kTenant), id, "a").ok());
  EXPECT_EQ(TagValue(MustGetRun(id).tags, "a"), "<absent>");
  EXPECT_EQ(TagValue(MustGetRun(id).tags, "b"), "2");
  ExpectError(service_->DeleteRunTag(Scope(kTenant), id, "a"), StatusCode::kNotFound,
              "No tag with name: a in run with id " + id);
  ExpectError(service_->DeleteRunTag(Scope(kTenant), id, ""), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'key'");
}

TEST_F(TrackingServiceTest, MetricHistoryPagesInOrder) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  std::vector<Metric> points;
  points.reserve(5);
  for (int step = 0; step < 5; ++step) points.push_back(M("loss", 1.0 / (step + 1), step, step));
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), id, points, {}, {}).ok());

  std::vector<int64_t> steps;
  metadata::Page page{.max_results = 2, .offset = 0};
  for (int i = 0; i < 10; ++i) {
    auto got = service_->GetMetricHistory(Scope(kTenant), id, "loss", page);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const auto& m : got->items) steps.push_back(m.step);
    if (!got->has_more) break;
    page.offset += page.max_results;
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 1, 2, 3, 4}));

  auto none = service_->GetMetricHistory(Scope(kTenant), id, "unknown", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty()) << "an unknown metric of a known run is empty";
  std::string missing(32, 'b');
  ExpectError(service_->GetMetricHistory(Scope(kTenant), missing, "loss", {}).status(),
              StatusCode::kNotFound, "Run with id=" + missing + " not found");
  ExpectError(service_->GetMetricHistory(Scope(kTenant), id, "", {}).status(),
              StatusCode::kInvalidArgument, "Missing value for required parameter 'metric_key'");
  ExpectError(
      service_->GetMetricHistory(Scope(kTenant), id, "loss", {.max_results = 0, .offset = 0})
          .status(),
      StatusCode::kInvalidArgument, "Invalid value for parameter 'max_results': must be positive");
}

TEST_F(TrackingServiceTest, MetricHistoryBulkIntervalSamplesStepsEvenly) {
  metadata::Run a = MustCreateRun();
  metadata::Run b = MustCreateRun();
  std::vector<Metric> points;
  points.reserve(10);
  for (int step = 0; step < 10; ++step) points.push_back(M("loss", step, step));
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), a.info.run_id, points, {}, {}).ok());
  ASSERT_TRUE(service_->LogBatch(Scope(kTenant), b.info.run_id, {M("loss", 0, 0)}, {}, {}).ok());

  auto all = service_->GetMetricHistoryBulkInterval(Scope(kTenant), {a.info.run_id, b.info.run_id},
                                                    "loss", std::nullopt, std::nullopt, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 11u);
  for (const auto& m : *all) EXPECT_FALSE(m.run_id.empty());

  auto sampled = service_->GetMetricHistoryBulkInterval(Scope(kTenant), {a.info.run_id}, "loss",
                                                        std::nullopt, std::nullopt, 3);
  ASSERT_TRUE(sampled.ok());
  std::vector<int64_t> steps;
  for (const auto& m : *sampled) steps.push_back(m.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 4, 9})) << "first and last kept";

  auto ranged =
      service_->GetMetricHistoryBulkInterval(Scope(kTenant), {a.info.run_id}, "loss", 2, 4, 100);
  ASSERT_TRUE(ranged.ok());
  EXPECT_EQ(ranged->size(), 3u);
}

TEST(SampleMetricHistoryTest, KeepsEachBucketsFirstPointAndTheLast) {
  auto steps_of = [](std::vector<int64_t> steps, int64_t max_results) {
    std::vector<Metric> history;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      history.push_back(Metric{.key = "m", .value = 1, .timestamp = 1, .step = *it});
    }
    std::vector<int64_t> out;
    for (const auto& m : SampleMetricHistory(history, max_results)) out.push_back(m.step);
    return out;
  };
  EXPECT_EQ(steps_of({0, 3, 7}, 10), (std::vector<int64_t>{0, 3, 7})) << "fewer points: all";
  EXPECT_EQ(steps_of({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 1), (std::vector<int64_t>{9}));
  // NTILE(4) over 7 points: buckets of 2, 2, 2, 1.
  EXPECT_EQ(steps_of({0, 2, 3, 10, 11, 50, 51}, 4), (std::vector<int64_t>{0, 3, 11, 51}));
  // NTILE(3) over 7 points: buckets of 3, 2, 2; the last replaces the third sample.
  EXPECT_EQ(steps_of({0, 2, 3, 10, 11, 50, 51}, 3), (std::vector<int64_t>{0, 10, 51}));
}

TEST_F(TrackingServiceTest, MetricHistoryBulkIntervalRejectsBadRequests) {
  metadata::Run run = MustCreateRun();
  std::vector<std::string> one = {run.info.run_id};
  auto call = [&](const std::vector<std::string>& ids, std::string_view key,
                  std::optional<int64_t> start, std::optional<int64_t> end, int64_t max) {
    return service_->GetMetricHistoryBulkInterval(Scope(kTenant), ids, key, start, end, max)
        .status();
  };
  ExpectError(call({}, "m", std::nullopt, std::nullopt, 10), StatusCode::kInvalidArgument,
              "GetMetricHistoryBulkInterval request must specify at least one run_id.");
  ExpectError(
      call(std::vector<std::string>(101, run.info.run_id), "m", std::nullopt, std::nullopt, 10),
      StatusCode::kInvalidArgument,
      "GetMetricHistoryBulkInterval request cannot specify more than 100 run_ids. "
      "Received 101 run_ids.");
  ExpectError(call(one, "", std::nullopt, std::nullopt, 10), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'metric_key'");
  ExpectError(call(one, "m", 1, std::nullopt, 10), StatusCode::kInvalidArgument,
              "If either start step or end step are specified, both must be specified.");
  ExpectError(call(one, "m", 5, 1, 10), StatusCode::kInvalidArgument,
              "end_step must be greater than start_step. Found start_step=5 and end_step=1.");
  for (int64_t bad : {0, 2501}) {
    ExpectError(call(one, "m", std::nullopt, std::nullopt, bad), StatusCode::kInvalidArgument,
                "max_results must be between 1 and 2500.");
  }
  ExpectError(call({"bad id!"}, "m", std::nullopt, std::nullopt, 10), StatusCode::kInvalidArgument,
              "Invalid run ID: 'bad id!'");
}

TEST_F(TrackingServiceTest, SearchRunsPagesAndBoundsMaxResults) {
  std::string exp = MustCreateExperiment("search");
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(MustCreateRun(exp).info.run_id);
    clock_.AdvanceMillis(1);
  }
  metadata::SearchRunsQuery query;
  query.experiment_ids = {exp};
  query.page.max_results = 2;
  std::vector<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    auto page = service_->SearchRuns(Scope(kTenant), query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->items) seen.push_back(r.info.run_id);
    if (!page->has_more) break;
    query.page.offset += 2;
  }
  std::reverse(created.begin(), created.end());
  EXPECT_EQ(seen, created) << "newest first, each run once";

  for (int64_t bad : {int64_t{0}, kMaxSearchRunsResults + 1}) {
    query.page = {.max_results = bad, .offset = 0};
    ExpectError(service_->SearchRuns(Scope(kTenant), query).status(), StatusCode::kInvalidArgument,
                "Invalid value for parameter 'max_results' supplied. It must be at most 50000, "
                "but got value " +
                    std::to_string(bad));
  }
  query.page = {};
  query.experiment_ids = {"x y"};
  ExpectError(service_->SearchRuns(Scope(kTenant), query).status(), StatusCode::kInvalidArgument,
              "Invalid experiment ID: 'x y'");
}

TEST_F(TrackingServiceTest, LogInputsValidatesDatasetsAndModels) {
  metadata::Run run = MustCreateRun();
  const std::string& id = run.info.run_id;
  metadata::DatasetInput input;
  input.dataset = {"iris", "d1g3st", "local", "/data/iris.csv", std::nullopt, std::nullopt};
  input.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(service_->LogInputs(Scope(kTenant), id, {input}, {}).ok());
  ASSERT_TRUE(service_->LogInputs(Scope(kTenant), id, {input}, {}).ok()) << "deduplicated";
  metadata::Run got = MustGetRun(id);
  ASSERT_EQ(got.dataset_inputs.size(), 1u);
  EXPECT_EQ(got.dataset_inputs[0].dataset.name, "iris");

  metadata::DatasetInput bad = input;
  bad.dataset.name = "";
  ExpectError(service_->LogInputs(Scope(kTenant), id, {bad}, {}), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'name'");
  bad = input;
  bad.dataset.digest = std::string(37, 'd');
  ExpectError(service_->LogInputs(Scope(kTenant), id, {bad}, {}), StatusCode::kInvalidArgument,
              "Dataset digest exceeds the maximum length of 36");
  bad = input;
  bad.tags = {{std::string(256, 'k'), "v"}};
  ExpectError(service_->LogInputs(Scope(kTenant), id, {bad}, {}), StatusCode::kInvalidArgument,
              "Input tag key must be 1 to 255 characters");
  ExpectError(service_->LogInputs(Scope(kTenant), id, {}, {{""}}), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'model_id'");
  ExpectError(service_->LogOutputs(Scope(kTenant), id, {{std::string(257, 'm'), 0}}),
              StatusCode::kInvalidArgument, "Invalid model ID");
}

// ---- Logged models ----

TEST_F(TrackingServiceTest, LoggedModelLifecycle) {
  std::string exp = MustCreateExperiment("models");
  metadata::Run run = MustCreateRun(exp);
  TrackingService::CreateLoggedModelRequest request;
  request.experiment_id = exp;
  request.name = "clf";
  request.model_type = "classifier";
  request.source_run_id = run.info.run_id;
  request.creator_id = "alice";
  request.params = {{"alpha", "0.5"}};
  request.tags = {{"stage", "candidate"}};
  auto model = service_->CreateLoggedModel(Scope(kTenant), request);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::string id = model->model_id;
  EXPECT_EQ(id.substr(0, 2), "m-");
  EXPECT_EQ(id.size(), 34u);
  EXPECT_EQ(model->artifact_uri, "mlflow-artifacts:/" + exp + "/models/" + id + "/artifacts");
  EXPECT_EQ(model->status, metadata::LoggedModelStatus::kPending);
  EXPECT_EQ(model->creation_timestamp_ms, kStart);
  EXPECT_EQ(model->source_run_id, run.info.run_id);

  ExpectError(
      service_->FinalizeLoggedModel(Scope(kTenant), id, metadata::LoggedModelStatus::kPending)
          .status(),
      StatusCode::kInvalidArgument,
      "Invalid status: a logged model can only be finalized as LOGGED_MODEL_READY or "
      "LOGGED_MODEL_UPLOAD_FAILED");
  auto ready =
      service_->FinalizeLoggedModel(Scope(kTenant), id, metadata::LoggedModelStatus::kReady);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(ready->status, metadata::LoggedModelStatus::kReady);

  ASSERT_TRUE(
      service_->SetLoggedModelTags(Scope(kTenant), id, {{"stage", "prod"}, {"k", "v"}}).ok());
  ASSERT_TRUE(service_->DeleteLoggedModelTag(Scope(kTenant), id, "k").ok());
  ASSERT_TRUE(service_->LogLoggedModelParams(Scope(kTenant), id, {{"beta", "2"}}).ok());
  auto got = service_->GetLoggedModel(Scope(kTenant), id, false);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<Tag>{{"stage", "prod"}}));
  EXPECT_EQ(got->params.size(), 2u);
  ExpectError(service_->DeleteLoggedModelTag(Scope(kTenant), id, ""), StatusCode::kInvalidArgument,
              "Missing value for required parameter 'tag_key'");
  ExpectError(service_->DeleteLoggedModelTag(Scope(kTenant), id, "k"), StatusCode::kNotFound,
              "No tag with key 'k' found for model with ID '" + id + "'.");

  metadata::SearchLoggedModelsQuery query;
  query.experiment_ids = {exp};
  auto found = service_->SearchLoggedModels(Scope(kTenant), query);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->items.size(), 1u);
  EXPECT_EQ(found->items[0].model_id, id);

  ASSERT_TRUE(service_->DeleteLoggedModel(Scope(kTenant), id).ok());
  ExpectError(service_->GetLoggedModel(Scope(kTenant), id, false).status(), StatusCode::kNotFound,
              "Logged model with ID '" + id + "' not found.");
  EXPECT_TRUE(service_->GetLoggedModel(Scope(kTenant), id, true).ok()) << "allow_deleted";
  EXPECT_TRUE(service_->SearchLoggedModels(Scope(kTenant), query)->items.empty());
}

TEST_F(TrackingServiceTest, LoggedModelRequestsAreValidated) {
  std::string exp = MustCreateExperiment("models");
  TrackingService::CreateLoggedModelRequest request;
  request.experiment_id = exp;
  auto unnamed = service_->CreateLoggedModel(Scope(kTenant), request);
  ASSERT_TRUE(unnamed.ok()) << unnamed.status().ToString();
  EXPECT_FALSE(unnamed->name.empty()) << "a generated name";

  request.params.resize(101, {"p", "v"});
  ExpectError(service_->CreateLoggedModel(Scope(kTenant), request).status(),
              StatusCode::kInvalidArgument,
              "A logged model can be created with at most 100 params; log the rest with "
              "LogLoggedModelParams.");
  request.params.clear();
  request.source_run_id = "bad run!";
  ExpectError(service_->CreateLoggedModel(Scope(kTenant), request).status(),
              StatusCode::kInvalidArgument, "Invalid run ID: 'bad run!'");
  request.source_run_id.clear();
  request.experiment_id = "404";
  ExpectError(service_->CreateLoggedModel(Scope(kTenant), request).status(), StatusCode::kNotFound,
              "No Experiment with id=404 exists");
  ASSERT_TRUE(service_->DeleteExperiment(Scope(kTenant), exp).ok());
  request.experiment_id = exp;
  ExpectError(
      service_->CreateLoggedModel(Scope(kTenant), request).status(), StatusCode::kInvalidArgument,
      "The experiment " + exp + " must be in the 'active' state. Current state is deleted.");

  ExpectError(service_->GetLoggedModel(Scope(kTenant), "", false).status(),
              StatusCode::kInvalidArgument, "Missing value for required parameter 'model_id'");
  ExpectError(service_->GetLoggedModel(Scope(kTenant), "m-missing", false).status(),
              StatusCode::kNotFound, "Logged model with ID 'm-missing' not found.");
  metadata::SearchLoggedModelsQuery query;
  ExpectError(service_->SearchLoggedModels(Scope(kTenant), query).status(),
              StatusCode::kInvalidArgument,
              "Missing value for required parameter 'experiment_ids'");
  query.experiment_ids = {exp};
  query.page.max_results = 0;
  ExpectError(service_->SearchLoggedModels(Scope(kTenant), query).status(),
              StatusCode::kInvalidArgument, "Invalid value for parameter 'max_results'");
}

}  // namespace
}  // namespace cairn::tracking
