#include "api/mlflow/artifact_handlers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "artifact/local/local_artifact_store.h"
#include "base/uri.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace fs = std::filesystem;
using http::Method;

constexpr std::string_view kBase = "/api/2.0/mlflow-artifacts/artifacts";
constexpr std::string_view kMultipartMessage =
    "Multipart upload is not supported for the current artifact repository";

class ArtifactHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-artifact-api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    scratch_ = tmpl;
    root_ = scratch_ / "root";
    auto store = artifact::LocalArtifactStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    handlers_ = std::make_unique<ArtifactHandlers>(*store_);
    handlers_->Register(router_);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  // Builds the request the server would hand over for a raw (still percent-encoded) target.
  http::Request MakeRequest(Method method, std::string_view target, std::string_view tenant) {
    http::Request request;
    request.method = method;
    request.target = std::string(target);
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    auto decoded = PercentDecode(raw_path);
    request.path = decoded.ok() ? *decoded : std::string(raw_path);
    if (q != std::string_view::npos) {
      auto query = http::ParseQueryString(target.substr(q + 1));
      EXPECT_TRUE(query.ok());
      if (query.ok()) request.query = *query;
    }
    request.scope.tenant = std::string(tenant);
    return request;
  }

  // Routes and runs a request; a streaming route gets `body` in `chunk`-sized writes.
  http::Response Call(Method method, std::string_view target, std::string_view body = "",
                      std::string_view tenant = "default", size_t chunk = 7) {
    http::Request request = MakeRequest(method, target, tenant);
    auto match = router_.Find(method, target.substr(0, target.find('?')));
    if (match.route == nullptr) return http::EndpointNotFound(http::MethodName(method), target);
    request.path_params = match.params;
    if (match.route->handler) {
      request.body = std::string(body);
      return match.route->handler(request);
    }
    auto sink = match.route->streaming_handler(request);
    if (!sink.ok()) return http::ErrorResponse(sink.status());
    for (size_t offset = 0; offset < body.size(); offset += chunk) {
      Status written = (*sink)->Write(body.substr(offset, chunk));
      if (!written.ok()) {
        (*sink)->Abort();
        return http::ErrorResponse(written);
      }
    }
    return (*sink)->Finish();
  }

  http::Response Put(std::string_view path, std::string_view body,
                     std::string_view tenant = "default") {
    return Call(Method::kPut, std::string(kBase) + "/" + std::string(path), body, tenant);
  }

  http::Response Get(std::string_view path, std::string_view tenant = "default") {
    return Call(Method::kGet, std::string(kBase) + "/" + std::string(path), "", tenant);
  }

  http::Response ListQuery(std::string_view query, std::string_view tenant = "default") {
    return Call(Method::kGet, std::string(kBase) + std::string(query), "", tenant);
  }

  static std::string BodyOf(http::Response& response) {
    if (!response.stream) return response.body;
    std::string out;
    char buffer[1000];
    while (true) {
      auto n = response.stream->Read(buffer, sizeof buffer);
      EXPECT_TRUE(n.ok());
      if (!n.ok() || *n == 0) break;
      out.append(buffer, *n);
    }
    return out;
  }

  static boost::json::object Json(const http::Response& response) {
    return boost::json::parse(response.body).as_object();
  }

  fs::path scratch_;
  fs::path root_;
  std::unique_ptr<artifact::LocalArtifactStore> store_;
  std::unique_ptr<ArtifactHandlers> handlers_;
  http::Router router_;
};

