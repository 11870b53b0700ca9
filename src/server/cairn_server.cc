#include "server/cairn_server.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <system_error>

#include "api/inference/inference_handlers.h"
#include "api/mlflow/artifact_handlers.h"
#include "api/mlflow/assessment_handlers.h"
#include "api/mlflow/eval_dataset_handlers.h"
#include "api/mlflow/graphql_handlers.h"
#include "api/mlflow/issue_handlers.h"
#include "api/mlflow/misc_handlers.h"
#include "api/mlflow/registry_handlers.h"
#include "api/mlflow/scorer_handlers.h"
#include "api/mlflow/trace_handlers.h"
#include "api/mlflow/tracking_handlers.h"
#include "api/mlflow/ui_handlers.h"
#include "api/mlflow/webhook_handlers.h"
#include "api/v1/audit_handlers.h"
#include "api/v1/deployment_handlers.h"
#include "api/v1/model_handlers.h"
#include "api/v1/monitor_handlers.h"
#include "api/v1/openapi.h"
#include "api/v1/security_handlers.h"
#include "artifact/artifact_store_factory.h"
#include "artifact/encrypted/encrypted_artifact_store.h"
#include "artifact/encrypted/master_key.h"
#include "artifact/encrypted/secret_box.h"
#include "artifact/layout_migration.h"
#include "audit/audit_log.h"
#include "audit/audit_middleware.h"
#include "audit/sql_audit_store.h"
#include "auth/auth_middleware.h"
#include "auth/jwt/jwks_http_fetch.h"
#include "auth/jwt/jwt_cache.h"
#include "auth/jwt/jwt_verifier.h"
#include "auth/jwt/key_source.h"
#include "auth/jwt_identity.h"
#include "auth/rate_limiter.h"
#include "auth/roles.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/logging.h"
#include "base/process.h"
#include "base/uri.h"
#include "http/access_log_middleware.h"
#include "http/client.h"
#include "http/metrics_middleware.h"
#include "http/request_id_middleware.h"
#include "http/server.h"
#include "http/tenant_middleware.h"
#include "metadata/metadata_store_factory.h"
#include "metrics/metrics_registry.h"
#include "redis/redis_client.h"
#include "redis/redis_deployment_notifier.h"
#include "redis/redis_rate_limiter.h"
#include "redis/redis_subscriber.h"
#include "redis/redis_token_cache.h"
#include "registry/registry_service.h"
#include "registry/sealed_webhook_store.h"
#include "registry/webhook_dispatcher.h"
#include "server/admin.h"
#include "server/backends.h"
#include "server/serving_setup.h"
#include "serving/deployment_service.h"
#include "tracking/trace_service.h"
#include "tracking/tracking_service.h"

