// The DeploymentStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h).

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "metadata/deployment_store.h"
#include "metadata/metadata_store_test_backends.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";

DeploymentRecord Record(std::string id, std::string name, int64_t created = 1000) {
  return DeploymentRecord{.id = std::move(id),
                          .name = std::move(name),
                          .model_name = "iris",
                          .model_version = "1",
                          .spec_json = R"({"replicas":1})",
                          .state = "PENDING",
                          .created_at_ms = created,
                          .updated_at_ms = created};
}

class DeploymentStoreConformanceTest : public testing_util::StoreConformanceTest {};

TEST_P(DeploymentStoreConformanceTest, CreateGetByIdOrName) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "iris-v1")));
  ASSERT_OK_AND_ASSIGN(DeploymentRecord by_id, deployments().GetDeployment(kTenant, "d-1"));
  EXPECT_EQ(by_id.name, "iris-v1");
  EXPECT_EQ(by_id.spec_json, R"({"replicas":1})");
  EXPECT_EQ(by_id.state, "PENDING");
  ASSERT_OK_AND_ASSIGN(DeploymentRecord by_name, deployments().GetDeployment(kTenant, "iris-v1"));
  EXPECT_EQ(by_name.id, "d-1");
  EXPECT_EQ(deployments().GetDeployment(kTenant, "nope").status().code(), StatusCode::kNotFound);
}

TEST_P(DeploymentStoreConformanceTest, NamesAreUniquePerTenant) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "iris")));
  EXPECT_EQ(deployments().CreateDeployment(kTenant, Record("d-2", "iris")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_OK(deployments().CreateDeployment(kOtherTenant, Record("d-3", "iris")));
  // The other tenant's deployment is invisible, by id and by name.
  EXPECT_EQ(deployments().GetDeployment(kTenant, "d-3").status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(DeploymentRecord mine, deployments().GetDeployment(kTenant, "iris"));
  EXPECT_EQ(mine.id, "d-1");
}

TEST_P(DeploymentStoreConformanceTest, ListsOldestFirstPerTenantAndAll) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-b", "second", 2000)));
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-a", "first", 1000)));
  ASSERT_OK(deployments().CreateDeployment(kOtherTenant, Record("d-c", "theirs", 1500)));
  ASSERT_OK_AND_ASSIGN(auto mine, deployments().ListDeployments(kTenant));
  ASSERT_EQ(mine.size(), 2U);
  EXPECT_EQ(mine[0].name, "first");
  EXPECT_EQ(mine[1].name, "second");
  ASSERT_OK_AND_ASSIGN(auto all, deployments().ListAllDeployments());
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[1].first, kOtherTenant);
  EXPECT_EQ(all[1].second.id, "d-c");
}

TEST_P(DeploymentStoreConformanceTest, UpdateKeepsNameAndSurvivesReopen) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "iris")));
  DeploymentRecord changed = Record("d-1", "renamed-ignored");
  changed.model_version = "2";
  changed.state = "READY";
  changed.spec_json = R"({"replicas":3})";
  changed.updated_at_ms = 5000;
  ASSERT_OK(deployments().UpdateDeployment(kTenant, changed));
  Reopen();
  ASSERT_OK_AND_ASSIGN(DeploymentRecord got, deployments().GetDeployment(kTenant, "d-1"));
  EXPECT_EQ(got.name, "iris");
  EXPECT_EQ(got.model_version, "2");
  EXPECT_EQ(got.state, "READY");
  EXPECT_EQ(got.spec_json, R"({"replicas":3})");
  EXPECT_EQ(got.created_at_ms, 1000);
  EXPECT_EQ(got.updated_at_ms, 5000);
  EXPECT_EQ(deployments().UpdateDeployment(kOtherTenant, changed).code(), StatusCode::kNotFound);
}

TEST_P(DeploymentStoreConformanceTest, StateReportsApplyOnlyToTheStoredSpec) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "iris")));
  // A load finished on the spec it started with: its state is stored, the rest kept.
  DeploymentRecord loaded = Record("d-1", "iris");
  loaded.state = "READY";
  loaded.reason = "loaded";
  loaded.updated_at_ms = 2000;
  ASSERT_OK(deployments().UpdateDeploymentState(kTenant, loaded));
  ASSERT_OK_AND_ASSIGN(DeploymentRecord got, deployments().GetDeployment(kTenant, "d-1"));
  EXPECT_EQ(got.state, "READY");
  EXPECT_EQ(got.reason, "loaded");
  EXPECT_EQ(got.updated_at_ms, 2000);
  EXPECT_EQ(got.spec_json, R"({"replicas":1})");

  // A scale stored meanwhile: a report on the old spec, or the old version, writes nothing.
  DeploymentRecord scaled = loaded;
  scaled.spec_json = R"({"replicas":2})";
  scaled.updated_at_ms = 3000;
  ASSERT_OK(deployments().UpdateDeployment(kTenant, scaled));
  DeploymentRecord stale = loaded;
  stale.state = "FAILED";
  stale.updated_at_ms = 4000;
  EXPECT_EQ(deployments().UpdateDeploymentState(kTenant, stale).code(),
            StatusCode::kFailedPrecondition);
  DeploymentRecord other_version = scaled;
  other_version.model_version = "2";
  other_version.state = "FAILED";
  EXPECT_EQ(deployments().UpdateDeploymentState(kTenant, other_version).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(got, deployments().GetDeployment(kTenant, "d-1"));
  EXPECT_EQ(got.state, "READY");
  EXPECT_EQ(got.spec_json, R"({"replicas":2})");
  EXPECT_EQ(got.updated_at_ms, 3000);

  EXPECT_EQ(deployments().UpdateDeploymentState(kOtherTenant, scaled).code(),
            StatusCode::kNotFound);
  DeploymentRecord missing = scaled;
  missing.id = "d-2";
  EXPECT_EQ(deployments().UpdateDeploymentState(kTenant, missing).code(), StatusCode::kNotFound);
}

TEST_P(DeploymentStoreConformanceTest, DeleteRemovesOnlyThatDeployment) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "a")));
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-2", "b")));
  EXPECT_EQ(deployments().DeleteDeployment(kOtherTenant, "d-1").code(), StatusCode::kNotFound);
  ASSERT_OK(deployments().DeleteDeployment(kTenant, "d-1"));
  EXPECT_EQ(deployments().DeleteDeployment(kTenant, "d-1").code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto left, deployments().ListDeployments(kTenant));
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].id, "d-2");
  // The name is free again.
  EXPECT_OK(deployments().CreateDeployment(kTenant, Record("d-3", "a")));
}

TEST_P(DeploymentStoreConformanceTest, FindsDeploymentsOfAVersion) {
  ASSERT_OK(deployments().CreateDeployment(kTenant, Record("d-1", "a")));
  DeploymentRecord other = Record("d-2", "b");
  other.model_version = "2";
  ASSERT_OK(deployments().CreateDeployment(kTenant, other));
  ASSERT_OK_AND_ASSIGN(auto names, deployments().DeploymentsOfVersion(kTenant, "iris", "1"));
  EXPECT_EQ(names, std::vector<std::string>{"a"});
  ASSERT_OK_AND_ASSIGN(auto none, deployments().DeploymentsOfVersion(kOtherTenant, "iris", "1"));
  EXPECT_TRUE(none.empty());
}

TEST_P(DeploymentStoreConformanceTest, ConcurrentCreatesOfOneNameLeaveOne) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (deployments().CreateDeployment(kTenant, Record("d-" + std::to_string(i), "x")).ok()) {
        ++created;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeploymentStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