TEST_F(ArtifactHandlersTest, UploadThenDownloadStreamsTheBytes) {
  std::string content = "artifact_path: model\nflavors:\n  python_function: {}\n";
  http::Response put = Put("0/abc/artifacts/model/MLmodel", content);
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, "{}");

  http::Response get = Get("0/abc/artifacts/model/MLmodel");
  ASSERT_EQ(get.status, 200) << get.body;
  ASSERT_NE(get.stream, nullptr) << "downloads must stream";
  EXPECT_EQ(get.stream->Size(), content.size());
  EXPECT_EQ(BodyOf(get), content);
  EXPECT_EQ(get.content_type, "text/plain");  // as MLflow sends MLmodel
  EXPECT_EQ(get.headers.Get("Content-Disposition"), "attachment; filename=\"MLmodel\"");
  EXPECT_EQ(get.headers.Get("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(fs::exists(root_ / "0/abc/artifacts/model/MLmodel"));
}

TEST_F(ArtifactHandlersTest, AjaxPrefixServesTheSameFiles) {
  ASSERT_EQ(Put("f.json", "{\"a\":1}").status, 200);
  http::Response get = Call(Method::kGet, "/ajax-api/2.0/mlflow-artifacts/artifacts/f.json");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.content_type, "text/plain");
  EXPECT_EQ(BodyOf(get), "{\"a\":1}");
  http::Response put = Call(Method::kPut, "/ajax-api/2.0/mlflow-artifacts/artifacts/g.txt", "g");
  EXPECT_EQ(put.status, 200);
  http::Response uploaded = Get("g.txt");
  EXPECT_EQ(BodyOf(uploaded), "g");
}

TEST_F(ArtifactHandlersTest, UploadIsAStreamingRouteWithALargeLimit) {
  auto match = router_.Find(Method::kPut, std::string(kBase) + "/x/y.bin");
  ASSERT_NE(match.route, nullptr);
  EXPECT_TRUE(match.route->streaming_handler);
  EXPECT_FALSE(match.route->handler);
  EXPECT_EQ(match.route->options.max_body_bytes, uint64_t{5} << 30);

  http::Router small;
  ArtifactHandlers limited(*store_, {.max_upload_bytes = 1234});
  limited.Register(small);
  EXPECT_EQ(small.Find(Method::kPut, std::string(kBase) + "/x").route->options.max_body_bytes,
            1234u);
}

TEST_F(ArtifactHandlersTest, LargeUploadIsWrittenThroughAndInvisibleUntilFinished) {
  http::Request request = MakeRequest(Method::kPut, std::string(kBase) + "/big.bin", "default");
  auto match = router_.Find(Method::kPut, request.target);
  request.path_params = match.params;
  auto sink = match.route->streaming_handler(request);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::string chunk(64 << 10, 'z');
  for (int i = 0; i < 128; ++i) ASSERT_TRUE((*sink)->Write(chunk).ok());
  EXPECT_EQ(Get("big.bin").status, 404);
  http::Response finished = (*sink)->Finish();
  EXPECT_EQ(finished.status, 200);
  http::Response get = Get("big.bin");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.stream->Size(), uint64_t{8} << 20);
}

TEST_F(ArtifactHandlersTest, AbortedUploadLeavesNothing) {
  ASSERT_EQ(Put("0/d/keep.txt", "old").status, 200);
  http::Request request =
      MakeRequest(Method::kPut, std::string(kBase) + "/0/d/keep.txt", "default");
  auto match = router_.Find(Method::kPut, request.target);
  request.path_params = match.params;
  auto sink = match.route->streaming_handler(request);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write("half of a new version").ok());
  (*sink)->Abort();
  sink->reset();
  http::Response get = Get("0/d/keep.txt");
  EXPECT_EQ(BodyOf(get), "old");
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(root_ / "0/d")) {
    on_disk.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(on_disk, std::vector<std::string>{"keep.txt"});
}

TEST_F(ArtifactHandlersTest, SecondUploadOverwrites) {
  ASSERT_EQ(Put("f.txt", "first version").status, 200);
  ASSERT_EQ(Put("f.txt", "second").status, 200);
  http::Response get = Get("f.txt");
  EXPECT_EQ(BodyOf(get), "second");
}

