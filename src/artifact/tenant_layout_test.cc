#include "artifact/tenant_layout.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::artifact {
namespace {

TEST(TenantLayoutTest, DefaultTenantOwnsTheRootAsMlflowLaysItOut) {
  EXPECT_EQ(*TenantStorePath("default", "1/abc/artifacts/model/MLmodel"),
            "1/abc/artifacts/model/MLmodel");
  EXPECT_EQ(*TenantStorePath("default", "0/models/m-1/artifacts"), "0/models/m-1/artifacts");
  EXPECT_EQ(*TenantStorePath("default", ""), "");
  // Names no tenant can have (a '.', other characters, too long) stay the default tenant's.
  EXPECT_EQ(*TenantStorePath("default", "my.project/x"), "my.project/x");
  EXPECT_EQ(*TenantStorePath("default", std::string(64, 'a')), std::string(64, 'a'));
}

TEST(TenantLayoutTest, OtherTenantsKeepTheirFolder) {
  EXPECT_EQ(*TenantStorePath("team-a", "1/abc/artifacts/x"), "team-a/1/abc/artifacts/x");
  EXPECT_EQ(*TenantStorePath("team-a", ""), "team-a");
}

TEST(TenantLayoutTest, DefaultTenantCannotReachTenantFoldersOrStoreFiles) {
  for (std::string_view path :
       {"team-a/1/x", "Team-A/secret", "default/1/x", "DEFAULT", ".cairn-keys/default.json",
        ".cairn-tmp-staging/x", ".cairn-layout-migration", "served/MLmodel", "a_b"}) {
    auto path_or = TenantStorePath("default", path);
    EXPECT_EQ(path_or.status().code(), StatusCode::kInvalidArgument) << path;
  }
}

TEST(TenantLayoutTest, RejectsTenantsThatCouldCollideWithExperimentFolders) {
  for (std::string_view tenant :
       {"", "1", "0123", "Team-A", "a/b", ".", "..", ".cairn-keys", "a b"}) {
    EXPECT_EQ(TenantStorePath(tenant, "x").status().code(), StatusCode::kInvalidArgument) << tenant;
  }
  EXPECT_EQ(TenantStorePath(std::string(64, 'a'), "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TenantLayoutTest, TenantFolderNames) {
  EXPECT_TRUE(IsTenantFolderName("team-a"));
  EXPECT_TRUE(IsTenantFolderName("1a"));
  EXPECT_TRUE(IsTenantFolderName("_"));
  EXPECT_FALSE(IsTenantFolderName("12"));
  EXPECT_FALSE(IsTenantFolderName("default"));
  EXPECT_FALSE(IsTenantFolderName("Default"));
  EXPECT_FALSE(IsTenantFolderName("a.b"));
  EXPECT_FALSE(IsTenantFolderName(""));
  EXPECT_TRUE(IsDefaultTenantTopLevelName("12"));
  EXPECT_FALSE(IsDefaultTenantTopLevelName("team"));
}

TEST(TenantLayoutTest, DefaultRootListingHidesOtherTenantsAndStoreFiles) {
  std::vector<FileInfo> root = {{"0", true, {}},           {"12", true, {}},
                                {".cairn-keys", true, {}}, {"team-a", true, {}},
                                {"my.project", true, {}},  {"default", true, {}}};
  std::vector<FileInfo> shown = DefaultTenantRootEntries(root);
  ASSERT_EQ(shown.size(), 3u);
  EXPECT_EQ(shown[0].path, "0");
  EXPECT_EQ(shown[1].path, "12");
  EXPECT_EQ(shown[2].path, "my.project");
}

}  // namespace
}  // namespace cairn::artifact