namespace cairn::server {

struct CairnServer::State {
  ServerConfig config;
  // First in, last out: everything below may hold series of it.
  metrics::MetricsRegistry metrics;
  metadata::MetadataStores metadata;
  std::unique_ptr<artifact::ArtifactStore> artifact_store;
  std::unique_ptr<tracking::TrackingService> tracking;
  std::unique_ptr<registry::RegistryService> registry;
  std::unique_ptr<tracking::TraceService> traces;
  std::unique_ptr<api::mlflow::ArtifactHandlers> artifact_handlers;
  std::unique_ptr<api::mlflow::TrackingHandlers> tracking_handlers;
  std::unique_ptr<api::mlflow::RegistryHandlers> registry_handlers;
  // Webhook secrets sealed with the artifact master keys, when they are configured; null
  // otherwise (the metadata store's own webhook store is used as is).
  std::unique_ptr<registry::SealedWebhookStore> sealed_webhooks;
  // Observes `registry`; everything declared below (and thus destroyed first) may still make
  // registry changes while it stops.
  std::unique_ptr<registry::WebhookDispatcher> registry_webhooks;
  std::unique_ptr<api::mlflow::WebhookHandlers> webhook_handlers;
  std::unique_ptr<api::mlflow::EvalDatasetHandlers> eval_dataset_handlers;
  std::unique_ptr<api::mlflow::TraceHandlers> trace_handlers;
  std::unique_ptr<api::mlflow::AssessmentHandlers> assessment_handlers;
  std::unique_ptr<api::mlflow::ScorerHandlers> scorer_handlers;
  std::unique_ptr<api::mlflow::IssueHandlers> issue_handlers;
  std::unique_ptr<api::mlflow::UiHandlers> ui_handlers;
  std::unique_ptr<api::mlflow::GraphqlHandlers> graphql_handlers;
  std::unique_ptr<api::v1::ModelHandlers> model_handlers;
  std::unique_ptr<stream::EventStream> events;
  std::unique_ptr<stream::PredictionLogger> prediction_logger;
  // Labels (POST /api/v1/feedback) into the stream's labels topic, off the request path.
  std::unique_ptr<stream::EventLogger> label_logger;
  std::unique_ptr<serving::DeploymentService> deployments;
  std::unique_ptr<api::inference::InferenceHandlers> inference_handlers;
  std::unique_ptr<api::v1::DeploymentHandlers> deployment_handlers;
  // The monitor is stopped (its consumer joined) in CairnServer::Stop; the sender and launcher,
  // destroyed before it, may still call back into it while they shut down.
  std::unique_ptr<monitor::MonitorService> monitor;
  std::unique_ptr<monitor::WebhookSender> webhooks;
  std::unique_ptr<monitor::CommandLauncher> launcher;
  std::unique_ptr<api::v1::MonitorHandlers> monitor_handlers;
  // --redis-uri: what the replicas share. The client outlives everything that uses it.
  std::unique_ptr<redis::RedisClient> redis;
  std::string replica_id;  // names this process in Redis messages
  std::unique_ptr<redis::RedisTokenCache> shared_tokens;
  std::unique_ptr<auth::TokenAuthenticator> token_auth;
  std::unique_ptr<auth::RateLimiter> rate_limiter;
  std::unique_ptr<auth::SecurityService> security;
  std::unique_ptr<api::v1::SecurityHandlers> security_handlers;
  std::unique_ptr<audit::SqlAuditStore> audit_store;
  std::unique_ptr<audit::AuditLog> audit_log;
  std::unique_ptr<audit::AuditMiddleware> audit;
  std::unique_ptr<api::v1::AuditHandlers> audit_handlers;
  std::unique_ptr<http::Client> jwks_client;
  std::shared_ptr<auth::CachingJwtVerifier> jwt;
  std::unique_ptr<auth::AuthMiddleware> auth;
  http::Router router;
  std::unique_ptr<http::RequestIdMiddleware> request_id;
  std::unique_ptr<http::MetricsMiddleware> metrics_middleware;
  std::unique_ptr<http::AccessLogMiddleware> access_log;
  std::unique_ptr<http::HttpServer> http;
  uint16_t port = 0;
  // Destroyed first: the subscriber's thread calls into the notifier and token_auth.
  std::unique_ptr<redis::RedisDeploymentNotifier> deployment_notifier;
  std::unique_ptr<redis::RedisSubscriber> redis_subscriber;
};

namespace {

// Embedded defaults live under the data dir, as absolute paths so a later chdir cannot move them.
Status ResolveDefaults(ServerConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return InvalidArgument("cannot create data dir '" + config.data_dir + "': " + ec.message());
  }
  std::filesystem::path data = std::filesystem::absolute(config.data_dir, ec);
  if (ec) return InvalidArgument("bad data dir '" + config.data_dir + "': " + ec.message());
  data = data.lexically_normal();
  if (config.backend_store_uri.empty()) {
    // sqlite:////abs/path: four slashes mean an absolute path.
    config.backend_store_uri = "sqlite:///" + (data / "meta.db").string();
  }
  if (config.artifacts_uri.empty()) config.artifacts_uri = (data / "artifacts").string();
  if (config.events_uri.empty()) config.events_uri = "sqlite:///" + (data / "events.db").string();
  return Status::Ok();
}

}  // namespace

Status CheckRoutePermissions(const http::Router& router) {
  for (const http::Route* route : router.AllRoutes()) {
    if (route->options.permission == http::Permission::kUnset) {
      return Internal("route " + std::string(http::MethodName(route->method)) + " " +
                      route->pattern + " declares no permission");
    }
  }
  return Status::Ok();
}

namespace {

// --ui-dir, or the mlflow wheel's UI build in a .venv near the binary or the working directory.
std::optional<std::filesystem::path> UiDirectory(const ServerConfig& config) {
  if (config.ui_dir == "none") {
    spdlog::info("web UI: off (--ui-dir none)");
    return std::nullopt;
  }
  std::optional<std::filesystem::path> dir;
  if (!config.ui_dir.empty()) {
    dir = config.ui_dir;
  } else {
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) dir = api::mlflow::UiHandlers::FindUiBuild(exe.parent_path());
    if (!dir) dir = api::mlflow::UiHandlers::FindUiBuild(std::filesystem::current_path(ec));
  }
  std::error_code ec;
  if (!dir || !std::filesystem::is_regular_file(*dir / "index.html", ec)) {
    spdlog::info("web UI: off ({}); give --ui-dir the MLflow UI build to serve it",
                 dir ? "no index.html in " + dir->string() : std::string("no UI build found"));
    return std::nullopt;
  }
  spdlog::info("web UI: serving {}", dir->string());
  return dir;
}

bool IsLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