TEST_F(ArtifactHandlersTest, ListGivesBasenamesDirectoriesAndSizes) {
  ASSERT_EQ(Put("0/r/artifacts/x.txt", "abc").status, 200);
  ASSERT_EQ(Put("0/r/artifacts/model/MLmodel", "m").status, 200);

  http::Response list = ListQuery("?path=0/r/artifacts");
  ASSERT_EQ(list.status, 200) << list.body;
  boost::json::object body = Json(list);
  const boost::json::array& files = body.at("files").as_array();
  ASSERT_EQ(files.size(), 2u);
  const boost::json::object& dir = files[0].as_object();
  EXPECT_EQ(dir.at("path").as_string(), "model");
  EXPECT_EQ(dir.at("is_dir").as_bool(), true);
  EXPECT_FALSE(dir.contains("file_size"));
  const boost::json::object& file = files[1].as_object();
  EXPECT_EQ(file.at("path").as_string(), "x.txt");
  EXPECT_EQ(file.at("is_dir").as_bool(), false);
  EXPECT_EQ(file.at("file_size").as_int64(), 3);

  http::Response root = ListQuery("");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(Json(root).at("files").as_array()[0].as_object().at("path").as_string(), "0");

  http::Response trailing_slash = ListQuery("/?path=0%2Fr%2Fartifacts%2Fmodel");
  ASSERT_EQ(trailing_slash.status, 200) << trailing_slash.body;
  EXPECT_EQ(Json(trailing_slash).at("files").as_array().size(), 1u);

  http::Response by_body = Call(Method::kGet, kBase, R"({"path": "0/r/artifacts/model"})");
  ASSERT_EQ(by_body.status, 200) << by_body.body;
  EXPECT_EQ(Json(by_body).at("files").as_array()[0].as_object().at("path").as_string(), "MLmodel");
}

TEST_F(ArtifactHandlersTest, ListOfMissingDirectoryOrOfAFileIsEmptyObject) {
  ASSERT_EQ(Put("0/d/f.txt", "abc").status, 200);
  http::Response missing = ListQuery("?path=0/nope/deeper");
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.body, "{}");
  http::Response of_file = ListQuery("?path=0/d/f.txt");
  EXPECT_EQ(of_file.status, 200);
  EXPECT_EQ(of_file.body, "{}");
}

TEST_F(ArtifactHandlersTest, DownloadOfMissingFileOrDirectoryIs404) {
  ASSERT_EQ(Put("0/d/f.txt", "abc").status, 200);
  for (std::string_view path : {"nope.txt", "0/d", "0/d/", "0/d/f.txt/x"}) {
    http::Response get = Get(path);
    EXPECT_EQ(get.status, 404) << path;
    EXPECT_EQ(get.stream, nullptr);
    EXPECT_EQ(Json(get).at("error_code").as_string(), "RESOURCE_DOES_NOT_EXIST") << path;
  }
}

TEST_F(ArtifactHandlersTest, DeleteIsRecursiveAndIdempotent) {
  ASSERT_EQ(Put("0/r/artifacts/a/b/c.txt", "c").status, 200);
  ASSERT_EQ(Put("0/r/artifacts/keep.txt", "k").status, 200);
  http::Response del = Call(Method::kDelete, std::string(kBase) + "/0/r/artifacts/a");
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, "{}");
  EXPECT_EQ(Get("0/r/artifacts/a/b/c.txt").status, 404);
  EXPECT_EQ(Json(ListQuery("?path=0/r/artifacts")).at("files").as_array().size(), 1u);
  EXPECT_EQ(Call(Method::kDelete, std::string(kBase) + "/0/r/artifacts/a").status, 200);
  EXPECT_EQ(Call(Method::kDelete, std::string(kBase) + "/").status, 400);
  EXPECT_EQ(Call(Method::kDelete, std::string(kBase) + "/.").status, 400);
  EXPECT_EQ(Get("0/r/artifacts/keep.txt").status, 200);
}

TEST_F(ArtifactHandlersTest, UploadOverAPathCollisionIs400) {
  ASSERT_EQ(Put("0/a", "file").status, 200);
  http::Response below_file = Put("0/a/b", "x");
  EXPECT_EQ(below_file.status, 400);
  EXPECT_EQ(Json(below_file).at("error_code").as_string(), "INVALID_PARAMETER_VALUE");
  ASSERT_EQ(Put("0/dir/child", "c").status, 200);
  EXPECT_EQ(Put("0/dir", "x").status, 400);
  EXPECT_EQ(Put("", "x").status, 400);
}

