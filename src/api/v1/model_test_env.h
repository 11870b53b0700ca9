#pragma once

// Test support (header-only, for tests only): the real /api/v1 routes (models, deployments,
// monitoring) over a SQLite store, a SQLite event stream and a local artifact store in a fresh
// temporary directory, plus in-process request helpers.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "api/v1/audit_handlers.h"
#include "api/v1/deployment_handlers.h"
#include "api/v1/model_handlers.h"
#include "api/v1/monitor_handlers.h"
#include "api/v1/openapi.h"
#include "api/v1/security_handlers.h"
#include "artifact/local/local_artifact_store.h"
#include "audit/sql_audit_store.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/uri.h"
#include "http/error_response.h"
#include "http/message.h"
#include "http/router.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "registry/registry_service.h"
#include "stream/sqlite/sqlite_event_stream.h"

namespace cairn::api::v1 {

class ModelApiEnv {
 public:
  static constexpr int64_t kStartMillis = 1'700'000'000'000;

  ModelApiEnv() : clock_(kStartMillis) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-v1-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    dir_ = tmpl;
    auto store = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    stores_ = std::move(*store);
    auto artifacts = artifact::LocalArtifactStore::Open(dir_ / "artifacts", {.durable = false});
    EXPECT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(*artifacts);
    registry_ =
        std::make_unique<registry::RegistryService>(*stores_.registry, *stores_.tracking, clock_);
    handlers_ = std::make_unique<ModelHandlers>(*registry_, *artifacts_);
    handlers_->Register(router_);
    // The deployment routes too (no runtimes: nothing is loaded), so the route table is whole.
    deployments_ = std::make_unique<serving::DeploymentService>(
        *stores_.deployments, *stores_.registry, *artifacts_,
        [](std::string_view, std::string_view) -> StatusOr<std::string> {
          return InvalidArgument("no artifact locations in this test");
        },
        std::map<std::string, std::shared_ptr<runtime::ModelRuntime>>{}, clock_,
        serving::ServingOptions{.model_dir = dir_ / "models"});
    deployment_handlers_ = std::make_unique<DeploymentHandlers>(*deployments_, nullptr);
    deployment_handlers_->Register(router_);
    // And the monitoring routes, over a monitor that is never started (no consumer thread).
    auto events = stream::SqliteEventStream::Open((dir_ / "events.db").string());
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(*events);
    monitor_ = std::make_unique<monitor::MonitorService>(
        monitor::MonitorDeps{.events = *events_,
                             .store = *stores_.monitoring,
                             .deployments = *stores_.deployments,
                             .schemas = [](std::string_view, std::string_view, std::string_view)
                                 -> std::optional<monitor::ModelSchema> { return std::nullopt; },
                             .clock = clock_,
                             .ids = IdGenerator::Default()},
        monitor::MonitorOptions{});
    monitor_handlers_ = std::make_unique<MonitorHandlers>(
        *monitor_,
        [](const RequestScope&, const metadata::DeploymentRecord&, std::string_view,
           std::string_view) -> StatusOr<std::unique_ptr<artifact::ArtifactReader>> {
          return InvalidArgument("no run artifacts in this test");
        },
        uint64_t{1} << 20);
    monitor_handlers_->Register(router_);
    // Access control and the audit log.
    security_ =
        std::make_unique<auth::SecurityService>(*stores_.security, nullptr, nullptr, clock_);
    security_handlers_ = std::make_unique<SecurityHandlers>(*security_);
    security_handlers_->Register(router_);
    auto audit_store = audit::SqlAuditStore::OpenSqlite((dir_ / "audit.db").string());
    EXPECT_TRUE(audit_store.ok()) << audit_store.status().ToString();
    audit_store_ = std::move(*audit_store);
    auto audit_log = audit::AuditLog::Open(*audit_store_, audit::AuditLogOptions{});
    EXPECT_TRUE(audit_log.ok()) << audit_log.status().ToString();
    audit_log_ = std::move(*audit_log);
    audit_handlers_ = std::make_unique<AuditHandlers>(*audit_log_);
    audit_handlers_->Register(router_);
    RegisterOpenApi(router_);
  }

