#include "artifact/local/local_artifact_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "artifact/artifact_store_factory.h"

namespace cairn::artifact {
namespace {

namespace fs = std::filesystem;

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-local-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    scratch_ = tmpl;
    root_ = scratch_ / "nested" / "root";
    auto store = LocalArtifactStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  Status Put(std::string_view path, std::string_view content) {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, store_->OpenWriter(path));
    RETURN_IF_ERROR(writer->Append(content));
    return writer->Commit();
  }

  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Regular files anywhere below `dir`, as paths relative to it.
  static std::vector<std::string> FilesBelow(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) names.push_back(fs::relative(entry.path(), dir).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Runs `crash` in a child process killed with SIGKILL (by `crash` itself, else right after it),
  // like a server that crashes: no destructor runs, nothing is cleaned up.
  static void RunAndCrash(const std::function<void()>& crash) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      crash();
      ::raise(SIGKILL);
      ::_exit(1);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  }

  static std::vector<std::string> OnDisk(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path scratch_;
  fs::path root_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, OpenCreatesMissingRoot) {
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_EQ(store_->root(), root_);
}

TEST_F(LocalArtifactStoreTest, OpenFailsWhenRootIsAFile) {
  std::ofstream(scratch_ / "plain") << "x";
  auto store = LocalArtifactStore::Open(scratch_ / "plain");
  EXPECT_FALSE(store.ok());
}

TEST_F(LocalArtifactStoreTest, ArtifactsArePlainFilesUnderTheRoot) {
  ASSERT_TRUE(Put("0/abc/artifacts/model/MLmodel", "flavors: {}").ok());
  EXPECT_EQ(Slurp(root_ / "0/abc/artifacts/model/MLmodel"), "flavors: {}");
}

TEST_F(LocalArtifactStoreTest, ReadsFilesPlacedByOtherTools) {
  fs::create_directories(root_ / "legacy");
  std::ofstream(root_ / "legacy" / "data.csv") << "a,b\n1,2\n";
  auto reader = store_->OpenReader("legacy/data.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Size(), 8u);
}

TEST_F(LocalArtifactStoreTest, UploadIsStagedOutOfSightUntilCommit) {
  auto writer = store_->OpenWriter("d/f.txt");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("hello").ok());
  EXPECT_EQ(OnDisk(root_), std::vector<std::string>{".cairn-tmp-staging"});
  EXPECT_EQ(FilesBelow(root_ / ".cairn-tmp-staging").size(), 1u);
  EXPECT_TRUE(store_->List("")->empty());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(OnDisk(root_ / "d"), std::vector<std::string>{"f.txt"});
  EXPECT_EQ(Slurp(root_ / "d/f.txt"), "hello");
  EXPECT_TRUE(FilesBelow(root_ / ".cairn-tmp-staging").empty());
}

TEST_F(LocalArtifactStoreTest, AbortAndDestructionLeaveNoFilesAndNoDirectories) {
  {
    auto writer = store_->OpenWriter("d/a");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("x").ok());
    (*writer)->Abort();
  }
  {
    auto writer = store_->OpenWriter("e/deeper/b");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("x").ok());
  }
  EXPECT_EQ(OnDisk(root_), std::vector<std::string>{".cairn-tmp-staging"});
  EXPECT_TRUE(FilesBelow(root_ / ".cairn-tmp-staging").empty());
  store_.reset();
  EXPECT_TRUE(OnDisk(root_ / ".cairn-tmp-staging").empty()) << "a closed store leaves nothing";
}

TEST_F(LocalArtifactStoreTest, OpenSweepsUploadsStagedByACrashedProcessAtOnce) {
  store_.reset();
  RunAndCrash([this] {
    auto store = LocalArtifactStore::Open(root_);
    if (!store.ok()) return;
    auto writer = (*store)->OpenWriter("big/upload.bin");
    if (!writer.ok() || !(*writer)->Append(std::string(4096, 'x')).ok()) return;
    ::raise(SIGKILL);  // with the store and the writer open: nothing is cleaned up
  });
  ASSERT_EQ(FilesBelow(root_ / ".cairn-tmp-staging").size(), 1u) << "the crash left its upload";

  auto reopened = LocalArtifactStore::Open(root_);  // moments later, not a day
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE(FilesBelow(root_ / ".cairn-tmp-staging").empty());
  EXPECT_EQ(OnDisk(root_ / ".cairn-tmp-staging").size(), 1u) << "only the new store's own folder";
  EXPECT_TRUE((*reopened)->List("")->empty());
}

TEST_F(LocalArtifactStoreTest, OpenSparesUploadsOfAStoreStillOpen) {
  // Another store on the same root (another process sharing the folder, or this one) is open
  // and uploading: opening the root again must not touch its staged files.
  auto writer = store_->OpenWriter("in-flight");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("still coming").ok());
  auto second = LocalArtifactStore::Open(root_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Slurp(root_ / "in-flight"), "still coming");

  // The same holds for a writer that outlives its store.
  auto late = store_->OpenWriter("late");
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE((*late)->Append("after close").ok());
  store_.reset();
  auto third = LocalArtifactStore::Open(root_);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  ASSERT_TRUE((*late)->Commit().ok());
  EXPECT_EQ(Slurp(root_ / "late"), "after close");
}