// The JWT verifier from the --jwt-* options: keys from a PEM or JWKS file, an HS256 secret file
// and/or a JWKS URL; verified tokens cached. The identity of a verified JWT holds the roles its
// claims name in the tenants its claims name, plus the principal's stored role bindings.
StatusOr<auth::BearerVerifier> MakeJwtVerifier(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  std::shared_ptr<auth::KeySource> source;
  int given = (config.jwt_key_file.empty() ? 0 : 1) +
              (config.jwt_hs256_secret_file.empty() ? 0 : 1) +
              (config.jwt_jwks_url.empty() ? 0 : 1);
  if (given != 1) {
    return InvalidArgument(
        "--auth jwt needs exactly one of --jwt-key-file, --jwt-hs256-secret-file and "
        "--jwt-jwks-url");
  }
  if (!config.jwt_jwks_url.empty()) {
    ASSIGN_OR_RETURN(state.jwks_client, http::Client::Create({.max_response_bytes = 1 << 20,
                                                              .user_agent = "cairn-jwks"}));
    ASSIGN_OR_RETURN(source, auth::JwksUrlKeySource::Create(auth::JwksUrlKeySourceOptions{
                                 .url = config.jwt_jwks_url,
                                 .fetch = auth::HttpJwksFetcher(*state.jwks_client),
                                 .clock = &SystemClock::Get()}));
  } else if (!config.jwt_hs256_secret_file.empty()) {
    ASSIGN_OR_RETURN(source,
                     auth::StaticKeySource::FromHmacSecretFile(config.jwt_hs256_secret_file));
  } else {
    StatusOr<std::string> text = auth::ReadKeyFile(config.jwt_key_file);
    if (!text.ok()) return text.status();
    if (text->find("-----BEGIN") != std::string::npos) {
      ASSIGN_OR_RETURN(source, auth::StaticKeySource::FromPemFile(config.jwt_key_file));
    } else {
      std::vector<std::string> skipped;
      ASSIGN_OR_RETURN(source, auth::StaticKeySource::FromJwksFile(config.jwt_key_file, &skipped));
      for (const std::string& reason : skipped) spdlog::warn("JWKS key skipped: {}", reason);
    }
  }
  auth::JwtVerifierOptions options;
  options.key_source = std::move(source);
  if (!config.jwt_issuer.empty()) options.issuer = config.jwt_issuer;
  options.audiences = SplitComma(config.jwt_audience);
  options.leeway_s = config.jwt_leeway_s;
  options.principal_claim = config.jwt_principal_claim;
  options.tenants_claim = config.jwt_tenant_claim;
  options.roles_claim = config.jwt_roles_claim;
  ASSIGN_OR_RETURN(std::unique_ptr<auth::JwtVerifier> verifier,
                   auth::JwtVerifier::Create(std::move(options)));
  state.jwt = std::make_shared<auth::CachingJwtVerifier>(std::move(verifier));
  return auth::MakeJwtBearerVerifier(state.jwt, *state.token_auth, SystemClock::Get());
}

// The audit log (in <data-dir>/audit.db, or beside PostgreSQL metadata), keyed by
// --audit-key-file when given.
Status StartAudit(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  if (!config.audit) return Status::Ok();
  audit::AuditLogOptions options;
  if (!config.audit_key_file.empty()) {
    ASSIGN_OR_RETURN(options.key, ReadAuditKey(config.audit_key_file));
  }
  options.metrics = &state.metrics;
  ASSIGN_OR_RETURN(state.audit_store, OpenAuditStore(config.backend_store_uri, config.data_dir,
                                                     config.sqlite_synchronous_full));
  ASSIGN_OR_RETURN(state.audit_log, audit::AuditLog::Open(*state.audit_store, std::move(options)));
  state.audit = std::make_unique<audit::AuditMiddleware>(*state.audit_log);
  state.audit_handlers = std::make_unique<api::v1::AuditHandlers>(*state.audit_log);
  return Status::Ok();
}

// Request id first (everything logs it), then audit (it must see authentication's answers),
// authentication, metrics and the access log.
std::vector<http::Middleware*> MiddlewareChain(CairnServer::State& state) {
  std::vector<http::Middleware*> chain = {state.request_id.get()};
  if (state.audit) chain.push_back(state.audit.get());
  chain.push_back(state.auth.get());
  chain.push_back(state.metrics_middleware.get());
  chain.push_back(state.access_log.get());
  return chain;
}

