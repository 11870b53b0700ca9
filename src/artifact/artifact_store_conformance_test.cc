// Behaviour every ArtifactStore must show, run once per backend. A backend that cannot start
// here skips its instantiation instead of failing.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "artifact/artifact_store.h"
#include "artifact/encrypted/encrypted_artifact_store.h"
#include "artifact/local/local_artifact_store.h"
#include "artifact/s3/s3_store_config.h"
#include "base/test_services.h"

namespace cairn::artifact {
namespace {

struct Backend {
  std::string name;
  // Creates an empty store using `scratch` (a fresh temporary directory) for local state.
  std::function<StatusOr<std::unique_ptr<ArtifactStore>>(const std::filesystem::path& scratch)>
      make;
};

std::ostream& operator<<(std::ostream& os, const Backend& backend) { return os << backend.name; }

class ArtifactStoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-artifact-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    scratch_ = tmpl;
    auto store = GetParam().make(scratch_ / "store");
    if (!store.ok() && store.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << GetParam().name << " unavailable: " << store.status().ToString();
    }
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }

  Status Put(std::string_view path, std::string_view content) {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, store_->OpenWriter(path));
    RETURN_IF_ERROR(writer->Append(content));
    return writer->Commit();
  }

  StatusOr<std::string> Get(std::string_view path) {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, store_->OpenReader(path));
    std::string out;
    char buffer[4096];
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->Read(buffer, sizeof buffer));
      if (n == 0) break;
      out.append(buffer, n);
    }
    if (out.size() != reader->Size()) return Internal("size mismatch");
    return out;
  }

  std::vector<std::string> Names(std::string_view dir) {
    auto files = store_->List(dir);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> out;
    if (!files.ok()) return out;
    for (const FileInfo& f : *files) out.push_back(f.path + (f.is_dir ? "/" : ""));
    return out;
  }

  std::filesystem::path scratch_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_P(ArtifactStoreConformanceTest, WriteCommitReadRoundTrip) {
  ASSERT_TRUE(Put("exp/run/artifacts/model/MLmodel", "flavors: {}\n").ok());
  auto content = Get("exp/run/artifacts/model/MLmodel");
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "flavors: {}\n");
}

TEST_P(ArtifactStoreConformanceTest, EmptyFileRoundTrip) {
  auto writer = store_->OpenWriter("empty");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  auto content = Get("empty");
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "");
}

TEST_P(ArtifactStoreConformanceTest, LargeFileStreamsInChunks) {
  constexpr size_t kSize = 20 << 20;
  constexpr size_t kChunk = 64 << 10;
  auto byte_at = [](size_t i) { return static_cast<char>((i * 131 + (i >> 12)) & 0xff); };
  auto writer = store_->OpenWriter("big/blob.bin");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::string chunk(kChunk, '\0');
  for (size_t offset = 0; offset < kSize; offset += kChunk) {
    for (size_t i = 0; i < kChunk; ++i) chunk[i] = byte_at(offset + i);
    ASSERT_TRUE((*writer)->Append(chunk).ok());
  }
  ASSERT_TRUE((*writer)->Commit().ok());

  auto reader = store_->OpenReader("big/blob.bin");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Size(), kSize);
  std::vector<char> buffer(1 << 20);
  size_t total = 0;
  while (true) {
    auto n = (*reader)->Read(buffer.data(), buffer.size());
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    for (size_t i = 0; i < *n; ++i) {
      ASSERT_EQ(buffer[i], byte_at(total + i)) << "at offset " << total + i;
    }
    total += *n;
  }
  EXPECT_EQ(total, kSize);

  auto files = store_->List("big");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].file_size, static_cast<int64_t>(kSize));
}

TEST_P(ArtifactStoreConformanceTest, UncommittedBytesAreInvisible) {
  auto writer = store_->OpenWriter("d/pending.txt");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("partial").ok());
  EXPECT_EQ(store_->OpenReader("d/pending.txt").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Names("d").empty());
  EXPECT_TRUE(Names("").empty());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Names("d"), std::vector<std::string>{"pending.txt"});
}

