#include "artifact/layout_migration.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "artifact/encrypted/encrypted_artifact_store.h"
#include "artifact/local/local_artifact_store.h"

namespace cairn::artifact {
namespace {

namespace fs = std::filesystem;

// Fails every store call after the first `budget` ones, as a process killed at that point
// would leave the store: what was committed stays, nothing else happens.
class DyingStore : public ArtifactStoreWrapper {
 public:
  DyingStore(ArtifactStore& target, int budget) : ArtifactStoreWrapper(target), left_(budget) {}
  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override {
    RETURN_IF_ERROR(Tick());
    return ArtifactStoreWrapper::OpenWriter(path);
  }
  StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) override {
    RETURN_IF_ERROR(Tick());
    return ArtifactStoreWrapper::OpenReader(path);
  }
  StatusOr<std::vector<FileInfo>> List(std::string_view dir) override {
    RETURN_IF_ERROR(Tick());
    return ArtifactStoreWrapper::List(dir);
  }
  Status Delete(std::string_view path) override {
    RETURN_IF_ERROR(Tick());
    return ArtifactStoreWrapper::Delete(path);
  }

 private:
  Status Tick() { return left_-- > 0 ? Status::Ok() : Unavailable("killed"); }
  int left_;
};

class LayoutMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-layout-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Reopen() {
    store_.reset();
    auto store = LocalArtifactStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void Put(const std::string& path, const std::string& content) {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path, std::ios::binary) << content;
  }
  // Every regular file under the root, path -> content.
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      std::string rel = fs::relative(entry.path(), root_).generic_string();
      if (!entry.is_regular_file() || rel.starts_with(".cairn-tmp")) continue;
      std::stringstream ss;
      ss << std::ifstream(entry.path(), std::ios::binary).rdbuf();
      out[rel] = ss.str();
    }
    return out;
  }
  void PutLegacyLayout() {
    Put("default/0/r1/artifacts/model/MLmodel", "flavors: {}\n");
    Put("default/0/r1/artifacts/model/model.pkl", std::string(3 << 20, 'x'));
    Put("default/1/models/m-1/artifacts/a.txt", "a");
    Put("default/1/traces/tr-1/artifacts/traces.json", "{}");
    Put("team-a/1/r2/artifacts/b.txt", "b");
  }
  std::map<std::string, std::string> Expected() {
    return {{"0/r1/artifacts/model/MLmodel", "flavors: {}\n"},
            {"0/r1/artifacts/model/model.pkl", std::string(3 << 20, 'x')},
            {"1/models/m-1/artifacts/a.txt", "a"},
            {"1/traces/tr-1/artifacts/traces.json", "{}"},
            {"team-a/1/r2/artifacts/b.txt", "b"}};
  }

  fs::path root_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(LayoutMigrationTest, MovesTheDefaultTenantToTheRootAndLeavesOtherTenants) {
  PutLegacyLayout();
  auto result = MoveDefaultTenantToRoot(*store_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->migrated);
  EXPECT_EQ(result->files_moved, 4);
  EXPECT_EQ(Files(), Expected());
  EXPECT_FALSE(fs::exists(root_ / "default"));
  EXPECT_FALSE(fs::exists(root_ / ".cairn-layout-migration"));
}

TEST_F(LayoutMigrationTest, NewOrMigratedStoresAreLeftAlone) {
  auto empty = MoveDefaultTenantToRoot(*store_);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->migrated);
  Put("1/r/artifacts/x", "x");
  Put("team-a/1/r/artifacts/y", "y");
  auto again = MoveDefaultTenantToRoot(*store_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->migrated);
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(LayoutMigrationTest, EveryInterruptionIsCompletedByTheNextStart) {
  PutLegacyLayout();
  const fs::path pristine = root_.string() + "-pristine";
  fs::copy(root_, pristine, fs::copy_options::recursive);
  for (int budget = 0;; ++budget) {
    SCOPED_TRACE("killed after " + std::to_string(budget) + " store calls");
    fs::remove_all(root_);
    fs::copy(pristine, root_, fs::copy_options::recursive);
    Reopen();
    DyingStore dying(*store_, budget);
    bool finished = MoveDefaultTenantToRoot(dying).ok();
    Reopen();  // the next start
    auto result = MoveDefaultTenantToRoot(*store_);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(Files(), Expected());
    EXPECT_FALSE(fs::exists(root_ / "default"));
    if (finished) break;
  }
  fs::remove_all(pristine);
}

TEST_F(LayoutMigrationTest, RefusesWhenTheRootHoldsADigitTenantFolder) {
  PutLegacyLayout();
  Put("12/x", "a tenant named 12 under the earlier rules");
  auto result = MoveDefaultTenantToRoot(*store_);
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("'12'"), std::string::npos);
  EXPECT_TRUE(fs::exists(root_ / "default/0/r1/artifacts/model/MLmodel"));
  EXPECT_FALSE(fs::exists(root_ / ".cairn-layout-migration"));
}

TEST_F(LayoutMigrationTest, RefusesADefaultFolderNamedLikeATenant) {
  Put("default/served/MLmodel", "x");
  auto result = MoveDefaultTenantToRoot(*store_);
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(root_ / "default/served/MLmodel"));
}

TEST_F(LayoutMigrationTest, EncryptedFilesAreReencryptedForTheirNewPath) {
  auto key = MasterKey::FromBytes(std::string(MasterKey::kSize, 'k'));
  ASSERT_TRUE(key.ok());
  auto open_encrypted = [&]() -> std::unique_ptr<ArtifactStore> {
    auto inner = LocalArtifactStore::Open(root_);
    EXPECT_TRUE(inner.ok());
    EncryptionOptions options;
    options.master_keys = {*key};
    auto store = MakeEncryptedArtifactStore(std::move(inner).value(), std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  };
  {
    std::unique_ptr<ArtifactStore> store = open_encrypted();
    for (std::string path : {"default/0/r/artifacts/a.txt", "team-a/0/r/artifacts/b.txt"}) {
      auto writer = store->OpenWriter(path);
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->Append("secret " + path).ok());
      ASSERT_TRUE((*writer)->Commit().ok());
    }
  }
  std::unique_ptr<ArtifactStore> store = open_encrypted();
  auto result = MoveDefaultTenantToRoot(*store);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_moved, 1);
  for (auto [path, content] :
       {std::pair<std::string, std::string>{"0/r/artifacts/a.txt",
                                            "secret default/0/r/artifacts/a.txt"},
        std::pair<std::string, std::string>{"team-a/0/r/artifacts/b.txt",
                                            "secret team-a/0/r/artifacts/b.txt"}}) {
    auto reader = store->OpenReader(path);
    ASSERT_TRUE(reader.ok()) << path << ": " << reader.status().ToString();
    std::string got(64, '\0');
    auto n = (*reader)->Read(got.data(), got.size());
    ASSERT_TRUE(n.ok());
    got.resize(*n);
    EXPECT_EQ(got, content);
  }
  EXPECT_FALSE(fs::exists(root_ / "default"));
  // Ciphertext on disk, not the plaintext.
  EXPECT_EQ(Files()["0/r/artifacts/a.txt"].find("secret"), std::string::npos);
}

}  // namespace
}  // namespace cairn::artifact