TEST_F(ArtifactHandlersTest, MultipartAndPresignedAnswer501WithTheClientsMessage) {
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    for (std::string_view action : {"create", "complete", "abort"}) {
      std::string target =
          std::string(prefix) + "/mlflow-artifacts/mpu/" + std::string(action) + "/0/r/artifacts";
      http::Response response =
          Call(Method::kPost, target, R"({"path": "big.bin", "num_parts": 3})");
      EXPECT_EQ(response.status, 501) << target;
      boost::json::object body = Json(response);
      EXPECT_EQ(body.at("error_code").as_string(), "NOT_IMPLEMENTED");
      EXPECT_EQ(body.at("message").as_string(), kMultipartMessage);
    }
    http::Response presigned =
        Call(Method::kGet, std::string(prefix) + "/mlflow-artifacts/presigned/0/r/f.bin");
    EXPECT_EQ(presigned.status, 501);
    EXPECT_NE(Json(presigned).at("message").as_string().find("not supported"),
              boost::json::string::npos);
  }
  EXPECT_EQ(Call(Method::kPost, "/api/2.0/mlflow-artifacts/mpu/create/../x").status, 400);
}

TEST_F(ArtifactHandlersTest, TraversalAttemptsAreRejectedAndNothingEscapes) {
  // Raw targets as they arrive on the wire; the router decodes captures once.
  const std::string attempts[] = {
      "../x",         "a/../../x",       "..",       "%2e%2e/x", "%2E%2E/%2e%2e/x",
      "%252e%252e/x", "a/%252e%252e/x",  "a%255c..", "a\\..\\b", "a%5c..%5cb",
      "/etc/passwd",  "%2fetc%2fpasswd", "%252fetc", "x%00.txt", "%2500x",
      "C:/Windows/x", "C%3a/x",          "a/%0a/b",
  };
  for (const std::string& attempt : attempts) {
    std::string target = std::string(kBase) + "/" + attempt;
    http::Response put = Call(Method::kPut, target, "pwned");
    EXPECT_EQ(put.status, 400) << "PUT " << attempt << ": " << put.body;
    EXPECT_EQ(Call(Method::kGet, target).status, 400) << "GET " << attempt;
    EXPECT_EQ(Call(Method::kDelete, target).status, 400) << "DELETE " << attempt;
    // The same text as a query value, which the server decodes once too.
    http::Response list = Call(Method::kGet, std::string(kBase) + "?path=" + attempt);
    EXPECT_EQ(list.status, 400) << "LIST " << attempt;
  }
  // Nothing was created anywhere: not outside the root, not inside it, where only the store's
  // own (empty) upload staging folders are.
  std::vector<std::string> scratch_entries;
  for (const auto& entry : fs::recursive_directory_iterator(scratch_)) {
    std::string path = fs::relative(entry.path(), scratch_).string();
    if (path.starts_with("root/.cairn-tmp-staging") && entry.is_directory()) continue;
    scratch_entries.push_back(path);
  }
  EXPECT_EQ(scratch_entries, std::vector<std::string>{"root"});
}

TEST_F(ArtifactHandlersTest, SymlinkPlantedInTheRootIsNotFollowed) {
  fs::create_directories(scratch_ / "outside");
  std::ofstream(scratch_ / "outside" / "secret") << "secret";
  fs::create_directories(root_ / "0");
  fs::create_directory_symlink(scratch_ / "outside", root_ / "0" / "link");
  EXPECT_NE(Get("0/link/secret").status, 200);
  EXPECT_EQ(Put("0/link/planted", "x").status, 400);
  EXPECT_FALSE(fs::exists(scratch_ / "outside" / "planted"));
  EXPECT_EQ(ListQuery("?path=0/link").body, "{}");
}

