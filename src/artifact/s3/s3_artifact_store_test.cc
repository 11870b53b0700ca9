// S3-specific behaviour beyond the conformance suite: start-up errors, multipart clean-up,
// retries. The behaviour every store shares is in artifact_store_conformance_test.cc.
#include "artifact/s3/s3_artifact_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "base/test_services.h"
#include "http/router.h"
#include "http/server.h"

namespace cairn::artifact {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : value;
}

class S3ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CAIRN_TEST_SERVICE(endpoint_, "S3");
    prefix_ = "s3-store-test/" + std::to_string(std::random_device{}());
  }

  std::unique_ptr<S3Client> Client(std::string bucket, std::string secret) {
    S3ClientOptions options;
    options.endpoint = endpoint_;
    options.bucket = std::move(bucket);
    options.region = EnvOr("CAIRN_TEST_S3_REGION", "us-east-1");
    options.max_attempts = 2;
    options.initial_backoff_ms = 1;
    AwsCredentials keys{EnvOr("CAIRN_TEST_S3_ACCESS_KEY_ID", ""), std::move(secret), ""};
    return std::make_unique<S3Client>(
        options, std::make_unique<StaticCredentialsProvider>(std::move(keys)), SystemClock::Get());
  }
  std::unique_ptr<S3Client> Client() {
    return Client(EnvOr("CAIRN_TEST_S3_BUCKET", "cairn-test"),
                  EnvOr("CAIRN_TEST_S3_SECRET_ACCESS_KEY", ""));
  }

  std::string endpoint_;
  std::string prefix_;
};