TEST_F(LocalArtifactStoreTest, OpenSweepsOnlyStaleFilesOfTheFlatStagingLayout) {
  // Earlier versions staged files directly in the staging folder, with nothing telling whether
  // their process still runs; those files go only once they are a day old.
  fs::path staging = root_ / ".cairn-tmp-staging";
  fs::create_directories(staging);
  std::ofstream(staging / "stale") << "left by a crash";
  std::ofstream(staging / "fresh") << "another process";
  fs::last_write_time(staging / "stale", fs::file_time_type::clock::now() - std::chrono::hours(48));
  auto reopened = LocalArtifactStore::Open(root_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(FilesBelow(staging), std::vector<std::string>{"fresh"});
}

TEST_F(LocalArtifactStoreTest, UploadsRecoverWhenTheStagingFolderIsRemoved) {
  ASSERT_TRUE(Put("a", "1").ok());
  fs::remove_all(root_ / ".cairn-tmp-staging");
  ASSERT_TRUE(Put("b", "2").ok());
  EXPECT_EQ(Slurp(root_ / "b"), "2");
  ASSERT_TRUE(Put("c", "3").ok());
}

TEST_F(LocalArtifactStoreTest, DeleteOfTheRootSparesInFlightUploads) {
  ASSERT_TRUE(Put("old", "1").ok());
  auto writer = store_->OpenWriter("new");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("2").ok());
  ASSERT_TRUE(store_->Delete("").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Slurp(root_ / "new"), "2");
  EXPECT_FALSE(fs::exists(root_ / "old"));
}

TEST_F(LocalArtifactStoreTest, ReservedTemporaryNamesAreRejected) {
  EXPECT_EQ(store_->OpenWriter(".cairn-tmp-0123").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->OpenReader("a/.cairn-tmp-x/y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Put(".cairn-tmp", "not reserved").ok());
}

TEST_F(LocalArtifactStoreTest, PlantedSymlinksAreNeverFollowed) {
  fs::path outside = scratch_ / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "secret") << "top secret";
  fs::create_directory_symlink(outside, root_ / "link");
  fs::create_symlink(outside / "secret", root_ / "file-link");

  EXPECT_FALSE(store_->OpenReader("link/secret").ok());
  EXPECT_EQ(store_->OpenReader("file-link").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenWriter("link/planted").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(outside / "planted"));
  EXPECT_TRUE(store_->List("link")->empty());
  EXPECT_TRUE(store_->List("")->empty());  // links are not artifacts

  // Writing over a file symlink is refused; the target is never touched.
  EXPECT_EQ(Put("file-link", "replaced").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Slurp(outside / "secret"), "top secret");

  // Deleting a link removes the link only.
  ASSERT_TRUE(store_->Delete("link").ok());
  EXPECT_FALSE(fs::exists(root_ / "link"));
  EXPECT_EQ(Slurp(outside / "secret"), "top secret");
}

TEST_F(LocalArtifactStoreTest, DeleteOfTheRootEmptiesItButKeepsIt) {
  ASSERT_TRUE(Put("a/b", "1").ok());
  ASSERT_TRUE(Put("c", "2").ok());
  ASSERT_TRUE(store_->Delete("").ok());
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(store_->List("")->empty());
  ASSERT_TRUE(Put("again", "3").ok());
}

TEST_F(LocalArtifactStoreTest, NonDurableModeWorks) {
  auto store = LocalArtifactStore::Open(scratch_ / "fast", {.durable = false});
  ASSERT_TRUE(store.ok());
  auto writer = (*store)->OpenWriter("x");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("y").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Slurp(scratch_ / "fast" / "x"), "y");
}

TEST_F(LocalArtifactStoreTest, ErrorMessagesDoNotRevealTheRoot) {
  ASSERT_TRUE(Put("a", "file").ok());
  auto writer = store_->OpenWriter("a/b");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().message().find(scratch_.string()), std::string::npos)
      << writer.status().message();
}

class ArtifactStoreFactoryTest : public LocalArtifactStoreTest {
 protected:
  void SetUp() override {
    LocalArtifactStoreTest::SetUp();
    ASSERT_TRUE(RegisterLocalArtifactBackend(registry_).ok());
  }
  ArtifactStoreRegistry registry_;
};

TEST_F(ArtifactStoreFactoryTest, FileUriOpensLocalStore) {
  auto store = CreateArtifactStore(registry_, "file://" + (scratch_ / "by-uri").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto writer = (*store)->OpenWriter("f");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE(fs::exists(scratch_ / "by-uri" / "f"));
}

TEST_F(ArtifactStoreFactoryTest, FileUriIsPercentDecodedAndMayNameLocalhost) {
  auto store =
      CreateArtifactStore(registry_, "file://localhost" + (scratch_ / "with%20space").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(fs::is_directory(scratch_ / "with space"));
}

TEST_F(ArtifactStoreFactoryTest, BarePathOpensLocalStore) {
  auto store = CreateArtifactStore(registry_, (scratch_ / "bare").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(fs::is_directory(scratch_ / "bare"));
}

TEST_F(ArtifactStoreFactoryTest, RemoteHostAndUnknownSchemesAreRejected) {
  EXPECT_EQ(CreateArtifactStore(registry_, "file://otherhost/x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateArtifactStore(registry_, "gopher://bucket/x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ArtifactStoreFactoryTest, RegisteringTwiceFails) {
  EXPECT_EQ(RegisterLocalArtifactBackend(registry_).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace cairn::artifact