TEST_P(ArtifactStoreConformanceTest, AbortLeavesNothing) {
  auto writer = store_->OpenWriter("d/aborted.txt");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("bytes").ok());
  (*writer)->Abort();
  EXPECT_EQ(store_->OpenReader("d/aborted.txt").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Names("").empty()) << "an aborted upload must not leave directories either";
  EXPECT_FALSE((*writer)->Commit().ok());  // a closed writer cannot publish
  EXPECT_EQ(store_->OpenReader("d/aborted.txt").status().code(), StatusCode::kNotFound);
}

TEST_P(ArtifactStoreConformanceTest, DroppedWriterLeavesNothing) {
  {
    auto writer = store_->OpenWriter("d/dropped.txt");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("bytes").ok());
  }
  EXPECT_EQ(store_->OpenReader("d/dropped.txt").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Names("").empty());
}

TEST_P(ArtifactStoreConformanceTest, AbortKeepsThePreviousVersion) {
  ASSERT_TRUE(Put("f.txt", "old").ok());
  auto writer = store_->OpenWriter("f.txt");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("new and longer").ok());
  (*writer)->Abort();
  EXPECT_EQ(*Get("f.txt"), "old");
}

TEST_P(ArtifactStoreConformanceTest, CommitOverwritesAtomically) {
  ASSERT_TRUE(Put("f.txt", "a much longer first version").ok());
  auto old_reader = store_->OpenReader("f.txt");
  ASSERT_TRUE(old_reader.ok());
  ASSERT_TRUE(Put("f.txt", "short").ok());
  EXPECT_EQ(*Get("f.txt"), "short");
  auto files = store_->List("");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].file_size, 5);
  // A reader opened before the overwrite keeps seeing one whole version.
  std::string seen(64, '\0');
  auto n = (*old_reader)->Read(seen.data(), seen.size());
  ASSERT_TRUE(n.ok());
  seen.resize(*n);
  EXPECT_TRUE(seen == "a much longer first version" || seen == "short") << seen;
}

TEST_P(ArtifactStoreConformanceTest, ListGivesSortedDirectChildrenWithBasenames) {
  ASSERT_TRUE(Put("d/x.txt", "abc").ok());
  ASSERT_TRUE(Put("d/sub/y", "").ok());
  ASSERT_TRUE(Put("d/sub/deeper/z", "zz").ok());
  ASSERT_TRUE(Put("d/a.bin", std::string(1000, 'a')).ok());

  auto files = store_->List("d");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "a.bin");
  EXPECT_FALSE((*files)[0].is_dir);
  EXPECT_EQ((*files)[0].file_size, 1000);
  EXPECT_EQ((*files)[1].path, "sub");
  EXPECT_TRUE((*files)[1].is_dir);
  EXPECT_FALSE((*files)[1].file_size.has_value());
  EXPECT_EQ((*files)[2].path, "x.txt");
  EXPECT_EQ((*files)[2].file_size, 3);

  EXPECT_EQ(Names("d/sub"), (std::vector<std::string>{"deeper/", "y"}));
  auto sub = store_->List("d/sub");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ((*sub)[1].file_size, 0);
  EXPECT_EQ(Names(""), std::vector<std::string>{"d/"});
}

TEST_P(ArtifactStoreConformanceTest, ListOfMissingDirectoryOrFileIsEmpty) {
  ASSERT_TRUE(Put("d/x.txt", "abc").ok());
  EXPECT_TRUE(Names("missing").empty());
  EXPECT_TRUE(Names("missing/deeper").empty());
  EXPECT_TRUE(Names("d/x.txt").empty());
  EXPECT_TRUE(Names("d/x.txt/below").empty());
}