TEST_F(S3ArtifactStoreTest, WrongSecretIsPermissionDeniedAtOpen) {
  auto store = S3ArtifactStore::Open(Client(EnvOr("CAIRN_TEST_S3_BUCKET", "cairn-test"), "wrong"),
                                     {.prefix = prefix_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied) << store.status().ToString();
  EXPECT_NE(store.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(S3ArtifactStoreTest, MissingBucketIsInvalidArgumentAtOpen) {
  auto store = S3ArtifactStore::Open(
      Client("no-such-bucket-here", EnvOr("CAIRN_TEST_S3_SECRET_ACCESS_KEY", "")),
      {.prefix = prefix_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << store.status().ToString();
  EXPECT_NE(store.status().message().find("no-such-bucket-here"), std::string::npos);
}

// Keys that S3 stops accepting after start-up (rotated, revoked) fail each call as a storage
// failure (INTERNAL, S3's reason kept), never as the caller's fault.
TEST_F(S3ArtifactStoreTest, KeysRejectedAfterStartUpAreInternal) {
  class Switchable : public AwsCredentialsProvider {
   public:
    explicit Switchable(std::atomic<bool>& wrong) : wrong_(wrong) {}
    StatusOr<AwsCredentials> Get() override {
      return AwsCredentials{EnvOr("CAIRN_TEST_S3_ACCESS_KEY_ID", ""),
                            wrong_ ? "wrong" : EnvOr("CAIRN_TEST_S3_SECRET_ACCESS_KEY", ""), ""};
    }

   private:
    std::atomic<bool>& wrong_;
  };
  std::atomic<bool> wrong{false};
  S3ClientOptions options;
  options.endpoint = endpoint_;
  options.bucket = EnvOr("CAIRN_TEST_S3_BUCKET", "cairn-test");
  auto store = S3ArtifactStore::Open(
      std::make_unique<S3Client>(options, std::make_unique<Switchable>(wrong), SystemClock::Get()),
      {.prefix = prefix_});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  wrong = true;
  auto writer = (*store)->OpenWriter("f.txt");
  ASSERT_TRUE(writer.ok());
  Status committed = (*writer)->Commit();
  EXPECT_EQ(committed.code(), StatusCode::kInternal) << committed.ToString();
  EXPECT_NE(committed.message().find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_EQ((*store)->OpenReader("f.txt").status().code(), StatusCode::kInternal);
  EXPECT_EQ((*store)->List("").status().code(), StatusCode::kInternal);
  EXPECT_EQ((*store)->Delete("d").code(), StatusCode::kInternal);
}

// Names that need escaping in URLs (the key, the listing prefix) and in XML (listings,
// DeleteObjects) round-trip.
TEST_F(S3ArtifactStoreTest, NamesWithUrlAndXmlSpecialCharactersRoundTrip) {
  auto store = S3ArtifactStore::Open(Client(), {.prefix = prefix_});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string dir = "odd & <dir> 'q' \"dq\" +=%25?#";
  const std::vector<std::string> names = {"a&b<c>d.txt", "sp ace+plus=eq%41.txt", "unicodé データ",
                                          "semi;colon,comma!(paren)*star~tilde"};
  for (const std::string& name : names) {
    auto writer = (*store)->OpenWriter(dir + "/" + name);
    ASSERT_TRUE(writer.ok()) << name << ": " << writer.status().ToString();
    ASSERT_TRUE((*writer)->Append(name).ok());
    Status committed = (*writer)->Commit();
    ASSERT_TRUE(committed.ok()) << name << ": " << committed.ToString();
  }
  auto top = (*store)->List("");
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].path, dir);
  auto files = (*store)->List(dir);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> listed;
  for (const FileInfo& f : *files) listed.push_back(f.path);
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  for (const std::string& name : names) {
    auto reader = (*store)->OpenReader(dir + "/" + name);
    ASSERT_TRUE(reader.ok()) << name << ": " << reader.status().ToString();
    std::string content(256, '\0');
    auto n = (*reader)->Read(content.data(), content.size());
    ASSERT_TRUE(n.ok());
    content.resize(*n);
    EXPECT_EQ(content, name);
  }
  ASSERT_TRUE((*store)->Delete(dir).ok());
  EXPECT_TRUE((*store)->List("")->empty());
}

// A writer dropped after its first part was sent aborts the multipart upload.
TEST_F(S3ArtifactStoreTest, DroppedLargeWriterAbortsItsMultipartUpload) {
  auto store = S3ArtifactStore::Open(Client(), {.prefix = prefix_, .part_size = 5 << 20});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto uploads = [&] {
    auto response =
        (*store)->client().Send("GET", "", {{"uploads", ""}, {"prefix", prefix_}}, {}, "");
    EXPECT_TRUE(response.ok());
    return response.ok() ? response->body : "";
  };
  {
    auto writer = (*store)->OpenWriter("big.bin");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(std::string(6 << 20, 'x')).ok());
    EXPECT_NE(uploads().find("<UploadId>"), std::string::npos) << "a part should be in flight";
  }
  EXPECT_EQ(uploads().find("<UploadId>"), std::string::npos);
  EXPECT_EQ((*store)->OpenReader("big.bin").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ArtifactStoreTest, ExactMultipleOfThePartSizeCompletes) {
  auto store = S3ArtifactStore::Open(Client(), {.prefix = prefix_, .part_size = 5 << 20});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto writer = (*store)->OpenWriter("exact.bin");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(std::string(10 << 20, 'y')).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  auto reader = (*store)->OpenReader("exact.bin");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Size(), uint64_t{10} << 20);
  EXPECT_TRUE((*store)->Delete("").ok());
}

TEST_F(S3ArtifactStoreTest, ListingFollowsContinuationTokens) {
  auto store = S3ArtifactStore::Open(Client(), {.prefix = prefix_});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // More children than one ListObjectsV2 page (1000 keys), files and directories mixed.
  constexpr int kFiles = 1100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kFiles; i += 8) {
        std::string path = (i % 2 ? "many/f" : "many/d") + std::to_string(i) + (i % 2 ? "" : "/x");
        auto writer = (*store)->OpenWriter(path);
        if (!writer.ok() || !(*writer)->Commit().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  auto files = (*store)->List("many");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), static_cast<size_t>(kFiles));
  ASSERT_TRUE((*store)->Delete("many").ok());
  EXPECT_TRUE((*store)->List("many")->empty());
}

TEST(S3ClientTest, RetriesConnectionErrorsWithGrowingJitteredBackoff) {
  S3ClientOptions options;
  options.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  options.bucket = "bucket";
  options.max_attempts = 5;
  options.initial_backoff_ms = 100;
  options.max_backoff_ms = 300;
  S3Client client(options,
                  std::make_unique<StaticCredentialsProvider>(AwsCredentials{"k", "s", ""}),
                  SystemClock::Get());
  std::vector<int64_t> sleeps;
  client.SetSleepForTest([&](int64_t ms) { sleeps.push_back(ms); });
  auto head = client.HeadObject("key");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(head.status().message().find("after 5 attempts"), std::string::npos);
  ASSERT_EQ(sleeps.size(), 4u);
  const int64_t caps[] = {100, 200, 300, 300};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], caps[i] / 2) << i;
    EXPECT_LE(sleeps[i], caps[i]) << i;
  }
}

