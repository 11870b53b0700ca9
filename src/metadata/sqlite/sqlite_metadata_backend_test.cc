#include "metadata/sqlite/sqlite_metadata_backend.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "metadata/sql/sql_tracking_store.h"

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

TEST(SqliteMetadataBackendTest, SqliteUrisFollowTheMlflowSlashConvention) {
  EXPECT_EQ(PathOf("sqlite:///mlflow.db"), "mlflow.db");
  EXPECT_EQ(PathOf("sqlite:///data/meta.db"), "data/meta.db");
  EXPECT_EQ(PathOf("sqlite:////tmp/x.db"), "/tmp/x.db");
  EXPECT_EQ(PathOf("sqlite:////var/lib/cairn/meta%20db.db"), "/var/lib/cairn/meta db.db");
  EXPECT_EQ(PathOf("sqlite://"), ":memory:");
  EXPECT_EQ(PathOf("sqlite:///:memory:"), ":memory:");
  EXPECT_EQ(PathOf("sqlite://cairn-data/meta.db"), "cairn-data/meta.db");
  for (const char* nul : {"sqlite:///meta%00.db", "sqlite://dir%00/meta.db"}) {
    auto parsed = Uri::Parse(nul);
    ASSERT_TRUE(parsed.ok()) << nul;
    EXPECT_EQ(SqlitePathFromUri(*parsed).status().code(), StatusCode::kInvalidArgument) << nul;
  }
  auto other = Uri::Parse("postgresql://h/db");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(SqlitePathFromUri(*other).status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteMetadataBackendTest, RegistersSqliteAndCreatesParentDirectories) {
  MetadataStoreRegistry registry;
  ASSERT_TRUE(RegisterSqliteMetadataBackend(registry).ok());
  EXPECT_EQ(registry.Names(), std::vector<std::string>{"sqlite"});
  EXPECT_EQ(RegisterSqliteMetadataBackend(registry).code(), StatusCode::kAlreadyExists);

  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-factory-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::string db = tmpl + "/nested/dir/meta.db";
  auto uri = Uri::Parse("sqlite:///" + db + "?synchronous=full&readers=2");
  ASSERT_TRUE(uri.ok());
  auto stores = registry.Create("sqlite", *uri, {});
  ASSERT_TRUE(stores.ok()) << stores.status().ToString();
  ASSERT_NE(stores->registry, nullptr);
  ASSERT_NE(stores->traces, nullptr);
  ASSERT_TRUE(stores->tracking->EnsureDefaultExperiment("t", "file:///a", 1).ok());
  auto e = stores->tracking->GetExperiment("t", "0");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "Default");
  EXPECT_TRUE(std::filesystem::exists(db));
  *stores = {};

  auto bad = Uri::Parse("sqlite:///" + db + "?synchronous=sometimes");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(registry.Create("sqlite", *bad, {}).status().code(), StatusCode::kInvalidArgument);
  auto unknown = Uri::Parse("sqlite:///" + db + "?colour=blue");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(registry.Create("sqlite", *unknown, {}).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(tmpl);
}

// PRAGMA synchronous of the store the registry made for `uri` and `options` (1 NORMAL, 2 FULL),
// or the status of the failed Create.
StatusOr<int> SynchronousOf(const std::string& uri, const MetadataStoreOptions& options) {
  MetadataStoreRegistry registry;
  RETURN_IF_ERROR(RegisterSqliteMetadataBackend(registry));
  ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(uri));
  ASSIGN_OR_RETURN(MetadataStores stores, registry.Create("sqlite", parsed, options));
  auto* sqlite = dynamic_cast<SqlTrackingStore*>(stores.tracking.get());
  if (sqlite == nullptr) return Internal("not a SqlTrackingStore");
  return sqlite->database().SqliteForTest()->SynchronousForTest();
}

TEST(SqliteMetadataBackendTest, SqliteSynchronousFullOptionAgreesWithTheUriOrIsRefused) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-factory-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string db = "sqlite:///" + tmpl + "/meta.db";
  const MetadataStoreOptions full{.sqlite_synchronous_full = true};
  auto expect = [](const std::string& uri, const MetadataStoreOptions& options, int want) {
    auto got = SynchronousOf(uri, options);
    ASSERT_TRUE(got.ok()) << uri << ": " << got.status().ToString();
    EXPECT_EQ(*got, want) << uri
                          << " with sqlite_synchronous_full=" << options.sqlite_synchronous_full;
  };
  expect(db, {}, 1);  // NORMAL by default
  expect(db, full, 2);
  expect(db + "?readers=1", full, 2);
  expect(db + "?synchronous=full", {}, 2);
  expect(db + "?synchronous=full", full, 2);
  expect(db + "?synchronous=normal", {}, 1);
  auto conflict = SynchronousOf(db + "?synchronous=normal", full);
  EXPECT_EQ(conflict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conflict.status().message().find("--sqlite-synchronous-full"), std::string::npos)
      << conflict.status().message();
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace cairn::metadata
