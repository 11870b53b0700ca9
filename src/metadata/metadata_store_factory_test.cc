#include "metadata/metadata_store_factory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace cairn::metadata {
namespace {

std::string PathOf(std::string_view uri) {
  auto parsed = Uri::Parse(uri);
  EXPECT_TRUE(parsed.ok()) << uri;
  if (!parsed.ok()) return "<bad uri>";
  auto path = SqlitePathFromUri(*parsed);
  EXPECT_TRUE(path.ok()) << uri << ": " << path.status().ToString();
  return path.ok() ? *path : "<error>";
}

TEST(MetadataStoreFactoryTest, SqliteUrisFollowTheMlflowSlashConvention) {
  EXPECT_EQ(PathOf("sqlite:///mlflow.db"), "mlflow.db");
  EXPECT_EQ(PathOf("sqlite:///data/meta.db"), "data/meta.db");
  EXPECT_EQ(PathOf("sqlite:////tmp/x.db"), "/tmp/x.db");
  EXPECT_EQ(PathOf("sqlite:////var/lib/cairn/meta%20db.db"), "/var/lib/cairn/meta db.db");
  EXPECT_EQ(PathOf("sqlite://"), ":memory:");
  EXPECT_EQ(PathOf("sqlite:///:memory:"), ":memory:");
  EXPECT_EQ(PathOf("sqlite://cairn-data/meta.db"), "cairn-data/meta.db");
  auto other = Uri::Parse("postgresql://h/db");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(SqlitePathFromUri(*other).status().code(), StatusCode::kInvalidArgument);
}

TEST(MetadataStoreFactoryTest, RegistersSqliteAndCreatesParentDirectories) {
  MetadataStoreRegistry registry;
  ASSERT_TRUE(RegisterBuiltinMetadataStores(registry).ok());
  EXPECT_EQ(registry.Names(), std::vector<std::string>{"sqlite"});
  EXPECT_EQ(RegisterBuiltinMetadataStores(registry).code(), StatusCode::kAlreadyExists);

  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-factory-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::string db = tmpl + "/nested/dir/meta.db";
  auto uri = Uri::Parse("sqlite:///" + db + "?synchronous=full&readers=2");
  ASSERT_TRUE(uri.ok());
  auto store = registry.Create("sqlite", *uri);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->EnsureDefaultExperiment("t", "file:///a", 1).ok());
  auto e = (*store)->GetExperiment("t", "0");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "Default");
  EXPECT_TRUE(std::filesystem::exists(db));
  store->reset();

  auto bad = Uri::Parse("sqlite:///" + db + "?synchronous=sometimes");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(registry.Create("sqlite", *bad).status().code(), StatusCode::kInvalidArgument);
  auto unknown = Uri::Parse("sqlite:///" + db + "?colour=blue");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(registry.Create("sqlite", *unknown).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace cairn::metadata