// Answers every request with the next status of a script (then 200), an S3 error document for
// the failures.
class ScriptedS3 {
 public:
  explicit ScriptedS3(std::vector<std::pair<int, std::string>> script)
      : script_(std::move(script)) {
    router_.Add(http::Method::kHead, "/bucket/{key}", [this](http::Request&) { return Next(); });
    http::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    server_ =
        std::make_unique<http::HttpServer>(options, router_, std::vector<http::Middleware*>{});
    auto port = server_->Start();
    EXPECT_TRUE(port.ok());
    url_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 1);
  }
  ~ScriptedS3() { server_->Stop(); }

  std::unique_ptr<S3Client> Client(std::vector<int64_t>& sleeps) {
    S3ClientOptions options;
    options.endpoint = url_;
    options.bucket = "bucket";
    options.max_attempts = 4;
    auto client = std::make_unique<S3Client>(
        options, std::make_unique<StaticCredentialsProvider>(AwsCredentials{"k", "s", ""}),
        SystemClock::Get());
    client->SetSleepForTest([&sleeps](int64_t ms) { sleeps.push_back(ms); });
    return client;
  }
  int requests() const { return requests_; }

 private:
  http::Response Next() {
    size_t i = requests_++;
    if (i >= script_.size()) {
      http::Response ok = http::Response::Text(200, "");
      ok.headers.Add("Content-Length", "0");
      return ok;
    }
    return http::Response::Text(script_[i].first,
                                "<Error><Code>" + script_[i].second + "</Code></Error>");
  }

  std::vector<std::pair<int, std::string>> script_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  std::atomic<int> requests_{0};
};

TEST(S3ClientTest, RetriesSlowDownServerErrorsAndThrottling) {
  ScriptedS3 s3({{503, "SlowDown"}, {500, "InternalError"}, {429, "TooManyRequests"}});
  std::vector<int64_t> sleeps;
  auto head = s3.Client(sleeps)->HeadObject("key");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_TRUE(head->has_value());
  EXPECT_EQ(s3.requests(), 4);
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST(S3ClientTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  ScriptedS3 s3({{503, "SlowDown"}, {503, "SlowDown"}, {503, "SlowDown"}, {503, "SlowDown"}});
  std::vector<int64_t> sleeps;
  auto head = s3.Client(sleeps)->HeadObject("key");
  EXPECT_EQ(head.status().code(), StatusCode::kUnavailable) << head.status().ToString();
  EXPECT_EQ(s3.requests(), 4);
}

TEST(S3ClientTest, DoesNotRetryClientErrorsOrNotImplemented) {
  for (auto [status, code] : std::vector<std::pair<int, std::string>>{
           {400, "InvalidRequest"}, {403, "AccessDenied"}, {501, "NotImplemented"}}) {
    ScriptedS3 s3({{status, code}});
    std::vector<int64_t> sleeps;
    auto head = s3.Client(sleeps)->HeadObject("key");
    EXPECT_FALSE(head.ok()) << status;
    EXPECT_EQ(s3.requests(), 1) << status;
    EXPECT_TRUE(sleeps.empty()) << status;
  }
}

}  // namespace
}  // namespace cairn::artifact