  ~ModelApiEnv() {
    audit_handlers_.reset();
    audit_log_.reset();
    audit_store_.reset();
    security_handlers_.reset();
    security_.reset();
    monitor_handlers_.reset();
    monitor_.reset();
    events_.reset();
    deployment_handlers_.reset();
    deployments_.reset();
    handlers_.reset();
    registry_.reset();
    stores_ = {};
    artifacts_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ModelApiEnv(const ModelApiEnv&) = delete;
  ModelApiEnv& operator=(const ModelApiEnv&) = delete;

  http::Router& router() { return router_; }
  metadata::TrackingStore& store() { return *stores_.tracking; }
  artifact::LocalArtifactStore& artifacts() { return *artifacts_; }
  registry::RegistryService& registry() { return *registry_; }
  ManualClock& clock() { return clock_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Sends one request through the router as the server would: `target` is the raw,
  // percent-encoded path with an optional query; JSON bodies are declared as such.
  http::Response Call(http::Method method, std::string_view target, std::string body = "",
                      std::string_view principal = "alice", std::string_view tenant = "default") {
    http::Request req;
    req.method = method;
    req.target = std::string(target);
    std::string_view raw_path = target.substr(0, target.find('?'));
    if (size_t q = target.find('?'); q != std::string_view::npos) {
      auto query = http::ParseQueryString(target.substr(q + 1));
      if (!query.ok()) return http::ErrorResponse(query.status());
      req.query = std::move(*query);
    }
    auto decoded = PercentDecode(raw_path);
    if (!decoded.ok()) return http::ErrorResponse(decoded.status());
    req.path = std::move(*decoded);
    if (!body.empty()) req.headers.Add("Content-Type", "application/json");
    req.body = std::move(body);
    req.scope.principal = std::string(principal);
    req.scope.tenant = std::string(tenant);
    http::Router::Match match = router_.Find(method, raw_path);
    if (match.route == nullptr) {
      return match.method_not_allowed ? http::MethodNotAllowed(http::MethodName(method), req.path)
                                      : http::EndpointNotFound(http::MethodName(method), req.path);
    }
    req.path_params = std::move(match.params);
    req.route_pattern = match.route->pattern;
    return match.route->handler(req);
  }

  // The JSON body of `response`, or a test failure.
  static boost::json::object Body(const http::Response& response) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(response.body, ec);
    EXPECT_FALSE(ec) << response.body;
    if (ec || !v.is_object()) return {};
    return v.as_object();
  }

  // Creates an active run with artifact URI mlflow-artifacts:/<experiment>/<run>/artifacts in
  // `tenant`'s default experiment and returns its id.
  std::string CreateRun(std::string_view run_id, std::string_view tenant = "default") {
    Status ensure =
        stores_.tracking->EnsureDefaultExperiment(tenant, "mlflow-artifacts:", clock_.NowMillis());
    EXPECT_TRUE(ensure.ok()) << ensure.ToString();
    metadata::RunInfo info;
    info.run_id = std::string(run_id);
    info.experiment_id = "0";
    info.run_name = "run-" + std::string(run_id.substr(0, 4));
    info.user_id = "alice";
    info.start_time = clock_.NowMillis();
    info.artifact_uri = "mlflow-artifacts:/0/" + std::string(run_id) + "/artifacts";
    auto run = stores_.tracking->CreateRun(tenant, info, {});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return std::string(run_id);
  }

 private:
  ManualClock clock_;
  std::filesystem::path dir_;
  metadata::MetadataStores stores_;
  std::unique_ptr<artifact::LocalArtifactStore> artifacts_;
  std::unique_ptr<registry::RegistryService> registry_;
  std::unique_ptr<ModelHandlers> handlers_;
  std::unique_ptr<serving::DeploymentService> deployments_;
  std::unique_ptr<DeploymentHandlers> deployment_handlers_;
  std::unique_ptr<stream::SqliteEventStream> events_;
  std::unique_ptr<monitor::MonitorService> monitor_;
  std::unique_ptr<MonitorHandlers> monitor_handlers_;
  std::unique_ptr<auth::SecurityService> security_;
  std::unique_ptr<SecurityHandlers> security_handlers_;
  std::unique_ptr<audit::SqlAuditStore> audit_store_;
  std::unique_ptr<audit::AuditLog> audit_log_;
  std::unique_ptr<AuditHandlers> audit_handlers_;
  http::Router router_;
};

}  // namespace cairn::api::v1