TEST_P(ArtifactStoreConformanceTest, ReadingMissingOrDirectoryIsNotFound) {
  ASSERT_TRUE(Put("d/x.txt", "abc").ok());
  EXPECT_EQ(store_->OpenReader("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenReader("d/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenReader("d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenReader("d/x.txt/below").status().code(), StatusCode::kNotFound);
}

TEST_P(ArtifactStoreConformanceTest, DeleteRemovesWholeTree) {
  ASSERT_TRUE(Put("keep/me", "1").ok());
  ASSERT_TRUE(Put("d/x.txt", "abc").ok());
  ASSERT_TRUE(Put("d/sub/y", "y").ok());
  ASSERT_TRUE(Put("d/sub/deeper/z", "z").ok());
  ASSERT_TRUE(store_->Delete("d").ok());
  EXPECT_TRUE(Names("d").empty());
  EXPECT_EQ(store_->OpenReader("d/sub/deeper/z").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Names(""), std::vector<std::string>{"keep/"});
  EXPECT_EQ(*Get("keep/me"), "1");
}

TEST_P(ArtifactStoreConformanceTest, DeleteOneFileKeepsSiblings) {
  ASSERT_TRUE(Put("d/a", "a").ok());
  ASSERT_TRUE(Put("d/b", "b").ok());
  ASSERT_TRUE(store_->Delete("d/a").ok());
  EXPECT_EQ(Names("d"), std::vector<std::string>{"b"});
}

TEST_P(ArtifactStoreConformanceTest, DeleteOfMissingPathSucceeds) {
  EXPECT_TRUE(store_->Delete("never/was").ok());
  ASSERT_TRUE(Put("file", "x").ok());
  EXPECT_TRUE(store_->Delete("file/below").ok());
  EXPECT_EQ(*Get("file"), "x");
  ASSERT_TRUE(store_->Delete("file").ok());
  EXPECT_TRUE(store_->Delete("file").ok());
}

// Writing below a file, or over a directory, fails with INVALID_ARGUMENT at open or at commit,
// and leaves the existing artifact untouched.
TEST_P(ArtifactStoreConformanceTest, PathCollisionsAreInvalidArgument) {
  auto put_code = [&](std::string_view path) {
    auto writer = store_->OpenWriter(path);
    if (!writer.ok()) return writer.status().code();
    Status appended = (*writer)->Append("x");
    if (!appended.ok()) return appended.code();
    return (*writer)->Commit().code();
  };
  ASSERT_TRUE(Put("a", "file a").ok());
  EXPECT_EQ(put_code("a/b"), StatusCode::kInvalidArgument);
  EXPECT_EQ(put_code("a/b/c"), StatusCode::kInvalidArgument);
  EXPECT_EQ(*Get("a"), "file a");

  ASSERT_TRUE(Put("dir/child", "child").ok());
  EXPECT_EQ(put_code("dir"), StatusCode::kInvalidArgument);
  EXPECT_EQ(*Get("dir/child"), "child");
  EXPECT_EQ(Names(""), (std::vector<std::string>{"a", "dir/"}));
}

TEST_P(ArtifactStoreConformanceTest, DirectoryCreatedWhileWriterIsOpenWinsOverCommit) {
  auto writer = store_->OpenWriter("x");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("file").ok());
  ASSERT_TRUE(Put("x/child", "child").ok());
  EXPECT_EQ((*writer)->Commit().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*Get("x/child"), "child");
}

TEST_P(ArtifactStoreConformanceTest, ConcurrentWritersOfOnePathLeaveOneCompleteFile) {
  constexpr int kThreads = 8;
  constexpr size_t kSize = 256 << 10;
  constexpr size_t kChunk = 4 << 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto writer = store_->OpenWriter("c/shared.bin");
      if (!writer.ok()) {
        ++failures;
        return;
      }
      std::string chunk(kChunk, static_cast<char>('A' + t));
      for (size_t done = 0; done < kSize; done += kChunk) {
        if (!(*writer)->Append(chunk).ok()) {
          ++failures;
          return;
        }
        std::this_thread::yield();
      }
      if (!(*writer)->Commit().ok()) ++failures;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  auto content = Get("c/shared.bin");
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  ASSERT_EQ(content->size(), kSize);
  char first = (*content)[0];
  EXPECT_GE(first, 'A');
  EXPECT_LT(first, 'A' + kThreads);
  EXPECT_EQ(content->find_first_not_of(first), std::string::npos) << "bytes of two writers mixed";
  EXPECT_EQ(Names("c"), std::vector<std::string>{"shared.bin"});
}

TEST_P(ArtifactStoreConformanceTest, ConcurrentWritersOfDifferentPathsAllLand) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string path = "p/" + std::to_string(t) + "/" + std::to_string(i);
        if (!Put(path, path).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Names("p").size(), static_cast<size_t>(kThreads));
  EXPECT_EQ(*Get("p/7/19"), "p/7/19");
}

TEST_P(ArtifactStoreConformanceTest, RejectsNonCanonicalOrUnsafePaths) {
  const std::string rejected[] = {
      "../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a/", "./a", std::string("a\0b", 3),
      "a\\b", "C:/x",      "%2e%2e/x",
  };
  for (const std::string& path : rejected) {
    EXPECT_EQ(store_->OpenWriter(path).status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_FALSE(store_->OpenReader(path).ok()) << path;
    EXPECT_EQ(store_->List(path).status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(store_->Delete(path).code(), StatusCode::kInvalidArgument) << path;
  }
  EXPECT_TRUE(Names("").empty());
  // Nothing was created next to the store either.
  std::vector<std::string> outside;
  for (const auto& entry : std::filesystem::directory_iterator(scratch_)) {
    outside.push_back(entry.path().filename().string());
  }
  EXPECT_TRUE(outside.empty() || outside == std::vector<std::string>{"store"});
}

TEST_P(ArtifactStoreConformanceTest, WritingTheRootIsInvalid) {
  EXPECT_EQ(store_->OpenWriter("").status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Local, ArtifactStoreConformanceTest,
    ::testing::Values(
        Backend{
            "local",
            [](const std::filesystem::path& scratch) -> StatusOr<std::unique_ptr<ArtifactStore>> {
              ASSIGN_OR_RETURN(std::unique_ptr<LocalArtifactStore> store,
                               LocalArtifactStore::Open(scratch));
              return std::unique_ptr<ArtifactStore>(std::move(store));
            }},
        // The encrypting decorator must behave as the store it wraps.
        Backend{
            "encrypted_local",
            [](const std::filesystem::path& scratch) -> StatusOr<std::unique_ptr<ArtifactStore>> {
              ASSIGN_OR_RETURN(std::unique_ptr<LocalArtifactStore> store,
                               LocalArtifactStore::Open(scratch));
              ASSIGN_OR_RETURN(MasterKey key, MasterKey::FromBytes(std::string(32, 'k')));
              return MakeEncryptedArtifactStore(std::move(store), EncryptionOptions{{key}});
            }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

// The S3 backend against the S3-compatible server scripts/services/s3.sh starts (it checks
// signatures), each test under a fresh key prefix named after its scratch folder. Without the
// server the instantiation skips (UNAVAILABLE), unless CAIRN_REQUIRE_SERVICES=1.
StatusOr<std::unique_ptr<ArtifactStore>> MakeTestS3Store(const std::filesystem::path& scratch) {
  auto endpoint = testing_services::ServiceUri("S3");
  if (!endpoint) {
    if (testing_services::ServicesRequired()) {
      return Internal("CAIRN_TEST_S3_URI is unset but CAIRN_REQUIRE_SERVICES=1");
    }
    return Unavailable("CAIRN_TEST_S3_URI is unset (scripts/test_services.sh starts it)");
  }
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value == nullptr ? "" : value);
  };
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse("s3://" + env("CAIRN_TEST_S3_BUCKET") + "/conformance/" +
                                       scratch.parent_path().filename().string()));
  ASSIGN_OR_RETURN(S3StoreConfig config, ParseS3StoreConfig(uri, [&](const char* name) {
                     std::string key = name;
                     if (key == "AWS_ENDPOINT_URL_S3") return *endpoint;
                     if (key == "AWS_REGION") return env("CAIRN_TEST_S3_REGION");
                     if (key == "AWS_ACCESS_KEY_ID") return env("CAIRN_TEST_S3_ACCESS_KEY_ID");
                     if (key == "AWS_SECRET_ACCESS_KEY") {
                       return env("CAIRN_TEST_S3_SECRET_ACCESS_KEY");
                     }
                     return std::string();
                   }));
  ASSIGN_OR_RETURN(std::unique_ptr<S3ArtifactStore> store, OpenS3ArtifactStore(config));
  return std::unique_ptr<ArtifactStore>(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(
    S3, ArtifactStoreConformanceTest,
    ::testing::Values(
        Backend{"s3", MakeTestS3Store},
        // Encryption on top of S3 (chunked ciphertext through multipart uploads).
        Backend{
            "encrypted_s3",
            [](const std::filesystem::path& scratch) -> StatusOr<std::unique_ptr<ArtifactStore>> {
              ASSIGN_OR_RETURN(std::unique_ptr<ArtifactStore> store, MakeTestS3Store(scratch));
              ASSIGN_OR_RETURN(MasterKey key, MasterKey::FromBytes(std::string(32, 'k')));
              return MakeEncryptedArtifactStore(std::move(store), EncryptionOptions{{key}});
            }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

// Path normalisation is shared by every backend and by the HTTP handlers.
struct PathCase {
  std::string raw;
  std::optional<std::string> normalized;  // nullopt: rejected
};

TEST(NormalizeArtifactPathTest, AcceptsAndCanonicalises) {
  const PathCase cases[] = {
      {"", ""},
      {".", ""},
      {"./", ""},
      {"/", std::nullopt},
      {"a", "a"},
      {"a/b/c.txt", "a/b/c.txt"},
      {"a/", "a"},
      {"a//b", "a/b"},
      {"a/./b/.", "a/b"},
      {"./a", "a"},
      {"model/MLmodel", "model/MLmodel"},
      {"dir with spaces/f i l e", "dir with spaces/f i l e"},
      {"unicodé/データ.csv", "unicodé/データ.csv"},
      {"...", "..."},
      {"..a/b..", "..a/b.."},
      {".hidden", ".hidden"},
      {"a/C:", "a/C:"},
      {"100%/x", "100%/x"},
      {"%zz", "%zz"},
      {"%41", "%41"},
      {"%252e%252e", "%252e%252e"},  // decodes to "%2e%2e", a plain name
      {"..", std::nullopt},
      {"../x", std::nullopt},
      {"a/..", std::nullopt},
      {"a/../b", std::nullopt},
      {"a/../../x", std::nullopt},
      {"/etc/passwd", std::nullopt},
      {"//server/share", std::nullopt},
      {"C:", std::nullopt},
      {"C:/Windows", std::nullopt},
      {"c:x", std::nullopt},
      {"./C:/x", std::nullopt},
      {"a\\b", std::nullopt},
      {"a\\..\\b", std::nullopt},
      {"..\\x", std::nullopt},
      {std::string("a\0b", 3), std::nullopt},
      {"a\nb", std::nullopt},
      {"a\rb", std::nullopt},
      {"a\x7f", std::nullopt},
      {"%2e%2e/x", std::nullopt},
      {"%2E%2E/x", std::nullopt},
      {"a/%2e%2e/%2e%2e/x", std::nullopt},
      {".%2e/x", std::nullopt},
      {"%2e", std::nullopt},
      {"a%2fb", std::nullopt},
      {"a%2Fb", std::nullopt},
      {"a%5cb", std::nullopt},
      {"a%00b", std::nullopt},
      {"C%3a/x", std::nullopt},
      {"bad\xff", std::nullopt},
      {"overlong\xc0\xaf", std::nullopt},
      {"surrogate\xed\xa0\x80", std::nullopt},
      {"truncated\xe3\x83", std::nullopt},
      {"emoji\xf0\x9f\x98\x80", "emoji\xf0\x9f\x98\x80"},
  };
  for (const PathCase& c : cases) {
    auto got = NormalizeArtifactPath(c.raw);
    if (c.normalized) {
      ASSERT_TRUE(got.ok()) << "'" << c.raw << "': " << got.status().ToString();
      EXPECT_EQ(*got, *c.normalized) << c.raw;
    } else {
      ASSERT_FALSE(got.ok()) << "'" << c.raw << "' accepted as '" << *got << "'";
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << c.raw;
    }
  }
}

TEST(NormalizeArtifactPathTest, IsIdempotent) {
  for (std::string_view raw : {"a//b/./c/", "x", "", "dir/%41/f"}) {
    auto once = NormalizeArtifactPath(raw);
    ASSERT_TRUE(once.ok());
    auto twice = NormalizeArtifactPath(*once);
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(*once, *twice);
  }
}

TEST(NormalizeArtifactPathTest, ErrorMessageDoesNotEchoControlCharacters) {
  auto got = NormalizeArtifactPath("a\r\nSet-Cookie: x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(got.status().message().find('\r'), std::string::npos);
}

}  // namespace
}  // namespace cairn::artifact