TEST_F(ArtifactHandlersTest, TenantsNeverSeeEachOthersFiles) {
  ASSERT_EQ(Put("shared/f.txt", "alice's", "alice").status, 200);
  EXPECT_EQ(Get("shared/f.txt", "bob").status, 404);
  EXPECT_EQ(ListQuery("", "bob").body, "{}");
  EXPECT_EQ(ListQuery("?path=shared", "bob").body, "{}");
  EXPECT_EQ(Call(Method::kDelete, std::string(kBase) + "/shared", "", "bob").status, 200);
  ASSERT_EQ(Put("shared/f.txt", "bob's", "bob").status, 200);

  http::Response alice = Get("shared/f.txt", "alice");
  EXPECT_EQ(BodyOf(alice), "alice's");
  http::Response bob = Get("shared/f.txt", "bob");
  EXPECT_EQ(BodyOf(bob), "bob's");
  EXPECT_TRUE(fs::exists(root_ / "alice/shared/f.txt"));
  EXPECT_TRUE(fs::exists(root_ / "bob/shared/f.txt"));
}

TEST_F(ArtifactHandlersTest, DefaultTenantLivesAtTheRootAndCannotReachOtherTenants) {
  ASSERT_EQ(Put("1/r/artifacts/f.txt", "mine").status, 200);
  ASSERT_EQ(Put("1/r/artifacts/f.txt", "alice's", "alice").status, 200);
  EXPECT_TRUE(fs::exists(root_ / "1/r/artifacts/f.txt"));
  EXPECT_TRUE(fs::exists(root_ / "alice/1/r/artifacts/f.txt"));
  // A default-tenant path naming a tenant folder, the earlier layout's folder or a store file.
  for (std::string_view path : {"alice/1/r/artifacts/f.txt", "Alice/1/r/artifacts/f.txt",
                                "default/x", ".cairn-keys/default.json"}) {
    EXPECT_EQ(Get(path).status, 400) << path;
    EXPECT_EQ(Put(path, "x").status, 400) << path;
    EXPECT_EQ(Call(Method::kDelete, std::string(kBase) + "/" + std::string(path)).status, 400)
        << path;
  }
  http::Response theirs = Get("1/r/artifacts/f.txt", "alice");
  EXPECT_EQ(BodyOf(theirs), "alice's");
  // The root listing shows the default tenant's folders only.
  boost::json::array files = Json(ListQuery("")).at("files").as_array();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].as_object().at("path").as_string(), "1");
}

TEST_F(ArtifactHandlersTest, TenantsNamedOnlyWithDigitsAreRefused) {
  EXPECT_EQ(Put("f.txt", "x", "12").status, 400);
  EXPECT_FALSE(fs::exists(root_ / "12"));
}

TEST_F(ArtifactHandlersTest, UnsafeTenantNamesAreRefused) {
  for (std::string_view tenant : {"", "..", "a/b", "/abs"}) {
    EXPECT_EQ(Put("f.txt", "x", tenant).status, 400) << tenant;
    EXPECT_EQ(Get("f.txt", tenant).status, 400) << tenant;
    EXPECT_FALSE(handlers_->ListRelative(tenant, "").ok()) << tenant;
  }
  EXPECT_FALSE(fs::exists(scratch_ / "f.txt"));
  EXPECT_FALSE(fs::exists(root_ / "f.txt"));
}

