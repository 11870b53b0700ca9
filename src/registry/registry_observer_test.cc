// RegistryService tells its observer about the MLflow registry changes webhooks announce, after
// they are stored, and about nothing that failed.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "registry/registry_service.h"

namespace cairn::registry {
namespace {

namespace fs = std::filesystem;
using Kind = RegistryEvent::Kind;

class Recorder : public RegistryObserver {
 public:
  void OnRegistryEvent(const RequestScope& scope, const RegistryEvent& event) override {
    tenants.push_back(scope.tenant);
    events.push_back(event);
  }
  std::vector<std::string> tenants;
  std::vector<RegistryEvent> events;
};

class RegistryObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-observer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto stores = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(stores).value();
    service_ = std::make_unique<RegistryService>(*stores_.registry, *stores_.tracking, clock_);
    service_->SetObserver(&recorder_);
  }

  void TearDown() override {
    service_.reset();
    stores_ = {};
    fs::remove_all(dir_);
  }

  fs::path dir_;
  ManualClock clock_{1'700'000'000'000};
  metadata::MetadataStores stores_;
  std::unique_ptr<RegistryService> service_;
  Recorder recorder_;
};

TEST_F(RegistryObserverTest, ToldAboutEachStoredChangeInOrder) {
  RequestScope scope = RequestScope::ForTenant("t1");
  ASSERT_TRUE(service_->CreateRegisteredModel(scope, "m", "d", {{"k", "v"}}).ok());
  metadata::CreateModelVersionRequest request;
  request.name = "m";
  request.source = "s3://bucket/model";
  request.description = "first";
  request.tags = {{"a", "b"}};
  auto version = service_->CreateModelVersion(scope, request);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  ASSERT_TRUE(service_->SetModelVersionTag(scope, "m", "1", {"q", "good"}).ok());
  ASSERT_TRUE(service_->DeleteModelVersionTag(scope, "m", "1", "q").ok());
  ASSERT_TRUE(service_->SetRegisteredModelTag(scope, "m", {"x", "y"}).ok());
  ASSERT_TRUE(service_->DeleteRegisteredModelTag(scope, "m", "x").ok());
  ASSERT_TRUE(service_->SetRegisteredModelAlias(scope, "m", "prod", "1").ok());
  ASSERT_TRUE(service_->DeleteRegisteredModelAlias(scope, "m", "prod").ok());

  const std::vector<RegistryEvent>& e = recorder_.events;
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(recorder_.tenants, std::vector<std::string>(8, "t1"));
  EXPECT_EQ(e[0].kind, Kind::kRegisteredModelCreated);
  EXPECT_EQ(e[0].description, "d");
  EXPECT_EQ(e[0].tags, (std::vector<metadata::Tag>{{"k", "v"}}));
  EXPECT_EQ(e[1].kind, Kind::kModelVersionCreated);
  EXPECT_EQ(e[1].version, "1");
  EXPECT_EQ(e[1].source, "s3://bucket/model");
  EXPECT_EQ(e[1].description, "first");
  EXPECT_EQ(e[1].tags, (std::vector<metadata::Tag>{{"a", "b"}}));
  EXPECT_EQ(e[2].kind, Kind::kModelVersionTagSet);
  EXPECT_EQ(e[2].value, "good");
  EXPECT_EQ(e[3].kind, Kind::kModelVersionTagDeleted);
  EXPECT_EQ(e[3].key, "q");
  EXPECT_EQ(e[4].kind, Kind::kRegisteredModelTagSet);
  EXPECT_EQ(e[5].kind, Kind::kRegisteredModelTagDeleted);
  EXPECT_EQ(e[6].kind, Kind::kAliasSet);
  EXPECT_EQ(e[6].alias, "prod");
  EXPECT_EQ(e[6].version, "1");
  EXPECT_EQ(e[7].kind, Kind::kAliasDeleted);
}

TEST_F(RegistryObserverTest, ToldAboutRegisterAndPromotionToAnAlias) {
  RequestScope scope = RequestScope::ForTenant("t1");
  RegisterRequest request;
  request.name = "m";
  request.source.artifact_uri = "s3://bucket/model";
  request.description = "v1";
  auto first = service_->Register(scope, request);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = service_->Register(scope, request);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(service_->Promote(scope, "m", "2", "Production", std::nullopt, false).ok());
  ASSERT_TRUE(service_->Promote(scope, "m", "2", std::nullopt, "champion", false).ok());
  EXPECT_FALSE(service_->Promote(scope, "m", "9", std::nullopt, "champion", false).ok());

  const std::vector<RegistryEvent>& e = recorder_.events;
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].kind, Kind::kRegisteredModelCreated);
  EXPECT_EQ(e[0].name, "m");
  EXPECT_EQ(e[1].kind, Kind::kModelVersionCreated);
  EXPECT_EQ(e[1].version, "1");
  EXPECT_EQ(e[1].source, "s3://bucket/model");
  EXPECT_EQ(e[1].description, "v1");
  EXPECT_EQ(e[2].kind, Kind::kModelVersionCreated);  // the model existed: no second creation
  EXPECT_EQ(e[2].version, "2");
  EXPECT_EQ(e[3].kind, Kind::kAliasSet);  // a stage transition has no MLflow event
  EXPECT_EQ(e[3].alias, "champion");
  EXPECT_EQ(e[3].version, "2");
}

TEST_F(RegistryObserverTest, NotToldAboutFailuresNorAfterRemoval) {
  RequestScope scope = RequestScope::ForTenant("t1");
  EXPECT_FALSE(service_->SetModelVersionTag(scope, "missing", "1", {"q", "v"}).ok());
  EXPECT_FALSE(service_->SetRegisteredModelAlias(scope, "missing", "a", "1").ok());
  ASSERT_TRUE(service_->CreateRegisteredModel(scope, "m", "", {}).ok());
  EXPECT_FALSE(service_->CreateRegisteredModel(scope, "m", "", {}).ok());
  EXPECT_EQ(recorder_.events.size(), 1u);
  service_->SetObserver(nullptr);
  ASSERT_TRUE(service_->CreateRegisteredModel(scope, "m2", "", {}).ok());
  EXPECT_EQ(recorder_.events.size(), 1u);
}

}  // namespace
}  // namespace cairn::registry
