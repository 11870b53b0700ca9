#include "server/cairn_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "cli/http_client.h"
#include "metadata/sql/sql_tracking_store.h"

// Each ServerConfig field must reach the component that uses it: these tests start the real
// composition root and look at the component, not at the parsed config.
namespace cairn::server {
namespace {

namespace fs = std::filesystem;

constexpr int kSqliteSynchronousNormal = 1;
constexpr int kSqliteSynchronousFull = 2;
constexpr std::string_view kArtifacts = "/api/2.0/mlflow-artifacts/artifacts/";

class CairnServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-server-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // An embedded server on a free port under the test's folder.
  ServerConfig Config() const {
    ServerConfig config;
    config.port = 0;
    config.data_dir = (dir_ / "data").string();
    config.threads = 2;
    return config;
  }

  static std::unique_ptr<CairnServer> MustStart(const ServerConfig& config) {
    auto server = CairnServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  // PRAGMA synchronous of the SQLite store the server opened.
  static int Synchronous(CairnServer& server) {
    auto* sqlite =
        dynamic_cast<metadata::SqlTrackingStore*>(server.MetadataStoresForTest().tracking.get());
    EXPECT_NE(sqlite, nullptr) << "not the SQLite store";
    if (sqlite == nullptr) return -1;
    auto value = sqlite->database().SqliteForTest()->SynchronousForTest();
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : -1;
  }

  static cli::HttpReply Send(const CairnServer& server, http::Method method,
                             const std::string& target, std::string body = "") {
    cli::ServerAddress address{.host = "127.0.0.1", .port = server.port(), .base_path = ""};
    auto reply =
        cli::SendHttp(address, {method, target, std::move(body)}, std::chrono::seconds(30));
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : cli::HttpReply{};
  }

  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

TEST_F(CairnServerTest, SqliteSynchronousFullReachesTheStore) {
  ServerConfig config = Config();
  auto normal = MustStart(config);
  ASSERT_NE(normal, nullptr);
  EXPECT_EQ(Synchronous(*normal), kSqliteSynchronousNormal);
  normal.reset();

  config.sqlite_synchronous_full = true;
  auto full = MustStart(config);
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(Synchronous(*full), kSqliteSynchronousFull);
}

TEST_F(CairnServerTest, SqliteSynchronousFullAgreesWithTheBackendUriOrIsRefused) {
  std::string db = (dir_ / "elsewhere" / "meta.db").string();
  ServerConfig config = Config();

  config.backend_store_uri = "sqlite:///" + db + "?synchronous=full";
  auto from_uri = MustStart(config);
  ASSERT_NE(from_uri, nullptr);
  EXPECT_EQ(Synchronous(*from_uri), kSqliteSynchronousFull) << "the URI alone asks for FULL";
  from_uri.reset();

  config.sqlite_synchronous_full = true;
  auto both = MustStart(config);
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(Synchronous(*both), kSqliteSynchronousFull);
  both.reset();

  config.backend_store_uri = "sqlite:///" + db + "?readers=2";
  auto with_other_options = MustStart(config);
  ASSERT_NE(with_other_options, nullptr);
  EXPECT_EQ(Synchronous(*with_other_options), kSqliteSynchronousFull);
  with_other_options.reset();

  config.backend_store_uri = "sqlite:///" + db + "?synchronous=normal";
  auto conflict = CairnServer::Start(config);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conflict.status().message().find("synchronous"), std::string::npos)
      << conflict.status().message();
}

TEST_F(CairnServerTest, MaxArtifactBytesReachesTheArtifactUploads) {
  ServerConfig config = Config();
  config.max_artifact_bytes = 16;
  auto server = MustStart(config);
  ASSERT_NE(server, nullptr);
  std::string target = std::string(kArtifacts) + "0/run/artifacts/";
  EXPECT_EQ(Send(*server, http::Method::kPut, target + "fits.bin", std::string(16, 'x')).status,
            200);
  EXPECT_EQ(Send(*server, http::Method::kPut, target + "big.bin", std::string(17, 'x')).status,
            413);
  cli::HttpReply fits = Send(*server, http::Method::kGet, target + "fits.bin");
  EXPECT_EQ(fits.status, 200);
  EXPECT_EQ(fits.body, std::string(16, 'x'));
  EXPECT_EQ(Send(*server, http::Method::kGet, target + "big.bin").status, 404);
}

TEST_F(CairnServerTest, EmbeddedStoresLiveInTheDataDir) {
  auto server = MustStart(Config());
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Send(*server, http::Method::kPut, std::string(kArtifacts) + "0/r/f.txt", "hi").status,
            200);
  fs::path data = dir_ / "data";
  EXPECT_TRUE(fs::is_regular_file(data / "meta.db"));
  EXPECT_EQ(Slurp(data / "artifacts" / "0" / "r" / "f.txt"), "hi");
}

TEST_F(CairnServerTest, BackendStoreUriAndArtifactsUriReachTheStores) {
  ServerConfig config = Config();
  fs::path db = dir_ / "db" / "cairn.db";
  fs::path artifacts = dir_ / "files";
  config.backend_store_uri = "sqlite:///" + db.string();
  config.artifacts_uri = "file://" + artifacts.string();
  auto server = MustStart(config);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(Send(*server, http::Method::kPut, std::string(kArtifacts) + "0/r/f.txt", "hi").status,
            200);
  EXPECT_TRUE(fs::is_regular_file(db));
  EXPECT_EQ(Slurp(artifacts / "0" / "r" / "f.txt"), "hi");
  EXPECT_FALSE(fs::exists(dir_ / "data" / "meta.db"));
  EXPECT_FALSE(fs::exists(dir_ / "data" / "artifacts"));
}

TEST_F(CairnServerTest, HostAndPortAreWhereItListens) {
  // 127.0.0.2 is loopback too on Linux, but a different address from 127.0.0.1.
  ServerConfig config = Config();
  config.host = "127.0.0.2";
  auto server = MustStart(config);
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0) << "port 0 picks a free port";
  auto on = [&server](std::string host) {
    cli::ServerAddress address{.host = std::move(host), .port = server->port(), .base_path = ""};
    return cli::SendHttp(address, {http::Method::kGet, "/health", ""}, std::chrono::seconds(10));
  };
  auto reply = on("127.0.0.2");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_FALSE(on("127.0.0.1").ok()) << "it listens on the configured host only";

  server.reset();
  config.host = "127.0.0.1";
  config.port = 0;
  server = MustStart(config);
  ASSERT_NE(server, nullptr);
  uint16_t port = server->port();
  server.reset();
  config.port = port;  // just released; nothing else on this machine picks it this fast
  server = MustStart(config);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(Send(*server, http::Method::kGet, "/health").status, 200);
}

// Threads of this process, from /proc (Linux).
int ProcessThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(CairnServerTest, ThreadsReachesTheHttpServer) {
  if (ProcessThreads() < 0) GTEST_SKIP() << "no /proc/self/status";
  // Threads started once per process (by a library, on first use) must not count.
  MustStart(Config()).reset();

  auto threads_added = [this](int threads) {
    ServerConfig config = Config();
    config.threads = threads;
    int before = ProcessThreads();
    auto server = MustStart(config);
    return server == nullptr ? -1 : ProcessThreads() - before;
  };
  int with_two = threads_added(2);
  int with_six = threads_added(6);
  ASSERT_GE(with_two, 2);
  EXPECT_EQ(with_six - with_two, 4) << "the HTTP server runs `threads` worker threads";
}

}  // namespace
}  // namespace cairn::server