TEST_F(ArtifactHandlersTest, ListRelativeServesTheTrackingHandlers) {
  ASSERT_EQ(Put("0/r/artifacts/model/MLmodel", "m", "t1").status, 200);
  ASSERT_EQ(Put("0/r/artifacts/metrics.json", "{}", "t1").status, 200);
  auto files = handlers_->ListRelative("t1", "0/r/artifacts");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "metrics.json");
  EXPECT_EQ((*files)[0].file_size, 2);
  EXPECT_EQ((*files)[1].path, "model");
  EXPECT_TRUE((*files)[1].is_dir);
  EXPECT_TRUE(handlers_->ListRelative("t2", "0/r/artifacts")->empty());
  EXPECT_EQ(handlers_->ListRelative("t1", "0/../..").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ArtifactHandlersTest, ContentDispositionEscapesAndCarriesUnicodeNames) {
  ASSERT_EQ(Put("0/d/say%22hi%22.txt", "x").status, 200);
  http::Response get = Get("0/d/say%22hi%22.txt");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.headers.Get("Content-Disposition"), "attachment; filename=\"say\\\"hi\\\".txt\"");
  EXPECT_EQ(get.content_type, "text/plain");

  EXPECT_EQ(ContentDisposition("plain.csv"), "attachment; filename=\"plain.csv\"");
  EXPECT_EQ(ContentDisposition("a\\b"), "attachment; filename=\"a\\\\b\"");
  EXPECT_EQ(ContentDisposition("d\xc3\xa9.txt"),
            "attachment; filename=\"d__.txt\"; filename*=UTF-8''d%C3%A9.txt");
}

TEST(GuessContentTypeTest, MatchesMlflowsChoices) {
  // Expected values are what mlflow.utils.mime_type_utils._guess_mime_type answers.
  EXPECT_EQ(GuessContentType("metrics.JSON"), "application/json");
  EXPECT_EQ(GuessContentType("metrics.json"), "text/plain");
  EXPECT_EQ(GuessContentType("conda.yaml"), "text/plain");
  EXPECT_EQ(GuessContentType("data.csv"), "text/plain");
  EXPECT_EQ(GuessContentType("notebook.ipynb"), "text/plain");
  EXPECT_EQ(GuessContentType("plot.png"), "image/png");
  EXPECT_EQ(GuessContentType("plot.PNG"), "image/png");
  EXPECT_EQ(GuessContentType("plot.jpeg"), "image/jpeg");
  EXPECT_EQ(GuessContentType("report.html"), "text/html");
  EXPECT_EQ(GuessContentType("model.pkl"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("data.parquet"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("MLmodel"), "text/plain");
  EXPECT_EQ(GuessContentType("MLproject"), "application/octet-stream");
  EXPECT_EQ(GuessContentType(".txt"), "application/octet-stream");
  EXPECT_EQ(GuessContentType(".hidden"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("trailing."), "application/octet-stream");
}

TEST(ArtifactUriToRelativePathTest, MapsServerUris) {
  const std::pair<std::string_view, std::string_view> accepted[] = {
      {"mlflow-artifacts:/0/abc/artifacts", "0/abc/artifacts"},
      {"mlflow-artifacts:/0/models/m-1/artifacts", "0/models/m-1/artifacts"},
      {"mlflow-artifacts://other:5000/1/abc", "1/abc"},
      {"mlflow-artifacts:/", ""},
      {"http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts",
       "0/abc/artifacts"},
      {"https://example.com/prefix/api/2.0/mlflow-artifacts/artifacts/1/a%20b", "1/a b"},
      {"http://h/api/2.0/mlflow-artifacts/artifacts", ""},
      {"http://h/api/2.0/mlflow-artifacts/artifacts/", ""},
  };
  for (const auto& [uri, relative] : accepted) {
    auto got = ArtifactUriToRelativePath(uri);
    ASSERT_TRUE(got.ok()) << uri << ": " << got.status().ToString();
    EXPECT_EQ(*got, relative) << uri;
  }
  const std::string_view rejected[] = {
      "s3://bucket/key",
      "file:///tmp/mlruns/0",
      "runs:/abc/model",
      "/plain/path",
      "http://h/some/other/path",
      "http://h/api/2.0/mlflow-artifacts/artifactsX/1",
      "mlflow-artifacts:/0/../../etc",
      "http://h/api/2.0/mlflow-artifacts/artifacts/%2e%2e/x",
      "http://h/api/2.0/mlflow-artifacts/artifacts/a/%252e%252e",
  };
  for (std::string_view uri : rejected) {
    auto got = ArtifactUriToRelativePath(uri);
    EXPECT_FALSE(got.ok()) << uri << " gave " << (got.ok() ? *got : "");
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << uri;
    }
  }
}

}  // namespace
}  // namespace cairn::api::mlflow