// Authentication, authorization and rate limits: the security store's service, the token
// verifier, the limiter and the middleware that applies them to every request.
Status StartSecurity(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  if (!state.metadata.security) {
    return InvalidArgument("the backend store does not provide security storage");
  }
  metadata::SecurityStore& store = *state.metadata.security;
  state.token_auth = std::make_unique<auth::TokenAuthenticator>(
      store, SystemClock::Get(), auth::TokenAuthenticator::Options{});
  metadata::RateLimitRecord defaults;
  defaults.control_rate = config.rate_limit_control;
  defaults.control_burst = config.rate_limit_control_burst;
  defaults.predict_rate = config.rate_limit_predict;
  defaults.predict_burst = config.rate_limit_predict_burst;
  if (state.redis) {
    state.rate_limiter = std::make_unique<redis::RedisRateLimiter>(*state.redis, SystemClock::Get(),
                                                                   defaults, &state.metrics);
    state.shared_tokens = std::make_unique<redis::RedisTokenCache>(*state.redis, state.replica_id);
    state.token_auth->SetSharedCache(state.shared_tokens.get());
  } else {
    state.rate_limiter = std::make_unique<auth::LocalRateLimiter>(SystemClock::Get(), defaults);
  }
  state.security = std::make_unique<auth::SecurityService>(
      store, state.token_auth.get(), state.rate_limiter.get(), SystemClock::Get());
  RETURN_IF_ERROR(state.security->ReloadRateLimits());
  state.security_handlers = std::make_unique<api::v1::SecurityHandlers>(*state.security);

  auth::AuthOptions options;
  options.tokens = config.auth.find("token") != std::string::npos;
  options.jwt = config.auth.find("jwt") != std::string::npos;
  auth::BearerVerifier jwt;
  if (options.jwt) {
    ASSIGN_OR_RETURN(jwt, MakeJwtVerifier(state));
  }
  state.auth = std::make_unique<auth::AuthMiddleware>(
      options, state.token_auth.get(), std::move(jwt), state.rate_limiter.get(), &state.metrics);
  if (options.tokens && state.monitor) {
    // Retraining commands call back with a token of their own, scoped to the alert's tenant.
    auth::SecurityService* security = state.security.get();
    state.monitor->SetCredentialIssuer(
        [security](std::string_view tenant,
                   std::chrono::seconds lifetime) -> StatusOr<std::string> {
          RequestScope system = RequestScope::ForTenant(tenant, "cairn-monitor");
          ASSIGN_OR_RETURN(auth::CreatedToken token,
                           security->CreateToken(system, auth::TokenRequest{
                                                             .principal = "cairn-monitor",
                                                             .tenant = std::string(tenant),
                                                             .roles = {"editor", "deployer"},
                                                             .expires_in_s = lifetime.count(),
                                                             .description = "retraining command",
                                                         }));
          return token.text;
        });
  }
  if (!state.auth->enabled()) {
    if (!IsLoopback(config.host)) {
      spdlog::warn(
          "authentication is off (--auth none) and the server listens on {}: anyone who reaches "
          "it can read and change everything in every tenant; use --auth token or jwt",
          config.host);
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::vector<metadata::RoleBinding> admins,
                   store.ListRoleBindings(std::nullopt, auth::kAllTenants));
  if (admins.empty()) {
    spdlog::warn(
        "authentication is on but no server administrator exists: run `cairn admin bootstrap "
        "--data-dir {}` to create the first admin token",
        config.data_dir);
  }
  return Status::Ok();
}

// The monitor and what it acts through (webhooks, retraining commands). Started (consuming the
// prediction log) only once the server listens, so retraining commands can reach it.
Status StartMonitor(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  if (!state.metadata.monitoring) {
    return InvalidArgument("the backend store does not provide monitoring storage");
  }
  ASSIGN_OR_RETURN(state.webhooks,
                   monitor::WebhookSender::Create(monitor::WebhookSenderOptions{
                       .max_attempts = static_cast<int>(config.webhook_max_attempts),
                       .initial_backoff = std::chrono::milliseconds(config.webhook_backoff_ms)}));
  ASSIGN_OR_RETURN(state.launcher, monitor::CommandLauncher::Create());
  serving::DeploymentService* deployments = state.deployments.get();
  monitor::SchemaLookup schemas =
      [deployments](std::string_view tenant, std::string_view id,
                    std::string_view name) -> std::optional<monitor::ModelSchema> {
    std::shared_ptr<serving::Deployment> deployment = deployments->Find(tenant, name);
    if (deployment == nullptr || deployment->id() != id) return std::nullopt;
    std::shared_ptr<const serving::ServingSet> serving = deployment->Serving();
    if (serving == nullptr) return std::nullopt;
    return monitor::ModelSchema{serving->interface, serving->signature};
  };
  monitor::MonitorOptions options;
  options.retention = std::chrono::milliseconds(config.prediction_retention_ms);
  options.log_dir = (std::filesystem::path(config.data_dir) / "retraining").string();
  // With a shared log (Kafka), another process may hold a deployment's windows: each monitor
  // publishes its open windows to the store for the others to show.
  if (config.events_uri.starts_with("kafka:")) options.publish_interval = std::chrono::seconds(1);
  state.monitor = std::make_unique<monitor::MonitorService>(
      monitor::MonitorDeps{.events = *state.events,
                           .store = *state.metadata.monitoring,
                           .deployments = *state.metadata.deployments,
                           .schemas = std::move(schemas),
                           .tracking = state.tracking.get(),
                           .webhooks = state.webhooks.get(),
                           .launcher = state.launcher.get(),
                           .clock = SystemClock::Get(),
                           .ids = IdGenerator::Default(),
                           .metrics = &state.metrics,
                           .labels = state.label_logger.get()},
      options);
  tracking::TrackingService* tracking = state.tracking.get();
  registry::RegistryService* registry = state.registry.get();
  artifact::ArtifactStore* artifacts = state.artifact_store.get();
  api::v1::RunArtifactOpener open_run_artifact =
      [tracking, registry, artifacts](
          const RequestScope& scope, const metadata::DeploymentRecord& deployment,
          std::string_view run_id,
          std::string_view path) -> StatusOr<std::unique_ptr<artifact::ArtifactReader>> {
    std::string run(run_id);
    if (run.empty()) {
      ASSIGN_OR_RETURN(
          metadata::ModelVersion version,
          registry->GetModelVersion(scope, deployment.model_name, deployment.model_version));
      if (version.run_id.empty()) {
        return InvalidArgument("Model version " + deployment.model_name + "/" +
                               deployment.model_version + " names no run; give run_id");
      }
      run = version.run_id;
    }
    ASSIGN_OR_RETURN(metadata::Run found, tracking->GetRun(scope, run));
    ASSIGN_OR_RETURN(std::string root,
                     api::mlflow::ArtifactUriToRelativePath(found.info.artifact_uri));
    ASSIGN_OR_RETURN(std::string relative, artifact::NormalizeArtifactPath(path));
    if (relative.empty()) return InvalidArgument("path names no file");
    ASSIGN_OR_RETURN(std::string full,
                     api::mlflow::TenantArtifactPath(
                         scope.tenant, root.empty() ? relative : root + "/" + relative));
    return artifacts->OpenReader(full);
  };
  state.monitor_handlers = std::make_unique<api::v1::MonitorHandlers>(
      *state.monitor, std::move(open_run_artifact), uint64_t{1} << 30);
  return Status::Ok();
}

// --redis-uri: the client, checked once (an outage at start is not fatal: limits fall back to
// this process until Redis answers, and the subscriber keeps trying).
Status ConnectRedis(CairnServer::State& state) {
  if (state.config.redis_uri.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(redis::RedisUri uri, redis::RedisUri::Parse(state.config.redis_uri));
  // hiredis writes with write(2): a connection reset by the network (an idle timeout in a load
  // balancer) must fail the call, not kill the process. Children get default dispositions back
  // (CommandLauncher and the Python workers reset them).
  std::signal(SIGPIPE, SIG_IGN);
  state.replica_id = IdGenerator::Default().Hex32();
  // Named in CLIENT LIST after this replica.
  state.redis = std::make_unique<redis::RedisClient>(
      uri, redis::RedisOptions{.client_name = "cairn-" + state.replica_id.substr(0, 12)});
  if (Status ping = state.redis->Ping(); !ping.ok()) {
    spdlog::warn(
        "Redis is not answering ({}); until it does, rate limits apply per replica and "
        "other replicas learn of changes only once it is back",
        ping.message());
  } else {
    spdlog::info("sharing rate limits, verified tokens and deployment changes through {}",
                 uri.Redacted());
  }
  return Status::Ok();
}

// Deployment changes go out to the other replicas, and theirs come in, as do token
// invalidations. After every (re)subscription this replica catches up on what it may have
// missed: every deployment is reloaded from the store and the local token caches dropped.
Status SubscribeRedis(CairnServer::State& state) {
  if (!state.redis) return Status::Ok();
  state.deployment_notifier = std::make_unique<redis::RedisDeploymentNotifier>(
      *state.redis, *state.deployments, state.replica_id, &state.metrics);
  redis::RedisDeploymentNotifier* notifier = state.deployment_notifier.get();
  state.deployments->SetChangeListener(
      [notifier](const serving::DeploymentChange& change) { notifier->Publish(change); });
  auth::TokenAuthenticator* tokens = state.token_auth.get();
  auth::SecurityService* security = state.security.get();
  // Another replica changed tokens, principals, bindings or budgets: drop what this one cached
  // and reload the budgets.
  auto security_changed = [tokens, security] {
    tokens->DropLocal();
    if (Status s = security->ReloadRateLimits(); !s.ok()) {
      spdlog::warn("cannot reload the rate limits: {}", s.ToString());
    }
  };
  const std::string self = state.replica_id;
  ASSIGN_OR_RETURN(
      state.redis_subscriber,
      redis::RedisSubscriber::Start(
          state.redis->uri(), state.redis->options(),
          {state.shared_tokens->channel(), notifier->channel()},
          [notifier, security_changed, self](std::string_view channel, std::string_view payload) {
            if (channel == notifier->channel()) {
              notifier->OnMessage(payload);
            } else if (payload != self) {
              security_changed();
            }
          },
          [notifier, security_changed] {
            security_changed();
            notifier->OnSubscribed();
          }));
  return Status::Ok();
}

Status StartHttp(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  state.request_id = std::make_unique<http::RequestIdMiddleware>();
  state.metrics_middleware = std::make_unique<http::MetricsMiddleware>(state.metrics);
  state.access_log = std::make_unique<http::AccessLogMiddleware>();

  http::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  options.io_threads = config.io_threads;
  options.max_connections = static_cast<size_t>(config.max_connections);
  options.max_buffered_body_bytes = static_cast<uint64_t>(config.max_buffered_body_bytes);
  options.tls_cert_file = config.tls_cert;
  options.tls_key_file = config.tls_key;
  state.http = std::make_unique<http::HttpServer>(options, state.router, MiddlewareChain(state));
  ASSIGN_OR_RETURN(state.port, state.http->Start());
  return Status::Ok();
}

// Starts consuming the prediction log, once the server listens (retraining commands reach it).
Status StartMonitorConsumer(CairnServer::State& state) {
  const ServerConfig& config = state.config;
  std::string tracking_uri = config.retraining_tracking_uri;
  if (tracking_uri.empty()) {
    tracking_uri = std::string(config.tls_cert.empty() ? "http" : "https") + "://" +
                   std::string(config.host == "0.0.0.0" ? "127.0.0.1" : config.host) + ":" +
                   std::to_string(state.port);
    if (config.role == "monitor") {
      spdlog::warn(
          "no --retraining-tracking-uri: retraining commands get {}, which is this "
          "worker and serves no tracking API",
          tracking_uri);
    }
  }
  state.monitor->SetTrackingUri(std::move(tracking_uri));
  return state.monitor->Start();
}

}  // namespace

CairnServer::CairnServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

CairnServer::~CairnServer() { Stop(); }

uint16_t CairnServer::port() const { return state_->port; }

const metadata::MetadataStores& CairnServer::MetadataStoresForTest() { return state_->metadata; }

const http::Router& CairnServer::RouterForTest() { return state_->router; }

void CairnServer::WaitForSignal() { state_->http->WaitForSignal(); }

void CairnServer::Stop() {
  if (state_ && state_->http) state_->http->Stop();
  // No more changes come in from other replicas.
  if (state_) state_->redis_subscriber.reset();
  // After the HTTP server: answers held for their audit entries are released by the log.
  if (state_ && state_->audit_log) state_->audit_log->Stop();
  if (state_ && state_->monitor) state_->monitor->Stop();
}

StatusOr<std::unique_ptr<CairnServer>> CairnServer::Start(const ServerConfig& input) {
  auto state = std::make_unique<State>();
  state->config = input;
  ServerConfig& config = state->config;
  RETURN_IF_ERROR(ResolveDefaults(config));
  RETURN_IF_ERROR(ConnectRedis(*state));

  metadata::MetadataStoreRegistry metadata_registry;
  RETURN_IF_ERROR(RegisterMetadataBackends(metadata_registry));
  ASSIGN_OR_RETURN(Uri backend_uri, Uri::Parse(config.backend_store_uri));
  metadata::MetadataStoreOptions store_options;
  store_options.sqlite_synchronous_full = config.sqlite_synchronous_full;
  ASSIGN_OR_RETURN(state->metadata,
                   metadata_registry.Create(backend_uri.scheme, backend_uri, store_options));
  if (!state->metadata.tracking || !state->metadata.registry || !state->metadata.traces ||
      !state->metadata.deployments) {
    return InvalidArgument("backend store '" + backend_uri.scheme +
                           "' does not provide tracking, registry, trace and deployment storage");
  }

  artifact::ArtifactStoreRegistry artifact_registry;
  RETURN_IF_ERROR(RegisterArtifactBackends(artifact_registry));
  ASSIGN_OR_RETURN(state->artifact_store,
                   artifact::CreateArtifactStore(artifact_registry, config.artifacts_uri));
  ASSIGN_OR_RETURN(std::vector<artifact::MasterKey> master_keys, LoadArtifactKeys(config));
  std::optional<artifact::SecretBox> secret_box;
  if (!master_keys.empty()) {
    ASSIGN_OR_RETURN(secret_box, artifact::SecretBox::Create(master_keys));
    artifact::EncryptionOptions encryption;
    encryption.master_keys = std::move(master_keys);
    ASSIGN_OR_RETURN(state->artifact_store,
                     artifact::MakeEncryptedArtifactStore(std::move(state->artifact_store),
                                                          std::move(encryption)));
    spdlog::info("artifacts are encrypted at rest (AES-256-GCM)");
  }
  // Data dirs of the earlier layout kept the default tenant's artifacts under default/.
  ASSIGN_OR_RETURN(artifact::LayoutMigrationResult moved,
                   artifact::MoveDefaultTenantToRoot(*state->artifact_store));
  if (moved.migrated) {
    spdlog::info("moved {} artifact files of the default tenant from default/ to the artifact root",
                 moved.files_moved);
  }

  state->tracking = std::make_unique<tracking::TrackingService>(
      *state->metadata.tracking, SystemClock::Get(), IdGenerator::Default(),
      tracking::TrackingOptions{});
  state->registry = std::make_unique<registry::RegistryService>(
      *state->metadata.registry, *state->metadata.tracking, SystemClock::Get());
  state->registry_handlers = std::make_unique<api::mlflow::RegistryHandlers>(*state->registry);
  if (!state->metadata.webhooks) {
    return InvalidArgument("the backend store does not provide webhook storage");
  }
  metadata::WebhookStore* webhook_store = state->metadata.webhooks.get();
  if (secret_box) {
    state->sealed_webhooks =
        std::make_unique<registry::SealedWebhookStore>(*webhook_store, std::move(*secret_box));
    webhook_store = state->sealed_webhooks.get();
  }
  ASSIGN_OR_RETURN(state->registry_webhooks,
                   registry::WebhookDispatcher::Create(
                       *webhook_store, *state->metadata.registry,
                       registry::WebhookDispatcherOptions{
                           .allowed_schemes = config.registry_webhook_schemes,
                           .allow_private_ips = config.registry_webhook_allow_private_ips}));
  state->registry->SetObserver(state->registry_webhooks.get());
  state->webhook_handlers = std::make_unique<api::mlflow::WebhookHandlers>(
      *webhook_store, *state->registry_webhooks, SystemClock::Get());
  if (!state->metadata.eval_datasets) {
    return InvalidArgument("the backend store does not provide evaluation dataset storage");
  }
  state->eval_dataset_handlers = std::make_unique<api::mlflow::EvalDatasetHandlers>(
      *state->metadata.eval_datasets, *state->tracking, SystemClock::Get(), IdGenerator::Default());
  state->traces = std::make_unique<tracking::TraceService>(*state->metadata.traces);
  state->traces->SetTenantInitializer(
      [tracking = state->tracking.get()](const RequestScope& scope) {
        return tracking->EnsureTenant(scope);
      });
  state->trace_handlers = std::make_unique<api::mlflow::TraceHandlers>(*state->traces);
  if (!state->metadata.assessments || !state->metadata.trace_links) {
    return InvalidArgument("the backend store does not provide assessment storage");
  }
  state->traces->SetAssessmentStore(state->metadata.assessments.get());
  state->tracking->SetDeletionHooks(
      [assessments = state->metadata.assessments.get()](const RequestScope& scope,
                                                        std::string_view run_id) {
        return assessments->DeleteRunAssessments(scope.tenant, run_id);
      },
      [assessments = state->metadata.assessments.get()](const RequestScope& scope,
                                                        std::string_view experiment_id) {
        return assessments->DeleteExperimentRunAssessments(scope.tenant, experiment_id);
      });
  state->assessment_handlers = std::make_unique<api::mlflow::AssessmentHandlers>(
      *state->metadata.assessments, *state->metadata.trace_links, SystemClock::Get(),
      IdGenerator::Default());
  if (!state->metadata.scorers || !state->metadata.issues) {
    return InvalidArgument("the backend store does not provide scorer and issue storage");
  }
  state->scorer_handlers = std::make_unique<api::mlflow::ScorerHandlers>(
      *state->metadata.scorers, SystemClock::Get(), IdGenerator::Default());
  state->issue_handlers = std::make_unique<api::mlflow::IssueHandlers>(
      *state->metadata.issues, SystemClock::Get(), IdGenerator::Default());
  state->model_handlers =
      std::make_unique<api::v1::ModelHandlers>(*state->registry, *state->artifact_store);

  api::mlflow::ArtifactHandlerOptions artifact_options;
  artifact_options.max_upload_bytes = static_cast<uint64_t>(config.max_artifact_bytes);
  state->artifact_handlers =
      std::make_unique<api::mlflow::ArtifactHandlers>(*state->artifact_store, artifact_options);
  api::mlflow::ArtifactHandlers* artifacts = state->artifact_handlers.get();
  state->tracking_handlers = std::make_unique<api::mlflow::TrackingHandlers>(
      *state->tracking,
      [artifacts](std::string_view tenant, std::string_view rel) {
        return artifacts->ListRelative(tenant, rel);
      },
      [](std::string_view uri) { return api::mlflow::ArtifactUriToRelativePath(uri); });

  stream::EventStreamRegistry event_registry;
  RETURN_IF_ERROR(RegisterEventStreamBackends(event_registry, &state->metrics));
  ASSIGN_OR_RETURN(state->events, stream::CreateEventStream(event_registry, config.events_uri));
  state->prediction_logger = std::make_unique<stream::PredictionLogger>(
      *state->events, stream::PredictionLoggerOptions{
                          .queue_capacity = static_cast<size_t>(config.prediction_log_queue),
                          .metrics = &state->metrics});
  state->label_logger = std::make_unique<stream::EventLogger>(
      *state->events,
      stream::EventLoggerOptions{.topic = std::string(stream::kLabelsTopic),
                                 .queue_capacity = static_cast<size_t>(config.prediction_log_queue),
                                 .metrics = &state->metrics});
  ASSIGN_OR_RETURN(state->deployments,
                   StartServing(config, state->metadata, *state->artifact_store, state->metrics));
  state->inference_handlers = std::make_unique<api::inference::InferenceHandlers>(
      *state->deployments, state->prediction_logger.get(),
      api::inference::InferenceOptions{
          .max_body_bytes = static_cast<uint64_t>(config.max_prediction_body_bytes),
          .subject_header = config.prediction_subject_header});
  state->model_handlers->SetDeployments(state->deployments.get());
  // A version a deployment serves is not deleted under it.
  state->registry->SetDeletionGuard([deployments = state->metadata.deployments](
                                        std::string_view tenant,
                                        const metadata::ModelVersion& version) -> Status {
    ASSIGN_OR_RETURN(
        std::vector<std::string> names,
        deployments->DeploymentsOfVersion(tenant, version.name, std::to_string(version.version)));
    if (names.empty()) return Status::Ok();
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    return Conflict("Model version " + version.name + "/" + std::to_string(version.version) +
                    " is served by deployment(s) " + list + "; delete them first");
  });
  state->deployment_handlers =
      std::make_unique<api::v1::DeploymentHandlers>(*state->deployments, state->events.get());

  RETURN_IF_ERROR(StartMonitor(*state));
  RETURN_IF_ERROR(StartSecurity(*state));
  RETURN_IF_ERROR(StartAudit(*state));
  RETURN_IF_ERROR(SubscribeRedis(*state));

  api::mlflow::RegisterMiscRoutes(state->router);
  if (config.role == "monitor") {
    if (!config.monitor)
      return InvalidArgument("--role monitor runs the monitor: drop --monitor false");
    // A monitor worker: the consumer, its health and its metrics; the API is the servers'.
    http::AddMetricsRoute(state->router, state->metrics);
    RETURN_IF_ERROR(StartHttp(*state));
    RETURN_IF_ERROR(StartMonitorConsumer(*state));
    spdlog::info("cairn monitor worker on {}://{}:{} (metadata {}, events {})",
                 config.tls_cert.empty() ? "http" : "https", config.host, state->port,
                 config.backend_store_uri, config.events_uri);
    return std::unique_ptr<CairnServer>(new CairnServer(std::move(state)));
  }
  state->tracking_handlers->Register(state->router);
  state->registry_handlers->Register(state->router);
  state->webhook_handlers->Register(state->router);
  state->eval_dataset_handlers->Register(state->router);
  state->trace_handlers->Register(state->router);
  state->assessment_handlers->Register(state->router);
  state->scorer_handlers->Register(state->router);
  state->issue_handlers->Register(state->router);
  state->model_handlers->Register(state->router);
  state->deployment_handlers->Register(state->router);
  state->inference_handlers->Register(state->router);
  state->monitor_handlers->Register(state->router);
  api::v1::RegisterOpenApi(state->router);
  state->artifact_handlers->Register(state->router);
  http::AddMetricsRoute(state->router, state->metrics);
  state->security_handlers->Register(state->router);
  if (state->audit_handlers) state->audit_handlers->Register(state->router);
  state->ui_handlers = std::make_unique<api::mlflow::UiHandlers>(
      state->router, *state->artifact_handlers, UiDirectory(config));
  state->ui_handlers->Register(state->router);
  state->graphql_handlers = std::make_unique<api::mlflow::GraphqlHandlers>(state->router);
  state->graphql_handlers->Register(state->router);
  RETURN_IF_ERROR(CheckRoutePermissions(state->router));
  RETURN_IF_ERROR(StartHttp(*state));
  if (config.monitor) RETURN_IF_ERROR(StartMonitorConsumer(*state));
  spdlog::info("cairn listening on {}://{}:{} (metadata {}, artifacts {})",
               config.tls_cert.empty() ? "http" : "https", config.host, state->port,
               config.backend_store_uri, config.artifacts_uri);
  return std::unique_ptr<CairnServer>(new CairnServer(std::move(state)));
}

int ServerMain(const std::vector<std::string>& args) {
  auto parsed = ParseServerArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", parsed.status().message().c_str());
    return 2;
  }
  if (parsed->exit_now) return parsed->exit_code;
  const ServerConfig& config = parsed->config;
  auto format = ParseLogFormat(config.log_format);
  if (!format.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", format.status().message().c_str());
    return 2;
  }
  if (Status s = InitLogging(*format, config.log_level); !s.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", s.message().c_str());
    return 2;
  }
  if (auto files = RaiseOpenFileLimit(); files.ok()) {
    spdlog::info("open-file limit: {}", *files);
  } else {
    spdlog::warn("cannot raise the open-file limit: {}", files.status().ToString());
  }
  // Request bodies of 1 MiB and more go back to the system once answered.
  ReturnLargeBlocksToTheSystem(size_t{1} << 20);
  auto server = CairnServer::Start(config);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().ToString());
    spdlog::default_logger()->flush();
    return 1;
  }
  (*server)->WaitForSignal();
  spdlog::info("cairn stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace cairn::server
